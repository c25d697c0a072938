"""The memtable: one table's recent writes in memory, sorted by (token, key) and clustering bytes.

Shape (notes B3): a dict key -> MemPartition, each holding its rows in a SortedDict keyed by
clustering bytes, plus a SortedList of decorated keys (token, key) for token-order scans and flush.
Rows stored here are never mutated: a write that hits an existing row stores ``old.merge(new)``,
so a reader holding a Row keeps a consistent version.  Callers must not mutate a PartitionUpdate's
rows after handing it to ``apply``.

Concurrency: writers hold ``lock`` for one partition update, so a partition update is atomic for
readers that take ``lock`` too.  Readers of a *live* memtable copy rows out under the lock in
batches (``ROW_BATCH``), so a LIMIT read of a wide partition copies only what it consumes.  Once a
memtable is frozen (switched out for flushing) nobody writes it and reads skip the lock.
"""
from __future__ import annotations

import threading
from itertools import islice
from typing import Iterator

from sortedcontainers import SortedDict, SortedList

from .rows import (FULL_SLICE, Cell, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice,
                   later_deletion)

ROW_BATCH = 512
"""Rows copied per lock hold when reading a live memtable."""

_PARTITION_OVERHEAD = 160
_ROW_OVERHEAD = 96
_CELL_OVERHEAD = 56


def row_size(row: Row) -> int:
    """Approximate bytes a row takes in memory (what memtable_flush_bytes is compared with)."""
    size = _ROW_OVERHEAD + len(row.clustering)
    for name, data in row.columns.items():
        if type(data) is Cell:
            v = data.value
            size += _CELL_OVERHEAD + len(name) + (len(v) if v is not None else 0)
        else:
            size += _CELL_OVERHEAD + len(name)
            for path, cell in data.cells.items():
                v = cell.value
                size += _CELL_OVERHEAD + len(path) + (len(v) if v is not None else 0)
    return size


class MemPartition:
    """One partition in a memtable; offers the same read interface as an SSTable partition."""

    __slots__ = ("key", "token", "deletion", "range_tombstones", "static_row", "_rows",
                 "_memtable")

    def __init__(self, key: bytes, token: int, memtable: "Memtable") -> None:
        self.key = key
        self.token = token
        self.deletion: DeletionTime | None = None
        self.range_tombstones: list[RangeTombstone] = []
        self.static_row: Row | None = None
        self._rows: SortedDict = SortedDict()
        self._memtable = memtable

    def __len__(self) -> int:
        return len(self._rows)

    def point_row(self, clustering: bytes) -> Row | None:
        """The row ``clustering``, or None (a single-row read)."""
        with self._memtable.lock:
            return self._rows.get(clustering)

    def rows(self, slice: Slice = FULL_SLICE, reversed: bool = False) -> Iterator[Row]:
        """Rows in ``slice`` in clustering order (or reversed), copied out in batches."""
        rows = self._rows
        start, end = slice.start, slice.end
        if start is not None and start == end:          # a single clustering: no range walk
            if slice.start_inclusive and slice.end_inclusive:
                lock = self._memtable.lock
                with lock:
                    row = rows.get(start)
                if row is not None:
                    yield row
            return
        frozen = self._memtable.frozen
        lock = self._memtable.lock
        lo_inc, hi_inc = slice.start_inclusive, slice.end_inclusive
        while True:
            if frozen:
                keys = rows.irange(start, end, (lo_inc, hi_inc), reversed)
                for c in keys:
                    yield rows[c]
                return
            with lock:
                keys = list(islice(rows.irange(start, end, (lo_inc, hi_inc), reversed),
                                   ROW_BATCH))
                batch = [rows[c] for c in keys]
            yield from batch
            if len(keys) < ROW_BATCH:
                return
            if reversed:
                end, hi_inc = keys[-1], False
            else:
                start, lo_inc = keys[-1], False

    def all_rows(self) -> list[Row]:
        with self._memtable.lock:
            return list(self._rows.values())

    def to_update(self, table_id: bytes) -> PartitionUpdate:
        """Everything this partition holds (rows in clustering order)."""
        with self._memtable.lock:
            rows = dict(self._rows.items())
            return PartitionUpdate(table_id, self.key, self.deletion, list(self.range_tombstones),
                                   self.static_row, rows)


class Memtable:
    """A sorted in-memory table of partitions; see the module docstring."""

    def __init__(self, table_id: bytes) -> None:
        self.table_id = table_id
        self.lock = threading.Lock()
        self.partitions: dict[bytes, MemPartition] = {}
        self.keys: SortedList = SortedList()          # (token, key)
        self.size = 0                                 # approximate bytes
        self.frozen = False
        self.flush_requested = False
        self.operations = 0

    def __len__(self) -> int:
        return len(self.partitions)

    def apply(self, update: PartitionUpdate, token: int) -> None:
        """Fold one partition update in (atomically for readers that take ``lock``)."""
        key = update.key
        with self.lock:
            p = self.partitions.get(key)
            size = 0
            if p is None:
                p = self.partitions[key] = MemPartition(key, token, self)
                self.keys.add((token, key))
                size += _PARTITION_OVERHEAD + len(key)
            if update.deletion is not None:
                p.deletion = later_deletion(p.deletion, update.deletion)
            if update.range_tombstones:
                p.range_tombstones = p.range_tombstones + update.range_tombstones
                size += 64 * len(update.range_tombstones)
            if update.static_row is not None:
                old = p.static_row
                p.static_row = update.static_row if old is None else old.merge(update.static_row)
                size += row_size(update.static_row)
            rows = p._rows
            for c, row in update.rows.items():
                old = rows.get(c)
                rows[c] = row if old is None else old.merge(row)
                size += row_size(row)
            self.size += size
            self.operations += 1

    def get(self, key: bytes) -> MemPartition | None:
        return self.partitions.get(key)

    def scan(self, start: tuple[int, bytes] | None = None, start_inclusive: bool = True,
             end_token: int | None = None) -> Iterator[MemPartition]:
        """Partitions in token order from ``start`` up to ``end_token`` (inclusive)."""
        keys = self.keys
        lo, inc = start, start_inclusive
        while True:
            with self.lock:
                if lo is None:
                    batch = list(islice(keys, ROW_BATCH))
                else:
                    batch = list(islice(keys.irange(lo, None, (inc, True)), ROW_BATCH))
                parts = [self.partitions[k[1]] for k in batch]
            for dk, p in zip(batch, parts):
                if end_token is not None and dk[0] > end_token:
                    return
                yield p
            if len(batch) < ROW_BATCH:
                return
            lo, inc = batch[-1], False

    def freeze(self) -> None:
        """No more writes: readers may skip the lock from now on."""
        with self.lock:
            self.frozen = True

    def sorted_updates(self) -> Iterator[tuple[int, PartitionUpdate]]:
        """(token, update) in token order, rows in clustering order: what a flush writes."""
        for token, key in list(self.keys):
            yield token, self.partitions[key].to_update(self.table_id)
