"""Native-protocol benchmark: what the wire costs over the embedded session, measured in one run.

Workload: a table ``k text, c int, v text, PRIMARY KEY (k, c)``; N prepared INSERTs (k = "pk" +
hex, c = 0..9, v = 100 hex chars) then N point SELECTs of random (k, c).  Every number is measured
in this run and printed with its ratio to the embedded baseline:

* embedded   cqlpy.connect(path): Session.execute(prepared, values), in this process (baseline);
* client     cqlpy's protocol client (one request at a time) against ``cqlpy-server``;
* driver     cassandra-driver 3.30, ``session.execute`` one at a time, against ``cqlpy-server``;
* pipelined  cassandra-driver ``execute_concurrent_with_args`` (concurrency 32): requests in flight
             on one connection, answered by stream id.

The server runs as its own process (``python -m cqlpy.node --port 0``), as in production, so the
client and the server do not share a GIL.

Usage: python benchmarks/server.py [--quick] [--rows N]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import cqlpy  # noqa: E402
from cqlpy.protocol.client import connect as remote_connect  # noqa: E402

DDL_KS = "CREATE KEYSPACE bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
DDL_T = "CREATE TABLE bench.t (k text, c int, v text, PRIMARY KEY (k, c))"
INSERT = "INSERT INTO bench.t (k, c, v) VALUES (?, ?, ?)"
SELECT = "SELECT v FROM bench.t WHERE k = ? AND c = ?"


def workload(n: int, seed: int = 7):
    rng = random.Random(seed)
    keys = ["pk%016x" % rng.getrandbits(64) for _ in range(max(1, n // 10))]
    rows = [(k, c, os.urandom(50).hex()) for k in keys for c in range(10)][:n]
    reads = [(r[0], r[1]) for r in rng.choices(rows, k=n)]
    return rows, reads


def timed(fn, count: int) -> float:
    t0 = time.perf_counter()
    fn()
    return count / (time.perf_counter() - t0)


def run_session(session, rows, reads) -> tuple[float, float]:
    """(writes/s, reads/s) through the Session API (embedded or remote client)."""
    session.execute(DDL_KS)
    session.execute(DDL_T)
    ins, sel = session.prepare(INSERT), session.prepare(SELECT)
    w = timed(lambda: [session.execute(ins, r) for r in rows], len(rows))
    r = timed(lambda: [session.execute(sel, q).one() for q in reads], len(reads))
    return w, r


class ServerProcess:
    def __init__(self, data: str, *extra: str) -> None:
        self.log = os.path.join(data + "-server.log")
        self.proc = subprocess.Popen([sys.executable, "-m", "cqlpy.node", "--data", data, "--port", "0",
                                      *extra],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = re.search(r"CQL clients on [\d.]+:(\d+)", open(self.log).read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise SystemExit("server did not start:\n" + open(self.log).read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def driver_runs(port: int, rows, reads) -> dict[str, tuple[float, float]]:
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.concurrent import execute_concurrent_with_args
    from cassandra.policies import RoundRobinPolicy
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    cluster = Cluster(["127.0.0.1"], port=port, protocol_version=4,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    try:
        s = cluster.connect()
        s.execute(DDL_KS)
        s.execute(DDL_T)
        ins, sel = s.prepare(INSERT), s.prepare(SELECT)
        out = {}
        w = timed(lambda: [s.execute(ins, r) for r in rows], len(rows))
        r = timed(lambda: [s.execute(sel, q).one() for q in reads], len(reads))
        out["driver"] = (w, r)
        w = timed(lambda: execute_concurrent_with_args(s, ins, rows, concurrency=32), len(rows))
        r = timed(lambda: execute_concurrent_with_args(s, sel, reads, concurrency=32), len(reads))
        out["pipelined"] = (w, r)
        return out
    finally:
        cluster.shutdown()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2,000 rows instead of 20,000")
    p.add_argument("--rows", type=int, default=None)
    p.add_argument("--workers", type=int, default=1, help="the server's --workers")
    args = p.parse_args(argv)
    n = args.rows or (2_000 if args.quick else 20_000)
    rows, reads = workload(n)
    root = tempfile.mkdtemp(prefix="cqlpy-bench-server-")
    results: dict[str, tuple[float, float]] = {}
    try:
        with cqlpy.connect(os.path.join(root, "embedded")) as s:
            results["embedded"] = run_session(s, rows, reads)
        extra = ("--workers", str(args.workers))
        server = ServerProcess(os.path.join(root, "client"), *extra)
        try:
            with remote_connect("127.0.0.1", server.port) as s:
                results["client"] = run_session(s, rows, reads)
        finally:
            server.stop()
        try:
            import cassandra  # noqa: F401
        except ImportError:
            print("cassandra-driver not installed: driver runs skipped")
        else:
            server = ServerProcess(os.path.join(root, "driver"), *extra)
            try:
                results.update(driver_runs(server.port, rows, reads))
            finally:
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base_w, base_r = results["embedded"]
    print(f"native protocol benchmark: {n} prepared INSERTs, {n} point SELECTs")
    print(f"{'':12} {'writes/s':>10} {'ratio':>7} {'reads/s':>10} {'ratio':>7}")
    for name, (w, r) in results.items():
        print(f"{name:12} {w:10.0f} {w / base_w:7.2f} {r:10.0f} {r / base_r:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
