"""RingEngine: the engine's apply/read/scan shape over the ring, so the session runs plans unchanged.

The session's executors call ``engine.apply(updates)``, ``engine.read(table_id, key, slices, ...)``
and ``engine.scan(table_id, start, inclusive, end, ...)`` on whatever ``ctx.engine`` is.  A node of a
ring gives them this object instead of its local Engine:

    apply   updates of tables in replicated keyspaces -> StorageProxy.write at the statement's
            consistency level (one coordinated write per keyspace; a LOGGED batch over more than
            one partition goes through the batchlog, cluster/batchlog.py); updates of node-local tables
            (system, system_schema) -> the local engine.  Secondary indexes are local to each
            replica, which maintains them when it applies (cqlpy/node_indexes.py): the session
            sends no index updates for a replicated table
    read    replicated table -> StorageProxy.read at the statement's level (digests, blocking read
            repair); at SERIAL / LOCAL_SERIAL a Paxos read (paxos.py); a tombstone-keeping read
            (index maintenance) stays local
    cas     a conditional write (session/lwt.py) -> a Paxos round across the replicas at the
            request's serial consistency, committed at its consistency level (paxos.py)
    scan    replicated table -> first Cassandra's availability check (every token range the read
            covers needs enough live replicas for the statement's level, else Unavailable;
            SERIAL refused), then "local plus merge": RANGE_REQ to every live node, the answers
            merged per partition (last write wins) and returned in token order.  No repair: a
            range read sees what the live nodes hold (like CL ALL over the live nodes)
    truncate  the local table, then TRUNCATE_REQ to every live node (waited for)
    other   (flush, compact, tables, stats, ...) the local engine

The calls come from the protocol server's worker threads; coordination runs on the event loop
(messaging, gossip and StorageProxy are loop-bound), so each call hands its work to the loop and
waits.  Calling from the loop thread itself would deadlock and raises instead.
"""
from __future__ import annotations

import concurrent.futures
import logging
import threading
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from cqlpy.engine import murmur3
from cqlpy.engine.read_merge import resolve
from cqlpy.engine.rows import FULL_SLICE, PartitionUpdate, Slice
from cqlpy.engine.serialization import decode_update
from cqlpy.errors import InvalidRequest, ReadTimeout, Unavailable
from cqlpy.schema.system_tables import LOCAL_SYSTEM_KEYSPACES

from .consistency import ConsistencyLevel, assure_sufficient_live_replicas, validate_for_read
from .coordinator import Pending, UpdateSource, encode_partition, to_update
from .messaging import Message, RequestFailureReason, Verb
from .paxos import run_blocking
from .replication import EverywhereStrategy

log = logging.getLogger(__name__)

RANGE_TIMEOUT = 10.0                 # range_request_timeout
TRUNCATE_TIMEOUT = 60.0
LOCAL_STRATEGIES = ("LocalStrategy",)


