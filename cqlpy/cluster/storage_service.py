"""StorageService: one node's view of the ring, kept in step with gossip.

A gossip subscriber that turns peers' application states into TokenMetadata and snitch entries:

    STATUS NORMAL (or shutdown, for a member already known)   update_normal_tokens(TOKENS)
    STATUS BOOT                                                add_bootstrap_tokens (pending)
    STATUS LEAVING                                             add_leaving_endpoint
    STATUS LEFT / removed, or gossip forgets the endpoint      remove_endpoint
    DC / RACK                                                  snitch.learn + update_topology

Tokens come from the TOKENS state (the first token in STATUS is the fallback, as in pre-2.0
gossip).  The local node's tokens are chosen once, at first start, with token_allocation against the
ring learnt in a shadow round, saved in ``<data>/ring_state.json`` with the host id and the last
gossip generation, and gossiped as TOKENS/STATUS NORMAL from then on.  A new node that is not a seed and finds NORMAL
members in its shadow round bootstraps (``join(bootstrap=True)``): it gossips STATUS BOOT with its
tokens (peers see them as pending: writes reach it too), its owner streams the ranges it gains
(cqlpy/node_ring.py, cqlpy/cluster/streaming.py), then ``finish_bootstrap`` saves the tokens and
gossips NORMAL.  A seed, the first node, or a restart joins as NORMAL directly.

``ring_state.json``: ``{"host_id": "<uuid>", "tokens": ["<int>", ...], "generation": <int>}``
(tokens as strings so 64-bit values survive any JSON reader).

Peers (Cassandra's ``system.peers``): the service is the gossiper's PeerStore; what gossip persists
about each peer (DC, RACK, HOST_ID, TOKENS, ...) goes to ``<data>/peers.json``,
``{"<address>:<port>": {"host_id": "<uuid>", "states": {"<STATE NAME>": "<value>", ...}}, ...}``.
On a restart the saved peers are put back in the ring and in gossip (DOWN until heard from), so a
node coordinates correctly before gossip has caught up.  Both files are written to a temp file,
fsynced and renamed into place.

Listeners (``add_listener``) get ``on_ring_change(endpoint)`` after the ring changed because of it.
"""
from __future__ import annotations

import json
import logging
import os
import random
import uuid
from typing import Any, Callable, Protocol

from .endpoint_state import ApplicationState, EndpointState, HeartBeatState, Status, VersionedValue
from .endpoint_state import VersionedValueFactory as VVF
from .endpoints import Endpoint, Location
from .gossip import EndpointStateChangeSubscriber, Gossiper
from .snitch import SimpleSnitch
from .token_allocation import DEFAULT_ALLOCATION_RF, DEFAULT_NUM_TOKENS, allocate_tokens
from .token_metadata import TokenMetadata

log = logging.getLogger(__name__)

RING_STATE_FILE = "ring_state.json"
PEERS_FILE = "peers.json"
RELEASE_VERSION = "4.0.11"
_RING_KEYS = frozenset({ApplicationState.STATUS, ApplicationState.TOKENS, ApplicationState.DC,
                        ApplicationState.RACK, ApplicationState.HOST_ID})


class RingListener(Protocol):
    def on_ring_change(self, endpoint: Endpoint) -> None: ...


