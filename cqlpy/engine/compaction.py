"""Compaction: size-tiered selection, the purge rules, crash-safe SSTable replacement, the compactor.

Selection (Cassandra's SizeTieredCompactionStrategy): SSTables sorted by size are grouped into
buckets; an SSTable joins a bucket when its size is within [bucket_low, bucket_high] x the bucket's
average, or when both it and the bucket average are under min_sstable_size.  A bucket with at least
min_threshold SSTables is a candidate; the busiest candidate (most SSTables, then smallest) is
compacted, at most max_threshold of its smallest SSTables at a time.

Merging: partitions from all inputs are merged by decorated key and cell by cell; data shadowed by a
deletion is dropped; expired TTL cells become tombstones whose local deletion time is
expiry - ttl.  A tombstone (cell, row, collection, range or partition deletion) is *purged* only when
its local deletion time is older than now - gc_grace_seconds AND its timestamp is lower than the
minimum timestamp of every source outside the compaction that may hold the partition: every other
live SSTable whose bloom filter says it may contain the key (its Statistics.min_timestamp), and every
memtable holding the key (counted as holding arbitrarily old data).  Otherwise the tombstone could be
shadowing older data there, and dropping it would resurrect that data.

Crash safety.  A compaction replaces inputs I1..In by output O in these steps:
  1. write the *intent* ``compaction-<O>.pending`` (below; temp name, fsync, rename, sync dir):
     "O is being built from I1..In";
  2. write O completely through SSTableWriter (temp names, fsync, rename, TOC renamed last,
     directory synced);
  3. commit: rename ``compaction-<O>.pending`` to ``compaction-<O>.log`` and sync the directory.
     This rename is the atomic switch from "the inputs are the truth" to "O is the truth";
  4. publish O and retire I1..In in memory (reads in progress keep the inputs open);
  5. when no read holds an input any more, delete its files (TOC first) and sync the directory;
  6. once all inputs are gone, delete the log and sync the directory.
At open (``recover``, before any SSTable is loaded): a ``.pending`` intent means the crash came
before the commit: O's files (complete or not) are deleted, the inputs stay.  A ``.log`` means the
commit happened: the inputs' remaining files are deleted (TOC first, so a half-deleted SSTable
does not exist and ``descriptor.cleanup_temporary`` removes its rest), O stays.  Either way the
record is then removed.  So after any crash exactly one of {I1..In} and {O} is live: never both,
never neither.  Records are renamed into place only when complete, so a torn record cannot exist
(one that fails its CRC anyway is removed and ignored, which keeps the inputs).  Generation numbers
named in records are never reused (``logged_generations``).  A compaction that fails without a
crash aborts the writer and removes its intent.

compaction-<O>.pending / compaction-<O>.log layout (big-endian; the same bytes, renamed)::

    [4 "CQCL"][u16 version 1][u32 output generation][u32 n][u32 input generation] x n
    [u32 crc32 of everything before]
"""
from __future__ import annotations

import logging
import struct
import threading
import zlib
from typing import Sequence

from .read_merge import merge_scans, merged_rows, strip_row
from .rows import FULL_SLICE, NO_EXPIRY, PartitionUpdate, RangeTombstone, covering_deletion
from .table_store import SSTableHandle, TableStore, delete_sstable_files

log = logging.getLogger(__name__)

LOG_MAGIC = b"CQCL"
LOG_VERSION = 1                     # written to disk; do not change
_LOG_HEAD = struct.Struct(">4sHII")
_U32 = struct.Struct(">I")
LOG_PREFIX = "compaction-"
LOG_SUFFIX = ".log"
MAX_TS = (1 << 63) - 1
MIN_TS = -(1 << 63)


# --- selection -------------------------------------------------------------------------------------

