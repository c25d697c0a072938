"""Two datacenters of two ``cqlpy-server`` processes each (127.0.0.1-2 in dc1, 127.0.0.3-4 in dc2),
NetworkTopologyStrategy {'dc1': 2, 'dc2': 2}: LOCAL_QUORUM through dc1 goes on with both dc2 nodes
killed (kill -9), EACH_QUORUM is Unavailable then, and after the dc2 nodes restart hints bring them
every write, LOGGED batches included.  Keyspace validation on the ring: an unknown datacenter is
refused, an RF above a datacenter's node count is a client warning.  Every process is stopped."""
import time

import pytest

from server_processes import (NodeProcess, driver_cluster, free_ports, loopback_binds, shut_down,
                              start_ring, until)

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel, Unavailable  # noqa: E402
from cassandra.cluster import NoHostAvailable  # noqa: E402
from cassandra.policies import FallthroughRetryPolicy  # noqa: E402
from cassandra.protocol import ConfigurationException  # noqa: E402
from cassandra.query import BatchStatement, BatchType, SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
PLACES = (("dc1", "r1"), ("dc1", "r2"), ("dc2", "r1"), ("dc2", "r2"))


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2-127.0.0.4 do not bind here")
def test_two_datacenters_local_quorum_survives_a_dead_dc(tmp_path):
    started = time.monotonic()
    native, storage, admin = free_ports(ADDRESSES, 3)
    seeds = ADDRESSES[0]                          # one seed: a second would wait for the first
    nodes = [NodeProcess(tmp_path, a, native, storage, admin=admin, seeds=seeds,
                         extra=("--dc", dc, "--rack", rack))
             for a, (dc, rack) in zip(ADDRESSES, PLACES)]
    clusters = []
    try:
        start_ring(nodes)
        until(lambda: nodes[0].nodetool("status").count("\nUN ") == 4, 30,
              "four NORMAL nodes in nodetool status")
        dc1 = driver_cluster(ADDRESSES[0], native, ConsistencyLevel.LOCAL_QUORUM, only=ADDRESSES[0])
        clusters.append(dc1)
        session = dc1.connect()

        # keyspace validation against the ring
        with pytest.raises(ConfigurationException, match=r"Unrecognized strategy option \{dc9\} "
                           r"passed to NetworkTopologyStrategy for keyspace bad"):
            session.execute("CREATE KEYSPACE bad WITH replication = "
                            "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc9': 1}")
        rs = session.execute("CREATE KEYSPACE wide WITH replication = "
                             "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}")
        assert rs.response_future.warnings == [
            "Your replication factor 3 for keyspace wide is higher than the number of nodes 2 "
            "for datacenter dc1"]
        rs = session.execute("CREATE KEYSPACE ks WITH replication = "
                             "{'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 2}")
        assert not rs.response_future.warnings
        session.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
        insert = session.prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
        insert.consistency_level = ConsistencyLevel.LOCAL_QUORUM

        def logged_batch(keys):
            batch = BatchStatement(BatchType.LOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM)
            for k in keys:
                batch.add(insert, (k, f"v{k}"))
            return batch

        for i in range(10):
            session.execute(insert, (i, f"v{i}"))
        session.execute(logged_batch(range(10, 20)))

        for victim in nodes[2:]:
            victim.kill9()
        for i in range(20, 30):                     # before the conviction: hints on timeout
            session.execute(insert, (i, f"v{i}"))
        for victim in ADDRESSES[2:]:
            nodes[0].wait_for(rf"{victim.replace('.', '[.]')}:\d+ is now DOWN", timeout=30)
        for i in range(30, 40):                     # after it: hints written up front
            session.execute(insert, (i, f"v{i}"))
        session.execute(logged_batch(range(40, 50)))
        select = session.prepare("SELECT v FROM ks.t WHERE k = ?")
        select.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        assert [session.execute(select, (i,)).one().v for i in range(50)] == [f"v{i}" for i in range(50)]

        each = SimpleStatement("INSERT INTO ks.t (k, v) VALUES (99, 'x')",
                               consistency_level=ConsistencyLevel.EACH_QUORUM)
        each.retry_policy = FallthroughRetryPolicy()   # the error itself, not a retry elsewhere
        with pytest.raises(Unavailable) as info:
            session.execute(each)
        assert info.value.consistency == ConsistencyLevel.EACH_QUORUM
        assert (info.value.required_replicas, info.value.alive_replicas) == (2, 0)   # in dc2

        for victim in nodes[2:]:
            victim.start()
        for victim in nodes[2:]:
            victim.wait_for(r"Joined the ring", count=2)
        nodes[2].wait_for(r"127[.]0[.]0[.]4:\d+ is now UP", count=2)   # again, after the restart
        for victim in ADDRESSES[2:]:
            nodes[0].wait_for(rf"{victim.replace('.', '[.]')}:\d+ is now UP", count=2)
        dc2 = driver_cluster(ADDRESSES[2], native, ConsistencyLevel.LOCAL_QUORUM, only=ADDRESSES[2])
        clusters.append(dc2)
        s2 = dc2.connect()
        select2 = s2.prepare("SELECT v FROM ks.t WHERE k = ?")
        select2.consistency_level = ConsistencyLevel.LOCAL_QUORUM

        def caught_up():
            try:
                return all(s2.execute(select2, (i,)).one() is not None for i in range(50))
            except (Unavailable, NoHostAvailable):   # a dc2 peer not yet seen UP again
                return False
        until(caught_up, 40, "hints delivered to dc2")
        assert [s2.execute(select2, (i,)).one().v for i in range(50)] == [f"v{i}" for i in range(50)]
        assert s2.execute(select2, (99,)).one() is None         # the refused write left nothing
        session.execute(each)                                    # dc2 is back: EACH_QUORUM works
    finally:
        shut_down(clusters, nodes)
    assert time.monotonic() - started < 90
