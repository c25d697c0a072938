"""The coordinator on an in-process 5-node cluster (SimpleStrategy RF 3, simulated network, fake clock):
ring from gossip, consistency levels, Unavailable, WriteTimeout, hints, read repair, restarts."""
from __future__ import annotations

import random

import pytest

from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.coordinator import (
    Pending,
    all_of,
    canonical,
    digest_of,
    encode_partition,
    to_update,
)
from cqlpy.cluster.messaging import Verb
from cqlpy.engine.rows import Cell, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice
from cqlpy.engine.read_merge import Partition
from cqlpy.errors import (InvalidRequest, ReadFailure, ReadTimeout, Unavailable, WriteFailure,
                          WriteTimeout)

from .sim_cluster import EPOCH, KEYSPACE, TABLE_ID, SimCluster, delete_row, row_update, values

REPLICATION = {"class": "SimpleStrategy", "replication_factor": "3"}


@pytest.fixture
def cluster(tmp_path):
    c = SimCluster(tmp_path, n=5, seed=11)
    yield c
    c.close()


def drop(cluster, verb: Verb, to_nodes):
    """A network filter dropping ``verb`` requests to the given nodes; returns it for removal."""
    targets = {n.endpoint for n in to_nodes}
    return cluster.net.add_filter(
        lambda sender, to, m: not (m.verb == verb and not m.is_response and to in targets))


# --- ring state -------------------------------------------------------------------------------------

def test_every_node_learns_the_same_ring_from_gossip(cluster):
    rings = [(n.storage.token_metadata.sorted_tokens(), n.storage.token_metadata.owners())
             for n in cluster.nodes]
    assert all(r == rings[0] for r in rings)
    assert len(rings[0][0]) == 5 * cluster.num_tokens
    for node in cluster.nodes:
        assert node.storage.token_metadata.tokens_of(node.endpoint) == node.storage.tokens
    # placement agrees on every node, and each key has 3 distinct replicas
    for i in range(20):
        key = f"key{i}".encode()
        seen = {tuple(n.proxy.natural_replicas(KEYSPACE, _tok(key))) for n in cluster.nodes}
        assert len(seen) == 1 and len(set(seen.pop())) == 3


def test_tokens_are_kept_across_a_restart(cluster):
    node = cluster.nodes[3]
    before = list(node.storage.tokens)
    generation = node.gossiper.generation
    cluster.crash(node)
    cluster.restart(node)
    assert node.storage.tokens == before
    assert node.gossiper.generation > generation
    for other in cluster.nodes:
        assert other.storage.token_metadata.tokens_of(node.endpoint) == before


def test_a_restarted_node_knows_the_ring_before_gossip_catches_up(cluster):
    node, down = cluster.nodes[2], cluster.nodes[4]
    ring = cluster.nodes[0].storage.token_metadata
    cluster.crash(down)
    node.crash()
    node.start()                                   # no time for gossip yet
    tm = node.storage.token_metadata
    assert tm.sorted_tokens() == ring.sorted_tokens() and tm.owners() == ring.owners()
    assert not node.gossiper.is_alive(down.endpoint)
    assert set(node.storage.saved_peers()) == {n.endpoint for n in cluster.nodes} - {node.endpoint}
    cluster.run_until(lambda: all(node.gossiper.is_alive(n.endpoint) for n in cluster.running()))
    key = next(b"k%d" % i for i in range(100) if down in cluster.replicas(b"k%d" % i))
    node.proxy.write([row_update(key, b"c", b"v", 1)], KEYSPACE, CL.QUORUM)
    assert node.hints.pending_count(down.endpoint.host_id) == 1


def test_a_node_that_left_leaves_every_ring(cluster):
    from cqlpy.cluster.endpoint_state import ApplicationState as AS, VersionedValueFactory as VVF
    gone = cluster.nodes[4]
    expire = int((cluster.wall_clock() + 3 * 86400) * 1000)
    gone.gossiper.add_local_application_state(AS.STATUS, VVF.left(gone.storage.tokens, expire))
    cluster.run_until(lambda: all(not n.storage.token_metadata.is_member(gone.endpoint)
                                  for n in cluster.nodes[:4]))
    assert len(cluster.nodes[0].storage.token_metadata.endpoints()) == 4
    assert gone.endpoint not in cluster.nodes[0].storage.saved_peers()


