"""Compaction through the engine: overlapping SSTables, every tombstone kind, gc_grace purging
(and the rule that keeps a tombstone while an SSTable outside the compaction holds older data),
TTL expiry with an injected clock, wide partitions and reversed reads."""
import pytest

from cqlpy.engine import Engine, TableOptions
from cqlpy.engine.compaction import run_compaction
from cqlpy.engine.faultfs import FaultInjectingFileSystem
from cqlpy.engine.rows import (Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone,
                               Row, Slice)

TID = bytes(range(16))
T0 = 1_700_000_000
GC = 100


class Clock:
    def __init__(self, t=T0):
        self.t = t

    def __call__(self):
        return self.t


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


def put(key, i, v, ts, ttl=0, clock=None):
    ldt = (clock.t + ttl) if ttl else 0xFFFFFFFF
    return PartitionUpdate(TID, key, rows={c(i): Row(c(i), Cell(b"", ts, ttl, ldt), None,
                                                      {"v": Cell(v, ts, ttl, ldt)})})


@pytest.fixture
def env():
    fs = FaultInjectingFileSystem()
    clock = Clock()
    eng = Engine.open("/db", fs=fs, clock=clock, compaction=False)
    eng.create_table("ks", "t", TID, TableOptions(gc_grace_seconds=GC))
    yield eng, clock, fs
    eng.close()


def rows_of(eng, key, **kw):
    p = eng.read(TID, key, **kw)
    return [] if p is None else [(r.clustering, r.columns["v"].value if "v" in r.columns else None)
                                 for r in p.rows]


def sstable_partition(eng, key):
    """The raw (compacted) partition as the single live SSTable holds it."""
    (h,) = eng._tables[TID].live_sstables()
    from cqlpy.engine.murmur3 import token
    return h.reader.partition(key, token(key))


def test_overlapping_sstables_merge_newest_wins(env):
    eng, clock, _ = env
    for gen in range(4):
        eng.apply([put(b"k%d" % k, i, b"g%d" % gen, ts=gen * 10 + 1)
                   for k in range(20) for i in range(gen, gen + 5)])
        eng.flush()
    before = {k: rows_of(eng, b"k%d" % k) for k in range(20)}
    assert eng.stats(TID)["sstable_count"] == 4
    eng.compact(TID)
    assert eng.stats(TID)["sstable_count"] == 1
    assert {k: rows_of(eng, b"k%d" % k) for k in range(20)} == before
    assert before[0][0] == (c(0), b"g0") and before[0][-1] == (c(7), b"g3")
    assert rows_of(eng, b"k0")[3] == (c(3), b"g3")


def test_every_tombstone_kind_kept_before_gc_grace_and_shadowed_data_dropped(env):
    eng, clock, _ = env
    now = clock.t
    eng.apply([put(b"p", i, b"x", ts=1) for i in range(10)])
    eng.apply([PartitionUpdate(TID, b"coll", rows={c(0): Row(c(0), None, None, {
        "m": ComplexColumn(None, {b"a": Cell(b"1", 1), b"b": Cell(b"2", 1)})})})])
    eng.apply([put(b"whole", 0, b"x", ts=1)])
    eng.flush()
    eng.apply([PartitionUpdate(TID, b"p", range_tombstones=[
        RangeTombstone(Slice(c(2), True, c(4), True), DeletionTime(5, now))])])
    eng.apply([PartitionUpdate(TID, b"p", rows={c(6): Row(c(6), None, DeletionTime(5, now), {})})])
    eng.apply([PartitionUpdate(TID, b"p", rows={c(8): Row(c(8), None, None,
                                                            {"v": Cell(None, 5, 0, now)})})])
    eng.apply([PartitionUpdate(TID, b"coll", rows={c(0): Row(c(0), None, None, {
        "m": ComplexColumn(DeletionTime(5, now), {b"c": Cell(b"3", 6)})})})])
    eng.apply([PartitionUpdate(TID, b"whole", deletion=DeletionTime(5, now))])
    eng.flush()
    expected_p = [(c(i), b"x" if i != 8 else None) for i in (0, 1, 5, 7, 8, 9)]
    assert rows_of(eng, b"p") == expected_p
    eng.compact(TID)
    assert rows_of(eng, b"p") == expected_p
    assert rows_of(eng, b"whole") == []
    assert list(eng.read(TID, b"coll").rows[0].columns["m"].cells) == [b"c"]
    raw = sstable_partition(eng, b"p")
    assert [rt.slice.start for rt in raw.range_tombstones] == [c(2)]
    rows = {r.clustering: r for r in raw.rows()}
    assert set(rows) == {c(i) for i in (0, 1, 5, 6, 7, 8, 9)}       # shadowed rows 2-4 are gone
    assert rows[c(6)].deletion == DeletionTime(5, now) and rows[c(6)].marker is None
    assert rows[c(8)].columns["v"].value is None and rows[c(8)].marker is not None
    whole = sstable_partition(eng, b"whole")
    assert whole.deletion == DeletionTime(5, now) and list(whole.rows()) == []
    coll = sstable_partition(eng, b"coll")
    assert list(next(coll.rows()).columns["m"].cells) == [b"c"]
    # tombstones=True shows what read repair needs
    p = eng.read(TID, b"p", tombstones=True)
    assert len(p.range_tombstones) == 1 and any(r.deletion for r in p.rows)


