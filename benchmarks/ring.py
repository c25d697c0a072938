"""Ring benchmark: what replication costs, how fast a dead node is convicted, how long a join takes.

Real ``cqlpy-server`` processes on 127.0.0.1-4 (one port triple shared by all: native, storage,
admin), measured in one run:

* one node   a one-node ring (``--seeds`` itself), keyspace RF 1, consistency ONE (baseline);
* three      three nodes, keyspace RF 3, consistency QUORUM (every write reaches three replicas,
             every read needs two answers), the driver's token-aware policy over all three;
  each with cassandra-driver prepared INSERTs then point SELECTs, ``--concurrency`` requests in
  flight (``execute_async`` with a window), throughput and p99 latency, and the ratio three/one;
* join       a fourth node starts (empty data folder, not a seed) and bootstraps: it gossips
             STATUS BOOT, streams the ranges it gains from the three-node ring's data, turns
             NORMAL; seconds from process start to UN on another node's ``nodetool status``
             and to its native port listening (serving);
* convict    ``kill -9`` of one node; seconds until another node's ``nodetool status`` shows it
             DN (the phi-accrual detector; ``--phi`` threshold, default 8: expect ~18-30 s;
             ``--quick`` uses 4 unless ``--phi`` is given).

Every process is stopped at the end (also on error or Ctrl-C).

Usage: python benchmarks/ring.py [--quick] [--requests N] [--concurrency C] [--phi X]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cqlpy import nodetool  # noqa: E402

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
INSERT = "INSERT INTO bench.t (k, c, v) VALUES (?, ?, ?)"
SELECT = "SELECT v FROM bench.t WHERE k = ? AND c = ?"


def free_ports(count: int = 3) -> tuple[int, ...]:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for address in ADDRESSES:
                for port in range(base, base + count):
                    with socket.socket() as s:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind((address, port))
        except OSError:
            continue
        return tuple(range(base, base + count))
    raise SystemExit("no free ports on 127.0.0.1-4")


class Node:
    def __init__(self, root: str, address: str, ports: tuple[int, int, int], phi: float) -> None:
        self.address = address
        self.native, self.storage, self.admin = ports
        self.phi = phi
        self.data = os.path.join(root, f"node-{address}")
        self.log_path = self.data + ".log"
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        cmd = [sys.executable, "-m", "cqlpy.node", "--data", self.data, "--listen", self.address,
               "--port", str(self.native), "--admin-port", str(self.admin), "--workers", "4",
               "--storage-port", str(self.storage), "--seeds", ADDRESSES[0],
               "--phi-convict-threshold", str(self.phi)]
        self.started = time.monotonic()
        os.makedirs(os.path.dirname(self.data), exist_ok=True)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)

    def text(self) -> str:
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, pattern: str, timeout: float = 60.0) -> float:
        """Seconds since start when ``pattern`` is first in the log (polled every 20 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()):
                return time.monotonic() - self.started
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"{self.address} exited:\n{self.text()[-3000:]}")
            time.sleep(0.02)
        raise SystemExit(f"{self.address}: no {pattern!r} within {timeout} s")

    def status(self) -> dict[str, str]:
        try:
            text = nodetool.run(self.address, self.admin, "status", [])
        except Exception:  # noqa: BLE001 - not answering yet
            return {}
        return {ln.split()[1]: ln.split()[0] for ln in text.splitlines()
                if re.match(r"^[UD][NLJM]  ", ln)}

    def stop(self, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
            self.proc.wait(10)
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def until(check, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(interval)


def run_windowed(session, statement, args_list, concurrency: int) -> tuple[float, float]:
    """(requests/s, p99 ms) with up to ``concurrency`` requests in flight."""
    window = threading.Semaphore(concurrency)
    latencies: list[float] = []
    errors: list[BaseException] = []
    done = threading.Event()
    remaining = [len(args_list)]
    lock = threading.Lock()

    def finish(t0: float, error: BaseException | None = None) -> None:
        elapsed = time.perf_counter() - t0
        with lock:
            latencies.append(elapsed)
            if error is not None:
                errors.append(error)
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()
        window.release()

    start = time.perf_counter()
    for args in args_list:
        window.acquire()
        t0 = time.perf_counter()
        future = session.execute_async(statement, args)
        future.add_callbacks(lambda _rows, t0=t0: finish(t0), lambda exc, t0=t0: finish(t0, exc))
    done.wait(300)
    total = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]!r}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(args_list) / total, p99 * 1000


