"""Range reads on the simulated ring honour the consistency level: before any RANGE_REQ, every
token range the read covers needs enough live replicas (Cassandra's range-read availability
check), else Unavailable; SERIAL and ANY are refused as Cassandra refuses them."""
import asyncio

import pytest

from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.messaging import Verb
from cqlpy.cluster.ring_engine import RingEngine, range_answer
from cqlpy.engine.murmur3 import token
from cqlpy.errors import InvalidRequest, Unavailable
from cqlpy.node_indexes import index_partitions

from .sim_cluster import EPOCH, KEYSPACE, TABLE_ID, SimCluster, indexed_schema, row_update


class SimRingEngine(RingEngine):
    """A RingEngine whose coordinated calls step the simulated network instead of a loop."""

    def __init__(self, cluster, node, catalog, level):
        self.level = level
        self._sim, self._loop = cluster, asyncio.new_event_loop()
        super().__init__(node.engine, catalog, lambda: node.proxy, self._loop,
                         consistency=lambda: self.level)

    def _call(self, start, timeout):
        pending = start()
        self._sim.run_until(lambda: pending.done, timeout)
        return pending.result()

    def close(self):
        self._loop.close()


@pytest.fixture
def catalog(tmp_path):
    s = indexed_schema(str(tmp_path / "schema"))
    yield s._database.catalog
    s.close()


@pytest.fixture
def cluster(tmp_path):
    c = SimCluster(tmp_path, n=5)
    for node in c.nodes:
        node.messaging.register_handler(Verb.RANGE_REQ, lambda m, node=node: node.messaging.respond(
            m, range_answer(node.engine, m.payload)))
    yield c
    c.close()


KEYS = [b"p%02d" % i for i in range(30)]


def _scan_keys(ring, start=None, end=None):
    return [p.key for p in ring.scan(TABLE_ID, start, True, end, now=EPOCH)]


def test_range_read_needs_the_level_on_every_range(cluster, catalog):
    coordinator = cluster.nodes[0]
    for key in KEYS:
        coordinator.proxy.write([row_update(key, b"c", b"v", 5)], KEYSPACE, CL.ALL)
    ring = SimRingEngine(cluster, coordinator, catalog, CL.QUORUM.value)
    try:
        in_order = sorted(KEYS, key=lambda k: (token(k), k))
        assert _scan_keys(ring) == in_order
        # two of the three replicas of one range go down: that range has one live replica
        victim = next(k for k in KEYS if coordinator not in cluster.replicas(k))
        dead = cluster.replicas(victim)[:2]
        cluster.crash(*dead)
        for node in dead:
            cluster.wait_seen_down(node)
        with pytest.raises(Unavailable) as err:
            _scan_keys(ring)
        assert (err.value.consistency, err.value.required, err.value.alive) == ("QUORUM", 2, 1)
        ring.level = CL.ALL.value
        with pytest.raises(Unavailable) as err:
            _scan_keys(ring)
        assert err.value.required == 3
        ring.level = CL.ONE.value                 # one live replica per range is enough
        assert _scan_keys(ring) == in_order
        # a token-bounded read over ranges whose replicas are all up still works at QUORUM
        tm = coordinator.proxy.token_metadata
        ranges = KEYSPACE.replica_map(tm).ranges()
        healthy = next((r for r, replicas in ranges
                        if r.start < r.end and not set(replicas) & {n.endpoint for n in dead}), None)
        assert healthy is not None                # the sim's ring is seeded: there is one
        ring.level = CL.QUORUM.value
        inside = [k for k in in_order if healthy.start < token(k) <= healthy.end]
        assert _scan_keys(ring, (healthy.start + 1, b""), healthy.end) == inside
        # levels Cassandra refuses for a range read
        ring.level = CL.SERIAL.value
        with pytest.raises(InvalidRequest, match="one partition at a time"):
            _scan_keys(ring)
        ring.level = CL.ANY.value
        with pytest.raises(InvalidRequest, match="ANY ConsistencyLevel is only supported for writes"):
            _scan_keys(ring)
        # an index read is a range read too: the same check, before any node is asked
        ring.level = CL.QUORUM.value
        table = catalog.table_by_id(TABLE_ID)
        with pytest.raises(Unavailable):
            list(index_partitions(ring, table, "t_v", b"v", None, EPOCH))
    finally:
        ring.close()
