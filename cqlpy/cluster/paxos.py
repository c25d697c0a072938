"""Paxos (v1) across the replicas of a partition: lightweight transactions and SERIAL reads.

Cassandra's ``StorageProxy.cas`` / ``readWithPaxos``, on this ring.  Participants are the natural
plus pending replicas of the key (only the local datacenter's for LOCAL_SERIAL); a quorum of them,
``participants // 2 + 1``, must take part in every phase, else ``Unavailable`` (consistency SERIAL
or LOCAL_SERIAL, before anything is sent).  More than one pending replica refuses the operation.

A round, with a ballot (a time UUID, microseconds strictly above the last ballot this node made and
above any ballot a rejection revealed; clock sequence and node random per node)::

    PREPARE   to every live participant, wait for a quorum of answers.  A rejection: contention,
              sleep a random 0-100 ms and start over with a higher ballot.  If an answer shows an
              accepted non-empty proposal newer than the latest commit, finish it first (propose it
              again with our ballot, commit it; its update keeps the timestamp of the ballot it was
              first proposed with, which is above every earlier commit's) and start over; if some
              answering replica is behind
              on the latest commit, send it that commit, wait, and start over.
    READ      the partition at QUORUM (LOCAL_QUORUM for LOCAL_SERIAL) through the coordinator,
              and let the caller evaluate its conditions: ``evaluate(partition, micros)`` returns
              (result, updates); updates None = the conditions failed.
    PROPOSE   the updates (written at the ballot's microseconds) to every live participant; a
              quorum of accepts wins.  Accepted by some but not a quorum: the outcome is unknown,
              ``WriteTimeout`` (write_type CAS) as Cassandra's CasWriteUnknownResultException is on
              protocol v4.  Refused by all: contention, retry.  A failed condition proposes the
              empty update instead (CASSANDRA-12126: the answer is then linearizable), never
              committed; on success the result (current values) is returned.
    COMMIT    to every live replica (all datacenters; dead ones get a hint), waiting for the
              statement's consistency level (ANY: not waited for; SERIAL levels refused);
              ``WriteTimeout`` write_type SIMPLE if it is not reached in the write timeout.

The whole contention loop is bounded by ``cas_contention_timeout`` (1 s): past it, WriteTimeout
with write_type CAS (ReadTimeout for a SERIAL read).  A SERIAL read is the same without READ before
PROPOSE: PREPARE (finishing and repairing as above), PROPOSE the empty update, then READ.

Replica side (``handle``): PAXOS_PREPARE_REQ / PAXOS_PROPOSE_REQ / PAXOS_COMMIT_REQ run the
acceptor's transitions of ``paxos_state.PaxosStateStore`` (saved durably before the answer); a
commit applies its update to the engine first.  Payloads::

    prepare  {"table", "key", "ballot": uuid} -> {"promised": bool, "ballot": the promise,
              "accepted": commit | None, "commit": commit | None}
    propose  {"table", "key", "proposal": commit} -> {"accepted": bool}
    commit   {"table", "key", "commit": commit} -> None
    commit = [ballot uuid, [encoded update bytes, ...]]

Rounds are generators that yield *steps* (zero-argument callables returning a ``Pending``, run on
the messaging timer's thread); ``run_blocking`` drives one from a request thread (the server's
RingEngine, or a stepping simulated scheduler), ``run_async`` drives it by callbacks, so several
coordinators can race on one simulated network.
"""
from __future__ import annotations

import logging
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Mapping, Sequence

from cqlpy.engine import murmur3
from cqlpy.engine.rows import FULL_SLICE, PartitionUpdate, Slice
from cqlpy.engine.serialization import decode_update, encode_update
from cqlpy.errors import InvalidRequest, ReadTimeout, Unavailable, WriteFailure, WriteTimeout

from .consistency import ConsistencyLevel, block_for_write
from .coordinator import Pending, _AckCounter
from .endpoints import Endpoint
from .messaging import Message, RequestFailureReason, Verb
from .paxos_state import Commit, PaxosStateStore, ballot_micros

log = logging.getLogger(__name__)

