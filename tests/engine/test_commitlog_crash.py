"""Commit-log crash tests on the fault-injecting FS: no acknowledged record lost, none torn returned."""
import pytest

from cqlpy.engine.commitlog import CommitLog
from cqlpy.engine.commitlog_segment import parse_segment_file_name
from cqlpy.engine.fs import FaultInjectingFileSystem, SimulatedCrash
from cqlpy.engine.rows import Cell, PartitionUpdate, Row
from cqlpy.errors import StorageError

T1 = b"\x01" * 16
DIR = "/data/commitlog"
SEGMENT = 4096


class ListReporter:
    def __init__(self):
        self.problems = []

    def corruption(self, path, offset, nbytes, reason):
        self.problems.append((path, offset, nbytes, reason))


def upd(i):
    u = PartitionUpdate(T1, b"key%06d" % i)
    u.add_row(Row(b"c", Cell(b"", i, 0, 0xFFFFFFFF), None,
                  {"v": Cell(bytes([i % 251]) * (150 + i % 60), i, 0, 0xFFFFFFFF)}))
    return u


def open_log(fs, mode="batch", reporter=None):
    return CommitLog(fs, DIR, sync=mode, sync_period_ms=3_600_000, segment_size=SEGMENT,
                     reporter=reporter or ListReporter())


def recover(fs):
    """Reopen after a crash: (sequence numbers replayed, reporter)."""
    rep = ListReporter()
    log = open_log(fs, reporter=rep)
    seqs = []
    for pos, updates in log.replay():
        assert len(updates) == 1
        seq = int(updates[0].key[3:])
        assert updates == [upd(seq)]                     # never a half or altered record
        seqs.append(seq)
    log.close()
    return seqs, rep


class Workload:
    """One writer: adds records 0..n-1, syncs every few (periodic), marks a prefix clean now and then."""

    def __init__(self, mode, n=45):
        self.mode, self.n = mode, n
        self.durable = []          # acknowledged as durable: batch add returned / covered by sync()
        self.attempted = 0
        self.clean_upto = -1       # records <= this seq were marked clean (may be deleted)
        self.log = None

    def run(self, fs):
        log = open_log(fs, self.mode)
        self.log = log
        positions = {}
        pending = []
        for i in range(self.n):
            self.attempted = i + 1
            positions[i] = log.add([upd(i)])
            if self.mode == "batch":
                self.durable.append(i)
            else:
                pending.append(i)
                if i % 7 == 6:
                    log.sync()
                    self.durable += pending
                    pending = []
            if i % 15 == 14:
                upto = positions[i - 8]
                log.mark_clean(T1, upto)
                self.clean_upto = i - 8
        log.sync()
        self.durable += pending
        log.close()

    def check(self, seqs):
        assert seqs == list(range(seqs[0], seqs[-1] + 1)) if seqs else True   # no holes, in order
        assert not seqs or seqs[-1] < self.attempted
        must = [s for s in self.durable if s > self.clean_upto]
        assert set(must) <= set(seqs), (must, seqs)
        assert not seqs or seqs[0] <= self.clean_upto + 1 or not must


def count_ops(mode):
    fs = FaultInjectingFileSystem()
    w = Workload(mode)
    start = fs.ops
    w.run(fs)
    return fs.ops - start


@pytest.mark.parametrize("mode", ["batch", "periodic"])
def test_crash_at_every_write_and_sync_point(mode):
    total = count_ops(mode)
    assert total > 60
    for n in range(total):
        fs = FaultInjectingFileSystem()
        fs.makedirs(DIR)
        w = Workload(mode)
        fs.fail_after(n)
        with pytest.raises((SimulatedCrash, StorageError)):
            w.run(fs)
        if w.log is not None:           # None: it died while opening
            w.log.abandon()
        fs.crash(seed=n, keep=("random", "none", "all")[n % 3])
        seqs, rep = recover(fs)
        w.check(seqs)
        for path, offset, nbytes, reason in rep.problems:     # a crash only ever tears the tail
            assert reason.startswith("torn tail"), reason
            assert offset + nbytes == fs.size(path)


