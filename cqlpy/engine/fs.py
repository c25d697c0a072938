"""The file layer: every engine file operation goes through a FileSystem, so tests can inject faults.

``RealFileSystem`` maps the interface onto ``os``; ``cqlpy.engine.faultfs.FaultInjectingFileSystem``
(also importable from here) is the in-memory one that loses unsynced data on a simulated crash.

Durability rules the engine must follow, and that the fault-injecting file system enforces:
- bytes written to a file are durable only after ``WritableFile.sync()`` on that file;
- a create, rename or remove is durable only after ``sync_dir()`` of the directory holding the name
  (both directories for a rename across directories);
- ``makedirs`` and ``rmtree`` are durable at once (a simplification: the engine never depends on a
  directory appearing or vanishing atomically with its contents).
Paths are ``str``.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import threading

from ..errors import DataFolderLocked


class WritableFile:
    """A file open for sequential writing."""

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Hand buffered bytes to the OS (no durability promise; ``sync`` implies it)."""

    def sync(self) -> None:
        """Flush and fsync: once this returns, everything written so far survives a crash."""
        raise NotImplementedError

    def tell(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "WritableFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ReadableFile:
    """A file open for random-access reading."""

    def read_at(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes from ``offset`` (fewer only at the end of the file)."""
        raise NotImplementedError

    def size(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "ReadableFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FileLock:
    """An exclusive lock; released by ``release()`` or when the process dies."""

    def release(self) -> None:
        raise NotImplementedError


class FileSystem:
    """The operations the engine needs; see the module docstring for the durability rules."""

    def create(self, path: str) -> WritableFile:
        """Create or truncate ``path`` for writing."""
        raise NotImplementedError

    def append(self, path: str) -> WritableFile:
        """Open ``path`` for appending, creating it if missing."""
        raise NotImplementedError

    def open(self, path: str) -> ReadableFile:
        raise NotImplementedError

    def read_bytes(self, path: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, path: str, data: bytes, *, sync: bool = True) -> None:
        """Convenience: create ``path`` with ``data`` (and fsync it unless told not to)."""
        f = self.create(path)
        try:
            f.write(data)
            if sync:
                f.sync()
        finally:
            f.close()

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace ``dst`` with ``src``."""
        raise NotImplementedError

    def remove(self, path: str) -> None:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def isdir(self, path: str) -> bool:
        raise NotImplementedError

    def listdir(self, path: str) -> list[str]:
        """Names (not paths) in ``path``, sorted."""
        raise NotImplementedError

    def makedirs(self, path: str) -> None:
        """Create ``path`` and its parents; no error if it exists."""
        raise NotImplementedError

    def rmtree(self, path: str) -> None:
        raise NotImplementedError

    def size(self, path: str) -> int:
        raise NotImplementedError

    def sync_dir(self, path: str) -> None:
        """Make creates, renames and removes of names in directory ``path`` durable."""
        raise NotImplementedError

    def lock(self, path: str) -> FileLock:
        """Take an exclusive lock on ``path``; ``errors.DataFolderLocked`` if someone holds it."""
        raise NotImplementedError


# --- the real file system ------------------------------------------------------------------------

_WRITE_BUFFER = 64 * 1024


class RealWritableFile(WritableFile):
    """A buffered writer over a raw file descriptor; ``sync`` = write out the buffer + fsync.

    Thread-safe in one useful way: ``write`` may run in one thread while ``sync`` runs in another
    (the fsync itself happens outside the handle's lock and covers every byte written before it).
    """

    __slots__ = ("path", "_fd", "_buf", "_pos", "_mutex")

    def __init__(self, path: str, fd: int, pos: int) -> None:
        self.path, self._fd, self._buf, self._pos = path, fd, bytearray(), pos
        self._mutex = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._mutex:
            self._buf += data
            self._pos += len(data)
            if len(self._buf) >= _WRITE_BUFFER:
                self._write_out()

    def _write_out(self) -> None:
        buf = self._buf
        if buf:
            self._buf = bytearray()
            view = memoryview(buf)
            done = 0
            try:
                while done < len(buf):
                    done += os.write(self._fd, view[done:])
            finally:
                view.release()

    def flush(self) -> None:
        with self._mutex:
            self._write_out()

    def sync(self) -> None:
        with self._mutex:
            self._write_out()
            fd = self._fd
        os.fsync(fd)

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        with self._mutex:
            if self._fd >= 0:
                try:
                    self._write_out()
                finally:
                    os.close(self._fd)
                    self._fd = -1


class RealReadableFile(ReadableFile):
    __slots__ = ("path", "_fd")

    def __init__(self, path: str, fd: int) -> None:
        self.path, self._fd = path, fd

    def read_at(self, offset: int, n: int) -> bytes:
        data = os.pread(self._fd, n, offset)
        if len(data) < n:           # pread may return short reads; loop until EOF
            parts = [data]
            got = len(data)
            while got < n:
                more = os.pread(self._fd, n - got, offset + got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        return data

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class RealFileLock(FileLock):
    __slots__ = ("path", "_fd")

    def __init__(self, path: str, fd: int) -> None:
        self.path, self._fd = path, fd

    def release(self) -> None:
        if self._fd >= 0:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = -1


class RealFileSystem(FileSystem):
    """The operating system's file system."""

    def create(self, path: str) -> WritableFile:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        return RealWritableFile(path, fd, 0)

    def append(self, path: str) -> WritableFile:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return RealWritableFile(path, fd, os.fstat(fd).st_size)

    def open(self, path: str) -> ReadableFile:
        return RealReadableFile(path, os.open(path, os.O_RDONLY))

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def remove(self, path: str) -> None:
        os.remove(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def rmtree(self, path: str) -> None:
        shutil.rmtree(path)

    def size(self, path: str) -> int:
        return os.path.getsize(path)

    def sync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def lock(self, path: str) -> FileLock:
        if os.path.isdir(path):
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataFolderLocked(path) from None
        return RealFileLock(path, fd)


def __getattr__(name: str):
    """Re-export the fault-injecting file system lazily (it lives in ``faultfs``)."""
    if name in ("FaultInjectingFileSystem", "SimulatedCrash"):
        from . import faultfs
        return getattr(faultfs, name)
    raise AttributeError(name)
