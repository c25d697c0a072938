"""The engine's data model: cells, rows, deletions and partition updates, and how they reconcile.

The engine stores bytes and knows nothing of CQL.  A partition is found by its key bytes and holds
an optional static row and rows ordered by clustering bytes (compared as plain bytes: the layer
above encodes clustering values so that byte order is CQL order).  Columns are named by ``str``.

A regular column holds one ``Cell``.  A non-frozen collection is a ``ComplexColumn``: one cell per
element, keyed by a *path* (bytes, also compared as bytes), plus an optional collection deletion.

Reconciliation is Cassandra's:
  * of two cells the higher timestamp wins; on a tie a tombstone wins over a live cell; between two
    tombstones the later local deletion time wins; between live cells an expiring one wins over a
    non-expiring one, then the later expiry, then the greater value (bytes order);
  * a deletion (partition, range, row or collection) with timestamp T shadows every cell, row marker
    and narrower deletion whose timestamp is <= T.

Times: ``timestamp`` is the write time in microseconds; ``local_deletion_time`` is in seconds since
the epoch: when a tombstone was written, or when an expiring cell expires (write time + ttl).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

NO_EXPIRY = 0xFFFFFFFF
"""local_deletion_time of a live cell that never expires."""


@dataclass(frozen=True, slots=True)
class DeletionTime:
    """A tombstone's time: data written at or before ``timestamp`` is deleted."""

    timestamp: int
    local_deletion_time: int

    def deletes(self, timestamp: int) -> bool:
        return timestamp <= self.timestamp

    def supersedes(self, other: "DeletionTime | None") -> bool:
        return other is None or self.timestamp > other.timestamp or (
            self.timestamp == other.timestamp
            and self.local_deletion_time > other.local_deletion_time)


