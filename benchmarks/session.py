"""Session benchmark: prepared INSERT, point SELECT and partition SELECT through session.execute, vs sqlite3.

Workload (as benchmarks/engine.py): partitions x 20 rows, k = "pk" + 16 hex chars, c = 0..19,
v = 200 hex chars, inserted in shuffled order.  Schema ``CREATE TABLE t (k text, c int, v text,
PRIMARY KEY (k, c))``; the baseline is sqlite3 with ``k TEXT, c INT, v TEXT, PRIMARY KEY (k, c))
WITHOUT ROWID``, one execute per row, COMMIT every 1000, measured in the same run.

* prepared writes: ``session.execute(insert_ps, (k, c, v))`` per row (commit log periodic, the
  default memtable holds them all, as in the engine benchmark's goal row); also the same writes
  with memtable_flush_bytes set for ~10 flushes (and compactions) during the run;
* point reads after flush: ``session.execute(select_ps, (k, c)).one().v`` for random (k, c),
  from SSTables (the data written above, flushed);
* partition reads: ``session.execute(partition_ps, (k,)).all()`` (20 rows each);
* also: the same point read with the CQL text and ``?`` values each time, and with ``%s``
  placeholders (run as ``?`` markers): both are statement-cache hits after the first call.

Usage: python benchmarks/session.py [--quick] [--rounds N] [--profile write|point|partition]
"""
from __future__ import annotations

import argparse
import os
import pstats
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cqlpy  # noqa: E402
from workload import (  # noqa: E402
    Profiler, make_workload, read_picks, sqlite_open, sqlite_partition_reads, sqlite_point_reads, sqlite_write)

GOALS = {"write": 0.5, "point": 0.3, "partition": 0.5}


# --- cqlpy -----------------------------------------------------------------------------------------

def cqlpy_open(path: str, **options):
    session = cqlpy.connect(path, **options)
    session.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("USE bench")
    session.execute("CREATE TABLE IF NOT EXISTS t (k text, c int, v text, PRIMARY KEY (k, c))")
    return session


def cqlpy_write(session, data) -> float:
    execute = session.execute
    ps = session.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)")
    t0 = time.perf_counter()
    for row in data:
        execute(ps, row)
    return time.perf_counter() - t0


def cqlpy_point_reads(session, picks) -> float:
    execute = session.execute
    ps = session.prepare("SELECT v FROM t WHERE k = ? AND c = ?")
    t0 = time.perf_counter()
    for pick in picks:
        v = execute(ps, pick).one().v
    assert v
    return time.perf_counter() - t0


def cqlpy_point_reads_text(session, picks) -> float:
    execute = session.execute
    t0 = time.perf_counter()
    for pick in picks:
        v = execute("SELECT v FROM t WHERE k = ? AND c = ?", pick).one().v
    assert v
    return time.perf_counter() - t0


def cqlpy_point_reads_percent(session, picks) -> float:
    execute = session.execute
    t0 = time.perf_counter()
    for pick in picks:
        v = execute("SELECT v FROM t WHERE k = %s AND c = %s", pick).one().v
    assert v
    return time.perf_counter() - t0


def cqlpy_partition_reads(session, picks, rows: int) -> float:
    execute = session.execute
    ps = session.prepare("SELECT c, v FROM t WHERE k = ?")
    t0 = time.perf_counter()
    for k in picks:
        vals = execute(ps, (k,)).all()
    assert len(vals) == rows
    return time.perf_counter() - t0


