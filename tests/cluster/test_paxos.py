"""Paxos across replicas on the simulated cluster (RF 3, fake clock): racing IF NOT EXISTS, a
compare-and-set loop under drops and delays, Unavailable, finishing an in-progress proposal,
repairing a replica behind on the latest commit, and acceptor state that survives a restart."""
from __future__ import annotations

import os
import uuid

import pytest

from cqlpy.cluster.consistency import ConsistencyLevel as CL
from cqlpy.cluster.messaging import Verb
from cqlpy.cluster.paxos import Participants, make_ballot, run_async, run_blocking
from cqlpy.cluster.paxos_state import Commit, PaxosStateStore, ballot_micros, ballot_order
from cqlpy.cluster.simulated_network import LinkConfig
from cqlpy.errors import InvalidRequest, ReadTimeout, Unavailable, WriteTimeout

from .sim_cluster import TABLE_ID, SimCluster, row_update, values

REPLICATION = {"class": "SimpleStrategy", "replication_factor": "3"}


@pytest.fixture
def cluster(tmp_path):
    c = SimCluster(tmp_path, n=5, seed=23)
    yield c
    c.close()


# --- helpers ------------------------------------------------------------------------------------------

def if_not_exists(key: bytes, value: bytes):
    def evaluate(partition, micros):
        current = values(partition).get(b"")
        if current is not None:
            return (False, current), None
        return (True, None), [row_update(key, b"", value, micros)]
    return evaluate


def if_equals(key: bytes, expected: bytes | None, new: bytes):
    def evaluate(partition, micros):
        current = values(partition).get(b"")
        if current != expected:
            return (False, current), None
        return (True, current), [row_update(key, b"", new, micros)]
    return evaluate


def start_cas(node, key, evaluate, **kw):
    return run_async(node.paxos.cas(TABLE_ID, key, REPLICATION, evaluate, **kw))


def wait(cluster, *pendings, timeout: float = 60.0) -> None:
    assert cluster.scheduler.run_until_true(lambda: all(p.done for p in pendings), timeout,
                                            step=0.01), "paxos rounds did not finish"


def cas(cluster, node, key, evaluate, **kw):
    return run_blocking(node.paxos.cas(TABLE_ID, key, REPLICATION, evaluate, **kw),
                        lambda step: node.proxy._run(step()))


def serial_read(cluster, node, key, **kw):
    return run_blocking(node.paxos.serial_read(TABLE_ID, key, REPLICATION, **kw),
                        lambda step: node.proxy._run(step()))


def committed_value(cluster, node, key):
    return values(serial_read(cluster, node, key)).get(b"")


# --- the state store ------------------------------------------------------------------------------------

def test_state_store_keeps_promises_accepts_and_commits_across_reopen(tmp_path):
    b1, b2, b3 = (make_ballot(1_700_000_000_000_000 + i, 5, 77) for i in (1, 2, 3))
    store = PaxosStateStore(str(tmp_path))
    assert store.prepare(TABLE_ID, b"k", b2) [0]
    assert store.prepare(TABLE_ID, b"k", b1)[0] is False          # older than the promise
    assert store.propose(TABLE_ID, b"k", Commit(b1, (b"x",))) is False
    assert store.propose(TABLE_ID, b"k", Commit(b2, (b"upd",)))
    store.prepare(TABLE_ID, b"other", b3)
    store.close()
    again = PaxosStateStore(str(tmp_path))
    state = again.get(TABLE_ID, b"k")
    assert state.promised == b2 and state.accepted == Commit(b2, (b"upd",))
    assert again.prepare(TABLE_ID, b"k", b1)[0] is False
    again.commit(TABLE_ID, b"k", Commit(b2, (b"upd",)))
    again.close()
    third = PaxosStateStore(str(tmp_path))
    state = third.get(TABLE_ID, b"k")
    assert state.accepted is None and state.most_recent_commit == Commit(b2, (b"upd",))
    assert third.get(TABLE_ID, b"other").promised == b3
    third.close()


