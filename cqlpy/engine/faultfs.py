"""An in-memory FileSystem that loses unsynced data on a simulated crash, for deterministic crash tests.

Model (strict POSIX, like leveldb's fault-injection Env):
- Each file is an inode with its current bytes and its *durable* bytes (a copy taken at the last
  ``sync()`` of any handle on it).
- Names live in two maps: the live namespace (what the running process sees) and the durable one.
  ``create`` of a new name, ``rename`` and ``remove`` change only the live map; ``sync_dir(d)`` copies
  the live state of every name directly in ``d`` into the durable map.  ``makedirs`` and ``rmtree``
  are durable at once.
- ``crash(seed, keep)`` ends the simulated process: the live namespace is replaced by the durable
  one, and each surviving file keeps its durable bytes plus, with ``keep="random"`` (default), a
  random prefix of its unsynced tail (a torn write); ``keep="none"`` drops every unsynced byte
  (power loss), ``keep="all"`` keeps them (the OS had them: a process kill).  Handles opened before
  the crash are dead: using them raises ``SimulatedCrash``; locks are released.
- ``fail_after(n)`` arms a failure: the n-th (0-based) failable operation from now (write, sync,
  create, rename, remove, sync_dir; a subset may be chosen) raises ``SimulatedCrash`` and so does
  every later one, until ``crash()``: the process "died" mid-flush or mid-compaction.  Reads keep
  working.  ``ops`` counts failable operations, so a test can run a workload once to count them and
  then crash at each point in turn.
- ``counts`` tallies operations by kind (e.g. ``counts["sync"]`` to check group commit).
- ``sync_delay`` (seconds) makes every ``sync()`` sleep, outside the file system's lock, to imitate a
  slow disk; the sync covers the bytes present when it was called.
"""
from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from typing import Iterable

from ..errors import DataFolderLocked
from .fs import FileLock, FileSystem, ReadableFile, WritableFile

FAILABLE = frozenset({"write", "sync", "create", "rename", "remove", "sync_dir"})


class SimulatedCrash(Exception):
    """The simulated process died at this operation (raised by FaultInjectingFileSystem)."""


class _Inode:
    __slots__ = ("data", "durable")

    def __init__(self, data: bytes = b"", durable: bytes = b"") -> None:
        self.data = bytearray(data)
        self.durable = bytes(durable)


def _norm(path: str) -> str:
    return os.path.normpath(path)


class _Writable(WritableFile):
    __slots__ = ("_fs", "_inode", "path", "_epoch", "_closed")

    def __init__(self, fs: "FaultInjectingFileSystem", inode: _Inode, path: str) -> None:
        self._fs, self._inode, self.path, self._epoch, self._closed = fs, inode, path, fs.epoch, False

    def write(self, data: bytes) -> None:
        with self._fs._lock:
            self._check()
            self._fs._op("write")
            self._inode.data += data

    def sync(self) -> None:
        fs = self._fs
        with fs._lock:
            self._check()
            fs._op("sync")
            n = len(self._inode.data)
        if fs.sync_delay:
            time.sleep(fs.sync_delay)
        with fs._lock:
            self._check()
            if fs._dead:
                raise SimulatedCrash("process died during fsync")
            if n > len(self._inode.durable) or not self._inode.data.startswith(self._inode.durable):
                self._inode.durable = bytes(self._inode.data[:n])

    def tell(self) -> int:
        return len(self._inode.data)

    def close(self) -> None:
        self._closed = True

    def _check(self) -> None:
        if self._epoch != self._fs.epoch:
            raise SimulatedCrash(f"handle on {self.path} belongs to a crashed process")
        if self._closed:
            raise ValueError(f"write to closed file {self.path}")


class _Readable(ReadableFile):
    __slots__ = ("_fs", "_inode", "path")

    def __init__(self, fs: "FaultInjectingFileSystem", inode: _Inode, path: str) -> None:
        self._fs, self._inode, self.path = fs, inode, path

    def read_at(self, offset: int, n: int) -> bytes:
        with self._fs._lock:
            return bytes(self._inode.data[offset:offset + n])

    def size(self) -> int:
        return len(self._inode.data)

    def close(self) -> None:
        pass