class StorageService(EndpointStateChangeSubscriber):
    """The ring as this node knows it (``token_metadata``), fed by gossip; the local node's tokens."""

    def __init__(self, gossiper: Gossiper, *, snitch: Any = None,
                 token_metadata: TokenMetadata | None = None, data_dir: str | None = None,
                 num_tokens: int = DEFAULT_NUM_TOKENS, allocation_rf: int = DEFAULT_ALLOCATION_RF,
                 rng: random.Random | None = None) -> None:
        self.gossiper = gossiper
        self.local = gossiper.local
        self.snitch = snitch if snitch is not None else SimpleSnitch(self.local)
        self.token_metadata = token_metadata if token_metadata is not None else TokenMetadata()
        self.data_dir = data_dir
        self.num_tokens = num_tokens
        self.allocation_rf = allocation_rf
        self.rng = rng or random.Random()
        self.tokens: list[int] = []
        self.bootstrapping = False
        self._generation = 0
        self._listeners: list[RingListener] = []
        self._peers: dict[Endpoint, dict[str, str]] = self._load_peers()
        if data_dir is not None and gossiper.peer_store is None:
            gossiper.peer_store = self
        gossiper.register(self)

    # --- the local node ---------------------------------------------------------------------------

    @property
    def local_location(self) -> Location:
        return Location(*self.snitch.local_location())

    def saved_state(self) -> dict | None:
        """What ``ring_state.json`` holds (None: first start, or no data folder)."""
        if self.data_dir is None:
            return None
        path = os.path.join(self.data_dir, RING_STATE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            return {"host_id": uuid.UUID(data["host_id"]),
                    "tokens": [int(t) for t in data["tokens"]],
                    "generation": int(data.get("generation", 0))}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"unreadable {path}: {exc}") from None

    def _save_state(self, generation: int) -> None:
        _write_json(self.data_dir, RING_STATE_FILE, {
            "host_id": str(self.local.host_id), "tokens": [str(t) for t in self.tokens],
            "generation": generation})

    # --- peers (PeerStore) ------------------------------------------------------------------------

    def _load_peers(self) -> dict[Endpoint, dict[str, str]]:
        if self.data_dir is None:
            return {}
        path = os.path.join(self.data_dir, PEERS_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            return {Endpoint.parse(addr, uuid.UUID(peer["host_id"])): dict(peer["states"])
                    for addr, peer in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            return {}

    def _save_peers(self) -> None:
        _write_json(self.data_dir, PEERS_FILE, {
            str(e): {"host_id": str(e.host_id), "states": states}
            for e, states in sorted(self._peers.items())})

    def update_peer(self, endpoint: Endpoint, values: dict[ApplicationState, str]) -> None:
        current = self._peers.setdefault(endpoint, {})
        new = {k.value: v for k, v in values.items()}
        if any(current.get(k) != v for k, v in new.items()):
            current.update(new)
            self._save_peers()

    def remove_peer(self, endpoint: Endpoint) -> None:
        if self._peers.pop(endpoint, None) is not None:
            self._save_peers()

    def saved_peers(self) -> dict[Endpoint, dict[str, str]]:
        return {e: dict(states) for e, states in self._peers.items()}

    def _restore_peers(self) -> None:
        """Saved peers back into the ring (as NORMAL members) and into gossip (as DOWN)."""
        for endpoint, states in sorted(self._peers.items()):
            if self._is_local(endpoint):
                continue
            values = {}
            for name, value in states.items():
                try:
                    values[ApplicationState(name)] = value
                except ValueError:
                    continue
            self.gossiper.add_saved_endpoint(endpoint, values)
            state = EndpointState(HeartBeatState(0, 0),
                                  {k: VersionedValue(v, 0) for k, v in values.items()})
            if ApplicationState.STATUS not in values and ApplicationState.TOKENS in values:
                state.states[ApplicationState.STATUS] = VersionedValue(Status.NORMAL, 0)
            self._apply(endpoint, state)

    def join(self, on_done: Callable[[list[int]], None] | None = None, *,
             tokens: list[int] | None = None, shadow_round: bool = True,
             shadow_timeout: float = 30.0, bootstrap: bool = False) -> None:
        """Join the ring: on a restart reuse the saved tokens; at first start learn the ring from the
        seeds (shadow round, unless ``shadow_round`` is False: the first node of a new cluster),
        allocate tokens, then start gossiping as NORMAL.  ``on_done(tokens)`` runs once gossip has
        started (at once when no shadow round is needed).  With ``bootstrap`` (a new node, not a
        seed) and NORMAL members found in the shadow round, the node gossips STATUS BOOT instead
        (``self.bootstrapping``) until ``finish_bootstrap``."""
        saved = self.saved_state()
        if tokens is None and saved is not None:
            tokens = saved["tokens"]
        if tokens is not None or not self.gossiper.seeds or not shadow_round:
            self._start(tokens, saved)
            if on_done is not None:
                on_done(self.tokens)
            return

        def after_shadow(states: dict[Endpoint, EndpointState] | None) -> None:
            for endpoint, state in sorted((states or {}).items()):
                if endpoint.address != self.local.address or endpoint.port != self.local.port:
                    self._apply(endpoint, state)
            members = [e for e in self.token_metadata.endpoints() if not self._is_local(e)]
            self._start(None, saved, bootstrap=bootstrap and saved is None and bool(members))
            if on_done is not None:
                on_done(self.tokens)

        self.gossiper.do_shadow_round(after_shadow, timeout=shadow_timeout)

    def _start(self, tokens: list[int] | None, saved: dict | None, *,
               bootstrap: bool = False) -> None:
        tm = self.token_metadata
        loc = self.local_location
        if tokens is None:
            tm.update_topology(self.local, loc)
            tokens = allocate_tokens(tm, self.local, self.num_tokens, self.allocation_rf, self.rng,
                                     loc)
        self.tokens = sorted(tokens)
        self.bootstrapping = bootstrap
        if bootstrap:
            tm.add_bootstrap_tokens(self.local, self.tokens, loc)
        else:
            tm.update_normal_tokens(self.local, self.tokens, loc)
        if saved is not None:
            self._restore_peers()
        wall = int(self.gossiper.wall_clock())
        generation = max(wall, saved["generation"] + 1) if saved is not None else wall
        self._generation = generation
        if not bootstrap:               # a bootstrap interrupted before NORMAL starts afresh
            self._save_state(generation)
        self.gossiper.start(generation, {
            ApplicationState.HOST_ID: str(self.local.host_id),
            ApplicationState.DC: loc.datacenter, ApplicationState.RACK: loc.rack,
            ApplicationState.RELEASE_VERSION: RELEASE_VERSION,
            ApplicationState.TOKENS: VVF.tokens(self.tokens),
            ApplicationState.STATUS: (VVF.bootstrapping(self.tokens) if bootstrap
                                      else VVF.normal(self.tokens))})
        self._notify(self.local)

    def finish_bootstrap(self) -> None:
        """The ranges are streamed: save the tokens, become a NORMAL member, gossip it."""
        if not self.bootstrapping:
            return
        self.bootstrapping = False
        self.token_metadata.update_normal_tokens(self.local, self.tokens, self.local_location)
        self._save_state(self._generation)
        self.gossiper.add_local_application_states({
            ApplicationState.TOKENS: VVF.tokens(self.tokens),
            ApplicationState.STATUS: VVF.normal(self.tokens)})
        self._notify(self.local)

    # --- ring listeners ---------------------------------------------------------------------------

    def add_listener(self, listener: RingListener) -> None:
        self._listeners.append(listener)

    def _notify(self, endpoint: Endpoint) -> None:
        for listener in list(self._listeners):
            try:
                listener.on_ring_change(endpoint)
            except Exception:  # noqa: BLE001 - a listener bug must not stop gossip
                log.exception("%s: ring listener failed", self.local)

    # --- gossip events ----------------------------------------------------------------------------

    def _is_local(self, endpoint: Endpoint) -> bool:
        return endpoint.address == self.local.address and endpoint.port == self.local.port

    def on_join(self, endpoint: Endpoint, state: EndpointState) -> None:
        if not self._is_local(endpoint):
            self._apply(endpoint, state)

    def on_change(self, endpoint: Endpoint, key: ApplicationState, value: VersionedValue) -> None:
        if self._is_local(endpoint) or key not in _RING_KEYS:
            return
        state = self.gossiper.endpoint_state(endpoint)
        if state is not None:
            self._apply(endpoint, state)

    def on_remove(self, endpoint: Endpoint) -> None:
        if not self._is_local(endpoint):
            self._remove(endpoint)

    def _apply(self, endpoint: Endpoint, state: EndpointState) -> None:
        """Bring the ring in line with one endpoint's gossiped state."""
        tm = self.token_metadata
        dc, rack = state.get(ApplicationState.DC), state.get(ApplicationState.RACK)
        if dc and rack:
            if hasattr(self.snitch, "learn"):
                self.snitch.learn(endpoint, dc, rack)
            location = Location(dc, rack)
        else:
            location = tm.location(endpoint)
        status = state.status
        tokens = _tokens_of(state)
        version = tm.ring_version
        if status in (Status.LEFT, Status.REMOVED):
            self._remove(endpoint)
            return
        if status == Status.NORMAL or (status == Status.SHUTDOWN and tokens):
            if tokens and (set(tm.tokens_of(endpoint)) != set(tokens)
                           or endpoint in tm.leaving_endpoints()
                           or tm.location(endpoint) != location):
                tm.update_normal_tokens(endpoint, tokens, location)
        elif status == Status.BOOT and tokens:
            tm.add_bootstrap_tokens(endpoint, tokens, location)
        elif status == Status.LEAVING and tm.is_member(endpoint):
            tm.update_topology(endpoint, location)
            tm.add_leaving_endpoint(endpoint)
        elif tm.is_member(endpoint):
            tm.update_topology(endpoint, location)
        if tm.ring_version != version:
            self._notify(endpoint)

    def _remove(self, endpoint: Endpoint) -> None:
        tm = self.token_metadata
        known = tm.is_member(endpoint) or endpoint in tm.bootstrapping_endpoints()
        tm.remove_endpoint(endpoint)
        self.remove_peer(endpoint)
        if hasattr(self.snitch, "forget"):
            self.snitch.forget(endpoint)
        if known:
            self._notify(endpoint)

    # --- queries ----------------------------------------------------------------------------------

    def is_alive(self, endpoint: Endpoint) -> bool:
        return self.gossiper.is_alive(endpoint)

    def endpoint_for_host_id(self, host_id: uuid.UUID) -> Endpoint | None:
        if host_id == self.local.host_id:
            return self.local
        for endpoint in self.gossiper.endpoint_states:
            if endpoint.host_id == host_id:
                return endpoint
        return self.token_metadata.endpoint_by_host_id(host_id)


def _write_json(directory: str | None, name: str, value: Any) -> None:
    if directory is None:
        return
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(value, sort_keys=True))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _tokens_of(state: EndpointState) -> list[int]:
    try:
        text = state.get(ApplicationState.TOKENS)
        if text:
            return VVF.parse_tokens(text)
        fields = (state.get(ApplicationState.STATUS) or "").split(",")
        return [int(fields[1])] if len(fields) > 1 and fields[0] != Status.LEFT else []
    except ValueError:
        log.warning("malformed tokens in gossip state %s", state.states.get(ApplicationState.TOKENS))
        return []
