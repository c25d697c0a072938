"""The node's admin channel (Cassandra's JMX on 7199): what ``cqlpy-nodetool`` talks to.

A small asyncio listener started by cqlpy/node.py on ``--listen``:``--admin-port`` (7199; 0 = any
free port, logged as ``Starting admin channel on HOST:PORT``).  Wire format, both directions::

    [u32 length, big-endian][length bytes of UTF-8 JSON]

    request    {"cmd": "status", "args": ["ks"]}
    response   {"ok": true, "result": ...}  |  {"ok": false, "error": "one line"}

No pickle, no eval: a request is one JSON object whose ``cmd`` names an entry of ``COMMANDS``.
Requests are at most ``MAX_REQUEST`` bytes; a bad request (oversized, not JSON, unknown command)
gets an error reply and only that connection closes.  A connection may send several requests.

The answers are data (nodetool formats them): ``status``/``ring``/``describering``/``info`` report
the ring as this node sees it (token metadata, gossip); a node without ``--seeds`` reports itself
as a single-node ring (its system.local host id and tokens, datacenter1/rack1).

Streaming (decommission, removenode; cqlpy/cluster/streaming.py, shared with bootstrap), Cassandra's
``StreamPlan`` in small: for every user keyspace
the ranges that change hands are ``replication.range_movements``; for each (range, target, sources)
one live source (this node when it holds the range) scans its partitions of every table of the
keyspace in the range, tombstones kept (RANGE_REQ when the source is another node), and the
coordinator sends them to the target as MUTATION_REQ in batches, waiting for every acknowledgement.
Writes arriving meanwhile reach the gaining nodes too (the coordinator adds pending replicas).
    decommission   STATUS LEAVING, stream, STATUS LEFT, then this node stops serving (native
                   transport, gossip, messaging); the process keeps running until stopped, and
                   ``<data>/DECOMMISSIONED`` stops the folder from rejoining the ring.
    removenode ID  (a DOWN node) the ranges it replicated are streamed from the remaining
                   replicas to the nodes gaining them, then its gossip state becomes ``removed``
                   (forced to the highest version, so every peer adopts it): peers drop it from
                   the ring and push TOPOLOGY_CHANGE REMOVED_NODE.
Hints held for a leaving node are not handed over (Cassandra streams them too).
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import struct
import time
import uuid
from typing import Any, Callable

log = logging.getLogger("cqlpy.admin")

DEFAULT_ADMIN_PORT = 7199
MAX_REQUEST = 64 * 1024
MAX_RESPONSE = 64 * 1024 * 1024
REQUEST_TIMEOUT = 30.0
from cqlpy.cluster.streaming import STREAM_BATCH, STREAM_TIMEOUT  # noqa: E402  (re-exported)
GOSSIP_SETTLE = 2.5                   # seconds for a status to reach the peers (Cassandra: RING_DELAY)
LOAD_INTERVAL = 5.0
DECOMMISSIONED_FILE = "DECOMMISSIONED"
_HEADER = struct.Struct(">I")


class AdminError(Exception):
    """A refused or failed admin command: its message goes back as the error reply."""


# --- framing (shared with cqlpy/nodetool.py) ------------------------------------------------------------

def encode_message(obj: Any) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(body)) + body


async def read_message(reader: asyncio.StreamReader, limit: int) -> Any:
    """One framed JSON value; AdminError if it is too large or not JSON; EOFError at a clean end."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise EOFError from None
        raise AdminError("truncated request") from None
    (length,) = _HEADER.unpack(header)
    if length > limit:
        raise AdminError(f"request of {length} bytes exceeds the limit of {limit}")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise AdminError("truncated request") from None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AdminError(f"request is not JSON: {exc}") from None


# --- the server -------------------------------------------------------------------------------------------

