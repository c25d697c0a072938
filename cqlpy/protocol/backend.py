"""What the protocol server runs requests on: the Backend interface, and its Session implementation.

The server knows nothing of CQL.  It decodes frames and calls, on a worker thread::

    backend.open() -> BackendConnection          one per client connection (its USE keyspace)
        conn.query(text, params)          -> Result      (QUERY; params: messages.QueryParameters)
        conn.prepare(text)                -> PreparedResult
        conn.execute(query_id, params)    -> Result      (EXECUTE; Unprepared for an unknown id)
        conn.batch(batch)                 -> Result      (BATCH; messages.Batch)
        conn.close()
        conn.login(role)                  optional: run as this role after a SASL login
    backend.add_schema_listener(fn)       fn(SchemaChangeResult) after every committed DDL
    backend.remove_schema_listener(fn)    stop calling fn (a server that stops serving)
    backend.close()                       flush memtables, close storage (server shutdown)

and encodes whatever comes back, or the cqlpy.errors exception raised, as the response.  A request
whose frame has the tracing flag runs with ``trace=`` its ``tracing.requested()`` TraceRequest.

``SessionBackend`` puts one embedded ``Database`` behind the server: a ``Session`` per
connection, a prepared-statement registry shared by all connections (ids are Cassandra's: the MD5
of keyspace + query text, so every connection and every restart gives the same id), and the
conversions between wire values (raw [value] bytes) and the Session's Python values through the
one value codec (cqlpy.schema.codec).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Protocol, Sequence

from cqlpy.errors import InvalidRequest, Unprepared
from cqlpy.schema import codec
from cqlpy.schema.types import parse_type
from cqlpy.session.request_options import using_consistency
from cqlpy.session.tracing import requested

from .frame import NOT_SET
from .messages import Batch, BatchType, QueryParameters
from .results import (
    ColumnSpec,
    PreparedResult,
    Result,
    RowsResult,
    SchemaChangeResult,
    SetKeyspaceResult,
    VoidResult,
)

PREPARED_CACHE_SIZE = 10_000
_BLOB = parse_type("blob")


class BackendConnection(Protocol):
    def query(self, query: str, params: QueryParameters) -> Result: ...
    def prepare(self, query: str) -> PreparedResult: ...
    def execute(self, query_id: bytes, params: QueryParameters) -> Result: ...
    def batch(self, batch: Batch) -> Result: ...
    def close(self) -> None: ...


class Backend(Protocol):
    def open(self) -> BackendConnection: ...
    def add_schema_listener(self, listener: Callable[[SchemaChangeResult], None]) -> None: ...
    def remove_schema_listener(self, listener: Callable[[SchemaChangeResult], None]) -> None: ...
    def close(self) -> None: ...


# --- conversions between the Session's objects and protocol results ----------------------------------

def column_spec(column: Any) -> ColumnSpec:
    """A ColumnSpec from a result column or bind column of the session (attribute or tuple shape)."""
    if isinstance(column, ColumnSpec):
        return column
    ks = getattr(column, "keyspace", None)
    if ks is None:
        ks = getattr(column, "keyspace_name", None)
    table = getattr(column, "table", None)
    if table is None:
        table = getattr(column, "table_name", None)
    name = getattr(column, "name", None)
    ctype = getattr(column, "type", None)
    if name is None and isinstance(column, tuple) and len(column) == 4:
        ks, table, name, ctype = column
    if isinstance(ctype, str):
        ctype = parse_type(ctype)
    return ColumnSpec(ks or "", table or "", str(name), ctype if ctype is not None else _BLOB)


def _columns_of(rs: Any) -> list | None:
    columns = getattr(rs, "column_specs", None)
    return columns if columns else getattr(rs, "columns", None)


def result_message(rs: Any) -> Result:
    """The RESULT for a Session ResultSet: Schema_change, Set_keyspace, Rows or Void."""
    change = getattr(rs, "schema_change", None)
    if change is not None:
        result: Result = SchemaChangeResult.of(change)
    elif getattr(rs, "keyspace", None) and not _columns_of(rs):
        result = SetKeyspaceResult(rs.keyspace)
    else:
        columns = _columns_of(rs)
        if columns:
            specs = [column_spec(c) for c in columns]
            types = [c.type for c in specs]
            rows = [[None if v is None else codec.serialize(t, v) for t, v in zip(types, row)]
                    for row in rs.current_rows]
            paging_state = getattr(rs, "paging_state", None)
            if paging_state is not None and not isinstance(paging_state, bytes):
                paging_state = bytes(paging_state)
            result = RowsResult(specs, rows, paging_state or None)
        else:
            result = VoidResult()
    warnings = getattr(rs, "warnings", None)
    if warnings:
        result.warnings = list(warnings)
    return result


def python_values(columns: Sequence[Any], params: QueryParameters) -> Any:
    """The wire values of ``params`` as Python values for the session, each read with the type of
    its bind marker (``columns``: the statement's bind columns); a dict when the values are named.

    Null stays None, "not set" becomes UNSET; values past the known markers are passed through so
    the session reports the count mismatch in its own words."""
    from cqlpy.session.session import UNSET
    raw = params.values or []
    if params.names is not None:
        by_name = {}
        for c in columns:
            by_name.setdefault(c.name, c.type)
            by_name.setdefault(c.name.lower(), c.type)
        types = []
        for name in params.names:
            t = by_name.get(name, by_name.get(name.lower()))
            if t is None:
                raise InvalidRequest(f"Invalid named value: no bind marker is named {name}")
            types.append(t)
    else:
        types = [c.type for c in columns]
    out = []
    for i, value in enumerate(raw):
        if value is NOT_SET:
            out.append(UNSET)
        elif value is None:
            out.append(None)
        elif i < len(types):
            out.append(codec.deserialize(types[i], value))
        else:
            out.append(value)
    if params.names is not None:
        return dict(zip(params.names, out))
    return out


class PreparedRegistry:
    """Prepared statements by id, shared by every connection; least recently used ones go first."""

    def __init__(self, capacity: int = PREPARED_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, Any] = OrderedDict()

    def put(self, query_id: bytes, prepared: Any) -> None:
        with self._lock:
            self._entries[query_id] = prepared
            self._entries.move_to_end(query_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def get(self, query_id: bytes) -> Any:
        with self._lock:
            prepared = self._entries.get(query_id)
            if prepared is None:
                raise Unprepared(f"Prepared query with ID {query_id.hex()} not found (either the query "
                                 "was not prepared on this host (maybe the host has been restarted?) "
                                 "or you have prepared too many queries and it has been evicted from "
                                 "the internal cache)", query_id)
            self._entries.move_to_end(query_id)
            return prepared

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# --- the Session backend ------------------------------------------------------------------------------

class SessionConnection:
    """One client connection's Session (its keyspace) over the shared Database."""

    def __init__(self, backend: "SessionBackend") -> None:
        from cqlpy.session.session import Session
        self._backend = backend
        self.session = Session(backend.database)

    @staticmethod
    def _page_size(params: QueryParameters) -> int | None:
        return params.page_size if params.page_size is not None and params.page_size > 0 else None

    def _prepared_result(self, ps: Any) -> PreparedResult:
        binds = [column_spec(c) for c in ps.column_metadata]
        result_columns = ps.result_metadata
        return PreparedResult(ps.query_id, binds, list(ps.routing_key_indexes or []),
                              [column_spec(c) for c in result_columns] if result_columns else None)

    def _run(self, statement: Any, values: Any, params: QueryParameters) -> Result:
        with using_consistency(params.consistency, params.serial_consistency):  # ring only
            rs = self.session.execute(statement, values, fetch_size=self._page_size(params),
                                      paging_state=params.paging_state, timestamp=params.timestamp,
                                      trace=requested())
        return result_message(rs)

    def query(self, query: str, params: QueryParameters) -> Result:
        if params.values:
            ps = self.session.prepare(query)
            return self._run(ps, python_values(ps.column_metadata, params), params)
        return self._run(query, None, params)

    def prepare(self, query: str) -> PreparedResult:
        ps = self.session.prepare(query)
        self._backend.prepared.put(ps.query_id, ps)
        return self._prepared_result(ps)

    def execute(self, query_id: bytes, params: QueryParameters) -> Result:
        ps = self._backend.prepared.get(query_id)
        return self._run(ps, python_values(ps.column_metadata, params), params)

    def batch(self, batch: Batch) -> Result:
        """A BATCH frame as one CQL BATCH statement: its statements' text with their values."""
        parts: list[str] = []
        values: list[Any] = []
        for st in batch.statements:
            if st.query_id is not None:
                ps = self._backend.prepared.get(st.query_id)
                text, columns = ps.query_string, ps.column_metadata
            else:
                text = st.query or ""
                columns = self.session.prepare(text).column_metadata if st.values else []
            if len(st.values) != len(columns):
                raise InvalidRequest(f"There were {len(columns)} markers(?) in CQL but {len(st.values)} "
                                     "bound variables")
            parts.append(text.strip().rstrip(";"))
            values.extend(python_values(columns, QueryParameters(values=st.values)))
        kind = {BatchType.LOGGED: "", BatchType.UNLOGGED: "UNLOGGED ", BatchType.COUNTER: "COUNTER "}
        text = f"BEGIN {kind[batch.batch_type]}BATCH\n" + ";\n".join(parts) + ";\nAPPLY BATCH"
        with using_consistency(batch.consistency, batch.serial_consistency):
            rs = self.session.execute(text, values or None, timestamp=batch.timestamp,
                                      trace=requested())
        return result_message(rs)

    def login(self, role: str) -> None:
        """Run this connection's statements as ``role`` (after a SASL login): role statements
        check its permissions (cqlpy.session.roles)."""
        from cqlpy.session import roles
        roles.login(self.session, role)

    def close(self) -> None:
        # the Session's close() would close the shared Database: drop the reference only
        self.session = None  # type: ignore[assignment]


class SessionBackend:
    """The embedded database behind the protocol server."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.prepared = PreparedRegistry()
        self._schema_listeners: dict[Any, Callable[[Any], None]] = {}   # listener -> catalog's

    @classmethod
    def open_path(cls, path: str, **options: Any) -> "SessionBackend":
        from cqlpy.session.session import Database
        return cls(Database(path, **options))

    @property
    def cql_version(self) -> str:
        """The CQL version system.local reports, which SUPPORTED must offer too."""
        from cqlpy.session import system_views
        return system_views.CQL_VERSION

    def open(self) -> SessionConnection:
        return SessionConnection(self)

    def role_manager(self) -> Any:
        """The roles of the database (system_auth), what PasswordAuthenticator checks logins
        against; created with the default superuser on first use."""
        from cqlpy.session.roles import RoleManager
        return RoleManager.of(self.database)

    def add_schema_listener(self, listener: Callable[[SchemaChangeResult], None]) -> None:
        def on_commit(change: Any) -> None:
            listener(SchemaChangeResult.of(change))
        self.remove_schema_listener(listener)
        self._schema_listeners[listener] = on_commit
        self.database.catalog.add_commit_listener(on_commit)

    def remove_schema_listener(self, listener: Callable[[SchemaChangeResult], None]) -> None:
        on_commit = self._schema_listeners.pop(listener, None)
        if on_commit is not None:
            self.database.catalog.remove_commit_listener(on_commit)

    def close(self) -> None:
        """Flush every memtable to SSTables, then close the storage (a clean shutdown)."""
        for listener in list(self._schema_listeners):
            self.remove_schema_listener(listener)
        if getattr(self.database, "closed", False):
            return
        try:
            self.database.engine.flush()
        finally:
            self.database.close()
