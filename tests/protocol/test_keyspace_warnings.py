"""CREATE / ALTER KEYSPACE against a one-node server, as a one-node Cassandra answers: an unknown
datacenter is refused (ConfigurationException 0x2300), a replication factor above the node count is
accepted with a client warning that cassandra-driver and cqlsh both show."""
import shutil
import subprocess

import pytest

from cqlpy.protocol.server import ServerOptions, ServerThread

cassandra = pytest.importorskip("cassandra")
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.protocol import ConfigurationException  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(backend):
    with ServerThread(backend, ServerOptions(port=0)) as s:
        yield s


@pytest.fixture(scope="module")
def session(server):
    host, port = server.address
    cluster = Cluster([host], port=port, protocol_version=4)
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


def test_driver_sees_the_replication_warning(session):
    rs = session.execute("CREATE KEYSPACE w3 WITH replication = "
                         "{'class': 'SimpleStrategy', 'replication_factor': 3}")
    assert rs.response_future.warnings == [
        "Your replication factor 3 for keyspace w3 is higher than the number of nodes 1"]
    rs = session.execute("ALTER KEYSPACE w3 WITH replication = "
                         "{'class': 'NetworkTopologyStrategy', 'datacenter1': 2}")
    assert rs.response_future.warnings == [
        "Your replication factor 2 for keyspace w3 is higher than the number of nodes 1 for "
        "datacenter datacenter1"]
    rs = session.execute("CREATE KEYSPACE w1 WITH replication = "
                         "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    assert not rs.response_future.warnings
    rs = session.execute("CREATE KEYSPACE IF NOT EXISTS w3 WITH replication = "
                         "{'class': 'SimpleStrategy', 'replication_factor': 3}")
    assert not rs.response_future.warnings          # nothing changed, nothing validated


def test_an_unknown_datacenter_is_refused(session):
    with pytest.raises(ConfigurationException) as info:
        session.execute("CREATE KEYSPACE w9 WITH replication = "
                        "{'class': 'NetworkTopologyStrategy', 'dc9': 1}")
    assert ("Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy for keyspace w9"
            in str(info.value))
    assert "w9" not in session.cluster.metadata.keyspaces


@pytest.mark.skipif(shutil.which("cqlsh") is None, reason="cqlsh is not installed")
def test_cqlsh_prints_the_warning(server):
    host, port = server.address
    out = subprocess.run(["cqlsh", host, str(port), "--protocol-version=4", "-e",
                          "CREATE KEYSPACE wsh WITH replication = "
                          "{'class': 'SimpleStrategy', 'replication_factor': 2};"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    assert "Warnings :" in text
    assert "Your replication factor 2 for keyspace wsh is higher than the number of nodes 1" in text