def later_deletion(a: DeletionTime | None, b: DeletionTime | None) -> DeletionTime | None:
    """The deletion that covers more (the higher timestamp), either may be None."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a.supersedes(b) or a == b else b


@dataclass(frozen=True, slots=True)
class Cell:
    """One value with its write time.  ``value is None`` makes it a tombstone.

    ``ttl`` is 0 for a cell that does not expire.  A row marker (the liveness of a row written by
    INSERT) is a Cell whose value is ``b""``.
    """

    value: bytes | None
    timestamp: int
    ttl: int = 0
    local_deletion_time: int = NO_EXPIRY

    @property
    def is_tombstone(self) -> bool:
        return self.value is None

    @property
    def is_expiring(self) -> bool:
        return self.ttl > 0 and self.value is not None

    def is_live(self, now: int) -> bool:
        """Live at ``now`` (seconds): not a tombstone and not expired."""
        return self.value is not None and (self.ttl == 0 or now < self.local_deletion_time)


def tombstone(timestamp: int, now: int) -> Cell:
    return Cell(None, timestamp, 0, now)


def expiring(value: bytes, timestamp: int, ttl: int, now: int) -> Cell:
    return Cell(value, timestamp, ttl, now + ttl)


def reconcile(a: Cell, b: Cell) -> Cell:
    """The cell that wins when two versions of the same cell meet."""
    if a.timestamp != b.timestamp:
        return a if a.timestamp > b.timestamp else b
    a_dead, b_dead = a.value is None, b.value is None
    if a_dead != b_dead:
        return a if a_dead else b
    if a_dead:
        return a if a.local_deletion_time >= b.local_deletion_time else b
    if (a.ttl > 0) != (b.ttl > 0):
        return a if a.ttl > 0 else b
    if a.local_deletion_time != b.local_deletion_time:
        return a if a.local_deletion_time > b.local_deletion_time else b
    return a if a.value >= b.value else b  # type: ignore[operator]


@dataclass(slots=True)
class ComplexColumn:
    """A non-frozen collection: element cells by path, and the deletion of older elements."""

    deletion: DeletionTime | None = None
    cells: dict[bytes, Cell] = field(default_factory=dict)

    def merge(self, other: "ComplexColumn") -> "ComplexColumn":
        cells = dict(self.cells)
        for path, cell in other.cells.items():
            mine = cells.get(path)
            cells[path] = cell if mine is None else reconcile(mine, cell)
        return ComplexColumn(later_deletion(self.deletion, other.deletion), cells)


ColumnData = Cell | ComplexColumn


@dataclass(slots=True)
class Row:
    """A row: its clustering bytes (``b""`` for the static row and for tables without clustering
    columns), its marker, its row deletion, and its columns."""

    clustering: bytes
    marker: Cell | None = None
    deletion: DeletionTime | None = None
    columns: dict[str, ColumnData] = field(default_factory=dict)

    def merge(self, other: "Row") -> "Row":
        """Both versions of the same row combined (neither argument is changed)."""
        marker = self.marker
        if other.marker is not None:
            marker = other.marker if marker is None else reconcile(marker, other.marker)
        columns = dict(self.columns)
        for name, data in other.columns.items():
            mine = columns.get(name)
            if mine is None:
                columns[name] = data
            elif isinstance(data, Cell):
                columns[name] = reconcile(mine, data) if isinstance(mine, Cell) else data
            else:
                columns[name] = mine.merge(data) if isinstance(mine, ComplexColumn) else data
        return Row(self.clustering, marker, later_deletion(self.deletion, other.deletion), columns)

    def timestamps(self) -> Iterator[int]:
        """The write time of everything in the row: cells, marker, row and collection deletions."""
        yield from (c.timestamp for c in self.iter_cells())
        if self.marker is not None:
            yield self.marker.timestamp
        if self.deletion is not None:
            yield self.deletion.timestamp
        for data in self.columns.values():
            if isinstance(data, ComplexColumn) and data.deletion is not None:
                yield data.deletion.timestamp

    def max_timestamp(self) -> int:
        return max(self.timestamps(), default=-(1 << 63))

    def min_timestamp(self) -> int:
        return min(self.timestamps(), default=(1 << 63) - 1)

    def iter_cells(self) -> Iterator[Cell]:
        for data in self.columns.values():
            if isinstance(data, Cell):
                yield data
            else:
                yield from data.cells.values()


@dataclass(frozen=True, slots=True)
class Slice:
    """A clustering range compared as bytes; ``None`` is unbounded on that side."""

    start: bytes | None = None
    start_inclusive: bool = True
    end: bytes | None = None
    end_inclusive: bool = True

    def contains(self, clustering: bytes) -> bool:
        s, e = self.start, self.end
        if s is not None and (clustering < s or (clustering == s and not self.start_inclusive)):
            return False
        if e is not None and (clustering > e or (clustering == e and not self.end_inclusive)):
            return False
        return True

    def is_empty(self) -> bool:
        s, e = self.start, self.end
        if s is None or e is None:
            return False
        return s > e or (s == e and not (self.start_inclusive and self.end_inclusive))


FULL_SLICE = Slice()


@dataclass(frozen=True, slots=True)
class RangeTombstone:
    """Deletes every row whose clustering falls inside ``slice`` (not the static row)."""

    slice: Slice
    deletion: DeletionTime


@dataclass(slots=True)
class PartitionUpdate:
    """Everything one mutation (or one merged read) says about one partition of one table.

    ``rows`` maps clustering bytes to rows; it is not kept sorted (use ``sorted_rows``).
    Applied atomically: the commit log records a whole update as one record.
    """

    table_id: bytes
    key: bytes
    deletion: DeletionTime | None = None
    range_tombstones: list[RangeTombstone] = field(default_factory=list)
    static_row: Row | None = None
    rows: dict[bytes, Row] = field(default_factory=dict)

    def add_row(self, row: Row) -> None:
        mine = self.rows.get(row.clustering)
        self.rows[row.clustering] = row if mine is None else mine.merge(row)

    def merge(self, other: "PartitionUpdate") -> None:
        """Fold ``other`` (same partition) into this update, in place."""
        self.deletion = later_deletion(self.deletion, other.deletion)
        self.range_tombstones.extend(other.range_tombstones)
        if other.static_row is not None:
            self.static_row = (other.static_row if self.static_row is None
                               else self.static_row.merge(other.static_row))
        for row in other.rows.values():
            self.add_row(row)

    def sorted_rows(self) -> list[Row]:
        return [self.rows[c] for c in sorted(self.rows)]

    def is_empty(self) -> bool:
        return (self.deletion is None and not self.range_tombstones and self.static_row is None
                and not self.rows)

    def timestamps(self) -> Iterator[int]:
        """The write time of everything in the update."""
        for row in self.rows.values():
            yield from row.timestamps()
        if self.static_row is not None:
            yield from self.static_row.timestamps()
        if self.deletion is not None:
            yield self.deletion.timestamp
        yield from (rt.deletion.timestamp for rt in self.range_tombstones)

    def max_timestamp(self) -> int:
        return max(self.timestamps(), default=-(1 << 63))

    def min_timestamp(self) -> int:
        return min(self.timestamps(), default=(1 << 63) - 1)


def covering_deletion(deletion: DeletionTime | None, tombstones: Iterable[RangeTombstone],
                      clustering: bytes) -> DeletionTime | None:
    """The strongest of the partition deletion and the range tombstones covering ``clustering``."""
    best = deletion
    for rt in tombstones:
        if rt.slice.contains(clustering):
            best = later_deletion(best, rt.deletion)
    return best


def live_row(row: Row, shadow: DeletionTime | None, now: int) -> Row | None:
    """``row`` with everything deleted or expired at ``now`` removed; None if nothing is left.

    ``shadow`` is the strongest partition/range deletion covering the row.  The result holds only
    live cells and a live marker (if any): what a query may show.
    """
    shadow = later_deletion(shadow, row.deletion)
    marker = row.marker
    if marker is not None and ((shadow is not None and shadow.deletes(marker.timestamp))
                               or not marker.is_live(now)):
        marker = None
    columns: dict[str, ColumnData] = {}
    for name, data in row.columns.items():
        if isinstance(data, Cell):
            if data.is_live(now) and (shadow is None or not shadow.deletes(data.timestamp)):
                columns[name] = data
        else:
            inner = later_deletion(shadow, data.deletion)
            cells = {p: c for p, c in data.cells.items()
                     if c.is_live(now) and (inner is None or not inner.deletes(c.timestamp))}
            if cells:
                columns[name] = ComplexColumn(None, dict(sorted(cells.items())))
    if marker is None and not columns:
        return None
    return Row(row.clustering, marker, None, columns)