def workload(n: int, seed: int = 7):
    rng = random.Random(seed)
    keys = ["pk%016x" % rng.getrandbits(64) for _ in range(max(1, n // 10))]
    rows = [(k, c, os.urandom(50).hex()) for k in keys for c in range(10)][:n]
    reads = [(r[0], r[1]) for r in rng.choices(rows, k=n)]
    return rows, reads


def measure(contact: str, port: int, rf: int, cl_name: str, hosts: int, rows, reads,
            concurrency: int) -> dict[str, float]:
    from cassandra import ConsistencyLevel
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy, TokenAwarePolicy
    cl = getattr(ConsistencyLevel, cl_name)
    profile = ExecutionProfile(consistency_level=cl, request_timeout=30,
                               load_balancing_policy=TokenAwarePolicy(RoundRobinPolicy()))
    cluster = Cluster([contact], port=port, protocol_version=4,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    try:
        s = cluster.connect()
        s.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
                  f"{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}")
        s.execute("CREATE TABLE IF NOT EXISTS bench.t (k text, c int, v text, PRIMARY KEY (k, c))")
        until(lambda: len([h for h in cluster.metadata.all_hosts() if h.is_up]) >= hosts, 30,
              f"the driver to see {hosts} hosts")
        cluster.refresh_schema_metadata()
        ins, sel = s.prepare(INSERT), s.prepare(SELECT)
        run_windowed(s, ins, rows[:200], concurrency)             # warm-up (connections, caches)
        w, w99 = run_windowed(s, ins, rows, concurrency)
        r, r99 = run_windowed(s, sel, reads, concurrency)
        return {"writes/s": w, "write p99 ms": w99, "reads/s": r, "read p99 ms": r99}
    finally:
        cluster.shutdown()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer requests, phi threshold 4")
    p.add_argument("--requests", type=int, default=None, help="writes (and reads) per setup")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    p.add_argument("--phi", type=float, default=None,
                   help="phi convict threshold of every node (default 8; 4 with --quick)")
    args = p.parse_args(argv)
    try:
        import cassandra  # noqa: F401
    except ImportError:
        print("cassandra-driver is not installed: pip install cassandra-driver", file=sys.stderr)
        return 1
    for address in ADDRESSES:
        try:
            with socket.socket() as s:
                s.bind((address, 0))
        except OSError:
            print(f"{address} does not bind here (loopback 127.0.0.1-4 needed)", file=sys.stderr)
            return 1
    n = args.requests or (2000 if args.quick else 10000)
    phi = args.phi if args.phi is not None else (4.0 if args.quick else 8.0)
    rows, reads = workload(n)
    root = tempfile.mkdtemp(prefix="cqlpy-ring-bench-")
    nodes: list[Node] = []
    results: dict[str, dict[str, float]] = {}
    try:
        # --- one node, RF 1, ONE ------------------------------------------------------------------
        ports = free_ports()
        single = Node(os.path.join(root, "single"), ADDRESSES[0], ports, phi)
        nodes.append(single)
        single.start()
        single.wait_for(r"Starting listening for CQL clients")
        print(f"one node: {n} writes, {n} reads, {args.concurrency} in flight ...", flush=True)
        results["one node, ONE"] = measure(single.address, single.native, 1, "ONE", 1, rows,
                                           reads, args.concurrency)
        single.stop()
        nodes.remove(single)

        # --- three nodes, RF 3, QUORUM -------------------------------------------------------------
        ports = free_ports()
        ring = [Node(os.path.join(root, "ring"), a, ports, phi) for a in ADDRESSES]
        nodes.extend(ring)
        for node in ring[:3]:
            node.start()
            node.wait_for(r"Starting listening for CQL clients")
        for node in ring[:3]:
            node.wait_for(r"Starting admin channel on")
        until(lambda: sorted(ring[0].status().values()) == ["UN"] * 3, 60, "3 UN nodes", 0.2)
        print(f"three nodes: {n} writes, {n} reads at QUORUM ...", flush=True)
        results["three nodes, QUORUM"] = measure(ring[0].address, ring[0].native, 3, "QUORUM",
                                                 3, rows, reads, args.concurrency)

        # --- a fourth node joins (bootstrap: streams RF 3 data) -------------------------------------
        print("a fourth node joins ...", flush=True)
        joining = ring[3]
        joining.start()
        until(lambda: ring[0].status().get(joining.address) == "UN", 120, "the new node UN", 0.05)
        join_un = time.monotonic() - joining.started
        join_serving = joining.wait_for(r"Starting listening for CQL clients", 60)
        streamed = re.search(r"bootstrap complete in ([\d.]+) s: streamed (\d+) partitions "
                             r"in ([\d.]+) s", joining.text())

        # --- kill -9 one node: time until another sees it DN ----------------------------------------
        print(f"kill -9 of {ring[2].address}; waiting for DN (phi {phi:g}) ...", flush=True)
        ring[2].stop(kill=True)
        killed = time.monotonic()
        until(lambda: ring[0].status().get(ring[2].address) == "DN", 180, "DN", 0.1)
        convict = time.monotonic() - killed
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)

    one, three = results["one node, ONE"], results["three nodes, QUORUM"]
    print()
    print(f"ring benchmark: {n} prepared INSERTs then {n} point SELECTs, "
          f"{args.concurrency} requests in flight (cassandra-driver, token-aware)")
    cols = ("writes/s", "write p99 ms", "reads/s", "read p99 ms")
    print(f"{'':22}" + "".join(f"{c:>14}" for c in cols))
    for name, r in results.items():
        print(f"{name:22}" + "".join(f"{r[c]:14.1f}" for c in cols))
    print(f"{'ratio three/one':22}" + "".join(f"{three[c] / one[c]:14.2f}" for c in cols))
    print()
    detail = (f" (bootstrap {streamed.group(1)} s of it: schema, ring settle, "
              f"{streamed.group(2)} partitions streamed in {streamed.group(3)} s)"
              if streamed else "")
    print(f"{'join: start to UN':36} {join_un:8.1f} s{detail}")
    print(f"{'join: start to serving clients':36} {join_serving:8.1f} s")
    print(f"{'convict: kill -9 to DN (phi ' + format(phi, 'g') + ')':36} {convict:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