def size_tiered_buckets(items: Sequence, sizes: Sequence[int], bucket_low: float = 0.5,
                        bucket_high: float = 1.5, min_sstable_size: int = 50 * 1024 * 1024
                        ) -> list[list]:
    """Group ``items`` by similar size (see the module docstring); buckets in size order."""
    order = sorted(range(len(items)), key=lambda i: sizes[i])
    buckets: list[list[int]] = []
    averages: list[float] = []
    for i in order:
        size = sizes[i]
        for b, avg in enumerate(averages):
            if (bucket_low * avg <= size <= bucket_high * avg) or (
                    size < min_sstable_size and avg < min_sstable_size):
                buckets[b].append(i)
                averages[b] = (avg * (len(buckets[b]) - 1) + size) / len(buckets[b])
                break
        else:
            buckets.append([i])
            averages.append(float(size))
    return [[items[i] for i in b] for b in buckets]


def select_compaction(items: Sequence, sizes: Sequence[int], options: dict) -> list | None:
    """The SSTables to compact next by size-tiered rules, or None."""
    if not options.get("enabled", True):
        return None
    lo, hi = int(options.get("min_threshold", 4)), int(options.get("max_threshold", 32))
    size_of = dict(zip(map(id, items), sizes))
    best = None
    for bucket in size_tiered_buckets(items, sizes, float(options.get("bucket_low", 0.5)),
                                      float(options.get("bucket_high", 1.5)),
                                      int(options.get("min_sstable_size", 50 * 1024 * 1024))):
        if len(bucket) < lo:
            continue
        bucket = sorted(bucket, key=lambda x: size_of[id(x)])[:hi]
        avg = sum(size_of[id(x)] for x in bucket) / len(bucket)
        score = (len(bucket), -avg)
        if best is None or score > best[0]:
            best = (score, bucket)
    return None if best is None else best[1]


