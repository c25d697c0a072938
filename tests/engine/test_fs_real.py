"""RealFileSystem: the os-backed file layer, including the folder lock across processes."""
import os
import subprocess
import sys
import threading

import pytest

from cqlpy.engine.fs import RealFileSystem
from cqlpy.errors import DataFolderLocked


@pytest.fixture
def fs():
    return RealFileSystem()


def test_create_write_sync_read(fs, tmp_path):
    p = str(tmp_path / "a")
    f = fs.create(p)
    f.write(b"hello ")
    f.write(b"world")
    assert f.tell() == 11
    f.sync()
    f.close()
    assert fs.read_bytes(p) == b"hello world"
    assert fs.size(p) == 11
    r = fs.open(p)
    assert r.read_at(6, 100) == b"world"
    assert r.size() == 11
    r.close()


def test_create_truncates_and_append_continues(fs, tmp_path):
    p = str(tmp_path / "a")
    fs.write_bytes(p, b"0123456789")
    with fs.append(p) as f:
        assert f.tell() == 10
        f.write(b"AB")
    assert fs.read_bytes(p) == b"0123456789AB"
    with fs.create(p) as f:
        f.write(b"x")
    assert fs.read_bytes(p) == b"x"


def test_large_buffered_writes(fs, tmp_path):
    p = str(tmp_path / "big")
    chunk = os.urandom(10_000)
    with fs.create(p) as f:
        for _ in range(30):
            f.write(chunk)
        f.flush()
        assert os.path.getsize(p) == 300_000
    assert fs.read_bytes(p) == chunk * 30


def test_concurrent_write_and_sync(fs, tmp_path):
    p = str(tmp_path / "c")
    f = fs.create(p)
    stop = threading.Event()

    def syncer():
        while not stop.is_set():
            f.sync()

    t = threading.Thread(target=syncer)
    t.start()
    for i in range(5000):
        f.write(b"%08d" % i)
    stop.set()
    t.join()
    f.close()
    assert fs.read_bytes(p) == b"".join(b"%08d" % i for i in range(5000))


def test_directory_operations(fs, tmp_path):
    d = str(tmp_path / "x" / "y")
    fs.makedirs(d)
    fs.makedirs(d)
    assert fs.isdir(d) and fs.exists(d)
    fs.write_bytes(d + "/b", b"b")
    fs.write_bytes(d + "/a", b"a")
    assert fs.listdir(d) == ["a", "b"]
    fs.rename(d + "/a", d + "/b")
    assert fs.listdir(d) == ["b"] and fs.read_bytes(d + "/b") == b"a"
    fs.sync_dir(d)
    fs.remove(d + "/b")
    assert not fs.exists(d + "/b")
    fs.rmtree(str(tmp_path / "x"))
    assert not fs.exists(d)


def test_lock_in_process(fs, tmp_path):
    p = str(tmp_path / "LOCK")
    lock = fs.lock(p)
    with pytest.raises(DataFolderLocked):
        fs.lock(p)
    lock.release()
    fs.lock(p).release()


def test_lock_on_a_directory(fs, tmp_path):
    lock = fs.lock(str(tmp_path))
    with pytest.raises(DataFolderLocked):
        fs.lock(str(tmp_path))
    lock.release()


@pytest.mark.slow
def test_lock_held_by_another_process_and_released_when_it_dies(fs, tmp_path):
    p = str(tmp_path / "LOCK")
    code = ("import sys, time; from cqlpy.engine.fs import RealFileSystem; "
            f"RealFileSystem().lock({p!r}); print('locked', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(DataFolderLocked):
            fs.lock(p)
    finally:
        child.kill()
        child.wait()
    fs.lock(p).release()