def test_state_store_ignores_a_torn_tail_and_compacts(tmp_path):
    store = PaxosStateStore(str(tmp_path), compact_factor=2, compact_min=10)
    ballots = [make_ballot(1_700_000_000_000_000 + i, 1, 2) for i in range(40)]
    for b in ballots:
        store.prepare(TABLE_ID, b"k", b)
    store.close()
    size = os.path.getsize(os.path.join(str(tmp_path), "paxos.log"))
    assert size < 40 * 60                            # rewritten: not one record per prepare
    with open(os.path.join(str(tmp_path), "paxos.log"), "ab") as f:
        f.write(b"\x00\x00\x01\x00garbage")          # a torn record
    again = PaxosStateStore(str(tmp_path))
    assert again.get(TABLE_ID, b"k").promised == ballots[-1]
    again.close()


def test_ballots_are_time_uuids_in_a_total_order():
    a = make_ballot(1_700_000_000_123_456, 3, 9)
    assert a.version == 1 and ballot_micros(a) == 1_700_000_000_123_456
    b = make_ballot(1_700_000_000_123_456, 3, 10)
    assert ballot_order(a) < ballot_order(b) and ballot_order(a) != ballot_order(b)
    assert ballot_order(make_ballot(1_700_000_000_123_457, 0, 0)) > ballot_order(b)


def test_new_ballots_grow_and_pass_a_minimum(cluster):
    paxos = cluster.nodes[0].paxos
    first = paxos.new_ballot()
    second = paxos.new_ballot()
    assert ballot_order(second) > ballot_order(first)
    later = paxos.new_ballot(ballot_micros(second) + 5_000_000)
    assert ballot_micros(later) == ballot_micros(second) + 5_000_000


# --- rounds ---------------------------------------------------------------------------------------------

def test_racing_if_not_exists_has_exactly_one_winner(cluster):
    """Every node races IF NOT EXISTS on the same keys.  Like a real client, a node whose attempt
    timed out (contention, or a result unknown) retries: that is safe for IF NOT EXISTS, and a
    retry that finds the node's own value means its first attempt won."""
    cluster.net.default = LinkConfig(delay=(0.001, 0.03))
    keys = [f"race{i}".encode() for i in range(4)]
    answers: dict[tuple[bytes, int], list] = {}
    finished = {}

    def attempt(node, key):
        mine = node.endpoint.address.encode()
        p = start_cas(node, key, if_not_exists(key, mine))

        def done(p):
            answers.setdefault((key, node.index), []).append(p.exception() or p.result())
            if p.exception() is not None:
                assert isinstance(p.exception(), WriteTimeout), p.exception()
                assert p.exception().write_type == "CAS"
                attempt(node, key)
            else:
                finished[(key, node.index)] = p.result()
        p.add_done_callback(done)

    for key in keys:
        for node in cluster.nodes:
            attempt(node, key)
    assert cluster.scheduler.run_until_true(lambda: len(finished) == len(keys) * len(cluster.nodes),
                                            120.0, step=0.01)
    for key in keys:
        outcomes = {i: finished[(key, i)] for i in range(len(cluster.nodes))}
        applied = [i for i, (ok, _) in outcomes.items() if ok]
        assert len(applied) <= 1, outcomes
        final = committed_value(cluster, cluster.nodes[0], key)
        winners = [i for i, (ok, current) in outcomes.items()
                   if ok or current == cluster.nodes[i].endpoint.address.encode()]
        assert len(winners) == 1, (outcomes, answers)
        assert final == cluster.nodes[winners[0]].endpoint.address.encode()
        # a node learns it won only from [applied]=true, or after an unknown outcome
        if not applied:
            assert any(isinstance(a, WriteTimeout) for a in answers[(key, winners[0])])
        # every loser saw the winner's value, and a serial read from anywhere sees it
        assert all(current == final for ok, current in outcomes.values() if not ok)
        for node in cluster.nodes:
            assert committed_value(cluster, node, key) == final
    timeouts = sum(isinstance(a, WriteTimeout) for v in answers.values() for a in v)
    assert sum(1 for (ok, _c) in finished.values() if ok) >= len(keys) - timeouts


