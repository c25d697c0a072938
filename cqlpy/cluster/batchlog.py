"""Batchlog (Cassandra's BatchlogManager): a LOGGED batch over several partitions is applied whole.

Coordinator side (``write_async``, Cassandra's ``StorageProxy.mutateAtomically``):

    1. every partition of the batch is checked for availability at the statement's level, so
       Unavailable comes before anything is sent;
    2. batchlog endpoints (``batchlog_endpoints``, Cassandra's ``filterBatchlogEndpoints``): in a
       one-node datacenter the node itself; otherwise the live nodes of the local datacenter other
       than the coordinator: all of them when at most two, else two, from two racks when other
       racks have them, chosen at random.  None at all -> Unavailable(ONE, required 1, alive 0),
       except at level ANY, where the coordinator keeps the batch itself;
    3. BATCH_STORE_REQ ``{"id": timeuuid, "mutations": [encode_update bytes, ...]}`` to each
       endpoint, waited for (WriteTimeout with write_type BATCH_LOG at level ONE or TWO);
    4. the mutations, at the statement's level, write_type BATCH (hints as for any write);
    5. once every partition reached the level, BATCH_REMOVE_REQ ``{"id"}`` to each endpoint,
       one-way (not waited for).  A batch whose write failed stays in the log: replay finishes it.

Replica side (``store`` / ``remove``): a batch is one row of the node-local table
``system.batches`` (id timeuuid PRIMARY KEY, mutations list<blob>, version int), as in
Cassandra, so it is durable through the commit log; ``version`` is MUTATION_VERSION (the
encoding of cqlpy.engine.serialization.encode_update).  Removal is a partition tombstone.

Replay (``replay``; every ``replay_interval`` seconds, 10 s as Cassandra's
``batchlog_replay_interval``; 0 turns the timer off and tests call ``replay()``): every stored
batch older than ``replay_after`` (2 x write timeout, from the time in its timeuuid) is written
again: each mutation at ONE (at ANY when no replica of it is alive, which stores hints only),
with hints for replicas that are down or do not answer; then the batch is deleted.  Mutations of
tables that no longer exist are skipped.  Replaying twice is harmless: mutations keep their
original timestamps.  Nothing is pickled.
"""
from __future__ import annotations

import logging
import random
import threading
import uuid
from typing import Any, Callable, Mapping, Sequence

from cqlpy.engine import murmur3
from cqlpy.engine.rows import PartitionUpdate
from cqlpy.engine.serialization import decode_update, encode_update
from cqlpy.errors import Unavailable, WriteFailure, WriteTimeout

from .consistency import ConsistencyLevel, assure_sufficient_live_replicas, validate_for_write
from .coordinator import Pending, all_of
from .endpoints import Endpoint
from .messaging import Message, RequestFailureReason, Verb

log = logging.getLogger(__name__)

CL = ConsistencyLevel
REPLAY_INTERVAL = 10.0              # batchlog_replay_interval
MUTATION_VERSION = 1                # system.batches.version: the encode_update format
UUID_EPOCH_OFFSET = 0x01B21DD213814000     # 100-ns intervals from 1582-10-15 to 1970-01-01
Groups = Sequence[tuple[Sequence[PartitionUpdate], Any]]    # (updates, keyspace replication)


def batches_table() -> Any:
    from cqlpy.schema.system_tables import system_table
    return system_table("system", "batches")


class _TimeUUIDs:
    """Version-1 uuids from a clock, strictly increasing in this process (batch ids)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._tail = random.getrandbits(14) << 48 | random.getrandbits(48) | 1 << 40

    def at(self, micros: int) -> uuid.UUID:
        ticks = micros * 10 + UUID_EPOCH_OFFSET
        with self._lock:
            ticks = max(ticks, self._last + 1)
            self._last = ticks
        seq, node = (self._tail >> 48) & 0x3FFF, self._tail & 0xFFFFFFFFFFFF
        return uuid.UUID(fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF,
                                 ((ticks >> 48) & 0x0FFF) | 0x1000, 0x80 | (seq >> 8), seq & 0xFF,
                                 node))


_IDS = _TimeUUIDs()


def created_micros(batch_id: uuid.UUID) -> int:
    """The µs since the epoch in a batch's timeuuid."""
    return (batch_id.time - UUID_EPOCH_OFFSET) // 10


