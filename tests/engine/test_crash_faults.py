"""Deterministic crash tests on the fault-injecting file system: replay after a crash, a torn last
record, a flipped bit in a data chunk, and a seeded loop over every crash point inside a flush and
inside a compaction (after reopening, every acknowledged write reads back; nothing half-written is
visible)."""
import random

import pytest

from cqlpy.errors import CorruptionError, StorageError
from cqlpy.engine import Cell, DeletionTime, Engine, PartitionUpdate, Row, Slice, TableOptions
from cqlpy.engine import descriptor
from cqlpy.engine.faultfs import FaultInjectingFileSystem, SimulatedCrash

TID = b"\x07" * 16
T0 = 1_700_000_000
KEYS = [b"key%02d" % i for i in range(12)]


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


class Model:
    """What the acknowledged writes say each partition holds: key -> {clustering: value}."""

    def __init__(self):
        self.parts: dict[bytes, dict[bytes, bytes]] = {k: {} for k in KEYS}

    def apply(self, op):
        kind, key, i, v, _ts = op
        if kind == "put":
            self.parts[key][c(i)] = v
        elif kind == "del_row":
            self.parts[key].pop(c(i), None)
        else:
            self.parts[key].clear()

    def copy(self):
        m = Model()
        m.parts = {k: dict(v) for k, v in self.parts.items()}
        return m


def make_ops(seed: int, n: int, start_ts: int = 1):
    rng = random.Random(seed)
    ops = []
    for j in range(n):
        key = rng.choice(KEYS)
        r = rng.random()
        kind = "put" if r < 0.8 else ("del_row" if r < 0.95 else "del_part")
        ops.append((kind, key, rng.randrange(20), b"v%d-%d" % (seed, j), start_ts + j))
    return ops


def to_update(op):
    kind, key, i, v, ts = op
    if kind == "put":
        return PartitionUpdate(TID, key, rows={c(i): Row(c(i), Cell(b"", ts), None,
                                                          {"v": Cell(v, ts)})})
    if kind == "del_row":
        return PartitionUpdate(TID, key, rows={c(i): Row(c(i), None, DeletionTime(ts, T0), {})})
    return PartitionUpdate(TID, key, deletion=DeletionTime(ts, T0))


def read_all(eng):
    out = {}
    for key in KEYS:
        p = eng.read(TID, key)
        out[key] = {} if p is None else {r.clustering: r.columns["v"].value for r in p.rows}
    return out


def check(eng, model: Model, inflight=None):
    got = read_all(eng)
    if got == model.parts:
        return
    assert inflight is not None, "acknowledged writes missing or wrong"
    with_inflight = model.copy()
    with_inflight.apply(inflight)
    assert got == with_inflight.parts


def assert_nothing_half_written(fs, eng):
    store = eng._tables[TID]
    names = fs.listdir(store.directory)
    assert not [n for n in names if n.startswith(descriptor.TEMP_PREFIX) or n.endswith(".tmp")]
    live = {h.generation for h in store.live_sstables()}
    gens = {descriptor.parse_file_name(n)[0] for n in names if descriptor.parse_file_name(n)}
    assert gens == live
    for h in store.live_sstables():
        assert h.reader.verify() == []


def open_engine(fs, **kw):
    kw.setdefault("commitlog_sync", "batch")
    kw.setdefault("compaction", False)
    return Engine.open("/db", fs=fs, clock=lambda: T0 + 10_000, **kw)


def fresh(fs):
    eng = open_engine(fs)
    eng.create_table("ks", "t", TID, TableOptions(gc_grace_seconds=0))
    return eng


def run(eng, model, ops):
    for op in ops:
        eng.apply([to_update(op)])
        model.apply(op)


@pytest.mark.parametrize("keep", ["none", "random", "all"])
def test_batch_mode_acknowledged_writes_survive_a_crash(keep):
    fs = FaultInjectingFileSystem()
    eng = fresh(fs)
    model = Model()
    run(eng, model, make_ops(1, 150))
    eng.flush()
    run(eng, model, make_ops(2, 150, start_ts=1000))
    eng.abandon()
    fs.crash(seed=5, keep=keep)
    eng = open_engine(fs)
    try:
        check(eng, model)
        assert eng.replayed_updates == 150
    finally:
        eng.close()


def test_periodic_mode_keeps_a_prefix_after_power_loss():
    for seed in range(5):
        fs = FaultInjectingFileSystem()
        eng = open_engine(fs, commitlog_sync="periodic", commitlog_sync_period_ms=60_000)
        eng.create_table("ks", "t", TID)
        for j in range(200):
            eng.apply([PartitionUpdate(TID, b"p", rows={c(j): Row(c(j), Cell(b"", 1), None, {})})])
        eng.abandon()
        fs.crash(seed=seed, keep="random")               # torn tail somewhere in the log
        eng = open_engine(fs)
        try:
            p = eng.read(TID, b"p")
            got = [] if p is None else [r.clustering for r in p.rows]
            assert got == [c(j) for j in range(len(got))]     # a prefix, no holes
        finally:
            eng.close()


def test_torn_last_record_is_ignored():
    fs = FaultInjectingFileSystem()
    eng = fresh(fs)
    model = Model()
    ops = make_ops(3, 40)
    run(eng, model, ops[:-1])
    eng.apply([to_update(ops[-1])])
    seg = eng.commitlog.segments()[-1][1]
    eng.abandon()
    fs.crash(seed=0, keep="none")
    fs.truncate(seg, fs.size(seg) - 5)                    # cut into the last record
    eng = open_engine(fs)
    try:
        check(eng, model)
    finally:
        eng.close()


