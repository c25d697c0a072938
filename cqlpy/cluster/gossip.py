"""Gossiper: Cassandra's once-a-second SYN/ACK/ACK2 exchange of versioned endpoint states, with liveness.

A round (``do_gossip_round``, every ``interval`` seconds once started):

    1. bump the local heartbeat version;
    2. build a shuffled digest list: (endpoint, generation, max version) for every known endpoint;
    3. GossipDigestSyn to one random live peer;
    4. with probability unreachable / (live + 1), also to one random unreachable peer;
    5. if step 3 did not reach a seed, or fewer peers are live than there are seeds, also to a
       seed: always when no peer is live, else with probability seeds / (live + unreachable);
    6. status check: the failure detector interprets every endpoint (convicted -> DOWN), expired
       dead states are evicted and quarantines end.

The receiver of a SYN answers GossipDigestAck (digests of what it wants, states the sender lacks);
the sender applies those and answers GossipDigestAck2 (what was asked for).  Applying a state:
higher generation -> major change (join or restart: on_restart, then on_join); same generation and
newer versions -> on_change per updated application state.  A node is marked UP only after it
answers an ECHO_REQ (Cassandra 4.0), DOWN when the failure detector convicts it or it announces
GOSSIP_SHUTDOWN.  UP/DOWN is local; it is never gossiped.  An empty SYN is a shadow-round request
(a node about to join asks the seeds for everything) and gets every state in its ACK.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Any, Callable, Iterable, Protocol

from .endpoint_state import (
    ApplicationState,
    EndpointState,
    GossipDigest,
    GossipDigestAck,
    GossipDigestAck2,
    GossipDigestSyn,
    HeartBeatState,
    Status,
    VersionedValue,
    VersionedValueFactory,
)
from .endpoints import Endpoint
from .failure_detector import FailureDetector
from .messaging import Message, MessagingService, Verb

log = logging.getLogger(__name__)

MURMUR3_PARTITIONER = "org.apache.cassandra.dht.Murmur3Partitioner"
GOSSIP_INTERVAL = 1.0
QUARANTINE_DELAY = 60.0                        # StorageService.RING_DELAY (30 s) * 2
MAX_GENERATION_DIFFERENCE = 86400 * 365        # a generation a year ahead of our clock is corrupt
PERSISTED_STATES = frozenset({
    ApplicationState.DC, ApplicationState.RACK, ApplicationState.RELEASE_VERSION,
    ApplicationState.NATIVE_ADDRESS_AND_PORT, ApplicationState.SCHEMA, ApplicationState.HOST_ID,
    ApplicationState.TOKENS,
})


class EndpointStateChangeSubscriber:
    """Gossip events for the node (IEndpointStateChangeSubscriber); override what you need."""

    def on_join(self, endpoint: Endpoint, state: EndpointState) -> None: ...

    def on_change(self, endpoint: Endpoint, key: ApplicationState, value: VersionedValue) -> None: ...

    def on_alive(self, endpoint: Endpoint, state: EndpointState) -> None: ...

    def on_dead(self, endpoint: Endpoint, state: EndpointState) -> None: ...

    def on_remove(self, endpoint: Endpoint) -> None: ...

    def on_restart(self, endpoint: Endpoint, old_state: EndpointState) -> None: ...


class PeerStore(Protocol):
    """Where the node keeps what it learned about peers (system.peers / peers_v2)."""

    def update_peer(self, endpoint: Endpoint, values: dict[ApplicationState, str]) -> None: ...

    def remove_peer(self, endpoint: Endpoint) -> None: ...


class Gossiper:
    """One node's gossip: its own state, what it knows of every other endpoint, and who is UP."""

    def __init__(self, messaging: MessagingService, *, seeds: Iterable[Endpoint] = (),
                 cluster_name: str = "Test Cluster", partitioner: str = MURMUR3_PARTITIONER,
                 interval: float = GOSSIP_INTERVAL, rng: random.Random | None = None,
                 failure_detector: FailureDetector | None = None, peer_store: PeerStore | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 quarantine_delay: float = QUARANTINE_DELAY) -> None:
        self.messaging = messaging
        self.local = messaging.local
        self.timer = messaging.timer
        self.seeds = sorted({s for s in seeds if _addr(s) != _addr(self.local)})
        self.cluster_name, self.partitioner = cluster_name, partitioner
        self.interval = interval
        self.rng = rng or random.Random()
        self.failure_detector = failure_detector or FailureDetector(self.timer.time)
        self.failure_detector.register(self.convict)
        self.peer_store = peer_store
        self.wall_clock = wall_clock
        self.quarantine_delay = quarantine_delay
        self.endpoint_states: dict[Endpoint, EndpointState] = {}
        self.live: set[Endpoint] = set()
        self.unreachable: dict[Endpoint, float] = {}          # endpoint -> when it went DOWN
        self.just_removed: dict[Endpoint, float] = {}         # quarantined endpoint -> since
        self._subscribers: list[EndpointStateChangeSubscriber] = []
        self._pending_echo: set[Endpoint] = set()
        self._version = 0
        self._round_timer: Any = None
        self._shadow: tuple[Callable[[dict[Endpoint, EndpointState] | None], None], float] | None = None
        self.enabled = False
        for verb, handler in ((Verb.GOSSIP_DIGEST_SYN, self._on_syn), (Verb.GOSSIP_DIGEST_ACK, self._on_ack),
                              (Verb.GOSSIP_DIGEST_ACK2, self._on_ack2), (Verb.GOSSIP_SHUTDOWN, self._on_shutdown),
                              (Verb.ECHO_REQ, self._on_echo)):
            messaging.register_handler(verb, handler)

    # lifecycle ------------------------------------------------------------------------------------
    def start(self, generation: int | None = None,
              states: dict[ApplicationState, str] | None = None) -> None:
        """Start gossiping as a new incarnation: ``generation`` defaults to the wall clock's seconds
        (the node passes max(stored + 1, now), as SystemKeyspace.incrementAndGetGeneration does)."""
        generation = int(self.wall_clock()) if generation is None else generation
        local = EndpointState(HeartBeatState(generation, 0), alive=True, update_time=self.timer.time())
        self.endpoint_states[self.local] = local
        self.enabled = True
        if states:
            self.add_local_application_states(states)
        self._round_timer = self.timer.call_later(self.interval, self._run_round)

    def stop(self, announce: bool = True) -> None:
        """Stop gossiping; with ``announce`` mark ourselves shutdown and tell the live peers."""
        if not self.enabled:
            return
        if announce:
            self.add_local_application_state(ApplicationState.STATUS, VersionedValueFactory.shutdown())
            for peer in sorted(self.live):
                self.messaging.send(peer, Verb.GOSSIP_SHUTDOWN, None)
        self.enabled = False
        if self._round_timer is not None:
            self._round_timer.cancel()
            self._round_timer = None

    def register(self, subscriber: EndpointStateChangeSubscriber) -> None:
        self._subscribers.append(subscriber)

    def unregister(self, subscriber: EndpointStateChangeSubscriber) -> None:
        self._subscribers.remove(subscriber)

    # local state ----------------------------------------------------------------------------------
    def next_version(self) -> int:
        self._version += 1
        return self._version

    @property
    def generation(self) -> int:
        return self.endpoint_states[self.local].heartbeat.generation

    def add_local_application_state(self, key: ApplicationState, value: str) -> None:
        self.add_local_application_states({key: value})

    def add_local_application_states(self, states: dict[ApplicationState, str]) -> None:
        local = self.endpoint_states[self.local]
        for key, value in states.items():
            versioned = VersionedValue(value, self.next_version())
            local.states[key] = versioned
            self._notify("on_change", self.local, key, versioned)

    # queries --------------------------------------------------------------------------------------
    def endpoint_state(self, endpoint: Endpoint) -> EndpointState | None:
        return self.endpoint_states.get(endpoint)

    def is_alive(self, endpoint: Endpoint) -> bool:
        if _addr(endpoint) == _addr(self.local):
            return self.enabled
        state = self.endpoint_states.get(endpoint)
        return state is not None and state.alive and endpoint in self.live

    def live_members(self) -> list[Endpoint]:
        return sorted(self.live | ({self.local} if self.enabled else set()))

    def unreachable_members(self) -> list[Endpoint]:
        return sorted(self.unreachable)

    def is_seed(self, endpoint: Endpoint) -> bool:
        return any(_addr(s) == _addr(endpoint) for s in self.seeds)

    def gossip_info(self) -> str:
        """``nodetool gossipinfo``: one block per endpoint."""
        lines = []
        for endpoint in sorted(self.endpoint_states):
            state = self.endpoint_states[endpoint]
            lines += [f"/{endpoint}", f"  generation:{state.heartbeat.generation}",
                      f"  heartbeat:{state.heartbeat.version}"]
            for key in sorted(state.states, key=lambda k: k.value):
                value = state.states[key]
                lines.append(f"  {key.value}:{value.version}:{value.value}")
        return "\n".join(lines) + "\n"

    # the round ------------------------------------------------------------------------------------
    def _run_round(self) -> None:
        if not self.enabled:
            return
        self._round_timer = self.timer.call_later(self.interval, self._run_round)
        self.do_gossip_round()

    def do_gossip_round(self) -> None:
        self.endpoint_states[self.local].heartbeat.version = self.next_version()
        digests = [GossipDigest(ep, s.heartbeat.generation, s.max_version)
                   for ep, s in sorted(self.endpoint_states.items())]
        self.rng.shuffle(digests)
        syn = GossipDigestSyn(self.cluster_name, self.partitioner, tuple(digests)).to_wire()
        gossiped_to_seed = False
        if self.live:
            gossiped_to_seed = self._send_gossip(syn, self.live)
        if self.unreachable and self.rng.random() < len(self.unreachable) / (len(self.live) + 1):
            self._send_gossip(syn, self.unreachable)
        if self.seeds and (not gossiped_to_seed or len(self.live) < len(self.seeds)):
            if not self.live:
                self._send_gossip(syn, self.seeds)
            elif self.rng.random() <= len(self.seeds) / (len(self.live) + len(self.unreachable)):
                self._send_gossip(syn, self.seeds)
        self.do_status_check()

    def _send_gossip(self, syn: dict, candidates: Iterable[Endpoint]) -> bool:
        to = self.rng.choice(sorted(candidates))
        self.messaging.send(to, Verb.GOSSIP_DIGEST_SYN, syn)
        return self.is_seed(to)

    def do_status_check(self) -> None:
        now = self.timer.time()
        for endpoint in sorted(self.endpoint_states):
            if endpoint == self.local:
                continue
            self.failure_detector.interpret(endpoint)
            state = self.endpoint_states.get(endpoint)
            if state is not None and not state.alive and self._expired(state):
                log.info("%s: evicting %s (%s expired)", self.local, endpoint, state.status)
                self.evict_from_membership(endpoint)
        for endpoint, since in list(self.just_removed.items()):
            if now - since > self.quarantine_delay:
                del self.just_removed[endpoint]

    def _expired(self, state: EndpointState) -> bool:
        if state.status not in (Status.LEFT, Status.REMOVED):
            return False
        fields = state.get(ApplicationState.STATUS).split(",")
        try:
            return self.wall_clock() * 1000 > int(fields[-1])
        except ValueError:
            return False

    # handlers -------------------------------------------------------------------------------------
    def _on_syn(self, message: Message) -> None:
        if not self.enabled or message.sender is None:
            return
        syn = GossipDigestSyn.from_wire(message.payload)
        if syn.cluster_name != self.cluster_name or syn.partitioner != self.partitioner:
            log.warning("%s: ignoring gossip from %s: cluster %r / partitioner %r differ", self.local,
                        message.sender, syn.cluster_name, syn.partitioner)
            return
        if not syn.digests:                                  # shadow round: send everything
            ack = GossipDigestAck((), {ep: s.copy() for ep, s in self.endpoint_states.items()})
        else:
            ack = GossipDigestAck(*self._examine(self._sort_digests(syn.digests)))
        self.messaging.send(message.sender, Verb.GOSSIP_DIGEST_ACK, ack.to_wire())

    def _sort_digests(self, digests: Iterable[GossipDigest]) -> list[GossipDigest]:
        """Most out-of-date endpoints first (GossipDigestSynVerbHandler.doSort)."""
        def lag(d: GossipDigest) -> int:
            state = self.endpoint_states.get(d.endpoint)
            return abs((state.max_version if state is not None else 0) - d.max_version)
        return sorted(digests, key=lag, reverse=True)

    def _examine(self, digests: list[GossipDigest]) -> tuple[tuple[GossipDigest, ...], dict]:
        """Gossiper.examineGossiper: what to request from the sender, and what to send it."""
        requests: list[GossipDigest] = []
        deltas: dict[Endpoint, EndpointState] = {}
        for digest in digests:
            state = self.endpoint_states.get(digest.endpoint)
            if state is None or digest.generation > state.heartbeat.generation:
                requests.append(GossipDigest(digest.endpoint, digest.generation, 0))
                continue
            local_max = state.max_version
            if digest.generation < state.heartbeat.generation:
                delta = state.newer_than(0)
            elif digest.max_version > local_max:
                requests.append(GossipDigest(digest.endpoint, digest.generation, local_max))
                continue
            elif digest.max_version < local_max:
                delta = state.newer_than(digest.max_version)
            else:
                continue
            if delta is not None:
                deltas[digest.endpoint] = delta
        return tuple(requests), deltas

    def _on_ack(self, message: Message) -> None:
        if message.sender is None:
            return
        ack = GossipDigestAck.from_wire(message.payload)
        if self._shadow is not None:
            on_done, _ = self._shadow
            self._shadow = None
            on_done(ack.states)
            return
        if not self.enabled:
            return
        if ack.states:
            self.notify_failure_detector(ack.states)
            self.apply_state_locally(ack.states)
        deltas = {}
        for digest in ack.digests:
            state = self.endpoint_states.get(digest.endpoint)
            delta = state.newer_than(digest.max_version) if state is not None else None
            if delta is not None:
                deltas[digest.endpoint] = delta
        self.messaging.send(message.sender, Verb.GOSSIP_DIGEST_ACK2, GossipDigestAck2(deltas).to_wire())

    def _on_ack2(self, message: Message) -> None:
        if not self.enabled:
            return
        ack2 = GossipDigestAck2.from_wire(message.payload)
        self.notify_failure_detector(ack2.states)
        self.apply_state_locally(ack2.states)

    def _on_shutdown(self, message: Message) -> None:
        if self.enabled and message.sender is not None:
            self.mark_as_shutdown(message.sender)

    def _on_echo(self, message: Message) -> None:
        if self.enabled:
            self.messaging.respond(message)

    # applying remote state ------------------------------------------------------------------------
    def notify_failure_detector(self, states: dict[Endpoint, EndpointState]) -> None:
        """Report a heartbeat for every endpoint whose generation or heartbeat version moved on."""
        for endpoint, remote in states.items():
            local = self.endpoint_states.get(endpoint)
            if local is None or endpoint == self.local:
                continue
            if remote.heartbeat.generation > local.heartbeat.generation:
                local.update_time = self.timer.time()
                if not local.alive:
                    self.failure_detector.remove(endpoint)     # restarted while down: relearn
                self.failure_detector.report(endpoint)
            elif (remote.heartbeat.generation == local.heartbeat.generation
                  and remote.heartbeat.version > local.max_version):
                local.update_time = self.timer.time()
                self.failure_detector.report(endpoint)

    def apply_state_locally(self, states: dict[Endpoint, EndpointState]) -> None:
        for endpoint in sorted(states):
            remote = states[endpoint]
            if _addr(endpoint) == _addr(self.local) or endpoint in self.just_removed:
                continue
            local = self.endpoint_states.get(endpoint)
            if local is None:
                self.failure_detector.report(endpoint)
                self.handle_major_state_change(endpoint, remote)
                continue
            remote_generation = remote.heartbeat.generation
            if remote_generation > self.wall_clock() + MAX_GENERATION_DIFFERENCE:
                log.warning("%s: ignoring generation %d for %s: too far ahead", self.local,
                            remote_generation, endpoint)
            elif remote_generation > local.heartbeat.generation:
                self.handle_major_state_change(endpoint, remote)
            elif remote_generation == local.heartbeat.generation:
                if remote.max_version > local.max_version:
                    self._apply_new_states(endpoint, local, remote)
                if not local.alive and not local.is_dead_state:
                    self._mark_alive(endpoint, local)

    def handle_major_state_change(self, endpoint: Endpoint, state: EndpointState) -> None:
        """A new endpoint, or a new generation of a known one (it restarted)."""
        old = self.endpoint_states.get(endpoint)
        state.update_time = self.timer.time()
        self.endpoint_states[endpoint] = state
        if old is not None:
            self._notify("on_restart", endpoint, old)
        if not state.is_dead_state:
            self._mark_alive(endpoint, state)
        else:
            self._mark_dead(endpoint, state)
        self._notify("on_join", endpoint, state)
        self._persist(endpoint, state.states)
        if state.is_shutdown:
            self.mark_as_shutdown(endpoint)

    def _apply_new_states(self, endpoint: Endpoint, local: EndpointState, remote: EndpointState) -> None:
        if remote.heartbeat.version > local.heartbeat.version:
            local.heartbeat = HeartBeatState(remote.heartbeat.generation, remote.heartbeat.version)
        updated = {k: v for k, v in remote.states.items()
                   if k not in local.states or local.states[k].version < v.version}
        local.states.update(updated)
        for key in sorted(updated, key=lambda k: k.value):
            self._notify("on_change", endpoint, key, updated[key])
        if not local.is_dead_state:
            self._persist(endpoint, updated)

    def _persist(self, endpoint: Endpoint, states: dict[ApplicationState, VersionedValue]) -> None:
        values = {k: v.value for k, v in states.items() if k in PERSISTED_STATES}
        if self.peer_store is not None and values:
            self.peer_store.update_peer(endpoint, values)

    # liveness -------------------------------------------------------------------------------------
    def _mark_alive(self, endpoint: Endpoint, state: EndpointState) -> None:
        """Ask for an echo first; the endpoint is UP when it answers (Gossiper.markAlive in 4.0)."""
        state.alive = False
        if endpoint in self._pending_echo:
            return
        self._pending_echo.add(endpoint)

        def answered(_: Message) -> None:
            self._pending_echo.discard(endpoint)
            current = self.endpoint_states.get(endpoint)      # it may have restarted meanwhile
            if current is not None:
                self._real_mark_alive(endpoint, current)

        def failed(*_: Any) -> None:
            self._pending_echo.discard(endpoint)

        self.messaging.send_with_callback(endpoint, Verb.ECHO_REQ, None, answered, failed,
                                          timeout=self.interval * 2)

    def _real_mark_alive(self, endpoint: Endpoint, state: EndpointState) -> None:
        if not self.enabled or state.is_dead_state:
            return
        was_alive = endpoint in self.live
        state.alive = True
        state.update_time = self.timer.time()
        self.live.add(endpoint)
        self.unreachable.pop(endpoint, None)
        if not was_alive:
            log.info("%s: %s is now UP", self.local, endpoint)
            self._notify("on_alive", endpoint, state)

    def _mark_dead(self, endpoint: Endpoint, state: EndpointState) -> None:
        state.alive = False
        was_alive = endpoint in self.live
        self.live.discard(endpoint)
        self.unreachable.setdefault(endpoint, self.timer.time())
        if was_alive:
            log.info("%s: %s is now DOWN", self.local, endpoint)
        self._notify("on_dead", endpoint, state)

    def convict(self, endpoint: Endpoint, phi: float) -> None:
        """The failure detector's verdict: mark a live endpoint DOWN."""
        state = self.endpoint_states.get(endpoint)
        if state is None or not state.alive:
            return
        if state.is_shutdown:
            self.mark_as_shutdown(endpoint)
        else:
            self._mark_dead(endpoint, state)

    def mark_as_shutdown(self, endpoint: Endpoint) -> None:
        """The endpoint said it is shutting down: DOWN now, and its current generation is final."""
        state = self.endpoint_states.get(endpoint)
        if state is None:
            return
        shutdown = VersionedValue(VersionedValueFactory.shutdown(), self.next_version())
        state.states[ApplicationState.STATUS] = shutdown
        state.states[ApplicationState.RPC_READY] = VersionedValue("false", self.next_version())
        state.heartbeat.version = 2**31 - 1          # forceHighestPossibleVersionUnsafe
        self._mark_dead(endpoint, state)
        self._notify("on_change", endpoint, ApplicationState.STATUS, shutdown)

    # membership -----------------------------------------------------------------------------------
    def add_saved_endpoint(self, endpoint: Endpoint, values: dict[ApplicationState, str] | None = None) -> None:
        """A peer remembered from system.peers: known but DOWN until gossip hears from it."""
        if _addr(endpoint) == _addr(self.local):
            return
        state = self.endpoint_states.get(endpoint) or EndpointState(HeartBeatState(0, 0))
        state.heartbeat = HeartBeatState(0, 0)
        for key, value in (values or {}).items():
            state.states[key] = VersionedValue(value, 0)
        state.alive = False
        self.endpoint_states[endpoint] = state
        self.unreachable[endpoint] = self.timer.time()

    def remove_endpoint(self, endpoint: Endpoint) -> None:
        """The ring no longer has this endpoint (it left or was removed): forget it as a peer and
        quarantine it, so stale gossip about it is ignored for ``quarantine_delay``."""
        self._notify("on_remove", endpoint)
        self.live.discard(endpoint)
        self.unreachable.pop(endpoint, None)
        self.failure_detector.remove(endpoint)
        self.just_removed[endpoint] = self.timer.time()
        if self.peer_store is not None:
            self.peer_store.remove_peer(endpoint)

    def evict_from_membership(self, endpoint: Endpoint) -> None:
        self.unreachable.pop(endpoint, None)
        self.live.discard(endpoint)
        self.endpoint_states.pop(endpoint, None)
        self.failure_detector.remove(endpoint)
        self.just_removed[endpoint] = self.timer.time()

    # shadow round ---------------------------------------------------------------------------------
    def do_shadow_round(self, on_done: Callable[[dict[Endpoint, EndpointState] | None], None],
                        timeout: float = 30.0) -> None:
        """Ask the seeds for every state before joining (no gossip of our own yet); ``on_done``
        gets the first answer, or None after ``timeout`` seconds (StorageService.RING_DELAY)."""
        if not self.seeds:
            on_done({})
            return
        self._shadow = (on_done, self.timer.time() + timeout)
        self._shadow_attempt()

    def _shadow_attempt(self) -> None:
        if self._shadow is None:
            return
        on_done, deadline = self._shadow
        if self.timer.time() >= deadline:
            self._shadow = None
            on_done(None)
            return
        syn = GossipDigestSyn(self.cluster_name, self.partitioner, ()).to_wire()
        for seed in self.seeds:
            self.messaging.send(seed, Verb.GOSSIP_DIGEST_SYN, syn)
        self.timer.call_later(self.interval, self._shadow_attempt)

    # subscribers ----------------------------------------------------------------------------------
    def _notify(self, event: str, *args: Any) -> None:
        for subscriber in list(self._subscribers):
            try:
                getattr(subscriber, event)(*args)
            except Exception:  # noqa: BLE001 - a listener bug must not stop gossip
                log.exception("%s: gossip subscriber %s.%s failed", self.local, type(subscriber).__name__, event)


def _addr(endpoint: Endpoint) -> tuple[str, int]:
    return endpoint.address, endpoint.port
