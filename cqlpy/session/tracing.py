"""Query tracing as Cassandra records it: a traced request's events, its system_traces rows, and QueryTrace.

A traced request (``session.execute(q, trace=True)``, or a protocol frame with the tracing flag
0x02) gets a session id, a version-1 (time) uuid of its start, and a ``TraceState`` that collects
events while it runs.  Each event is (activity, source_elapsed µs since the start, thread name); the
steps are the real ones of the execution:

    session   "Parsing <text>" / "Preparing statement"        (a statement-cache miss only)
    reads     "Executing single-partition query on <table>", then the engine's steps of that read
              (``TableStore._read_traced``): "Acquiring sstable references", memtable lookups,
              "Bloom filter allows skipping sstable <gen>", "Partition index lookup allows skipping
              sstable <gen>", "Skipped N/M non-slice-intersecting sstables, included K due to
              tombstones", "Merged data from memtables and N sstables", "Read N live rows and M
              tombstone cells"; scans: "Executing seq scan across N sstables for (a, b]" and
              "Read N live rows from P partitions"
    writes    "Appending to commitlog", "Adding to <table> memtable"   (``Engine.apply``)

The engine is reached through ``TracingEngine``, which the execution context hands out instead of
the database's engine while a trace is current (``ExecutionContext.engine``); untraced statements
never see it.  The current trace lives in a context variable set only around a traced execution.

When the request ends, its rows are written to ``system_traces`` (one ``engine.apply``, TTL 24 h,
as Cassandra's tracing TTL for queries):

    sessions  session_id, client, command 'QUERY', coordinator, coordinator_port, duration (µs),
              parameters {query, consistency_level, page_size, serial_consistency_level},
              request ('Execute CQL3 query' | 'Execute CQL3 prepared query' |
              'Execute batch of CQL3 queries'), started_at
    events    session_id, event_id (time uuid of the event's instant), activity, source,
              source_elapsed, source_port, thread

``QueryTrace(trace_id, session).populate()`` reads them back through any session (embedded, cqlpy's
client, or the same queries cassandra-driver sends), shaped like cassandra-driver's QueryTrace.
"""
from __future__ import annotations

import ipaddress
import random
import re
import threading
import time
import uuid
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Sequence

TRACE_TTL = 24 * 60 * 60                       # seconds: Cassandra's tracetype_query_ttl
TRACES_KEYSPACE = "system_traces"
STORAGE_PORT = 7000                            # coordinator_port / source_port, as Cassandra's
LOCAL_ADDRESS = "127.0.0.1"
QUERY = "Execute CQL3 query"
PREPARED_QUERY = "Execute CQL3 prepared query"
BATCH = "Execute batch of CQL3 queries"
MIN_TOKEN = -(1 << 63)

_PASSWORD = re.compile(r"(\bPASSWORD\s*=?\s*)('(?:[^']|'')*'|\$\$.*?\$\$)", re.IGNORECASE | re.DOTALL)


def obfuscate_passwords(text: str) -> str:
    """``text`` with every PASSWORD literal replaced by '*******', as Cassandra's PasswordObfuscator
    does before a statement reaches system_traces or a log."""
    return _PASSWORD.sub(lambda m: m.group(1) + "'*******'", text) if "assword" in text.lower() else text


CURRENT: ContextVar["TraceState | None"] = ContextVar("cqlpy_trace", default=None)
"""The trace of the execution running in this context (None: untraced)."""
_REQUESTED: ContextVar["TraceRequest | None"] = ContextVar("cqlpy_trace_request", default=None)
"""A protocol request whose frame asked for tracing (set by the server around the backend call)."""


class TraceUnavailable(Exception):
    """The trace's rows did not appear in system_traces within the wait (cassandra-driver's name)."""


# --- time uuids -------------------------------------------------------------------------------------

_UUID_EPOCH = 0x01B21DD213814000               # 100 ns intervals from 1582-10-15 to 1970-01-01


class TimeUUIDs:
    """Version-1 uuids from instants, strictly increasing (an instant already used, or an earlier
    one, gets the next 100 ns tick), with a random node id (multicast bit set) and clock sequence,
    as Cassandra's UUIDGen makes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._node = random.getrandbits(48) | 0x010000000000
        self._clock_seq = random.getrandbits(14)

    def next(self, unix_micros: int) -> uuid.UUID:
        ticks = unix_micros * 10 + _UUID_EPOCH
        with self._lock:
            if ticks <= self._last:
                ticks = self._last + 1
            self._last = ticks
        seq = self._clock_seq
        return uuid.UUID(fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, (ticks >> 48) & 0x0FFF,
                                 (seq >> 8) & 0x3F, seq & 0xFF, self._node), version=1)


timeuuid = TimeUUIDs().next
"""The process's time uuid for an instant in µs (session ids and event ids)."""


