"""The Engine API: folder lock, schema operations, apply/read/scan, flush, replay, stats, tracing."""
import os
import threading
import time

import pytest

from cqlpy.errors import DataFolderLocked, InvalidRequest
from cqlpy.engine import (FULL_SLICE, Cell, DeletionTime, Engine, PartitionUpdate, Row, Slice,
                          TableOptions, token)
from cqlpy.engine.faultfs import FaultInjectingFileSystem

T1 = b"\x01" * 16
T2 = b"\x02" * 16


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


def put(tid, key, i, v, ts=1):
    return PartitionUpdate(tid, key, rows={c(i): Row(c(i), Cell(b"", ts), None,
                                                      {"v": Cell(v, ts)})})


def vals(p):
    return [] if p is None else [(r.clustering, r.columns["v"].value) for r in p.rows]


def test_lock_create_reopen_and_options(tmp_path):
    d = str(tmp_path / "db")
    eng = Engine.open(d)
    with pytest.raises(DataFolderLocked):
        Engine.open(d)
    eng.create_table("ks", "t", T1, TableOptions(gc_grace_seconds=7))
    eng.create_table("ks", "t", T1)                     # idempotent
    eng.apply([put(T1, b"a", 1, b"x")])
    eng.set_table_options(T1, TableOptions(gc_grace_seconds=9, bloom_filter_fp_chance=0.1))
    eng.close()
    assert os.path.isdir(tmp_path / "db" / "data" / "ks" / f"t-{T1.hex()}")
    eng = Engine.open(d)
    try:
        assert eng.tables() == [("ks", "t", T1)]
        assert eng._tables[T1].options.gc_grace_seconds == 9
        assert eng._tables[T1].options.bloom_filter_fp_chance == 0.1
        assert vals(eng.read(T1, b"a")) == [(c(1), b"x")]
    finally:
        eng.close()


def test_unknown_table_is_refused(tmp_path):
    with Engine.open(str(tmp_path)) as eng:
        with pytest.raises(InvalidRequest):
            eng.apply([put(T1, b"a", 1, b"x")])
        with pytest.raises(InvalidRequest):
            eng.read(T1, b"a")


def test_drop_removes_data_from_disk_and_replay_ignores_it(tmp_path):
    d = str(tmp_path)
    eng = Engine.open(d)
    eng.create_table("ks", "t", T1)
    eng.create_table("ks", "u", T2)
    eng.apply([put(T1, b"a", 1, b"x"), put(T2, b"b", 1, b"y")])
    eng.flush(T1)
    eng.apply([put(T1, b"a", 2, b"x")])
    tdir = eng._tables[T1].directory
    eng.drop_table(T1)
    assert not os.path.exists(tdir)
    assert eng.tables() == [("ks", "u", T2)]
    eng.abandon()                                  # crash: the log still holds T1's records
    eng = Engine.open(d)
    try:
        assert eng.tables() == [("ks", "u", T2)]
        assert vals(eng.read(T2, b"b")) == [(c(1), b"y")]
    finally:
        eng.close()


def test_truncate_survives_replay():
    fs = FaultInjectingFileSystem()
    eng = Engine.open("/db", fs=fs, commitlog_sync="batch")
    eng.create_table("ks", "t", T1)
    eng.apply([put(T1, b"a", 1, b"old")])
    eng.flush()
    eng.apply([put(T1, b"a", 2, b"old")])
    eng.truncate(T1)
    assert eng.read(T1, b"a") is None
    eng.apply([put(T1, b"a", 3, b"new")])
    eng.abandon()
    fs.crash(seed=1)
    eng = Engine.open("/db", fs=fs)
    try:
        assert vals(eng.read(T1, b"a")) == [(c(3), b"new")]
    finally:
        eng.close()


def test_reads_merge_memtable_and_sstables_and_scan_in_token_order():
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, compaction=False) as eng:
        eng.create_table("ks", "t", T1)
        keys = [b"key%d" % i for i in range(30)]
        eng.apply([put(T1, k, 1, b"first", ts=1) for k in keys])
        eng.flush()
        eng.apply([put(T1, k, 2, b"second", ts=2) for k in keys[::2]])
        eng.flush()
        eng.apply([put(T1, k, 1, b"newest", ts=3) for k in keys[::3]])
        assert vals(eng.read(T1, b"key0")) == [(c(1), b"newest"), (c(2), b"second")]
        assert vals(eng.read(T1, b"key1")) == [(c(1), b"first")]
        assert eng.read(T1, b"nope") is None
        order = sorted(keys, key=lambda k: (token(k), k))
        scanned = list(eng.scan(T1))
        assert [p.key for p in scanned] == order
        assert vals(scanned[order.index(b"key0")]) == [(c(1), b"newest"), (c(2), b"second")]
        start = (token(order[10]), order[10])
        assert [p.key for p in eng.scan(T1, start, False, token(order[20]))] == order[11:21]
        eng.apply([PartitionUpdate(T1, b"key1", deletion=DeletionTime(9, 0))])
        assert b"key1" not in [p.key for p in eng.scan(T1)]
        assert b"key1" in [p.key for p in eng.scan(T1, tombstones=True)]