def test_compare_and_set_loop_under_drops_and_delays_loses_no_update(cluster):
    key = b"counter"
    cluster.net.default = LinkConfig(drop=0.03, delay=(0.001, 0.02))
    coordinators = cluster.nodes[:3]
    outcome: dict[str, str] = {}                    # op id -> applied / refused / unknown
    running = {}

    def loop(node, n: int, expected: bytes | None) -> None:
        if n == 12:
            running[node.index].set_result(None)
            return
        op = f"{node.index}.{n}"
        new = (expected + b"," if expected else b"") + op.encode()
        p = start_cas(node, key, if_equals(key, expected, new))

        def done(p):
            if p.exception() is not None:
                outcome[op] = "unknown"
                after = start_read(node)
            else:
                applied, current = p.result()
                outcome[op] = "applied" if applied else "refused"
                if applied:
                    loop(node, n + 1, new)
                else:
                    loop(node, n + 1, current)
                return
            after.add_done_callback(
                lambda r: loop(node, n + 1, None if r.exception() is not None
                               else values(r.result()).get(b"")))
        p.add_done_callback(done)

    def start_read(node):
        return run_async(node.paxos.serial_read(TABLE_ID, key, REPLICATION))

    from cqlpy.cluster.coordinator import Pending
    for node in coordinators:
        running[node.index] = Pending()
        loop(node, 0, None)
    wait(cluster, *running.values(), timeout=600.0)
    cluster.net.default = LinkConfig()
    final = committed_value(cluster, cluster.nodes[4], key) or b""
    history = final.decode().split(",") if final else []
    applied = {op for op, o in outcome.items() if o == "applied"}
    unknown = {op for op, o in outcome.items() if o == "unknown"}
    assert len(history) == len(set(history))                 # nothing applied twice
    assert applied <= set(history)                           # no acknowledged update lost
    assert set(history) <= applied | unknown                 # nothing refused was applied
    assert len(applied) >= 10, outcome                       # and the loop made progress
    assert sum(n.paxos.stats["contentions"] for n in coordinators) > 0


def test_one_replica_down_still_works_two_down_is_unavailable(cluster):
    key = b"avail"
    replicas = cluster.replicas(key)
    coordinator = cluster.non_replicas(key)[0]
    cluster.crash(replicas[0])
    assert cas(cluster, coordinator, key, if_not_exists(key, b"one-down")) == (True, None)
    assert committed_value(cluster, coordinator, key) == b"one-down"
    cluster.crash(replicas[1])
    with pytest.raises(Unavailable) as info:
        cas(cluster, coordinator, key, if_equals(key, b"one-down", b"two-down"))
    assert (info.value.consistency, info.value.required, info.value.alive) == ("SERIAL", 2, 1)
    with pytest.raises(Unavailable) as info:
        serial_read(cluster, coordinator, key, serial=CL.LOCAL_SERIAL)
    assert info.value.consistency == "LOCAL_SERIAL"
    # the survivor never saw a proposal for the refused round
    assert values(replicas[2].read_local(key)) == {b"": b"one-down"}


def test_commit_and_serial_levels_are_validated(cluster):
    node = cluster.nodes[0]
    with pytest.raises(InvalidRequest, match="commit consistency"):
        cas(cluster, node, b"k", if_not_exists(b"k", b"v"), commit=CL.SERIAL)
    with pytest.raises(InvalidRequest, match="SERIAL or LOCAL_SERIAL"):
        cas(cluster, node, b"k", if_not_exists(b"k", b"v"), serial=CL.QUORUM)


def test_commit_at_any_does_not_wait_but_the_value_is_decided(cluster):
    key = b"any"
    node = cluster.non_replicas(key)[0]
    assert cas(cluster, node, key, if_not_exists(key, b"v"), commit=CL.ANY) == (True, None)
    assert committed_value(cluster, cluster.nodes[0], key) == b"v"


