"""Native-protocol benchmark: cassandra-driver with 64 requests in flight against ``cqlpy-server``,
as a ratio to the same statements on the embedded Session, measured in one run.

Workload: a table ``k text, c int, v text, PRIMARY KEY (k, c)``; N prepared INSERTs (k = "pk" +
16 hex chars, c = 0..9, v = 100 hex chars), then N prepared point SELECTs ``WHERE k = ? AND c = ?``
of random rows that exist (every answer is checked).  Each measurement runs ``--repeat`` rounds
(later rounds overwrite the same rows) and keeps the best.  Rows printed:

* embedded    ``cqlpy.connect(path)``: ``Session.execute(prepared, values)`` one at a time, in this
              process; latency is each call's duration.  The baseline of every ratio.
* server      ``cqlpy-server`` as its own process on 127.0.0.1 (a free port, no admin channel,
              stopped with SIGTERM at the end) and cassandra-driver 3.30 in this process:
              ``execute_async`` with a window of 64 requests in flight on one connection (each
              response callback starts the next request); latency is from ``execute_async`` to the
              callback, so it includes queueing behind the other 63.  ``read`` uses the driver's
              default row factory (named_tuple_factory, which builds a namedtuple class for every
              response), ``read/tuple`` the same reads with tuple_factory.
* raw         the same EXECUTE frames, pre-encoded, from a plain socket with the same window: what
              the server sustains when the client costs next to nothing.

Columns: ops/s, p50 and p99 latency in ms, ratio = ops/s / embedded ops/s (the goal is >= 0.3),
and the CPU time per operation of this process (the client) and of the server process (from
/proc), which tell which side limits a row: the driver shares this machine's cores with the server.

``--profile DIR`` writes ``server.prof`` (the server's threads, via CQLPY_PROFILE, see
cqlpy/protocol/profiling.py) and ``driver.prof`` (every thread of this process while the driver
runs) and prints the top functions of each.  Options after ``--`` go to cqlpy-server.

Usage: python benchmarks/server.py [--quick] [--rows N] [--repeat R] [--window 64] [--profile DIR]
                                   [-- SERVER_OPTION ...]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import cqlpy  # noqa: E402

DDL_KS = "CREATE KEYSPACE bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
DDL_T = "CREATE TABLE bench.t (k text, c int, v text, PRIMARY KEY (k, c))"
INSERT = "INSERT INTO bench.t (k, c, v) VALUES (?, ?, ?)"
SELECT = "SELECT v FROM bench.t WHERE k = ? AND c = ?"


def workload(n: int, seed: int = 7):
    """(rows to insert, (k, c) pairs to read back, the v expected for each read)."""
    rng = random.Random(seed)
    keys = ["pk%016x" % rng.getrandbits(64) for _ in range(max(1, n // 10 + 1))]
    rows = [(k, c, "%0100x" % rng.getrandbits(400)) for k in keys for c in range(10)][:n]
    picked = rng.choices(rows, k=n)
    return rows, [(r[0], r[1]) for r in picked], [r[2] for r in picked]


class Measure:
    """ops/s and latency percentiles of one run."""

    def __init__(self, count: int, seconds: float, latencies: list[float],
                 cpu: float | None = None, server_cpu: float | None = None) -> None:
        self.count = count
        self.cpu_us = cpu / count * 1e6 if cpu is not None else None           # this process
        self.server_cpu_us = server_cpu / count * 1e6 if server_cpu is not None else None
        self.seconds = seconds
        self.ops = count / seconds
        lat = sorted(latencies)
        self.p50 = lat[len(lat) // 2] * 1000
        self.p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000


# --- embedded -----------------------------------------------------------------------------------

def best(measures: list[Measure]) -> Measure:
    return max(measures, key=lambda m: m.ops)


def embedded_run(path: str, rows, reads, expected, repeat: int) -> dict[str, Measure]:
    """The best of ``repeat`` rounds of writes (the first inserts, the others overwrite) and reads."""
    out: dict[str, list[Measure]] = {"write": [], "read": []}
    clock = time.perf_counter
    with cqlpy.connect(path) as s:
        s.execute(DDL_KS)
        s.execute(DDL_T)
        ins, sel = s.prepare(INSERT), s.prepare(SELECT)
        for _ in range(repeat):
            lat = []
            cpu0 = time.process_time()
            t0 = clock()
            for r in rows:
                t = clock()
                s.execute(ins, r)
                lat.append(clock() - t)
            out["write"].append(Measure(len(rows), clock() - t0, lat, time.process_time() - cpu0))
            lat = []
            got = []
            cpu0 = time.process_time()
            t0 = clock()
            for q in reads:
                t = clock()
                got.append(s.execute(sel, q).one())
                lat.append(clock() - t)
            out["read"].append(Measure(len(reads), clock() - t0, lat, time.process_time() - cpu0))
            check_reads([g.v if g is not None else None for g in got], expected, "embedded")
    return {op: best(ms) for op, ms in out.items()}


def check_reads(got: list, expected: list, side: str) -> None:
    bad = sum(1 for g, e in zip(got, expected) if g != e)
    if bad or len(got) != len(expected):
        raise SystemExit(f"{side}: {bad} of {len(expected)} reads returned the wrong value")


# --- server + driver ------------------------------------------------------------------------------

class ServerProcess:
    """``cqlpy-server`` on 127.0.0.1, a free port, no admin channel; ``stop()`` sends SIGTERM."""

    def __init__(self, data: str, env: dict[str, str] | None = None, *extra: str) -> None:
        self.log = data + "-server.log"
        self._log_file = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cqlpy.node", "--data", data, "--listen", "127.0.0.1",
             "--port", "0", "--admin-port", "-1", *extra],
            stdout=subprocess.DEVNULL, stderr=self._log_file, env={**os.environ, **(env or {})})
        self.port = self._wait_port()

    def _wait_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(self.log) as f:
                m = re.search(r"CQL clients on [\d.]+:(\d+)", f.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.log) as f:
            raise SystemExit("server did not start:\n" + f.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by process ``pid``; None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def windowed(session, prepared, params: list, window: int, server_pid: int,
             profile: object = None) -> tuple[Measure, list]:
    """Run ``prepared`` once per parameter tuple with ``window`` requests in flight: each response
    callback starts the next request.  Returns the measure and the results in order."""
    n = len(params)
    results: list = [None] * n
    starts = [0.0] * n
    lat = [0.0] * n
    errors: list = []
    lock = threading.Lock()
    done = threading.Event()
    state = {"next": 0, "finished": 0}
    clock = time.perf_counter
    kwargs = {} if profile is None else {"execution_profile": profile}

    def start_next() -> None:
        with lock:
            i = state["next"]
            if i >= n:
                return
            state["next"] = i + 1
        starts[i] = clock()
        future = session.execute_async(prepared, params[i], **kwargs)
        future.add_callbacks(on_ok, on_err, callback_args=(i,), errback_args=(i,))

    def finished(i: int) -> None:
        lat[i] = clock() - starts[i]
        with lock:
            state["finished"] += 1
            last = state["finished"] == n
        if last:
            done.set()
        else:
            start_next()

    def on_ok(rows, i: int) -> None:
        results[i] = rows
        finished(i)

    def on_err(exc, i: int) -> None:
        errors.append(exc)
        finished(i)

    cpu0, server0 = time.process_time(), process_cpu(server_pid)
    t0 = clock()
    for _ in range(min(window, n)):
        start_next()
    if not done.wait(600):
        raise SystemExit(f"only {state['finished']} of {n} requests completed")
    seconds = clock() - t0
    cpu, server1 = time.process_time() - cpu0, process_cpu(server_pid)
    server_cpu = server1 - server0 if server0 is not None and server1 is not None else None
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]!r}")
    return Measure(n, seconds, lat, cpu, server_cpu), results


def driver_run(port: int, server_pid: int, rows, reads, expected, window: int,
               repeat: int) -> dict[str, Measure]:
    """The best of ``repeat`` rounds of: writes, reads with the driver's default row factory
    (named_tuple_factory, a namedtuple class made per response), reads with tuple_factory."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy
    from cassandra.query import named_tuple_factory, tuple_factory
    profiles = {EXEC_PROFILE_DEFAULT: ExecutionProfile(
                    load_balancing_policy=RoundRobinPolicy(), request_timeout=60,
                    row_factory=named_tuple_factory),
                "tuples": ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=60,
                                           row_factory=tuple_factory)}
    cluster = Cluster(["127.0.0.1"], port=port, protocol_version=4, execution_profiles=profiles)
    out: dict[str, list[Measure]] = {"write": [], "read": [], "read/tuple": []}
    try:
        s = cluster.connect()
        s.execute(DDL_KS)
        s.execute(DDL_T)
        ins, sel = s.prepare(INSERT), s.prepare(SELECT)
        for _ in range(repeat):
            out["write"].append(windowed(s, ins, rows, window, server_pid)[0])
            m, results = windowed(s, sel, reads, window, server_pid)
            check_reads([r[0].v if r else None for r in results], expected, "server")
            out["read"].append(m)
            m, results = windowed(s, sel, reads, window, server_pid, "tuples")
            check_reads([r[0][0] if r else None for r in results], expected, "server")
            out["read/tuple"].append(m)
        return {op: best(ms) for op, ms in out.items()}
    finally:
        cluster.shutdown()