class AdminServer:
    """Listens on host:port; runs ``AdminCommands`` for each request."""

    def __init__(self, node: Any, host: str, port: int) -> None:
        self.node = node
        self.host, self.port = host, port
        self.commands = AdminCommands(node)
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task] = set()
        self._load_task: asyncio.Task | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[:2]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        log.info("Starting admin channel on %s:%d", *self.address)
        if getattr(self.node, "ring", None) is not None:
            self._load_task = asyncio.get_running_loop().create_task(self._gossip_load())

    async def close(self) -> None:
        if self._load_task is not None:
            self._load_task.cancel()
        if self._server is not None:
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                pass
            self._server = None

    async def _gossip_load(self) -> None:
        """Gossip LOAD (bytes on disk), as Cassandra does every minute, so status shows it."""
        from cqlpy.cluster.endpoint_state import ApplicationState
        loop = asyncio.get_running_loop()
        while True:
            try:
                ring = self.node.ring
                if ring.gossiper is not None and ring.gossiper.enabled:
                    load = await loop.run_in_executor(None, self.commands.local_load)
                    if ring.gossiper.enabled:
                        ring.gossiper.add_local_application_state(ApplicationState.LOAD,
                                                                  str(float(load)))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - monitoring must not take the node down
                log.debug("cannot gossip load", exc_info=True)
            await asyncio.sleep(LOAD_INTERVAL)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        try:
            while True:
                try:
                    request = await asyncio.wait_for(read_message(reader, MAX_REQUEST),
                                                     REQUEST_TIMEOUT)
                except EOFError:
                    return
                except asyncio.TimeoutError:
                    return
                except AdminError as exc:
                    await self._reply(writer, {"ok": False, "error": str(exc)})
                    return
                if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                    await self._reply(writer, {"ok": False,
                                               "error": 'a request is {"cmd": NAME, "args": [...]}'})
                    return
                args = request.get("args") or []
                if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                    await self._reply(writer, {"ok": False, "error": "args must be a list of strings"})
                    return
                handler = COMMANDS.get(request["cmd"])
                if handler is None:
                    await self._reply(writer, {"ok": False,
                                               "error": f"unknown command {request['cmd']!r}"})
                    return
                try:
                    inspect.signature(handler).bind(self.commands, *args)
                except TypeError as exc:
                    await self._reply(writer, {"ok": False,
                                               "error": f"{request['cmd']}: wrong arguments ({exc})"})
                    continue
                try:
                    result = await handler(self.commands, *args)
                    response = {"ok": True, "result": result}
                except AdminError as exc:
                    response = {"ok": False, "error": str(exc)}
                except Exception as exc:  # noqa: BLE001 - one line for the operator
                    log.exception("admin command %s failed", request["cmd"])
                    response = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                await self._reply(writer, response)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._conns.discard(task)
            writer.close()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, response: dict) -> None:
        data = encode_message(response)
        if len(data) > MAX_RESPONSE:
            data = encode_message({"ok": False, "error": "response too large"})
        writer.write(data)
        await writer.drain()


# --- commands ---------------------------------------------------------------------------------------------

COMMANDS: dict[str, Callable[..., Any]] = {}


def command(name: str) -> Callable:
    def register(fn: Callable) -> Callable:
        COMMANDS[name] = fn
        return fn
    return register


