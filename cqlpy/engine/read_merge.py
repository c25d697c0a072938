"""Merging what several sources (memtables, SSTables) hold for a partition, cell by cell.

A *source partition* is anything with ``key``, ``token``, ``deletion``, ``range_tombstones``,
``static_row`` and ``rows(slice, reversed)`` (a lazy iterator in clustering order, or reversed):
``memtable.MemPartition`` and ``sstable_reader.SSTablePartition`` both are.

* ``merge_rows`` merges row iterators lazily with ``heapq.merge`` and folds equal clusterings with
  ``Row.merge`` (so LIMIT 10 on a 100,000-row partition decodes only the rows it needs);
* ``resolve`` applies deletions (partition, range, row, cell; expired TTL cells) and LIMIT to give
  the ``Partition`` a query sees; with ``tombstones=True`` it keeps deletions (for read repair);
* ``strip_row`` is the shared rule "drop what a deletion shadows" used by reads and by compaction
  (which also turns expired cells into tombstones and purges tombstones past gc_grace);
* ``merge_scans`` merges partition iterators from several sources by decorated key (token, key).
"""
from __future__ import annotations

import heapq
from operator import attrgetter
from typing import Callable, Iterable, Iterator, Sequence

from .rows import (FULL_SLICE, Cell, ComplexColumn, DeletionTime, RangeTombstone, Row, Slice,
                   covering_deletion, later_deletion, live_row)

_clustering = attrgetter("clustering")


class Partition:
    """A merged partition as a query sees it.

    ``rows`` are in query order (reversed for a reversed read).  ``deletion`` and
    ``range_tombstones`` are filled only when the read asked for tombstones.
    """

    __slots__ = ("key", "token", "static_row", "rows", "deletion", "range_tombstones")

    def __init__(self, key: bytes, token: int, static_row: Row | None, rows: list[Row],
                 deletion: DeletionTime | None = None,
                 range_tombstones: list[RangeTombstone] | None = None) -> None:
        self.key = key
        self.token = token
        self.static_row = static_row
        self.rows = rows
        self.deletion = deletion
        self.range_tombstones = range_tombstones if range_tombstones is not None else []

    def __repr__(self) -> str:
        return (f"Partition(key={self.key!r}, rows={len(self.rows)}, static={self.static_row is not None},"
                f" deletion={self.deletion})")


def merge_rows(iters: Sequence[Iterator[Row]], reversed: bool = False) -> Iterator[Row]:
    """One iterator of rows in clustering order (or reversed), equal clusterings merged."""
    if len(iters) == 1:
        yield from iters[0]
        return
    prev = None
    for row in heapq.merge(*iters, key=_clustering, reverse=reversed):
        if prev is None:
            prev = row
        elif row.clustering == prev.clustering:
            prev = prev.merge(row)
        else:
            yield prev
            prev = row
    if prev is not None:
        yield prev


def _purgeable(ts: int, ldt: int, gc_before: int | None, max_purgeable: int) -> bool:
    return gc_before is not None and ldt < gc_before and ts < max_purgeable


def strip_cell(cell: Cell, shadow: DeletionTime | None, now: int | None,
               gc_before: int | None, max_purgeable: int) -> Cell | None:
    if shadow is not None and cell.timestamp <= shadow.timestamp:
        return None
    if now is not None and cell.ttl and cell.value is not None and now >= cell.local_deletion_time:
        # an expired cell is a tombstone written when the cell was (expiry - ttl)
        cell = Cell(None, cell.timestamp, 0, cell.local_deletion_time - cell.ttl)
    if cell.value is None and _purgeable(cell.timestamp, cell.local_deletion_time, gc_before,
                                         max_purgeable):
        return None
    return cell


