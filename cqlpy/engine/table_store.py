"""One table's storage (Cassandra's ColumnFamilyStore): memtables + live SSTables, read path, flush.

State is published as an immutable ``View`` (active memtable, memtables being flushed, live SSTables
sorted by decreasing max timestamp).  A read acquires the current view, reads, and releases it;
replacing the view (flush, compaction, truncate) never disturbs a read in progress.  An SSTable
replaced by a compaction is *obsolete*: its reader is closed and its files deleted only when the
last view holding it is released (``SSTableHandle``), so reads never lose a file under their feet.

Read path for one partition: every memtable; then the SSTables in decreasing max timestamp, each
skipped when (1) a partition deletion already seen is at least as new as its max timestamp, (2) its
min/max clustering cannot meet the query's slices (only if it has no partition deletions and the
table has never had a static row), (3) its bloom filter / index says the key is absent.  The
sources are merged by ``read_merge.resolve``.  A single-row read that names its columns
(``columns``) also stops at the first SSTable whose max timestamp is older than every cell of a
row already complete (Cassandra's timestamp-ordered read, ``_read_row``).  Rows of SSTables whose
statistics show no tombstone and no TTL skip the liveness check (``SSTableHandle.plain``).  ``trace`` receives one dict per step
(``activity``, ``elapsed_us``; an SSTable the bloom filter or index rules out adds ``kind`` 'bloom' or
'index' and ``sstable``, its generation) for query tracing (cqlpy.session.tracing) and EXPLAIN.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Collection, Iterator, Sequence

from . import descriptor
from .memtable import Memtable
from .murmur3 import hash128
from .options import OPTIONS_FILE, TableOptions, encode_table_meta
from .read_merge import Partition, merge_scans, resolve, visible_row
from .rows import FULL_SLICE, NO_EXPIRY, Cell, PartitionUpdate, Slice, covering_deletion, later_deletion

log = logging.getLogger(__name__)


class SSTableHandle:
    """A live SSTable reader plus what the read path checks often, and its reference count."""

    __slots__ = ("reader", "generation", "max_ts", "min_ts", "min_c", "max_c", "pdel_count",
                 "refs", "obsolete", "on_deleted", "size", "stats", "position", "plain")

    def __init__(self, reader) -> None:
        st = reader.stats
        self.reader = reader
        self.stats = st
        self.generation = reader.generation
        self.max_ts = st.max_timestamp
        self.min_ts = st.min_timestamp
        self.min_c = st.min_clustering
        self.max_c = st.max_clustering
        self.pdel_count = st.partition_deletion_count
        self.position = st.commitlog_position
        # no tombstone, deletion or expiring cell anywhere: every row in it is plainly live
        self.plain = st.min_local_deletion_time == NO_EXPIRY and not st.tombstone_count
        self.size = reader.data_size
        self.refs = 0
        self.obsolete = False
        self.on_deleted = None          # callback once the files are gone (compaction log cleanup)

    def __repr__(self) -> str:
        return f"SSTable({self.generation}, {self.size} bytes)"


class View:
    __slots__ = ("memtable", "flushing", "sstables", "refs")

    def __init__(self, memtable: Memtable, flushing: tuple, sstables: tuple) -> None:
        self.memtable = memtable
        self.flushing = flushing            # newest first
        self.sstables = tuple(sorted(sstables, key=lambda h: (-h.max_ts, -h.generation)))
        self.refs = 1                       # the "current view" reference


def _is_point(s: Slice) -> bool:
    return s.start is not None and s.start == s.end and s.start_inclusive and s.end_inclusive


def _complete_since(row, columns) -> int | bool:
    """The oldest timestamp among the row's marker and queried cells, or False if one is missing."""
    m = row.marker
    if m is None:
        return False
    low = m.timestamp
    cols = row.columns
    for name in columns:
        d = cols.get(name)
        if type(d) is not Cell:
            return False
        if d.timestamp < low:
            low = d.timestamp
    return low


