"""The workload of the storage notes, and the sqlite3 baseline every read/write benchmark runs beside it.

Partitions x rows, k = "pk" + 16 hex chars, c = 0..rows-1, v = 200 hex chars, in shuffled order;
the baseline is sqlite3 ``(k TEXT, c INT, v TEXT, PRIMARY KEY (k, c)) WITHOUT ROWID``, one execute
per row, COMMIT every 1000, reads with the same key choices.  Each function returns seconds.
"""
from __future__ import annotations

import cProfile
import os
import random
import sqlite3
import time


def make_workload(partitions: int, rows: int, seed: int = 42):
    rng = random.Random(seed)
    keys = ["pk" + "%016x" % rng.getrandbits(64) for _ in range(partitions)]
    data = [(k, c, os.urandom(100).hex()) for k in keys for c in range(rows)]
    rng.shuffle(data)
    return keys, data


def sqlite_open(path: str):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (k TEXT, c INT, v TEXT, PRIMARY KEY (k, c)) WITHOUT ROWID")
    return db


def sqlite_write(db, data) -> float:
    ex = db.execute
    t0 = time.perf_counter()
    ex("BEGIN")
    for i, (k, c, v) in enumerate(data, 1):
        ex("INSERT INTO t (k, c, v) VALUES (?, ?, ?)", (k, c, v))
        if i % 1000 == 0:
            ex("COMMIT")
            ex("BEGIN")
    ex("COMMIT")
    return time.perf_counter() - t0


def sqlite_point_reads(db, picks) -> float:
    ex = db.execute
    t0 = time.perf_counter()
    for k, c in picks:
        v = ex("SELECT v FROM t WHERE k = ? AND c = ?", (k, c)).fetchone()[0]
    assert v
    return time.perf_counter() - t0


def sqlite_partition_reads(db, picks, rows: int) -> float:
    ex = db.execute
    t0 = time.perf_counter()
    for k in picks:
        vals = ex("SELECT c, v FROM t WHERE k = ?", (k,)).fetchall()
    assert len(vals) == rows
    return time.perf_counter() - t0


def read_picks(keys, rows: int, n_point: int, n_part: int, seed: int = 7):
    """The (k, c) pairs of the point reads and the keys of the partition reads, same for both sides."""
    rng = random.Random(seed)
    point_picks = [(rng.choice(keys), rng.randrange(rows)) for _ in range(n_point)]
    part_picks = [rng.choice(keys) for _ in range(n_part)]
    return point_picks, part_picks


class Profiler:
    """cProfile around the one benchmark named by --profile (``kind``), or nothing."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self.profile = cProfile.Profile() if kind else None

    def run(self, kind: str, fn):
        if self.profile is None or kind != self.kind:
            return fn()
        self.profile.enable()
        try:
            return fn()
        finally:
            self.profile.disable()