def test_tombstones_purged_after_gc_grace(env):
    eng, clock, _ = env
    now = clock.t
    eng.apply([put(b"p", i, b"x", ts=1) for i in range(5)])
    eng.flush()
    eng.apply([PartitionUpdate(TID, b"p", rows={c(1): Row(c(1), None, DeletionTime(5, now), {})},
                               range_tombstones=[RangeTombstone(Slice(c(3), True, None, True),
                                                                DeletionTime(5, now))])])
    eng.apply([PartitionUpdate(TID, b"gone", deletion=DeletionTime(5, now))])
    eng.flush()
    clock.t = now + GC + 1
    eng.compact(TID)
    (h,) = eng._tables[TID].live_sstables()
    assert h.stats.tombstone_count == 0
    assert rows_of(eng, b"p") == [(c(0), b"x"), (c(2), b"x")]
    assert sstable_partition(eng, b"gone") is None
    assert eng.read(TID, b"gone", tombstones=True) is None


def test_tombstone_not_purged_while_an_sstable_outside_holds_older_data(env):
    eng, clock, _ = env
    now = clock.t
    eng.apply([put(b"k", 0, b"old", ts=1)])
    eng.flush()                                                   # A: old data, outside
    eng.apply([PartitionUpdate(TID, b"k", deletion=DeletionTime(5, now))])
    eng.flush()                                                   # B: the tombstone
    eng.apply([put(b"other", 0, b"x", ts=6)])
    eng.flush()                                                   # C
    store = eng._tables[TID]
    a, b, cc = sorted(store.live_sstables(), key=lambda h: h.generation)
    clock.t = now + GC + 1
    run_compaction(store, [b, cc], int(clock.t))
    assert eng.read(TID, b"k") is None                            # still deleted
    out = [h for h in store.live_sstables() if h.generation not in (a.generation,)][0]
    from cqlpy.engine.murmur3 import token
    kept = out.reader.partition(b"k", token(b"k"))
    assert kept is not None and kept.deletion == DeletionTime(5, now)
    # a tombstone for a key the outside SSTable does not hold is purgeable in the same situation
    # (bloom filter says no); and a major compaction purges everything
    eng.compact(TID)
    assert eng.read(TID, b"k") is None
    assert sstable_partition(eng, b"k") is None
    assert rows_of(eng, b"other") == [(c(0), b"x")]


def test_tombstone_not_purged_while_memtable_holds_the_partition(env):
    eng, clock, _ = env
    now = clock.t
    eng.apply([PartitionUpdate(TID, b"k", deletion=DeletionTime(5, now))])
    eng.flush()
    eng.apply([put(b"k", 0, b"older", ts=2)])                      # in the memtable, older
    clock.t = now + GC + 1
    store = eng._tables[TID]
    run_compaction(store, list(store.live_sstables()), int(clock.t))
    assert eng.read(TID, b"k") is None
    assert sstable_partition(eng, b"k").deletion == DeletionTime(5, now)


