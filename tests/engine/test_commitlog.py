"""CommitLog: add/replay, positions, sync modes, group commit, segment rollover and deletion."""
import os
import threading
import time

import pytest

from cqlpy.engine import commitlog as cl_module
from cqlpy.engine.commitlog import (CommitLog, LoggingReporter,
                                    MutationTooLarge)
from cqlpy.engine.commitlog_segment import HEADER_SIZE, parse_segment_file_name
from cqlpy.engine.fs import FaultInjectingFileSystem, RealFileSystem
from cqlpy.engine.rows import Cell, PartitionUpdate, Row
from cqlpy.errors import InvalidRequest, StorageError

T1 = b"\x01" * 16
T2 = b"\x02" * 16
DIR = "/data/commitlog"


class ListReporter:
    def __init__(self):
        self.problems = []

    def corruption(self, path, offset, nbytes, reason):
        self.problems.append((path, offset, nbytes, reason))


def upd(i, table=T1, size=200):
    u = PartitionUpdate(table, b"key%06d" % i)
    u.add_row(Row(b"c", Cell(b"", i, 0, 0xFFFFFFFF), None,
                  {"v": Cell(b"v" * size, i, 0, 0xFFFFFFFF)}))
    return u


def seq_of(updates):
    return int(updates[0].key[3:])


@pytest.fixture
def fs():
    return FaultInjectingFileSystem()


def open_log(fs, **kw):
    kw.setdefault("reporter", ListReporter())
    kw.setdefault("segment_size", 8192)
    return CommitLog(fs, DIR, **kw)


def log_files(fs):
    return [n for n in fs.listdir(DIR) if parse_segment_file_name(n)]


def test_add_then_replay_after_restart(fs):
    log = open_log(fs, sync="batch")
    batches = [[upd(i)] for i in range(10)] + [[upd(100), upd(101, T2)]]
    positions = [log.add(b) for b in batches]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert log.position() == positions[-1]
    log.abandon()
    fs.crash(keep="none")
    log2 = open_log(fs, sync="batch")
    replayed = list(log2.replay())
    assert [p for p, _ in replayed] == positions
    assert [u for _, u in replayed] == batches
    assert log2.reporter.problems == []
    assert log2.position() > positions[-1]              # a fresh segment with a larger id
    log2.close()


def test_replay_only_reads_segments_from_before_open(fs):
    log = open_log(fs, sync="batch")
    log.add([upd(1)])
    log.close()
    log2 = open_log(fs)
    log2.add([upd(2)])
    assert [seq_of(u) for _, u in log2.replay()] == [1]
    log2.close()


def test_empty_add_and_multi_table_record(fs):
    log = open_log(fs, sync="batch")
    p0 = log.position()
    p1 = log.add([])
    assert p1 > p0
    log.add([upd(1, T1), upd(2, T2)])
    assert sorted(log.segments()[0][2]) == [T1, T2]
    log.close()
    log2 = open_log(fs)
    assert [len(u) for _, u in log2.replay()] == [0, 2]
    log2.close()


def test_segments_roll_over_and_stay_within_size(fs):
    log = open_log(fs, sync="periodic", sync_period_ms=60_000, segment_size=4096)
    positions = [log.add([upd(i)]) for i in range(60)]
    ids = sorted({p.segment_id for p in positions})
    assert len(ids) >= 4
    assert [s[0] for s in log.segments()] == ids
    for name in log_files(fs):
        assert fs.size(f"{DIR}/{name}") <= 4096
    assert all(p.offset > HEADER_SIZE for p in positions)
    # a full segment is synced before the next one starts
    unsynced = fs.unsynced()
    assert all(path.endswith(f"-{ids[-1]}.log") for path in unsynced)
    log.close()
    log2 = open_log(fs, segment_size=4096)
    assert [p for p, _ in log2.replay()] == positions
    log2.close()


def test_mark_clean_deletes_flushed_segments_but_never_the_active_one(fs):
    log = open_log(fs, sync="periodic", sync_period_ms=60_000, segment_size=4096)
    positions = [log.add([upd(i)]) for i in range(60)]
    ids = [s[0] for s in log.segments()]
    log.mark_clean(T2, log.position())                 # another table: changes nothing
    assert [s[0] for s in log.segments()] == ids
    middle = positions[30]
    log.mark_clean(T1, middle)
    left = [s[0] for s in log.segments()]
    assert left[0] == middle.segment_id and left == ids[ids.index(middle.segment_id):]
    assert len(log_files(fs)) == len(left)
    log.mark_clean(T1, log.position())
    assert [s[0] for s in log.segments()] == [ids[-1]]  # the active one stays
    assert log.segments()[0][2] == []
    log.close()                                         # clean: the active one goes too
    assert log_files(fs) == []


def test_a_segment_goes_only_when_every_table_is_clean(fs):
    log = open_log(fs, segment_size=4096, sync_period_ms=60_000)
    for i in range(30):
        log.add([upd(i, T1 if i % 2 else T2)])
    end = log.position()
    n = len(log.segments())
    log.mark_clean(T1, end)
    assert len(log.segments()) == n
    log.mark_clean(T2, end)
    assert len(log.segments()) == 1
    log.close()