def test_flipped_bit_in_a_data_chunk_is_reported_never_returned():
    fs = FaultInjectingFileSystem()
    eng = fresh(fs)
    model = Model()
    run(eng, model, [("put", k, i, b"value-%d" % i * 20, 1 + j * 20 + i)
                     for j, k in enumerate(KEYS) for i in range(20)])
    eng.flush()
    (h,) = eng._tables[TID].live_sstables()
    data = descriptor.path(h.reader.directory, h.generation, descriptor.DATA)
    eng.close()
    fs.flip_bit(data, 40, 3)
    eng = open_engine(fs)
    try:
        failures = 0
        for key in KEYS:
            try:
                p = eng.read(TID, key)
            except CorruptionError as e:
                failures += 1
                assert e.path == data and "Data.db" in str(e)
                continue
            assert {r.clustering: r.columns["v"].value for r in p.rows} == model.parts[key]
        assert failures >= 1
    finally:
        eng.close()


def _count_ops(build, action) -> int:
    fs = FaultInjectingFileSystem()
    eng, _model = build(fs)
    before = fs.ops
    action(eng)
    n = fs.ops - before
    eng.close()
    return n


def _crash_loop(build, action, verify_extra=None):
    total = _count_ops(build, action)
    assert total > 5
    for n in range(total + 1):
        fs = FaultInjectingFileSystem()
        eng, model = build(fs)
        fs.fail_after(n)
        try:
            action(eng)
        except (SimulatedCrash, StorageError):
            pass
        eng.abandon()
        fs.crash(seed=n)
        eng = open_engine(fs)
        try:
            check(eng, model)
            assert_nothing_half_written(fs, eng)
            if verify_extra:
                verify_extra(eng)
        finally:
            eng.close()
    return total


def test_crash_at_every_point_of_a_flush():
    def build(fs):
        eng = fresh(fs)
        model = Model()
        run(eng, model, make_ops(11, 120))
        eng.flush()
        run(eng, model, make_ops(12, 120, start_ts=1000))
        return eng, model

    assert _crash_loop(build, lambda eng: eng.flush()) > 10


def test_crash_at_every_point_of_a_compaction():
    def build(fs):
        eng = fresh(fs)                               # gc_grace 0: tombstones are purgeable
        model = Model()
        for part in range(4):
            run(eng, model, make_ops(20 + part, 60, start_ts=1000 * part + 1))
            eng.flush()
        run(eng, model, make_ops(30, 20, start_ts=9000))   # and some in the memtable
        return eng, model

    def inputs_or_output_never_both(eng):
        # the 4 inputs or the 1 output, plus the SSTable that replay flushed the memtable into
        assert len(eng._tables[TID].live_sstables()) in (2, 5)

    assert _crash_loop(build, lambda eng: eng.compact(), inputs_or_output_never_both) > 10


def test_crash_at_every_point_of_a_flush_followed_by_compaction():
    def build(fs):
        eng = fresh(fs)
        model = Model()
        for part in range(3):
            run(eng, model, make_ops(40 + part, 30, start_ts=1000 * part + 1))
            eng.flush()
        run(eng, model, make_ops(50, 30, start_ts=8000))
        return eng, model

    def action(eng):
        eng.flush()
        eng.compact()

    _crash_loop(build, action)


def test_concurrent_writers_flushes_and_compactions_then_power_loss():
    import threading
    for seed in range(3):
        fs = FaultInjectingFileSystem()
        eng = Engine.open("/db", fs=fs, commitlog_sync="batch", memtable_flush_bytes=6_000,
                          clock=lambda: T0 + 10_000)
        eng.create_table("ks", "t", TID)
        acked: dict = {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(w):
            for j in range(250):
                key, i = b"w%d" % w, j % 40
                eng.apply([to_update(("put", key, i, b"%d" % j, 1 + j))])
                with lock:
                    acked[(key, i)] = b"%d" % j

        def flusher():
            while not stop.is_set():
                eng.flush()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        fl = threading.Thread(target=flusher)
        fl.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        fl.join()
        eng.abandon()
        fs.crash(seed=seed, keep="none")
        eng = open_engine(fs)
        try:
            for (key, i), v in acked.items():
                p = eng.read(TID, key, [Slice(c(i), True, c(i), True)])
                assert p is not None and p.rows[0].columns["v"].value == v, (seed, key, i)
        finally:
            eng.close()


def test_crash_at_every_point_of_a_truncate_is_all_or_nothing():
    def build(fs):
        eng = fresh(fs)
        model = Model()
        run(eng, model, make_ops(60, 60))
        eng.flush()
        run(eng, model, make_ops(61, 40, start_ts=1000))
        return eng, model

    empty = {k: {} for k in KEYS}
    total = _count_ops(build, lambda eng: eng.truncate(TID))
    outcomes = set()
    for n in range(total + 1):
        fs = FaultInjectingFileSystem()
        eng, model = build(fs)
        fs.fail_after(n)
        try:
            eng.truncate(TID)
        except (SimulatedCrash, StorageError):
            pass
        eng.abandon()
        fs.crash(seed=n)
        eng = open_engine(fs)
        try:
            got = read_all(eng)
            assert got in (model.parts, empty)
            outcomes.add(got == empty)
            assert_nothing_half_written(fs, eng)
        finally:
            eng.close()
    assert outcomes == {True, False}