CL = ConsistencyLevel
CAS_CONTENTION_TIMEOUT = 1.0       # cas_contention_timeout
MAX_BACKOFF = 0.1                  # Cassandra sleeps a random 0-100 ms after contention
PAXOS_VERBS = (Verb.PAXOS_PREPARE_REQ, Verb.PAXOS_PROPOSE_REQ, Verb.PAXOS_COMMIT_REQ)
_UUID_EPOCH = 0x01B21DD213814000   # 100 ns intervals between 1582-10-15 and 1970-01-01

Step = Callable[[], Pending]
Round = Generator[Step, Any, Any]
Evaluate = Callable[[Any, int], tuple[Any, Sequence[PartitionUpdate] | None]]


def make_ballot(micros: int, clock_seq: int, node: int) -> uuid.UUID:
    """A version-1 time UUID at ``micros`` since the Unix epoch."""
    t = micros * 10 + _UUID_EPOCH
    fields = (t & 0xFFFFFFFF, (t >> 32) & 0xFFFF, ((t >> 48) & 0x0FFF) | 0x1000,
              ((clock_seq >> 8) & 0x3F) | 0x80, clock_seq & 0xFF, node & 0xFFFFFFFFFFFF)
    return uuid.UUID(fields=fields)


def _ready(value: Any = None) -> Pending:
    p = Pending()
    p.set_result(value)
    return p


@dataclass
class Participants:
    """Who takes part in the rounds on one key, and who receives the commit."""

    serial: ConsistencyLevel
    strategy: Any
    replication: Any
    natural: tuple[Endpoint, ...]
    pending: tuple[Endpoint, ...]
    participants: tuple[Endpoint, ...]
    live: tuple[Endpoint, ...]
    required: int


@dataclass
class PrepareSummary:
    """A quorum of PREPARE answers (Cassandra's PrepareCallback)."""

    promised: bool = True
    most_recent_promise: uuid.UUID | None = None          # of a rejection
    most_recent_commit: Commit | None = None
    in_progress: Commit | None = None                     # newest accepted proposal seen
    commits: dict[Endpoint, Commit | None] = field(default_factory=dict)

    def missing_most_recent_commit(self) -> list[Endpoint]:
        mrc = self.most_recent_commit
        if mrc is None:
            return []
        return sorted(e for e, c in self.commits.items() if c is None or c.ballot != mrc.ballot)


