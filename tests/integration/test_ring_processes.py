"""Three ``cqlpy-server`` processes on 127.0.0.1-3 form a ring: schema spreads, QUORUM survives a
kill -9, hints bring the restarted node up to date.  Every process is stopped in a ``finally``."""
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cqlpy.protocol import client as cqlpy_client

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile  # noqa: E402
from cassandra.policies import WhiteListRoundRobinPolicy  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


def _loopback_binds(address: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


def _free_port_pair() -> tuple[int, int]:
    """A native port and a storage port free on every address of the test."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            native = s.getsockname()[1]
        storage = native + 1
        ok = True
        for address in ADDRESSES:
            for port in (native, storage):
                try:
                    with socket.socket() as s:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind((address, port))
                except OSError:
                    ok = False
        if ok:
            return native, storage
    raise RuntimeError("no free port pair")


class RingNode:
    def __init__(self, tmp: Path, address: str, native: int, storage: int) -> None:
        self.address, self.native, self.storage = address, native, storage
        self.data = tmp / f"node-{address}"
        self.log_path = tmp / f"node-{address}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cqlpy.node", "--data", str(self.data), "--listen", self.address,
             "--port", str(self.native), "--storage-port", str(self.storage),
             "--seeds", ADDRESSES[0], "--phi-convict-threshold", "4", "--workers", "4"],
            stdout=subprocess.DEVNULL, stderr=log)
        log.close()

    def text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for(self, pattern: str, timeout: float = 30.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.text())) >= count:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.address} exited:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"{self.address}: no {pattern!r} within {timeout} s:\n{self.text()}")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def _cluster(contact: str, port: int, cl: int, *, only: str | None = None) -> Cluster:
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
        time.sleep(0.2)


@pytest.mark.skipif(not all(_loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2/127.0.0.3 do not bind here")
def test_three_processes_quorum_kill_restart_hints(tmp_path):
    started = time.monotonic()
    native, storage = _free_port_pair()
    nodes = [RingNode(tmp_path, a, native, storage) for a in ADDRESSES]
    clusters: list[Cluster] = []
    try:
        for node in nodes:                        # the seed first, then the joiners
            node.start()
            node.wait_for(r"Joined the ring")
        for node in nodes:                        # everyone sees the two others UP
            node.wait_for(r"is now UP", count=2)

        cluster = _cluster(ADDRESSES[0], native, ConsistencyLevel.QUORUM)
        clusters.append(cluster)
        session = cluster.connect()
        _until(lambda: len([h for h in cluster.metadata.all_hosts() if h.is_up]) == 3, 20,
               "the driver to see three hosts")
        peers = {str(r.peer): r for r in session.execute(
            "SELECT peer, host_id, data_center, rack, native_port, tokens FROM system.peers_v2")}
        assert len(peers) == 2 and all(r.data_center == "datacenter1" and r.rack == "rack1"
                                       and r.native_port == native and len(r.tokens) == 16
                                       for r in peers.values())

        session.execute("CREATE KEYSPACE ks WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        session.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
        assert cluster.metadata.keyspaces["ks"].tables["t"] is not None
        for node in nodes:                        # every node reports one schema version
            single = _cluster(node.address, native, ConsistencyLevel.ONE, only=node.address)
            clusters.append(single)
            s = single.connect()

            def agreed(s=s):                      # peers rows follow gossip, a round or two late
                local = s.execute("SELECT schema_version FROM system.local WHERE key='local'").one()
                others = {r.schema_version for r in s.execute("SELECT schema_version FROM system.peers")}
                return others == {local.schema_version}
            _until(agreed, 10, f"schema agreement seen from {node.address}")
            single.shutdown()

        events: list[tuple[str, str, str]] = []      # cqlpy's own client, registered on node 1
        watcher = cqlpy_client.connect(ADDRESSES[0], native)
        watcher.register(["STATUS_CHANGE", "TOPOLOGY_CHANGE"],
                         lambda e: events.append((e.event_type, e.change_type, e.address)))

        def saw(event):
            watcher.execute("SELECT key FROM system.local")   # events arrive with any response
            return event in events

        insert = session.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
        select = session.prepare("SELECT v FROM ks.t WHERE k = ?")
        for i in range(20):
            session.execute(insert, (i, f"v{i}"))
        assert [session.execute(select, (i,)).one().v for i in range(20)] == [f"v{i}" for i in range(20)]
        assert len(list(session.execute("SELECT * FROM ks.t"))) == 20
        paged = session.execute(SimpleStatement("SELECT k FROM ks.t", fetch_size=7))
        assert sorted(r.k for r in paged) == list(range(20))     # a range read, page by page

        victim = nodes[2]
        victim.kill9()
        for i in range(20, 40):                   # QUORUM still reachable with two of three
            session.execute(insert, (i, f"v{i}"))
        assert [session.execute(select, (i,)).one().v for i in range(40)] == [f"v{i}" for i in range(40)]
        nodes[0].wait_for(r"127\.0\.0\.3:\d+ is now DOWN")
        _until(lambda: saw(("STATUS_CHANGE", "DOWN", "127.0.0.3")), 10, "a DOWN event")
        for i in range(40, 50):                   # after the conviction: hints written up front
            session.execute(insert, (i, f"v{i}"))

        victim.start()
        victim.wait_for(r"Joined the ring", count=2)
        only = _cluster(victim.address, native, ConsistencyLevel.ONE, only=victim.address)
        clusters.append(only)
        s3 = only.connect()
        select3 = s3.prepare("SELECT v FROM ks.t WHERE k = ?")

        def caught_up():
            return all(s3.execute(select3, (i,)).one() is not None for i in range(50))
        _until(caught_up, 30, "hint replay to the restarted node")
        _until(lambda: saw(("STATUS_CHANGE", "UP", "127.0.0.3")), 10, "an UP event")
        watcher.close()
        assert [s3.execute(select3, (i,)).one().v for i in range(50)] == [f"v{i}" for i in range(50)]
    finally:
        for c in clusters:
            try:
                c.shutdown()
            except Exception:  # noqa: BLE001
                pass
        for node in nodes:
            node.stop()
    assert time.monotonic() - started < 90