class RingEngine:
    """Routes the session's engine calls through the coordinator (see the module docstring)."""

    def __init__(self, local: Any, catalog: Any, proxy: Callable[[], Any], loop: Any, *,
                 consistency: Callable[[], Any] = lambda: None,
                 serial_consistency: Callable[[], Any] = lambda: None,
                 batch_type: Callable[[], str | None] = lambda: None,
                 default_consistency: ConsistencyLevel = ConsistencyLevel.ONE) -> None:
        """``consistency``, ``serial_consistency`` and ``batch_type`` tell what the statement being
        run asked for (the protocol request's levels, LOGGED/UNLOGGED/COUNTER or None)."""
        self.local = local
        self.catalog = catalog
        self._proxy = proxy                    # a function: the proxy exists once the ring started
        self.loop = loop
        self._consistency = consistency
        self._serial_consistency = serial_consistency
        self._batch_type = batch_type
        self.default_consistency = default_consistency
        self._loop_thread: int | None = None
        loop.call_soon_threadsafe(self._note_loop_thread)

    def _note_loop_thread(self) -> None:
        self._loop_thread = threading.get_ident()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local, name)

    # --- routing ------------------------------------------------------------------------------------

    def replication(self, table_id: bytes) -> Mapping[str, Any] | None:
        """The keyspace replication of a ring-replicated table; None for a node-local one."""
        table = self.catalog.table_by_id(table_id)
        if table is None or table.keyspace in LOCAL_SYSTEM_KEYSPACES:
            return None
        ks = self.catalog.get_keyspace(table.keyspace)
        if ks is None:
            return None
        cls = str(ks.replication.get("class", "")).rsplit(".", 1)[-1]
        return None if cls in LOCAL_STRATEGIES else ks.replication

    def consistency(self) -> ConsistencyLevel:
        level = self._consistency()
        return self.default_consistency if level is None else ConsistencyLevel.of(level)

    def proxy(self) -> Any:
        proxy = self._proxy()
        if proxy is None:
            raise Unavailable("This node has not joined the ring yet", consistency="ONE",
                              required=1, alive=0)
        return proxy

    def _call(self, start: Callable[[], Pending], timeout: float) -> Any:
        """Run ``start()`` on the loop, wait for the Pending it returns, give its result."""
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("RingEngine called on the event loop thread (use --workers >= 1)")
        future: concurrent.futures.Future = concurrent.futures.Future()

        def done(p: Pending) -> None:
            error = p.exception()
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(p.result())

        def kick() -> None:
            try:
                start().add_done_callback(done)
            except BaseException as exc:  # noqa: BLE001 - Unavailable and friends, raised early
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(kick)
        return future.result(timeout + 5.0)    # the coordinator times out first

    # --- the engine interface -----------------------------------------------------------------------

    def apply(self, updates: Sequence[PartitionUpdate]) -> None:
        local: list[PartitionUpdate] = []
        routed: dict[int, tuple[Mapping[str, Any], list[PartitionUpdate]]] = {}
        for u in updates:
            replication = self.replication(u.table_id)
            if replication is None:
                local.append(u)
            else:
                routed.setdefault(id(replication), (replication, []))[1].append(u)
        if local:
            self.local.apply(local)
        if not routed:
            return
        proxy, cl = self.proxy(), self.consistency()
        batchlog = getattr(proxy, "batchlog", None)
        if (batchlog is not None and self._batch_type() == "LOGGED"
                and len({(rid, u.key) for rid, (_r, g) in routed.items() for u in g}) > 1):
            groups = [(group, replication) for replication, group in routed.values()]
            self._call(lambda: batchlog.write_async(groups, cl), 2 * proxy.write_timeout)
            return
        for replication, group in routed.values():
            self._call(lambda: proxy.write_async(group, replication, cl), proxy.write_timeout)

    def read(self, table_id: bytes, key: bytes, slices: Sequence[Slice] = (FULL_SLICE,), *,
             reversed: bool = False, limit: int | None = None, now: int | None = None,
             tombstones: bool = False, **options: Any) -> Any:
        replication = self.replication(table_id)
        if replication is None or tombstones:
            return self.local.read(table_id, key, slices, reversed=reversed, limit=limit, now=now,
                                   tombstones=tombstones, **options)
        proxy, cl = self.proxy(), self.consistency()
        if cl.is_serial and proxy.paxos is not None:     # a Paxos read (cqlpy/cluster/paxos.py)
            return run_blocking(proxy.paxos.serial_read(table_id, key, replication, tuple(slices),
                                                        serial=cl, reversed=reversed, limit=limit,
                                                        now=now), self._paxos_step(proxy))
        if cl.is_serial:
            cl = ConsistencyLevel.QUORUM if cl is ConsistencyLevel.SERIAL else ConsistencyLevel.LOCAL_QUORUM
        return self._call(lambda: proxy.read_async(table_id, key, tuple(slices), cl, replication,
                                                   reversed=reversed, limit=limit, now=now),
                          proxy.read_timeout)

    def cas(self, table_id: bytes, key: bytes, evaluate: Callable[[Any, int], Any], *,
            now: int | None = None) -> Any:
        """A conditional write (session/lwt.py): a Paxos round across the replicas at the
        request's serial consistency, committed at its consistency level."""
        proxy = self.proxy()
        if proxy.paxos is None:
            raise Unavailable("Paxos is not running on this node", consistency="SERIAL",
                              required=1, alive=0)
        round = proxy.paxos.cas(table_id, key, self.replication(table_id), evaluate,
                                serial=self._serial_consistency(), commit=self.consistency(),
                                now=now)
        return run_blocking(round, self._paxos_step(proxy))

    def _paxos_step(self, proxy: Any) -> Callable[[Callable[[], Pending]], Any]:
        timeout = max(proxy.write_timeout, proxy.read_timeout)
        return lambda step: self._call(step, timeout)

    def scan(self, table_id: bytes, start: tuple[int, bytes] | None = None,
             start_inclusive: bool = True, end_token: int | None = None, *,
             now: int | None = None, tombstones: bool = False) -> Iterator[Any]:
        if self.replication(table_id) is None:
            return self.local.scan(table_id, start, start_inclusive, end_token, now=now,
                                   tombstones=tombstones)
        if not tombstones and self.consistency().is_serial:
            raise InvalidRequest("SERIAL/LOCAL_SERIAL consistency may only be requested for one "
                                 "partition at a time")
        proxy = self.proxy()
        if not tombstones:
            self.assure_range_available(table_id, None if start is None else start[0], end_token)
        now = int(proxy.clock()) if now is None else now
        request = {"table": table_id, "start": None if start is None else [start[0], start[1]],
                   "inclusive": start_inclusive, "end": end_token}
        answers = self._call(lambda: ask_live_nodes(proxy, Verb.RANGE_REQ, request, RANGE_TIMEOUT),
                             RANGE_TIMEOUT)
        return _live_partitions(merge_partitions(answers), now, tombstones)

    def assure_range_available(self, table_id: bytes, start_token: int | None = None,
                               end_token: int | None = None) -> None:
        """Cassandra's range-read check: every token range the read covers (from ``start_token``
        to ``end_token``, inclusive; None: the ring's ends) must have enough live replicas for
        the request's level, else Unavailable before anything is read."""
        replication = self.replication(table_id)
        if replication is None:
            return
        proxy, cl = self.proxy(), validate_for_read(self.consistency())
        if cl.is_serial:
            raise InvalidRequest("SERIAL/LOCAL_SERIAL consistency may only be requested for one "
                                 "partition at a time")
        strategy = proxy.strategy(replication)
        tm = proxy.token_metadata
        ring_size = len(tm.endpoints()) if isinstance(strategy, EverywhereStrategy) else None
        low = murmur3.MIN_TOKEN if start_token is None else start_token
        high = murmur3.MAX_TOKEN if end_token is None else end_token
        for token_range, replicas in strategy.replica_map(tm).ranges():
            left, right = token_range.start, token_range.end
            if left < right:
                covered = right >= low and left < high
            else:                                   # the range that wraps around the ring
                covered = left < high or right >= low
            if covered:
                live = [e for e in replicas if proxy.is_alive(e)]
                assure_sufficient_live_replicas(cl, strategy, live, proxy.local_dc, tm.location,
                                                ring_size)

    def truncate(self, table_id: bytes) -> None:
        if self.replication(table_id) is None:
            self.local.truncate(table_id)
            return
        proxy = self.proxy()
        self._call(lambda: ask_live_nodes(proxy, Verb.TRUNCATE_REQ, {"table": table_id},
                                          TRUNCATE_TIMEOUT), TRUNCATE_TIMEOUT)


