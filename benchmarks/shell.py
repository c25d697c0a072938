"""Shell benchmark: the issue's two figures, as ratios measured in this run, plus the shell's overheads.

The issue's figures:

* startup: ``cqlpy --data DIR -e "SELECT release_version FROM system.local"`` (the installed entry
  point, a subprocess, on an embedded database in a temp folder) wall time, median of several runs,
  as a ratio to ``python -c pass`` run alternately with it (goal: < 6x).  Both run with bytecode
  caching on (a temp PYTHONPYCACHEPREFIX, warmed by one run first), as for any installed program;
* COPY FROM: rows/s of ``COPY t FROM 'file.csv'`` (CSV written by COPY TO) into a table of every
  CQL type (tests/shell/copydata.py: 25 columns, collections, tuples, a UDT), as a ratio to the rows/s
  of a prepared INSERT per row through ``session.execute`` with the same rows into the same schema
  (goal: >= 0.7x; higher is better).  Best of a few repetitions each, to resist a busy machine.

Also (shell time / baseline time, lower is better): a ``-f``-style script of INSERTs vs
session.execute of the same texts; rendering a result as a table vs csv.writer; COPY TO vs paging the
SELECT; COPY FROM on a 4-column table; and completion latency.

Usage: python benchmarks/shell.py [--quick] [--profile script|render|copy_to|copy_from]
(--quick: fewer rows and runs, well under a minute.)
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "shell"))

import copydata  # noqa: E402

import cqlpy  # noqa: E402
from cqlpy_shell.catalog import load_catalog  # noqa: E402
from cqlpy_shell.completion import complete  # noqa: E402
from cqlpy_shell.output import Column, Output, RenderOptions  # noqa: E402
from cqlpy_shell.render import render  # noqa: E402
from cqlpy_shell.runner import Shell  # noqa: E402

SCHEMA = "CREATE TABLE t (k int, c int, v text, d double, PRIMARY KEY (k, c))"
STARTUP_QUERY = "SELECT release_version FROM system.local"


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- the figures --------------------------------------------------------------------------------

def cqlpy_command() -> list[str]:
    """The installed ``cqlpy`` entry point run by this Python (no shell shims in between), else
    ``python -m cqlpy_shell`` (the same main())."""
    script = os.path.join(sysconfig.get_path("scripts"), "cqlpy")
    if os.path.exists(script):
        with open(script, "rb") as f:
            if f.read(2) == b"#!":
                return [sys.executable, script]
    return [sys.executable, "-m", "cqlpy_shell"]


def bench_startup(root: str, runs: int) -> tuple[float, float, list[float], list[float]]:
    """(median cqlpy seconds, median python -c pass seconds, all cqlpy runs, all python runs)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(root, "pycache")
    data = os.path.join(root, "startup-data")
    command = [*cqlpy_command(), "--data", data, "-e", STARTUP_QUERY]
    python = [sys.executable, "-c", "pass"]

    def run(args: list[str]) -> float:
        started = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=root, timeout=120)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return elapsed
    first = subprocess.run(command, env=env, capture_output=True, text=True, cwd=root, timeout=120)
    assert first.returncode == 0 and "5.0.0" in first.stdout, first.stderr[-2000:]
    run(python)
    shell_runs, python_runs = [], []
    for _ in range(runs):                     # alternated, so both see the same machine load
        python_runs.append(run(python))
        shell_runs.append(run(command))
    return statistics.median(shell_runs), statistics.median(python_runs), shell_runs, python_runs


