"""The commit log: one per data folder, shared by all tables; durable before the memtable sees a write.

Files and byte layout: see ``commitlog_segment`` (``<data>/commitlog/CommitLog-<version>-<id>.log``,
fixed-size segments, records ``[u32 size][u32 crc32(size)][payload][u32 crc32(size+payload)]``).

Positions.  ``add`` returns ``CommitLogPosition(segment id, offset just past the record)`` and
``replay`` yields the same value for the same record.  ``position()`` is the end of the log.  A
record is covered by ``upto`` iff its position <= ``upto``; so a flush that took ``upto`` from
``position()`` (or from the largest position it applied) covers every record added before.

Sync modes.
- ``periodic`` (default): ``add`` hands the record to the OS (one ``write``, so a killed process
  loses nothing) and returns; a background thread fsyncs every ``sync_period_ms``.  A power loss
  can lose what was written since the last fsync.
- ``batch``: ``add`` returns only once an fsync covering its record has finished.  Group commit:
  writers append under the log's lock (cheap: one ``write``), join the current *round*
  and wait on it; the sync thread takes everything written so far, opens the next round, fsyncs
  outside the lock and then sets the finished round, waking exactly the writers it covered.  The
  records appended during that fsync are all covered by the next one, so 16 writers share fsyncs.
Both modes use one sync thread; ``sync()`` asks it for an fsync now and waits for it.  An I/O
error makes the log unusable (every later call raises ``StorageError`` naming the cause).
A record larger than half a segment is refused with ``MutationTooLarge`` (Cassandra's rule).

Segment lifecycle and dirty tracking.  Each segment keeps ``dirty``: table id -> position of the
last record for that table in it.  ``mark_clean(table, upto)`` drops the table from every segment
whose records for it are all <= ``upto``.  A segment that is not the active one, has been fully
read (written by this process, or replayed), and has no dirty table left is deleted.  A new
segment starts when the next record would not fit in the active one; the old one is fsynced and
closed first.
Across restarts: the log never appends to old segments; it opens a fresh active segment with a
larger id.  ``replay()`` reads the old segments and fills their dirty maps from the records it
yields, so once the engine has flushed the replayed data and called ``mark_clean`` for each table
(e.g. with the post-replay flush position), the old segments are deleted like any other.  Records
of tables the engine no longer has would keep a segment forever, so the engine can instead call
``discard_replayed()`` once everything replayed is flushed: it deletes every replayed segment.
Segments never replayed (``replay`` not called, or abandoned midway) are never deleted.
``close()`` syncs, and deletes the active segment too if no table is dirty in it (clean shutdown).
``abandon()`` (crash tests) stops the sync thread without syncing, as if the process died.

Segment ids: ``max(wall clock in microseconds, largest id on disk + 1, min_segment_id)`` at open,
then +1 per segment, so they grow across restarts (the engine may pass ``min_segment_id`` above
any position its SSTables recorded, against a clock set back).  ``clock`` only times fsyncs for
``stats()``; the sync period runs on real time.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable, Iterator, NamedTuple

from ..errors import InvalidRequest, StorageError
from .commitlog_segment import (FORMAT_VERSION, HEADER_SIZE, RECORD_OVERHEAD, Reporter,
                                encode_header, encode_payload, frame_record,
                                parse_segment_file_name, read_segment, segment_file_name)
from .fs import FileSystem, WritableFile
from .rows import PartitionUpdate

__all__ = ["CommitLog", "CommitLogPosition", "LoggingReporter", "MutationTooLarge", "Reporter"]

log = logging.getLogger(__name__)

SYNC_MODES = ("periodic", "batch")
MIN_SEGMENT_SIZE = 4096


class CommitLogPosition(NamedTuple):
    """A point in the log; ordered (segment ids grow, offsets grow within a segment)."""

    segment_id: int
    offset: int


class MutationTooLarge(InvalidRequest):
    """A record bigger than half a commit-log segment."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Mutation of {size} bytes is too large for the maximum size of {limit}")
        self.size, self.limit = size, limit