def test_mark_clean_before_a_later_write_keeps_the_table_dirty(fs):
    log = open_log(fs, segment_size=4096, sync_period_ms=60_000)
    log.add([upd(1)])
    early = log.position()
    log.add([upd(2)])
    log.mark_clean(T1, early)                           # flushed up to record 1 only
    assert log.segments()[0][2] == [T1]
    log.close()
    assert len(log_files(fs)) == 1


def test_close_keeps_a_dirty_active_segment(fs):
    log = open_log(fs)
    log.add([upd(1)])
    log.close()
    log.close()                                         # idempotent
    assert len(log_files(fs)) == 1
    with pytest.raises(StorageError):
        log.add([upd(2)])


def test_replayed_segments_are_deleted_once_their_tables_are_clean(fs):
    log = open_log(fs, segment_size=4096, sync_period_ms=60_000)
    for i in range(40):
        log.add([upd(i, T1 if i < 20 else T2)])
    log.close()
    old = log_files(fs)
    assert len(old) >= 3
    log2 = open_log(fs, segment_size=4096)
    log2.mark_clean(T1, log2.position())               # before replay: nothing is known yet
    log2.mark_clean(T2, log2.position())
    assert set(old) <= set(log_files(fs))
    records = list(log2.replay())
    assert len(records) == 40
    t1_end = records[19][0]
    log2.mark_clean(T1, t1_end)                         # T1's data is flushed; T2's is not
    remaining = {s[0] for s in log2.segments()}
    assert t1_end.segment_id in remaining or records[20][0].segment_id != t1_end.segment_id
    assert all(s[0] >= records[20][0].segment_id for s in log2.segments())
    log2.mark_clean(T2, log2.position())                # after the post-replay flush
    assert [s[0] for s in log2.segments()] == [log2.position().segment_id]
    log2.close()
    assert log_files(fs) == []


def test_discard_replayed_deletes_segments_of_unknown_tables(fs):
    log = open_log(fs, sync="batch")
    log.add([upd(1, b"\x09" * 16)])                     # a table the engine dropped meanwhile
    log.close()
    log2 = open_log(fs)
    assert len(list(log2.replay())) == 1
    log2.mark_clean(T1, log2.position())
    assert len(log_files(fs)) == 2                      # the old one is still dirty for 0x09..
    log2.discard_replayed()
    assert len(log_files(fs)) == 1
    log2.close()


def test_a_replay_abandoned_midway_keeps_its_segments(fs):
    log = open_log(fs, segment_size=4096, sync_period_ms=60_000)
    for i in range(40):
        log.add([upd(i)])
    log.close()
    n = len(log_files(fs))
    log2 = open_log(fs, segment_size=4096)
    it = log2.replay()
    next(it)
    it.close()
    log2.discard_replayed()
    log2.mark_clean(T1, log2.position())
    assert len(log_files(fs)) == n + 1
    log2.close()


def test_segment_ids_grow_across_restarts_even_if_the_clock_goes_back(fs, monkeypatch):
    log = open_log(fs)
    first = log.position().segment_id
    log.add([upd(1)])
    log.close()
    monkeypatch.setattr(cl_module.time, "time_ns", lambda: 5_000_000)
    log2 = open_log(fs)
    assert log2.position().segment_id == first + 1
    log2.close()
    log3 = open_log(fs, min_segment_id=10 ** 17)
    assert log3.position().segment_id == 10 ** 17
    log3.close()


def test_segment_ids_start_from_the_wall_clock(fs):
    before = time.time_ns() // 1000
    log = open_log(fs)
    assert log.position().segment_id >= before
    log.close()


def test_too_large_a_mutation_is_refused_clearly(fs):
    log = open_log(fs, segment_size=8192)
    with pytest.raises(MutationTooLarge) as e:
        log.add([upd(1, size=5000)])
    assert isinstance(e.value, InvalidRequest) and "too large" in str(e.value)
    assert e.value.limit == 4096 - 12
    log.add([upd(2, size=3000)])                        # just under half a segment fits
    log.close()


def test_batch_add_returns_only_when_synced(fs):
    log = open_log(fs, sync="batch")
    for i in range(5):
        log.add([upd(i)])
        assert fs.unsynced() == {}
    log.close()


def test_periodic_add_returns_at_once_and_the_thread_syncs(fs):
    log = open_log(fs, sync="periodic", sync_period_ms=20)
    log.add([upd(1)])
    assert fs.unsynced()                                # not synced yet ...
    deadline = time.monotonic() + 5
    while fs.unsynced() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fs.unsynced() == {}                          # ... but within a period or so
    log.close()


def test_periodic_sync_on_demand(fs):
    log = open_log(fs, sync="periodic", sync_period_ms=60_000)
    for i in range(3):
        log.add([upd(i)])
    assert fs.unsynced()
    log.sync()
    assert fs.unsynced() == {}
    log.sync()                                          # nothing pending: returns at once
    log.close()