class RawConnection:
    """A plain socket speaking frames with cqlpy's own codec: the cheapest possible client."""

    def __init__(self, port: int) -> None:
        import socket
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def frames(self) -> list[tuple[int, int, int, bytes]]:
        """Every complete (stream, opcode, flags, body) received; blocks until there is one."""
        from cqlpy.protocol.frame import HEADER
        out: list[tuple[int, int, int, bytes]] = []
        buf = self.buf
        while not out:
            data = self.sock.recv(1 << 20)
            if not data:
                raise SystemExit("the server closed the raw connection")
            buf += data
            pos = 0
            while len(buf) - pos >= 9:
                _, flags, stream, opcode, length = HEADER.unpack_from(buf, pos)
                if len(buf) - pos - 9 < length:
                    break
                out.append((stream, opcode, flags, bytes(buf[pos + 9:pos + 9 + length])))
                pos += 9 + length
            del buf[:pos]
        return out

    def request(self, msg):
        from cqlpy.protocol import framing
        from cqlpy.protocol.frame import Header
        self.sock.sendall(framing.encode_message(msg, 1))
        _, opcode, flags, body = self.frames()[0]
        return framing.decode_message(Header(0x84, flags, 1, opcode, len(body)), body).message


def raw_run(port: int, server_pid: int, rows, reads, expected, window: int,
            repeat: int) -> dict[str, Measure]:
    """The same EXECUTEs as pre-encoded frames on a plain socket, ``window`` in flight: what the
    server sustains when the client costs next to nothing (no driver)."""
    from cqlpy.protocol import framing
    from cqlpy.protocol import messages as M
    from cqlpy.protocol.frame import Consistency
    from cqlpy.schema import codec
    from cqlpy.schema.types import parse_type
    text, int_ = parse_type("text"), parse_type("int")
    conn = RawConnection(port)
    conn.request(M.Startup({"CQL_VERSION": "3.4.7"}))
    ins, sel = conn.request(M.Prepare(INSERT)), conn.request(M.Prepare(SELECT))

    def frames(query_id: bytes, values: list, skip: bool) -> list[bytes]:
        return [framing.encode_message(M.Execute(query_id, M.QueryParameters(
            consistency=Consistency.LOCAL_ONE, values=v, skip_metadata=skip, page_size=5000)),
            i % window) for i, v in enumerate(values)]

    write_frames = frames(ins.query_id, [[codec.serialize(text, k), codec.serialize(int_, c),
                                          codec.serialize(text, v)] for k, c, v in rows], False)
    read_frames = frames(sel.query_id, [[codec.serialize(text, k), codec.serialize(int_, c)]
                                        for k, c in reads], True)

    def pipelined(frames_: list[bytes], reading: bool) -> Measure:
        # request i goes on stream i % window, and at most window are in flight: the stream of an
        # answer names its request
        n = len(frames_)
        in_flight: dict[int, int] = {}
        sent_at = [0.0] * n
        lat: list[float] = []
        clock = time.perf_counter
        cpu0, server0 = time.process_time(), process_cpu(server_pid)
        t0 = clock()
        sent = min(window, n)
        now = clock()
        for i in range(sent):
            sent_at[i] = now
            in_flight[i % window] = i
        conn.sock.sendall(b"".join(frames_[:sent]))
        done = 0
        while done < n:
            answers = conn.frames()
            now = clock()
            for stream, opcode, _, body in answers:
                i = in_flight.pop(stream)
                if opcode != 0x08:
                    raise SystemExit(f"raw request failed: opcode 0x{opcode:02x} {body[:200]!r}")
                # a read's answer: Rows, No_metadata, one row of one 100-character text value
                if reading and body[-100:].decode() != expected[i]:
                    raise SystemExit(f"raw read {i} returned the wrong value")
                lat.append(now - sent_at[i])
                done += 1
            k = min(len(answers), n - sent)
            if k > 0:
                for i in range(sent, sent + k):
                    sent_at[i] = now
                    in_flight[i % window] = i
                conn.sock.sendall(b"".join(frames_[sent:sent + k]))
                sent += k
        seconds = clock() - t0
        server1 = process_cpu(server_pid)
        server_cpu = server1 - server0 if server0 is not None and server1 is not None else None
        return Measure(n, seconds, lat, time.process_time() - cpu0, server_cpu)

    out: dict[str, list[Measure]] = {"write": [], "read": []}
    try:
        for _ in range(repeat):
            out["write"].append(pipelined(write_frames, False))
            out["read"].append(pipelined(read_frames, True))
    finally:
        conn.sock.close()
    return {op: best(ms) for op, ms in out.items()}


