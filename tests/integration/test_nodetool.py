"""cqlpy-nodetool against real ``cqlpy-server`` processes: a single node, then a four-node ring on
127.0.0.1-4 (status, getendpoints = the driver's replicas; decommission of one node and removenode
of a stopped one stream their ranges, so every key is then on both remaining replicas, read at ONE
through each of them, then at QUORUM and ALL).  Every process is stopped in a ``finally``."""
import re
import socket
import subprocess
import sys

import pytest

from cqlpy import nodetool

from server_processes import NodeProcess, driver_cluster, free_ports, loopback_binds, until

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


def _status_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^[UD][NLJM]  ", line)]


def test_single_node(tmp_path):
    native, _storage, admin = free_ports(["127.0.0.1"])
    node = NodeProcess(tmp_path, "127.0.0.1", native, 0, admin)
    cluster = None
    try:
        node.start()
        node.wait_for(r"Starting admin channel on")
        node.wait_for(r"Starting listening for CQL clients")
        cluster = driver_cluster("127.0.0.1", native, ConsistencyLevel.ONE)
        session = cluster.connect()
        session.execute("CREATE KEYSPACE ks WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        session.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
        for i in range(20):
            session.execute("INSERT INTO ks.t (k, v) VALUES (%s, %s)", (i, f"v{i}"))

        status = node.nodetool("status")
        assert "Datacenter: datacenter1" in status
        assert "Status=Up/Down" in status and "|/ State=Normal/Leaving/Joining/Moving" in status
        assert ("--  Address    Load       Tokens  Owns (effective)  Host ID"
                "                               Rack") in status
        lines = _status_lines(status)
        assert len(lines) == 1 and lines[0].startswith("UN  127.0.0.1  ")
        host_id = str(session.execute("SELECT host_id FROM system.local").one().host_id)
        assert host_id in lines[0] and "100.0%" in lines[0] and lines[0].endswith("rack1")

        info = node.nodetool("info")
        assert re.search(rf"^ID\s+: {host_id}$", info, re.M)
        assert re.search(r"^Gossip active\s+: true$", info, re.M)
        for field in ("Load", "Generation No", "Uptime (seconds)", "Data Center", "Rack",
                      "Key Cache"):
            assert re.search(rf"^{re.escape(field)}\s+: \S", info, re.M), field

        ring = node.nodetool("ring")
        assert len([ln for ln in ring.splitlines() if ln.startswith("127.0.0.1 ")]) == 16
        assert node.nodetool("getendpoints", "ks", "t", "7") == "127.0.0.1\n"
        assert node.nodetool("describering", "ks").count("TokenRange(") == 16
        assert "STATUS:" in node.nodetool("gossipinfo")

        assert node.nodetool("flush", "ks") == ""
        assert node.nodetool("compact", "ks", "t") == ""
        assert list(node.data.glob("data/ks/t-*/*-Data.db"))
        with pytest.raises(nodetool.NodetoolError, match="Unknown table ks.nope"):
            node.nodetool("flush", "ks", "nope")
        with pytest.raises(nodetool.NodetoolError, match="not part of a ring"):
            node.nodetool("decommission")

        # the command line: exit codes and one-line errors, no traceback
        cli = subprocess.run([sys.executable, "-m", "cqlpy.nodetool", "-h", "127.0.0.1",
                              "-p", str(admin), "getendpoints", "ks", "t", "notanint"],
                             capture_output=True, text=True, timeout=30)
        assert cli.returncode == 1 and "Traceback" not in cli.stderr
        assert len(cli.stderr.strip().splitlines()) == 1

        cluster.shutdown()
        cluster = None
        assert node.nodetool("drain") == ""
        info = node.nodetool("info")
        assert re.search(r"^Native Transport active: false$", info, re.M)
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", native)) != 0
    finally:
        if cluster is not None:
            cluster.shutdown()
        node.stop()
    assert node.proc.returncode == 0, node.text()
    cli = subprocess.run([sys.executable, "-m", "cqlpy.nodetool", "-p", str(admin), "status"],
                         capture_output=True, text=True, timeout=30)
    assert cli.returncode == 1 and "Failed to connect" in cli.stderr
    assert "Traceback" not in cli.stderr


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2-4 do not bind here")
def test_ring_status_getendpoints_decommission(tmp_path):
    native, storage, admin = free_ports(ADDRESSES)
    nodes = [NodeProcess(tmp_path, a, native, storage, admin, seeds=ADDRESSES[0]) for a in ADDRESSES]
    cluster = None
    try:
        for node in nodes:
            node.start()
            node.wait_for(r"Joined the ring")
        for node in nodes:
            node.wait_for(r"Starting admin channel on")
            until(lambda: len([ln for ln in _status_lines(node.nodetool("status"))
                                if ln.startswith("UN")]) == 4, 30, f"4 UN nodes on {node.address}")

        cluster = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.ALL)
        session = cluster.connect()
        session.execute("CREATE KEYSPACE ks WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 2}")
        session.execute("CREATE TABLE ks.t (k text PRIMARY KEY, v int)")
        def has_keyspace(node):
            try:
                return "UN" in node.nodetool("status", "ks")
            except nodetool.NodetoolError:
                return False

        until(lambda: all(has_keyspace(n) for n in nodes), 20, "the keyspace on every node")
        keys = [f"key{i}" for i in range(60)]
        insert = session.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
        for i, k in enumerate(keys):
            session.execute(insert, (k, i))

        status = nodes[1].nodetool("status", "ks")
        lines = _status_lines(status)
        assert sorted(ln.split()[1] for ln in lines) == list(ADDRESSES)
        assert all(ln.startswith("UN  ") for ln in lines)
        owns = [float(re.search(r"(\d+\.\d)%", ln).group(1)) for ln in lines]
        assert abs(sum(owns) - 200.0) < 1.0                  # RF 2: effective ownership sums to 2

        cluster.refresh_schema_metadata()
        until(lambda: cluster.metadata.token_map is not None
               and len(cluster.metadata.all_hosts()) == 4, 20, "the driver's token map")
        for k in keys[:8]:
            replicas = cluster.metadata.get_replicas("ks", k.encode())
            expected = sorted(h.address for h in replicas)
            for node in nodes:
                got = node.nodetool("getendpoints", "ks", "t", k).split()
                assert sorted(got) == expected, (k, node.address)

        # decommission 127.0.0.4: its ranges stream to the nodes that gain them
        leaving = nodes[3]
        assert leaving.nodetool("decommission") == ""
        info = leaving.nodetool("info")
        assert re.search(r"^Mode\s+: DECOMMISSIONED$", info, re.M)
        for node in nodes[:3]:
            until(lambda: len(_status_lines(node.nodetool("status"))) == 3, 20,
                   f"{node.address} to drop the decommissioned node")
        leaving.stop()
        assert "streamed" in leaving.text()
        leaving.start()                               # a decommissioned folder does not rejoin
        assert leaving.proc.wait(30) == 1
        assert "decommissioned and will not rejoin" in leaving.text()

        # removenode 127.0.0.3 once it is down: the remaining replicas stream its ranges
        gone = nodes[2]
        gone_id = next(ln.split()[-2] for ln in _status_lines(nodes[0].nodetool("status"))
                       if ln.split()[1] == gone.address)
        with pytest.raises(nodetool.NodetoolError, match="is alive"):
            nodes[0].nodetool("removenode", gone_id)
        gone.stop()
        until(lambda: any(ln.startswith("DN") for ln in _status_lines(nodes[0].nodetool("status"))),
               20, "127.0.0.3 DOWN")
        assert nodes[0].nodetool("removenode", gone_id) == ""
        assert "Completed" in nodes[0].nodetool("removenode", "status")
        for node in nodes[:2]:
            until(lambda: len(_status_lines(node.nodetool("status"))) == 2, 20,
                   f"{node.address} to drop the removed node")
        cluster.shutdown()
        cluster = None

        # every key is on both remaining nodes: a read at ONE through each answers from itself
        for node in nodes[:2]:
            c = driver_cluster(node.address, native, ConsistencyLevel.ONE, only=node.address)
            try:
                s = c.connect()
                missing = [k for k in keys if s.execute(SimpleStatement(
                    "SELECT v FROM ks.t WHERE k = %s"), (k,)).one() is None]
                assert not missing, (node.address, missing)
            finally:
                c.shutdown()
        cluster = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.ALL, only=ADDRESSES[0])
        session = cluster.connect()
        for cl in (ConsistencyLevel.ALL, ConsistencyLevel.QUORUM):
            for i, k in enumerate(keys):
                row = session.execute(SimpleStatement("SELECT v FROM ks.t WHERE k = %s",
                                                      consistency_level=cl), (k,)).one()
                assert row is not None and row.v == i, (k, cl)
    finally:
        if cluster is not None:
            cluster.shutdown()
        for node in nodes:
            node.stop()


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES[:2]),
                    reason="127.0.0.2 does not bind here")