class _Found:
    """The merged sources of a single-row read, as one source partition for ``resolve``."""

    __slots__ = ("key", "token", "deletion", "range_tombstones", "static_row", "row", "sources")

    def __init__(self, key: bytes, token: int) -> None:
        self.key, self.token = key, token
        self.deletion = None
        self.range_tombstones: list = []
        self.static_row = None
        self.row = None
        self.sources = 0

    def add(self, p, clustering: bytes) -> bool:
        """Fold in one source partition (its ``point_row``); True if it had the row."""
        self.sources += 1
        if p.deletion is not None:
            self.deletion = later_deletion(self.deletion, p.deletion)
        if p.range_tombstones:
            self.range_tombstones = self.range_tombstones + list(p.range_tombstones)
        if p.static_row is not None:
            self.static_row = (p.static_row if self.static_row is None
                               else self.static_row.merge(p.static_row))
        r = p.point_row(clustering)
        if r is None:
            return False
        self.row = r if self.row is None else self.row.merge(r)
        return True

    def rows(self, s: Slice = FULL_SLICE, reversed: bool = False):
        r = self.row
        return iter((r,)) if r is not None and s.contains(r.clustering) else iter(())


def _intersects(slices: Sequence[Slice], lo: bytes, hi: bytes) -> bool:
    for s in slices:
        e, b = s.end, s.start
        if e is not None and (e < lo or (e == lo and not s.end_inclusive)):
            continue
        if b is not None and (b > hi or (b == hi and not s.start_inclusive)):
            continue
        return True
    return False