def strip_row(row: Row, shadow: DeletionTime | None, now: int | None = None,
              gc_before: int | None = None, max_purgeable: int = -(1 << 63)) -> Row | None:
    """``row`` without what ``shadow`` (or its own deletions) deletes; None if nothing is left.

    Tombstones are kept unless purgeable: a tombstone is purged when its local deletion time is
    before ``gc_before`` and its timestamp is below ``max_purgeable`` (no data outside the current
    compaction can be older).  With ``now``, expired TTL cells become tombstones.
    """
    rdel = row.deletion
    if rdel is None and shadow is None:                 # fast path: nothing to drop or convert?
        m = row.marker
        if m is None or (m.ttl == 0 and m.value is not None):
            for d in row.columns.values():
                if type(d) is not Cell or d.value is None or d.ttl:
                    break
            else:
                return row if (m is not None or row.columns) else None
    if rdel is not None:
        if shadow is not None and rdel.timestamp <= shadow.timestamp:
            rdel = None
        else:
            shadow = rdel
            if _purgeable(rdel.timestamp, rdel.local_deletion_time, gc_before, max_purgeable):
                rdel = None
    marker = row.marker
    if marker is not None:
        marker = strip_cell(marker, shadow, now, gc_before, max_purgeable)
    columns: dict = {}
    for name, data in row.columns.items():
        if type(data) is Cell:
            c = strip_cell(data, shadow, now, gc_before, max_purgeable)
            if c is not None:
                columns[name] = c
        else:
            cdel = data.deletion
            inner = shadow
            if cdel is not None:
                if shadow is not None and cdel.timestamp <= shadow.timestamp:
                    cdel = None
                else:
                    inner = cdel
                    if _purgeable(cdel.timestamp, cdel.local_deletion_time, gc_before,
                                  max_purgeable):
                        cdel = None
            cells = {}
            for path, cell in data.cells.items():
                c = strip_cell(cell, inner, now, gc_before, max_purgeable)
                if c is not None:
                    cells[path] = c
            if cells or cdel is not None:
                columns[name] = ComplexColumn(cdel, cells)
    if marker is None and rdel is None and not columns:
        return None
    return Row(row.clustering, marker, rdel, columns)


def row_is_live(row: Row, now: int) -> bool:
    """Whether an already stripped row shows anything to a query."""
    return live_row(row, None, now) is not None


def _sorted_slices(slices: Iterable[Slice], reversed: bool) -> list[Slice]:
    out = sorted((s for s in slices if not s.is_empty()),
                 key=lambda s: (s.start is not None, s.start or b""))
    if reversed:
        out.reverse()
    return out


def merged_rows(sources: Sequence, slices: Sequence[Slice], reversed: bool,
                lazy: bool = True) -> Iterator[Row]:
    """All sources' rows in the slices, merged, in query order (deletions not yet applied).

    ``lazy`` (for LIMIT reads) merges with a heap and pulls only what is consumed; otherwise every
    source's rows are gathered and sorted once (``_gathered``), which is faster for whole slices.
    """
    if len(sources) == 1 and len(slices) == 1:
        return sources[0].rows(slices[0], reversed)      # nothing to merge: no extra layer
    if not lazy:
        out: list[Row] = []
        for s in slices:
            out += _gathered(sources, s, reversed)
        return iter(out)
    return _merged_rows(sources, slices, reversed)


def _gathered(sources: Sequence, s: Slice, reversed: bool) -> list[Row]:
    """Every source's rows of ``s``, merged and sorted: concatenated and sorted at C speed (the
    sources' sorted runs make it a few merges), folded through a dict only when a clustering
    occurs in more than one source."""
    rows: list[Row] = []
    for src in sources:
        rows += src.rows(s, reversed)
    if len(set(map(_clustering, rows))) == len(rows):
        rows.sort(key=_clustering, reverse=reversed)
        return rows
    acc: dict = {}
    get = acc.get
    for r in rows:
        c = r.clustering
        old = get(c)
        acc[c] = r if old is None else old.merge(r)
    return [acc[c] for c in sorted(acc, reverse=reversed)]


def _merged_rows(sources: Sequence, slices: Sequence[Slice], reversed: bool) -> Iterator[Row]:
    for s in slices:
        if s.start is not None and s.start == s.end:        # one clustering: no heap needed
            if not (s.start_inclusive and s.end_inclusive):
                continue
            found = None
            for src in sources:
                for r in src.rows(s, reversed):
                    found = r if found is None else found.merge(r)
            if found is not None:
                yield found
        else:
            yield from merge_rows([src.rows(s, reversed) for src in sources], reversed)