def merge_partitions(answers: Iterable[Mapping[str, Any]]) -> dict[bytes, PartitionUpdate]:
    """The encoded partitions of several nodes' answers (``"partitions"``, None entries skipped),
    merged per key cell by cell (the newest wins), as one read of all of them."""
    merged: dict[bytes, PartitionUpdate] = {}
    for answer in answers:
        for encoded in answer.get("partitions") or ():
            if encoded is None:
                continue
            update = decode_update(encoded)
            mine = merged.get(update.key)
            if mine is None:
                merged[update.key] = update
            else:
                mine.merge(update)
    return merged


def _live_partitions(merged: Mapping[bytes, PartitionUpdate], now: int,
                     tombstones: bool) -> Iterator[Any]:
    for key in sorted(merged, key=lambda k: (murmur3.token(k), k)):
        partition = resolve([UpdateSource(merged[key])], (FULL_SLICE,), now=now,
                            tombstones=tombstones)
        if partition is not None:
            yield partition


def ask_live_nodes(proxy: Any, verb: Verb, payload: Any, timeout: float) -> Pending:
    """Send ``verb`` to every live member of the ring (the local node too, through messaging's
    loopback); the Pending gives every answer's payload, or fails when one fails or times out."""
    out = Pending()
    members = proxy.token_metadata.endpoints()
    targets = sorted({e for e in members if proxy.is_alive(e)} | {proxy.local})
    answers: list[Any] = []
    left = [len(targets)]

    def answered(message: Message) -> None:
        answers.append(message.payload)
        left[0] -= 1
        if left[0] == 0:
            out.set_result(answers)

    def failed(endpoint: Any, reason: RequestFailureReason, detail: str) -> None:
        if reason is RequestFailureReason.TIMEOUT:
            out.set_exception(ReadTimeout(f"{verb.name} to {endpoint} timed out", consistency="ALL",
                                          received=len(answers), block_for=len(targets),
                                          data_present=False))
        else:
            out.set_exception(Unavailable(f"{verb.name} failed on {endpoint}: {detail}",
                                          consistency="ALL", required=len(targets),
                                          alive=len(targets) - 1))

    for endpoint in targets:
        proxy.messaging.send_with_callback(endpoint, verb, payload, answered, failed, timeout=timeout)
    return out


def range_answer(engine: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The replica side of RANGE_REQ: this node's partitions in the range, tombstones kept.

    A page when the request has ``"limit"`` (partitions) and/or ``"max_bytes"`` (encoded size):
    the answer stops once either is reached and says where with ``"next": [token, key]`` (the
    last partition sent; ask again from there with ``"inclusive": False``); no ``"next"`` means
    the range is exhausted.  Streaming pages this way (cluster/streaming.py)."""
    table_id = payload["table"]
    start = payload.get("start")
    start = None if start is None else (int(start[0]), bytes(start[1]))
    partitions = engine.scan(table_id, start, bool(payload.get("inclusive", True)),
                             payload.get("end"), tombstones=True)
    limit, max_bytes = payload.get("limit"), payload.get("max_bytes")
    if limit is None and max_bytes is None:
        return {"partitions": [encode_partition(to_update(table_id, p)) for p in partitions]}
    out: list[bytes | None] = []
    size = 0
    for p in partitions:
        encoded = encode_partition(to_update(table_id, p))
        out.append(encoded)
        size += len(encoded or b"")
        if (limit is not None and len(out) >= int(limit)) or (max_bytes is not None
                                                              and size >= int(max_bytes)):
            return {"partitions": out, "next": [murmur3.token(p.key), p.key]}
    return {"partitions": out}
