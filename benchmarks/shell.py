"""Shell benchmark: what the shell layer costs on top of the session, as ratios measured in this run.

Workloads (the table: ``k int, c int, v text, d double, PRIMARY KEY (k, c)``; 20,000 rows, or 2,000
with --quick):

* script: ``cqlpy -f`` style run of one INSERT per line (Shell.run_text: splitting, dispatch,
  error handling)  vs  session.execute of the same statement texts;
* render: cqlsh's table layout of every row (render.render, non-tty)  vs  Python's csv module
  writing the same cells (the cheapest reasonable text output);
* COPY TO: rows to CSV  vs  paging the same SELECT through session.execute (the read alone);
* COPY FROM: CSV to rows  vs  a prepared INSERT per row through session.execute (the write alone);
* completion: complete() at a WHERE clause, mean latency in ms (must stay interactive: < 20 ms).

Ratios are shell time / baseline time (lower is better; 1.0 = no overhead).
Usage: python benchmarks/shell.py [--quick] [--profile script|render|copy_to|copy_from]
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import cqlpy  # noqa: E402
from cqlpy_shell.catalog import load_catalog  # noqa: E402
from cqlpy_shell.completion import complete  # noqa: E402
from cqlpy_shell.output import Column, Output, RenderOptions  # noqa: E402
from cqlpy_shell.render import render  # noqa: E402
from cqlpy_shell.runner import Shell  # noqa: E402

SCHEMA = "CREATE TABLE t (k int, c int, v text, d double, PRIMARY KEY (k, c))"


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


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
    parser.add_argument("--quick", action="store_true", help="2,000 rows instead of 20,000")
    parser.add_argument("--profile", choices=["script", "render", "copy_to", "copy_from"])
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000
    root = tempfile.mkdtemp(prefix="cqlpy-shell-bench-")
    try:
        profiler = cProfile.Profile() if args.profile else None
        if profiler and args.profile == "script":
            profiler.enable()
        script = bench_script(root, n)
        if profiler and args.profile == "script":
            profiler.disable()
        session = fresh(root, "main")
        for text in statements(n):
            session.execute(text)
        if profiler and args.profile == "render":
            profiler.enable()
        rendered = bench_render(session, n)
        if profiler and args.profile == "render":
            profiler.disable()
        if profiler and args.profile in ("copy_to", "copy_from"):
            profiler.enable()
        copy_to, copy_from = bench_copy(session, root, n)
        if profiler and args.profile in ("copy_to", "copy_from"):
            profiler.disable()
        completion_ms = bench_completion(session)
        session.close()
        print(f"shell benchmark, {n:,} rows")
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
