"""read_merge: lazy merging of sources, deletions of every kind, TTL, limits, slices, tombstones."""
from cqlpy.engine.read_merge import merge_rows, merge_scans, resolve, strip_row
from cqlpy.engine.rows import (FULL_SLICE, Cell, ComplexColumn, DeletionTime, RangeTombstone, Row,
                               Slice)


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


class Src:
    """A source partition over a plain list of rows (counts how many rows were pulled)."""

    def __init__(self, rows=(), deletion=None, rts=(), static=None, key=b"k", token=0):
        self.key, self.token = key, token
        self._rows = sorted(rows, key=lambda r: r.clustering)
        self.deletion, self.range_tombstones, self.static_row = deletion, list(rts), static
        self.pulled = 0

    def rows(self, s=FULL_SLICE, reversed=False):
        rows = self._rows[::-1] if reversed else self._rows
        for r in rows:
            if s.contains(r.clustering):
                self.pulled += 1
                yield r


def row(i, v=b"v", ts=1, ttl=0, ldt=0xFFFFFFFF, marker=False, deletion=None):
    return Row(c(i), Cell(b"", ts) if marker else None, deletion, {"v": Cell(v, ts, ttl, ldt)})


def values(p):
    return [(r.clustering, r.columns["v"].value) for r in p.rows]


def test_newest_cell_wins_across_sources():
    a = Src([row(1, b"a", 1), row(2, b"a", 5)])
    b = Src([row(1, b"b", 2), row(3, b"b", 1)])
    p = resolve([a, b], now=0)
    assert values(p) == [(c(1), b"b"), (c(2), b"a"), (c(3), b"b")]


def test_partition_deletion_shadows_older_only():
    a = Src([row(1, b"old", 1), row(2, b"new", 20)])
    b = Src([], deletion=DeletionTime(10, 100))
    assert values(resolve([a, b], now=0)) == [(c(2), b"new")]
    assert resolve([Src([row(1, ts=5)]), b], now=0) is None
    p = resolve([Src([row(1, ts=5)]), b], now=0, tombstones=True)
    assert p.deletion == DeletionTime(10, 100) and p.rows == []


def test_range_tombstone_and_row_deletion():
    rows = [row(i, ts=1) for i in range(6)]
    rt = RangeTombstone(Slice(c(1), True, c(3), False), DeletionTime(2, 50))
    deleted_row = Row(c(5), None, DeletionTime(3, 50), {})
    p = resolve([Src(rows, rts=[rt]), Src([deleted_row])], now=0)
    assert [r.clustering for r in p.rows] == [c(0), c(3), c(4)]
    p = resolve([Src(rows, rts=[rt]), Src([deleted_row])], now=0, tombstones=True)
    assert p.range_tombstones == [rt]
    assert [r.clustering for r in p.rows] == [c(0), c(3), c(4), c(5)]
    assert p.rows[-1].deletion == DeletionTime(3, 50)


def test_cell_tombstone_and_ttl_expiry():
    a = Src([Row(c(1), None, None, {"v": Cell(b"x", 1), "w": Cell(b"y", 1)})])
    b = Src([Row(c(1), None, None, {"v": Cell(None, 2, 0, 50)})])
    p = resolve([a, b], now=0)
    assert set(p.rows[0].columns) == {"w"}
    ttl = Src([row(1, b"t", 1, ttl=10, ldt=110)])
    assert values(resolve([ttl], now=109)) == [(c(1), b"t")]
    assert resolve([ttl], now=110) is None


def test_marker_keeps_row_alive_and_collection_deletion():
    r = Row(c(1), Cell(b"", 5), None, {"v": Cell(None, 6, 0, 1)})
    p = resolve([Src([r])], now=0)
    assert p.rows[0].marker is not None and p.rows[0].columns == {}
    coll = Row(c(2), None, None, {"m": ComplexColumn(DeletionTime(5, 1), {
        b"a": Cell(b"1", 4), b"b": Cell(b"2", 6)})})
    p = resolve([Src([coll])], now=0)
    assert list(p.rows[0].columns["m"].cells) == [b"b"]


def test_static_row_merge_and_deletion():
    s1 = Row(b"", None, None, {"s": Cell(b"1", 1)})
    s2 = Row(b"", None, None, {"s": Cell(b"2", 2)})
    p = resolve([Src([], static=s1), Src([], static=s2)], now=0)
    assert p.static_row.columns["s"].value == b"2" and p.rows == []
    assert resolve([Src([], static=s1, deletion=DeletionTime(1, 0))], now=0) is None


def test_limit_is_lazy_and_counts_live_rows():
    big = Src([row(i) for i in range(10000)])
    dead = Src([Row(c(0), None, DeletionTime(9, 0), {})])
    p = resolve([big, dead], limit=10, now=0)
    assert [r.clustering for r in p.rows] == [c(i) for i in range(1, 11)]
    assert big.pulled < 20


def test_reversed_and_multiple_slices():
    src = Src([row(i) for i in range(20)])
    slices = [Slice(c(2), True, c(4), True), Slice(c(10), True, c(11), True)]
    p = resolve([src], slices, now=0)
    assert [r.clustering for r in p.rows] == [c(2), c(3), c(4), c(10), c(11)]
    p = resolve([src], slices, reversed=True, now=0)
    assert [r.clustering for r in p.rows] == [c(11), c(10), c(4), c(3), c(2)]
    p = resolve([src], slices, reversed=True, limit=3, now=0)
    assert [r.clustering for r in p.rows] == [c(11), c(10), c(4)]


def test_merge_rows_reversed_folds_equal_clusterings():
    a = iter([row(3, b"a", 1), row(1, b"a", 1)])
    b = iter([row(3, b"b", 2), row(2, b"b", 2)])
    out = list(merge_rows([a, b], reversed=True))
    assert [(r.clustering, r.columns["v"].value) for r in out] == [
        (c(3), b"b"), (c(2), b"b"), (c(1), b"a")]


def test_merge_scans_groups_by_decorated_key():
    a = [Src(key=b"x", token=1), Src(key=b"y", token=5)]
    b = [Src(key=b"w", token=1), Src(key=b"y", token=5), Src(key=b"z", token=9)]
    groups = list(merge_scans([iter(a), iter(b)]))
    assert [(g[0].token, g[0].key, len(g)) for g in groups] == [
        (1, b"w", 1), (1, b"x", 1), (5, b"y", 2), (9, b"z", 1)]


def test_strip_row_purges_and_converts_expired():
    r = Row(c(1), None, None, {"a": Cell(b"x", 10, 5, 100), "b": Cell(None, 3, 0, 40)})
    out = strip_row(r, None, now=200, gc_before=50, max_purgeable=1 << 62)
    # expired cell -> tombstone with ldt = expiry - ttl = 95 (kept: 95 >= gc_before 50);
    # the old tombstone (ldt 40 < 50) is purged
    assert out.columns == {"a": Cell(None, 10, 0, 95)}
    assert strip_row(r, None, now=200, gc_before=100, max_purgeable=1 << 62) is None
    # an older source outside the compaction blocks purging
    kept = strip_row(r, None, now=200, gc_before=100, max_purgeable=2)
    assert set(kept.columns) == {"a", "b"}