def uuid_datetime(u: uuid.UUID) -> datetime:
    """The naive UTC instant of a time uuid (what cassandra-driver's TraceEvent.datetime holds)."""
    micros = (u.time - _UUID_EPOCH) // 10
    return datetime(1970, 1, 1) + timedelta(microseconds=micros)


# --- what a traced request knows before it runs ---------------------------------------------------------

class TraceRequest:
    """A request to trace: who asked (``client``), which node coordinates it, the request type and
    the protocol parameters; ``session_id`` is set once its trace exists."""

    __slots__ = ("client", "coordinator", "request", "parameters", "session_id")

    def __init__(self, client: str | None = None, coordinator: str | None = None,
                 request: str | None = None, parameters: dict[str, str] | None = None) -> None:
        self.client = client
        self.coordinator = coordinator
        self.request = request
        self.parameters = dict(parameters or {})
        self.session_id: uuid.UUID | None = None


def requested() -> TraceRequest | None:
    """The protocol request being served in this context, when its frame asked for tracing."""
    return _REQUESTED.get()


def call_traced(request: TraceRequest, fn: Callable[[Any], Any], connection: Any) -> Any:
    """``fn(connection)`` with ``request`` as the traced request of this context: the backend's
    session executes with ``trace=request`` and fills ``request.session_id``."""
    token = _REQUESTED.set(request)
    try:
        return fn(connection)
    finally:
        _REQUESTED.reset(token)


# --- one trace ----------------------------------------------------------------------------------------

