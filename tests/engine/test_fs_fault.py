"""The fault-injecting file system: what survives a simulated crash, and fail-after-N."""
import threading

import pytest

from cqlpy.engine.fs import FaultInjectingFileSystem, SimulatedCrash
from cqlpy.errors import DataFolderLocked


@pytest.fixture
def fs():
    f = FaultInjectingFileSystem()
    f.makedirs("/data/d")
    return f


def write_file(fs, path, data, *, sync=True, sync_dir=True):
    f = fs.create(path)
    f.write(data)
    if sync:
        f.sync()
    f.close()
    if sync_dir:
        fs.sync_dir(fs_dir(path))


def fs_dir(path):
    return path.rsplit("/", 1)[0]


def test_synced_data_survives_every_crash_mode(fs):
    write_file(fs, "/data/d/a", b"hello")
    for keep in ("none", "random", "all"):
        fs.crash(seed=1, keep=keep)
        assert fs.read_bytes("/data/d/a") == b"hello"


def test_unsynced_bytes_are_lost_on_power_loss(fs):
    write_file(fs, "/data/d/a", b"synced")
    f = fs.append("/data/d/a")
    f.write(b"-unsynced")
    assert fs.read_bytes("/data/d/a") == b"synced-unsynced"
    fs.crash(keep="none")
    assert fs.read_bytes("/data/d/a") == b"synced"


def test_unsynced_bytes_all_kept_on_process_kill(fs):
    write_file(fs, "/data/d/a", b"synced")
    f = fs.append("/data/d/a")
    f.write(b"-written")
    fs.crash(keep="all")
    assert fs.read_bytes("/data/d/a") == b"synced-written"


def test_random_crash_keeps_a_prefix_of_the_unsynced_tail(fs):
    tail = bytes(range(200))
    seen = set()
    for seed in range(40):
        f2 = FaultInjectingFileSystem()
        f2.makedirs("/d")
        write_file(f2, "/d/a", b"S" * 10)
        f = f2.append("/d/a")
        f.write(tail[:100])
        f.write(tail[100:])
        f2.crash(seed=seed)
        got = f2.read_bytes("/d/a")
        assert got[:10] == b"S" * 10
        assert tail.startswith(got[10:])           # a prefix: torn, never reordered or garbled
        seen.add(len(got))
    assert len(seen) > 10                          # the cut point really varies with the seed
    assert min(seen) < 110 < max(seen)


def test_crash_is_deterministic_for_a_seed(fs):
    def run(seed):
        f = FaultInjectingFileSystem()
        f.makedirs("/d")
        write_file(f, "/d/a", b"x", sync=True)
        h = f.append("/d/a")
        h.write(b"y" * 1000)
        f.crash(seed=seed)
        return f.read_bytes("/d/a")
    assert run(7) == run(7)


def test_sync_covers_only_bytes_written_before_it(fs):
    f = fs.create("/data/d/a")
    f.write(b"one")
    f.sync()
    f.write(b"two")
    fs.sync_dir("/data/d")
    assert fs.durable_bytes("/data/d/a") == b"one"
    assert fs.unsynced() == {"/data/d/a": 3}


def test_unsynced_create_is_reverted(fs):
    write_file(fs, "/data/d/new", b"data", sync=True, sync_dir=False)
    assert fs.exists("/data/d/new")
    fs.crash(keep="all")                     # even keeping every byte, the name was never durable
    assert not fs.exists("/data/d/new")
    assert fs.listdir("/data/d") == []


def test_unsynced_rename_is_reverted(fs):
    write_file(fs, "/data/d/old", b"old contents")
    write_file(fs, "/data/d/tmp", b"new contents")
    fs.rename("/data/d/tmp", "/data/d/old")
    assert fs.read_bytes("/data/d/old") == b"new contents"
    fs.crash(keep="all")
    assert fs.read_bytes("/data/d/old") == b"old contents"
    assert fs.read_bytes("/data/d/tmp") == b"new contents"


def test_synced_rename_survives(fs):
    write_file(fs, "/data/d/tmp", b"new")
    fs.rename("/data/d/tmp", "/data/d/final")
    fs.sync_dir("/data/d")
    fs.crash()
    assert fs.listdir("/data/d") == ["final"]
    assert fs.read_bytes("/data/d/final") == b"new"


def test_unsynced_remove_is_reverted_and_synced_remove_sticks(fs):
    write_file(fs, "/data/d/a", b"a")
    write_file(fs, "/data/d/b", b"b")
    fs.remove("/data/d/a")
    fs.crash()
    assert fs.listdir("/data/d") == ["a", "b"]
    fs.remove("/data/d/a")
    fs.sync_dir("/data/d")
    fs.crash()
    assert fs.listdir("/data/d") == ["b"]


def test_sync_dir_only_commits_its_own_directory(fs):
    fs.makedirs("/data/e")
    write_file(fs, "/data/d/a", b"a", sync_dir=False)
    write_file(fs, "/data/e/b", b"b", sync_dir=False)
    fs.sync_dir("/data/e")
    fs.crash()
    assert fs.listdir("/data/d") == []
    assert fs.listdir("/data/e") == ["b"]


def test_makedirs_and_listdir(fs):
    fs.makedirs("/data/d/x/y")
    fs.makedirs("/data/d/x/y")                # exist_ok
    write_file(fs, "/data/d/f", b"")
    assert fs.listdir("/data/d") == ["f", "x"]
    assert fs.isdir("/data/d/x") and not fs.isdir("/data/d/f")
    with pytest.raises(FileNotFoundError):
        fs.create("/nowhere/f")
    with pytest.raises(FileNotFoundError):
        fs.listdir("/nowhere")