class AdminCommands:
    """What each nodetool command does on the node (all on the event loop; engine work off it)."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.started = time.time()
        self.mode = "NORMAL"
        self._single_tm: Any = None
        self._removal: dict[str, Any] | None = None

    # --- what the node is made of ---------------------------------------------------------------------

    @property
    def ring(self) -> Any:
        ring = getattr(self.node, "ring", None)
        return ring if ring is not None and ring.storage is not None else None

    @property
    def database(self) -> Any:
        """The node's own Database (not the ring-routing wrapper)."""
        backend = self.node.backend
        if backend is None:
            raise AdminError("the node is stopped")
        db = backend.database
        return getattr(db, "local_database", db)

    @property
    def engine(self) -> Any:
        return self.database.engine

    def local_load(self) -> int:
        stats = self.engine.stats()
        return int(stats.get("sstable_bytes", 0)) + int(stats.get("memtable_bytes", 0))

    def _local_endpoint(self) -> Any:
        from cqlpy.cluster.endpoints import Endpoint
        ring = self.ring
        if ring is not None:
            return ring.storage.local
        views = self.database.system_views
        return Endpoint(views.host_id or uuid.UUID(int=0), self.node.config.listen, 7000)

    def token_metadata(self) -> Any:
        ring = self.ring
        if ring is not None:
            return ring.storage.token_metadata
        from cqlpy.cluster.endpoints import Location
        from cqlpy.cluster.token_metadata import TokenMetadata
        views = self.database.system_views
        tokens = sorted(int(t) for t in (views.tokens or ()))
        key = (views.host_id, tuple(tokens))
        if self._single_tm is None or self._single_tm[0] != key:
            tm = TokenMetadata()
            if tokens:
                tm.update_normal_tokens(self._local_endpoint(), tokens,
                                        Location("datacenter1", "rack1"))
            self._single_tm = (key, tm)
        return self._single_tm[1]

    def _location(self, endpoint: Any) -> tuple[str, str]:
        ring = self.ring
        if ring is None:
            return "datacenter1", "rack1"
        if self._is_local(endpoint):
            loc = ring.storage.local_location
        else:
            loc = ring.storage.token_metadata.location(endpoint)
        return loc.datacenter, loc.rack

    def _is_local(self, endpoint: Any) -> bool:
        local = self._local_endpoint()
        return (endpoint.address, endpoint.port) == (local.address, local.port)

    def _alive(self, endpoint: Any) -> bool:
        ring = self.ring
        if ring is None:
            return self.mode == "NORMAL"
        return ring.gossiper.is_alive(endpoint)

    def _gossip_value(self, endpoint: Any, key: str) -> str | None:
        ring = self.ring
        if ring is None:
            return None
        from cqlpy.cluster.endpoint_state import ApplicationState
        state = ring.gossiper.endpoint_state(endpoint)
        return state.get(ApplicationState(key)) if state is not None else None

    def _state(self, endpoint: Any) -> str:
        tm = self.token_metadata()
        if endpoint in tm.leaving_endpoints():
            return "Leaving"
        if endpoint in tm.bootstrapping_endpoints():
            return "Joining"
        status = (self._gossip_value(endpoint, "STATUS") or "").split(",", 1)[0]
        return {"LEAVING": "Leaving", "BOOT": "Joining", "MOVING": "Moving"}.get(status, "Normal")

    def _load(self, endpoint: Any) -> float | None:
        if self._is_local(endpoint):
            return None                      # filled in by the caller (off the loop)
        value = self._gossip_value(endpoint, "LOAD")
        try:
            return float(value) if value else None
        except ValueError:
            return None

    def user_keyspaces(self) -> dict[str, Any]:
        from cqlpy.schema.system_tables import SYSTEM_KEYSPACES
        return {name: ks for name, ks in self.replicated_keyspaces().items()
                if name not in SYSTEM_KEYSPACES}

    def replicated_keyspaces(self) -> dict[str, Any]:
        """Every keyspace the ring replicates: the users' and system_auth / system_traces /
        system_distributed (what decommission and removenode stream)."""
        from cqlpy.schema.system_tables import LOCAL_SYSTEM_KEYSPACES
        return {name: ks for name, ks in self.database.catalog.keyspaces.items()
                if name not in LOCAL_SYSTEM_KEYSPACES and ks.strategy_name != "LocalStrategy"}

    def keyspace(self, name: str) -> Any:
        ks = self.database.catalog.get_keyspace(name)
        if ks is None:
            raise AdminError(f"Keyspace '{name}' does not exist")
        return ks

    def strategy(self, ks: Any) -> Any:
        from cqlpy.cluster.replication import strategy_from_replication
        return strategy_from_replication(ks.replication, self._local_endpoint())

    async def _off_loop(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    # --- reports --------------------------------------------------------------------------------------

    @command("status")
    async def status(self, keyspace: str | None = None) -> dict:
        from cqlpy.cluster.replication import replicated_ownership
        tm = self.token_metadata()
        ownership: dict | None
        note = None
        if keyspace is not None:
            ownership = replicated_ownership(self.strategy(self.keyspace(keyspace)), tm)
        else:
            user = self.user_keyspaces()
            replications = {json.dumps(ks.replication, sort_keys=True) for ks in user.values()}
            if not user:
                ownership = tm.ownership()
            elif len(replications) == 1:
                ownership = replicated_ownership(self.strategy(next(iter(user.values()))), tm)
            else:
                ownership = None
                note = ("Non-system keyspaces don't have the same replication settings, "
                        "effective ownership information is meaningless")
        local_load = await self._off_loop(self.local_load)
        nodes = []
        endpoints = set(tm.endpoints()) | set(tm.bootstrapping_endpoints())
        for ep in sorted(endpoints):
            dc, rack = self._location(ep)
            load = local_load if self._is_local(ep) else self._load(ep)
            nodes.append({"address": ep.address, "port": ep.port, "host_id": str(ep.host_id),
                          "dc": dc, "rack": rack, "up": self._alive(ep), "state": self._state(ep),
                          "load": load, "tokens": len(tm.tokens_of(ep)) or
                          len([t for t, e in tm.bootstrap_tokens().items() if e == ep]),
                          "owns": None if ownership is None else ownership.get(ep, 0.0)})
        return {"nodes": nodes, "note": note, "keyspace": keyspace}

    @command("ring")
    async def ring_cmd(self, keyspace: str | None = None) -> dict:
        status = await self.status(keyspace)
        tm = self.token_metadata()
        by_address = {(n["address"], n["port"]): n for n in status["nodes"]}
        tokens = []
        for token in tm.sorted_tokens():
            ep = tm.endpoint_for(token)
            tokens.append({"token": str(token), "address": ep.address, "port": ep.port})
        return {"tokens": tokens, "nodes": list(by_address.values()), "note": status["note"]}

    @command("info")
    async def info(self) -> dict:
        ring = self.ring
        local = self._local_endpoint()
        dc, rack = self._location(local)
        load = await self._off_loop(self.local_load)
        stats = await self._off_loop(self.engine.stats)
        kc = stats.get("key_cache") or {}
        server = getattr(self.node, "server", None)
        generation = (ring.gossiper.generation if ring is not None and ring.gossiper.endpoint_states
                      .get(ring.gossiper.local) is not None else int(self.started))
        try:
            import resource
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        except Exception:  # noqa: BLE001
            rss_mb = 0.0
        tokens = self.token_metadata().tokens_of(local)
        return {"id": str(local.host_id), "address": local.address,
                "gossip_active": bool(ring is not None and ring.gossiper.enabled)
                or (ring is None and self.mode == "NORMAL"),
                "native_active": server is not None and self.mode == "NORMAL",
                "load": load, "generation": generation,
                "uptime": int(time.time() - self.started), "rss_mb": rss_mb,
                "dc": dc, "rack": rack, "mode": self.mode,
                "key_cache": {"entries": kc.get("size", 0), "capacity": kc.get("capacity", 0),
                              "hits": kc.get("hits", 0),
                              "requests": kc.get("hits", 0) + kc.get("misses", 0),
                              "hit_rate": kc.get("hit_rate")},
                "chunk_cache": stats.get("chunk_cache") or {},
                "tables": len(stats.get("tables") or {}),
                "sstables": stats.get("sstable_count", 0),
                "tokens": [str(t) for t in tokens]}

    @command("describering")
    async def describering(self, keyspace: str) -> dict:
        ks = self.keyspace(keyspace)
        strategy = self.strategy(ks)
        tm = self.token_metadata()
        ranges = []
        if tm.sorted_tokens():
            for rng, replicas in strategy.replica_map(tm).ranges():
                ranges.append({"start": str(rng.start), "end": str(rng.end),
                               "endpoints": [e.address for e in replicas],
                               "rpc_endpoints": [self._native_host(e) for e in replicas],
                               "details": [[e.address, *self._location(e)] for e in replicas]})
        return {"schema_version": str(self.database.catalog.schema_version), "ranges": ranges}

    def _native_host(self, endpoint: Any) -> str:
        ring = self.ring
        if ring is None:
            return endpoint.address
        return ring._native_of(endpoint)[0]

    @command("getendpoints")
    async def getendpoints(self, keyspace: str, table: str, key: str) -> list[str]:
        from cqlpy.cluster.replication import replicas_for_key
        ks = self.keyspace(keyspace)
        t = ks.table(table)
        if t is None:
            raise AdminError(f"Table '{table}' does not exist in keyspace '{keyspace}'")
        key_bytes = partition_key_from_text(t, key)
        tm = self.token_metadata()
        if not tm.sorted_tokens():
            return []
        return [e.address for e in replicas_for_key(self.strategy(ks), key_bytes, tm)]

    @command("gossipinfo")
    async def gossipinfo(self) -> str:
        ring = self.ring
        if ring is not None:
            return ring.gossiper.gossip_info()
        local = self._local_endpoint()
        tokens = self.token_metadata().tokens_of(local)
        return "\n".join([f"/{local}", f"  generation:{int(self.started)}", "  heartbeat:0",
                          f"  STATUS:0:NORMAL,{tokens[0] if tokens else ''}",
                          "  DC:0:datacenter1", "  RACK:0:rack1",
                          f"  HOST_ID:0:{local.host_id}"]) + "\n"

    # --- operations -----------------------------------------------------------------------------------

    def _table_ids(self, keyspace: str | None, tables: tuple[str, ...]) -> list[bytes] | None:
        if keyspace is None:
            return None
        self.keyspace(keyspace)
        known = {name: tid for ks, name, tid in self.engine.tables() if ks == keyspace}
        if not tables:
            return list(known.values())
        out = []
        for name in tables:
            if name not in known:
                raise AdminError(f"Unknown table {keyspace}.{name}")
            out.append(known[name])
        return out

    @command("flush")
    async def flush(self, keyspace: str | None = None, *tables: str) -> None:
        self._check_serving()
        ids = self._table_ids(keyspace, tables)
        engine = self.engine
        if ids is None:
            await self._off_loop(engine.flush)
        else:
            for tid in ids:
                await self._off_loop(engine.flush, tid)

    @command("compact")
    async def compact(self, keyspace: str | None = None, *tables: str) -> None:
        self._check_serving()
        ids = self._table_ids(keyspace, tables)
        engine = self.engine
        if ids is None:
            await self._off_loop(engine.flush)
            await self._off_loop(engine.compact)
        else:
            for tid in ids:
                await self._off_loop(engine.flush, tid)
                await self._off_loop(engine.compact, tid)

    def _check_serving(self) -> None:
        if self.mode in ("DRAINED", "DECOMMISSIONED"):
            raise AdminError(f"The node is {self.mode.lower()}")

    @command("drain")
    async def drain(self) -> None:
        if self.mode == "DRAINED":
            return
        self._check_serving()
        if self.mode != "NORMAL":
            raise AdminError(f"Cannot drain: the node is {self.mode.lower()}")
        self.mode = "DRAINING"
        await self.node.stop_serving()
        await self._off_loop(self.engine.flush)
        self.mode = "DRAINED"
        log.info("DRAINED")

    @command("decommission")
    async def decommission(self) -> None:
        from cqlpy.cluster.endpoint_state import ApplicationState, VersionedValueFactory as VVF
        ring = self.ring
        if ring is None:
            raise AdminError("Cannot decommission a node that is not part of a ring "
                             "(started without --seeds): no other node would hold its data")
        self._check_serving()
        if self.mode != "NORMAL":
            raise AdminError(f"Cannot decommission: the node is {self.mode.lower()}")
        tm = ring.storage.token_metadata
        local = ring.storage.local
        others = [e for e in tm.endpoints() if not self._is_local(e)]
        if not others:
            raise AdminError("no other normal nodes in the ring; decommission would be pointless")
        if tm.leaving_endpoints() or tm.bootstrapping_endpoints():
            raise AdminError("Another node is joining or leaving; try again when the ring settles")
        for name, ks in self.user_keyspaces().items():
            strategy = self.strategy(ks)
            after = tm.clone_only_token_map()
            after.remove_endpoint(local)
            if strategy.is_datacenter_aware:
                dcs = after.datacenter_endpoints()
                for dc in after.known_datacenters() | {self._location(local)[0]}:
                    rf = strategy.rf_for_datacenter(dc)
                    if rf and len(dcs.get(dc, ())) < rf:
                        raise AdminError(f"Not enough live nodes to maintain replication factor in "
                                         f"keyspace {name} (RF = {rf}, N = {len(dcs.get(dc, ()))}). "
                                         "Perform a forceful decommission to ignore.")
            else:
                rf = strategy.replication_factor
                if len(after.endpoints()) < rf:
                    raise AdminError(f"Not enough live nodes to maintain replication factor in "
                                     f"keyspace {name} (RF = {rf}, N = {len(after.endpoints())}). "
                                     "Perform a forceful decommission to ignore.")
        dead = [e for e in others if not ring.gossiper.is_alive(e)]
        if dead:
            raise AdminError("Cannot decommission while nodes are DOWN: "
                             + ", ".join(str(e) for e in dead))
        self.mode = "LEAVING"
        log.info("DECOMMISSIONING: announcing LEAVING")
        try:
            ring.gossiper.add_local_application_state(ApplicationState.STATUS,
                                                      VVF.leaving(ring.storage.tokens))
            tm.add_leaving_endpoint(local)
            await asyncio.sleep(GOSSIP_SETTLE)          # peers start writing to the gaining nodes
            sent, _lost = await self._stream_movements(tm, exclude=None)
            log.info("DECOMMISSIONING: streamed %d partitions; announcing LEFT", sent)
        except BaseException:
            self.mode = "NORMAL"
            ring.gossiper.add_local_application_state(ApplicationState.STATUS,
                                                      VVF.normal(ring.storage.tokens))
            tm.update_normal_tokens(local, ring.storage.tokens, ring.storage.local_location)
            raise
        expire = int((time.time() + 3 * 24 * 3600) * 1000)
        ring.gossiper.add_local_application_state(ApplicationState.STATUS,
                                                  VVF.left(ring.storage.tokens, expire))
        await self._off_loop(_mark_decommissioned, self.database.path)
        await asyncio.sleep(GOSSIP_SETTLE)
        await self.node.stop_serving(announce=False)
        self.mode = "DECOMMISSIONED"
        log.info("DECOMMISSIONED")

    @command("removenode")
    async def removenode(self, arg: str) -> str | None:
        if arg == "status":
            if self._removal is None:
                return "RemovalStatus: No removals in process."
            r = self._removal
            return f"RemovalStatus: {r['state']} token removal for {r['host_id']}: {r['detail']}"
        if arg == "force":
            raise AdminError("removenode force is not supported: a removal runs to completion")
        ring = self.ring
        if ring is None:
            raise AdminError("removenode needs a ring: this node was started without --seeds")
        try:
            host_id = uuid.UUID(arg)
        except ValueError:
            raise AdminError(f"Invalid host ID {arg!r}") from None
        local = ring.storage.local
        if host_id == local.host_id:
            raise AdminError("Cannot remove self")
        tm = ring.storage.token_metadata
        target = tm.endpoint_by_host_id(host_id)
        if target is None:
            raise AdminError("Host ID not found.")
        if ring.gossiper.is_alive(target):
            raise AdminError(f"Node /{target} is alive and owns this ID. "
                             "Use decommission command to remove it from the ring")
        if tm.leaving_endpoints() or tm.bootstrapping_endpoints():
            raise AdminError("Another node is joining or leaving; try again when the ring settles")
        if self._removal is not None and self._removal["state"] == "In progress":
            raise AdminError("This node is already processing a removal. Wait for it to complete")
        self._removal = {"state": "In progress", "host_id": str(host_id), "detail": "streaming"}
        try:
            plan = tm.clone()
            plan.add_leaving_endpoint(target)
            sent, lost = await self._stream_movements(plan, exclude=target)
            self._removal["detail"] = f"streamed {sent} partitions; removing from the ring"
            self._advertise_removed(target)
            await asyncio.sleep(GOSSIP_SETTLE)
        except BaseException as exc:
            self._removal = {"state": "Failed", "host_id": str(host_id), "detail": str(exc)}
            raise
        detail = f"streamed {sent} partitions"
        if lost:
            detail += (f"; {lost} ranges had no other live replica (RF 1 or replicas down): "
                       "their data is lost")
        self._removal = {"state": "Completed", "host_id": str(host_id), "detail": detail}
        log.info("Removed %s (host id %s) from the ring: %s", target, host_id, detail)
        return None

    def _advertise_removed(self, endpoint: Any) -> None:
        """Gossip ``removed`` for a dead endpoint with a version above anything peers hold."""
        from cqlpy.cluster.endpoint_state import (
            ApplicationState, EndpointState, HeartBeatState, VersionedValue,
            VersionedValueFactory as VVF,
        )
        ring = self.ring
        g = ring.gossiper
        state = g.endpoint_state(endpoint)
        if state is None:
            state = EndpointState(HeartBeatState(0, 0))
            g.endpoint_states[endpoint] = state
        expire = int((time.time() + 3 * 24 * 3600) * 1000)
        version = max(2**31, state.max_version + 1, g.next_version())
        value = VersionedValue(VVF.removed_nonlocal(endpoint.host_id, expire), version)
        state.states[ApplicationState.STATUS] = value
        state.heartbeat.version = version
        g._notify("on_change", endpoint, ApplicationState.STATUS, value)

    # --- streaming (cqlpy/cluster/streaming.py) --------------------------------------------------------

    def _streamer(self) -> Any:
        from cqlpy.cluster.streaming import RangeStreamer
        ring = self.ring
        return RangeStreamer(ring.messaging, getattr(ring, "replica_engine", self.engine),
                             is_local=self._is_local,
                             is_alive=ring.gossiper.is_alive, error=AdminError,
                             timeout=STREAM_TIMEOUT, batch=STREAM_BATCH)

    async def _stream_movements(self, plan_tm: Any, exclude: Any) -> tuple[int, int]:
        """Stream every range that changes hands in ``plan_tm`` (pending leave) from a live holder
        to its new replica; returns (partitions sent, ranges no live replica holds)."""
        keyspaces = [(name, self.strategy(ks)) for name, ks in self.replicated_keyspaces().items()]
        return await self._streamer().stream_movements(keyspaces, plan_tm, exclude=exclude)


def partition_key_from_text(table: Any, text: str) -> bytes:
    """nodetool's key argument -> partition key bytes (``a:b`` for a composite key, as
    Cassandra's ``getendpoints`` splits it)."""
    from cqlpy.schema.keycodec import encode_partition_key
    columns = table.partition_key
    pieces = [text] if len(columns) == 1 else text.split(":")
    if len(pieces) != len(columns):
        raise AdminError(f"the partition key of {table.name} has {len(columns)} components; "
                         "give them separated by ':'")
    values = []
    for col, piece in zip(columns, pieces):
        try:
            values.append(value_from_text(col.type, piece))
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise AdminError(f"cannot read {piece!r} as {col.type}: {exc}") from None
    try:
        return encode_partition_key([c.type for c in columns], values)
    except Exception as exc:  # noqa: BLE001
        raise AdminError(f"invalid key {text!r}: {exc}") from None


def value_from_text(t: Any, text: str) -> Any:
    """A CQL value from its string form (Cassandra's AbstractType.fromString, for key types)."""
    import datetime
    import decimal
    import ipaddress
    name = getattr(t, "name", None) or str(t)
    if name in ("text", "varchar", "ascii"):
        return text
    if name in ("int", "bigint", "smallint", "tinyint", "varint", "counter"):
        return int(text)
    if name in ("float", "double"):
        return float(text)
    if name == "decimal":
        return decimal.Decimal(text)
    if name == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError("expected true or false")
        return text.lower() == "true"
    if name in ("uuid", "timeuuid"):
        return uuid.UUID(text)
    if name == "blob":
        return bytes.fromhex(text[2:] if text.lower().startswith("0x") else text)
    if name == "inet":
        return ipaddress.ip_address(text)
    if name == "timestamp":
        try:
            return datetime.datetime.fromtimestamp(int(text) / 1000, datetime.timezone.utc)
        except ValueError:
            return datetime.datetime.fromisoformat(text)
    if name == "date":
        return datetime.date.fromisoformat(text)
    raise ValueError(f"keys of type {name} cannot be given as text here")


def check_not_decommissioned(data_dir: str) -> None:
    """A decommissioned node's data folder must not rejoin the ring (its ranges moved away)."""
    if os.path.exists(os.path.join(data_dir, DECOMMISSIONED_FILE)):
        from cqlpy.errors import ConfigurationException
        raise ConfigurationException(
            f"This node was decommissioned and will not rejoin the ring ({data_dir}/"
            f"{DECOMMISSIONED_FILE}); start it with an empty data folder to join afresh")


def _mark_decommissioned(data_dir: str) -> None:
    path = os.path.join(data_dir, DECOMMISSIONED_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"decommissioned at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        f.flush()
        os.fsync(f.fileno())
