"""The native-protocol client: a Session with the embedded one's API, over TCP to any node.

    session = connect("127.0.0.1", 9042, keyspace=None, username=None, password=None,
                      compression=None, timeout=10.0)
    session.execute(query, parameters=None, timeout=None, *, fetch_size=None, paging_state=None,
                    timestamp=None, consistency_level=None, trace=False) -> ResultSet
    session.prepare(query) -> PreparedStatement;  session.execute(ps, values) / ps.bind(values)
    session.keyspace, set_keyspace(ks), close(); ``with connect(...) as session:``

It talks to a cqlpy server or to Apache Cassandra (protocol v4) with the same message classes and
value codec the server uses.  Values: ``?`` / ``:name`` markers are bound through a prepared
statement (so each value is serialized for its column's type); ``%s`` / ``%(name)s`` are written
into the text as literals, as cassandra-driver does for simple statements.  Results are the
embedded session's ResultSet: iterating fetches the next pages; ``fetch_size=None`` asks for
everything in one page, as the embedded session does.  An unknown prepared id (the node
restarted) is prepared again and the request retried once.

One request at a time per session (a lock); EVENT frames that arrive meanwhile go to the
listeners given to ``register``.
"""
from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Callable

from cqlpy.errors import AuthenticationFailed, ProtocolError, Unprepared
from cqlpy.schema import codec

from .error_messages import ErrorMessage
from .frame import HEADER_SIZE, NOT_SET, Compressor, Consistency, available_compressors, parse_header
from .framing import Envelope, decode_message, encode_message
from .messages import (
    AuthChallenge,
    Authenticate,
    AuthResponse,
    AuthSuccess,
    Event,
    Execute,
    Message,
    Options,
    Prepare,
    Query,
    QueryParameters,
    Ready,
    Register,
    Startup,
    Supported,
)
from .results import PreparedResult, RowsResult, SchemaChangeResult, SetKeyspaceResult

DEFAULT_TIMEOUT = 10.0
_TRACING_FLAG = uuid.UUID(int=0)      # a request's tracing flag carries no id: any value sets it


