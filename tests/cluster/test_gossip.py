"""Gossip on the simulated network: convergence, conviction and recovery, restarts, state changes."""
from __future__ import annotations

import random
import uuid

import pytest

from cqlpy.cluster.endpoint_state import (
    ApplicationState as AS,
    EndpointState,
    GossipDigest,
    GossipDigestAck,
    GossipDigestSyn,
    HeartBeatState,
    Status,
    VersionedValue,
    VersionedValueFactory as VVF,
)
from cqlpy.cluster.endpoints import Endpoint
from cqlpy.cluster.gossip import EndpointStateChangeSubscriber, Gossiper
from cqlpy.cluster.messaging import decode_value, encode_value
from cqlpy.cluster.simulated_network import LinkConfig, SimulatedNetwork

EPOCH = 1_700_000_000


class Recorder(EndpointStateChangeSubscriber):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_join(self, endpoint, state):
        self.events.append(("join", endpoint))

    def on_change(self, endpoint, key, value):
        self.events.append(("change", endpoint, key, value.value))

    def on_alive(self, endpoint, state):
        self.events.append(("alive", endpoint))

    def on_dead(self, endpoint, state):
        self.events.append(("dead", endpoint))

    def on_remove(self, endpoint):
        self.events.append(("remove", endpoint))

    def on_restart(self, endpoint, old_state):
        self.events.append(("restart", endpoint, old_state.heartbeat.generation))

    def of(self, kind: str) -> list[tuple]:
        return [e for e in self.events if e[0] == kind]


class PeerTable:
    def __init__(self) -> None:
        self.rows: dict[Endpoint, dict] = {}

    def update_peer(self, endpoint, values):
        self.rows.setdefault(endpoint, {}).update(values)

    def remove_peer(self, endpoint):
        self.rows.pop(endpoint, None)


class Cluster:
    """n nodes on one simulated network; node 0 is the seed unless told otherwise."""

    def __init__(self, n: int = 5, seed: int = 42, seeds: int = 1, link: LinkConfig | None = None) -> None:
        self.net = SimulatedNetwork(seed=seed, default=link)
        self.scheduler = self.net.scheduler
        self.endpoints = [Endpoint.of(f"127.0.0.{i + 1}") for i in range(n)]
        self.seeds = self.endpoints[:seeds]
        self.seed = seed
        self.nodes: dict[Endpoint, Gossiper] = {}
        self.recorders: dict[Endpoint, Recorder] = {}
        self.peers: dict[Endpoint, PeerTable] = {}
        self.starts = 0
        for i, ep in enumerate(self.endpoints):
            self.start(ep, offset=0.1 * i)

    def wall_clock(self) -> float:
        return EPOCH + self.scheduler.time()

    def start(self, ep: Endpoint, offset: float = 0.0, generation: int | None = None,
              seeds: list[Endpoint] | None = None, **states) -> Gossiper:
        self.starts += 1
        service = self.net.create(ep) if not self.net.is_up(ep) else self.net.service(ep)
        gossiper = Gossiper(service, seeds=self.seeds if seeds is None else seeds,
                            rng=random.Random(self.seed * 1000 + self.starts),
                            wall_clock=self.wall_clock, peer_store=self.peers.setdefault(ep, PeerTable()))
        recorder = Recorder()
        gossiper.register(recorder)
        self.nodes[ep], self.recorders[ep] = gossiper, recorder
        token = int(ep.address.rsplit(".", 1)[1]) * 1000
        initial = {AS.STATUS: VVF.normal([token]), AS.DC: "datacenter1", AS.RACK: "rack1",
                   AS.HOST_ID: str(ep.host_id), AS.SCHEMA: str(uuid.UUID(int=1)),
                   AS.RELEASE_VERSION: "4.0.11", AS.TOKENS: VVF.tokens([token])}
        initial.update({AS[k]: v for k, v in states.items()})
        self.scheduler.call_later(offset, gossiper.start, generation, initial)
        return gossiper

    def crash(self, ep: Endpoint) -> None:
        self.nodes[ep].stop(announce=False)
        self.net.stop(ep)

    def run(self, seconds: float) -> None:
        self.scheduler.advance(seconds)

    def run_until(self, condition, timeout: float) -> float:
        start = self.scheduler.time()
        assert self.scheduler.run_until_true(condition, timeout, step=0.5), "condition not reached"
        return self.scheduler.time() - start

    def converged(self, among=None) -> bool:
        among = list(self.endpoints if among is None else among)
        for ep in among:
            g = self.nodes[ep]
            if set(g.live_members()) != set(among):
                return False
            for other in among:
                mine = self.nodes[other].endpoint_states.get(other)
                theirs = g.endpoint_states.get(other)
                if theirs is None or mine is None or theirs.states != mine.states:
                    return False
        return True