class Paxos:
    """One node's Paxos: acceptor (``handle``) and proposer (``cas``, ``serial_read``)."""

    def __init__(self, proxy: Any, store: PaxosStateStore, *,
                 contention_timeout: float = CAS_CONTENTION_TIMEOUT,
                 rng: random.Random | None = None) -> None:
        self.proxy = proxy
        self.store = store
        self.contention_timeout = contention_timeout
        self.rng = rng or random.Random()
        self._clock_seq = self.rng.getrandbits(14)
        self._node = self.rng.getrandbits(48) | (1 << 40)     # multicast bit: a random node id
        self._last_micros = 0
        self._lock = threading.Lock()
        proxy.paxos = self
        self.stats = {"cas": 0, "serial_reads": 0, "contentions": 0, "in_progress_finished": 0,
                      "commits_repaired": 0, "unknown_results": 0, "condition_not_met": 0}

    @property
    def timer(self) -> Any:
        return self.proxy.timer

    def register(self, handler: Callable[[Message], None] | None = None) -> None:
        """Answer the paxos verbs (through ``handler``, e.g. a thread pool, else inline)."""
        for verb in PAXOS_VERBS:
            self.proxy.messaging.register_handler(verb, handler or self.handle)

    # --- acceptor -----------------------------------------------------------------------------------

    def handle(self, message: Message) -> None:
        p = message.payload
        table, key = bytes(p["table"]), bytes(p["key"])
        messaging = self.proxy.messaging
        if message.verb is Verb.PAXOS_PREPARE_REQ:
            ballot = p["ballot"]
            if not isinstance(ballot, uuid.UUID):
                raise ValueError("a paxos ballot must be a uuid")
            promised, state = self.store.prepare(table, key, ballot)
            messaging.respond(message, {
                "promised": promised, "ballot": state.promised,
                "accepted": state.accepted.to_wire() if state.accepted is not None else None,
                "commit": (state.most_recent_commit.to_wire()
                           if state.most_recent_commit is not None else None)})
        elif message.verb is Verb.PAXOS_PROPOSE_REQ:
            proposal = Commit.from_wire(p["proposal"])
            assert proposal is not None
            messaging.respond(message, {"accepted": self.store.propose(table, key, proposal)})
        elif message.verb is Verb.PAXOS_COMMIT_REQ:
            commit = Commit.from_wire(p["commit"])
            assert commit is not None
            if commit.updates:
                self.proxy.engine.apply([decode_update(u) for u in commit.updates])
            self.store.commit(table, key, commit)
            messaging.respond(message, None)
        else:
            raise ValueError(f"not a paxos verb: {message.verb.name}")

    # --- ballots and participants -------------------------------------------------------------------

    def new_ballot(self, min_micros: int = 0) -> uuid.UUID:
        """A ballot above every ballot this node made and above ``min_micros``."""
        with self._lock:
            now = int(self.proxy.clock() * 1_000_000)
            micros = max(now, self._last_micros + 1, min_micros)
            self._last_micros = micros
        return make_ballot(micros, self._clock_seq, self._node)

    def participants(self, replication: Any, key: bytes, serial: ConsistencyLevel) -> Participants:
        proxy = self.proxy
        strategy = proxy.strategy(replication)
        token = murmur3.token(key)
        natural = tuple(proxy.natural_replicas(strategy, token))
        pending = tuple(e for e in proxy.pending_replicas(strategy, token) if e not in natural)
        if len(pending) > 1:
            raise Unavailable(f"Cannot perform LWT operation as there is more than one "
                              f"({len(pending)}) pending range movement", consistency=serial.name,
                              required=len(natural) // 2 + 1, alive=0)
        everyone = natural + pending
        if serial is CL.LOCAL_SERIAL:
            location, dc = proxy.token_metadata.location, proxy.local_dc
            everyone = tuple(e for e in everyone if location(e).datacenter == dc)
        required = len(everyone) // 2 + 1
        live = tuple(e for e in everyone if proxy.is_alive(e))
        if len(live) < required:
            proxy.stats["unavailables"] += 1
            raise Unavailable(consistency=serial.name, required=required, alive=len(live))
        return Participants(serial, strategy, replication, natural, pending, everyone, live,
                            required)

    # --- the phases (each returns a Pending; run on the timer's thread) -------------------------------

    def _prepare(self, parts: Participants, table: bytes, key: bytes,
                 ballot: uuid.UUID) -> Pending:
        out = Pending()
        summary = PrepareSummary()
        state = {"answers": 0, "failures": 0}
        timeout = self.proxy.write_timeout

        def answered(endpoint: Endpoint, payload: Mapping[str, Any]) -> None:
            if out.done:
                return
            commit = Commit.from_wire(payload.get("commit"))
            summary.commits[endpoint] = commit
            if commit is not None and commit.is_after(summary.most_recent_commit):
                summary.most_recent_commit = commit
            if not payload.get("promised"):
                summary.promised = False
                summary.most_recent_promise = payload.get("ballot")
                timer.cancel()
                out.set_result(summary)
                return
            accepted = Commit.from_wire(payload.get("accepted"))
            if accepted is not None and accepted.is_after(summary.in_progress):
                summary.in_progress = accepted
            state["answers"] += 1
            if state["answers"] >= parts.required:
                timer.cancel()
                out.set_result(summary)

        def failed(endpoint: Endpoint, reason: RequestFailureReason, detail: str) -> None:
            if out.done or reason is RequestFailureReason.TIMEOUT:
                return
            state["failures"] += 1
            if len(parts.live) - state["failures"] < parts.required:
                timer.cancel()
                out.set_exception(WriteFailure(
                    f"Paxos prepare failed on {state['failures']} replicas: {detail}",
                    consistency=parts.serial.name, received=state["answers"],
                    block_for=parts.required, failures=state["failures"], write_type="CAS"))

        def timed_out() -> None:
            if not out.done:
                out.set_exception(WriteTimeout(consistency=parts.serial.name,
                                               received=state["answers"],
                                               block_for=parts.required, write_type="CAS"))

        timer = self.timer.call_later(timeout, timed_out)
        payload = {"table": table, "key": key, "ballot": ballot}
        for endpoint in parts.live:
            self.proxy.messaging.send_with_callback(
                endpoint, Verb.PAXOS_PREPARE_REQ, payload,
                lambda m, e=endpoint: answered(e, m.payload), failed, timeout=timeout)
        return out

    def _propose(self, parts: Participants, table: bytes, key: bytes, proposal: Commit,
                 timeout_if_partial: bool) -> Pending:
        """True when a quorum accepted; False when refused (retry); WriteTimeout CAS when some
        but not a quorum accepted and ``timeout_if_partial`` (the outcome is then unknown)."""
        out = Pending()
        state = {"accepts": 0, "refusals": 0}
        timeout = self.proxy.write_timeout

        def settle() -> None:
            if out.done:
                return
            accepts, outstanding = state["accepts"], len(parts.live) - state["accepts"] - state["refusals"]
            if accepts >= parts.required:
                timer.cancel()
                out.set_result(True)
            elif accepts + outstanding < parts.required:
                timer.cancel()
                if timeout_if_partial and accepts > 0:
                    self.stats["unknown_results"] += 1
                    out.set_exception(WriteTimeout(
                        f"CAS operation result is unknown - proposal accepted by {accepts} but "
                        "not a quorum.", consistency=parts.serial.name, received=accepts,
                        block_for=parts.required, write_type="CAS"))
                else:
                    out.set_result(False)

        def answered(payload: Mapping[str, Any]) -> None:
            state["accepts" if payload.get("accepted") else "refusals"] += 1
            settle()

        def failed(endpoint: Endpoint, reason: RequestFailureReason, detail: str) -> None:
            if reason is not RequestFailureReason.TIMEOUT:
                state["refusals"] += 1
                settle()

        def timed_out() -> None:
            if not out.done:
                if state["accepts"] > 0:
                    self.stats["unknown_results"] += 1
                out.set_exception(WriteTimeout(consistency=parts.serial.name,
                                               received=state["accepts"],
                                               block_for=parts.required, write_type="CAS"))

        timer = self.timer.call_later(timeout, timed_out)
        payload = {"table": table, "key": key, "proposal": proposal.to_wire()}
        for endpoint in parts.live:
            self.proxy.messaging.send_with_callback(
                endpoint, Verb.PAXOS_PROPOSE_REQ, payload, lambda m: answered(m.payload), failed,
                timeout=timeout)
        return out

    def _commit(self, parts: Participants, table: bytes, key: bytes, commit: Commit,
                cl: ConsistencyLevel) -> Pending:
        """COMMIT to every live replica (a hint for each dead one); wait for ``cl``."""
        proxy = self.proxy
        out = Pending()
        targets = parts.natural + parts.pending
        live = [e for e in targets if proxy.is_alive(e)]
        location_of = proxy.token_metadata.location
        need = block_for_write(cl, parts.strategy, proxy.local_dc, parts.pending, location_of,
                               proxy._ring_size(parts.strategy))
        counter = _AckCounter(cl, parts.strategy, need, proxy.local_dc, location_of, parts.pending)

        def acked(endpoint: Endpoint) -> None:
            counter.ack(endpoint)
            if not out.done and counter.satisfied():
                timer.cancel()
                out.set_result(None)

        def failed(endpoint: Endpoint, reason: RequestFailureReason, detail: str) -> None:
            if reason is RequestFailureReason.TIMEOUT and commit.updates:
                proxy._hint(endpoint, list(commit.updates), None)

        def timed_out() -> None:
            if not out.done:
                proxy.stats["write_timeouts"] += 1
                out.set_exception(WriteTimeout(consistency=cl.name, received=counter.received,
                                               block_for=need, write_type="SIMPLE"))

        timer = self.timer.call_later(proxy.write_timeout, timed_out)
        for endpoint in targets:
            if endpoint not in live and commit.updates:
                proxy._hint(endpoint, list(commit.updates), None)
        payload = {"table": table, "key": key, "commit": commit.to_wire()}
        for endpoint in live:
            proxy.messaging.send_with_callback(
                endpoint, Verb.PAXOS_COMMIT_REQ, payload, lambda m, e=endpoint: acked(e), failed,
                timeout=proxy.write_timeout)
        if cl is CL.ANY and not out.done:
            timer.cancel()
            out.set_result(None)
        return out

    def _repair_commit(self, table: bytes, key: bytes, commit: Commit,
                       endpoints: Sequence[Endpoint]) -> Pending:
        """Send the latest commit to replicas behind on it; done when all answered or failed."""
        out = Pending()
        left = set(endpoints)
        self.stats["commits_repaired"] += len(left)

        def one(endpoint: Endpoint) -> None:
            left.discard(endpoint)
            if not left:
                out.set_result(None)

        payload = {"table": table, "key": key, "commit": commit.to_wire()}
        for endpoint in endpoints:
            self.proxy.messaging.send_with_callback(
                endpoint, Verb.PAXOS_COMMIT_REQ, payload, lambda m, e=endpoint: one(e),
                lambda e, *_: one(e), timeout=self.proxy.write_timeout)
        if not left:
            out.set_result(None)
        return out

    def _sleep(self, seconds: float) -> Pending:
        out = Pending()
        self.timer.call_later(seconds, out.set_result, None)
        return out

    def _backoff(self) -> Step:
        delay = self.rng.uniform(0.0, MAX_BACKOFF)
        return lambda: self._sleep(delay)

    # --- rounds -------------------------------------------------------------------------------------

    def _begin_and_repair(self, parts: Participants, table: bytes, key: bytes, deadline: float,
                          commit_cl: ConsistencyLevel, min_micros: list[int]) -> Round:
        """PREPARE until promised by a quorum with nothing left to finish or repair; the ballot."""
        while self.timer.time() < deadline:
            ballot = self.new_ballot(min_micros[0])
            summary: PrepareSummary = yield lambda: self._prepare(parts, table, key, ballot)
            if not summary.promised:
                self.stats["contentions"] += 1
                if summary.most_recent_promise is not None:
                    min_micros[0] = max(min_micros[0], ballot_micros(summary.most_recent_promise) + 1)
                yield self._backoff()
                continue
            in_progress, mrc = summary.in_progress, summary.most_recent_commit
            if in_progress is not None and not in_progress.is_empty and in_progress.is_after(mrc):
                # an accepted proposal that may not be committed: finish it with our ballot
                refreshed = Commit(ballot, in_progress.updates)
                done = yield lambda: self._propose(parts, table, key, refreshed, False)
                if done:
                    self.stats["in_progress_finished"] += 1
                    yield lambda: self._commit(parts, table, key, refreshed, commit_cl)
                else:
                    self.stats["contentions"] += 1
                    yield self._backoff()
                continue
            missing = summary.missing_most_recent_commit()
            if missing and mrc is not None:
                yield lambda: self._repair_commit(table, key, mrc, missing)
                continue
            return ballot
        raise WriteTimeout(consistency=parts.serial.name, received=0, block_for=parts.required,
                           write_type="CAS")

    def cas(self, table: bytes, key: bytes, replication: Any, evaluate: Evaluate, *,
            serial: ConsistencyLevel | int | str = CL.SERIAL,
            commit: ConsistencyLevel | int | str = CL.QUORUM, now: int | None = None) -> Round:
        """A compare-and-set round (a generator of steps; see ``run_blocking`` / ``run_async``).

        ``evaluate(partition, micros)`` gets the partition read at the serial quorum (live data,
        None if empty) and the ballot's microseconds; it returns (result, updates to write at
        those microseconds, or None when the conditions do not hold).  The round's value is the
        result."""
        serial, commit_cl = serial_level(serial), commit_level(commit)
        read_cl = CL.QUORUM if serial is CL.SERIAL else CL.LOCAL_QUORUM
        parts: Participants = yield lambda: _ready(self.participants(replication, key, serial))
        self.stats["cas"] += 1
        deadline = self.timer.time() + self.contention_timeout
        min_micros = [0]
        while True:
            ballot = yield from self._begin_and_repair(parts, table, key, deadline, commit_cl,
                                                       min_micros)
            current = yield lambda: self.proxy.read_async(table, key, (FULL_SLICE,), read_cl,
                                                          replication, now=now)
            result, updates = evaluate(current, ballot_micros(ballot))
            if updates is None:
                self.stats["condition_not_met"] += 1
                if (yield lambda: self._propose(parts, table, key, Commit(ballot), False)):
                    return result
            else:
                proposal = Commit(ballot, tuple(encode_update(u) for u in updates if not u.is_empty()))
                if (yield lambda: self._propose(parts, table, key, proposal, True)):
                    if proposal.updates:
                        yield lambda: self._commit(parts, table, key, proposal, commit_cl)
                    return result
            self.stats["contentions"] += 1
            min_micros[0] = max(min_micros[0], ballot_micros(ballot) + 1)
            if self.timer.time() >= deadline:
                raise WriteTimeout(consistency=serial.name, received=0, block_for=parts.required,
                                   write_type="CAS")
            yield self._backoff()

    def serial_read(self, table: bytes, key: bytes, replication: Any,
                    slices: Sequence[Slice] = (FULL_SLICE,), *,
                    serial: ConsistencyLevel | int | str = CL.SERIAL, reversed: bool = False,
                    limit: int | None = None, now: int | None = None) -> Round:
        """A read at SERIAL / LOCAL_SERIAL: finish what is in progress, make sure nothing older
        completes later (an empty proposal), then read at the serial quorum."""
        serial = serial_level(serial)
        read_cl = CL.QUORUM if serial is CL.SERIAL else CL.LOCAL_QUORUM
        parts: Participants = yield lambda: _ready(self.participants(replication, key, serial))
        self.stats["serial_reads"] += 1
        deadline = self.timer.time() + self.contention_timeout
        min_micros = [0]
        try:
            while True:
                ballot = yield from self._begin_and_repair(parts, table, key, deadline, read_cl,
                                                           min_micros)
                if (yield lambda: self._propose(parts, table, key, Commit(ballot), False)):
                    break
                self.stats["contentions"] += 1
                min_micros[0] = max(min_micros[0], ballot_micros(ballot) + 1)
                if self.timer.time() >= deadline:
                    raise WriteTimeout(consistency=serial.name, received=0,
                                       block_for=parts.required, write_type="CAS")
                yield self._backoff()
        except WriteTimeout as exc:
            raise ReadTimeout(consistency=serial.name, received=exc.received,
                              block_for=parts.required, data_present=False) from None
        return (yield lambda: self.proxy.read_async(table, key, tuple(slices), read_cl, replication,
                                                    reversed=reversed, limit=limit, now=now))


def serial_level(level: ConsistencyLevel | int | str | None) -> ConsistencyLevel:
    """The serial consistency of a request (SERIAL when not given)."""
    cl = CL.SERIAL if level is None else CL.of(level)
    if not cl.is_serial:
        raise InvalidRequest(f"Invalid consistency for conditional update: {cl.name}, "
                             "must be one of SERIAL or LOCAL_SERIAL")
    return cl


def commit_level(level: ConsistencyLevel | int | str) -> ConsistencyLevel:
    """The commit consistency of a conditional update (Cassandra's validateForCasCommit)."""
    cl = CL.of(level)
    if cl.is_serial:
        raise InvalidRequest(f"{cl.name} is not supported as conditional update commit consistency. "
                             "Use ANY if you mean \"make sure it is accepted but I don't care how "
                             "many replicas commit it for non-SERIAL reads\"")
    return cl


# --- driving rounds ---------------------------------------------------------------------------------

def _outcome(p: Pending) -> tuple[Any, BaseException | None]:
    error = p.exception()
    return (None, error) if error is not None else (p.result(), None)


def run_blocking(round: Round, execute: Callable[[Step], Any]) -> Any:
    """Drive a round from a request thread: ``execute(step)`` runs the step, waits for its
    Pending and gives its result (or raises its error)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = round.throw(error) if error is not None else round.send(value)
        except StopIteration as stop:
            return stop.value
        try:
            value, error = execute(step), None
        except Exception as exc:  # noqa: BLE001 - handed back to the round
            value, error = None, exc


def run_async(round: Round) -> Pending:
    """Drive a round by callbacks on the timer's thread; the Pending gives its value."""
    out = Pending()

    def advance(value: Any, error: BaseException | None) -> None:
        while True:
            try:
                step = round.throw(error) if error is not None else round.send(value)
            except StopIteration as stop:
                out.set_result(stop.value)
                return
            except Exception as exc:  # noqa: BLE001
                out.set_exception(exc)
                return
            try:
                pending = step()
            except Exception as exc:  # noqa: BLE001
                value, error = None, exc
                continue
            if pending.done:
                value, error = _outcome(pending)
                continue
            pending.add_done_callback(lambda p: advance(*_outcome(p)))
            return

    advance(None, None)
    return out


__all__ = ["CAS_CONTENTION_TIMEOUT", "PAXOS_VERBS", "Paxos", "Participants", "PrepareSummary",
           "commit_level", "make_ballot", "run_async", "run_blocking", "serial_level"]