def wait_for_compactions(engine, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = engine.stats()
        if not st.get("pending_compactions") and not st.get("compaction_running") \
                and not st.get("pending_flushes"):
            return
        time.sleep(0.1)


# --- sqlite ----------------------------------------------------------------------------------------


# --- main ------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller run (about 10x less work)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="cqlpy and sqlite alternate this many times; the best of each is reported (default 3)")
    ap.add_argument("--profile", choices=["write", "point", "partition"],
                    help="print a cProfile of one cqlpy benchmark")
    args = ap.parse_args(argv)
    partitions, rows = (1000, 20) if args.quick else (10_000, 20)
    n_point, n_part = (5000, 1000) if args.quick else (50_000, 10_000)
    rounds = max(1, args.rounds)
    keys, data = make_workload(partitions, rows)
    point_picks, part_picks = read_picks(keys, rows, n_point, n_part)
    tmp = tempfile.mkdtemp(prefix="cqlpy-session-bench-")
    profiler = Profiler(args.profile)
    prof = profiler.profile
    profiled = profiler.run

    try:
        # writes, alternating sqlite and cqlpy (fresh databases each round; best of rounds); cqlpy's
        # default memtable holds them all; the last databases serve the reads, after a flush
        s_write = c_write = float("inf")
        db = session = None
        for r in range(rounds):
            if db is not None:
                db.close()
                session.close()
            db = sqlite_open(os.path.join(tmp, f"bench-{r}.sqlite"))
            s_write = min(s_write, sqlite_write(db, data))
            session = cqlpy_open(os.path.join(tmp, f"db-{r}"))
            c_write = min(c_write, profiled("write", lambda: cqlpy_write(session, data)))
        session.flush()
        wait_for_compactions(session.engine)
        table_id = session.catalog.table("bench", "t").id.bytes
        n_sstables = session.engine.stats(table_id).get("sstable_count")
        session.cache_hits = session.cache_misses = 0

        # the same writes with ~10 memtable flushes (and compactions) during the run
        flush_bytes = max(64 * 1024, len(data) * 260 // 10)
        flushing = cqlpy_open(os.path.join(tmp, "db-flushing"), memtable_flush_bytes=flush_bytes)
        c_write_flushing = cqlpy_write(flushing, data)
        flushing.close()

        c_point = c_part = s_point = s_part = c_text = c_percent = float("inf")
        for _ in range(rounds):
            c_point = min(c_point, profiled("point", lambda: cqlpy_point_reads(session, point_picks)))
            s_point = min(s_point, sqlite_point_reads(db, point_picks))
            c_part = min(c_part, profiled("partition",
                                          lambda: cqlpy_partition_reads(session, part_picks, rows)))
            s_part = min(s_part, sqlite_partition_reads(db, part_picks, rows))
            c_text = min(c_text, cqlpy_point_reads_text(session, point_picks))
            c_percent = min(c_percent, cqlpy_point_reads_percent(session, point_picks))
        cache = session.cache_stats()
        session.close()
        db.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(data)
    results = [
        ("prepared INSERT, periodic commit log", n, n / c_write, n / s_write, GOALS["write"]),
        ("prepared INSERT, ~10 flushes + compaction", n, n / c_write_flushing, n / s_write, None),
        (f"point SELECT after flush ({n_sstables} SSTables)", n_point, n_point / c_point,
         n_point / s_point, GOALS["point"]),
        (f"partition SELECT, {rows} rows", n_part, n_part / c_part, n_part / s_part, GOALS["partition"]),
        ("point SELECT, text + ? values (cached plan)", n_point, n_point / c_text, n_point / s_point, None),
        ("point SELECT, text + %s values (cached plan)", n_point, n_point / c_percent,
         n_point / s_point, None),
    ]
    print(f"cqlpy session benchmark ({'quick' if args.quick else 'full'}): {n} rows, "
          f"{partitions} partitions x {rows}; best of {rounds} for writes and reads")
    head = f"{'benchmark':<48} {'n':>7} {'cqlpy ops/s':>12} {'sqlite ops/s':>13} {'ratio':>7} {'goal':>9}"
    print(head)
    print("-" * len(head))
    for name, count, ours, base, goal in results:
        ratio = ours / base
        mark = "" if goal is None else (f">={goal:.1f}" + (" ok" if ratio >= goal else " MISS"))
        print(f"{name:<48} {count:>7} {ours:>12,.0f} {base:>13,.0f} {ratio:>6.2f}x {mark:>9}")
    print(f"statement cache over the read phase: {cache['hits']} hits, {cache['misses']} misses, "
          f"hit rate {cache['hit_rate']:.4f} (prepared executions do not consult it: they hold their plan)")
    print("baseline: sqlite3 WITHOUT ROWID, execute per row, COMMIT every 1000, same picks, same run")
    if prof is not None:
        print()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