def test_writes_also_go_to_pending_replicas_while_a_node_leaves(cluster):
    from cqlpy.cluster.endpoint_state import ApplicationState as AS, VersionedValueFactory as VVF
    leaving = cluster.nodes[4]
    key = next(b"k%d" % i for i in range(100) if leaving in cluster.replicas(b"k%d" % i))
    leaving.gossiper.add_local_application_state(AS.STATUS, VVF.leaving(leaving.storage.tokens))
    cluster.run_until(lambda: all(leaving.endpoint in n.storage.token_metadata.leaving_endpoints()
                                  for n in cluster.nodes[:4]))
    coordinator = cluster.nodes[0]
    pending = coordinator.proxy.pending_replicas(KEYSPACE, _tok(key))
    assert len(pending) == 1 and pending[0] not in coordinator.proxy.natural_replicas(KEYSPACE,
                                                                                    _tok(key))
    newcomer = cluster.nodes[cluster.endpoints.index(pending[0])]
    coordinator.proxy.write([row_update(key, b"c", b"v", 1)], KEYSPACE, CL.ALL)
    assert values(newcomer.read_local(key)) == {b"c": b"v"}
    # ALL now needs RF + 1 acknowledgements: with the newcomer unreachable, too few are alive
    cluster.crash(newcomer)
    with pytest.raises(Unavailable) as info:
        coordinator.proxy.write([row_update(key, b"c", b"w", 2)], KEYSPACE, CL.ALL)
    assert info.value.required == 4


# --- writes and reads --------------------------------------------------------------------------------

def test_quorum_write_then_read_everywhere(cluster):
    key = b"alpha"
    coordinator = cluster.non_replicas(key)[0]
    coordinator.proxy.write([row_update(key, b"c1", b"v1", 100)], REPLICATION, CL.QUORUM)
    for node in cluster.nodes:
        assert values(node.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=REPLICATION)) == {
            b"c1": b"v1"}
    assert all(values(r.read_local(key)) == {b"c1": b"v1"} for r in cluster.replicas(key))
    assert all(n.read_local(key) is None for n in cluster.non_replicas(key))


def test_quorum_succeeds_with_one_replica_down(cluster):
    key = b"bravo"
    down = cluster.replicas(key)[1]
    cluster.crash(down)
    for node in cluster.running():
        ts = 1000 + node.index
        node.proxy.write([row_update(key, b"c%d" % node.index, b"x", ts)], KEYSPACE, CL.QUORUM)
    expected = {b"c%d" % n.index: b"x" for n in cluster.running()}
    for node in cluster.running():
        assert values(node.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=KEYSPACE)) == expected
    with pytest.raises(Unavailable):
        cluster.nodes[0].proxy.write([row_update(key, b"z", b"z", 1)], KEYSPACE, CL.ALL)


def test_unavailable_with_two_replicas_down(cluster):
    key = b"charlie"
    a, b, alive = cluster.replicas(key)
    cluster.crash(a, b)
    coordinator = cluster.non_replicas(key)[0]
    sent_before = cluster.net.delivered
    with pytest.raises(Unavailable) as info:
        coordinator.proxy.write([row_update(key, b"c", b"v", 5)], KEYSPACE, CL.QUORUM)
    assert (info.value.consistency, info.value.required, info.value.alive) == ("QUORUM", 2, 1)
    assert info.value.code == 0x1000
    with pytest.raises(Unavailable):
        coordinator.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=KEYSPACE)
    assert alive.read_local(key) is None                      # nothing was sent
    assert coordinator.hints.pending_count() == 0
    assert cluster.net.delivered - sent_before < 10           # at most stray gossip
    # ONE still works, and the two dead replicas get hints
    coordinator.proxy.write([row_update(key, b"c", b"v", 5)], KEYSPACE, CL.ONE)
    assert values(alive.read_local(key)) == {b"c": b"v"}
    assert coordinator.hints.pending_count() == 2
    assert values(coordinator.proxy.read(TABLE_ID, key, cl=CL.ONE, replication=KEYSPACE)) == {
        b"c": b"v"}


