"""A cqlpy-server's place in a ring: messaging, gossip, the ring, hints, the coordinator, schema spread.

``NodeRing`` runs inside the server process, on its asyncio loop (cqlpy/node.py starts it when
``--seeds`` is given; without it a node is the single-node cluster it always was)::

    TcpMessagingService   listen:storage-port (127.0.0.x in tests, one port for every node)
    Gossiper              seeds, phi-accrual failure detector, cluster name of system.local
    StorageService        tokens (allocated at first start, kept in <data>/ring_state.json), the
                          ring from gossip, peers in <data>/peers.json; host id = system.local's
    HintsService          <data>/hints/, replayed when a node comes back UP
    BatchlogManager       LOGGED batches logged on two peers first, in system.batches; replay
    StorageProxy          the coordinator (writes/reads at a consistency level, read repair)
    Paxos                 LWT rounds and SERIAL reads; acceptor state in <data>/paxos/ (paxos.py)
    RingEngine            what the sessions run on (cqlpy/cluster/ring_engine.py)

Bootstrap: a new node (no ring_state.json) that is not a seed and finds NORMAL members gossips
STATUS BOOT with its tokens (peers add them as pending: writes reach it too), waits for schema
agreement and BOOTSTRAP_SETTLE, pulls the ranges it gains from their current replicas
(cqlpy/cluster/streaming.py), then gossips NORMAL; cqlpy/node.py opens the native transport only
once ``start`` returns.

Engine work off the loop: replica-side verbs (MUTATION, HINT, READ_REPAIR, READ, RANGE, TRUNCATE,
PAXOS_*) run on a small thread pool and answer from there (messaging is thread-safe); the coordinator's own
replica write/read still runs inline on the loop (a memtable insert and a buffered commit-log
append with the default periodic sync).

Secondary indexes (cqlpy/node_indexes.py): every replica-side apply (StorageProxy's engine,
streaming) goes through ``replica_engine``, which maintains this node's local index entries; an
index RANGE_REQ is answered from the local index; the sessions' ``RingDatabase.indexes`` keeps
the coordinator out of index maintenance and sends index queries to the nodes.

Schema spread (Cassandra's migration manager, simplified):
    push   after a local DDL commit, SCHEMA_PUSH_REQ {keyspace, rows | None (dropped), ts} to every
           live peer; a receiver adopts the keyspace unless it holds a newer one
    gossip SCHEMA = this node's catalog.schema_version, re-gossiped after every change
    pull   a peer gossiping another version gets SCHEMA_PULL_REQ (after a short delay, once at a
           time); the answer is every user keyspace's rows with the time of its last change, plus
           recently dropped keyspaces; a keyspace is adopted when (ts, digest) is greater than ours,
           so any two nodes converge on the same schema and report the same schema_version
    apply  through the catalog's commit (``Catalog._commit``) under the database's schema lock, so
           the schema store writes system_schema and creates/drops engine tables, system.local's
           schema_version follows, and connected drivers get SCHEMA_CHANGE events

system.peers / system.peers_v2 rows are written from gossip (on join and on change of DC, RACK,
HOST_ID, TOKENS, SCHEMA, RELEASE_VERSION, NATIVE_ADDRESS_AND_PORT), deleted when a node leaves;
system.local gets this node's host id, tokens, dc, rack and addresses.  Protocol events:
STATUS_CHANGE UP/DOWN from the failure detector's verdicts, TOPOLOGY_CHANGE NEW_NODE for a node
seen for the first time and REMOVED_NODE when one leaves, each with the node's client address.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from cqlpy.cluster.endpoint_state import ApplicationState, EndpointState, Status, VersionedValue
from cqlpy.cluster.endpoints import DEFAULT_STORAGE_PORT, Endpoint
from cqlpy.cluster.failure_detector import DEFAULT_PHI_CONVICT_THRESHOLD, FailureDetector
from cqlpy.cluster.gossip import EndpointStateChangeSubscriber, Gossiper
from cqlpy.cluster.hints import HintsService
from cqlpy.cluster.coordinator import StorageProxy
from cqlpy.cluster.messaging import Message, RequestFailureReason, Verb
from cqlpy.cluster.paxos import PAXOS_VERBS
from cqlpy.cluster.messaging_tcp import TcpMessagingService
from cqlpy.cluster.ring_engine import RingEngine, range_answer
from cqlpy.cluster.snitch import GossipingPropertyFileSnitch
from cqlpy.cluster.storage_service import RING_STATE_FILE, StorageService
from cqlpy.cluster.token_allocation import DEFAULT_NUM_TOKENS
from cqlpy.node_indexes import ReplicaEngine, RingIndexes, index_answer, is_index_request
from cqlpy.schema.catalog import SchemaChange
from cqlpy.schema.system_tables import (
    LOCAL_SYSTEM_KEYSPACES, SYSTEM_KEYSPACES, keyspace_rows, rows_to_keyspaces, schema_digest,
    system_table,
)
from cqlpy.session import request_options

log = logging.getLogger("cqlpy.ring")

SCHEMA_PULL_DELAY = 0.5
BOOTSTRAP_SETTLE = 2.5          # seconds for STATUS BOOT to reach the peers (Cassandra's RING_DELAY)
BOOTSTRAP_SCHEMA_TIMEOUT = 30.0
_PEER_KEYS = frozenset({ApplicationState.DC, ApplicationState.RACK, ApplicationState.HOST_ID,
                        ApplicationState.TOKENS, ApplicationState.SCHEMA,
                        ApplicationState.RELEASE_VERSION, ApplicationState.NATIVE_ADDRESS_AND_PORT})
_REPLICA_VERBS = (Verb.MUTATION_REQ, Verb.HINT_REQ, Verb.READ_REPAIR_REQ, Verb.READ_REQ)


@dataclass
class RingOptions:
    """The ring part of a node's configuration (flags in cqlpy/node.py)."""

    seeds: tuple[str, ...]
    storage_port: int = DEFAULT_STORAGE_PORT
    dc: str | None = None
    rack: str | None = None
    rackdc_file: str | None = None
    num_tokens: int = DEFAULT_NUM_TOKENS
    phi_convict_threshold: float = DEFAULT_PHI_CONVICT_THRESHOLD
    shadow_timeout: float = 30.0
    speculative_retry: float = 0.1          # seconds before a read asks one more replica
    batchlog_replay_interval: float = 10.0  # seconds between batchlog replays (0: never)