def test_rmtree_is_immediate_and_durable(fs):
    fs.makedirs("/data/d/t")
    write_file(fs, "/data/d/t/a", b"a")
    fs.rmtree("/data/d/t")
    assert not fs.exists("/data/d/t") and not fs.exists("/data/d/t/a")
    fs.crash()
    assert not fs.exists("/data/d/t/a")


def test_read_paths(fs):
    write_file(fs, "/data/d/a", b"0123456789")
    r = fs.open("/data/d/a")
    assert r.read_at(2, 3) == b"234"
    assert r.read_at(8, 10) == b"89"
    assert r.size() == 10 == fs.size("/data/d/a")
    r.close()
    with pytest.raises(FileNotFoundError):
        fs.open("/data/d/missing")


def test_truncating_create_then_crash_gives_old_or_new_prefix(fs):
    write_file(fs, "/data/d/a", b"old-old-old")
    outcomes = set()
    for seed in range(20):
        f2 = FaultInjectingFileSystem()
        f2.makedirs("/d")
        write_file(f2, "/d/a", b"old-old-old")
        h = f2.create("/d/a")
        h.write(b"new-new")
        f2.crash(seed=seed)
        got = f2.read_bytes("/d/a")
        assert got == b"old-old-old" or b"new-new".startswith(got)
        outcomes.add(got == b"old-old-old")
    assert outcomes == {True, False}


def test_fail_after_n_raises_and_stays_dead_until_crash(fs):
    fs.fail_after(2)
    f = fs.create("/data/d/a")                  # op 0
    f.write(b"x")                               # op 1
    with pytest.raises(SimulatedCrash):
        f.sync()                                # op 2: the armed one
    assert fs.dead
    with pytest.raises(SimulatedCrash):
        f.write(b"y")
    with pytest.raises(SimulatedCrash):
        fs.rename("/data/d/a", "/data/d/b")
    assert fs.read_bytes("/data/d/a") == b"x"   # reads still work
    fs.crash(keep="none")
    assert not fs.dead and not fs.exists("/data/d/a")
    write_file(fs, "/data/d/a", b"again")       # the new process works normally
    assert fs.read_bytes("/data/d/a") == b"again"


def test_fail_after_counts_only_chosen_kinds(fs):
    fs.fail_after(1, kinds={"rename"})
    write_file(fs, "/data/d/a", b"a")
    write_file(fs, "/data/d/b", b"b")
    fs.rename("/data/d/a", "/data/d/c")         # rename 0
    with pytest.raises(SimulatedCrash):
        fs.rename("/data/d/b", "/data/d/d")     # rename 1
    assert "rename" in fs.crashed_at


def test_ops_counter_lets_a_test_enumerate_crash_points():
    def workload(f):
        write_file(f, "/d/a", b"1")
        write_file(f, "/d/b", b"2")
        f.rename("/d/b", "/d/c")
        f.sync_dir("/d")

    probe = FaultInjectingFileSystem()
    probe.makedirs("/d")
    before = probe.ops
    workload(probe)
    total = probe.ops - before
    assert total == 10
    for n in range(total):
        f = FaultInjectingFileSystem()
        f.makedirs("/d")
        f.fail_after(n)
        with pytest.raises(SimulatedCrash):
            workload(f)
        f.crash(seed=n)
        names = f.listdir("/d")
        assert not ("b" in names and "c" in names)
        for name in names:                     # a durable name never shows a torn file here
            assert f.read_bytes(f"/d/{name}") in (b"1", b"2")


def test_handles_of_a_crashed_process_are_dead(fs):
    f = fs.create("/data/d/a")
    fs.crash()
    with pytest.raises(SimulatedCrash):
        f.write(b"late")
    with pytest.raises(SimulatedCrash):
        f.sync()


def test_counts_by_kind(fs):
    write_file(fs, "/data/d/a", b"a")
    assert fs.counts["create"] == 1 and fs.counts["write"] == 1
    assert fs.counts["sync"] == 1 and fs.counts["sync_dir"] == 1


def test_lock_is_exclusive_and_released_by_crash(fs):
    lock = fs.lock("/data/LOCK")
    with pytest.raises(DataFolderLocked):
        fs.lock("/data/LOCK")
    lock.release()
    fs.lock("/data/LOCK")
    fs.crash()
    fs.lock("/data/LOCK").release()


def test_flip_bit_and_truncate_helpers(fs):
    write_file(fs, "/data/d/a", b"\x00\x00\x00")
    fs.flip_bit("/data/d/a", 1, bit=3)
    assert fs.read_bytes("/data/d/a") == b"\x00\x08\x00"
    fs.truncate("/data/d/a", 2)
    fs.crash(keep="none")
    assert fs.read_bytes("/data/d/a") == b"\x00\x08"


def test_sync_delay_runs_outside_the_lock():
    fs = FaultInjectingFileSystem(sync_delay=0.05)
    fs.makedirs("/d")
    f = fs.create("/d/a")
    f.write(b"x")
    t = threading.Thread(target=f.sync)
    t.start()
    g = fs.create("/d/b")                   # not blocked by the sleeping sync
    g.write(b"y")
    assert t.is_alive()
    t.join()
    assert fs.durable_bytes("/d/a") is None  # name not synced yet
    assert fs.unsynced()["/d/a"] == 0        # but its bytes are