def test_group_commit_shares_fsyncs_between_writers():
    fs = FaultInjectingFileSystem(sync_delay=0.002)
    log = open_log(fs, sync="batch", segment_size=1 << 20)
    syncs_before = fs.counts["sync"]
    writers, each = 16, 15
    acked = [[] for _ in range(writers)]
    start = threading.Barrier(writers)

    def writer(w):
        start.wait()
        for i in range(each):
            log.add([upd(w * 1000 + i)])
            acked[w].append(w * 1000 + i)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    syncs = fs.counts["sync"] - syncs_before
    assert syncs < writers * each / 3, syncs
    assert log.syncs == syncs
    log.abandon()
    fs.crash(keep="none")
    log2 = open_log(fs, segment_size=1 << 20)
    got = [seq_of(u) for _, u in log2.replay()]
    assert sorted(got) == sorted(s for a in acked for s in a)
    for w in range(writers):                            # each writer's records in its order
        assert [s for s in got if s // 1000 == w] == acked[w]
    log2.close()


def test_concurrent_periodic_writers_with_rollover(fs):
    log = open_log(fs, sync="periodic", sync_period_ms=5, segment_size=4096)
    positions = {}

    def writer(w):
        for i in range(50):
            positions[w * 1000 + i] = log.add([upd(w * 1000 + i)])

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    log2 = open_log(fs, segment_size=4096)
    got = {seq_of(u): p for p, u in log2.replay()}
    assert got == positions
    log2.close()


def test_replay_reports_corruption_and_goes_on_with_the_next_segment(fs):
    log = open_log(fs, segment_size=4096, sync_period_ms=60_000)
    positions = [log.add([upd(i)]) for i in range(40)]
    log.close()
    first = positions[0].segment_id
    in_first = [p for p in positions if p.segment_id == first]
    path = f"{DIR}/CommitLog-1-{first}.log"
    fs.flip_bit(path, in_first[2].offset + 20)          # inside the 4th record of segment 1
    rep = ListReporter()
    log2 = open_log(fs, segment_size=4096, reporter=rep)
    got = [p for p, _ in log2.replay()]
    assert got == in_first[:3] + [p for p in positions if p.segment_id != first]
    assert rep.problems == [(path, in_first[2].offset, in_first[3].offset - in_first[2].offset,
                             "record checksum mismatch")]
    log2.close()


def test_unknown_version_segment_is_reported_and_kept(fs):
    fs.makedirs(DIR)
    fs.write_bytes(f"{DIR}/CommitLog-9-5.log", b"future format")
    fs.sync_dir(DIR)
    rep = ListReporter()
    log = open_log(fs, reporter=rep)
    assert list(log.replay()) == []
    assert "version 9" in rep.problems[0][3]
    log.discard_replayed()
    log.mark_clean(T1, log.position())
    assert "CommitLog-9-5.log" in fs.listdir(DIR)
    log.close()


def test_default_reporter_logs(fs, caplog):
    log = open_log(fs, sync="batch", reporter=None)
    log.add([upd(1)])
    log.abandon()
    path = f"{DIR}/{log_files(fs)[0]}"
    fs.truncate(path, fs.size(path) - 3)
    log2 = CommitLog(fs, DIR)
    with caplog.at_level("WARNING"):
        assert list(log2.replay()) == []
    assert isinstance(log2.reporter, LoggingReporter)
    assert log2.reporter.problems[0][0] == path and "torn tail" in caplog.text
    log2.close()


def test_an_io_failure_makes_the_log_unusable(fs):
    log = open_log(fs, sync="batch")
    log.add([upd(1)])
    fs.fail_after(0, kinds={"sync"})
    with pytest.raises(StorageError) as e:
        log.add([upd(2)])
    assert "SimulatedCrash" in repr(e.value.__cause__)
    with pytest.raises(StorageError):
        log.add([upd(3)])
    log.close()                                         # quiet after a failure


def test_abandon_releases_a_waiting_batch_writer():
    fs = FaultInjectingFileSystem(sync_delay=0.2)
    log = open_log(fs, sync="batch")
    errors = []

    def writer():
        try:
            log.add([upd(1)])
        except StorageError as e:
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.05)
    log.abandon()
    t.join()
    # the sync already running may finish (acknowledged) or not; either way nobody hangs
    assert len(errors) <= 1


def test_bad_arguments():
    fs = FaultInjectingFileSystem()
    with pytest.raises(ValueError):
        CommitLog(fs, DIR, sync="group")
    with pytest.raises(ValueError):
        CommitLog(fs, DIR, segment_size=100)


def test_real_file_system_round_trip(tmp_path):
    d = str(tmp_path / "commitlog")
    fs = RealFileSystem()
    for mode in ("batch", "periodic"):
        log = CommitLog(fs, d, sync=mode, segment_size=64 * 1024)
        positions = [log.add([upd(i)]) for i in range(400)]
        log.close()
        log2 = CommitLog(fs, d, sync=mode, segment_size=64 * 1024, reporter=ListReporter())
        replayed = list(log2.replay())
        assert [p for p, _ in replayed] == positions
        assert [seq_of(u) for _, u in replayed] == list(range(400))
        log2.discard_replayed()
        log2.close()
        assert [n for n in os.listdir(d)] == []