class BatchlogManager:
    """One node's batchlog: coordinator writes, the stored batches, and their replay.

    ``replication_of(table_id)`` gives a table's keyspace replication (None for a table that no
    longer exists or is node-local); it is how replay finds a mutation's replicas.  ``codec`` is
    the row codec of system.batches (insert / delete_partition / decode_partition: the session's
    RowCodec, handed in by the node because the cluster layer may not import the session)."""

    def __init__(self, proxy: Any, engine: Any, *, codec: Any,
                 replication_of: Callable[[bytes], Mapping[str, Any] | Any | None],
                 replay_interval: float = REPLAY_INTERVAL, replay_after: float | None = None,
                 rng: random.Random | None = None) -> None:
        self.proxy = proxy
        self.engine = engine
        self.messaging = proxy.messaging
        self.timer = proxy.timer
        self.replication_of = replication_of
        self.replay_interval = replay_interval
        self.replay_after = 2 * proxy.write_timeout if replay_after is None else replay_after
        self.rng = rng or random.Random()
        self.table = batches_table()
        self.table_id = self.table.id.bytes
        self.codec = codec
        if all(tid != self.table_id for _k, _n, tid in engine.tables()):
            engine.create_table("system", "batches", self.table_id)
        self._replaying: set[uuid.UUID] = set()
        self._timer: Any = None
        self.closed = False
        self.stats = {"logged": 0, "stored": 0, "removed": 0, "replayed": 0}
        proxy.batchlog = self
        for verb in (Verb.BATCH_STORE_REQ, Verb.BATCH_REMOVE_REQ):
            self.messaging.register_handler(verb, self.handle)

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin the periodic replay (nothing when ``replay_interval`` is 0)."""
        if self._timer is None and self.replay_interval > 0 and not self.closed:
            self._timer = self.timer.call_later(self.replay_interval, self._periodic)

    def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _periodic(self) -> None:
        self._timer = None
        if self.closed:
            return
        try:
            self.replay()
        except Exception:  # noqa: BLE001 - the next round tries again
            log.exception("batchlog replay failed")
        self.start()

    # --- the stored batches (replica side) ------------------------------------------------------------

    def _micros(self) -> int:
        return int(self.proxy.clock() * 1_000_000)

    def store(self, batch_id: uuid.UUID, mutations: Sequence[bytes]) -> None:
        """Keep a batch in system.batches (durable with the commit log)."""
        ts = created_micros(batch_id)
        update = self.codec.insert({"id": batch_id, "mutations": [bytes(m) for m in mutations],
                                    "version": MUTATION_VERSION},
                                   timestamp=ts, now=ts // 1_000_000)
        self.engine.apply([update])
        self.stats["stored"] += 1

    def remove(self, batch_id: uuid.UUID) -> None:
        ts = max(self._micros(), created_micros(batch_id))
        self.engine.apply([self.codec.delete_partition([batch_id], timestamp=ts,
                                                       now=ts // 1_000_000)])
        self.stats["removed"] += 1

    def stored(self) -> list[tuple[uuid.UUID, list[bytes]]]:
        """Every batch this node holds: (id, encoded mutations), oldest first."""
        out = []
        for partition in self.engine.scan(self.table_id, now=self._micros() // 1_000_000):
            for row in self.codec.decode_partition(partition):
                if row.get("version") != MUTATION_VERSION:
                    log.warning("batch %s has mutation version %s; skipped", row.get("id"),
                                row.get("version"))
                    continue
                out.append((row["id"], list(row.get("mutations") or ())))
        out.sort(key=lambda item: created_micros(item[0]))
        return out

    def handle(self, message: Message) -> None:
        """BATCH_STORE_REQ and BATCH_REMOVE_REQ."""
        payload = message.payload
        batch_id = payload["id"]
        if not isinstance(batch_id, uuid.UUID) or batch_id.version != 1:
            raise ValueError("a batch id must be a timeuuid")
        if message.verb is Verb.BATCH_STORE_REQ:
            self.store(batch_id, [bytes(m) for m in payload["mutations"]])
        else:
            self.remove(batch_id)
        if message.expects_response:
            self.messaging.respond(message)

    # --- coordinator side -----------------------------------------------------------------------------

    def batchlog_endpoints(self, any_level: bool = False) -> list[Endpoint]:
        """Where a batch is logged (see the module docstring); Unavailable when nowhere."""
        proxy = self.proxy
        local = proxy.local
        tm = proxy.token_metadata
        local_loc = proxy.storage_service.local_location
        members = set(tm.datacenter_endpoints().get(local_loc.datacenter, ())) | {local}
        if len(members) == 1:
            return [local]
        by_rack: dict[str, list[Endpoint]] = {}
        for e in sorted(members):
            if e != local and proxy.is_alive(e):
                by_rack.setdefault(tm.location(e).rack, []).append(e)
        count = sum(len(v) for v in by_rack.values())
        if count <= 2:
            chosen = [e for rack in sorted(by_rack) for e in by_rack[rack]]
        else:
            if count - len(by_rack.get(local_loc.rack, ())) >= 2:
                by_rack.pop(local_loc.rack, None)          # enough endpoints in other racks
            if len(by_rack) == 1:
                only = list(next(iter(by_rack.values())))
                self.rng.shuffle(only)
                chosen = only[:2]
            else:
                racks = sorted(by_rack)
                if len(racks) > 2:
                    self.rng.shuffle(racks)
                chosen = [self.rng.choice(by_rack[r]) for r in racks[:2]]
        if not chosen and any_level:
            chosen = [local]
        if not chosen:
            proxy.stats["unavailables"] += 1
            raise Unavailable(consistency="ONE", required=1, alive=0)
        return chosen

    def _check_available(self, updates: Sequence[PartitionUpdate], replication: Any,
                         cl: ConsistencyLevel) -> None:
        proxy = self.proxy
        strategy = proxy.strategy(replication)
        tm = proxy.token_metadata
        ring_size = proxy._ring_size(strategy)
        for key in dict.fromkeys(u.key for u in updates):
            token = murmur3.token(key)
            natural = proxy.natural_replicas(strategy, token)
            pending = tuple(e for e in proxy.pending_replicas(strategy, token) if e not in natural)
            live = [e for e in natural + pending if proxy.is_alive(e)]
            try:
                assure_sufficient_live_replicas(cl, strategy, live, proxy.local_dc, tm.location,
                                                ring_size, pending)
            except Unavailable:
                proxy.stats["unavailables"] += 1
                raise

    def write_async(self, groups: Groups, cl: ConsistencyLevel | int | str) -> Pending:
        """A LOGGED batch (``groups``: each keyspace's updates with its replication) at ``cl``.
        Unavailable is raised here, before anything is sent."""
        cl = validate_for_write(cl)
        groups = [(list(updates), replication) for updates, replication in groups if updates]
        for updates, replication in groups:
            self._check_available(updates, replication, cl)
        endpoints = self.batchlog_endpoints(any_level=cl is CL.ANY)
        batch_id = _IDS.at(self._micros())
        mutations = [encode_update(u) for updates, _r in groups for u in updates]
        self.stats["logged"] += 1
        out = Pending()

        def stored(p: Pending) -> None:
            if p.exception() is not None:
                out.set_exception(p.exception())
                return
            try:
                writes = [self.proxy.write_async(updates, replication, cl, write_type="BATCH")
                          for updates, replication in groups]
            except Exception as exc:  # noqa: BLE001 - a replica died meanwhile: replay finishes
                out.set_exception(exc)
                return
            all_of(writes).add_done_callback(written)

        def written(p: Pending) -> None:
            if p.exception() is not None:
                out.set_exception(p.exception())      # the batch stays logged: replay applies it
                return
            self._remove_everywhere(batch_id, endpoints)
            out.set_result(None)

        self._store_everywhere(batch_id, mutations, endpoints).add_done_callback(stored)
        return out

    def _store_everywhere(self, batch_id: uuid.UUID, mutations: list[bytes],
                          endpoints: Sequence[Endpoint]) -> Pending:
        proxy = self.proxy
        out = Pending()
        level = "ONE" if len(endpoints) == 1 else "TWO"
        waiting = set(endpoints)

        def acked(endpoint: Endpoint) -> None:
            waiting.discard(endpoint)
            if not waiting and not out.done:
                timer.cancel()
                out.set_result(None)

        def failed(endpoint: Endpoint, reason: RequestFailureReason, detail: str) -> None:
            if reason is RequestFailureReason.TIMEOUT or out.done:
                return                                # the timer answers for timeouts
            timer.cancel()
            out.set_exception(WriteFailure(f"Operation failed - batchlog write to {endpoint}: "
                                           f"{detail}", consistency=level,
                                           received=len(endpoints) - len(waiting),
                                           block_for=len(endpoints), failures=1,
                                           write_type="BATCH_LOG"))

        def timed_out() -> None:
            if not out.done:
                proxy.stats["write_timeouts"] += 1
                out.set_exception(WriteTimeout(consistency=level,
                                               received=len(endpoints) - len(waiting),
                                               block_for=len(endpoints), write_type="BATCH_LOG"))

        timer = proxy.timer.call_later(proxy.write_timeout, timed_out)
        payload = {"id": batch_id, "mutations": mutations}
        for endpoint in endpoints:
            if endpoint != proxy.local:
                self.messaging.send_with_callback(
                    endpoint, Verb.BATCH_STORE_REQ, payload, lambda m, e=endpoint: acked(e),
                    failed, timeout=proxy.write_timeout)
        if proxy.local in endpoints:
            try:
                self.store(batch_id, mutations)
            except Exception as exc:  # noqa: BLE001
                failed(proxy.local, RequestFailureReason.UNKNOWN, str(exc))
            else:
                acked(proxy.local)
        return out

    def _remove_everywhere(self, batch_id: uuid.UUID, endpoints: Sequence[Endpoint]) -> None:
        for endpoint in endpoints:
            if endpoint == self.proxy.local:
                try:
                    self.remove(batch_id)
                except Exception:  # noqa: BLE001 - replay will find it and finish it again
                    log.exception("cannot remove batch %s", batch_id)
            else:
                self.messaging.send(endpoint, Verb.BATCH_REMOVE_REQ, {"id": batch_id})

    # --- replay ---------------------------------------------------------------------------------------

    def replay(self) -> int:
        """Replay every stored batch older than ``replay_after``; returns how many were started."""
        if self.closed:
            return 0
        cutoff = self._micros() - int(self.replay_after * 1_000_000)
        started = 0
        for batch_id, mutations in self.stored():
            if batch_id in self._replaying or created_micros(batch_id) > cutoff:
                continue
            self._replaying.add(batch_id)
            started += 1
            try:
                self._replay_one(batch_id, mutations)
            except Exception:  # noqa: BLE001
                self._replaying.discard(batch_id)
                log.exception("cannot replay batch %s", batch_id)
        return started

    def _replay_one(self, batch_id: uuid.UUID, mutations: list[bytes]) -> None:
        groups: dict[int, tuple[Any, list[PartitionUpdate]]] = {}
        for blob in mutations:
            update = decode_update(blob)
            replication = self.replication_of(update.table_id)
            if replication is None:
                continue                              # the table was dropped meanwhile
            groups.setdefault(id(replication), (replication, []))[1].append(update)
        writes = []
        for replication, updates in groups.values():
            try:
                writes.append(self.proxy.write_async(updates, replication, CL.ONE,
                                                     write_type="BATCH"))
            except Unavailable:                       # no replica alive: hints for all of them
                writes.append(self.proxy.write_async(updates, replication, CL.ANY,
                                                     write_type="BATCH"))

        def done(p: Pending) -> None:
            self._replaying.discard(batch_id)
            error = p.exception()
            if error is not None and not isinstance(error, WriteTimeout):
                log.warning("batch %s replay failed (%s); kept for the next round", batch_id, error)
                return
            self.stats["replayed"] += 1
            try:
                self.remove(batch_id)
            except Exception:  # noqa: BLE001
                log.exception("cannot remove replayed batch %s", batch_id)

        all_of(writes).add_done_callback(done)