def driver_notes() -> str:
    """Whether the driver runs compiled (Cython) and on which event loop."""
    import cassandra
    import cassandra.cluster as cluster_mod
    from cassandra.cluster import Cluster
    compiled = cluster_mod.__file__.endswith(".so")
    reactor = Cluster.connection_class.__name__
    return (f"cassandra-driver {cassandra.__version__}, "
            f"{'compiled (Cython) modules' if compiled else 'pure-Python modules'}, {reactor}")


class ThreadProfiles:
    """cProfile of this thread and of every thread started while it is on (the driver's event loop
    thread does the driver's work): ``start()``, ``stop()``, ``dump(path)``."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def _enable_here(self, *_: object) -> None:
        profile = cProfile.Profile()
        self.profiles.append(profile)
        profile.enable()          # replaces this hook as the thread's profile function

    def start(self) -> None:
        threading.setprofile(self._enable_here)
        self._enable_here()

    def stop(self) -> None:
        threading.setprofile(None)   # type: ignore[arg-type]
        self.profiles[0].disable()

    def dump(self, path: str) -> None:
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)


def print_profile(path: str, title: str, limit: int = 25) -> None:
    print(f"\n--- {title}: {path} (top {limit} by internal time) ---")
    pstats.Stats(path).sort_stats("tottime").print_stats(limit)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="5,000 rows instead of 20,000 (well under 60 s)")
    p.add_argument("--rows", type=int, default=None)
    p.add_argument("--window", type=int, default=64, help="driver requests in flight (default 64)")
    p.add_argument("--repeat", type=int, default=None,
                   help="rounds of each measurement, the best kept (default 3; 2 with --quick)")
    p.add_argument("--profile", metavar="DIR", default=None,
                   help="write server.prof and driver.prof there and print their top functions")
    p.add_argument("server_args", nargs="*", metavar="-- SERVER_ARG",
                   help="extra cqlpy-server options after --, e.g. -- --workers 0")
    args = p.parse_args(argv)
    n = args.rows or (5_000 if args.quick else 20_000)
    repeat = args.repeat or (2 if args.quick else 3)
    rows, reads, expected = workload(n)
    root = tempfile.mkdtemp(prefix="cqlpy-bench-server-")
    try:
        embedded = embedded_run(os.path.join(root, "embedded"), rows, reads, expected, repeat)
        env = None
        if args.profile:
            os.makedirs(args.profile, exist_ok=True)
            env = {"CQLPY_PROFILE": os.path.abspath(os.path.join(args.profile, "server.prof"))}
        server = ServerProcess(os.path.join(root, "server"), env, *args.server_args)
        client_profile = ThreadProfiles() if args.profile else None
        try:
            if client_profile:
                client_profile.start()
            remote = driver_run(server.port, server.proc.pid, rows, reads, expected, args.window,
                                repeat)
            raw = raw_run(server.port, server.proc.pid, rows, reads, expected, args.window, repeat)
        finally:
            if client_profile:
                client_profile.stop()
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"native protocol benchmark: {n} prepared INSERTs, then {n} prepared point SELECTs "
          f"(best of {repeat} rounds)")
    print(f"driver: {driver_notes()}; {args.window} requests in flight on one connection")
    print(f"{'side':9} {'op':11} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}  "
          f"{'CPU/op: client':>14} {'server':>7}")
    for op in ("write", "read", "read/tuple"):
        e, s = embedded["read" if op == "read/tuple" else op], remote[op]
        if op != "read/tuple":
            print(f"{'embedded':9} {op:11} {e.ops:8.0f} {e.p50:8.3f} {e.p99:8.3f} {1.0:6.2f}  "
                  f"{e.cpu_us:11.0f} us")
        ratio = s.ops / e.ops
        server_cpu = f"{s.server_cpu_us:4.0f} us" if s.server_cpu_us is not None else "      ?"
        verdict = "" if ratio >= 0.3 else "  (goal 0.30)"
        print(f"{'server':9} {op:11} {s.ops:8.0f} {s.p50:8.3f} {s.p99:8.3f} {ratio:6.2f}  "
              f"{s.cpu_us:11.0f} us {server_cpu}{verdict}")
    for op in ("write", "read"):
        e, s = embedded[op], raw[op]
        server_cpu = f"{s.server_cpu_us:4.0f} us" if s.server_cpu_us is not None else "      ?"
        print(f"{'raw':9} {op:11} {s.ops:8.0f} {s.p50:8.3f} {s.p99:8.3f} {s.ops / e.ops:6.2f}  "
              f"{s.cpu_us:11.0f} us {server_cpu}")
    print("ratio = server ops/s / embedded ops/s.  server: cassandra-driver against cqlpy-server; "
          "read/tuple: the same\nreads with the driver's tuple_factory (its default "
          "named_tuple_factory builds a namedtuple class per\nresponse); raw: the same EXECUTE "
          "frames from a plain socket (no driver), what the server sustains.")
    if args.profile:
        driver_path = os.path.join(args.profile, "driver.prof")
        client_profile.dump(driver_path)
        server_path = env["CQLPY_PROFILE"]
        if os.path.exists(server_path):
            print_profile(server_path, "server process")
        print_profile(driver_path, "driver (this process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
