"""Replica-local secondary indexes on the simulated cluster: every replica-side path (coordinated
write, hint replay, read repair) maintains the node's own entries, and an index read over the
nodes (index RANGE_REQ, small batches) returns every matching partition once, in token order."""

import pytest

from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.messaging import Verb
from cqlpy.engine.murmur3 import token
from cqlpy.node_indexes import ReplicaEngine, index_answer, index_partitions
from cqlpy.session.indexes import IndexManager, index_key, local_entries

from .sim_cluster import EPOCH, KEYSPACE, TABLE_ID, SimCluster, delete_row, indexed_schema, row_update


@pytest.fixture
def schema(tmp_path):
    """ks.t as CQL knows it (the sim's table id), with an index on v."""
    s = indexed_schema(str(tmp_path / "schema"))
    catalog = s._database.catalog
    yield catalog, catalog.table_by_id(TABLE_ID)
    s.close()


def _index(node, catalog, table):
    """Give a (re)started node what cqlpy/node_ring.py wires: its local index, the ReplicaEngine
    under StorageProxy, and the index RANGE_REQ handler."""
    manager = IndexManager(node.engine)
    manager.create(table, "t_v", now=EPOCH)
    replica = node.proxy.engine = ReplicaEngine(node.engine, catalog, manager)
    node.messaging.register_handler(Verb.RANGE_REQ, lambda m: node.messaging.respond(
        m, index_answer(replica, m.payload)))


@pytest.fixture
def cluster(tmp_path, schema):
    c = SimCluster(tmp_path, n=5)
    for node in c.nodes:
        _index(node, *schema)
    yield c
    c.close()


def entries(node, table, value):
    return list(local_entries(node.engine, table, "t_v", index_key(table, "t_v", value), now=EPOCH))


def test_coordinated_writes_are_indexed_by_each_replica_only(cluster, schema):
    _catalog, table = schema
    key = b"alpha"
    coordinator = cluster.non_replicas(key)[0]
    coordinator.proxy.write([row_update(key, b"c", b"red", 5)], KEYSPACE, CL.ALL)
    for node in cluster.replicas(key):
        assert entries(node, table, b"red") == [(key, b"c")]
    for node in cluster.non_replicas(key):
        assert entries(node, table, b"red") == []
    coordinator.proxy.write([row_update(key, b"c", b"blue", 6)], KEYSPACE, CL.ALL)
    coordinator.proxy.write([row_update(key, b"c", b"stale", 4)], KEYSPACE, CL.ALL)  # loses
    for node in cluster.replicas(key):
        assert entries(node, table, b"red") == []
        assert entries(node, table, b"stale") == []
        assert entries(node, table, b"blue") == [(key, b"c")]
    coordinator.proxy.write([delete_row(key, b"c", 7)], KEYSPACE, CL.ALL)
    for node in cluster.replicas(key):
        assert entries(node, table, b"blue") == []


def test_hint_replay_maintains_the_returning_replicas_index(cluster, schema):
    catalog, table = schema
    key = b"bravo"
    down = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    coordinator.proxy.write([row_update(key, b"c", b"red", 5)], KEYSPACE, CL.ALL)
    cluster.crash(down)
    coordinator.proxy.write([row_update(key, b"c", b"green", 6)], KEYSPACE, CL.QUORUM)
    assert coordinator.hints.pending_count(down.endpoint.host_id) == 1
    held = cluster.net.add_filter(lambda s, to, m: m.verb != Verb.HINT_REQ)
    down.start()
    _index(down, catalog, table)                 # before any hint reaches it
    cluster.net.remove_filter(held)
    cluster.wait_converged()
    cluster.run_until(lambda: coordinator.hints.pending_count() == 0, 20)
    assert entries(down, table, b"green") == [(key, b"c")]
    assert entries(down, table, b"red") == []


def test_read_repair_maintains_the_stale_replicas_index(cluster, schema):
    _catalog, table = schema
    key = b"charlie"
    coordinator = cluster.non_replicas(key)[0]
    coordinator.proxy.write([row_update(key, b"c", b"red", 5)], KEYSPACE, CL.ALL)
    fresh, *stale = cluster.replicas(key)
    fresh.proxy.engine.apply([row_update(key, b"c", b"blue", 6)])   # a write only it got
    assert all(entries(n, table, b"red") == [(key, b"c")] for n in stale)
    coordinator.proxy.read(TABLE_ID, key, cl=CL.ALL, replication=KEYSPACE)
    cluster.run(2)
    for node in cluster.replicas(key):
        assert entries(node, table, b"red") == []
        assert entries(node, table, b"blue") == [(key, b"c")]


class _Ring:
    """What index_partitions needs of a RingEngine, stepping the simulated network."""

    def __init__(self, cluster, node):
        self.cluster, self.node = cluster, node

    def proxy(self):
        return self.node.proxy

    def _call(self, start, timeout):
        pending = start()
        self.cluster.run_until(lambda: pending.done, timeout)
        return pending.result()


def test_index_reads_merge_every_node_in_token_order_batch_by_batch(cluster, schema):
    _catalog, table = schema
    coordinator = cluster.nodes[0]
    keys = [b"k%03d" % i for i in range(40)]
    for i, key in enumerate(keys):
        for ck in (b"a", b"b"):                   # row a of every other partition is hot
            value = b"hot" if ck == b"a" and i % 2 == 0 else b"cold"
            coordinator.proxy.write([row_update(key, ck, value, 5)], KEYSPACE, CL.ALL)
    hot = sorted(keys[::2], key=lambda k: (token(k), k))
    ring = _Ring(cluster, coordinator)
    for batch in (1, 3, 128):
        parts = list(index_partitions(ring, table, "t_v", b"hot", None, EPOCH, batch=batch))
        assert [p.key for p in parts] == hot                  # once each, token order
        assert all([r.clustering for r in p.rows] == [b"a"] for p in parts)
    middle = hot[len(hot) // 2]
    resumed = list(index_partitions(ring, table, "t_v", b"hot", ((token(middle), middle), False),
                                    EPOCH, batch=4))
    assert [p.key for p in resumed] == hot[len(hot) // 2 + 1:]
    # one replica holds a newer value the others miss: the merge keeps the newest row
    key = hot[0]
    cluster.replicas(key)[0].proxy.engine.apply([row_update(key, b"a", b"cold", 9)])
    parts = list(index_partitions(ring, table, "t_v", b"hot", None, EPOCH, batch=5))
    assert parts[0].key == key and parts[0].rows[0].columns["v"].value == b"cold"  # re-checked later
    # the hidden index table stays out of what streaming moves
    assert all(not name.startswith("t.") for _ks, name, _tid in coordinator.proxy.engine.tables())
    assert any(name == "t.t_v" for _ks, name, _tid in coordinator.engine.tables())