def test_write_timeout_when_replicas_drop_mutations(cluster):
    key = b"delta"
    r0, r1, r2 = cluster.replicas(key)
    coordinator = r0
    f = drop(cluster, Verb.MUTATION_REQ, [r1, r2])
    start = cluster.scheduler.now
    with pytest.raises(WriteTimeout) as info:
        coordinator.proxy.write([row_update(key, b"c", b"v", 7)], KEYSPACE, CL.QUORUM)
    err = info.value
    assert (err.consistency, err.received, err.block_for, err.write_type) == ("QUORUM", 1, 2, "SIMPLE")
    assert err.code == 0x1100
    assert cluster.scheduler.now - start == pytest.approx(2.0, abs=0.01)
    # the timed-out replicas get hints (written once their own request times out)
    cluster.run(0.1)
    assert coordinator.hints.pending_count(r1.endpoint.host_id) == 1
    assert coordinator.hints.pending_count(r2.endpoint.host_id) == 1
    assert r1.read_local(key) is None and r2.read_local(key) is None
    cluster.net.remove_filter(f)
    cluster.run(11)                                        # periodic dispatch to live hosts
    assert values(r1.read_local(key)) == {b"c": b"v"} == values(r2.read_local(key))
    assert coordinator.hints.pending_count() == 0


def test_write_timeout_counts_only_real_acks_from_a_non_replica_coordinator(cluster):
    key = b"echo"
    coordinator = cluster.non_replicas(key)[0]
    f = drop(cluster, Verb.MUTATION_REQ, cluster.replicas(key)[:2])
    with pytest.raises(WriteTimeout) as info:
        coordinator.proxy.write([row_update(key, b"c", b"v", 7)], KEYSPACE, CL.ALL)
    assert (info.value.received, info.value.block_for) == (1, 3)
    cluster.net.remove_filter(f)
    batch = [row_update(key, b"c", b"v", 8), row_update(b"foxtrot", b"c", b"w", 8)]
    f = drop(cluster, Verb.MUTATION_REQ, cluster.nodes)
    with pytest.raises(WriteTimeout) as info:
        coordinator.proxy.write(batch, KEYSPACE, CL.ONE)
    assert info.value.write_type == "UNLOGGED_BATCH"
    cluster.net.remove_filter(f)


def test_any_is_satisfied_by_a_hint(cluster):
    key = b"golf"
    coordinator = cluster.non_replicas(key)[0]
    cluster.crash(*cluster.replicas(key))
    coordinator.proxy.write([row_update(key, b"c", b"v", 9)], KEYSPACE, CL.ANY)
    assert coordinator.hints.pending_count() == 3
    with pytest.raises(Unavailable):
        coordinator.proxy.write([row_update(key, b"c", b"v", 9)], KEYSPACE, CL.ONE)
    with pytest.raises(InvalidRequest):
        coordinator.proxy.read(TABLE_ID, key, cl=CL.ANY, replication=KEYSPACE)
    for replica in cluster.replicas(key):
        cluster.restart(replica)
    cluster.run_until(lambda: coordinator.hints.pending_count() == 0, 30)
    assert all(values(r.read_local(key)) == {b"c": b"v"} for r in cluster.replicas(key))


def test_hints_replay_to_a_returning_replica(cluster):
    key = b"hotel"
    down = cluster.replicas(key)[2]
    cluster.crash(down)
    coordinator = cluster.non_replicas(key)[0]
    for i in range(5):
        coordinator.proxy.write([row_update(key, b"c%d" % i, b"v%d" % i, 100 + i)], KEYSPACE,
                                CL.QUORUM)
    assert coordinator.hints.pending_count(down.endpoint.host_id) == 5
    files = coordinator.hints.files(down.endpoint.host_id)
    assert len(files) == 1 and files[0].endswith(".hints")
    cluster.restart(down)
    cluster.run_until(lambda: coordinator.hints.pending_count() == 0, 15)
    assert values(down.read_local(key)) == {b"c%d" % i: b"v%d" % i for i in range(5)}
    import os
    assert not any(os.path.exists(p) for p in files)