def visible_row(row: Row, shadow: DeletionTime | None, now: int) -> Row | None:
    """``live_row`` with a fast path: a row with nothing deleted or expiring is returned as is.

    Rows returned by reads may be shared with a memtable: callers must not mutate them.
    """
    if shadow is None and row.deletion is None:
        m = row.marker
        if m is None or (m.ttl == 0 and m.value is not None):
            for d in row.columns.values():
                if type(d) is not Cell or d.value is None or d.ttl:
                    return live_row(row, shadow, now)
            if m is None and not row.columns:
                return None
            return row
    return live_row(row, shadow, now)


def _tombstone_cells(row: Row) -> int:
    """Tombstones met in one merged row (row deletion, deleted cells, collection deletions): what
    a traced read reports as Cassandra does."""
    n = row.deletion is not None
    for data in row.columns.values():
        if isinstance(data, Cell):
            n += data.value is None
        else:
            n += (data.deletion is not None) + sum(1 for c in data.cells.values() if c.value is None)
    return n


def resolve(sources: Sequence, slices: Sequence[Slice] = (FULL_SLICE,), *, reversed: bool = False,
            limit: int | None = None, now: int, tombstones: bool = False,
            trace: Callable[[str], None] | None = None, plain: bool = False) -> Partition | None:
    """The merged view of one partition's sources; None when nothing (live) is left.

    ``limit`` counts live rows.  Rows are pulled lazily from the sources.  ``plain`` promises
    that no source holds a tombstone, deletion or expiring cell (SSTable statistics say so), so
    rows need no liveness check.
    """
    if not sources:
        return None
    first = sources[0]
    deletion = first.deletion
    rts: list[RangeTombstone] = list(first.range_tombstones)
    static = first.static_row
    for src in sources[1:]:
        d = src.deletion
        if d is not None:
            deletion = later_deletion(deletion, d)
        if src.range_tombstones:
            rts.extend(src.range_tombstones)
        s = src.static_row
        if s is not None:
            static = s if static is None else static.merge(s)
    if rts and deletion is not None:
        rts = [rt for rt in rts if rt.deletion.timestamp > deletion.timestamp]
    slices = _sorted_slices(slices, reversed) if (len(slices) != 1 or reversed) else slices
    rows: list[Row] = []
    if plain and limit is None and not tombstones and trace is None:
        rows = [row for row in merged_rows(sources, slices, reversed, False)   # nothing can be
                if row.marker is not None or row.columns]                     # deleted
    elif limit is None and not tombstones and not rts and trace is None:
        append = rows.append                                   # the common case, kept tight
        for row in merged_rows(sources, slices, reversed, False):
            r = visible_row(row, deletion, now)
            if r is not None:
                append(r)
    elif limit is None or limit > 0:
        count = 0
        seen = 0
        tombs = 0 if trace is None else (deletion is not None) + len(rts)
        for row in merged_rows(sources, slices, reversed, limit is not None):
            seen += 1
            if trace is not None:
                tombs += _tombstone_cells(row)
            shadow = covering_deletion(deletion, rts, row.clustering) if rts else deletion
            if tombstones:
                r = strip_row(row, shadow)
                if r is None:
                    continue
                rows.append(r)
                if live_row(r, None, now) is None:
                    continue
            else:
                r = visible_row(row, shadow, now)
                if r is None:
                    continue
                rows.append(r)
            count += 1
            if limit is not None and count >= limit:
                break
        if trace is not None:
            trace(f"Read {count} live rows and {tombs} tombstone cells")
    if static is not None:
        static = strip_row(static, deletion) if tombstones else visible_row(static, deletion, now)
    if tombstones:
        if not rows and static is None and deletion is None and not rts:
            return None
        return Partition(first.key, first.token, static, rows, deletion, rts)
    if not rows and static is None:
        return None
    return Partition(first.key, first.token, static, rows)


def merge_scans(iters: Sequence[Iterator]) -> Iterator[list]:
    """Partitions from several token-ordered sources grouped by decorated key, in token order.

    Each item is the list of source partitions (in source order) that share one (token, key).
    """
    if len(iters) == 1:
        for p in iters[0]:
            yield [p]
        return

    def keyed(i: int, it: Iterator):
        for p in it:
            yield (p.token, p.key, i, p)

    group: list = []
    current = None
    for token, key, _i, p in heapq.merge(*(keyed(i, it) for i, it in enumerate(iters))):
        dk = (token, key)
        if dk != current:
            if group:
                yield group
            group = [p]
            current = dk
        else:
            group.append(p)
    if group:
        yield group
