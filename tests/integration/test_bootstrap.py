"""Bootstrap with streaming, real ``cqlpy-server`` processes on 127.0.0.1-4: three nodes at RF 3
hold data written at QUORUM; a fourth (not a seed, empty data folder) gossips STATUS BOOT (the
others show it UJ and send it the writes made meanwhile), streams the ranges it gains, then turns
NORMAL and opens its native port.  Every key it now replicates reads back at ONE through it alone
(its own replica answers), and every key reads at QUORUM through it after one original node
stops.  Every process is stopped in a ``finally``."""
import re

import pytest

from cqlpy import nodetool

from server_processes import NodeProcess, driver_cluster, free_ports, loopback_binds, until

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


def _states(node: NodeProcess) -> dict[str, str]:
    """address -> two-letter status (UN, UJ, DN, ...) as ``node`` sees the ring."""
    try:
        text = node.nodetool("status")
    except nodetool.NodetoolError:
        return {}
    return {ln.split()[1]: ln.split()[0] for ln in text.splitlines()
            if re.match(r"^[UD][NLJM]  ", ln)}


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2-4 do not bind here")
def test_bootstrap_streams_ranges(tmp_path):
    native, storage, admin = free_ports(ADDRESSES)
    nodes = [NodeProcess(tmp_path, a, native, storage, admin, seeds=ADDRESSES[0]) for a in ADDRESSES]
    clusters = []
    try:
        for node in nodes[:3]:
            node.start()
            node.wait_for(r"Starting listening for CQL clients")
        for node in nodes[:3]:
            node.wait_for(r"Starting admin channel on")
        until(lambda: sorted(_states(nodes[0]).values()) == ["UN"] * 3, 30, "3 UN nodes")

        cluster = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.QUORUM, only=ADDRESSES[0])
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
        until(lambda: _states(nodes[0]).get(joining.address) == "UJ", 30, "UJ for 127.0.0.4")
        i = 0
        self_joining = False          # its own nodetool answers while it streams, and shows UJ
        while _states(nodes[0]).get(joining.address) == "UJ" and i < 200:
            session.execute(insert, (f"during{i}", i))
            expected[f"during{i}"] = i
            i += 1
            self_joining = self_joining or _states(joining).get(joining.address) == "UJ"
        assert self_joining
        joining.wait_for(r"bootstrap complete", 40)
        joining.wait_for(r"Starting listening for CQL clients", 10)
        assert re.search(r"streamed [1-9]\d* partitions", joining.text())
        assert (joining.text().index("bootstrap complete")
                < joining.text().index("Starting listening for CQL clients"))
        for node in nodes:
            node.wait_for(r"Starting admin channel on", 10)
            until(lambda: sorted(_states(node).values()) == ["UN"] * 4, 20,
                   f"4 UN nodes on {node.address}")

        # every key 127.0.0.4 replicates is on its own replica: ONE through it answers locally
        mine = [k for k in expected
                if joining.address in joining.nodetool("getendpoints", "ks", "t", k).split()]
        assert len(mine) > len(expected) // 3
        c4 = driver_cluster(joining.address, native, ConsistencyLevel.ONE, only=joining.address)
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
        until(lambda: _states(joining).get(nodes[1].address) == "DN", 30, "127.0.0.2 DN")
        for k, v in expected.items():
            row = s4.execute(SimpleStatement(select, consistency_level=ConsistencyLevel.QUORUM),
                             (k,)).one()
            assert row is not None and row.v == v, k
    finally:
        for c in clusters:
            c.shutdown()
        for node in nodes:
            node.stop()
