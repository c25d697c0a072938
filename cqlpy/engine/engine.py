"""The Engine: the storage API the layers above use (open, tables, apply, read, scan, flush, compact).

Data folder::

    <data>/LOCK                                       flock'ed by the owning process
    <data>/commitlog/CommitLog-<version>-<id>.log     (commitlog)
    <data>/data/<keyspace>/<table>-<id hex>/          one TableStore each: SSTables (descriptor),
        options.json (options), compaction-<gen>.log (compaction), DROPPED (drop in progress)

Write path: ``apply`` appends one commit-log record for all its updates, then folds each update
into its table's memtable.  A *write barrier* orders writes against memtable switches: a switch
waits until no apply is between "appended to the log" and "in the memtable", then takes the log's
position P, so the old memtable holds exactly the records <= P.  The flusher thread writes the
frozen memtable to an SSTable whose Statistics carry P (reads see the memtable meanwhile), swaps
it in and calls ``commitlog.mark_clean(table, P)``.  Flushes run one at a time in FIFO order, so an
SSTable's position P means "every record <= P of this table is in SSTables".  Writers wait when a
table has ``max_pending_flushes`` memtables waiting.

Open: lock, discover tables, finish or undo interrupted compactions, delete unfinished SSTable
files, open SSTables, then replay the commit log: a record is applied to a table only if its
position is above the table's *replay floor* (the newest SSTable position, or the truncation
point), then every table that received replayed data is flushed and the replayed segments
discarded.  A background thread flushes; another compacts (compaction).

Schema changes and crashes: ``create_table`` writes options.json before anything else;
``drop_table`` first makes a DROPPED marker durable (a crash midway finishes the drop at open);
``truncate`` makes options.json record the log position and the highest SSTable generation it
cuts (replay skips those records; such SSTables still on disk after a crash are deleted at open).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Collection, Iterator, Sequence

from ..errors import CorruptionError, InvalidRequest, StorageError
from . import descriptor
from .commitlog import CommitLog
from .compaction import Compactor, logged_generations, pending_compactions, recover, run_compaction
from .fs import RealFileSystem
from .compression import ChunkCache
from .keycache import KeyCache
from .murmur3 import hash128, token_of_hash
from .murmur3 import token as token_of
from .options import OPTIONS_FILE, EngineOptions, TableOptions, decode_table_meta
from .read_merge import Partition
from .rows import FULL_SLICE, PartitionUpdate, Slice
from .table_store import SSTableHandle, TableStore, delete_sstable_files

log = logging.getLogger(__name__)

DROPPED_MARKER = "DROPPED"


class Engine:
    """One node's storage engine over one data folder.  Thread-safe."""

    def __init__(self, path: str, fs, options: EngineOptions) -> None:
        self.path = path.rstrip("/") or "/"
        self.fs = fs
        self.options = options
        self.clock: Callable[[], float] = options.clock
        self.key_cache = KeyCache(options.key_cache_capacity)
        self.chunk_cache = ChunkCache(options.chunk_cache_bytes)
        self._tables: dict[bytes, TableStore] = {}
        self._schema_lock = threading.RLock()
        self._order_lock = threading.Lock()
        self._order = threading.Condition(self._order_lock)
        self._inflight = 0
        self._switching = False
        self._flushed = threading.Condition(threading.Lock())
        self._failure: BaseException | None = None
        self._closed = False
        self._lock = None
        self.commitlog: CommitLog | None = None
        self._flush_queue: queue.Queue = queue.Queue()
        self._flusher: threading.Thread | None = None
        self.compactor: Compactor | None = None
        self.replayed_records = 0            # commit-log records read at open
        self.replayed_updates = 0            # partition updates applied from them

    # --- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str, *, commitlog_sync: str = "periodic",
             commitlog_sync_period_ms: int = 1000, memtable_flush_bytes: int = 64 * 1024 * 1024,
             compaction: bool = True, fs=None, clock: Callable[[], float] | None = None,
             commitlog_segment_size: int = 32 * 1024 * 1024, max_pending_flushes: int = 4,
             key_cache_capacity: int = 100_000,
             chunk_cache_bytes: int = 64 * 1024 * 1024) -> "Engine":
        """Lock and open the data folder at ``path`` (created if missing); see the module docstring."""
        opts = EngineOptions(commitlog_sync=commitlog_sync,
                             commitlog_sync_period_ms=commitlog_sync_period_ms,
                             commitlog_segment_size=commitlog_segment_size,
                             memtable_flush_bytes=memtable_flush_bytes,
                             max_pending_flushes=max_pending_flushes, compaction=compaction,
                             key_cache_capacity=key_cache_capacity,
                             chunk_cache_bytes=chunk_cache_bytes,
                             clock=clock if clock is not None else time.time)
        engine = cls(path, fs if fs is not None else RealFileSystem(), opts)
        engine._open()
        return engine

    def _open(self) -> None:
        fs, path = self.fs, self.path
        fs.makedirs(path)
        self._lock = fs.lock(f"{path}/LOCK")
        try:
            fs.makedirs(f"{path}/data")
            self._discover()
            self.commitlog = CommitLog(fs, f"{path}/commitlog", sync=self.options.commitlog_sync,
                                       sync_period_ms=self.options.commitlog_sync_period_ms,
                                       segment_size=self.options.commitlog_segment_size)
            self._replay()
        except BaseException:
            self._shutdown_quietly()
            raise
        self._flusher = threading.Thread(target=self._flush_loop, name="cqlpy-flusher",
                                         daemon=True)
        self._flusher.start()
        if self.options.compaction:
            self.compactor = Compactor(self)
            self.compactor.wake()

    def _discover(self) -> None:
        fs = self.fs
        root = f"{self.path}/data"
        for ks in fs.listdir(root):
            ks_dir = f"{root}/{ks}"
            if not fs.isdir(ks_dir):
                continue
            for name in fs.listdir(ks_dir):
                parsed = descriptor.parse_table_dir_name(name)
                tdir = f"{ks_dir}/{name}"
                if parsed is None or not fs.isdir(tdir):
                    continue
                if fs.exists(f"{tdir}/{DROPPED_MARKER}"):
                    fs.rmtree(tdir)                     # a drop interrupted by a crash
                    continue
                table, table_id = parsed
                options, truncated_at, has_static, truncated_gen = TableOptions(), None, False, 0
                meta = f"{tdir}/{OPTIONS_FILE}"
                if fs.exists(meta):
                    try:
                        _ks, _t, options, truncated_at, has_static, truncated_gen = \
                            decode_table_meta(fs.read_bytes(meta))
                    except (ValueError, KeyError, TypeError) as e:
                        raise CorruptionError(meta, None, f"table options do not decode: {e}")
                store = TableStore(self, ks, table, table_id, tdir, options, truncated_at,
                                   has_static)
                store.truncated_generation = truncated_gen
                self._load_sstables(store)
                self._tables[table_id] = store

    def _load_sstables(self, store: TableStore) -> None:
        from .sstable_reader import SSTableReader
        fs, tdir = self.fs, store.directory
        top = max(descriptor.highest_generation(fs, tdir), logged_generations(fs, tdir))
        recover(fs, tdir)
        descriptor.cleanup_temporary(fs, tdir)
        store.next_generation = max(top, store.truncated_generation) + 1
        handles = []
        for gen in descriptor.generations(fs, tdir):
            if gen <= store.truncated_generation:        # a truncate the crash interrupted
                delete_sstable_files(fs, tdir, gen)
                continue
            handles.append(SSTableHandle(SSTableReader.open(
                fs, tdir, gen, self.key_cache, chunk_cache=self.chunk_cache)))
        store.add_opened(handles)

    def wrap_reader(self, store: TableStore, reader) -> SSTableHandle:
        """A freshly written SSTable's reader, reopened on the engine's shared caches."""
        from .sstable_reader import SSTableReader
        if reader.key_cache is not self.key_cache or reader.chunk_cache is not self.chunk_cache:
            reader.close()
            reader = SSTableReader.open(self.fs, reader.directory, reader.generation,
                                        self.key_cache, chunk_cache=self.chunk_cache)
        return SSTableHandle(reader)

    def _replay(self) -> None:
        floors = {}
        for tid, store in self._tables.items():
            positions = [h.position for h in store.live_sstables() if h.position is not None]
            if store.truncated_at is not None:
                positions.append(tuple(store.truncated_at))
            floors[tid] = max(positions) if positions else None
        touched: set[bytes] = set()
        for pos, updates in self.commitlog.replay():
            for u in updates:
                store = self._tables.get(u.table_id)
                if store is None:
                    continue
                floor = floors[u.table_id]
                if floor is not None and tuple(pos) <= tuple(floor):
                    continue
                store.apply(u, token_of(u.key))
                self.replayed_updates += 1
                touched.add(u.table_id)
                if store.memtable.size >= self.options.memtable_flush_bytes:
                    # a long log must not replay into memory whole: this memtable holds every
                    # record of the table up to ``pos`` that the SSTables lacked
                    mt = store.switch_memtable()
                    if mt is not None:
                        store.flush_memtable(mt, pos)
            self.replayed_records += 1
        for tid in touched:
            store = self._tables[tid]
            pos, (mt,) = self._switch([store])
            if mt is not None:
                store.flush_memtable(mt, pos)
        self.commitlog.discard_replayed()

    # --- schema -----------------------------------------------------------------------------------

    def create_table(self, keyspace: str, table: str, table_id: bytes,
                     options: TableOptions | None = None) -> None:
        """Create a table's directory (idempotent: an existing table only takes new options)."""
        self._check_open()
        with self._schema_lock:
            store = self._tables.get(table_id)
            if store is not None:
                if options is not None:
                    self.set_table_options(table_id, options)
                return
            tdir = descriptor.table_directory(self.path, keyspace, table, table_id)
            self.fs.makedirs(tdir)
            self.fs.sync_dir(f"{self.path}/data/{keyspace}")
            self.fs.sync_dir(f"{self.path}/data")
            store = TableStore(self, keyspace, table, table_id, tdir, options or TableOptions())
            store.write_meta()
            self._tables[table_id] = store

    def drop_table(self, table_id: bytes) -> None:
        """Forget a table and delete its directory (a crash midway finishes the drop at open)."""
        self._check_open()
        with self._schema_lock:
            store = self._store(table_id)
            with store.compaction_lock, store.flush_lock:
                self.fs.write_bytes(f"{store.directory}/{DROPPED_MARKER}", b"")
                self.fs.sync_dir(store.directory)
                del self._tables[table_id]
                store.dropped = True
                pos = self._barrier_position(lambda: store.clear())
                store.close_all()
                self.fs.rmtree(store.directory)
            self.commitlog.mark_clean(table_id, pos)

    def truncate(self, table_id: bytes) -> None:
        """Delete every row of a table (replay will not bring them back)."""
        self._check_open()
        store = self._store(table_id)
        with store.compaction_lock, store.flush_lock:
            def cut():
                store.truncated_at = tuple(self.commitlog.position())
                store.truncated_generation = store.next_generation - 1
                store.write_meta()
                store.clear()
            pos = self._barrier_position(cut)
        self.commitlog.mark_clean(table_id, pos)

    def set_table_options(self, table_id: bytes, options: TableOptions) -> None:
        self._check_open()
        store = self._store(table_id)
        store.options = options
        store.write_meta()
        if self.compactor is not None:
            self.compactor.wake()

    def tables(self) -> list[tuple[str, str, bytes]]:
        return sorted((s.keyspace, s.name, s.table_id) for s in self._tables.values())

    def _store(self, table_id: bytes) -> TableStore:
        store = self._tables.get(table_id)
        if store is None:
            raise InvalidRequest(f"unknown table id {table_id.hex()}")
        return store

    # --- writes -----------------------------------------------------------------------------------

    def apply(self, updates: Sequence[PartitionUpdate],
              trace: Callable[[str], None] | None = None) -> None:
        """Write one batch: one commit-log record, then the memtables.  Atomic per partition.
        ``trace(activity)``, when given, is told each step (query tracing)."""
        if self._failure is not None or self._closed:
            self._check_open()
        tables = self._tables
        work = []
        for u in updates:
            store = tables.get(u.table_id)
            if store is None:
                raise InvalidRequest(f"unknown table id {u.table_id.hex()}")
            if u.static_row is not None and not store.has_static:
                store.note_static()
            work.append((store, u, token_of(u.key)))
        lock = self._order_lock
        with lock:
            if self._switching:
                while self._switching:
                    self._order.wait()
            self._inflight += 1
        try:
            if trace is not None:
                trace("Appending to commitlog")
            self.commitlog.add(updates if type(updates) is list else list(updates))
            if trace is not None:
                for store in dict.fromkeys(w[0] for w in work):
                    trace(f"Adding to {store.name} memtable")
            for store, u, tok in work:
                store._view.memtable.apply(u, tok)
        finally:
            with lock:
                self._inflight -= 1
                if self._switching and not self._inflight:
                    self._order.notify_all()
        limit = self.options.memtable_flush_bytes
        for store, _u, _t in work:
            mt = store._view.memtable
            if mt.size >= limit and not mt.flush_requested:
                self._request_flush(store, mt)
            if len(store._view.flushing) >= self.options.max_pending_flushes:
                self._wait_for_flushes(store)

    def _request_flush(self, store: TableStore, mt) -> None:
        """Switch a full memtable now (writers go on into a fresh one) and queue its flush."""
        with store.lock:
            if mt.flush_requested:
                return
            mt.flush_requested = True
        self._switch([store], queue_flush=True)

    def _wait_for_flushes(self, store: TableStore) -> None:
        with self._flushed:
            while (len(store._view.flushing) >= self.options.max_pending_flushes
                   and self._failure is None and not self._closed):
                self._flushed.wait(0.1)

    def _switch(self, stores: Sequence[TableStore], queue_flush: bool = False,
                events: list | None = None):
        """Switch the stores' memtables behind the write barrier; returns (position, memtables).

        With ``queue_flush`` the flushes are queued inside the barrier too, so the flusher sees
        memtables in switch order (an SSTable's log position must cover every older memtable).
        ``events`` receives one Event per queued flush (set when it is done).
        """
        result = []

        def do():
            pos = self.commitlog.position()
            for s in stores:
                mt = s.switch_memtable()
                result.append(mt)
                if queue_flush:
                    ev = threading.Event() if events is not None else None
                    if ev is not None:
                        events.append(ev)
                    self._flush_queue.put((s, mt, pos, ev))
        pos = self._barrier_position(do)
        return pos, result

    def _barrier_position(self, action: Callable[[], None]):
        """Run ``action`` while no apply is in flight; returns the log position at that moment."""
        order = self._order
        with order:
            while self._switching:
                order.wait()
            self._switching = True
            try:
                while self._inflight:
                    order.wait()
                pos = self.commitlog.position()
                action()
            finally:
                self._switching = False
                order.notify_all()
        return pos

    # --- flushing ---------------------------------------------------------------------------------

    def flush(self, table_id: bytes | None = None) -> None:
        """Write the memtables of one table (or all) to SSTables; returns when they are on disk."""
        self._check_open()
        stores = list(self._tables.values()) if table_id is None else [self._store(table_id)]
        if not stores:
            return
        events: list = []
        self._switch(stores, queue_flush=True, events=events)
        for ev in events:
            while not ev.wait(0.1):
                if self._failure is not None:
                    break
        self._check_open()

    def _flush_loop(self) -> None:
        while True:
            task = self._flush_queue.get()
            if task is None:
                return
            store, mt, pos, ev = task
            try:
                if self._failure is None and not store.dropped:
                    with store.flush_lock:
                        # a memtable no longer in the view was truncated away: nothing to write
                        if mt is None or mt in store._view.flushing:
                            if mt is not None:
                                store.flush_memtable(mt, pos)
                            self.commitlog.mark_clean(store.table_id, pos)
                    if self.compactor is not None:
                        self.compactor.wake()
            except BaseException as e:            # the disk failed: refuse further writes
                self._failure = e
                log.exception("flush failed; the engine refuses writes from now on")
            finally:
                if ev is not None:
                    ev.set()
                with self._flushed:
                    self._flushed.notify_all()

    # --- reads ------------------------------------------------------------------------------------

    def read(self, table_id: bytes, key: bytes, slices: Sequence[Slice] = (FULL_SLICE,), *,
             reversed: bool = False, limit: int | None = None, now: int | None = None,
             tombstones: bool = False, trace: list | None = None,
             columns: Collection[str] | None = None) -> Partition | None:
        """The merged partition (live data only unless ``tombstones``); None if nothing is there.

        ``columns`` (optional): the regular columns the query needs; for a single-row read it lets
        the engine stop at the first SSTable older than a row that already has all of them.
        """
        store = self._tables.get(table_id)
        if store is None:
            raise InvalidRequest(f"unknown table id {table_id.hex()}")
        h = hash128(key)                     # once per read, not once per SSTable probed
        return store.read(key, token_of_hash(h), slices, reversed=reversed, limit=limit,
                          now=int(self.clock()) if now is None else now, tombstones=tombstones,
                          trace=trace, columns=columns, key_hash=h)

    def scan(self, table_id: bytes, start: tuple[int, bytes] | None = None,
             start_inclusive: bool = True, end_token: int | None = None, *,
             now: int | None = None, tombstones: bool = False) -> Iterator[Partition]:
        """Partitions in token order from ``start`` (a decorated key) to ``end_token`` inclusive."""
        store = self._store(table_id)
        return store.scan(start, start_inclusive, end_token,
                          now=int(self.clock()) if now is None else now, tombstones=tombstones)

    # --- compaction -------------------------------------------------------------------------------

    def compact(self, table_id: bytes | None = None) -> None:
        """Major compaction: merge all SSTables of one table (or of each table) into one."""
        self._check_open()
        stores = list(self._tables.values()) if table_id is None else [self._store(table_id)]
        for store in stores:
            with store.compaction_lock:
                inputs = list(store.live_sstables())
                if len(inputs) > 1 or (inputs and self._worth_recompacting(store, inputs[0])):
                    run_compaction(store, inputs, int(self.clock()))

    def _worth_recompacting(self, store: TableStore, h: SSTableHandle) -> bool:
        """A single SSTable is rewritten only if it holds tombstones or expiring data to purge."""
        return h.stats.min_local_deletion_time < 0xFFFFFFFF

    # --- information --------------------------------------------------------------------------------

    def max_timestamp(self, limit: int | None = None) -> int | None:
        """The newest write timestamp (µs) stored in any table (None: nothing stored), from each
        SSTable's Statistics and each memtable partition; with ``limit``, an SSTable or memtable
        partition whose newest timestamp is above it is left out.  One pass over the memtables:
        meant for open, where replay has just flushed them."""
        best = None
        for store in list(self._tables.values()):
            view = store.acquire()
            try:
                stamps = [h.max_ts for h in view.sstables if h.stats.partition_count]
                for mt in (view.memtable, *view.flushing):
                    stamps.extend(p.to_update(store.table_id).max_timestamp()
                                  for p in list(mt.partitions.values()))
            finally:
                store.release(view)
            for ts in stamps:
                if (limit is None or ts <= limit) and (best is None or ts > best):
                    best = ts
        return best

    def stats(self, table_id: bytes | None = None) -> dict:
        """Counters for monitoring (nodetool-style); one table's, or every table's plus totals."""
        if table_id is not None:
            out = self._table_stats(self._store(table_id))
            out["key_cache"] = self.key_cache.stats()
            return out
        tables = {f"{s.keyspace}.{s.name}": self._table_stats(s) for s in self._tables.values()}
        total = {k: sum(t[k] for t in tables.values())
                 for k in ("sstable_count", "sstable_bytes", "bloom_checks",
                           "bloom_false_positives", "pending_compactions", "memtable_bytes",
                           "pending_flushes")}
        cc = self.chunk_cache
        return {**total, "tables": tables, "key_cache": self.key_cache.stats(),
                "chunk_cache": {"bytes": cc.size, "capacity": cc.capacity, "hits": cc.hits,
                                "misses": cc.misses},
                "key_cache_hit_rate": self.key_cache.hit_rate,
                "commitlog": self.commitlog.stats() if self.commitlog else {},
                "replayed_records": self.replayed_records,
                "replayed_updates": self.replayed_updates,
                "compaction_running": bool(self.compactor and self.compactor.running),
                "compaction_error": repr(self.compactor.error) if self.compactor and
                self.compactor.error else None}

    def _table_stats(self, store: TableStore) -> dict:
        view = store.acquire()
        try:
            ssts = view.sstables
            sizes = [h.size for h in ssts]
            return {
                "keyspace": store.keyspace, "table": store.name,
                "sstable_count": len(ssts),
                "sstable_sizes": sorted(sizes, reverse=True),
                "sstable_bytes": sum(sizes),
                "bloom_checks": sum(h.reader.bloom_checks for h in ssts),
                "bloom_false_positives": sum(h.reader.bloom_false_positives for h in ssts),
                "pending_compactions": pending_compactions(list(ssts), sizes,
                                                           store.options.compaction),
                "compactions_completed": store.compactions_completed,
                "memtable_bytes": view.memtable.size + sum(m.size for m in view.flushing),
                "memtable_partitions": len(view.memtable),
                "pending_flushes": len(view.flushing),
                "key_cache_hit_rate": self.key_cache.hit_rate,
            }
        finally:
            store.release(view)

    # --- shutdown ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the engine is closed")
        if self._failure is not None:
            raise StorageError(f"the engine stopped after a storage failure: {self._failure!r}"
                               ) from self._failure

    def close(self) -> None:
        """Clean shutdown: flush every memtable, stop the threads, close the log, release the lock."""
        if self._closed:
            return
        try:
            if self.compactor is not None:
                self.compactor.stop()
            if self._failure is None:
                self.flush()
        finally:
            self._closed = True
            self._shutdown_quietly(clean=True)

    def abandon(self) -> None:
        """For crash tests: stop background threads and let go, as if the process died here.

        Nothing is flushed or synced; the folder lock is released, as the OS does for a dead process.
        """
        self._closed = True
        self._stop_background()
        if self.commitlog is not None:
            self.commitlog.abandon()
        if self._lock is not None:
            try:
                self._lock.release()
            except Exception:
                pass
            self._lock = None

    def _stop_background(self) -> None:
        """Stop the compaction and flush threads (a queued flush finishes first)."""
        if self.compactor is not None:
            self.compactor.stop()
        if self._flusher is not None:
            self._flush_queue.put(None)
            self._flusher.join()
            self._flusher = None

    def _shutdown_quietly(self, clean: bool = False) -> None:
        self._stop_background()
        if self.commitlog is not None:
            try:
                self.commitlog.close()
            except Exception:
                if clean and self._failure is None:
                    raise
        for store in self._tables.values():
            store.close_all()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
