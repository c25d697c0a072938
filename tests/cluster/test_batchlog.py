"""Batchlog on the simulated ring: LOGGED batches are stored on two other nodes first, removed after
the writes, replayed by the batchlog endpoints when the coordinator dies midway; Unavailable when
no batchlog endpoint is alive; stored batches survive a restart."""
from __future__ import annotations

import random
import uuid

import pytest

from cqlpy.cluster.batchlog import BatchlogManager, batches_table, created_micros
from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.messaging import Verb
from cqlpy.cluster.replication import SimpleStrategy
from cqlpy.engine.serialization import decode_update, encode_update
from cqlpy.errors import Unavailable
from cqlpy.session.rowcodec import RowCodec

from .sim_cluster import KEYSPACE, TABLE_ID, SimCluster, row_update, values


def attach(node, strategy=KEYSPACE, interval: float = 0.0) -> BatchlogManager:
    node.batchlog = BatchlogManager(node.proxy, node.engine, codec=RowCodec(batches_table()),
                                    replication_of=lambda tid: strategy if tid == TABLE_ID else None,
                                    replay_interval=interval,
                                    rng=random.Random(node.index))
    node.batchlog.start()
    return node.batchlog


@pytest.fixture
def cluster(tmp_path):
    c = SimCluster(tmp_path, n=5, seed=11)
    for node in c.nodes:
        attach(node)
    yield c
    c.close()


def run(cluster, pending, timeout: float = 10.0):
    cluster.run_until(lambda: pending.done, timeout)
    return pending.result()


def stored_everywhere(cluster) -> int:
    return sum(len(n.batchlog.stored()) for n in cluster.running())


def test_a_logged_batch_is_logged_on_two_other_nodes_then_removed(cluster):
    coordinator = cluster.nodes[0]
    updates = [row_update(b"k%d" % i, b"c", b"v%d" % i, 100 + i) for i in range(3)]
    seen: list[tuple] = []

    def watch(sender, to, message):
        if message.verb in (Verb.BATCH_STORE_REQ, Verb.BATCH_REMOVE_REQ):
            seen.append((message.verb, sender, to))
        return True

    cluster.net.add_filter(watch)
    run(cluster, coordinator.batchlog.write_async([(updates, KEYSPACE)], CL.QUORUM))
    cluster.run(1.0)                                     # the one-way removals arrive
    stores = [to for verb, sender, to in seen if verb is Verb.BATCH_STORE_REQ]
    removes = [to for verb, sender, to in seen if verb is Verb.BATCH_REMOVE_REQ]
    assert len(stores) == 2 and len(set(stores)) == 2 and coordinator.endpoint not in stores
    assert sorted(removes) == sorted(stores)
    assert stored_everywhere(cluster) == 0               # nothing left behind
    assert sum(n.batchlog.stats["stored"] for n in cluster.nodes) == 2
    for u in updates:
        for replica in cluster.replicas(u.key):
            assert values(replica.read_local(u.key)) == {b"c": u.rows[b"c"].columns["v"].value}


def test_replay_applies_a_batch_whose_coordinator_died_after_logging_it(cluster):
    keys = [k for k in (b"key%d" % i for i in range(200))
            if cluster.nodes[4] not in cluster.replicas(k)][:4]
    coordinator = cluster.nodes[4]                       # a replica of none of the keys
    updates = [row_update(k, b"c", b"logged-" + k, 500) for k in keys]
    cluster.net.add_filter(lambda sender, to, m: not (sender == coordinator.endpoint
                                                       and m.verb is Verb.MUTATION_REQ))
    pending = coordinator.batchlog.write_async([(updates, KEYSPACE)], CL.QUORUM)
    cluster.run_until(lambda: stored_everywhere(cluster) == 2, 5.0)
    holders = [n for n in cluster.nodes if n is not coordinator and n.batchlog.stored()]
    assert len(holders) == 2 and not pending.done
    cluster.crash(coordinator)                           # dies before any mutation arrived
    for k in keys:
        assert all(r.read_local(k) is None for r in cluster.replicas(k))
    for node in holders:                                 # the periodic replay task, every 10 s
        node.batchlog.close()
        attach(node, interval=10.0)
    cluster.run(25.0)
    for u in updates:
        for replica in cluster.replicas(u.key):
            assert values(replica.read_local(u.key)) == {b"c": b"logged-" + u.key}, replica.endpoint
    assert stored_everywhere(cluster) == 0
    assert sum(n.batchlog.stats["replayed"] for n in holders) == 2   # each holder replayed once