def test_five_nodes_with_one_seed_converge():
    c = Cluster(5)
    elapsed = c.run_until(c.converged, timeout=15)
    assert elapsed <= 10
    for g in c.nodes.values():
        assert g.unreachable_members() == []
        assert {e[1] for e in c.recorders[g.local].of("alive")} == set(c.endpoints) - {g.local}
        assert {e[1] for e in c.recorders[g.local].of("join")} == set(c.endpoints) - {g.local}


def test_runs_are_deterministic_for_a_seed():
    def trace(seed):
        c = Cluster(5, seed=seed)
        c.run(12)
        return c.net.delivered, c.net.dropped, [c.nodes[ep].gossip_info() for ep in c.endpoints]
    assert trace(3) == trace(3)
    assert trace(3)[0] != trace(4)[0]


def test_convergence_despite_drops_and_delays():
    c = Cluster(6, seed=5, seeds=2, link=LinkConfig(drop=0.2, delay=(0.001, 0.3)))
    c.run_until(c.converged, timeout=30)


def test_partition_convicts_and_heal_recovers():
    c = Cluster(5)
    c.run_until(c.converged, timeout=15)
    lonely = c.endpoints[4]
    majority = c.endpoints[:4]
    c.net.partition([lonely], majority)
    elapsed = c.run_until(lambda: all(not c.nodes[ep].is_alive(lonely) for ep in majority)
                          and all(not c.nodes[lonely].is_alive(ep) for ep in majority), timeout=40)
    # phi = silence / mean inter-arrival; heard second-hand, heartbeats arrive every 1-2 s, so
    # conviction takes 8 * ln 10 * mean = 18.4 .. 36.8 s
    assert 15 <= elapsed <= 37
    assert all(("dead", lonely) in c.recorders[ep].events for ep in majority)
    assert c.nodes[majority[0]].unreachable_members() == [lonely]
    assert set(c.nodes[lonely].unreachable_members()) == set(majority)
    assert c.converged(majority)                        # the majority still agrees
    c.net.heal()
    c.run_until(c.converged, timeout=20)
    for ep in majority:
        events = [e[0] for e in c.recorders[ep].events if e[1:2] == (lonely,) and e[0] in ("alive", "dead")]
        assert events == ["alive", "dead", "alive"]
    for ep in majority:
        events = [e[0] for e in c.recorders[lonely].events if e[1:2] == (ep,) and e[0] in ("alive", "dead")]
        assert events == ["alive", "dead", "alive"]


def test_restart_bumps_generation_and_peers_see_it():
    c = Cluster(5)
    c.run_until(c.converged, timeout=15)
    victim = c.endpoints[2]
    old_generation = c.nodes[victim].generation
    c.crash(victim)
    c.run_until(lambda: not c.nodes[c.endpoints[0]].is_alive(victim), timeout=40)
    c.run(5)
    restarted = c.start(victim)
    c.run_until(c.converged, timeout=20)
    assert restarted.generation > old_generation
    for ep in c.endpoints:
        if ep == victim:
            continue
        assert c.nodes[ep].endpoint_state(victim).heartbeat.generation == restarted.generation
        assert ("restart", victim, old_generation) in c.recorders[ep].events
        assert c.nodes[ep].is_alive(victim)


def test_graceful_shutdown_is_seen_at_once():
    c = Cluster(4)
    c.run_until(c.converged, timeout=15)
    leaving = c.endpoints[3]
    c.nodes[leaving].stop(announce=True)
    c.run(0.5)
    for ep in c.endpoints[:3]:
        assert not c.nodes[ep].is_alive(leaving)
        assert c.nodes[ep].endpoint_state(leaving).status == Status.SHUTDOWN
        assert ("dead", leaving) in c.recorders[ep].events
    c.net.stop(leaving)
    c.run(3)
    back = c.start(leaving)                             # a new generation supersedes "shutdown"
    c.run_until(c.converged, timeout=20)
    assert all(c.nodes[ep].endpoint_state(leaving).status == Status.NORMAL for ep in c.endpoints)
    assert back.generation > EPOCH