def pending_compactions(items: Sequence, sizes: Sequence[int], options: dict) -> int:
    """An estimate: how many size-tiered compactions the current SSTables call for."""
    if not options.get("enabled", True):
        return 0
    lo, hi = int(options.get("min_threshold", 4)), int(options.get("max_threshold", 32))
    n = 0
    for bucket in size_tiered_buckets(items, sizes, float(options.get("bucket_low", 0.5)),
                                      float(options.get("bucket_high", 1.5)),
                                      int(options.get("min_sstable_size", 50 * 1024 * 1024))):
        if len(bucket) >= lo:
            n += -(-len(bucket) // hi)
    return n


# --- the compaction log ------------------------------------------------------------------------------

def encode_log(output: int, inputs: Sequence[int]) -> bytes:
    body = _LOG_HEAD.pack(LOG_MAGIC, LOG_VERSION, output, len(inputs)) + b"".join(
        _U32.pack(g) for g in inputs)
    return body + _U32.pack(zlib.crc32(body))


def decode_log(data: bytes) -> tuple[int, list[int]] | None:
    """(output, inputs), or None if the bytes are not a complete, valid log."""
    if len(data) < _LOG_HEAD.size + 4:
        return None
    magic, version, output, n = _LOG_HEAD.unpack_from(data, 0)
    if magic != LOG_MAGIC or version != LOG_VERSION or len(data) != _LOG_HEAD.size + 4 * n + 4:
        return None
    if _U32.unpack_from(data, len(data) - 4)[0] != zlib.crc32(data[:-4]):
        return None
    inputs = [_U32.unpack_from(data, _LOG_HEAD.size + 4 * i)[0] for i in range(n)]
    return output, inputs


PENDING_SUFFIX = ".pending"


def log_path(directory: str, output: int, pending: bool = False) -> str:
    return f"{directory}/{LOG_PREFIX}{output}{PENDING_SUFFIX if pending else LOG_SUFFIX}"


def write_intent(fs, directory: str, output: int, inputs: Sequence[int]) -> str:
    """Step 1: the durable intent record."""
    path = log_path(directory, output, pending=True)
    fs.write_bytes(path + ".tmp", encode_log(output, inputs))
    fs.rename(path + ".tmp", path)
    fs.sync_dir(directory)
    return path


def commit_intent(fs, directory: str, output: int) -> str:
    """Step 3: the atomic commit (the intent becomes the log)."""
    path = log_path(directory, output)
    fs.rename(log_path(directory, output, pending=True), path)
    fs.sync_dir(directory)
    return path


def _is_record(name: str) -> bool:
    return name.startswith(LOG_PREFIX) and (name.endswith(LOG_SUFFIX)
                                            or name.endswith(PENDING_SUFFIX))


def logged_generations(fs, directory: str) -> int:
    """The highest generation any compaction record names (0 if none)."""
    best = 0
    for name in fs.listdir(directory):
        if _is_record(name):
            parsed = decode_log(fs.read_bytes(f"{directory}/{name}"))
            if parsed is not None:
                best = max([best, parsed[0], *parsed[1]])
    return best


def recover(fs, directory: str) -> list[int]:
    """Finish or undo the compactions a crash interrupted (see the module docstring).

    Returns the generations deleted.  Call before the table's SSTables are opened.
    """
    deleted = []
    changed = False
    for name in fs.listdir(directory):
        path = f"{directory}/{name}"
        if name.startswith(LOG_PREFIX) and name.endswith(".tmp"):
            fs.remove(path)
            changed = True
            continue
        if not _is_record(name):
            continue
        parsed = decode_log(fs.read_bytes(path))
        if parsed is not None:
            output, inputs = parsed
            doomed = [output] if name.endswith(PENDING_SUFFIX) else inputs
            for g in doomed:
                delete_sstable_files(fs, directory, g)
                deleted.append(g)
        fs.remove(path)
        changed = True
    if changed:
        fs.sync_dir(directory)
    return deleted


# --- merging ---------------------------------------------------------------------------------------

def _max_purgeable(store: TableStore, key: bytes, token: int, inputs: set[int]) -> int:
    """The lowest timestamp data outside the compaction may have for ``key`` (MAX_TS if none)."""
    view = store.acquire()
    try:
        low = MAX_TS
        for mt in (view.memtable,) + view.flushing:
            if key in mt.partitions:
                return MIN_TS
        for h in view.sstables:
            if h.generation in inputs or h.min_ts >= low:
                continue
            if h.reader.may_contain(key):
                low = h.min_ts
        return low
    finally:
        store.release(view)


def compact_partition(group: list, table_id: bytes, now: int, gc_before: int,
                      max_purgeable) -> PartitionUpdate | None:
    """Merge one partition's versions from the inputs; drop shadowed and purgeable data.

    ``max_purgeable`` is a callable giving the purge bound for the key, or None when the inputs
    hold no tombstone or expiring cell at all (then nothing can be purged and no bound is needed).
    """
    first = group[0]
    deletion = None
    rts: list[RangeTombstone] = []
    static = None
    for p in group:
        if p.deletion is not None and (deletion is None or p.deletion.supersedes(deletion)):
            deletion = p.deletion
        rts.extend(p.range_tombstones)
        if p.static_row is not None:
            static = p.static_row if static is None else static.merge(p.static_row)
    if deletion is not None:
        rts = [rt for rt in rts if rt.deletion.timestamp > deletion.timestamp]
    if rts:
        rts = list(dict.fromkeys(rts))
    mp = max_purgeable() if max_purgeable is not None else MIN_TS
    out = PartitionUpdate(table_id, first.key)
    if deletion is not None:
        purge = deletion.local_deletion_time < gc_before and deletion.timestamp < mp
        out.deletion = None if purge else deletion
    for rt in rts:
        if not (rt.deletion.local_deletion_time < gc_before and rt.deletion.timestamp < mp):
            out.range_tombstones.append(rt)
    if static is not None:
        out.static_row = strip_row(static, deletion, now, gc_before, mp)
    rows = out.rows
    for row in merged_rows(group, (FULL_SLICE,), False, lazy=False):
        shadow = covering_deletion(deletion, rts, row.clustering) if rts else deletion
        r = strip_row(row, shadow, now, gc_before, mp)
        if r is not None:
            rows[r.clustering] = r
    return None if out.is_empty() else out


class CompactionInterrupted(Exception):
    """The engine is shutting down: the compaction was abandoned (its inputs stay)."""


def run_compaction(store: TableStore, inputs: Sequence[SSTableHandle], now: int,
                   should_stop=None) -> SSTableHandle | None:
    """Compact ``inputs`` into one new SSTable and swap it in, crash-safely (module docstring).

    ``should_stop`` (optional callable) is polled between partitions; when it says True the
    compaction is undone and ``CompactionInterrupted`` raised.
    """
    from .sstable_writer import SSTableWriter
    fs, directory = store.fs, store.directory
    gen = store.allocate_generation()
    gc_before = now - store.options.gc_grace_seconds
    in_gens = {h.generation for h in inputs}
    positions = [h.position for h in inputs if h.position is not None]
    expected = sum(h.stats.partition_count for h in inputs)
    intent = write_intent(fs, directory, gen, sorted(in_gens))
    written = 0
    reader = writer = None
    # Only inputs holding tombstones or expiring cells can have anything to purge.
    may_purge = any(h.stats.min_local_deletion_time < NO_EXPIRY for h in inputs)
    try:
        writer = SSTableWriter(fs, directory, gen, expected_partitions=max(1, expected),
                               compression=store.options.compression,
                               bloom_fp_chance=store.options.bloom_filter_fp_chance,
                               commitlog_position=max(positions) if positions else None,
                               table_id=store.table_id)
        for group in merge_scans([h.reader.scan() for h in inputs]):
            key, token = group[0].key, group[0].token
            bound = (lambda: _max_purgeable(store, key, token, in_gens)) if may_purge else None
            part = compact_partition(group, store.table_id, now, gc_before, bound)
            if part is not None:
                writer.append(token, part)
                written += 1
                if should_stop is not None and not written & 255 and should_stop():
                    raise CompactionInterrupted()
        if written:
            reader = writer.finish()
        else:
            writer.abort()
            reader = None
        path = commit_intent(fs, directory, gen)
    except BaseException:
        try:
            if reader is not None:
                reader.close()
            if writer is not None:
                writer.abort()
            delete_sstable_files(fs, directory, gen)
            fs.remove(intent)
            fs.sync_dir(directory)
        except Exception:
            pass
        raise
    output = store.engine.wrap_reader(store, reader) if reader is not None else None
    remaining = set(in_gens)
    lock = threading.Lock()

    def on_deleted(h: SSTableHandle) -> None:
        with lock:
            remaining.discard(h.generation)
            done = not remaining
        if done and not store.dropped:
            try:
                fs.remove(path)
                fs.sync_dir(directory)
            except FileNotFoundError:
                pass

    store.replace_sstables(inputs, output, on_deleted)
    store.compactions_completed += 1
    return output


class Compactor:
    """The background thread that runs size-tiered compactions for every table of an engine."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self._wake = threading.Event()
        self._stop = False
        self.error: BaseException | None = None
        self.running = 0
        self._thread = threading.Thread(target=self._loop, name="cqlpy-compactor", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait()
            self._wake.clear()
            try:
                while not self._stop and self._one_round():
                    pass
            except BaseException as e:           # a failing disk: stop compacting, keep the engine
                self.error = e
                log.exception("background compaction failed")
                return

    def _one_round(self) -> bool:
        did = False
        for store in list(self.engine._tables.values()):
            if self._stop:
                return False
            if not store.compaction_lock.acquire(blocking=False):
                continue
            try:
                if store.dropped:
                    continue
                ssts = store.live_sstables()
                inputs = select_compaction(ssts, [h.size for h in ssts], store.options.compaction)
                if inputs:
                    self.running += 1
                    try:
                        run_compaction(store, inputs, int(self.engine.clock()),
                                       lambda: self._stop)
                    except CompactionInterrupted:
                        return False
                    finally:
                        self.running -= 1
                    did = True
            finally:
                store.compaction_lock.release()
        return did