def test_read_repair_fixes_a_stale_replica_on_a_quorum_read(cluster):
    key = b"india"
    stale, r1, r2 = cluster.replicas(key)
    coordinator = cluster.non_replicas(key)[0]
    coordinator.proxy.write([row_update(key, b"a", b"old", 10), row_update(key, b"b", b"b", 10)],
                            KEYSPACE, CL.ALL)
    coordinator.hints.enabled = False                      # only read repair can fix it now
    f = drop(cluster, Verb.MUTATION_REQ, [stale])
    coordinator.proxy.write([row_update(key, b"a", b"new", 20)], KEYSPACE, CL.QUORUM)
    coordinator.proxy.write([delete_row(key, b"b", 21)], KEYSPACE, CL.QUORUM)
    cluster.run(3)
    cluster.net.remove_filter(f)
    assert values(stale.read_local(key)) == {b"a": b"old", b"b": b"b"}
    # the stale replica coordinates: it reads itself (data) and one other replica (digest)
    result = stale.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=KEYSPACE)
    assert values(result) == {b"a": b"new"}
    assert stale.proxy.stats["digest_mismatches"] == 1
    assert stale.proxy.stats["read_repairs"] == 1
    assert values(stale.read_local(key)) == {b"a": b"new"}
    tomb = stale.read_local(key, tombstones=True)
    assert [r.deletion for r in tomb.rows if r.clustering == b"b"] == [DeletionTime(21, EPOCH)]
    # now every replica agrees: digests match, no more repair
    for node in cluster.nodes:
        assert values(node.proxy.read(TABLE_ID, key, cl=CL.ALL, replication=KEYSPACE)) == {
            b"a": b"new"}
        assert node.proxy.stats["read_repairs"] == (1 if node is stale else 0)


def test_read_repair_writes_back_to_a_stale_digest_replica(cluster):
    key = b"juliet"
    r0, r1, r2 = cluster.replicas(key)
    r0.hints.enabled = False
    f = drop(cluster, Verb.MUTATION_REQ, [r1])
    r0.proxy.write([row_update(key, b"a", b"1", 10)], KEYSPACE, CL.QUORUM)
    cluster.net.remove_filter(f)
    f = drop(cluster, Verb.READ_REQ, [r2])                 # r0 (data) and r1 (digest) answer
    result = r0.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=KEYSPACE)
    assert values(result) == {b"a": b"1"}
    assert values(r1.read_local(key)) == {b"a": b"1"}      # repaired before the read answered
    cluster.net.remove_filter(f)


def test_read_timeout_when_replicas_do_not_answer(cluster):
    key = b"kilo"
    coordinator = cluster.non_replicas(key)[0]
    coordinator.proxy.write([row_update(key, b"a", b"1", 10)], KEYSPACE, CL.ALL)
    f = drop(cluster, Verb.READ_REQ, cluster.replicas(key)[1:])
    start = cluster.scheduler.now
    with pytest.raises(ReadTimeout) as info:
        coordinator.proxy.read(TABLE_ID, key, cl=CL.ALL, replication=KEYSPACE)
    assert cluster.scheduler.now - start == pytest.approx(5.0, abs=0.01)
    assert (info.value.consistency, info.value.block_for, info.value.code) == ("ALL", 3, 0x1200)
    assert info.value.received <= 1
    cluster.net.remove_filter(f)


def test_replica_errors_fail_fast(cluster):
    key = b"kilo2"
    coordinator = cluster.non_replicas(key)[0]
    unknown = PartitionUpdate(b"\x01" * 16, key, rows={b"c": Row(b"c", Cell(b"", 1))})
    start = cluster.scheduler.now
    with pytest.raises(WriteFailure) as info:
        coordinator.proxy.write([unknown], KEYSPACE, CL.QUORUM)
    assert (info.value.code, info.value.block_for, info.value.received) == (0x1500, 2, 0)
    with pytest.raises(ReadFailure) as info:
        coordinator.proxy.read(b"\x01" * 16, key, cl=CL.QUORUM, replication=KEYSPACE)
    assert (info.value.code, info.value.block_for) == (0x1300, 2)
    assert cluster.scheduler.now - start < 0.1                # no waiting for the timeouts


def test_slices_limit_and_reversed_reads(cluster):
    key = b"lima"
    coordinator = cluster.nodes[0]
    coordinator.proxy.write([row_update(key, b"c%d" % i, b"%d" % i, 10) for i in range(6)],
                            KEYSPACE, CL.ALL)
    p = coordinator.proxy.read(TABLE_ID, key, [Slice(b"c1", True, b"c4", False)], CL.QUORUM,
                               KEYSPACE)
    assert list(values(p)) == [b"c1", b"c2", b"c3"]
    p = coordinator.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=KEYSPACE, reversed=True,
                               limit=2)
    assert [r.clustering for r in p.rows] == [b"c5", b"c4"]
    assert coordinator.proxy.read(TABLE_ID, b"nothing-here", cl=CL.QUORUM,
                                  replication=KEYSPACE) is None