def test_application_state_changes_spread():
    c = Cluster(5)
    c.run_until(c.converged, timeout=15)
    source = c.endpoints[3]
    c.nodes[source].add_local_application_states({AS.LOAD: VVF.load(123456.0),
                                                  AS.STATUS: VVF.leaving([7])})
    c.run_until(c.converged, timeout=10)
    for ep in c.endpoints:
        state = c.nodes[ep].endpoint_state(source)
        assert state.get(AS.LOAD) == "123456.0" and state.status == Status.LEAVING
        assert ("change", source, AS.STATUS, "LEAVING,7") in c.recorders[ep].events


def test_a_newer_schema_version_is_noticed():
    c = Cluster(5)
    c.run_until(c.converged, timeout=15)
    new_schema = str(uuid.uuid4())
    noticed = {}

    class SchemaWatcher(EndpointStateChangeSubscriber):
        def __init__(self, me):
            self.me = me

        def on_change(self, endpoint, key, value):
            if key is AS.SCHEMA and endpoint != self.me and value.value != c.nodes[self.me].endpoint_state(self.me).get(AS.SCHEMA):
                noticed[self.me] = (endpoint, value.value)
    for ep in c.endpoints:
        c.nodes[ep].register(SchemaWatcher(ep))
    c.nodes[c.endpoints[1]].add_local_application_state(AS.SCHEMA, new_schema)
    c.run_until(lambda: len(noticed) == 4, timeout=10)
    assert all(v == (c.endpoints[1], new_schema) for v in noticed.values())


def test_peers_are_persisted_through_the_hook():
    c = Cluster(3)
    c.run_until(c.converged, timeout=15)
    table = c.peers[c.endpoints[0]]
    assert set(table.rows) == set(c.endpoints[1:])
    row = table.rows[c.endpoints[1]]
    assert row[AS.HOST_ID] == str(c.endpoints[1].host_id) and row[AS.DC] == "datacenter1"
    assert AS.STATUS not in row and AS.TOKENS in row
    c.nodes[c.endpoints[0]].remove_endpoint(c.endpoints[2])
    assert c.endpoints[2] not in table.rows
    assert ("remove", c.endpoints[2]) in c.recorders[c.endpoints[0]].events


def test_removed_endpoints_are_quarantined():
    c = Cluster(3)
    c.run_until(c.converged, timeout=15)
    a, gone = c.endpoints[0], c.endpoints[2]
    c.crash(gone)
    c.nodes[a].evict_from_membership(gone)
    c.run(10)                                           # others still gossip about it: ignored
    assert c.nodes[a].endpoint_state(gone) is None
    c.run(60)
    assert gone not in c.nodes[a].just_removed          # quarantine over


def test_saved_peers_let_a_node_rejoin_without_seeds():
    c = Cluster(3)
    c.run_until(c.converged, timeout=15)
    node = c.endpoints[2]
    saved = c.peers[node].rows
    c.crash(node)
    c.run(30)
    restarted = c.start(node, seeds=[])
    for ep, values in saved.items():
        restarted.add_saved_endpoint(ep, values)
    assert restarted.unreachable_members() == sorted(saved)
    c.run_until(c.converged, timeout=30)


def test_left_state_expires_and_is_evicted():
    c = Cluster(3)
    c.run_until(c.converged, timeout=15)
    a, leaver = c.endpoints[0], c.endpoints[2]
    expire_ms = int((c.wall_clock() + 40) * 1000)
    c.nodes[leaver].add_local_application_state(AS.STATUS, VVF.left([5], expire_ms))
    c.run_until(lambda: c.nodes[a].endpoint_state(leaver).status == Status.LEFT, timeout=10)
    c.crash(leaver)
    c.run_until(lambda: c.nodes[a].endpoint_state(leaver) is None, timeout=80)
    assert c.wall_clock() * 1000 > expire_ms


def test_other_clusters_are_ignored():
    c = Cluster(2)
    stranger_ep = Endpoint.of("127.0.0.9")
    stranger = Gossiper(c.net.create(stranger_ep), seeds=[c.endpoints[0]], cluster_name="Other",
                        rng=random.Random(1), wall_clock=c.wall_clock)
    stranger.start(states={AS.STATUS: "NORMAL"})
    c.run(10)
    assert stranger_ep not in c.nodes[c.endpoints[0]].endpoint_states
    assert stranger.live_members() == [stranger_ep]


