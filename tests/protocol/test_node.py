"""``cqlpy-server`` as a real process: port 0, stderr logging, SIGTERM flushes, SIGKILL survives."""
import os
import subprocess
import sys

import pytest
from server_processes import ServerProcess

cassandra = pytest.importorskip("cassandra")
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile  # noqa: E402
from cassandra.policies import RoundRobinPolicy  # noqa: E402

pytestmark = pytest.mark.slow


class NodeProcess(ServerProcess):
    """``python -m cqlpy.node`` on a free port, with a driver session; always stopped by the test
    that starts it."""

    def session(self):
        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
        cluster = Cluster(["127.0.0.1"], port=self.port, protocol_version=4,
                          execution_profiles={EXEC_PROFILE_DEFAULT: profile})
        return cluster, cluster.connect()


@pytest.fixture
def nodes():
    started = []
    yield lambda data, *extra: started.append(NodeProcess(data, *extra)) or started[-1]
    for n in started:
        n.kill()


def test_sigterm_flushes_and_restart_keeps_data(tmp_path, nodes):
    data = tmp_path / "data"
    node = nodes(data)
    cluster, s = node.session()
    assert s.execute("SELECT rpc_port FROM system.local").one().rpc_port == node.port
    s.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
    for i in range(10):
        s.execute("INSERT INTO ks.t (k, v) VALUES (%s, %s)", (i, str(i)))
    cluster.shutdown()
    assert node.stop() == 0
    log = node.text()
    assert "Flushing memtables" in log and "Node stopped" in log and "Traceback" not in log
    assert list((data / "data" / "ks").glob("t-*/*-Data.db")), "SIGTERM did not flush the memtable"
    node = nodes(data)
    cluster, s = node.session()
    assert sorted(r.k for r in s.execute("SELECT k FROM ks.t")) == list(range(10))
    cluster.shutdown()
    assert node.stop() == 0


def test_sigkill_loses_no_acknowledged_write(tmp_path, nodes):
    data = tmp_path / "data"
    node = nodes(data, "--commitlog-sync", "batch")
    cluster, s = node.session()
    s.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
    ins = s.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
    for i in range(20):
        s.execute(ins, (i, "x"))
    cluster.shutdown()
    node.kill()
    assert not list((data / "data" / "ks").glob("t-*/*-Data.db"))
    node = nodes(data)
    cluster, s = node.session()
    assert s.execute("SELECT count(*) FROM ks.t").one()[0] == 20
    cluster.shutdown()
    assert node.stop() == 0


def test_bad_arguments_and_busy_port(tmp_path, nodes):
    out = subprocess.run([sys.executable, "-m", "cqlpy.node", "--port", "1"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2 and "--data" in out.stderr
    node = nodes(tmp_path / "a")
    busy = subprocess.run([sys.executable, "-m", "cqlpy.node", "--data", str(tmp_path / "b"),
                           "--port", str(node.port)], capture_output=True, text=True, timeout=60,
                          env={**os.environ})
    assert busy.returncode == 1 and "Cannot start" in busy.stderr and "Traceback" not in busy.stderr
    assert node.stop() == 0