def test_two_datacenters(tmp_path):
    native, storage, admin = free_ports(ADDRESSES[:2])
    nodes = [NodeProcess(tmp_path, ADDRESSES[0], native, storage, admin, seeds=ADDRESSES[0],
                    extra=("--dc", "dc1", "--rack", "r1")),
             NodeProcess(tmp_path, ADDRESSES[1], native, storage, admin, seeds=ADDRESSES[0],
                    extra=("--dc", "dc2", "--rack", "r2"))]
    cluster = None
    try:
        for node in nodes:
            node.start()
            node.wait_for(r"Starting admin channel on")
        until(lambda: len([ln for ln in _status_lines(nodes[1].nodetool("status"))
                            if ln.startswith("UN")]) == 2, 30, "2 UN nodes")
        cluster = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.ALL)
        session = cluster.connect()
        session.execute("CREATE KEYSPACE nts WITH replication = "
                        "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}")
        session.execute("CREATE KEYSPACE simple WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        session.execute("CREATE TABLE nts.t (k int, c int, v int, PRIMARY KEY ((k, c)))")
        session.execute("CREATE TABLE simple.t (k int PRIMARY KEY)")

        def mixed_status():
            try:
                nodes[1].nodetool("status", "simple")
                return nodes[1].nodetool("status")
            except nodetool.NodetoolError:
                return None

        status = until(mixed_status, 20, "the keyspaces on 127.0.0.2")
        blocks = status.split("Datacenter: ")[1:]
        assert [b.splitlines()[0] for b in blocks] == ["dc1", "dc2"]
        assert _status_lines(blocks[0])[0].split()[1] == ADDRESSES[0]
        assert _status_lines(blocks[1])[0].endswith("r2")
        assert all("  ?  " in ln for ln in _status_lines(status))      # replication differs
        assert "Note: Non-system keyspaces don't have the same replication settings" in status
        assert all("100.0%" in ln for ln in _status_lines(nodes[0].nodetool("status", "nts")))

        cluster.refresh_schema_metadata()
        until(lambda: cluster.metadata.token_map is not None
               and len(cluster.metadata.all_hosts()) == 2, 20, "the driver's token map")
        from cassandra.cqltypes import Int32Type
        for k, c in ((1, 2), (3, 4)):
            key = b"".join(len(p).to_bytes(2, "big") + p + b"\x00"
                           for p in (Int32Type.serialize(k, 4), Int32Type.serialize(c, 4)))
            expected = sorted(h.address for h in cluster.metadata.get_replicas("nts", key))
            assert sorted(nodes[0].nodetool("getendpoints", "nts", "t", f"{k}:{c}").split()) \
                == expected == sorted(ADDRESSES[:2])
        for k in range(5):
            expected = [h.address for h in cluster.metadata.get_replicas(
                "simple", Int32Type.serialize(k, 4))]
            assert nodes[1].nodetool("getendpoints", "simple", "t", str(k)).split() == expected
    finally:
        if cluster is not None:
            cluster.shutdown()
        for node in nodes:
            node.stop()