def test_a_young_batch_is_not_replayed(cluster):
    node = cluster.nodes[1]
    update = row_update(b"young", b"c", b"v", 7)
    batch_id = uuid.UUID(int=0)                          # not a timeuuid: refused over the wire
    with pytest.raises(ValueError):
        from cqlpy.cluster.messaging import Message
        node.batchlog.handle(Message(Verb.BATCH_STORE_REQ, {"id": batch_id, "mutations": []}))
    from cqlpy.cluster.batchlog import _IDS
    batch_id = _IDS.at(int(node.proxy.clock() * 1_000_000))
    node.batchlog.store(batch_id, [encode_update(update)])
    assert node.batchlog.replay() == 0                   # younger than 2 x write timeout
    cluster.run(4.5)
    assert node.batchlog.replay() == 1
    cluster.run(1.0)
    assert node.batchlog.stored() == []
    assert all(values(r.read_local(b"young")) == {b"c": b"v"} for r in cluster.replicas(b"young"))


def test_stored_batches_survive_a_restart(cluster):
    node = cluster.nodes[2]
    from cqlpy.cluster.batchlog import _IDS
    batch_id = _IDS.at(int(node.proxy.clock() * 1_000_000))
    update = row_update(b"durable", b"c", b"v", 9)
    node.batchlog.store(batch_id, [encode_update(update)])
    cluster.crash(node)
    cluster.restart(node)
    bl = attach(node)
    [(stored_id, mutations)] = bl.stored()
    assert stored_id == batch_id and created_micros(stored_id) > 0
    assert decode_update(mutations[0]).key == b"durable"
    cluster.run(5.0)
    assert bl.replay() == 1
    cluster.run(1.0)
    assert bl.stored() == []
    assert all(values(r.read_local(b"durable")) == {b"c": b"v"} for r in cluster.replicas(b"durable"))


def test_batchlog_endpoints_are_two_live_others(cluster):
    for node in cluster.nodes:
        chosen = node.batchlog.batchlog_endpoints()
        assert len(chosen) == 2 and node.endpoint not in chosen and len(set(chosen)) == 2
    cluster.crash(*cluster.nodes[1:4])
    assert cluster.nodes[0].batchlog.batchlog_endpoints() == [cluster.nodes[4].endpoint]


def test_unavailable_when_no_batchlog_endpoint_is_alive(tmp_path):
    c = SimCluster(tmp_path, n=3, seed=5)
    try:
        rf1 = SimpleStrategy(1)
        for node in c.nodes:
            attach(node, strategy=rf1)
        n0 = c.nodes[0]
        keys = [k for k in (b"p%d" % i for i in range(300))
                if n0.proxy.natural_replicas(rf1, _token(k)) == (n0.endpoint,)][:2]
        updates = [row_update(k, b"c", b"v", 1) for k in keys]
        # RF 3 at QUORUM with two nodes down: the statement's own level fails first
        c.crash(c.nodes[1], c.nodes[2])
        with pytest.raises(Unavailable) as info:
            n0.batchlog.write_async([(updates, KEYSPACE)], CL.QUORUM)
        assert info.value.consistency == "QUORUM"
        # RF 1, every replica alive, but no other live node to hold the batchlog
        with pytest.raises(Unavailable) as info:
            n0.batchlog.write_async([(updates, rf1)], CL.ONE)
        assert (info.value.consistency, info.value.required, info.value.alive) == ("ONE", 1, 0)
        assert all(n0.read_local(k) is None for k in keys) and n0.batchlog.stored() == []
        # an UNLOGGED batch needs no batchlog; at ANY the coordinator logs the batch itself
        run(c, n0.proxy.write_async(updates[:1], rf1, CL.ONE))
        run(c, n0.batchlog.write_async([(updates, rf1)], CL.ANY))
        assert n0.batchlog.stats["stored"] == 1 and n0.batchlog.stored() == []
        assert all(values(n0.read_local(k)) == {b"c": b"v"} for k in keys)
    finally:
        c.close()


def _token(key: bytes) -> int:
    from cqlpy.engine import murmur3
    return murmur3.token(key)