class _Lock(FileLock):
    __slots__ = ("_fs", "path", "_epoch")

    def __init__(self, fs: "FaultInjectingFileSystem", path: str) -> None:
        self._fs, self.path, self._epoch = fs, path, fs.epoch

    def release(self) -> None:
        with self._fs._lock:
            if self._epoch == self._fs.epoch:
                self._fs._locks.discard(self.path)


class FaultInjectingFileSystem(FileSystem):
    """In-memory file system with crash simulation; see the module docstring."""

    def __init__(self, *, sync_delay: float = 0.0) -> None:
        self._lock = threading.RLock()
        self._live: dict[str, _Inode] = {}
        self._durable: dict[str, _Inode] = {}
        self._dirs: set[str] = {_norm("/"), _norm(".")}
        self._locks: set[str] = set()
        self.sync_delay = sync_delay
        self.epoch = 0
        self.ops = 0                     # failable operations so far (all epochs)
        self.counts: Counter[str] = Counter()
        self._fail_at: int | None = None
        self._fail_kinds: frozenset[str] = FAILABLE
        self._dead = False
        self.crashed_at: str | None = None   # description of the operation that raised, if any

    # --- fault control ---------------------------------------------------------------------------

    def fail_after(self, n: int, kinds: Iterable[str] | None = None) -> None:
        """Make the n-th failable operation from now (0-based) raise SimulatedCrash, and all later ones."""
        with self._lock:
            self._fail_kinds = frozenset(kinds) if kinds is not None else FAILABLE
            self._fail_at = n
            self._fail_count = 0

    @property
    def dead(self) -> bool:
        return self._dead

    def crash(self, seed: int | None = 0, keep: str = "random") -> None:
        """Lose what was not synced (see the module docstring) and start a new 'process'."""
        if keep not in ("random", "none", "all"):
            raise ValueError(f"keep must be random, none or all, not {keep!r}")
        rng = random.Random(seed)
        with self._lock:
            survivors: dict[int, _Inode] = {}
            new_names: dict[str, _Inode] = {}
            for path in sorted(self._durable):
                old = self._durable[path]
                if id(old) not in survivors:
                    survivors[id(old)] = _Inode(*([self._after_crash(old, rng, keep)] * 2))
                new_names[path] = survivors[id(old)]
            self._live = dict(new_names)
            self._durable = dict(new_names)
            self._locks.clear()
            self.epoch += 1
            self._dead = False
            self._fail_at = None
            self.crashed_at = None

    @staticmethod
    def _after_crash(inode: _Inode, rng: random.Random, keep: str) -> bytes:
        data, durable = inode.data, inode.durable
        if data.startswith(durable):
            extra = len(data) - len(durable)
            if keep == "all":
                return bytes(data)
            if keep == "none" or extra == 0:
                return durable
            return bytes(data[:len(durable) + rng.randint(0, extra)])
        # truncated and rewritten since the last sync: the old bytes or a prefix of the new ones
        if keep == "all":
            return bytes(data)
        if keep == "none" or rng.random() < 0.5:
            return durable
        return bytes(data[:rng.randint(0, len(data))])

    def flip_bit(self, path: str, offset: int, bit: int = 0) -> None:
        """Corrupt one bit of ``path`` (live and durable bytes alike), as bad media would."""
        with self._lock:
            inode = self._inode(path)
            inode.data[offset] ^= 1 << bit
            if offset < len(inode.durable):
                d = bytearray(inode.durable)
                d[offset] ^= 1 << bit
                inode.durable = bytes(d)

    def truncate(self, path: str, size: int) -> None:
        """Cut ``path`` to ``size`` bytes, durably (a test helper)."""
        with self._lock:
            inode = self._inode(path)
            del inode.data[size:]
            inode.durable = inode.durable[:size]

    def durable_bytes(self, path: str) -> bytes | None:
        """What ``path`` would hold after a ``keep="none"`` crash (None if the name would vanish)."""
        with self._lock:
            inode = self._durable.get(_norm(path))
            return None if inode is None else inode.durable

    def unsynced(self) -> dict[str, int]:
        """Live names whose bytes or directory entry are not durable -> count of unsynced bytes."""
        with self._lock:
            out = {}
            for path, inode in self._live.items():
                extra = len(inode.data) - len(inode.durable)
                if extra or self._durable.get(path) is not inode:
                    out[path] = extra
            return out

    # --- internals -------------------------------------------------------------------------------

    def _op(self, kind: str, what: str = "") -> None:
        """Count one failable operation; raise SimulatedCrash if it is the armed one (lock held)."""
        if self._dead:
            raise SimulatedCrash(f"process already dead ({self.crashed_at})")
        self.ops += 1
        self.counts[kind] += 1
        if self._fail_at is not None and kind in self._fail_kinds:
            if self._fail_count >= self._fail_at:
                self._dead = True
                self.crashed_at = f"{kind} {what}".strip()
                raise SimulatedCrash(f"simulated crash at {self.crashed_at}")
            self._fail_count += 1

    def _inode(self, path: str) -> _Inode:
        inode = self._live.get(_norm(path))
        if inode is None:
            raise FileNotFoundError(path)
        return inode

    def _check_parent(self, path: str) -> str:
        p = _norm(path)
        if os.path.dirname(p) not in self._dirs and os.path.dirname(p) != "":
            raise FileNotFoundError(f"no directory for {path}")
        if p in self._dirs:
            raise IsADirectoryError(path)
        return p

    # --- FileSystem --------------------------------------------------------------------------------

    def create(self, path: str) -> WritableFile:
        with self._lock:
            p = self._check_parent(path)
            self._op("create", p)
            inode = self._live.get(p)
            if inode is None:
                inode = self._live[p] = _Inode()
            else:
                del inode.data[:]
            return _Writable(self, inode, p)

    def append(self, path: str) -> WritableFile:
        with self._lock:
            p = self._check_parent(path)
            inode = self._live.get(p)
            if inode is None:
                self._op("create", p)
                inode = self._live[p] = _Inode()
            return _Writable(self, inode, p)

    def open(self, path: str) -> ReadableFile:
        with self._lock:
            return _Readable(self, self._inode(path), _norm(path))

    def read_bytes(self, path: str) -> bytes:
        with self._lock:
            return bytes(self._inode(path).data)

    def rename(self, src: str, dst: str) -> None:
        with self._lock:
            s, d = _norm(src), self._check_parent(dst)
            inode = self._inode(s)
            self._op("rename", f"{s} -> {d}")
            del self._live[s]
            self._live[d] = inode

    def remove(self, path: str) -> None:
        with self._lock:
            p = _norm(path)
            self._inode(p)
            self._op("remove", p)
            del self._live[p]

    def exists(self, path: str) -> bool:
        with self._lock:
            p = _norm(path)
            return p in self._live or p in self._dirs

    def isdir(self, path: str) -> bool:
        with self._lock:
            return _norm(path) in self._dirs

    def listdir(self, path: str) -> list[str]:
        with self._lock:
            p = _norm(path)
            if p not in self._dirs:
                raise FileNotFoundError(path)
            names = {os.path.basename(f) for f in self._live if os.path.dirname(f) == p}
            names.update(os.path.basename(d) for d in self._dirs
                         if os.path.dirname(d) == p and d != p)
            return sorted(names)

    def makedirs(self, path: str) -> None:
        with self._lock:
            p = _norm(path)
            if p in self._live:
                raise FileExistsError(path)
            while p not in self._dirs and p not in ("", "/"):
                self._dirs.add(p)
                p = os.path.dirname(p)

    def rmtree(self, path: str) -> None:
        with self._lock:
            p = _norm(path)
            if p not in self._dirs:
                raise FileNotFoundError(path)
            prefix = p.rstrip("/") + "/"
            for names in (self._live, self._durable):
                for f in [f for f in names if f.startswith(prefix)]:
                    del names[f]
            self._dirs = {d for d in self._dirs if d != p and not d.startswith(prefix)}

    def size(self, path: str) -> int:
        with self._lock:
            return len(self._inode(path).data)

    def sync_dir(self, path: str) -> None:
        with self._lock:
            p = _norm(path)
            if p not in self._dirs:
                raise FileNotFoundError(path)
            self._op("sync_dir", p)
            for name in {f for f in self._live if os.path.dirname(f) == p} | {
                    f for f in self._durable if os.path.dirname(f) == p}:
                inode = self._live.get(name)
                if inode is None:
                    self._durable.pop(name, None)
                else:
                    self._durable[name] = inode

    def lock(self, path: str) -> FileLock:
        with self._lock:
            p = _norm(path)
            if p in self._locks:
                raise DataFolderLocked(path)
            self._locks.add(p)
            return _Lock(self, p)
