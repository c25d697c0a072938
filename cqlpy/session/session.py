"""The embedded database and its Session: ``execute`` / ``prepare`` as cassandra-driver offers them.

``Database`` owns one data folder: the engine, the catalog (loaded from and persisted to
``system_schema`` by the schema store), the secondary indexes, ``system.local``, and the clock.
``Session`` is what ``cqlpy.connect()`` returns::

    session.execute(query, parameters=None, *, fetch_size=None, paging_state=None, timestamp=None,
                    trace=False)    # trace=True: result.get_query_trace() (tracing.py)
    session.prepare(query) -> PreparedStatement     # then session.execute(ps, values) or ps.bind(values)
    session.keyspace / set_keyspace(ks) / execute("USE ks")
    session.flush(), session.compact(), session.close(); ``with connect(path) as session:``

``query`` is CQL text, a PreparedStatement, a BoundStatement or any object with a ``query_string``
(cassandra-driver's SimpleStatement, whose ``fetch_size`` is honoured).  Parameters: see params.py.
Consistency levels, timeouts and execution profiles are accepted and ignored (one node).

Every statement text is parsed and planned once per (text, keyspace) and schema version: the
statement cache (``cache_stats()``: hits, misses, size).  A ``%s`` statement is run as the same
text with ``?`` markers when its values bind to them (so it is cached too); when they do not (a
string for a timestamp column, say) it is formatted with CQL literals as cassandra-driver does.  Server-side write timestamps are unique
and increasing per database, across restarts too: ``max(clock µs, previous + 1)``, the previous
being at open the newest timestamp on disk (timestamps.py).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Callable, Sequence

from cqlpy.errors import CQLError, InvalidRequest, ServerError
from cqlpy.language import parse_one
from cqlpy.planner.planner import plan as plan_statement, routing_key_indexes
from cqlpy.planner.terms import UNSET, Markers
from cqlpy.schema.catalog import Catalog

from . import executor
from . import tracing as _tracing
from .params import bind_values, format_percent, marker_names, percent_to_markers, uses_percent_style

STATEMENT_CACHE_SIZE = 2048
_current_trace = _tracing.CURRENT.get


class Database:
    """One open data folder: engine + catalog + schema store + indexes + system.local."""

    def __init__(self, path: str, *, clock: Callable[[], float] | None = None, **engine_options: Any) -> None:
        from cqlpy.engine.engine import Engine
        from .indexes import IndexManager
        from .schema_store import SchemaStore
        from .system_views import SystemViews
        from .timestamps import ServerTimestamps

        self.path = str(path)
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.engine = Engine.open(self.path, clock=self.clock, **engine_options)
        self.schema_lock = threading.RLock()
        try:
            self.timestamps = ServerTimestamps.seeded(self.engine, int(self.clock() * 1_000_000))
            self.catalog = Catalog()
            self.schema_store = SchemaStore.open(self.engine, self.catalog, clock=self.clock)
            self.indexes = IndexManager(self.engine)
            self.indexes.ensure(self.catalog, now=int(self.clock()))
            self.system_views = SystemViews.open(self.engine, self.catalog, self.clock,
                                                 ServerTimestamps(self.timestamps.last))
        except BaseException:
            self.engine.close()
            raise
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.system_views.close()
            self.schema_store.close()
        finally:
            self.engine.close()


class PreparedStatement:
    """A statement parsed and planned once, executed with values many times.

    Bind metadata as cassandra-driver exposes it: ``column_metadata`` (one ``BindColumn`` per marker:
    keyspace, table, name, type), ``routing_key_indexes`` (marker positions of the partition-key
    columns, or None), ``result_metadata`` (the result columns of a SELECT, else None), ``query_id``
    (MD5 of keyspace + text, as Cassandra's statement id)."""

    def __init__(self, session: "Session", query_string: str, keyspace: str | None, plan: Any,
                 version: Any) -> None:
        self.session = session
        self.query_string = query_string
        self.keyspace = keyspace
        self.fetch_size: int | None = None
        self._plan = plan
        self._version = version
        self.query_id = hashlib.md5(((keyspace or "") + query_string).encode("utf-8")).digest()
        self._describe(plan)

    def _describe(self, plan: Any) -> None:
        markers: Markers = getattr(plan, "markers", None) or Markers()
        self.markers = markers
        self.column_metadata = [BindColumn(r.keyspace if r else "", r.table if r else "", name,
                                           r.type if r else None)
                                for name, r in zip(marker_names(markers), markers.receivers)]
        self.routing_key_indexes = routing_key_indexes(plan, self.session._database.catalog)
        self.result_metadata = _result_columns(plan)

    @property
    def plan(self) -> Any:
        """The current plan (re-planned from the text when the schema changed since)."""
        catalog = self.session._database.catalog
        if catalog.schema_version != self._version:
            version = catalog.schema_version
            plan = _plan_text(self.query_string, catalog, self.keyspace)
            self._plan, self._version = plan, version
            self._describe(plan)
        return self._plan

    def bind(self, values: Any = None) -> "BoundStatement":
        return BoundStatement(self, values)

    def __repr__(self) -> str:
        return f"<PreparedStatement query={self.query_string!r}>"


class BoundStatement:
    """A prepared statement with its values (``ps.bind(values)``), as in cassandra-driver."""

    def __init__(self, prepared: PreparedStatement, values: Any = None) -> None:
        self.prepared_statement = prepared
        self.values = values
        self.fetch_size: int | None = prepared.fetch_size
        self.query_string = prepared.query_string

    def bind(self, values: Any) -> "BoundStatement":
        self.values = values
        return self


class SimpleStatement:
    """CQL text with per-statement options (``fetch_size``), as cassandra.query.SimpleStatement."""

    def __init__(self, query_string: str, fetch_size: int | None = None, **ignored: Any) -> None:
        self.query_string = query_string
        self.fetch_size = fetch_size

    def __str__(self) -> str:
        return self.query_string


class BindColumn(tuple):
    """(keyspace_name, table_name, name, type) of one bind marker."""

    __slots__ = ()

    def __new__(cls, keyspace_name: str, table_name: str, name: str, type: Any) -> "BindColumn":
        return super().__new__(cls, (keyspace_name, table_name, name, type))

    keyspace_name = property(lambda self: self[0])
    table_name = property(lambda self: self[1])
    name = property(lambda self: self[2])
    type = property(lambda self: self[3])


_INTERNAL_ERRORS = (TypeError, ValueError, KeyError, AttributeError, AssertionError, IndexError,
                    LookupError, ArithmeticError, OSError, RecursionError)


def _plan_text(text: str, catalog: Catalog, keyspace: str | None, trace: Any = None) -> Any:
    """Parse and plan one statement; a bug below shows as a ServerError naming it, not a traceback.
    ``trace``: the current TraceState (tracing.py), told of each step."""
    try:
        if trace is None:
            return plan_statement(parse_one(text), catalog, keyspace)
        from .tracing import obfuscate_passwords
        trace.trace(f"Parsing {obfuscate_passwords(text)}")
        statement = parse_one(text)
        trace.trace("Preparing statement")
        return plan_statement(statement, catalog, keyspace)
    except CQLError:
        raise
    except _INTERNAL_ERRORS as exc:
        raise ServerError(f"Internal error while planning the statement ({type(exc).__name__}: {exc})") from exc


def _result_columns(plan: Any) -> list | None:
    for attr in ("result_columns", "result_metadata", "specs"):
        value = getattr(plan, attr, None)
        if value is not None and not callable(value):
            return list(value)
    return None


class _CacheEntry:
    __slots__ = ("plan", "version")

    def __init__(self, plan: Any, version: Any) -> None:
        self.plan, self.version = plan, version


class Session:
    """Executes CQL against one embedded Database (see the module documentation)."""

    def __init__(self, database: Database, keyspace: str | None = None) -> None:
        self._database = database
        self._keyspace: str | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str | None], _CacheEntry] = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0
        if keyspace:
            self.set_keyspace(keyspace)

    # --- properties ----------------------------------------------------------------------------

    @property
    def keyspace(self) -> str | None:
        return self._keyspace

    @property
    def database(self) -> Database:
        return self._database

    @property
    def catalog(self) -> Catalog:
        return self._database.catalog

    @property
    def engine(self) -> Any:
        return self._database.engine

    @property
    def is_shutdown(self) -> bool:
        return self._database.closed

    def set_keyspace(self, keyspace: str) -> None:
        self.execute(f'USE "{keyspace.replace(chr(34), chr(34) * 2)}"')

    def _set_keyspace(self, keyspace: str) -> None:
        self._keyspace = keyspace

    def cache_stats(self) -> dict[str, Any]:
        """The statement cache's counters: hits, misses, size and hit_rate (0..1)."""
        total = self.cache_hits + self.cache_misses
        return {"hits": self.cache_hits, "misses": self.cache_misses, "size": len(self._cache),
                "hit_rate": self.cache_hits / total if total else 0.0}

    # --- executing -----------------------------------------------------------------------------

    def execute(self, query: Any, parameters: Any = None, timeout: Any = None, *,
                fetch_size: int | None = None, paging_state: bytes | None = None,
                timestamp: int | None = None, consistency_level: Any = None, trace: bool = False,
                **ignored: Any) -> Any:
        """Run one statement and return its ResultSet (see the module documentation)."""
        if self._database.closed:
            self._check_open()
        if trace:
            return _tracing.execute_traced(self, query, parameters, timeout, trace, fetch_size=fetch_size,
                                           paging_state=paging_state, timestamp=timestamp,
                                           consistency_level=consistency_level, **ignored)
        if isinstance(query, BoundStatement):
            if parameters is None:
                parameters = query.values
            if fetch_size is None:
                fetch_size = query.fetch_size
            query = query.prepared_statement
        if isinstance(query, PreparedStatement):
            if fetch_size is None:
                fetch_size = query.fetch_size
            plan = query.plan
            values = bind_values(plan.markers, parameters, prepared=True)
            keyspace = query.keyspace if query.keyspace is not None else self._keyspace
            return self._run(plan, values, keyspace, fetch_size, paging_state, timestamp)
        if not isinstance(query, str):
            text = getattr(query, "query_string", None)
            if not isinstance(text, str):
                raise TypeError(f"execute() takes CQL text or a statement, not {type(query).__name__}")
            if fetch_size is None:
                fetch_size = getattr(query, "fetch_size", None)
            query = text
        if parameters is not None and uses_percent_style(query):
            fast = self._percent_as_markers(query, parameters)
            if fast is not None:
                plan, values = fast
                return self._run(plan, values, self._keyspace, fetch_size, paging_state, timestamp)
            query = format_percent(query, parameters)
            parameters = None
        plan = self._plan_cached(query, self._keyspace)
        values = bind_values(plan.markers, parameters) if len(plan.markers) or parameters else ()
        return self._run(plan, values, self._keyspace, fetch_size, paging_state, timestamp)

    def _percent_as_markers(self, text: str, parameters: Any) -> tuple[Any, list] | None:
        """A ``%s`` statement run as the same statement with markers (planned once, cached) when
        that means the same thing: the values bind without error.  None otherwise; then the text
        is formatted with CQL literals as cassandra-driver does, and its literal rules decide."""
        rewrite = percent_to_markers(text)
        if rewrite is None:
            return None
        marked, named = rewrite
        if named != isinstance(parameters, Mapping):
            return None
        try:
            plan = self._plan_cached(marked, self._keyspace)
            if isinstance(parameters, Mapping) and any(n not in parameters for n in plan.markers.names):
                return None
            return plan, bind_values(plan.markers, parameters)
        except CQLError:
            return None

    def execute_async(self, query: Any, parameters: Any = None, *args: Any, **kwargs: Any) -> "ResponseFuture":
        """Runs the statement now; the future holds its result (or error) for driver-style code."""
        future = ResponseFuture()
        try:
            future._result = self.execute(query, parameters, *args, **kwargs)
        except CQLError as exc:
            future._error = exc
        return future

    def prepare(self, query: Any, custom_payload: Any = None) -> PreparedStatement:
        """Parse and plan ``query`` once; execute the result with values many times."""
        self._check_open()
        text = query if isinstance(query, str) else getattr(query, "query_string", None)
        if not isinstance(text, str):
            raise TypeError(f"prepare() takes CQL text, not {type(query).__name__}")
        catalog = self._database.catalog
        version = catalog.schema_version
        plan = self._plan_cached(text, self._keyspace)
        return PreparedStatement(self, text, self._keyspace, plan, version)

    def _plan_cached(self, text: str, keyspace: str | None) -> Any:
        catalog = self._database.catalog
        key = (text, keyspace)
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and entry.version == catalog.schema_version:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return entry.plan
            self.cache_misses += 1
        version = catalog.schema_version
        plan = _plan_text(text, catalog, keyspace, _tracing.CURRENT.get())
        with self._lock:
            self._cache[key] = _CacheEntry(plan, version)
            self._cache.move_to_end(key)
            while len(self._cache) > STATEMENT_CACHE_SIZE:
                self._cache.popitem(last=False)
        return plan

    def _server_timestamp(self, now_micros: int) -> int:
        return self._database.timestamps.next(now_micros)

    def _run(self, plan: Any, values: Sequence[Any], keyspace: str | None, fetch_size: int | None,
             paging_state: bytes | None, timestamp: int | None) -> Any:
        if fetch_size is not None and fetch_size <= 0:
            fetch_size = None
        now_seconds = self._database.clock()
        now_micros = int(now_seconds * 1_000_000)
        client = timestamp is not None
        ts = int(timestamp) if client else self._server_timestamp(now_micros)
        ctx = executor.ExecutionContext(self._database, values, ts, int(now_seconds), now_micros,
                                        keyspace, client, fetch_size, paging_state, self, plan)
        trace = _current_trace()
        if trace is not None:
            ctx.trace = trace
        try:
            return executor.execute(plan, ctx)
        except CQLError:
            raise
        except _INTERNAL_ERRORS as exc:
            raise ServerError(f"Internal error while executing the statement "
                              f"({type(exc).__name__}: {exc})") from exc

    # --- maintenance ---------------------------------------------------------------------------

    def _table_id(self, keyspace: str | None, table: str | None) -> bytes | None:
        if table is None:
            if keyspace is not None:
                raise InvalidRequest("flush/compact of a whole keyspace: name a table, or neither")
            return None
        ks = Catalog.resolve_keyspace(keyspace, self._keyspace)
        return self._database.catalog.table(ks, table).id.bytes

    def flush(self, keyspace: str | None = None, table: str | None = None) -> None:
        """Write memtables to SSTables (one table, or all), like ``nodetool flush``."""
        self._check_open()
        table_id = self._table_id(keyspace, table)
        if table_id is None:
            self._database.engine.flush()
        else:
            self._database.engine.flush(table_id)

    def compact(self, keyspace: str | None = None, table: str | None = None) -> None:
        """Flush, then merge every SSTable of one table (or all) into one, like ``nodetool compact``."""
        self._check_open()
        table_id = self._table_id(keyspace, table)
        engine = self._database.engine
        if table_id is None:
            engine.flush()
            engine.compact()
        else:
            engine.flush(table_id)
            engine.compact(table_id)

    def stats(self) -> dict[str, Any]:
        """Engine statistics plus the statement cache's counters."""
        return {"engine": self._database.engine.stats(), "statement_cache": self.cache_stats()}

    def _check_open(self) -> None:
        if self._database.closed:
            raise InvalidRequest("Cannot execute on a closed session")

    def close(self) -> None:
        self._database.close()

    shutdown = close

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<cqlpy.Session {self._database.path!r} keyspace={self._keyspace!r}>"


class ResponseFuture:
    """What ``execute_async`` returns: ``result()`` gives the ResultSet or raises its error."""

    def __init__(self) -> None:
        self._result: Any = None
        self._error: BaseException | None = None

    def result(self, timeout: Any = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._result

    def add_callbacks(self, callback: Callable, errback: Callable) -> None:
        if self._error is not None:
            errback(self._error)
        else:
            callback(self._result)


def connect(path: str, keyspace: str | None = None, **options: Any) -> Session:
    """Open (creating if needed) the database in folder ``path`` and return a Session on it.

    ``options`` go to the storage engine (commitlog_sync='periodic'|'batch',
    commitlog_sync_period_ms, memtable_flush_bytes, compaction, ...); ``clock`` (a function giving
    seconds since the epoch) replaces the wall clock, for tests."""
    database = Database(path, **options)
    try:
        return Session(database, keyspace)
    except BaseException:
        database.close()
        raise


__all__ = ["BoundStatement", "Database", "PreparedStatement", "ResponseFuture", "Session",
           "SimpleStatement", "UNSET", "connect"]