def test_no_acknowledged_quorum_write_is_lost_across_restarts(cluster):
    """Seeded chaos: one or two nodes down per round, 30% of mutations dropped; every write the
    coordinator acknowledged is read back at QUORUM after every engine has been reopened (a
    timed-out write may also have landed, so a later unacknowledged value may be seen instead)."""
    rng = random.Random(5)
    drops = random.Random(6)
    attempts: dict[bytes, list[tuple[int, bytes, bool]]] = {}
    outcomes = {"acked": 0, "unavailable": 0, "timeout": 0}
    ts = 1000
    lossy = cluster.net.add_filter(
        lambda s, to, m: not (m.verb == Verb.MUTATION_REQ and drops.random() < 0.3))
    for round_ in range(6):
        victims = rng.sample(cluster.nodes, rng.choice((1, 2)))
        cluster.crash(*victims)
        for i in range(15):
            key = b"key%d" % rng.randrange(12)
            coordinator = rng.choice(cluster.running())
            ts += 1
            value = b"r%d-%d" % (round_, i)
            try:
                coordinator.proxy.write([row_update(key, b"c", value, ts)], KEYSPACE, CL.QUORUM)
            except Unavailable:
                outcomes["unavailable"] += 1
                continue
            except WriteTimeout:
                outcomes["timeout"] += 1
                attempts.setdefault(key, []).append((ts, value, False))
                continue
            outcomes["acked"] += 1
            attempts.setdefault(key, []).append((ts, value, True))
        for victim in victims:
            victim.start()
        cluster.wait_converged()
    cluster.net.remove_filter(lossy)
    assert outcomes["acked"] >= 20 and outcomes["unavailable"] > 0 and outcomes["timeout"] > 0
    # restart every node (a crash for some, a clean stop for others): engines are reopened
    for node in cluster.nodes:
        if rng.random() < 0.5:
            node.crash()
        else:
            node.stop()
    for node in cluster.nodes:
        node.start()
    cluster.wait_converged()
    for key, tries in sorted(attempts.items()):
        newest_acked = max((t for t, _, ok in tries if ok), default=None)
        if newest_acked is None:
            continue
        reader = rng.choice(cluster.nodes)
        got = values(reader.proxy.read(TABLE_ID, key, cl=CL.QUORUM, replication=KEYSPACE))
        written = {v: t for t, v, _ in tries}
        assert got.get(b"c") in written, key
        assert written[got[b"c"]] >= newest_acked, key


def test_the_simulation_is_deterministic(tmp_path):
    def run(path):
        c = SimCluster(path, n=4, seed=3)
        key = b"mike"
        c.crash(c.replicas(key)[0])
        c.running()[-1].proxy.write([row_update(key, b"c", b"v", 1)], KEYSPACE, CL.QUORUM)
        out = (c.scheduler.now, c.net.delivered, c.net.dropped,
               [n.storage.tokens for n in c.nodes])
        c.close()
        return out
    assert run(tmp_path / "a") == run(tmp_path / "b")


# --- pieces ------------------------------------------------------------------------------------------

def test_digest_is_canonical():
    key = b"k"
    r1 = Row(b"c", Cell(b"", 1), None, {"a": Cell(b"1", 1), "b": Cell(b"2", 1)})
    r2 = Row(b"c", Cell(b"", 1), None, {"b": Cell(b"2", 1), "a": Cell(b"1", 1)})
    rt = RangeTombstone(Slice(b"x", True, b"y", True), DeletionTime(5, 9))
    u1 = PartitionUpdate(TABLE_ID, key, None, [rt, rt], None, {b"c": r1})
    u2 = PartitionUpdate(TABLE_ID, key, None, [rt], None, {b"c": r2})
    d1, d2 = (digest_of(encode_partition(canonical(u))) for u in (u1, u2))
    assert d1 == d2
    shadowed = PartitionUpdate(TABLE_ID, key, DeletionTime(3, 9), [], None,
                               {b"d": Row(b"d", Cell(b"", 2), None, {})})
    assert canonical(shadowed).rows == {}
    assert digest_of(None) == digest_of(b"")
    part = Partition(key, 0, None, [r2], None, [rt, rt])
    assert encode_partition(to_update(TABLE_ID, part)) == encode_partition(canonical(u1))


def test_pending_combinators():
    a, b = Pending(), Pending()
    both = all_of([a, b])
    a.set_result(1)
    assert not both.done
    b.set_exception(ValueError("x"))
    with pytest.raises(ValueError):
        both.result()
    seen = []
    a.add_done_callback(lambda p: seen.append(p.result()))
    assert seen == [1]


def _tok(key: bytes) -> int:
    from cqlpy.engine import murmur3
    return murmur3.token(key)