def test_trace_records_skips():
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, compaction=False) as eng:
        eng.create_table("ks", "t", T1)
        eng.apply([put(T1, b"k", i, b"v", ts=1) for i in range(100, 110)])
        eng.flush()
        eng.apply([put(T1, b"other", 1, b"v", ts=2)])
        eng.flush()
        eng.apply([PartitionUpdate(T1, b"k", deletion=DeletionTime(5, 0))])
        eng.apply([put(T1, b"k", 1, b"after", ts=6)])
        eng.flush()
        eng.apply([put(T1, b"k", 2, b"mem", ts=7)])
        trace = []
        p = eng.read(T1, b"k", trace=trace)
        assert vals(p) == [(c(1), b"after"), (c(2), b"mem")]
        text = "\n".join(t["activity"] for t in trace)
        assert "Read partition from memtable" in text
        assert "partition deletion" in text
        assert "older than a partition deletion" in text or "bloom filter" in text
        assert all(isinstance(t["elapsed_us"], int) for t in trace)
        trace = []
        assert eng.read(T1, b"k", [Slice(c(0), True, c(5), True)], trace=trace) is not None
        trace = []
        eng.read(T1, b"zzz", trace=trace)
        assert "Partition not found" in trace[-1]["activity"]


def test_clustering_skip_and_static_rows():
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, compaction=False) as eng:
        eng.create_table("ks", "t", T1)
        eng.apply([put(T1, b"k", i, b"v", ts=1) for i in range(100, 110)])
        eng.flush()
        eng.apply([put(T1, b"k", 1, b"low", ts=2)])
        eng.flush()
        trace = []
        p = eng.read(T1, b"k", [Slice(c(0), True, c(5), True)], trace=trace)
        assert vals(p) == [(c(1), b"low")]
        assert any("clustering range" in t["activity"] for t in trace)
        trace = []
        p = eng.read(T1, b"k", [Slice(c(2), True, c(2), True)], columns=("v",), trace=trace)
        assert p is None and any("clustering range" in t["activity"] for t in trace)
        p = eng.read(T1, b"k", [Slice(c(105), True, c(105), True)], columns=("v",))
        assert vals(p) == [(c(105), b"v")]
        # a static row in an SSTable whose rows do not meet the slice must still be read
        eng.apply([PartitionUpdate(T1, b"k", static_row=Row(b"", None, None,
                                                            {"s": Cell(b"st", 3)}))])
        eng.flush()
        p = eng.read(T1, b"k", [Slice(c(100), True, c(101), True)])
        assert p.static_row.columns["s"].value == b"st"
        assert vals(p) == [(c(100), b"v"), (c(101), b"v")]


def test_background_flush_and_compaction():
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, memtable_flush_bytes=20_000) as eng:
        eng.create_table("ks", "t", T1)
        for i in range(3000):
            eng.apply([put(T1, b"k%d" % (i % 50), i, b"x" * 40, ts=i)])
        deadline = time.time() + 20
        while time.time() < deadline:
            st = eng.stats(T1)
            if st["pending_flushes"] == 0 and st["pending_compactions"] == 0 and \
                    not eng.stats()["compaction_running"]:
                break
            time.sleep(0.05)
        st = eng.stats(T1)
        assert st["compactions_completed"] >= 1
        assert st["sstable_count"] < 8
        for k in range(50):
            assert len(eng.read(T1, b"k%d" % k).rows) == 60
        total = eng.stats()
        assert total["sstable_count"] == st["sstable_count"] and "key_cache" in total
        assert set(st) >= {"sstable_sizes", "bloom_false_positives", "key_cache_hit_rate",
                           "pending_compactions", "memtable_bytes"}


def test_concurrent_writers_and_readers():
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, memtable_flush_bytes=30_000) as eng:
        eng.create_table("ks", "t", T1)
        errors = []

        def writer(w):
            try:
                for i in range(400):
                    eng.apply([put(T1, b"w%d" % w, i, b"%d" % i, ts=i + 1)])
            except Exception as e:                    # pragma: no cover
                errors.append(e)

        def reader():
            try:
                for _ in range(200):
                    p = eng.read(T1, b"w0")
                    if p is not None:
                        got = [r.clustering for r in p.rows]
                        assert got == sorted(got)
            except Exception as e:                    # pragma: no cover
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for w in range(4):
            assert len(eng.read(T1, b"w%d" % w).rows) == 400


