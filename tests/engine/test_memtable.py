"""Memtable: sorting, merging writes, size accounting, batched reads of a live memtable, scans."""
import threading

from cqlpy.engine import memtable as memtable_mod
from cqlpy.engine.memtable import Memtable, row_size
from cqlpy.engine.murmur3 import token
from cqlpy.engine.rows import (Cell, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice)

TID = b"T" * 16


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


def upd(key: bytes, rows: dict, **kw) -> PartitionUpdate:
    return PartitionUpdate(TID, key, rows={c(i): Row(c(i), None, None, {"v": Cell(v, ts)})
                                           for i, (v, ts) in rows.items()}, **kw)


def test_rows_sorted_and_merged_by_timestamp():
    mt = Memtable(TID)
    mt.apply(upd(b"k", {3: (b"a", 1), 1: (b"b", 1)}), token(b"k"))
    mt.apply(upd(b"k", {3: (b"old", 0), 2: (b"c", 5)}), token(b"k"))
    p = mt.get(b"k")
    assert [r.clustering for r in p.rows()] == [c(1), c(2), c(3)]
    assert [r.columns["v"].value for r in p.rows()] == [b"b", b"c", b"a"]
    assert [r.clustering for r in p.rows(reversed=True)] == [c(3), c(2), c(1)]


def test_slices_and_point_lookup():
    mt = Memtable(TID)
    mt.apply(upd(b"k", {i: (b"x", 1) for i in range(10)}), token(b"k"))
    p = mt.get(b"k")
    s = Slice(c(2), True, c(5), False)
    assert [r.clustering for r in p.rows(s)] == [c(2), c(3), c(4)]
    assert [r.clustering for r in p.rows(s, reversed=True)] == [c(4), c(3), c(2)]
    assert [r.clustering for r in p.rows(Slice(c(7), True, c(7), True))] == [c(7)]
    assert list(p.rows(Slice(c(70), True, c(70), True))) == []


def test_batched_reads_of_a_live_memtable(monkeypatch):
    monkeypatch.setattr(memtable_mod, "ROW_BATCH", 7)
    mt = Memtable(TID)
    mt.apply(upd(b"k", {i: (b"x", 1) for i in range(50)}), token(b"k"))
    p = mt.get(b"k")
    assert [r.clustering for r in p.rows()] == [c(i) for i in range(50)]
    assert [r.clustering for r in p.rows(reversed=True)] == [c(i) for i in reversed(range(50))]
    assert [r.clustering for r in p.rows(Slice(c(10), False, c(30), True))] == [
        c(i) for i in range(11, 31)]
    mt.freeze()
    assert len(list(p.rows())) == 50


def test_deletions_static_and_size():
    mt = Memtable(TID)
    assert mt.size == 0
    d = DeletionTime(10, 100)
    rt = RangeTombstone(Slice(c(1), True, c(2), True), DeletionTime(5, 100))
    mt.apply(PartitionUpdate(TID, b"k", deletion=d, range_tombstones=[rt],
                             static_row=Row(b"", None, None, {"s": Cell(b"1", 1)})), token(b"k"))
    mt.apply(PartitionUpdate(TID, b"k", deletion=DeletionTime(3, 1),
                             static_row=Row(b"", None, None, {"s": Cell(b"2", 2)})), token(b"k"))
    p = mt.get(b"k")
    assert p.deletion == d and p.range_tombstones == [rt]
    assert p.static_row.columns["s"].value == b"2"
    assert mt.size > 0
    before = mt.size
    mt.apply(upd(b"k", {1: (b"v" * 1000, 1)}), token(b"k"))
    assert mt.size - before >= 1000
    assert row_size(Row(b"x", None, None, {"a": Cell(b"y" * 10, 1)})) > 10


def test_scan_in_token_order(monkeypatch):
    monkeypatch.setattr(memtable_mod, "ROW_BATCH", 3)
    mt = Memtable(TID)
    keys = [b"key%d" % i for i in range(20)]
    for k in keys:
        mt.apply(upd(k, {0: (b"x", 1)}), token(k))
    expected = sorted((token(k), k) for k in keys)
    assert [(p.token, p.key) for p in mt.scan()] == expected
    start = expected[5]
    assert [p.key for p in mt.scan(start)] == [k for _, k in expected[5:]]
    assert [p.key for p in mt.scan(start, start_inclusive=False)] == [k for _, k in expected[6:]]
    assert [p.key for p in mt.scan(None, end_token=expected[9][0])] == [k for _, k in expected[:10]]
    flushed = list(mt.sorted_updates())
    assert [t for t, _ in flushed] == [t for t, _ in expected]


def test_concurrent_writes_and_reads_see_whole_rows():
    mt = Memtable(TID)
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        while not stop.is_set() and i < 20000:
            mt.apply(upd(b"k", {i % 300: (b"%d" % i, i)}), token(b"k"))
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(200):
            p = mt.get(b"k")
            if p is None:
                continue
            seen = [r.clustering for r in p.rows()]
            if seen != sorted(set(seen)):
                errors.append(seen)
    finally:
        stop.set()
        t.join()
    assert not errors