def test_a_proposal_left_by_a_crashed_coordinator_is_finished_by_the_next_round(cluster):
    key = b"orphan"
    replicas = cluster.replicas(key)
    a, b = cluster.non_replicas(key)
    commits = cluster.net.add_filter(
        lambda sender, to, m: not (m.verb is Verb.PAXOS_COMMIT_REQ and sender == a.endpoint))
    pending = start_cas(a, key, if_not_exists(key, b"from-a"))
    cluster.scheduler.run_until_true(
        lambda: sum(r.paxos.store.get(TABLE_ID, key).accepted is not None for r in replicas) >= 2,
        10.0, step=0.001)
    cluster.crash(a)                                         # after accept, before any commit
    cluster.net.remove_filter(commits)
    assert not pending.done or pending.exception() is not None
    assert all(values(r.read_local(key)) == {} for r in replicas)   # nothing committed yet
    # the next round (here a SERIAL read) finishes the accepted proposal first
    assert committed_value(cluster, b, key) == b"from-a"
    assert b.paxos.stats["in_progress_finished"] == 1
    assert sum(values(r.read_local(key)) == {b"": b"from-a"} for r in replicas) >= 2
    # and a competing IF NOT EXISTS now loses to it
    assert cas(cluster, b, key, if_not_exists(key, b"from-b")) == (False, b"from-a")


def test_a_replica_behind_on_the_latest_commit_is_repaired(cluster):
    key = b"behind"
    r1, r2, r3 = cluster.replicas(key)
    coordinator = cluster.non_replicas(key)[0]
    drop = cluster.net.add_filter(
        lambda sender, to, m: not (m.verb is Verb.PAXOS_COMMIT_REQ and to == r3.endpoint))
    assert cas(cluster, coordinator, key, if_not_exists(key, b"v1"))[0]
    cluster.net.remove_filter(drop)
    assert values(r3.read_local(key)) == {}
    cluster.crash(r1)                                  # the next quorum must include r3
    assert committed_value(cluster, coordinator, key) == b"v1"
    assert coordinator.paxos.stats["commits_repaired"] >= 1
    assert values(r3.read_local(key)) == {b"": b"v1"}
    assert r3.paxos.store.get(TABLE_ID, key).most_recent_commit is not None


def test_a_restarted_acceptor_keeps_its_promise(cluster):
    key = b"promise"
    replica = cluster.replicas(key)[0]
    coordinator = cluster.non_replicas(key)[0]
    assert cas(cluster, coordinator, key, if_not_exists(key, b"v"))[0]
    before = replica.paxos.store.get(TABLE_ID, key)
    assert before.promised.int != 0 and before.most_recent_commit is not None
    cluster.crash(replica)
    cluster.restart(replica)
    after = replica.paxos.store.get(TABLE_ID, key)
    assert after == before
    # an older ballot, sent over the network to the restarted replica, is refused
    old = make_ballot(ballot_micros(before.promised) - 1, 0, 1)
    only = Participants(CL.SERIAL, None, REPLICATION, (replica.endpoint,), (), (replica.endpoint,),
                        (replica.endpoint,), 1)
    summary = coordinator.proxy._run(coordinator.paxos._prepare(only, TABLE_ID, key, old))
    assert summary.promised is False and summary.most_recent_promise == before.promised
    # a newer one is promised, and rounds go on
    assert cas(cluster, coordinator, key, if_equals(key, b"v", b"w")) == (True, b"v")


def test_serial_read_times_out_as_a_read_when_no_quorum_answers(cluster):
    key = b"slow"
    replicas = cluster.replicas(key)
    coordinator = cluster.non_replicas(key)[0]
    drop = cluster.net.add_filter(
        lambda sender, to, m: not (m.verb is Verb.PAXOS_PREPARE_REQ and to in
                                   (replicas[0].endpoint, replicas[1].endpoint)))
    with pytest.raises(ReadTimeout) as info:
        serial_read(cluster, coordinator, key)
    assert info.value.consistency == "SERIAL"
    with pytest.raises(WriteTimeout) as winfo:
        cas(cluster, coordinator, key, if_not_exists(key, b"v"))
    assert (winfo.value.write_type, winfo.value.consistency) == ("CAS", "SERIAL")
    cluster.net.remove_filter(drop)
    assert cas(cluster, coordinator, key, if_not_exists(key, b"v"))[0]


def test_ballot_ids_differ_between_nodes(cluster):
    ids = {(n.paxos._clock_seq, n.paxos._node) for n in cluster.nodes}
    assert len(ids) == len(cluster.nodes)
    assert all(isinstance(n.paxos.new_ballot(), uuid.UUID) for n in cluster.nodes)