def test_replay_applies_only_what_sstables_lack():
    fs = FaultInjectingFileSystem()
    eng = Engine.open("/db", fs=fs, compaction=False)
    eng.create_table("ks", "t", T1)
    eng.apply([put(T1, b"a", i, b"flushed") for i in range(5)])
    eng.flush()
    eng.apply([put(T1, b"a", i, b"logged", ts=2) for i in range(5, 8)])
    eng.commitlog.sync()
    eng.abandon()
    fs.crash(seed=3)
    eng = Engine.open("/db", fs=fs, compaction=False)
    try:
        assert eng.replayed_updates == 3
        assert len(eng.read(T1, b"a").rows) == 8
        assert eng.stats(T1)["sstable_count"] == 2          # replayed data was flushed
        assert eng.stats()["commitlog"]["segments"] == 1    # old segments discarded
    finally:
        eng.close()
    eng = Engine.open("/db", fs=fs, compaction=False)
    try:
        assert eng.replayed_updates == 0
        assert len(eng.read(T1, b"a").rows) == 8
    finally:
        eng.close()


def test_limit_and_reversed_through_memtable_and_sstables():
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, compaction=False) as eng:
        eng.create_table("ks", "t", T1)
        eng.apply([PartitionUpdate(T1, b"k", rows={c(i): Row(c(i), None, None,
                                                              {"v": Cell(b"s", 1)})
                                                    for i in range(0, 1000, 2)})])
        eng.flush()
        eng.apply([PartitionUpdate(T1, b"k", rows={c(i): Row(c(i), None, None,
                                                              {"v": Cell(b"m", 1)})
                                                    for i in range(1, 1000, 2)})])
        p = eng.read(T1, b"k", limit=4, reversed=True)
        assert vals(p) == [(c(999), b"m"), (c(998), b"s"), (c(997), b"m"), (c(996), b"s")]
        p = eng.read(T1, b"k", [Slice(c(10), True, c(12), True), Slice(c(500), False, None, True)],
                     limit=5)
        assert [r.clustering for r in p.rows] == [c(10), c(11), c(12), c(501), c(502)]
        assert eng.read(T1, b"k", [FULL_SLICE], limit=0) is None


def test_single_row_reads_in_timestamp_order_match_full_merges():
    import random
    rng = random.Random(5)
    fs = FaultInjectingFileSystem()
    with Engine.open("/db", fs=fs, compaction=False) as eng:
        eng.create_table("ks", "t", T1)
        for _flush in range(6):
            for _ in range(150):
                key = b"k%d" % rng.randrange(5)
                i = rng.randrange(6)
                ts = rng.randrange(1, 1000)              # timestamps out of write order
                r = rng.random()
                if r < 0.5:                            # INSERT: marker + both columns
                    row = Row(c(i), Cell(b"", ts), None, {"v": Cell(b"v%d" % ts, ts),
                                                          "w": Cell(b"w%d" % ts, ts)})
                elif r < 0.8:                          # UPDATE of one column, no marker
                    col = rng.choice("vw")
                    row = Row(c(i), None, None, {col: Cell(b"%s%d" % (col.encode(), ts), ts)})
                elif r < 0.9:
                    row = Row(c(i), None, DeletionTime(ts, 0), {})
                else:
                    eng.apply([PartitionUpdate(T1, key, deletion=DeletionTime(ts, 0))])
                    continue
                eng.apply([PartitionUpdate(T1, key, rows={c(i): row})])
            eng.flush()
        eng.apply([put(T1, b"k0", 0, b"mem", ts=2000)])
        skipped = 0
        for k in range(5):
            for i in range(6):
                s = [Slice(c(i), True, c(i), True)]
                full = eng.read(T1, b"k%d" % k, s)
                trace = []
                fast = eng.read(T1, b"k%d" % k, s, columns=("v", "w"), trace=trace)
                plain = eng.read(T1, b"k%d" % k, s, columns=("v", "w"))

                def shape(p):
                    return None if p is None else [(r.clustering, r.marker, r.columns)
                                                   for r in p.rows]
                assert shape(full) == shape(fast) == shape(plain)
                skipped += any("row is complete" in t["activity"] for t in trace)
        assert skipped > 0


def test_long_replay_flushes_as_it_goes():
    fs = FaultInjectingFileSystem()
    eng = Engine.open("/db", fs=fs, compaction=False, commitlog_sync="batch")
    eng.create_table("ks", "t", T1)
    for i in range(600):
        eng.apply([put(T1, b"k%d" % (i % 7), i, b"y" * 100, ts=i + 1)])
    eng.abandon()
    fs.crash(seed=1)
    eng = Engine.open("/db", fs=fs, compaction=False, memtable_flush_bytes=10_000)
    try:
        assert eng.replayed_updates == 600
        assert eng.stats(T1)["sstable_count"] > 3
        assert sum(len(eng.read(T1, b"k%d" % k).rows) for k in range(7)) == 600
    finally:
        eng.close()
    eng = Engine.open("/db", fs=fs, compaction=False)
    try:
        assert eng.replayed_updates == 0
        assert sum(len(eng.read(T1, b"k%d" % k).rows) for k in range(7)) == 600
    finally:
        eng.close()