class Connection:
    """One TCP connection speaking protocol v4: handshake, then request() -> response message."""

    def __init__(self, host: str, port: int, *, username: str | None = None,
                 password: str | None = None, compression: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.address = (host, port)
        self.sock = socket.create_connection(self.address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.compressor: Compressor | None = None
        self._decompressor: Compressor | None = None
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._next_stream = 0
        self.event_listeners: list[Callable[[Event], None]] = []
        self.supported: dict[str, list[str]] = {}
        try:
            self._handshake(username, password, compression)
        except BaseException:
            self.sock.close()
            raise

    # --- handshake ----------------------------------------------------------------------------------

    def _handshake(self, username: str | None, password: str | None, compression: str | None) -> None:
        supported = self.request(Options())
        if not isinstance(supported, Supported):
            raise ProtocolError(f"Expected SUPPORTED, got {type(supported).__name__}")
        self.supported = supported.options
        options = {"CQL_VERSION": (supported.options.get("CQL_VERSION") or ["3.4.7"])[0],
                   "DRIVER_NAME": "cqlpy", "DRIVER_VERSION": _version()}
        if compression:
            local = available_compressors()
            if compression not in supported.options.get("COMPRESSION", []) or compression not in local:
                raise ProtocolError(f"The server does not offer {compression} compression")
            options["COMPRESSION"] = compression
            self._decompressor = local[compression]
        reply = self.request(Startup(options))
        if isinstance(reply, Authenticate):
            if username is None:
                raise AuthenticationFailed(f"The server requires authentication ({reply.authenticator}): "
                                           "give a username and a password")
            token = b"\x00" + username.encode() + b"\x00" + (password or "").encode()
            reply = self.request(AuthResponse(token))
            while isinstance(reply, AuthChallenge):   # PLAIN needs one round; be lenient
                reply = self.request(AuthResponse(token))
            if not isinstance(reply, AuthSuccess):
                raise ProtocolError(f"Unexpected {type(reply).__name__} during authentication")
        elif not isinstance(reply, Ready):
            raise ProtocolError(f"Expected READY, got {type(reply).__name__}")
        self.compressor = self._decompressor

    # --- frames -------------------------------------------------------------------------------------

    def _recv_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise ConnectionError(f"Connection to {self.address[0]}:{self.address[1]} closed")
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _recv(self) -> Envelope:
        header = parse_header(self._recv_exact(HEADER_SIZE))
        body = self._recv_exact(header.length)
        return decode_message(header, body, compressor=self._decompressor)

    def request(self, msg: Message, timeout: float | None = None, trace: bool = False) -> Message:
        """Send ``msg`` and return its response; an ERROR is raised as its cqlpy.errors class.
        ``trace``: set the tracing flag; the response's tracing session id is its ``tracing_id``."""
        with self._lock:
            stream = self._next_stream
            self._next_stream = (self._next_stream + 1) % 32768
            self.sock.settimeout(timeout or self.timeout)
            self.sock.sendall(encode_message(msg, stream, compressor=self.compressor,
                                             tracing_id=_TRACING_FLAG if trace else None))
            while True:
                env = self._recv()
                if env.stream == stream:
                    break
                if isinstance(env.message, Event):
                    for listener in list(self.event_listeners):
                        listener(env.message)
        if isinstance(env.message, ErrorMessage):
            raise env.message.to_exception()
        if env.tracing_id is not None:
            env.message.tracing_id = env.tracing_id  # type: ignore[attr-defined]
        return env.message

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _version() -> str:
    from cqlpy import __version__
    return __version__


def _consistency(level: Any) -> int:
    if level is None:
        return Consistency.ONE
    if isinstance(level, str):
        return Consistency[level.upper()]
    return int(level)


class PreparedStatement:
    """A statement prepared on the server: its id, bind markers and result columns."""

    def __init__(self, session: "Session", query_string: str, result: PreparedResult) -> None:
        self.session = session
        self.query_string = query_string
        self.keyspace = session.keyspace
        self.fetch_size: int | None = None
        self._update(result)

    def _update(self, result: PreparedResult) -> None:
        self.query_id = result.query_id
        self.column_metadata = list(result.bind_columns)
        self.routing_key_indexes = list(result.pk_indexes) if result.pk_indexes else None
        self.result_metadata = list(result.result_columns) if result.result_columns else None

    def bind(self, values: Any = None) -> Any:
        from cqlpy.session.session import BoundStatement
        return BoundStatement(self, values)  # type: ignore[arg-type]

    def encode_values(self, values: Any) -> list[Any]:
        """The wire values for ``values`` (a sequence in marker order or a dict by marker name)."""
        from cqlpy.session.session import UNSET
        columns = self.column_metadata
        if values is None:
            values = ()
        if isinstance(values, Mapping):
            by_name = {str(k).lower(): v for k, v in values.items()}
            ordered = [by_name.get(c.name.lower(), UNSET) for c in columns]
        else:
            ordered = list(values)
            if len(ordered) > len(columns):
                from cqlpy.errors import InvalidRequest
                raise InvalidRequest(f"There were {len(columns)} markers(?) in CQL but {len(ordered)} "
                                     "bound variables")
            ordered += [UNSET] * (len(columns) - len(ordered))
        out: list[Any] = []
        for column, value in zip(columns, ordered):
            if value is UNSET:
                out.append(NOT_SET)
            else:
                out.append(codec.serialize(column.type, value))
        return out

    def __repr__(self) -> str:
        return f"<PreparedStatement query={self.query_string!r}>"


class Session:
    """A remote session (see the module documentation)."""

    def __init__(self, connection: Connection, keyspace: str | None = None) -> None:
        self._conn = connection
        self._keyspace: str | None = None
        self.is_shutdown = False
        if keyspace:
            self.set_keyspace(keyspace)

    @property
    def keyspace(self) -> str | None:
        return self._keyspace

    def set_keyspace(self, keyspace: str) -> None:
        self.execute(f'USE "{keyspace.replace(chr(34), chr(34) * 2)}"')

    def register(self, events: list[str], listener: Callable[[Event], None]) -> None:
        """Subscribe to server EVENTs (SCHEMA_CHANGE, ...); delivered while requests are running."""
        self._conn.event_listeners.append(listener)
        self._conn.request(Register(list(events)))

    # --- executing ----------------------------------------------------------------------------------

    def execute(self, query: Any, parameters: Any = None, timeout: Any = None, *,
                fetch_size: int | None = None, paging_state: bytes | None = None,
                timestamp: int | None = None, consistency_level: Any = None, trace: bool = False,
                **ignored: Any) -> Any:
        """Run one statement and return its ResultSet (``trace=True``: traced by the server, the
        result's ``get_query_trace()`` reads the trace from system_traces)."""
        from cqlpy.session.params import format_percent, uses_percent_style
        from cqlpy.session.session import BoundStatement
        if isinstance(query, BoundStatement):
            if parameters is None:
                parameters = query.values
            fetch_size = fetch_size if fetch_size is not None else query.fetch_size
            query = query.prepared_statement
        if not isinstance(query, (str, PreparedStatement)):
            text = getattr(query, "query_string", None)
            if not isinstance(text, str):
                raise TypeError(f"execute() takes CQL text or a statement, not {type(query).__name__}")
            fetch_size = fetch_size if fetch_size is not None else getattr(query, "fetch_size", None)
            query = text
        if isinstance(query, str) and parameters is not None:
            if uses_percent_style(query):
                query, parameters = format_percent(query, parameters), None
            else:
                query = self.prepare(query)
        if isinstance(query, PreparedStatement) and fetch_size is None:
            fetch_size = query.fetch_size
        params = QueryParameters(_consistency(consistency_level), page_size=fetch_size or None,
                                 paging_state=paging_state, timestamp=timestamp)
        return self._run(query, parameters, params, timeout, trace)

    def _run(self, statement: str | PreparedStatement, parameters: Any, params: QueryParameters,
             timeout: Any, trace: bool = False) -> Any:
        if isinstance(statement, PreparedStatement):
            params.values = statement.encode_values(parameters)
            try:
                result = self._conn.request(Execute(statement.query_id, params), timeout, trace)
            except Unprepared:
                statement._update(self._prepare_result(statement.query_string))
                result = self._conn.request(Execute(statement.query_id, params), timeout, trace)
        else:
            result = self._conn.request(Query(statement, params), timeout, trace)
        rs = self._result_set(result, statement, parameters, params, timeout)
        tracing_id = getattr(result, "tracing_id", None) if trace else None
        if tracing_id is not None:
            rs.trace_id, rs.trace_session = tracing_id, self
        return rs

    def _result_set(self, result: Message, statement: Any, parameters: Any, params: QueryParameters,
                    timeout: Any) -> Any:
        from cqlpy.session.results import ResultSet, make_rows
        if isinstance(result, RowsResult):
            columns = result.columns or (statement.result_metadata
                                         if isinstance(statement, PreparedStatement) else None) or []
            types = [c.type for c in columns]
            rows = make_rows([c.name for c in columns],
                             ([codec.deserialize(t, v) for t, v in zip(types, row)] for row in result.rows))

            def fetch(state: bytes) -> Any:
                nxt = QueryParameters(params.consistency, page_size=params.page_size, paging_state=state,
                                      timestamp=params.timestamp)
                return self._run(statement, parameters, nxt, timeout)

            return ResultSet(columns, rows, paging_state=result.paging_state, fetch_page=fetch,
                             warnings_=getattr(result, "warnings", None) or ())
        rs = ResultSet.void()
        if isinstance(result, SetKeyspaceResult):
            self._keyspace = result.keyspace
            rs.keyspace = result.keyspace  # type: ignore[attr-defined]
        elif isinstance(result, SchemaChangeResult):
            rs.schema_change = result  # type: ignore[attr-defined]
        return rs

    def _prepare_result(self, query: str) -> PreparedResult:
        result = self._conn.request(Prepare(query))
        if not isinstance(result, PreparedResult):
            raise ProtocolError(f"Expected a Prepared result, got {type(result).__name__}")
        return result

    def prepare(self, query: Any, custom_payload: Any = None) -> PreparedStatement:
        text = query if isinstance(query, str) else getattr(query, "query_string", None)
        if not isinstance(text, str):
            raise TypeError(f"prepare() takes CQL text, not {type(query).__name__}")
        return PreparedStatement(self, text, self._prepare_result(text))

    def close(self) -> None:
        self.is_shutdown = True
        self._conn.close()

    shutdown = close

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        host, port = self._conn.address
        return f"<cqlpy remote Session {host}:{port} keyspace={self._keyspace!r}>"


def connect(host: str = "127.0.0.1", port: int = 9042, keyspace: str | None = None, *,
            username: str | None = None, password: str | None = None, compression: str | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> Session:
    """A Session on the node at ``host``:``port`` (protocol v4; PLAIN authentication when
    ``username`` is given; ``compression="lz4"`` when the server offers it)."""
    conn = Connection(host, port, username=username, password=password, compression=compression,
                      timeout=timeout)
    try:
        return Session(conn, keyspace)
    except BaseException:
        conn.close()
        raise


__all__ = ["Connection", "PreparedStatement", "Session", "connect"]