class TraceState:
    """The events of one traced request, collected while it runs."""

    def __init__(self, clock: Callable[[], float], request: TraceRequest, command: str = "QUERY") -> None:
        self.request = request
        self.command = command
        # started_at is stored in ms: events are placed from that instant on, so that every event
        # falls between started_at and started_at + duration, as readers (cqlsh) compute them
        self.started_micros = int(clock() * 1000) * 1000
        self.session_id = timeuuid(self.started_micros)
        self._t0 = time.perf_counter()
        self.events: list[tuple[int, str, str]] = []        # (source_elapsed µs, activity, thread)
        self.duration: int | None = None
        self._engine: TracingEngine | None = None

    def elapsed_us(self) -> int:
        return int((time.perf_counter() - self._t0) * 1_000_000)

    def trace(self, activity: str) -> None:
        """Record one step, now."""
        self.events.append((self.elapsed_us(), activity, threading.current_thread().name))

    def add_engine_steps(self, steps: Sequence[dict], base_us: int) -> None:
        """The steps of one engine read (``elapsed_us`` from the read's start at ``base_us``), in
        Cassandra's words where Cassandra has a step of the same meaning."""
        thread = threading.current_thread().name
        for step in steps:
            kind = step.get("kind")
            if kind == "bloom":
                activity = f"Bloom filter allows skipping sstable {step['sstable']}"
            elif kind == "index":
                activity = f"Partition index lookup allows skipping sstable {step['sstable']}"
            else:
                activity = step["activity"]
            self.events.append((base_us + int(step.get("elapsed_us", 0)), activity, thread))

    def engine(self, database: Any) -> "TracingEngine":
        """The database's engine, seen through this trace."""
        engine = self._engine
        if engine is None or engine.wrapped is not database.engine:
            engine = self._engine = TracingEngine(database.engine, self, database.catalog)
        return engine

    def finish(self) -> None:
        if self.duration is None:
            self.duration = max(1, self.elapsed_us())

    # --- system_traces rows ---------------------------------------------------------------------

    def session_row(self) -> dict[str, Any]:
        from cqlpy.schema.values import datetime_from_millis
        req = self.request
        return {"session_id": self.session_id,
                "client": _inet(req.client or LOCAL_ADDRESS),
                "command": self.command,
                "coordinator": _inet(req.coordinator or LOCAL_ADDRESS),
                "coordinator_port": STORAGE_PORT,
                "duration": self.duration,
                "parameters": dict(req.parameters),
                "request": req.request or QUERY,
                "started_at": datetime_from_millis(self.started_micros // 1000)}

    def event_rows(self) -> Iterator[dict[str, Any]]:
        source = _inet(self.request.coordinator or LOCAL_ADDRESS)
        for elapsed, activity, thread in sorted(self.events, key=lambda e: e[0]):
            yield {"session_id": self.session_id,
                   "event_id": timeuuid(self.started_micros + elapsed),
                   "activity": activity, "source": source, "source_elapsed": elapsed,
                   "source_port": STORAGE_PORT, "thread": thread}


def _inet(text: str) -> Any:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return ipaddress.ip_address(LOCAL_ADDRESS)


_CODECS: dict[str, Any] = {}


def _codec(table: str) -> Any:
    codec = _CODECS.get(table)
    if codec is None:
        from cqlpy.schema.system_tables import system_table
        from cqlpy.session.rowcodec import RowCodec
        codec = _CODECS[table] = RowCodec(system_table(TRACES_KEYSPACE, table))
    return codec


def store(database: Any, state: TraceState) -> None:
    """Write the trace's session row and events to system_traces, in one engine write (TTL 24 h)."""
    state.finish()
    now_seconds = database.clock()
    now = int(now_seconds)
    timestamp = database.timestamps.next(int(now_seconds * 1_000_000))
    updates = [_codec("sessions").insert(state.session_row(), timestamp=timestamp, now=now,
                                         ttl=TRACE_TTL)]
    events = None
    codec = _codec("events")
    for row in state.event_rows():
        u = codec.insert(row, timestamp=timestamp, now=now, ttl=TRACE_TTL)
        if events is None:
            events = u
        else:
            events.merge(u)
    if events is not None:
        updates.append(events)
    database.engine.apply(updates)


def execute_traced(session: Any, query: Any, parameters: Any, timeout: Any, trace: Any,
                   **options: Any) -> Any:
    """``session.execute`` of one statement with tracing (the embedded Session's ``trace=``):
    the result carries ``trace_id`` and ``get_query_trace()``; a failed statement is traced too."""
    request = trace if isinstance(trace, TraceRequest) else TraceRequest()
    if request.request is None:
        request.request = PREPARED_QUERY if _is_prepared(query) else QUERY
    if "query" not in request.parameters:
        text = query if isinstance(query, str) else getattr(query, "query_string", None)
        if text is None:
            ps = getattr(query, "prepared_statement", None)
            text = getattr(ps, "query_string", None)
        if isinstance(text, str):
            request.parameters["query"] = obfuscate_passwords(text)
    database = session._database
    state = TraceState(database.clock, request)
    token = CURRENT.set(state)
    try:
        rs = session.execute(query, parameters, timeout, trace=False, **options)
    finally:
        CURRENT.reset(token)
        if not database.closed:
            store(database, state)
            request.session_id = state.session_id
    rs.trace_id = state.session_id
    rs.trace_session = session
    return rs


def _is_prepared(query: Any) -> bool:
    return type(query).__name__ in ("PreparedStatement", "BoundStatement")


# --- the engine, traced ---------------------------------------------------------------------------------

class TracingEngine:
    """An engine whose reads, scans and writes record their steps in a TraceState; everything else
    is the wrapped engine's.  Equal to (and hashed as) the engine it wraps, so per-engine tables such
    as the write path's partition locks stay shared."""

    def __init__(self, engine: Any, state: TraceState, catalog: Any) -> None:
        self.wrapped = engine
        self._state = state
        self._catalog = catalog

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def __eq__(self, other: object) -> bool:
        return other is self or other is self.wrapped or (
            isinstance(other, TracingEngine) and other.wrapped is self.wrapped)

    def __hash__(self) -> int:
        return hash(self.wrapped)

    def _table_name(self, table_id: bytes) -> str:
        table = self._catalog.table_by_id(table_id)
        return table.name if table is not None else table_id.hex()

    def read(self, table_id: bytes, key: bytes, *args: Any, **kwargs: Any) -> Any:
        state = self._state
        state.trace(f"Executing single-partition query on {self._table_name(table_id)}")
        steps: list[dict] = []
        base = state.elapsed_us()
        try:
            return self.wrapped.read(table_id, key, *args, trace=steps, **kwargs)
        finally:
            state.add_engine_steps(steps, base)

    def scan(self, table_id: bytes, start: Any = None, start_inclusive: bool = True,
             end_token: int | None = None, **kwargs: Any) -> Iterator[Any]:
        state = self._state
        low = f"min({MIN_TOKEN})" if start is None else str(start[0])
        high = f"min({MIN_TOKEN})" if end_token is None else str(end_token)
        try:
            count = self.wrapped.stats(table_id)["sstable_count"]
        except (AttributeError, KeyError, TypeError):   # a routing engine keeps no local statistics
            state.trace(f"Executing range scan for ({low}, {high}] on the replicas")
        else:
            state.trace(f"Executing seq scan across {count} sstables for ({low}, {high}]")
        return self._counted(self.wrapped.scan(table_id, start, start_inclusive, end_token, **kwargs))

    def _counted(self, partitions: Iterator[Any]) -> Iterator[Any]:
        rows = parts = 0
        try:
            for p in partitions:
                parts += 1
                rows += len(p.rows) or (1 if p.static_row is not None else 0)
                yield p
        finally:
            close = getattr(partitions, "close", None)
            if close is not None:
                close()
            self._state.trace(f"Read {rows} live rows from {parts} partitions")

    def apply(self, updates: Sequence[Any], trace: Callable[[str], None] | None = None) -> None:
        from cqlpy.engine.engine import Engine
        if isinstance(self.wrapped, Engine):
            self.wrapped.apply(updates, trace=self._state.trace)
        else:
            self._state.trace(f"Sending {len(updates)} partition updates to their replicas")
            self.wrapped.apply(updates)


# --- reading a trace back -------------------------------------------------------------------------------

class TraceEvent:
    """One row of system_traces.events, as cassandra-driver's TraceEvent."""

    def __init__(self, description: str, event_id: uuid.UUID, source: Any, source_elapsed: int | None,
                 thread_name: str | None) -> None:
        self.description = description
        self.datetime = uuid_datetime(event_id)
        self.source = source
        self.source_elapsed = timedelta(microseconds=source_elapsed) if source_elapsed is not None else None
        self.thread_name = thread_name

    def __str__(self) -> str:
        return f"{self.description} on {self.source}[{self.thread_name}] at {self.datetime}"


class QueryTrace:
    """A trace read from system_traces, as cassandra-driver's QueryTrace: ``trace_id``,
    ``request_type``, ``duration`` (timedelta), ``coordinator``, ``parameters``, ``started_at``,
    ``client``, ``events`` (TraceEvents in event order)."""

    def __init__(self, trace_id: uuid.UUID, session: Any) -> None:
        self.trace_id = trace_id
        self._session = session
        self.request_type: str | None = None
        self.duration: timedelta | None = None
        self.coordinator: Any = None
        self.parameters: dict | None = None
        self.started_at: datetime | None = None
        self.client: Any = None
        self.events: tuple[TraceEvent, ...] = ()

    def populate(self, max_wait: float | None = 2.0, wait_for_complete: bool = True) -> "QueryTrace":
        """Poll system_traces.sessions until the session row has its duration (or, without
        ``wait_for_complete``, exists), then read the events; TraceUnavailable after ``max_wait``."""
        deadline = None if max_wait is None else time.monotonic() + max_wait
        delay = 0.003
        while True:
            row = _first(self._session.execute(
                f"SELECT * FROM system_traces.sessions WHERE session_id = {self.trace_id}"))
            if row is not None and (row.duration is not None or not wait_for_complete):
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TraceUnavailable(f"Trace information was not available within {max_wait} seconds")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        self.request_type = row.request
        self.duration = timedelta(microseconds=row.duration) if row.duration is not None else None
        self.started_at = row.started_at
        self.coordinator = row.coordinator
        self.parameters = row.parameters
        self.client = row.client
        events = self._session.execute(
            f"SELECT * FROM system_traces.events WHERE session_id = {self.trace_id}")
        self.events = tuple(TraceEvent(r.activity, r.event_id, r.source, r.source_elapsed, r.thread)
                            for r in events)
        return self

    def __str__(self) -> str:
        return (f"{self.request_type} [{self.trace_id}] coordinator: {self.coordinator}, "
                f"started at: {self.started_at}, duration: {self.duration}, "
                f"parameters: {self.parameters}")


def _first(result: Any) -> Any:
    for row in result:
        return row
    return None


def query_trace(session: Any, trace_id: uuid.UUID, max_wait: float | None = None) -> QueryTrace:
    """The populated QueryTrace of ``trace_id`` (what ``ResultSet.get_query_trace`` returns)."""
    return QueryTrace(trace_id, session).populate(2.0 if max_wait is None else max_wait)


__all__ = ["BATCH", "CURRENT", "PREPARED_QUERY", "QUERY", "TRACE_TTL", "QueryTrace", "TraceEvent",
           "TimeUUIDs", "TraceRequest", "TraceState", "TraceUnavailable", "TracingEngine", "call_traced",
           "execute_traced", "query_trace", "requested", "store", "timeuuid", "uuid_datetime",
]