class TableStore:
    """The storage of one table; the Engine owns one per table."""

    def __init__(self, engine, keyspace: str, name: str, table_id: bytes, directory: str,
                 options: TableOptions, truncated_at=None, has_static: bool = False) -> None:
        self.engine = engine
        self.fs = engine.fs
        self.keyspace, self.name, self.table_id = keyspace, name, table_id
        self.directory = directory
        self.options = options
        self.truncated_at = truncated_at
        self.has_static = has_static
        self.truncated_generation = 0
        self.lock = threading.Lock()                  # view changes and refcounts
        self.compaction_lock = threading.Lock()       # one compaction at a time per table
        self.flush_lock = threading.Lock()            # held while a memtable is written out
        self.meta_lock = threading.Lock()             # options.json writes
        self._view = View(Memtable(table_id), (), ())
        self.next_generation = 1
        self.dropped = False
        self.compacting: set[int] = set()             # generations in a running compaction
        self.compactions_completed = 0

    # --- metadata ---------------------------------------------------------------------------------

    def write_meta(self) -> None:
        """Persist options.json (temp name, fsync, rename, sync dir)."""
        with self.meta_lock:
            data = encode_table_meta(self.keyspace, self.name, self.options, self.truncated_at,
                                     self.has_static, self.truncated_generation)
            tmp = f"{self.directory}/{OPTIONS_FILE}.tmp"
            self.fs.write_bytes(tmp, data)
            self.fs.rename(tmp, f"{self.directory}/{OPTIONS_FILE}")
            self.fs.sync_dir(self.directory)

    def note_static(self) -> None:
        """The table now holds a static row: clustering-based SSTable skipping must consider it."""
        with self.lock:
            if self.has_static:
                return
            self.has_static = True
        self.write_meta()

    def allocate_generation(self) -> int:
        with self.lock:
            g = self.next_generation
            self.next_generation += 1
            return g

    # --- views ------------------------------------------------------------------------------------

    @property
    def memtable(self) -> Memtable:
        return self._view.memtable

    def acquire(self) -> View:
        with self.lock:
            v = self._view
            v.refs += 1
            return v

    def release(self, view: View) -> None:
        doomed = []
        with self.lock:
            view.refs -= 1
            if view.refs == 0:
                for h in view.sstables:
                    h.refs -= 1
                    if h.refs == 0 and h.obsolete:
                        doomed.append(h)
        for h in doomed:
            self._delete_sstable(h)

    def _install(self, memtable: Memtable, flushing: tuple, sstables) -> None:
        """Publish a new view (lock held by the caller); the old one is released after."""
        new = View(memtable, flushing, tuple(sstables))
        for h in new.sstables:
            h.refs += 1
        old, self._view = self._view, new
        return old

    def _delete_sstable(self, h: SSTableHandle) -> None:
        try:
            h.reader.close()
        except Exception:                                    # pragma: no cover - best effort
            log.exception("closing %s", h)
        if not self.dropped:
            delete_sstable_files(self.fs, self.directory, h.generation)
        if h.on_deleted is not None:
            h.on_deleted(h)

    def live_sstables(self) -> tuple:
        return self._view.sstables

    def add_opened(self, handles: list[SSTableHandle]) -> None:
        with self.lock:
            v = self._view
            old = self._install(v.memtable, v.flushing, v.sstables + tuple(handles))
        self.release(old)

    # --- writes -----------------------------------------------------------------------------------

    def apply(self, update: PartitionUpdate, token: int) -> Memtable:
        mt = self._view.memtable
        mt.apply(update, token)
        return mt

    def switch_memtable(self) -> Memtable | None:
        """Freeze the active memtable and start a new one (caller holds the engine's write barrier).

        Returns the frozen memtable, or None if it was empty.
        """
        with self.lock:
            v = self._view
            old_mt = v.memtable
            if len(old_mt) == 0:
                return None
            old_mt.freeze()
            old = self._install(Memtable(self.table_id), (old_mt,) + v.flushing, v.sstables)
        self.release(old)
        return old_mt

    def pending_flushes(self) -> int:
        return len(self._view.flushing)

    def flush_memtable(self, mt: Memtable, position) -> None:
        """Write a frozen memtable to a new SSTable and swap it in (reads see the memtable until then)."""
        from .sstable_writer import SSTableWriter
        handle = None
        if len(mt):
            gen = self.allocate_generation()
            writer = SSTableWriter(self.fs, self.directory, gen, expected_partitions=len(mt),
                                   compression=self.options.compression,
                                   bloom_fp_chance=self.options.bloom_filter_fp_chance,
                                   commitlog_position=tuple(position) if position else None,
                                   table_id=self.table_id)
            try:
                for token, update in mt.sorted_updates():
                    writer.append(token, update)
                reader = writer.finish()
            except BaseException:
                try:
                    writer.abort()
                except Exception:
                    pass
                raise
            handle = self.engine.wrap_reader(self, reader)
        with self.lock:
            v = self._view
            flushing = tuple(m for m in v.flushing if m is not mt)
            ssts = v.sstables + ((handle,) if handle is not None else ())
            old = self._install(v.memtable, flushing, ssts)
        self.release(old)

    def replace_sstables(self, inputs: Sequence[SSTableHandle], output: SSTableHandle | None,
                         on_deleted=None) -> None:
        """Swap compaction inputs for the output; inputs are deleted once no read holds them."""
        gens = {h.generation for h in inputs}
        with self.lock:
            v = self._view
            keep = tuple(h for h in v.sstables if h.generation not in gens)
            if output is not None:
                keep += (output,)
            for h in inputs:
                h.obsolete = True
                h.on_deleted = on_deleted
            old = self._install(v.memtable, v.flushing, keep)
        self.release(old)

    def clear(self) -> list[SSTableHandle]:
        """Drop every memtable and SSTable (truncate/drop); the SSTables are deleted when unused."""
        with self.lock:
            v = self._view
            for h in v.sstables:
                h.obsolete = True
            old = self._install(Memtable(self.table_id), (), ())
        self.release(old)
        return list(v.sstables)

    def close_all(self) -> None:
        with self.lock:
            v = self._view
            for h in v.sstables:
                try:
                    h.reader.close()
                except Exception:                           # pragma: no cover
                    pass

    # --- reads ------------------------------------------------------------------------------------

    def read(self, key: bytes, token: int, slices: Sequence[Slice] = (FULL_SLICE,), *,
             reversed: bool = False, limit: int | None = None, now: int,
             tombstones: bool = False, trace: list | None = None,
             columns: Collection[str] | None = None,
             key_hash: tuple[int, int] | None = None) -> Partition | None:
        """``key_hash``: ``hash128(key)`` if the caller has it (computed here otherwise)."""
        if key_hash is None:
            key_hash = hash128(key)
        view = self.acquire()
        try:
            if trace is not None:
                return self._read_traced(view, key, token, slices, reversed, limit, now,
                                         tombstones, trace, columns)
            if columns is not None and not tombstones and not self.has_static and \
                    len(slices) == 1 and _is_point(slices[0]) and limit != 0:
                return self._read_row(view, key, token, slices, now, columns, None, key_hash)
            sources = []
            top = None                       # newest partition deletion timestamp seen
            plain = True                     # only SSTables without deletions or TTLs so far
            p = view.memtable.partitions.get(key)
            if p is not None:
                sources.append(p)
                plain = False
                if p.deletion is not None:
                    top = p.deletion.timestamp
            for mt in view.flushing:
                p = mt.partitions.get(key)
                if p is not None:
                    sources.append(p)
                    plain = False
                    if p.deletion is not None and (top is None or p.deletion.timestamp > top):
                        top = p.deletion.timestamp
            has_static = self.has_static
            for h in view.sstables:
                if top is not None and h.max_ts <= top:
                    break                    # sorted by max timestamp: all the rest are older
                if (h.min_c is not None and h.max_c is not None and not h.pdel_count
                        and not has_static and not _intersects(slices, h.min_c, h.max_c)):
                    continue
                p = h.reader.partition(key, token, key_hash)
                if p is not None:
                    sources.append(p)
                    if not h.plain:
                        plain = False
                    d = p.deletion
                    if d is not None and (top is None or d.timestamp > top):
                        top = d.timestamp
            if not sources:
                return None
            return resolve(sources, slices, reversed=reversed, limit=limit, now=now,
                           tombstones=tombstones, plain=plain)
        finally:
            self.release(view)

    def _read_row(self, view: View, key: bytes, token: int, slices, now: int,
                  columns: Collection[str], step, key_hash=None) -> Partition | None:
        """One row of a table without static columns, newest SSTables first, stopping early.

        Cassandra's timestamp-ordered read: once the row has a marker and a cell for every
        queried column, all newer than the next SSTable's max timestamp, no older SSTable can
        change the answer (its cells, markers and deletions all lose to newer ones).
        """
        s = slices[0]
        c = s.start
        found = _Found(key, token)
        top = None
        for i, mt in enumerate((view.memtable,) + view.flushing):
            p = mt.partitions.get(key)
            if p is not None:
                found.add(p, c)
                if p.deletion is not None and (top is None or p.deletion.timestamp > top):
                    top = p.deletion.timestamp
                if step:
                    step(f"Read row from {'memtable' if i == 0 else 'flushing memtable'}")
        complete = None
        for h in view.sstables:
            if top is not None and h.max_ts <= top:
                if step:
                    step(f"Skipped SSTable {h.generation} and older: a partition deletion at "
                         f"{top} is newer than their max timestamp")
                break
            if found.row is not None:
                if complete is None:
                    complete = _complete_since(found.row, columns)
                if complete is not False and complete > h.max_ts:
                    if step:
                        step(f"Skipped SSTable {h.generation} and older: the row is complete "
                             f"with cells newer than their max timestamp {h.max_ts}")
                    break
            lo, hi = h.min_c, h.max_c
            if lo is not None and hi is not None and (c < lo or c > hi) and not h.pdel_count:
                if step:
                    step(f"Skipped SSTable {h.generation}: clustering range does not meet the query")
                continue
            p = h.reader.partition(key, token, key_hash)
            if p is None:
                if step:
                    if h.reader.may_contain(key):
                        step(f"Skipped SSTable {h.generation}: the partition index says the key "
                             f"is absent", kind="index", sstable=h.generation)
                    else:
                        step(f"Skipped SSTable {h.generation}: bloom filter says the key is absent",
                             kind="bloom", sstable=h.generation)
                continue
            if found.add(p, c):
                complete = None
            d = p.deletion
            if d is not None and (top is None or d.timestamp > top):
                top = d.timestamp
            if step:
                step(f"Read partition from SSTable {h.generation}")
        row = found.row
        if row is None:
            return None
        rts = found.range_tombstones
        shadow = covering_deletion(found.deletion, rts, row.clustering) if rts else found.deletion
        row = visible_row(row, shadow, now)
        return None if row is None else Partition(key, token, None, [row])

    def _read_traced(self, view: View, key, token, slices, reversed, limit, now, tombstones,
                     trace: list, columns=None) -> Partition | None:
        t0 = time.perf_counter()

        def step(activity: str, **info) -> None:
            trace.append({"activity": activity,
                          "elapsed_us": int((time.perf_counter() - t0) * 1e6), **info})

        step("Acquiring sstable references")
        if columns is not None and not tombstones and not self.has_static and \
                len(slices) == 1 and _is_point(slices[0]) and limit != 0:
            step(f"Single-row read in timestamp order ({len(view.sstables)} SSTables)")
            first = len(trace)
            result = self._read_row(view, key, token, slices, now, columns, step)
            read = sum(1 for t in trace[first:] if t["activity"].startswith("Read partition from SSTable"))
            step(f"Merged data from memtables and {read} sstables")
            step("Row found" if result is not None else "Partition not found")
            return result

        sources = []
        top = None
        for i, mt in enumerate((view.memtable,) + view.flushing):
            p = mt.partitions.get(key)
            which = "memtable" if i == 0 else "flushing memtable"
            if p is None:
                step(f"Partition not in {which} ({len(mt)} partitions)")
                continue
            sources.append(p)
            step(f"Read partition from {which} ({len(p)} rows)")
            if p.deletion is not None and (top is None or p.deletion.timestamp > top):
                top = p.deletion.timestamp
        n = len(view.sstables)
        step(f"Checking {n} SSTables in decreasing max timestamp order")
        tomb_count = 0
        non_intersecting = included = read = 0
        for h in view.sstables:
            name = f"SSTable {h.generation}"
            if top is not None and h.max_ts <= top:
                step(f"Skipped {name}: its max timestamp {h.max_ts} is older than a partition "
                     f"deletion at {top}")
                continue
            if (h.min_c is not None and h.max_c is not None and not self.has_static
                    and not _intersects(slices, h.min_c, h.max_c)):
                if not h.pdel_count:
                    non_intersecting += 1
                    step(f"Skipped {name}: clustering range does not meet the query")
                    continue
                included += 1                # its partition deletions may shadow newer data
            if not h.reader.may_contain(key):
                step(f"Skipped {name}: bloom filter says the key is absent",
                     kind="bloom", sstable=h.generation)
                continue
            p = h.reader.partition(key, token)
            if p is None:
                step(f"{name}: bloom filter false positive (key not in index)",
                     kind="index", sstable=h.generation)
                continue
            read += 1
            sources.append(p)
            if p.deletion is not None:
                tomb_count += 1
                if top is None or p.deletion.timestamp > top:
                    top = p.deletion.timestamp
            tomb_count += len(p.range_tombstones)
            step(f"Read partition from {name}" + (" (partition deletion)" if p.deletion else "")
                 + (f" ({len(p.range_tombstones)} range tombstones)" if p.range_tombstones
                    else ""))
        step(f"Skipped {non_intersecting}/{n} non-slice-intersecting sstables, included "
             f"{included} due to tombstones")
        if not sources:
            step("Partition not found")
            return None
        step(f"Merged data from memtables and {read} sstables")
        return resolve(sources, slices, reversed=reversed, limit=limit, now=now,
                       tombstones=tombstones, trace=step)

    def scan(self, start=None, start_inclusive: bool = True, end_token: int | None = None, *,
             now: int, tombstones: bool = False) -> Iterator[Partition]:
        view = self.acquire()
        try:
            iters = [view.memtable.scan(start, start_inclusive, end_token)]
            iters += [mt.scan(start, start_inclusive, end_token) for mt in view.flushing]
            iters += [h.reader.scan(start, start_inclusive, end_token) for h in view.sstables]
            for group in merge_scans(iters):
                part = resolve(group, (FULL_SLICE,), now=now, tombstones=tombstones)
                if part is not None:
                    yield part
        finally:
            self.release(view)


def delete_sstable_files(fs, directory: str, generation: int) -> None:
    """Remove an SSTable's files, TOC first (without its TOC it no longer exists), then sync."""
    toc = descriptor.path(directory, generation, descriptor.TOC)
    names = [toc] + [descriptor.path(directory, generation, c) for c in descriptor.COMPONENTS]
    for p in names:
        try:
            if fs.exists(p):
                fs.remove(p)
        except FileNotFoundError:
            pass
    fs.sync_dir(directory)
