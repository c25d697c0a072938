"""Three ``cqlpy-server`` processes on 127.0.0.1-3 form a ring: schema spreads, QUORUM survives a
kill -9, hints bring the restarted node up to date.  Every process is stopped in a ``finally``."""
import time

import pytest

from server_processes import (NodeProcess, driver_cluster, free_ports, loopback_binds, shut_down,
                              start_ring, until)

from cqlpy.protocol import client as cqlpy_client

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2/127.0.0.3 do not bind here")
def test_three_processes_quorum_kill_restart_hints(tmp_path):
    started = time.monotonic()
    native, storage = free_ports(ADDRESSES, 2)
    nodes = [NodeProcess(tmp_path, a, native, storage, seeds=ADDRESSES[0]) for a in ADDRESSES]
    clusters: list[Cluster] = []
    try:
        start_ring(nodes)

        cluster = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.QUORUM)
        clusters.append(cluster)
        session = cluster.connect()
        until(lambda: len([h for h in cluster.metadata.all_hosts() if h.is_up]) == 3, 20,
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
            single = driver_cluster(node.address, native, ConsistencyLevel.ONE, only=node.address)
            clusters.append(single)
            s = single.connect()

            def agreed(s=s):                      # peers rows follow gossip, a round or two late
                local = s.execute("SELECT schema_version FROM system.local WHERE key='local'").one()
                others = {r.schema_version for r in s.execute("SELECT schema_version FROM system.peers")}
                return others == {local.schema_version}
            until(agreed, 10, f"schema agreement seen from {node.address}")
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
        until(lambda: saw(("STATUS_CHANGE", "DOWN", "127.0.0.3")), 10, "a DOWN event")
        for i in range(40, 50):                   # after the conviction: hints written up front
            session.execute(insert, (i, f"v{i}"))

        victim.start()
        victim.wait_for(r"Joined the ring", count=2)
        only = driver_cluster(victim.address, native, ConsistencyLevel.ONE, only=victim.address)
        clusters.append(only)
        s3 = only.connect()
        select3 = s3.prepare("SELECT v FROM ks.t WHERE k = ?")

        def caught_up():
            return all(s3.execute(select3, (i,)).one() is not None for i in range(50))
        until(caught_up, 30, "hint replay to the restarted node")
        until(lambda: saw(("STATUS_CHANGE", "UP", "127.0.0.3")), 10, "an UP event")
        watcher.close()
        assert [s3.execute(select3, (i,)).one().v for i in range(50)] == [f"v{i}" for i in range(50)]
    finally:
        shut_down(clusters, nodes)
    assert time.monotonic() - started < 90