def parse_seeds(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def seed_endpoint(text: str, storage_port: int) -> Endpoint:
    """'127.0.0.1' (the storage port is ours) or '127.0.0.1:7001'."""
    if text.startswith("[") or text.count(":") == 1:
        return Endpoint.parse(text)
    return Endpoint.of(text, storage_port)


class RingDatabase:
    """The Database seen by the sessions of a ring node: the same, except ``engine`` routes."""

    replicates_system_auth = True        # roles go through the ring engine (session/roles.py)

    def __init__(self, database: Any, engine: RingEngine) -> None:
        self.local_database = database
        self.engine = engine
        self.indexes = RingIndexes(database.indexes, engine)     # replicas index (node_indexes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["local_database"], name)

    def ring_view(self) -> tuple[Any, str]:
        """(Topology, local datacenter): what CREATE/ALTER KEYSPACE is validated against
        (cqlpy/session/keyspace_validation.py)."""
        from cqlpy.cluster.replication import topology
        proxy = self.engine.proxy()
        return topology(proxy.token_metadata), proxy.local_dc


# --- schema rows on the wire (messaging payloads know no sets) ----------------------------------------

_SET = "\x00set"


def _to_wire(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return {_SET: [_to_wire(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _SET in value:
            return {_from_wire(v) for v in value[_SET]}
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    return value


class NodeRing(EndpointStateChangeSubscriber):
    """Everything a node needs to be one of a ring (see the module docstring)."""

    def __init__(self, options: RingOptions, database: Any, listen: str, *,
                 push_event: Callable[[Any], None] | None = None,
                 consistency: Callable[[], Any] = lambda: None) -> None:
        self.options = options
        self.database = database
        self.listen = listen
        self.push_event = push_event
        self.loop = asyncio.get_running_loop()
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cqlpy-ring")
        self.messaging: TcpMessagingService | None = None
        self.gossiper: Gossiper | None = None
        self.storage: StorageService | None = None
        self.hints: HintsService | None = None
        self.batchlog: Any = None                      # cluster/batchlog.py
        self.proxy: StorageProxy | None = None
        self.paxos: Any = None                          # cqlpy.cluster.paxos.Paxos
        # the replica side's engine: applies maintain this node's local secondary indexes
        self.replica_engine = ReplicaEngine(database.engine, database.catalog, database.indexes)
        self.engine = RingEngine(database.engine, database.catalog, lambda: self.proxy, self.loop,
                                 consistency=consistency,
                                 serial_consistency=request_options.serial_consistency_level.get,
                                 batch_type=request_options.batch_type.get)
        self.native_address: tuple[str, int] | None = None
        self._known_hosts: set[uuid.UUID] = set()
        self._ks_changed: dict[str, int] = {}          # keyspace -> µs of its last change
        self._dropped: dict[str, int] = {}             # keyspace -> µs it was dropped
        self._applying_remote = threading.local()
        self._pulls: set[tuple[str, int]] = set()
        self._peer_codecs: dict[str, Any] = {}

    # --- lifecycle ----------------------------------------------------------------------------------

    def _host_id(self) -> uuid.UUID:
        path = os.path.join(self.database.path, RING_STATE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                return uuid.UUID(json.load(f)["host_id"])
        except (OSError, ValueError, KeyError):
            return self.database.system_views.host_id or uuid.uuid4()

    async def start(self, native_host: str, native_port: int) -> None:
        opts = self.options
        local = Endpoint(self._host_id(), self.listen, opts.storage_port)
        self.native_address = (native_host, native_port)
        self.messaging = TcpMessagingService(local)
        await self.messaging.start()
        snitch = GossipingPropertyFileSnitch.from_options(
            {"dc": opts.dc, "rack": opts.rack, "rackdc_file": opts.rackdc_file}, local)
        fd = FailureDetector(self.loop.time, phi_convict_threshold=opts.phi_convict_threshold)
        from cqlpy.session.system_views import CLUSTER_NAME
        self.gossiper = Gossiper(self.messaging, seeds=[seed_endpoint(s, opts.storage_port)
                                                        for s in opts.seeds],
                                 cluster_name=CLUSTER_NAME, failure_detector=fd)
        self.storage = StorageService(self.gossiper, snitch=snitch, data_dir=self.database.path,
                                      num_tokens=opts.num_tokens)
        self.hints = HintsService(self.storage, self.messaging, self.database.path)
        self.proxy = StorageProxy(self.storage, self.messaging, self.replica_engine, self.hints,
                                  wait=_no_blocking, speculative_retry=opts.speculative_retry)
        from cqlpy.cluster.batchlog import BatchlogManager, batches_table
        from cqlpy.session.rowcodec import RowCodec
        self.batchlog = BatchlogManager(self.proxy, self.database.engine,
                                        codec=RowCodec(batches_table()),
                                        replication_of=self.engine.replication,
                                        replay_interval=opts.batchlog_replay_interval)
        from cqlpy.cluster.paxos import Paxos
        from cqlpy.cluster.paxos_state import PaxosStateStore
        self.paxos = Paxos(self.proxy, PaxosStateStore(os.path.join(self.database.path, "paxos")))
        self.paxos.register(self._off_loop)          # acceptor verbs fsync: off the loop
        for verb in _REPLICA_VERBS + (Verb.RANGE_REQ, Verb.TRUNCATE_REQ, Verb.BATCH_STORE_REQ,
                                      Verb.BATCH_REMOVE_REQ):
            self.messaging.register_handler(verb, self._off_loop)
        self.messaging.register_handler(Verb.SCHEMA_PUSH_REQ, self._off_loop)
        self.messaging.register_handler(Verb.SCHEMA_PULL_REQ, self._off_loop)
        self._known_hosts = {e.host_id for e in self.storage.saved_peers()}
        self.gossiper.register(self)
        joined: asyncio.Future = self.loop.create_future()
        is_seed = any((e.address, e.port) == (local.address, local.port)
                      for e in self.gossiper.seeds)
        self.storage.join(lambda tokens: joined.done() or joined.set_result(tokens),
                          shadow_timeout=opts.shadow_timeout, bootstrap=not is_seed)
        tokens = await joined
        bootstrapping = self.storage.bootstrapping
        self.hints.start()
        self.batchlog.start()
        await self.loop.run_in_executor(self.pool, self._write_local_row)
        self.gossiper.add_local_application_states({
            ApplicationState.SCHEMA: str(self.database.catalog.schema_version),
            ApplicationState.NATIVE_ADDRESS_AND_PORT: f"{native_host}:{native_port}",
            ApplicationState.RPC_READY: "false" if bootstrapping else "true"})
        self.database.catalog.add_commit_listener(self._on_local_commit)
        for endpoint, state in list(self.gossiper.endpoint_states.items()):
            if endpoint != local:
                self._write_peer_soon(endpoint)
        if bootstrapping:
            try:
                await self._bootstrap()
            except Exception as exc:  # noqa: BLE001 - the node cannot serve: one line, exit
                log.error("JOINING: bootstrap failed: %s", exc)
                # no shutdown announcement: peers would take a SHUTDOWN state with tokens for a
                # NORMAL member; they convict it DOWN and keep its tokens pending instead
                self.gossiper.stop(announce=False)
                await self.stop()
                from cqlpy.errors import ConfigurationException
                raise ConfigurationException(
                    f"bootstrap failed ({exc}); start the node again to retry") from None
        loc = self.storage.local_location
        log.info("Joined the ring as %s (host id %s, %s/%s, %d tokens); seeds %s", local,
                 local.host_id, loc.datacenter, loc.rack, len(tokens), ", ".join(opts.seeds))

    async def _bootstrap(self) -> None:
        """STATUS BOOT is gossiped: learn the schema, let the peers learn our pending ranges, pull
        the ranges this node gains from their current replicas, then become NORMAL."""
        from cqlpy.cluster.replication import strategy_from_replication
        from cqlpy.cluster.streaming import RangeStreamer
        assert self.storage is not None and self.gossiper is not None
        started = time.monotonic()
        log.info("JOINING: bootstrapping with %d tokens; waiting for schema agreement",
                 len(self.storage.tokens))
        await self._wait_schema_agreement(BOOTSTRAP_SCHEMA_TIMEOUT)
        log.info("JOINING: schema agreed; waiting %.1f s for the ring to learn our pending ranges",
                 BOOTSTRAP_SETTLE)
        await asyncio.sleep(BOOTSTRAP_SETTLE)
        local = self.storage.local
        keyspaces = [(name, strategy_from_replication(ks.replication, local))
                     for name, ks in self.database.catalog.keyspaces.items()
                     if name not in LOCAL_SYSTEM_KEYSPACES   # system_auth's roles stream too
                     and ks.strategy_name != "LocalStrategy"]
        streamer = RangeStreamer(self.messaging, self.replica_engine, is_local=self._is_local,
                                 is_alive=self.gossiper.is_alive)
        log.info("JOINING: streaming the ranges of %d keyspaces", len(keyspaces))
        streaming = time.monotonic()
        sent, _ = await streamer.stream_movements(keyspaces, self.storage.token_metadata.clone(),
                                                  target_filter=self._is_local)
        streamed = time.monotonic() - streaming
        self.storage.finish_bootstrap()
        self.gossiper.add_local_application_state(ApplicationState.RPC_READY, "true")
        log.info("JOINING: bootstrap complete in %.1f s: streamed %d partitions in %.2f s; "
                 "now NORMAL", time.monotonic() - started, sent, streamed)

    async def _wait_schema_agreement(self, timeout: float) -> None:
        """Until every live NORMAL member gossips our schema version (at least one is live)."""
        assert self.storage is not None and self.gossiper is not None
        deadline = self.loop.time() + timeout
        while True:
            ours = str(self.database.catalog.schema_version)
            members = [e for e in self.storage.token_metadata.endpoints() if not self._is_local(e)]
            live = [e for e in members if self.gossiper.is_alive(e)]
            versions = set()
            for e in live:
                state = self.gossiper.endpoint_state(e)
                versions.add(state.get(ApplicationState.SCHEMA) if state is not None else None)
            if live and versions == {ours}:
                return
            if self.loop.time() > deadline:
                raise RuntimeError(f"bootstrap: no schema agreement with the ring within {timeout} s "
                                   f"(ours {ours}, live members {len(live)}/{len(members)}, "
                                   f"theirs {sorted(map(str, versions))})")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        try:
            self.database.catalog.remove_commit_listener(self._on_local_commit)
        except Exception:  # noqa: BLE001
            pass
        if self.gossiper is not None:
            self.gossiper.stop(announce=True)
            await asyncio.sleep(0.05)              # let the shutdown announcements leave
        if self.hints is not None:
            self.hints.close()
        if self.batchlog is not None:
            self.batchlog.close()
        if self.messaging is not None:
            await self.messaging.close()
        self.pool.shutdown(wait=True)
        if self.paxos is not None:
            self.paxos.store.close()

    # --- replica verbs off the loop -------------------------------------------------------------------

    def _off_loop(self, message: Message) -> None:
        self.pool.submit(self._handle, message)

    def _handle(self, message: Message) -> None:
        assert self.messaging is not None and self.proxy is not None
        try:
            verb = message.verb
            if verb in (Verb.MUTATION_REQ, Verb.HINT_REQ, Verb.READ_REPAIR_REQ):
                self.proxy._on_apply(message)
            elif verb is Verb.READ_REQ:
                self.proxy._on_read(message)
            elif verb is Verb.RANGE_REQ and is_index_request(message.payload):
                self.messaging.respond(message, index_answer(self.replica_engine, message.payload))
            elif verb is Verb.RANGE_REQ:
                self.messaging.respond(message, range_answer(self.database.engine, message.payload))
            elif verb in (Verb.BATCH_STORE_REQ, Verb.BATCH_REMOVE_REQ):
                self.batchlog.handle(message)
            elif verb in PAXOS_VERBS:
                self.paxos.handle(message)
            elif verb is Verb.TRUNCATE_REQ:
                self.replica_engine.truncate(message.payload["table"])
                self.messaging.respond(message, None)
            elif verb is Verb.SCHEMA_PUSH_REQ:
                self._apply_pushed(message.payload)
                self.messaging.respond(message, None)
            elif verb is Verb.SCHEMA_PULL_REQ:
                self.messaging.respond(message, self._schema_answer())
        except Exception as exc:  # noqa: BLE001 - the requester gets a failure, not a timeout
            log.warning("%s from %s failed: %s", message.verb.name, message.sender, exc)
            if message.expects_response:
                self.messaging.respond_failure(message, RequestFailureReason.UNKNOWN,
                                               f"{type(exc).__name__}: {exc}")

    # --- system.local and system.peers -----------------------------------------------------------------

    def _timestamp(self) -> int:
        return self.database.system_views.timestamps.next(int(time.time() * 1_000_000))

    def _codec(self, table: str) -> Any:
        codec = self._peer_codecs.get(table)
        if codec is None:
            from cqlpy.session.rowcodec import RowCodec
            codec = self._peer_codecs[table] = RowCodec(system_table("system", table))
        return codec

    def _write_local_row(self) -> None:
        assert self.storage is not None
        codec = self._codec("local")
        loc = self.storage.local_location
        address = ipaddress.ip_address(self.listen)
        write = codec.write(["local"], [], timestamp=self._timestamp(), now=int(time.time()))
        for name, value in (("host_id", self.storage.local.host_id),
                            ("tokens", {str(t) for t in self.storage.tokens}),
                            ("data_center", loc.datacenter), ("rack", loc.rack),
                            ("listen_address", address), ("broadcast_address", address),
                            ("listen_port", self.options.storage_port),
                            ("broadcast_port", self.options.storage_port)):
            write.set(name, value)
        self.database.engine.apply([write.update])
        self.database.system_views.host_id = self.storage.local.host_id
        self.database.system_views.tokens = {str(t) for t in self.storage.tokens}

    def _write_peer_soon(self, endpoint: Endpoint) -> None:
        state = self.gossiper.endpoint_state(endpoint) if self.gossiper else None
        if state is None:
            return
        values = {k: v.value for k, v in state.states.items()}
        self.loop.run_in_executor(self.pool, self._write_peer, endpoint, values)

    def _write_peer(self, endpoint: Endpoint, values: dict[ApplicationState, str]) -> None:
        def get(key: ApplicationState) -> str | None:
            return values.get(key) or None

        try:
            peer = ipaddress.ip_address(endpoint.address)
            native_host, native_port = self._native_of(endpoint, values)
            native = ipaddress.ip_address(native_host)
            tokens = {t for t in (get(ApplicationState.TOKENS) or "").split(",") if t}
            host_id = uuid.UUID(get(ApplicationState.HOST_ID) or str(endpoint.host_id))
            schema = get(ApplicationState.SCHEMA)
            common = {"data_center": get(ApplicationState.DC), "rack": get(ApplicationState.RACK),
                      "host_id": host_id, "release_version": get(ApplicationState.RELEASE_VERSION),
                      "schema_version": uuid.UUID(schema) if schema else None,
                      "tokens": tokens or None}
            now, ts = int(time.time()), self._timestamp()
            v2 = dict(common, peer=peer, peer_port=endpoint.port, native_address=native,
                      native_port=native_port)
            v1 = dict(common, peer=peer, rpc_address=native)
            updates = []
            for table, row in (("peers_v2", v2), ("peers", v1)):
                codec = self._codec(table)
                updates.append(codec.insert({k: v for k, v in row.items() if v is not None},
                                            timestamp=ts, now=now))
            self.database.engine.apply(updates)
        except Exception:  # noqa: BLE001 - a bad peer state must not stop gossip
            log.exception("cannot record peer %s", endpoint)

    def _delete_peer(self, endpoint: Endpoint) -> None:
        peer = ipaddress.ip_address(endpoint.address)
        now, ts = int(time.time()), self._timestamp()
        self.database.engine.apply([self._codec("peers_v2").delete_partition([peer], timestamp=ts, now=now),
                                    self._codec("peers").delete_partition([peer], timestamp=ts, now=now)])

    def _native_of(self, endpoint: Endpoint, values: dict[ApplicationState, str] | None = None
                   ) -> tuple[str, int]:
        """A peer's client address and native port (its NATIVE_ADDRESS_AND_PORT, else its
        address and our native port: the nodes of one ring share the port)."""
        if values is None:
            state = self.gossiper.endpoint_state(endpoint) if self.gossiper else None
            values = {k: v.value for k, v in state.states.items()} if state else {}
        text = values.get(ApplicationState.NATIVE_ADDRESS_AND_PORT)
        if text:
            host, _, port = text.rpartition(":")
            try:
                return host.strip("[]"), int(port)
            except ValueError:
                pass
        port = self.native_address[1] if self.native_address else 9042
        return endpoint.address, port

    def _event(self, event_type: str, change: str, endpoint: Endpoint) -> None:
        if self.push_event is None:
            return
        from cqlpy.protocol.messages import Event
        host, port = self._native_of(endpoint)
        try:
            self.push_event(Event(event_type, change, address=host, port=port))
        except Exception:  # noqa: BLE001
            log.exception("cannot push %s %s", event_type, change)

    # --- gossip events (loop thread) ------------------------------------------------------------------

    def _is_local(self, endpoint: Endpoint) -> bool:
        return self.messaging is not None and (endpoint.address, endpoint.port) == (
            self.messaging.local.address, self.messaging.local.port)

    def on_join(self, endpoint: Endpoint, state: EndpointState) -> None:
        if self._is_local(endpoint):
            return
        self._write_peer_soon(endpoint)
        if endpoint.host_id not in self._known_hosts:
            self._known_hosts.add(endpoint.host_id)
            self._event("TOPOLOGY_CHANGE", "NEW_NODE", endpoint)
        self._check_schema(endpoint)

    def on_change(self, endpoint: Endpoint, key: ApplicationState, value: VersionedValue) -> None:
        if self._is_local(endpoint):
            return
        if key is ApplicationState.STATUS and value.value.split(",", 1)[0] in (Status.LEFT,
                                                                                Status.REMOVED):
            self.on_remove(endpoint)              # decommissioned, or removed by removenode
            return
        if key not in _PEER_KEYS:
            return
        self._write_peer_soon(endpoint)
        if key is ApplicationState.SCHEMA:
            self._check_schema(endpoint)

    def on_alive(self, endpoint: Endpoint, state: EndpointState) -> None:
        if not self._is_local(endpoint):
            self._event("STATUS_CHANGE", "UP", endpoint)
            self._check_schema(endpoint)

    def on_dead(self, endpoint: Endpoint, state: EndpointState) -> None:
        if not self._is_local(endpoint):
            self._event("STATUS_CHANGE", "DOWN", endpoint)

    def on_remove(self, endpoint: Endpoint) -> None:
        if self._is_local(endpoint) or endpoint.host_id not in self._known_hosts:
            return
        self._known_hosts.discard(endpoint.host_id)
        self.loop.run_in_executor(self.pool, self._delete_peer, endpoint)
        self._event("TOPOLOGY_CHANGE", "REMOVED_NODE", endpoint)

    # --- schema spread ---------------------------------------------------------------------------------

    def _on_local_commit(self, change: SchemaChange) -> None:
        """Catalog commit listener (any thread): gossip the new version; push a local DDL."""
        catalog = self.database.catalog
        version = str(catalog.schema_version)
        remote = getattr(self._applying_remote, "active", False)
        name = change.keyspace
        payload = None
        if not remote and name not in LOCAL_SYSTEM_KEYSPACES:   # ALTER of system_auth spreads
            ts = int(time.time() * 1_000_000)
            ks = catalog.get_keyspace(name)
            self._ks_changed[name] = ts
            if ks is None:
                self._dropped[name] = ts
            else:
                self._dropped.pop(name, None)
            payload = {"keyspace": name, "ts": ts,
                       "rows": None if ks is None else _to_wire(keyspace_rows(ks))}
        self.loop.call_soon_threadsafe(self._schema_committed, version, payload)

    def _schema_committed(self, version: str, payload: dict | None) -> None:
        if self.gossiper is None or not self.gossiper.enabled:
            return
        self.gossiper.add_local_application_state(ApplicationState.SCHEMA, version)
        if payload is not None:
            for peer in self.gossiper.live_members():
                if not self._is_local(peer):
                    self.messaging.send(peer, Verb.SCHEMA_PUSH_REQ, payload)

    def _check_schema(self, endpoint: Endpoint) -> None:
        state = self.gossiper.endpoint_state(endpoint) if self.gossiper else None
        theirs = state.get(ApplicationState.SCHEMA) if state is not None else None
        if not theirs or theirs == str(self.database.catalog.schema_version):
            return
        key = (endpoint.address, endpoint.port)
        if key in self._pulls:
            return
        self._pulls.add(key)
        self.loop.call_later(SCHEMA_PULL_DELAY, self._pull, endpoint)

    def _pull(self, endpoint: Endpoint) -> None:
        key = (endpoint.address, endpoint.port)
        state = self.gossiper.endpoint_state(endpoint)
        theirs = state.get(ApplicationState.SCHEMA) if state is not None else None
        if (not theirs or theirs == str(self.database.catalog.schema_version)
                or not self.gossiper.is_alive(endpoint)):
            self._pulls.discard(key)
            return

        def answered(message: Message) -> None:
            self.loop.run_in_executor(self.pool, self._apply_pulled, message.payload, key)

        def failed(*_: Any) -> None:
            self._pulls.discard(key)

        self.messaging.send_with_callback(endpoint, Verb.SCHEMA_PULL_REQ, None, answered, failed,
                                          timeout=10.0)

    def _schema_answer(self) -> dict:
        catalog = self.database.catalog
        keyspaces = {}
        for name, ks in catalog.keyspaces.items():
            if name in LOCAL_SYSTEM_KEYSPACES:
                continue
            keyspaces[name] = {"ts": self._ks_changed.get(name, 0),
                               "rows": _to_wire(keyspace_rows(ks))}
        return {"keyspaces": keyspaces, "dropped": dict(self._dropped)}

    def _apply_pulled(self, payload: dict, key: tuple[str, int]) -> None:
        try:
            for name, ts in (payload.get("dropped") or {}).items():
                if self._ks_changed.get(name, 0) < ts:
                    self._adopt(name, None, ts)
            for name, entry in (payload.get("keyspaces") or {}).items():
                self._adopt(name, _from_wire(entry["rows"]), int(entry.get("ts") or 0))
        except Exception:  # noqa: BLE001
            log.exception("cannot apply the schema pulled from %s:%s", *key)
        finally:
            self.loop.call_soon_threadsafe(self._pulls.discard, key)
            self.loop.call_soon_threadsafe(self._recheck_all)

    def _recheck_all(self) -> None:
        if self.gossiper is None:
            return
        for endpoint in list(self.gossiper.live):
            self._check_schema(endpoint)

    def _apply_pushed(self, payload: dict) -> None:
        rows = payload.get("rows")
        self._adopt(payload["keyspace"], None if rows is None else _from_wire(rows),
                    int(payload.get("ts") or 0), pushed=True)

    def _adopt(self, name: str, rows: dict | None, ts: int, pushed: bool = False) -> None:
        """Make keyspace ``name`` what ``rows`` describe (None: dropped) unless ours is newer."""
        if name in LOCAL_SYSTEM_KEYSPACES or (name in SYSTEM_KEYSPACES and rows is None):
            return
        database = self.database
        catalog = database.catalog
        with database.schema_lock:
            current = catalog.get_keyspace(name)
            new = rows_to_keyspaces(rows).get(name) if rows is not None else None
            if name in SYSTEM_KEYSPACES and new is not None and current is not None:
                # system_auth / system_traces: only replication and durable_writes are alterable
                new = current.with_changes(replication=new.replication,
                                           durable_writes=new.durable_writes)
            if new is None and current is None:
                self._dropped[name] = max(ts, self._dropped.get(name, 0))
                return
            ours = (self._ks_changed.get(name, 0), _digest(name, current))
            theirs = (ts, _digest(name, new))
            if ours[1] == theirs[1]:
                self._ks_changed[name] = max(ours[0], ts)
                return
            if not pushed and theirs < ours:
                return
            if pushed and ts < ours[0]:
                return
            change_type = "DROPPED" if new is None else "CREATED" if current is None else "UPDATED"
            self._applying_remote.active = True
            try:
                with catalog._lock:
                    catalog._commit(SchemaChange(change_type, "KEYSPACE", name), new)
            finally:
                self._applying_remote.active = False
            indexes = getattr(database, "indexes", None)
            if indexes is not None:       # build new indexes from local data, drop dropped ones
                indexes.sync(catalog, now=int(time.time()))
            self._ks_changed[name] = ts
            if new is None:
                self._dropped[name] = ts
            else:
                self._dropped.pop(name, None)
            log.info("Schema: keyspace %s %s from a peer; schema version %s", name,
                     change_type.lower(), catalog.schema_version)


def _digest(name: str, ks: Any) -> str:
    return "" if ks is None else str(schema_digest({name: ks}))


def _no_blocking(pending: Any) -> None:
    raise RuntimeError("StorageProxy's blocking calls are not used on a server; use RingEngine")