class LoggingReporter:
    """The default Reporter: logs each problem as a warning and remembers it."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, int, int, str]] = []

    def corruption(self, path: str, offset: int, nbytes: int, reason: str) -> None:
        self.problems.append((path, offset, nbytes, reason))
        log.warning("commit log %s at offset %d (%d bytes): %s", path, offset, nbytes, reason)


class _Round:
    """The writers waiting for one fsync: each blocks on its own lock, so waking them is parallel."""

    __slots__ = ("waiters", "released")

    def __init__(self) -> None:
        self.waiters: list = []
        self.released = False

    def join(self) -> threading.Lock | None:
        """A held lock the caller blocks on until ``release`` (None if already released)."""
        if self.released:
            return None
        waiter = threading.Lock()
        waiter.acquire()
        self.waiters.append(waiter)
        return waiter

    def release(self) -> None:
        self.released = True
        for waiter in self.waiters:
            waiter.release()
        self.waiters = []


class _Segment:
    __slots__ = ("id", "path", "file", "offset", "dirty", "readable")

    def __init__(self, segment_id: int, path: str, file: WritableFile | None, offset: int,
                 readable: bool) -> None:
        self.id, self.path, self.file, self.offset = segment_id, path, file, offset
        self.dirty: dict[bytes, int] = {}        # table id -> offset just past its last record here
        self.readable = readable                 # dirty map is complete (own segment, or replayed)


class CommitLog:
    """See the module docstring."""

    def __init__(self, fs: FileSystem, directory: str, *, sync: str = "periodic",
                 sync_period_ms: int = 1000, segment_size: int = 32 * 1024 * 1024,
                 reporter: Reporter | None = None, clock: Callable[[], float] = time.monotonic,
                 min_segment_id: int = 0) -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"commit log sync must be one of {SYNC_MODES}, not {sync!r}")
        if segment_size < MIN_SEGMENT_SIZE:
            raise ValueError(f"commit log segment size must be at least {MIN_SEGMENT_SIZE}")
        self.fs, self.directory, self.sync_mode = fs, directory, sync
        self.segment_size = segment_size
        self.max_record_size = segment_size // 2          # framed bytes, like max_mutation_size
        self.sync_period = sync_period_ms / 1000.0
        self.reporter: Reporter = reporter if reporter is not None else LoggingReporter()
        self._clock = clock
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)   # wakes the sync thread
        self._idle = threading.Condition(self._lock)   # a running fsync finished
        self._round = _Round()       # released when the next fsync to start finishes
        self._urgent = False         # a writer or sync() waits: fsync now, not at the period's end
        self._written = 0            # records appended (tickets)
        self._synced = 0             # records covered by a finished fsync
        self._syncing = False        # the sync thread is inside an fsync
        self._failure: BaseException | None = None
        self._closed = False
        self._abandoned = False      # crash tests: the "process" died; sync nothing more
        self.syncs = 0               # fsyncs of segment data (for stats and tests)
        self.last_sync_seconds = 0.0

        fs.makedirs(directory)
        self._segments: dict[int, _Segment] = {}       # every segment on disk we know, by id
        for name in fs.listdir(directory):
            parsed = parse_segment_file_name(name)
            if parsed is not None:
                sid = parsed[1]
                self._segments[sid] = _Segment(sid, os.path.join(directory, name), None, 0, False)
        self._old_ids = sorted(self._segments)
        self._next_id = max(time.time_ns() // 1000, min_segment_id,
                            (self._old_ids[-1] + 1) if self._old_ids else 0)
        self._active = self._new_segment()
        self._thread = threading.Thread(target=self._sync_loop, name="commitlog-sync", daemon=True)
        self._thread.start()

    # --- writing ---------------------------------------------------------------------------------

    def add(self, updates: list[PartitionUpdate]) -> CommitLogPosition:
        """Append one record; see the module docstring for when it returns."""
        record = frame_record(encode_payload(updates))
        if len(record) > self.max_record_size:
            raise MutationTooLarge(len(record) - RECORD_OVERHEAD, self.max_record_size - RECORD_OVERHEAD)
        tables = {u.table_id for u in updates}
        with self._lock:
            self._check_usable()
            seg = self._active
            while seg.offset + len(record) > self.segment_size:
                seg = self._roll_over(seg)
            try:
                seg.file.write(record)
                if self.sync_mode != "batch":       # batch: the sync thread writes it out at once
                    seg.file.flush()
            except BaseException as e:
                self._fail(e)
                raise
            seg.offset += len(record)
            pos = CommitLogPosition(seg.id, seg.offset)
            dirty = seg.dirty
            for t in tables:
                dirty[t] = seg.offset
            self._written += 1
            if self.sync_mode != "batch":
                return pos
            ticket, done = self._written, self._request_sync()
        self._await(ticket, done)
        return pos

    def sync(self) -> None:
        """Return once everything added so far is on disk."""
        with self._lock:
            self._check_usable()
            if self._synced >= self._written:
                return
            ticket, done = self._written, self._request_sync()
        self._await(ticket, done)

    def position(self) -> CommitLogPosition:
        """The end of the log: every record added so far is <= this."""
        with self._lock:
            return CommitLogPosition(self._active.id, self._active.offset)

    def _request_sync(self) -> threading.Lock | None:
        """Ask the sync thread for an fsync now (lock held); returns a lock to block on until it is done."""
        if not self._urgent:
            self._urgent = True
            self._work.notify()
        return self._round.join()

    def _await(self, ticket: int, waiter: threading.Lock | None) -> None:
        if waiter is not None:
            waiter.acquire()                    # released by the sync thread (or a failure)
        if self._synced < ticket:
            with self._lock:
                self._check_usable()
                raise StorageError("commit log closed before the record was synced")

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise StorageError(f"commit log unusable after an I/O failure: {self._failure!r}") \
                from self._failure
        if self._closed:
            raise StorageError("commit log is closed")

    def _fail(self, exc: BaseException) -> None:
        """Make the log unusable (lock held) and release everyone waiting for a sync."""
        if self._failure is None:
            self._failure = exc
            log.error("commit log failed: %r", exc)
        self._round.release()
        self._round = _Round()
        self._idle.notify_all()

    def _covered(self) -> None:
        """Everything written so far is synced (lock held): release its waiters."""
        self._synced = self._written
        done, self._round = self._round, _Round()
        done.release()

    def _sync_loop(self) -> None:
        """The sync thread: fsync on demand (batch, sync()) or every period, until closed."""
        clock, period = time.monotonic, self.sync_period   # real time: an injected clock may stand still
        with self._lock:
            due = clock() + period
            while True:
                if not self._urgent and not self._closed:
                    if self.sync_mode == "batch":
                        self._work.wait()
                        continue
                    left = due - clock()
                    if left > 0:
                        self._work.wait(min(left, period))
                        continue
                self._urgent = False
                due = clock() + period
                if self._failure is not None or self._abandoned:
                    return
                if self._written > self._synced:
                    target, file = self._written, self._active.file
                    done, self._round = self._round, _Round()
                    self._syncing = True
                    start = self._clock()
                    self._lock.release()
                    try:
                        file.sync()
                    except BaseException as e:
                        self._lock.acquire()
                        self._syncing = False
                        done.release()
                        self._fail(e)
                        return
                    self._lock.acquire()
                    self._syncing = False
                    self.syncs += 1
                    self.last_sync_seconds = self._clock() - start
                    self._synced = max(self._synced, target)
                    done.release()
                    self._idle.notify_all()
                elif self._closed:
                    return

    # --- segments --------------------------------------------------------------------------------

    def _new_segment(self) -> _Segment:
        sid = self._next_id
        self._next_id += 1
        path = os.path.join(self.directory, segment_file_name(sid))
        f = self.fs.create(path)
        try:
            f.write(encode_header(sid))
            f.sync()
            self.fs.sync_dir(self.directory)
        except BaseException:
            f.close()
            raise
        seg = self._segments[sid] = _Segment(sid, path, f, HEADER_SIZE, True)
        return seg

    def _roll_over(self, full: _Segment) -> _Segment:
        """Close the full active segment and start a new one (lock held)."""
        while self._syncing:
            self._idle.wait()
        self._check_usable()
        if self._active is not full:           # another writer rolled over while we waited
            return self._active
        try:
            full.file.sync()
            full.file.close()
            self.syncs += 1
            self._covered()
            full.file = None
            self._active = self._new_segment()
        except BaseException as e:
            self._fail(e)
            raise
        self._delete_clean()
        return self._active

    def mark_clean(self, table_id: bytes, upto: CommitLogPosition) -> None:
        """The table has flushed every record <= ``upto``; delete segments nothing needs any more."""
        with self._lock:
            for seg in self._segments.values():
                last = seg.dirty.get(table_id)
                if last is not None and (seg.id < upto.segment_id or
                                         (seg.id == upto.segment_id and last <= upto.offset)):
                    del seg.dirty[table_id]
            self._delete_clean()

    def discard_replayed(self) -> None:
        """Everything ``replay`` yielded is flushed: delete every replayed segment."""
        with self._lock:
            for seg in self._segments.values():
                if seg.file is None and seg.readable and seg.id in self._old_ids:
                    seg.dirty.clear()
            self._delete_clean()

    def _delete_clean(self) -> None:
        """Delete every finished segment no table is dirty in (lock held).

        An OS error leaves the segment for a later try (it is only replayed again, harmlessly).
        """
        removed = False
        for seg in list(self._segments.values()):
            if seg is not self._active and seg.readable and not seg.dirty:
                try:
                    if self.fs.exists(seg.path):
                        self.fs.remove(seg.path)
                        removed = True
                except OSError as e:
                    log.warning("cannot delete commit log segment %s: %s", seg.path, e)
                    continue
                del self._segments[seg.id]
        if removed:
            try:
                self.fs.sync_dir(self.directory)
            except OSError as e:
                log.warning("cannot sync directory %s: %s", self.directory, e)

    def segments(self) -> list[tuple[int, str, list[bytes]]]:
        """``(segment id, path, dirty table ids)`` of every live segment, oldest first."""
        with self._lock:
            return [(s.id, s.path, sorted(s.dirty)) for _, s in sorted(self._segments.items())]

    def stats(self) -> dict:
        with self._lock:
            return {"segments": len(self._segments), "active_segment": self._active.id,
                    "records": self._written, "synced_records": self._synced,
                    "syncs": self.syncs, "sync_mode": self.sync_mode,
                    "last_sync_ms": self.last_sync_seconds * 1000.0}

    # --- replay ------------------------------------------------------------------------------------

    def replay(self) -> Iterator[tuple[CommitLogPosition, list[PartitionUpdate]]]:
        """Every valid record of the segments found at open, oldest first; problems go to the reporter."""
        for sid in self._old_ids:
            with self._lock:
                seg = self._segments.get(sid)
            if seg is None or not self.fs.exists(seg.path):
                continue
            version = parse_segment_file_name(os.path.basename(seg.path))[0]
            if version != FORMAT_VERSION:
                self.reporter.corruption(seg.path, 0, self.fs.size(seg.path),
                                         f"unsupported commit log version {version}; kept, not replayed")
                continue
            data = self.fs.read_bytes(seg.path)
            for end, updates in read_segment(seg.path, data, sid, self.reporter):
                with self._lock:
                    for u in updates:
                        seg.dirty[u.table_id] = end
                yield CommitLogPosition(sid, end), updates
            with self._lock:
                seg.readable = True

    # --- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Sync and close; the active segment is deleted if no table is dirty in it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._work.notify()
        self._thread.join()                    # it syncs what is pending before it stops
        with self._lock:
            seg = self._active
            if self._failure is not None or seg.file is None:
                return
            try:
                if self._synced < self._written:
                    seg.file.sync()
                    self.syncs += 1
                    self._covered()
                seg.file.close()
                seg.file = None
                if not seg.dirty:
                    self.fs.remove(seg.path)
                    del self._segments[seg.id]
                    self.fs.sync_dir(self.directory)
            except BaseException as e:
                self._fail(e)
                raise

    def abandon(self) -> None:
        """For crash tests: stop the sync thread and let go without syncing, as if the process died."""
        with self._lock:
            self._closed = self._abandoned = True
            self._work.notify()
            done, self._round = self._round, _Round()
            done.release()                      # waiters find their record unsynced and raise
        self._thread.join()

    @property
    def _stop(self):
        """Compatibility shim for callers that did ``commitlog._stop.set()``: use ``abandon()``."""
        log_ = self

        class _Stopper:
            def set(self) -> None:
                log_.abandon()
        return _Stopper()

    def __enter__(self) -> "CommitLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
