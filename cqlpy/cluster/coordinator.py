"""StorageProxy: any node coordinates reads and writes across the replicas of a partition.

Writes (Cassandra's ``StorageProxy.mutate`` + ``WriteResponseHandler``, notes A12/A14):

    1. per partition key: natural replicas (replication strategy on the ring) + pending ones (ranges
       moving to a joiner); if fewer are alive (gossip's view) than the consistency level needs,
       raise ``Unavailable`` before anything is sent;
    2. MUTATION_REQ (payload ``{"updates": [encode_update bytes, ...]}``) to every live replica,
       applied inline when the coordinator is one; a hint for every dead one (hints.py);
    3. succeed after ``block_for`` acknowledgements (only local-DC ones for LOCAL_*, a quorum in every
       DC for EACH_QUORUM; for ANY a stored hint counts); after ``write_timeout`` (2 s) raise
       ``WriteTimeout(consistency, received, block_for, write_type)``; replicas that did not answer
       in time get a hint.  Replica errors that make the level unreachable raise ``WriteFailure``.

Reads (``AbstractReadExecutor`` + ``DigestResolver`` + ``DataResolver`` + ``BlockingReadRepair``):

    1. ``replicas_for_read`` picks the live replicas closest first (Unavailable if too few);
    2. one full data read (the closest) and digest reads from the others; each replica reads its
       engine with tombstones, and the digest is md5 of the canonical encoding (below);
    3. with ``block_for`` answers including the data, equal digests answer the query;
    4. on a mismatch, full data from every contacted replica (``block_for`` of them needed), merged
       cell by cell (``PartitionUpdate.merge``: last write wins), the merged partition written back
       to every stale responder (READ_REPAIR_REQ) and *waited for* (blocking read repair, so QUORUM
       reads are monotonic) before answering;
    5. ``ReadTimeout(consistency, received, block_for, data_present)`` after ``read_timeout`` (5 s),
       or when the repair writes are not acknowledged within ``write_timeout``; ``ReadFailure``
       when replicas answer with errors and too few are left to reach the level.

Replicas read whole slices without LIMIT (the coordinator applies LIMIT after merging, so there are
no short reads).  Speculative retry (``speculative_retry`` seconds, off by default): when the
level is not reached by then, one more live replica is asked (for the data itself if the data
replica has not answered), so a replica that died before the failure detector noticed costs a
short delay instead of a ReadTimeout.

Canonical partition encoding (what a digest hashes and what a data response carries): the engine's
tombstone-keeping read (shadowed data stripped), as a PartitionUpdate with rows in clustering order,
columns sorted by name, collection cells by path, range tombstones de-duplicated and sorted, then
``serialization.encode_update``.  An absent partition is ``None`` and digests as md5 of b"".

Blocking calls (``write``/``read``) run the node's timer until the answer is in: on the simulated
network that steps the Scheduler (engine calls are synchronous and run inline in handlers); a
server on an event loop uses ``write_async``/``read_async`` and ``Pending.add_done_callback``.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Callable, Iterator, Mapping, Sequence

from cqlpy.engine import murmur3
from cqlpy.engine.read_merge import Partition, resolve
from cqlpy.engine.rows import FULL_SLICE, ComplexColumn, PartitionUpdate, Row, Slice
from cqlpy.engine.serialization import decode_slice, decode_update, encode_slice, encode_update
from cqlpy.errors import ReadFailure, ReadTimeout, Unavailable, WriteFailure, WriteTimeout

from .consistency import (
    ConsistencyLevel,
    assure_sufficient_live_replicas,
    block_for,
    block_for_write,
    each_quorum_block_for,
    replicas_for_read,
    validate_for_read,
    validate_for_write,
)
from .endpoints import Endpoint
from .messaging import Message, RequestFailureReason, Verb
from .replication import EverywhereStrategy, ReplicationStrategy, pending_ranges, strategy_from_replication

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 2.0          # write_request_timeout
READ_TIMEOUT = 5.0           # read_request_timeout
CL = ConsistencyLevel
Replication = Mapping[str, object] | ReplicationStrategy


class Pending:
    """The outcome of a coordinated request: a result or an error, later."""

    __slots__ = ("done", "_value", "_error", "_callbacks")

    def __init__(self) -> None:
        self.done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[["Pending"], None]] = []

    def set_result(self, value: Any = None) -> None:
        if not self.done:
            self.done, self._value = True, value
            self._fire()

    def set_exception(self, error: BaseException) -> None:
        if not self.done:
            self.done, self._error = True, error
            self._fire()

    def result(self) -> Any:
        if not self.done:
            raise RuntimeError("the request has not completed")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        return self._error

    def add_done_callback(self, fn: Callable[["Pending"], None]) -> None:
        if self.done:
            fn(self)
        else:
            self._callbacks.append(fn)

    def _fire(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn(self)
            except Exception:  # noqa: BLE001
                log.exception("request callback failed")


def all_of(items: Sequence[Pending]) -> Pending:
    """Succeeds when every item has, fails with the first failure."""
    out = Pending()
    left = [len(items)]
    if not items:
        out.set_result(None)

    def one(p: Pending) -> None:
        if p.exception() is not None:
            out.set_exception(p.exception())
            return
        left[0] -= 1
        if left[0] == 0:
            out.set_result(None)

    for p in items:
        p.add_done_callback(one)
    return out


# --- canonical partitions and digests ---------------------------------------------------------------

def _canonical_row(row: Row) -> Row:
    columns: dict[str, Any] = {}
    for name in sorted(row.columns):
        data = row.columns[name]
        if isinstance(data, ComplexColumn):
            data = ComplexColumn(data.deletion, dict(sorted(data.cells.items())))
        columns[name] = data
    return Row(row.clustering, row.marker, row.deletion, columns)


def _rt_key(rt: Any) -> tuple:
    s = rt.slice
    return (s.start is not None, s.start or b"", s.start_inclusive, s.end is None, s.end or b"",
            s.end_inclusive, rt.deletion.timestamp, rt.deletion.local_deletion_time)


def to_update(table_id: bytes, partition: Partition | None) -> PartitionUpdate | None:
    """A tombstone-keeping read result as a canonical PartitionUpdate (None stays None)."""
    if partition is None:
        return None
    rows = sorted(partition.rows, key=lambda r: r.clustering)
    return PartitionUpdate(
        table_id, partition.key, partition.deletion,
        sorted(set(partition.range_tombstones), key=_rt_key),
        _canonical_row(partition.static_row) if partition.static_row is not None else None,
        {r.clustering: _canonical_row(r) for r in rows})


def canonical(update: PartitionUpdate | None, slices: Sequence[Slice] = (FULL_SLICE,),
              now: int = 0) -> PartitionUpdate | None:
    """Shadowed data stripped and everything in canonical order (what replicas' reads look like)."""
    if update is None:
        return None
    merged = resolve([UpdateSource(update)], slices, now=now, tombstones=True)
    return to_update(update.table_id, merged)


def encode_partition(update: PartitionUpdate | None) -> bytes | None:
    return None if update is None else encode_update(update)


def digest_of(encoded: bytes | None) -> bytes:
    return hashlib.md5(encoded or b"", usedforsecurity=False).digest()


class UpdateSource:
    """A PartitionUpdate seen through the engine's source-partition interface (read_merge.resolve)."""

    __slots__ = ("key", "token", "deletion", "range_tombstones", "static_row", "_rows")

    def __init__(self, update: PartitionUpdate) -> None:
        self.key = update.key
        self.token = murmur3.token(update.key)
        self.deletion = update.deletion
        self.range_tombstones = list(update.range_tombstones)
        self.static_row = update.static_row
        self._rows = update.sorted_rows()

    def rows(self, slice: Slice = FULL_SLICE, reversed: bool = False) -> Iterator[Row]:
        rows = [r for r in self._rows if slice.contains(r.clustering)]
        return iter(rows[::-1] if reversed else rows)


# --- acknowledgement counting ------------------------------------------------------------------------

class _AckCounter:
    """How many acknowledgements count towards the level, and whether it is reached."""

    def __init__(self, cl: ConsistencyLevel, strategy: ReplicationStrategy, need: int,
                 local_dc: str, location_of: Callable[[Endpoint], Any],
                 pending: Sequence[Endpoint]) -> None:
        self.cl, self.need, self.local_dc, self.location_of = cl, need, local_dc, location_of
        self.received = 0
        self.per_dc: dict[str, int] = {}
        self.dc_need: dict[str, int] | None = None
        if cl is CL.EACH_QUORUM and strategy.is_datacenter_aware:
            self.dc_need = dict(each_quorum_block_for(strategy))
            for e in pending:
                dc = location_of(e).datacenter
                self.dc_need[dc] = self.dc_need.get(dc, 0) + 1

    def ack(self, endpoint: Endpoint | None) -> None:
        if endpoint is None:                                  # a hint (CL ANY)
            self.received += 1
            return
        dc = self.location_of(endpoint).datacenter
        if self.cl.is_datacenter_local and dc != self.local_dc:
            return
        self.received += 1
        self.per_dc[dc] = self.per_dc.get(dc, 0) + 1

    def satisfied(self) -> bool:
        if self.dc_need is not None:
            return all(self.per_dc.get(dc, 0) >= n for dc, n in self.dc_need.items())
        return self.received >= self.need


class StorageProxy:
    """One node's coordinator, and its replica-side handlers for MUTATION, HINT, READ and READ_REPAIR."""

    def __init__(self, storage_service: Any, messaging: Any, engine: Any, hints: Any = None, *,
                 write_timeout: float = WRITE_TIMEOUT, read_timeout: float = READ_TIMEOUT,
                 wait: Callable[[Pending], None] | None = None,
                 clock: Callable[[], float] | None = None,
                 speculative_retry: float | None = None) -> None:
        self.storage_service = storage_service
        self.messaging = messaging
        self.engine = engine
        self.hints = hints
        self.batchlog: Any = None                 # a BatchlogManager sets itself here (batchlog.py)
        self.paxos: Any = None                    # a Paxos sets itself here (paxos.py)
        self.local = messaging.local
        self.timer = messaging.timer
        self.write_timeout = write_timeout
        self.read_timeout = read_timeout
        self.speculative_retry = speculative_retry    # seconds; None: no speculative reads
        self._wait = wait or self._step_until_done
        self.clock = clock or storage_service.gossiper.wall_clock
        self.stats = {"writes": 0, "reads": 0, "digest_mismatches": 0, "read_repairs": 0,
                      "hints_written": 0, "write_timeouts": 0, "read_timeouts": 0,
                      "unavailables": 0}
        for verb in (Verb.MUTATION_REQ, Verb.HINT_REQ, Verb.READ_REPAIR_REQ):
            messaging.register_handler(verb, self._on_apply)
        messaging.register_handler(Verb.READ_REQ, self._on_read)

    # --- plumbing -----------------------------------------------------------------------------------

    @property
    def token_metadata(self):
        return self.storage_service.token_metadata

    def is_alive(self, endpoint: Endpoint) -> bool:
        if endpoint == self.local:
            return not self.messaging.closed
        return self.storage_service.is_alive(endpoint)

    def _step_until_done(self, pending: Pending) -> None:
        step = getattr(self.timer, "step", None)
        if step is None:
            raise RuntimeError("blocking calls need a stepping timer; use the *_async methods")
        while not pending.done and step():
            pass

    def _run(self, pending: Pending) -> Any:
        self._wait(pending)
        return pending.result()

    def strategy(self, replication: Replication) -> ReplicationStrategy:
        if isinstance(replication, ReplicationStrategy):
            return replication
        return strategy_from_replication(replication, self.local)

    def _ring_size(self, strategy: ReplicationStrategy) -> int | None:
        return len(self.token_metadata.endpoints()) if isinstance(strategy, EverywhereStrategy) else None

    @property
    def local_dc(self) -> str:
        return self.storage_service.local_location.datacenter

    def natural_replicas(self, strategy: ReplicationStrategy, token: int) -> tuple[Endpoint, ...]:
        return strategy.replicas(token, self.token_metadata)

    def pending_replicas(self, strategy: ReplicationStrategy, token: int) -> tuple[Endpoint, ...]:
        tm = self.token_metadata
        if not tm.has_pending_changes():
            return ()
        ranges = tm.cached(("pending_ranges", strategy), lambda: pending_ranges(strategy, tm))
        return tuple(sorted(e for e, rs in ranges.items() if any(token in r for r in rs)))

    # --- writes -------------------------------------------------------------------------------------

    def write(self, updates: Sequence[PartitionUpdate], replication: Replication,
              cl: ConsistencyLevel | int | str = CL.QUORUM, *, write_type: str | None = None) -> None:
        """Write ``updates`` at ``cl``; raises Unavailable, WriteTimeout or WriteFailure."""
        self._run(self.write_async(updates, replication, cl, write_type=write_type))

    def write_async(self, updates: Sequence[PartitionUpdate], replication: Replication,
                    cl: ConsistencyLevel | int | str = CL.QUORUM, *,
                    write_type: str | None = None) -> Pending:
        """Start a write; Unavailable is raised here, before anything is sent."""
        cl = validate_for_write(cl)
        strategy = self.strategy(replication)
        tm = self.token_metadata
        location_of = tm.location
        local_dc = self.local_dc
        ring_size = self._ring_size(strategy)
        groups: dict[bytes, list[PartitionUpdate]] = {}
        for u in updates:
            groups.setdefault(u.key, []).append(u)
        write_type = write_type or ("SIMPLE" if len(groups) <= 1 else "UNLOGGED_BATCH")
        plans = []
        for key, group in groups.items():
            token = murmur3.token(key)
            natural = self.natural_replicas(strategy, token)
            pending = tuple(e for e in self.pending_replicas(strategy, token) if e not in natural)
            targets = natural + pending
            live = [e for e in targets if self.is_alive(e)]
            try:
                assure_sufficient_live_replicas(cl, strategy, live, local_dc, location_of,
                                                ring_size, pending)
                if cl is CL.ANY and not live and self.hints is None:
                    raise Unavailable(consistency=cl.name, required=1, alive=0)
            except Unavailable:
                self.stats["unavailables"] += 1
                raise
            need = block_for_write(cl, strategy, local_dc, pending, location_of, ring_size)
            plans.append((group, targets, live, pending, need))
        self.stats["writes"] += 1
        handlers = [self._write_one(cl, strategy, group, targets, live, pending, need, write_type)
                    for group, targets, live, pending, need in plans]
        return handlers[0] if len(handlers) == 1 else all_of(handlers)

    def _write_one(self, cl: ConsistencyLevel, strategy: ReplicationStrategy,
                   group: list[PartitionUpdate], targets: Sequence[Endpoint],
                   live: Sequence[Endpoint], pending: Sequence[Endpoint], need: int,
                   write_type: str) -> Pending:
        out = Pending()
        tm = self.token_metadata
        counter = _AckCounter(cl, strategy, need, self.local_dc, tm.location, pending)
        encoded = [encode_update(u) for u in group]
        state = {"failures": 0, "outstanding": len(live)}

        def finish_if_satisfied() -> None:
            if not out.done and counter.satisfied():
                timer.cancel()
                out.set_result(None)

        def acked(endpoint: Endpoint | None) -> None:
            counter.ack(endpoint)
            finish_if_satisfied()

        def failed(endpoint: Endpoint, reason: RequestFailureReason, detail: str) -> None:
            state["outstanding"] -= 1
            if reason is RequestFailureReason.TIMEOUT:
                self._hint(endpoint, encoded, None)
                return
            state["failures"] += 1
            if not out.done and counter.received + state["outstanding"] < need:
                timer.cancel()
                out.set_exception(WriteFailure(f"Operation failed - received {counter.received} "
                                               f"responses and {state['failures']} failures",
                                               consistency=cl.name, received=counter.received,
                                               block_for=need, failures=state["failures"],
                                               write_type=write_type))

        def timed_out() -> None:
            if not out.done:
                self.stats["write_timeouts"] += 1
                out.set_exception(WriteTimeout(consistency=cl.name, received=counter.received,
                                               block_for=need, write_type=write_type))

        timer = self.timer.call_later(self.write_timeout, timed_out)
        hint_acks = acked if cl is CL.ANY else None
        for endpoint in targets:
            if endpoint not in live:
                self._hint(endpoint, encoded, hint_acks)
        local = None
        for endpoint in live:
            if endpoint == self.local:
                local = endpoint
                continue
            self.messaging.send_with_callback(
                endpoint, Verb.MUTATION_REQ, {"updates": encoded},
                lambda m, e=endpoint: acked(e), failed, timeout=self.write_timeout)
        if local is not None:
            try:
                self.engine.apply(group)
            except Exception as exc:  # noqa: BLE001 - counted as a replica failure
                log.warning("%s: local write failed: %s", self.local, exc)
                failed(local, RequestFailureReason.UNKNOWN, str(exc))
            else:
                state["outstanding"] -= 1
                acked(local)
        finish_if_satisfied()
        return out

    def _hint(self, endpoint: Endpoint, encoded: list[bytes],
              on_stored: Callable[[Endpoint | None], None] | None) -> None:
        if self.hints is not None and self.hints.store(endpoint, encoded):
            self.stats["hints_written"] += 1
            if on_stored is not None:
                on_stored(None)

    # --- reads --------------------------------------------------------------------------------------

    def read(self, table_id: bytes, key: bytes, slices: Sequence[Slice] = (FULL_SLICE,),
             cl: ConsistencyLevel | int | str = CL.ONE, replication: Replication | None = None, *,
             reversed: bool = False, limit: int | None = None, now: int | None = None
             ) -> Partition | None:
        """The partition as a query sees it (live data), read at ``cl``; None if nothing is there."""
        return self._run(self.read_async(table_id, key, slices, cl, replication,
                                         reversed=reversed, limit=limit, now=now))

    def read_async(self, table_id: bytes, key: bytes, slices: Sequence[Slice] = (FULL_SLICE,),
                   cl: ConsistencyLevel | int | str = CL.ONE,
                   replication: Replication | None = None, *, reversed: bool = False,
                   limit: int | None = None, now: int | None = None) -> Pending:
        if replication is None:
            raise ValueError("read needs the keyspace's replication")
        cl = validate_for_read(cl)
        strategy = self.strategy(replication)
        tm = self.token_metadata
        token = murmur3.token(key)
        snitch = self.storage_service.snitch
        natural = self.natural_replicas(strategy, token)
        ordered = (snitch.sorted_by_proximity(natural) if hasattr(snitch, "sorted_by_proximity")
                   else list(natural))
        if self.local in ordered:                       # our own replica is the closest
            ordered.remove(self.local)
            ordered.insert(0, self.local)
        try:
            contacts = replicas_for_read(cl, strategy, ordered, self.is_alive, self.local_dc,
                                         tm.location, self._ring_size(strategy))
        except Unavailable:
            self.stats["unavailables"] += 1
            raise
        need = block_for(cl, strategy, self.local_dc, self._ring_size(strategy))
        self.stats["reads"] += 1
        now = int(self.clock()) if now is None else now
        slices = tuple(slices)
        executor = _ReadExecutor(self, cl, table_id, key, slices, contacts, min(need, len(contacts)),
                                 now)
        if self.speculative_retry is not None:
            executor.spares = [e for e in ordered if e not in contacts and self.is_alive(e)
                               and (not cl.is_datacenter_local
                                    or tm.location(e).datacenter == self.local_dc)]
        executor.start()

        def finish(p: Pending) -> Pending:
            out = Pending()

            def done(inner: Pending) -> None:
                if inner.exception() is not None:
                    out.set_exception(inner.exception())
                    return
                update = inner.result()
                if update is None:
                    out.set_result(None)
                    return
                out.set_result(resolve([UpdateSource(update)], slices, reversed=reversed,
                                       limit=limit, now=now))

            p.add_done_callback(done)
            return out

        return finish(executor.result)

    def _send_read(self, endpoint: Endpoint, table_id: bytes, key: bytes, slices: Sequence[Slice],
                   digest: bool, on_response: Callable[[Endpoint, Any], None],
                   on_failure: Callable[[Endpoint, RequestFailureReason, str], None]) -> None:
        if endpoint == self.local:
            try:
                answer = self._local_read(table_id, key, slices, digest)
            except Exception as exc:  # noqa: BLE001
                on_failure(endpoint, RequestFailureReason.UNKNOWN, str(exc))
            else:
                on_response(endpoint, answer)
            return
        payload = {"table": table_id, "key": key, "digest": digest,
                   "slices": [_encode_slice(s) for s in slices]}
        self.messaging.send_with_callback(endpoint, Verb.READ_REQ, payload,
                                          lambda m: on_response(endpoint, m.payload), on_failure,
                                          timeout=self.read_timeout)

    def _local_read(self, table_id: bytes, key: bytes, slices: Sequence[Slice],
                    digest: bool) -> dict[str, Any]:
        partition = self.engine.read(table_id, key, slices, tombstones=True)
        data = encode_partition(to_update(table_id, partition))
        return {"digest": digest_of(data)} if digest else {"data": data}

    # --- replica side -------------------------------------------------------------------------------

    def _on_apply(self, message: Message) -> None:
        """MUTATION_REQ, HINT_REQ and READ_REPAIR_REQ: apply the updates, then acknowledge."""
        payload = message.payload
        updates = [decode_update(b) for b in payload["updates"]]
        self.engine.apply(updates)
        self.messaging.respond(message)

    def _on_read(self, message: Message) -> None:
        p = message.payload
        slices = [_decode_slice(b) for b in p.get("slices") or []] or [FULL_SLICE]
        self.messaging.respond(message, self._local_read(p["table"], p["key"], slices,
                                                         bool(p.get("digest"))))


class _ReadExecutor:
    """One coordinated read: data + digests, then on mismatch full data, merge and blocking repair."""

    def __init__(self, proxy: StorageProxy, cl: ConsistencyLevel, table_id: bytes, key: bytes,
                 slices: Sequence[Slice], contacts: Sequence[Endpoint], need: int, now: int) -> None:
        self.proxy, self.cl, self.table_id, self.key = proxy, cl, table_id, key
        self.slices, self.contacts, self.need, self.now = slices, tuple(contacts), need, now
        self.result = Pending()
        self.digests: dict[Endpoint, bytes] = {}
        self.data: dict[Endpoint, bytes | None] = {}
        self.full: dict[Endpoint, bytes | None] = {}
        self.phase = "digest"
        self.failures: set[Endpoint] = set()
        self.timer: Any = None
        self.spares: list[Endpoint] = []            # live replicas a speculative read may ask

    def start(self) -> None:
        self.timer = self.proxy.timer.call_later(self.proxy.read_timeout, self._timed_out)
        if self.spares and self.proxy.speculative_retry is not None:
            self.proxy.timer.call_later(self.proxy.speculative_retry, self._speculate)
        first, rest = self.contacts[0], self.contacts[1:]
        for endpoint in rest:                       # remote requests first, the local one inline last
            if endpoint != self.proxy.local:
                self._ask(endpoint, digest=True)
        self._ask(first, digest=False)
        if self.proxy.local in rest:
            self._ask(self.proxy.local, digest=True)

    def _ask(self, endpoint: Endpoint, digest: bool, phase: str = "digest") -> None:
        self.proxy._send_read(endpoint, self.table_id, self.key, self.slices, digest,
                              lambda e, answer: self._answer(phase, e, answer), self._failed)

    def _speculate(self) -> None:
        """Speculative retry: the level is not reached yet, so ask one more replica (the data
        itself when the data replica has not answered), as Cassandra's ``speculative_retry``."""
        if self.result.done or self.phase != "digest" or not self.spares:
            return
        endpoint = self.spares.pop(0)
        self.contacts += (endpoint,)
        self.proxy.stats["speculative_reads"] = self.proxy.stats.get("speculative_reads", 0) + 1
        self._ask(endpoint, digest=bool(self.data))

    def _failed(self, endpoint: Endpoint, reason: RequestFailureReason, detail: str) -> None:
        """A replica answered with an error (timeouts are left to the read's own timer): once too
        few replicas are left to reach the level, fail with ReadFailure."""
        log.debug("%s: read from %s failed: %s %s", self.proxy.local, endpoint, reason.value, detail)
        if reason is RequestFailureReason.TIMEOUT or self.result.done or self.phase == "repair":
            return
        self.failures.add(endpoint)
        if len(self.contacts) - len(self.failures) < self.need:
            self.timer.cancel()
            received = len(self.digests) if self.phase == "digest" else len(self.full)
            self.result.set_exception(ReadFailure(
                f"Operation failed - received {received} responses and {len(self.failures)} "
                "failures", consistency=self.cl.name, received=received, block_for=self.need,
                failures=len(self.failures), data_present=bool(self.data)))

    def _answer(self, phase: str, endpoint: Endpoint, answer: Any) -> None:
        if self.result.done or phase != self.phase:
            return
        if phase == "digest":
            if "data" in answer:
                self.data[endpoint] = answer["data"]
                self.digests[endpoint] = digest_of(answer["data"])
            else:
                self.digests[endpoint] = answer["digest"]
            if len(self.digests) >= self.need and self.data:
                expected = next(iter(self.data.values()))
                if all(d == digest_of(expected) for d in self.digests.values()):
                    self._succeed(_decode(expected))
                else:
                    self._start_data_phase()
        elif phase == "data":
            self.full[endpoint] = answer["data"]
            if len(self.full) >= self.need:
                self._repair()

    def _start_data_phase(self) -> None:
        self.proxy.stats["digest_mismatches"] += 1
        self.phase = "data"
        self.full = dict(self.data)                 # the data we already have still counts
        for endpoint in self.contacts:
            if endpoint not in self.full and endpoint != self.proxy.local:
                self._ask(endpoint, digest=False, phase="data")
        if self.proxy.local in self.contacts and self.proxy.local not in self.full:
            self._ask(self.proxy.local, digest=False, phase="data")
        elif len(self.full) >= self.need:
            self._repair()

    def _repair(self) -> None:
        self.phase = "repair"
        self.timer.cancel()
        merged: PartitionUpdate | None = None
        for encoded in self.full.values():
            if encoded is None:
                continue
            update = decode_update(encoded)
            if merged is None:
                merged = update
            else:
                merged.merge(update)
        merged = canonical(merged, self.slices, self.now)
        merged_bytes = encode_partition(merged)
        stale = [e for e, d in sorted(self.full.items()) if digest_of(d) != digest_of(merged_bytes)]
        if merged is None or not stale:
            self._succeed(merged)
            return
        proxy = self.proxy
        proxy.stats["read_repairs"] += len(stale)
        waiting = set(stale)
        encoded_merged = [merged_bytes]

        def acked(endpoint: Endpoint) -> None:
            waiting.discard(endpoint)
            if not waiting:
                timer.cancel()
                self._succeed(merged)

        def timed_out() -> None:
            if not self.result.done:
                proxy.stats["read_timeouts"] += 1
                self.result.set_exception(ReadTimeout(
                    consistency=self.cl.name, received=len(self.full) - len(waiting),
                    block_for=self.need, data_present=True))

        timer = proxy.timer.call_later(proxy.write_timeout, timed_out)
        for endpoint in stale:
            if endpoint == proxy.local:
                continue
            proxy.messaging.send_with_callback(
                endpoint, Verb.READ_REPAIR_REQ, {"updates": encoded_merged},
                lambda m, e=endpoint: acked(e), lambda *_: None, timeout=proxy.write_timeout)
        if proxy.local in waiting:
            proxy.engine.apply([merged])
            acked(proxy.local)

    def _succeed(self, update: PartitionUpdate | None) -> None:
        self.timer.cancel()
        self.result.set_result(update)

    def _timed_out(self) -> None:
        if self.result.done or self.phase == "repair":
            return
        self.proxy.stats["read_timeouts"] += 1
        received = len(self.digests) if self.phase == "digest" else len(self.full)
        self.result.set_exception(ReadTimeout(consistency=self.cl.name, received=received,
                                              block_for=self.need, data_present=bool(self.data)))


def _decode(encoded: bytes | None) -> PartitionUpdate | None:
    return None if encoded is None else decode_update(encoded)


def _encode_slice(s: Slice) -> bytes:
    out = bytearray()
    encode_slice(out, s)
    return bytes(out)


def _decode_slice(data: bytes) -> Slice:
    s, pos = decode_slice(data, 0)
    if pos != len(data):
        raise ValueError("trailing bytes after a slice")
    return s