def test_ttl_cells_expire_then_become_purgeable_tombstones(env):
    eng, clock, _ = env
    start = clock.t
    eng.apply([put(b"t", 0, b"short", ts=10, ttl=50, clock=clock),
               put(b"t", 1, b"forever", ts=10)])
    eng.flush()
    eng.apply([put(b"t", 2, b"x", ts=11)])
    eng.flush()
    assert rows_of(eng, b"t") == [(c(0), b"short"), (c(1), b"forever"), (c(2), b"x")]
    clock.t = start + 60                                  # expired, but within gc_grace of write
    assert rows_of(eng, b"t") == [(c(1), b"forever"), (c(2), b"x")]
    eng.compact(TID)
    row0 = {r.clustering: r for r in sstable_partition(eng, b"t").rows()}[c(0)]
    assert row0.columns["v"] == Cell(None, 10, 0, start)         # ldt = expiry - ttl
    assert rows_of(eng, b"t") == [(c(1), b"forever"), (c(2), b"x")]
    clock.t = start + GC + 1
    eng.compact(TID)
    assert c(0) not in {r.clustering for r in sstable_partition(eng, b"t").rows()}
    assert rows_of(eng, b"t") == [(c(1), b"forever"), (c(2), b"x")]


def test_wide_partition_limits_slices_and_reversed_reads(env):
    eng, clock, _ = env
    for part in range(4):                  # 100,000 rows: 4 SSTables of 25,000 rows of one partition
        for base in range(part * 25_000, (part + 1) * 25_000, 5_000):
            rows = {c(i): Row(c(i), None, None, {"v": Cell(b"%d" % i, 1)})
                    for i in range(base, base + 5_000)}
            eng.apply([PartitionUpdate(TID, b"wide", rows=rows)])
        eng.flush()
    eng.apply([PartitionUpdate(TID, b"wide", range_tombstones=[
        RangeTombstone(Slice(c(99_990), True, None, True), DeletionTime(2, clock.t))])])

    def check():
        p = eng.read(TID, b"wide", limit=5)
        assert [r.clustering for r in p.rows] == [c(i) for i in range(5)]
        p = eng.read(TID, b"wide", limit=5, reversed=True)
        assert [r.clustering for r in p.rows] == [c(i) for i in range(99_989, 99_984, -1)]
        s = Slice(c(50_000), True, c(50_100), False)
        p = eng.read(TID, b"wide", [s], reversed=True)
        assert [r.clustering for r in p.rows] == [c(i) for i in range(50_099, 49_999, -1)]
        p = eng.read(TID, b"wide", [Slice(c(70_000), True, c(70_000), True)])
        assert p.rows[0].columns["v"].value == b"70000"

    check()
    eng.flush()
    eng.compact(TID)
    assert eng.stats(TID)["sstable_count"] == 1
    check()
    (h,) = eng._tables[TID].live_sstables()
    reads = h.reader.chunk_reads
    eng.read(TID, b"wide", [Slice(c(60_000), True, c(60_010), True)], reversed=True)
    assert h.reader.chunk_reads - reads < 10                       # only the blocks it needs


def test_interrupted_compaction_leaves_inputs_and_no_files(env):
    from cqlpy.engine.compaction import CompactionInterrupted
    eng, clock, fs = env
    for part in range(2):
        eng.apply([put(b"k%d" % k, part, b"x", ts=1) for k in range(600)])
        eng.flush()
    store = eng._tables[TID]
    inputs = list(store.live_sstables())
    before = sorted(fs.listdir(store.directory))
    with pytest.raises(CompactionInterrupted):
        run_compaction(store, inputs, int(clock.t), should_stop=lambda: True)
    assert sorted(fs.listdir(store.directory)) == before
    assert list(store.live_sstables()) == inputs
    assert rows_of(eng, b"k5") == [(c(0), b"x"), (c(1), b"x")]