def _typed_session(root: str, name: str):
    session = cqlpy.connect(os.path.join(root, name))
    session.execute("CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("USE b")
    session.execute(copydata.TYPE_DDL)
    return session


def bench_copy_from_every_type(root: str, n: int, repeats: int,
                               profiler: cProfile.Profile | None) -> tuple[float, float]:
    """(best COPY FROM seconds, best prepared-insert seconds) for n rows of every type."""
    import random
    session = _typed_session(root, "typed")
    rng = random.Random(5)
    rows = [copydata.row(i, rng) for i in range(n)]
    names = ", ".join(c for c, _ in copydata.COLUMNS)
    marks = ", ".join("?" for _ in copydata.COLUMNS)
    shell = Shell(session, stdout=io.StringIO(), stderr=io.StringIO())
    path = os.path.join(root, "typed.csv")
    inserts, copies = [], []
    for attempt in range(repeats):
        session.execute(copydata.create_table(f"base{attempt}"))
        session.execute(copydata.create_table(f"copy{attempt}"))
        prepared = session.prepare(f"INSERT INTO base{attempt} ({names}) VALUES ({marks})")
        execute = session.execute
        inserts.append(timed(lambda: [execute(prepared, row) for row in rows]))
        if attempt == 0:
            assert shell.run_text(f"COPY base0 TO '{path}' WITH HEADER = true;"), shell.stderr.getvalue()[:500]
        if profiler is not None:
            profiler.enable()
        copies.append(timed(lambda: shell.run_text(f"COPY copy{attempt} FROM '{path}' WITH HEADER = true;")))
        if profiler is not None:
            profiler.disable()
        assert not shell.failed, shell.stderr.getvalue()[:500]
        assert f"{n} rows imported" in shell.stdout.getvalue()
    count = session.execute("SELECT count(*) FROM copy0").one()[0]
    assert count == n, count
    session.close()
    return min(copies), min(inserts)


# --- the shell's other overheads ----------------------------------------------------------------------

def statements(n: int) -> list[str]:
    return [f"INSERT INTO t (k, c, v, d) VALUES ({i // 20}, {i % 20}, 'value {i}', {i / 7})" for i in range(n)]


def fresh(root: str, name: str):
    session = cqlpy.connect(os.path.join(root, name))
    session.execute("CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("USE b")
    session.execute(SCHEMA)
    return session


def bench_script(root: str, n: int) -> tuple[float, float]:
    texts = statements(n)
    base = fresh(root, "script_base")
    baseline = timed(lambda: [base.execute(t) for t in texts])
    base.close()
    session = fresh(root, "script_shell")
    shell = Shell(session, stdout=io.StringIO(), stderr=io.StringIO())
    script = ";\n".join(texts) + ";\n"
    measured = timed(lambda: shell.run_text(script, "bench.cql"))
    assert not shell.failed, shell.stderr.getvalue()[:500]
    session.close()
    return measured, baseline


def bench_render(session, n: int) -> tuple[float, float]:
    result = session.execute("SELECT * FROM t")
    columns = tuple(Column(name, t) for name, t in zip(result.column_names, result.column_types))
    rows = [tuple(r) for r in result.current_rows]
    output = Output(columns, rows, is_query=True)
    options = RenderOptions()

    def baseline():
        out = io.StringIO()
        writer = csv.writer(out)
        for row in rows:
            writer.writerow([str(v) for v in row])
    measured = timed(lambda: render(output, options))
    return measured, timed(baseline)


def bench_copy(session, root: str, n: int) -> tuple[tuple[float, float], tuple[float, float]]:
    shell = Shell(session, stdout=io.StringIO(), stderr=io.StringIO())
    path = os.path.join(root, "t.csv")

    def read_all():
        result = session.execute("SELECT * FROM t", fetch_size=1000)
        while result.has_more_pages:
            result = session.execute("SELECT * FROM t", fetch_size=1000, paging_state=result.paging_state)
    copy_to = timed(lambda: shell.run_text(f"COPY t TO '{path}';"))
    read = timed(read_all)
    warm = os.path.join(root, "warm.csv")                  # the first COPY FROM of a process imports
    with open(warm, "w") as f:                             # and plans its batch: not throughput
        f.write("".join(f"{i},{i},{i / 3},v\n" for i in range(50)))       # k, c, d, v
    session.execute("CREATE TABLE warm (k int, c int, v text, d double, PRIMARY KEY (k, c))")
    shell.run_text(f"COPY warm FROM '{warm}';")
    session.execute("CREATE TABLE t2 (k int, c int, v text, d double, PRIMARY KEY (k, c))")
    session.execute("CREATE TABLE t3 (k int, c int, v text, d double, PRIMARY KEY (k, c))")
    copy_from = timed(lambda: shell.run_text(f"COPY t2 FROM '{path}';"))
    assert not shell.failed, shell.stderr.getvalue()[:500]
    rows = list(csv.reader(open(path)))
    prepared = session.prepare("INSERT INTO t3 (k, c, d, v) VALUES (?, ?, ?, ?)")
    write = timed(lambda: [session.execute(prepared, (int(r[0]), int(r[1]), float(r[2]), r[3])) for r in rows])
    return (copy_to, read), (copy_from, write)


def bench_completion(session, repeats: int = 200) -> float:
    catalog = load_catalog(session)
    complete("SELECT * FROM t WHERE ", None, catalog)          # builds the grammar tables once
    started = time.perf_counter()
    for _ in range(repeats):
        complete("SELECT v, d FROM t WHERE k = 1 AND ", None, catalog)
    return (time.perf_counter() - started) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows and runs (well under a minute)")
    parser.add_argument("--profile", choices=["script", "render", "copy_to", "copy_from"])
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000
    typed_rows, repeats, startup_runs = (2_000, 2, 7) if args.quick else (10_000, 3, 15)
    root = tempfile.mkdtemp(prefix="cqlpy-shell-bench-")
    try:
        profiler = cProfile.Profile() if args.profile else None

        def profiled(kind: str, fn):
            if profiler is not None and args.profile == kind:
                profiler.enable()
                try:
                    return fn()
                finally:
                    profiler.disable()
            return fn()
        shell_s, python_s, shell_runs, python_runs = bench_startup(root, startup_runs)
        copy_s, insert_s = bench_copy_from_every_type(
            root, typed_rows, repeats, profiler if args.profile == "copy_from" else None)
        script = profiled("script", lambda: bench_script(root, n))
        session = fresh(root, "main")
        for text in statements(n):
            session.execute(text)
        rendered = profiled("render", lambda: bench_render(session, n))
        copy_to, copy_from = profiled("copy_to", lambda: bench_copy(session, root, n))
        completion_ms = bench_completion(session)
        session.close()

        startup_ratio = shell_s / python_s
        copy_ratio = (typed_rows / copy_s) / (typed_rows / insert_s)
        print("shell benchmark (the issue's figures)")
        print(f"  startup   cqlpy -e \"{STARTUP_QUERY}\" (embedded): median {shell_s * 1000:.0f} ms "
              f"vs python -c pass {python_s * 1000:.0f} ms over {startup_runs} runs -> "
              f"ratio {startup_ratio:.2f}x (goal < 6x) {'OK' if startup_ratio < 6 else 'MISSED'}")
        print(f"            cqlpy runs (ms): {' '.join(f'{t * 1000:.0f}' for t in shell_runs)}")
        print(f"            python runs (ms): {' '.join(f'{t * 1000:.0f}' for t in python_runs)}")
        print(f"  COPY FROM {typed_rows:,} rows of every type: {typed_rows / copy_s:,.0f} rows/s vs prepared "
              f"INSERT via session.execute {typed_rows / insert_s:,.0f} rows/s -> ratio {copy_ratio:.2f}x "
              f"(goal >= 0.7x) {'OK' if copy_ratio >= 0.7 else 'MISSED'}")
        print(f"other overheads, {n:,} rows of (k int, c int, v text, d double); ratio = shell time / baseline")
        for name, (measured, baseline), what in (
                ("script (-f)", script, "session.execute per statement"),
                ("render table", rendered, "csv.writer of the same cells"),
                ("COPY TO", copy_to, "paging the SELECT"),
                ("COPY FROM", copy_from, "prepared INSERT per row")):
            print(f"  {name:<13} {measured:8.3f} s   {n / measured:10,.0f} rows/s   "
                  f"ratio {measured / baseline:5.2f}x  vs {what} ({baseline:.3f} s)")
        print(f"  completion    {completion_ms:8.2f} ms per call (goal < 20 ms)")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
