"""Bootstrap with streaming, real ``cqlpy-server`` processes on 127.0.0.1-4: three nodes at RF 3
hold data written at QUORUM; a fourth (not a seed, empty data folder) gossips STATUS BOOT (the
others show it UJ and send it the writes made meanwhile), streams the ranges it gains, then turns
NORMAL and opens its native port.  Every key it now replicates reads back at ONE through it alone
(its own replica answers), and every key reads at QUORUM through it after one original node
stops.  Every process is stopped in a ``finally``."""
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cqlpy import nodetool

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile  # noqa: E402
from cassandra.policies import WhiteListRoundRobinPolicy  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


def _loopback_binds(address: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


def _free_ports(addresses, count: int = 3) -> tuple[int, ...]:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        ok = True
        for address in addresses:
            for port in range(base, base + count):
                try:
                    with socket.socket() as s:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind((address, port))
                except OSError:
                    ok = False
        if ok:
            return tuple(range(base, base + count))
    raise RuntimeError("no free ports")


class Server:
    def __init__(self, tmp: Path, address: str, native: int, storage: int, admin: int) -> None:
        self.address, self.native, self.storage, self.admin = address, native, storage, admin
        self.data = tmp / f"node-{address}"
        self.log_path = tmp / f"node-{address}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "cqlpy.node", "--data", str(self.data), "--listen",
               self.address, "--port", str(self.native), "--admin-port", str(self.admin),
               "--workers", "4", "--storage-port", str(self.storage), "--seeds", ADDRESSES[0],
               "--phi-convict-threshold", "4"]
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)

    def text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for(self, pattern: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()):
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.address} exited:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"{self.address}: no {pattern!r} within {timeout} s:\n{self.text()}")

    def nodetool(self, *args: str) -> str:
        return nodetool.run(self.address, self.admin, args[0], list(args[1:]))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def _cluster(contact: str, port: int, cl: int, *, only: str | None = None):
    options = {"load_balancing_policy": WhiteListRoundRobinPolicy([only])} if only else {}
    profile = ExecutionProfile(consistency_level=cl, request_timeout=20, **options)
    return Cluster([contact], port=port, protocol_version=4,
                   execution_profiles={EXEC_PROFILE_DEFAULT: profile})


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _states(node: Server) -> dict[str, str]:
    """address -> two-letter status (UN, UJ, DN, ...) as ``node`` sees the ring."""
    try:
        text = node.nodetool("status")
    except nodetool.NodetoolError:
        return {}
    return {ln.split()[1]: ln.split()[0] for ln in text.splitlines()
            if re.match(r"^[UD][NLJM]  ", ln)}


@pytest.mark.skipif(not all(_loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2-4 do not bind here")
def test_bootstrap_streams_ranges(tmp_path):
    native, storage, admin = _free_ports(ADDRESSES)
    nodes = [Server(tmp_path, a, native, storage, admin) for a in ADDRESSES]
    clusters = []
    try:
        for node in nodes[:3]:
            node.start()
            node.wait_for(r"Starting listening for CQL clients")
        for node in nodes[:3]:
            node.wait_for(r"Starting admin channel on")
        _until(lambda: sorted(_states(nodes[0]).values()) == ["UN"] * 3, 30, "3 UN nodes")

        cluster = _cluster(ADDRESSES[0], native, ConsistencyLevel.QUORUM, only=ADDRESSES[0])
        clusters.append(cluster)
        session = cluster.connect()
        session.execute("CREATE KEYSPACE ks WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        session.execute("CREATE TABLE ks.t (k text PRIMARY KEY, v int)")
        insert = session.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
        expected = {}
        for i in range(150):
            session.execute(insert, (f"key{i}", i))
            expected[f"key{i}"] = i
        session.execute("DELETE FROM ks.t WHERE k = 'key0'")      # a tombstone streams too
        del expected["key0"]

        # the fourth node bootstraps: UJ on the others while it streams; writes meanwhile reach it
        joining = nodes[3]
        joining.start()
        _until(lambda: _states(nodes[0]).get(joining.address) == "UJ", 30, "UJ for 127.0.0.4")
        i = 0
        while _states(nodes[0]).get(joining.address) == "UJ" and i < 200:
            session.execute(insert, (f"during{i}", i))
            expected[f"during{i}"] = i
            i += 1
        joining.wait_for(r"bootstrap complete", 40)
        joining.wait_for(r"Starting listening for CQL clients", 10)
        assert re.search(r"streamed [1-9]\d* partitions", joining.text())
        assert (joining.text().index("bootstrap complete")
                < joining.text().index("Starting listening for CQL clients"))
        for node in nodes:
            node.wait_for(r"Starting admin channel on", 10)
            _until(lambda: sorted(_states(node).values()) == ["UN"] * 4, 20,
                   f"4 UN nodes on {node.address}")

        # every key 127.0.0.4 replicates is on its own replica: ONE through it answers locally
        mine = [k for k in expected
                if joining.address in joining.nodetool("getendpoints", "ks", "t", k).split()]
        assert len(mine) > len(expected) // 3
        c4 = _cluster(joining.address, native, ConsistencyLevel.ONE, only=joining.address)
        clusters.append(c4)
        s4 = c4.connect()
        select = "SELECT v FROM ks.t WHERE k = %s"
        wrong = [k for k in mine
                 if (row := s4.execute(SimpleStatement(select), (k,)).one()) is None
                 or row.v != expected[k]]
        assert not wrong, wrong
        assert s4.execute(SimpleStatement(select), ("key0",)).one() is None
        for k, v in expected.items():
            row = s4.execute(SimpleStatement(select, consistency_level=ConsistencyLevel.ALL),
                             (k,)).one()
            assert row is not None and row.v == v, k

        # one original node stops: every key still reads at QUORUM through the new node
        cluster.shutdown()
        clusters.remove(cluster)
        nodes[1].stop()
        _until(lambda: _states(joining).get(nodes[1].address) == "DN", 30, "127.0.0.2 DN")
        for k, v in expected.items():
            row = s4.execute(SimpleStatement(select, consistency_level=ConsistencyLevel.QUORUM),
                             (k,)).one()
            assert row is not None and row.v == v, k
    finally:
        for c in clusters:
            c.shutdown()
        for node in nodes:
            node.stop()
