"""Crashes during an SSTable write: only TOC-complete SSTables ever become visible."""
import pytest

from cqlpy.engine import descriptor as d
from cqlpy.engine.fs import FaultInjectingFileSystem, SimulatedCrash
from cqlpy.engine.murmur3 import token
from cqlpy.engine.rows import Cell, PartitionUpdate, Row
from cqlpy.engine.sstable_reader import SSTableReader
from cqlpy.engine.sstable_writer import SSTableWriter

TABLE = bytes(16)


def parts(n=40):
    out = []
    for i in range(n):
        u = PartitionUpdate(TABLE, b"key%d" % i)
        for j in range(10):
            cl = bytes([j])
            u.rows[cl] = Row(cl, Cell(b"", 1), None, {"v": Cell(b"value %d %d" % (i, j) * 20, 1)})
        out.append(u)
    return sorted(out, key=lambda u: (token(u.key), u.key))


def write(fs, generation=1):
    w = SSTableWriter(fs, "/t", generation, expected_partitions=40, index_interval=8)
    for u in parts():
        w.append(token(u.key), u)
    return w.finish()


def count_ops():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    start = fs.ops
    write(fs).close()
    return fs.ops - start


@pytest.mark.parametrize("keep", ["random", "none", "all"])
def test_crash_at_every_operation_leaves_nothing_or_a_whole_sstable(keep):
    total = count_ops()
    assert total > 10
    for n in range(total):
        fs = FaultInjectingFileSystem()
        fs.makedirs("/t")
        fs.fail_after(n)
        finished = False
        try:
            write(fs).close()
            finished = True
        except SimulatedCrash:
            pass
        fs.crash(seed=n, keep=keep)
        removed = d.cleanup_temporary(fs, "/t")
        gens = d.generations(fs, "/t")
        names = fs.listdir("/t")
        assert all(not name.startswith(d.TEMP_PREFIX) for name in names)
        if gens:
            assert gens == [1]
            reader = SSTableReader.open(fs, "/t", 1)
            assert reader.verify() == []
            got = [p.to_update(TABLE) for p in reader.scan()]
            assert [u.key for u in got] == [u.key for u in parts()]
            assert all(a.sorted_rows() == b.sorted_rows() for a, b in zip(got, parts()))
            reader.close()
        else:
            assert names == [], (n, names, removed)
            assert not finished      # finish() returned, so the SSTable must be durable


def test_abort_removes_temporaries():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    w = SSTableWriter(fs, "/t", 3, expected_partitions=1)
    u = parts(1)[0]
    w.append(token(u.key), u)
    assert any(n.startswith("tmp-3-") for n in fs.listdir("/t"))
    w.abort()
    assert fs.listdir("/t") == []


def test_context_manager_aborts_on_error():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    with pytest.raises(RuntimeError):
        with SSTableWriter(fs, "/t", 3, expected_partitions=1):
            raise RuntimeError("boom")
    assert fs.listdir("/t") == []


def test_cleanup_keeps_complete_sstables_and_removes_toc_less_ones():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    write(fs, 1).close()
    write(fs, 2).close()
    fs.remove(d.path("/t", 2, d.TOC))                    # as if deleted midway
    fs.write_bytes("/t/tmp-3-Data.db", b"partial")
    fs.write_bytes("/t/unrelated.txt", b"keep me")
    removed = d.cleanup_temporary(fs, "/t")
    assert "tmp-3-Data.db" in removed and "2-Data.db" in removed
    assert d.generations(fs, "/t") == [1]
    assert "unrelated.txt" in fs.listdir("/t")
    assert d.highest_generation(fs, "/t") == 1


def test_delete_sstable_removes_toc_first():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    write(fs, 1).close()
    fs.fail_after(1, kinds=["remove"])                  # die after removing only the TOC
    with pytest.raises(SimulatedCrash):
        d.delete_sstable(fs, "/t", 1)
    fs.crash(seed=0, keep="all")
    assert d.generations(fs, "/t") == []
    d.cleanup_temporary(fs, "/t")
    assert fs.listdir("/t") == []


def test_failure_at_the_last_directory_sync_removes_the_whole_sstable():
    class FailingLastSync(FaultInjectingFileSystem):
        syncs = 0

        def sync_dir(self, path):
            self.syncs += 1
            if self.syncs == 2:
                raise OSError("EIO")
            super().sync_dir(path)

    fs = FailingLastSync()
    fs.makedirs("/t")
    with pytest.raises(OSError):
        write(fs)
    assert fs.listdir("/t") == []