def test_shadow_round_fetches_every_state_from_a_seed():
    c = Cluster(3)
    c.run_until(c.converged, timeout=15)
    newcomer = Endpoint.of("127.0.0.10")
    g = Gossiper(c.net.create(newcomer), seeds=[c.endpoints[0]], rng=random.Random(2), wall_clock=c.wall_clock)
    result = []
    g.do_shadow_round(result.append)
    c.run(2)
    assert len(result) == 1 and set(result[0]) == set(c.endpoints)
    assert newcomer not in c.nodes[c.endpoints[0]].endpoint_states     # it did not join
    lonely = Gossiper(c.net.create(Endpoint.of("127.0.0.11")), seeds=[Endpoint.of("127.0.0.99")],
                      rng=random.Random(3), wall_clock=c.wall_clock)
    failed = []
    lonely.do_shadow_round(failed.append, timeout=3)
    c.run(5)
    assert failed == [None]


def test_gossip_messages_round_trip_through_the_payload_codec():
    ep = Endpoint.of("127.0.0.1")
    state = EndpointState(HeartBeatState(EPOCH, 17), {AS.STATUS: VersionedValue("NORMAL,1", 3),
                                                      AS.LOAD: VersionedValue("1.0", 9)})
    syn = GossipDigestSyn("c", "p", (GossipDigest(ep, EPOCH, 17),))
    assert GossipDigestSyn.from_wire(decode_value(encode_value(syn.to_wire()))) == syn
    ack = GossipDigestAck((GossipDigest(ep, EPOCH, 0),), {ep: state})
    back = GossipDigestAck.from_wire(decode_value(encode_value(ack.to_wire())))
    assert back.digests == ack.digests and back.states[ep].states == state.states
    assert back.states[ep].heartbeat == state.heartbeat
    assert state.max_version == 17 and state.newer_than(5).states == {AS.LOAD: VersionedValue("1.0", 9)}
    assert state.newer_than(17) is None
    with pytest.raises(ValueError):
        GossipDigestSyn.from_wire({"cluster": "c"})
    with pytest.raises(ValueError):
        EndpointState.from_wire({"hb": [1], "s": {}})
    unknown = EndpointState.from_wire({"hb": [1, 2], "s": {"FUTURE_STATE": ["x", 1]}})
    assert unknown.states == {}


def test_versioned_value_factory():
    assert VVF.normal([5, 9]) == "NORMAL,5"
    assert VVF.parse_tokens(VVF.tokens([-3, 4])) == [-3, 4]
    assert VersionedValue(VVF.left([1], 99), 1).status == Status.LEFT
    assert VVF.shutdown() == "shutdown,true"
    assert VVF.address_and_port("::1", 9042) == "[::1]:9042"


def test_gossip_over_tcp_on_loopback():
    import asyncio
    import socket
    import time as _time

    from cqlpy.cluster.messaging_tcp import TcpMessagingService

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    async def scenario():
        endpoints = [Endpoint.of("127.0.0.1", free_port()) for _ in range(3)]
        services, gossipers = [], []
        try:
            for i, ep in enumerate(endpoints):
                service = TcpMessagingService(ep)
                await service.start()
                services.append(service)
                g = Gossiper(service, seeds=endpoints[:1], interval=0.05, rng=random.Random(i))
                g.start(states={AS.STATUS: "NORMAL", AS.HOST_ID: str(ep.host_id)})
                gossipers.append(g)
            deadline = _time.monotonic() + 10
            while not all(len(g.live_members()) == 3 for g in gossipers):
                assert _time.monotonic() < deadline, [g.live_members() for g in gossipers]
                await asyncio.sleep(0.02)
            for g in gossipers:
                assert {g.endpoint_state(ep).get(AS.HOST_ID) for ep in endpoints} == \
                    {str(ep.host_id) for ep in endpoints}
            gossipers[2].stop(announce=True)
            while gossipers[0].is_alive(endpoints[2]):
                assert _time.monotonic() < deadline
                await asyncio.sleep(0.02)
        finally:
            for g in gossipers:
                g.stop(announce=False)
            for service in services:
                await service.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))