@pytest.mark.parametrize("seed", range(12))
def test_batch_acknowledged_records_survive_a_power_loss(seed):
    fs = FaultInjectingFileSystem()
    log = open_log(fs, "batch")
    for i in range(30):
        log.add([upd(i)])
    # a write that reached the file but whose fsync never happened
    log.abandon()
    seg = log.segments()[-1][1]
    f = fs.append(seg)
    f.write(b"\x00\x00\x01\x00garbage-of-an-unsynced-record")
    fs.crash(seed=seed)
    seqs, rep = recover(fs)
    assert seqs == list(range(30))


def test_periodic_keeps_everything_up_to_the_last_sync():
    for seed in range(10):
        fs = FaultInjectingFileSystem()
        log = open_log(fs, "periodic")
        for i in range(20):
            log.add([upd(i)])
        log.sync()
        for i in range(20, 26):
            log.add([upd(i)])
        log.abandon()
        fs.crash(seed=seed)
        seqs, _ = recover(fs)
        assert seqs[:20] == list(range(20)) and seqs == list(range(len(seqs)))
        assert len(seqs) <= 26
    fs = FaultInjectingFileSystem()
    log = open_log(fs, "periodic")
    for i in range(5):
        log.add([upd(i)])
    log.abandon()
    fs.crash(keep="all")                               # a killed process: the OS had everything
    assert recover(fs)[0] == list(range(5))


def test_torn_last_record_stops_quietly_and_is_reported():
    fs = FaultInjectingFileSystem()
    log = open_log(fs, "batch")
    positions = [log.add([upd(i)]) for i in range(5)]
    log.abandon()
    path = log.segments()[0][1]
    fs.truncate(path, positions[4].offset - 10)
    fs.crash()
    seqs, rep = recover(fs)
    assert seqs == [0, 1, 2, 3]
    assert len(rep.problems) == 1
    p, offset, nbytes, reason = rep.problems[0]
    assert (p, offset, nbytes) == (path, positions[3].offset, positions[4].offset - 10 - positions[3].offset)
    assert reason.startswith("torn tail")


def test_flipped_bit_mid_file_is_reported_and_stops_that_segment():
    fs = FaultInjectingFileSystem()
    log = open_log(fs, "batch")
    positions = [log.add([upd(i)]) for i in range(40)]
    log.abandon()
    first = positions[0].segment_id
    in_first = [p for p in positions if p.segment_id == first]
    path = log.segments()[0][1]
    fs.flip_bit(path, in_first[1].offset + 100, bit=5)      # inside record 2 of the first segment
    fs.crash()
    seqs, rep = recover(fs)
    later = [i for i, p in enumerate(positions) if p.segment_id != first]
    assert seqs[:2] == [0, 1] and seqs[2:] == later
    assert [(p, o) for p, o, _, _ in rep.problems] == [(path, in_first[1].offset)]
    assert "checksum" in rep.problems[0][3]


def test_rollover_then_mark_clean_then_crash():
    fs = FaultInjectingFileSystem()
    log = open_log(fs, "batch")
    positions = [log.add([upd(i)]) for i in range(60)]
    segs_before = len(log.segments())
    log.mark_clean(T1, positions[40])
    kept = [s[0] for s in log.segments()]
    assert len(kept) < segs_before and kept[0] == positions[41].segment_id or \
        kept[0] == positions[40].segment_id
    log.abandon()
    fs.crash(keep="none")
    names = [n for n in fs.listdir(DIR) if parse_segment_file_name(n)]
    assert sorted(parse_segment_file_name(n)[1] for n in names) == kept
    seqs, _ = recover(fs)
    assert seqs[-1] == 59 and seqs[0] <= 41
