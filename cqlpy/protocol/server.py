"""The native protocol server: asyncio connections in front of a Backend (backend.py).

One ``ClientConnection`` (an asyncio Protocol) per TCP connection parses every complete frame in
the bytes received and answers each request on its own stream id, so requests on a connection are
pipelined: a slow query does not hold up the OPTIONS heartbeat behind it.  Backend calls (CQL) run
on a worker thread pool (one thread by default, which also keeps the storage engine
single-threaded), handed over in batches (dispatch.py); QUERY/PREPARE/EXECUTE/BATCH on a ready
connection are decoded, run and encoded there, without a Task on the loop.  The answers ready in
one loop iteration leave in one write.  The protocol handshake is answered on the event loop.

Per connection::

    first frame     its version must be 4.  Any other (the drivers try 0x42, 0x41, 5 first) gets
                    ERROR 0x000A "Invalid or unsupported protocol version (N); supported versions
                    are (4/v4)" on the same stream with a 0x84 header, and the socket stays open
                    so the driver can close it and step down.  Later frames must keep version 4.
    handshake       OPTIONS -> SUPPORTED at any time; STARTUP -> READY, or AUTHENTICATE and the
                    SASL exchange when the authenticator requires it; nothing else before it.
    requests        QUERY, PREPARE, EXECUTE, BATCH -> the backend; REGISTER -> READY, and from
                    then on EVENTs on stream -1 (SCHEMA_CHANGE after every DDL, from any client).
    limits          a body longer than ``max_frame_size`` (16 MiB) is refused (ERROR 0x000A, then
                    closed) from its header alone; at most ``max_in_flight`` requests run at once
                    (reading pauses until one finishes, as it does while the client leaves its
                    answers unread); with ``idle_timeout`` a connection without traffic or pending
                    work is closed; beyond ``max_connections`` a new connection is closed on
                    arrival (Cassandra's native_transport_max_concurrent_connections).
    profiling       CQLPY_PROFILE=FILE profiles the loop and worker threads (profiling.py).
    tracing         a request frame with flag 0x02 is traced (cqlpy.session.tracing); its answer
                    has flag 0x02 and the 16-byte tracing session id before the body.
    malformed       a frame that cannot be decoded gets ERROR 0x000A on its stream and the
                    connection is closed; other connections never notice.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from cqlpy.errors import AuthenticationFailed, CQLError, ProtocolError, ServerError
from cqlpy.session.tracing import call_traced

from .auth import AllowAllAuthenticator, Authenticator
from .backend import Backend, BackendConnection
from .dispatch import RequestDispatcher
from .frame import (
    DEFAULT_MAX_FRAME_SIZE,
    EVENT_STREAM,
    HEADER_SIZE,
    PROTOCOL_VERSION,
    RESPONSE,
    Compressor,
    Flag,
    FrameError,
    Header,
    Opcode,
    available_compressors,
    encode_frame,
    parse_header,
)
from .error_messages import ErrorMessage, protocol_error
from .framing import decode_message, encode_message
from .messages import (
    EVENT_TYPES,
    AuthChallenge,
    Authenticate,
    AuthResponse,
    AuthSuccess,
    Batch,
    Event,
    Execute,
    Message,
    Options,
    Prepare,
    Query,
    Ready,
    Register,
    Startup,
    Supported,
)
from .profiling import ServerProfile
from .results import RowsResult, SchemaChangeResult
from .trace_request import wire_request

log = logging.getLogger("cqlpy.protocol")

CQL_VERSION = "3.4.7"
_DIRECT_OPCODES = frozenset(int(op) for op in (Opcode.QUERY, Opcode.PREPARE, Opcode.EXECUTE,
                                                 Opcode.BATCH))
_TRACING_FLAG = int(Flag.TRACING)
SUPPORTED_VERSIONS_TEXT = "4/v4"


def unsupported_version_message(version: int) -> str:
    # the driver steps down only when the text contains "unsupported protocol version" in lower case
    return (f"Invalid or unsupported protocol version ({version}); "
            f"supported versions are ({SUPPORTED_VERSIONS_TEXT})")


@dataclass
class ServerOptions:
    """The native transport's settings (Cassandra's ``native_transport_*`` in cassandra.yaml)."""

    host: str = "127.0.0.1"
    port: int = 9042                                  # 0: any free port (see ProtocolServer.address)
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    max_in_flight: int = 1024                         # concurrent requests per connection
    idle_timeout: float | None = None                 # seconds; None: never
    max_connections: int | None = None                # client connections at once; None: no cap
    compression: tuple[str, ...] = ()                 # offered in SUPPORTED, e.g. ("lz4",)
    authenticator: Authenticator = field(default_factory=AllowAllAuthenticator)
    workers: int = 1                                  # threads running backend calls
    cql_version: str | None = None                    # None: the backend's (system.local's)


class ProtocolServer:
    """Listens for clients and serves them from ``backend``; ``await start()``, ``await close()``."""

    def __init__(self, backend: Backend, options: ServerOptions | None = None) -> None:
        self.backend = backend
        self.options = options or ServerOptions()
        offered = available_compressors()
        self.compressors: dict[str, Compressor] = {
            name: offered[name] for name in self.options.compression if name in offered}
        self.connections: set[ClientConnection] = set()
        self.profile = ServerProfile.from_env()      # CQLPY_PROFILE=FILE (profiling.py)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.options.workers, thread_name_prefix="cqlpy-request",
            initializer=self.profile.start_worker if self.profile else None) \
            if self.options.workers > 0 else None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self.dispatcher: RequestDispatcher | None = None    # batches backend calls (dispatch.py)
        self._listening = False
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound (the port chosen when the option was 0)."""
        assert self._address is not None, "the server is not started"
        return self._address

    def supported_options(self) -> dict[str, list[str]]:
        version = self.options.cql_version or getattr(self.backend, "cql_version", None) or CQL_VERSION
        return {"CQL_VERSION": [version],
                "COMPRESSION": list(self.compressors),
                "PROTOCOL_VERSIONS": [SUPPORTED_VERSIONS_TEXT]}

    async def start(self, serve: bool = True) -> None:
        """Bind (and listen, unless ``serve`` is False: then ``serve()`` opens it later, as a
        bootstrapping ring node does once it is NORMAL)."""
        self.loop = asyncio.get_running_loop()
        if self.profile is not None:
            self.profile.start_loop()
        if not self._listening:
            self.backend.add_schema_listener(self._schema_changed)
            self._listening = True
        if self.executor is not None and self.dispatcher is None:
            self.dispatcher = RequestDispatcher(self.loop, self.executor, self.options.workers)
        self._server = await self.loop.create_server(
            lambda: ClientConnection(self), self.options.host, self.options.port,
            reuse_address=True, start_serving=serve)
        host, port = self._server.sockets[0].getsockname()[:2]
        self._address = (host, port)
        if serve:
            log.info("Starting listening for CQL clients on %s:%d (unencrypted)...", host, port)

    async def serve(self) -> None:
        """Accept clients on the address bound by ``start(serve=False)``."""
        assert self._server is not None, "the server is not started"
        if not self._server.is_serving():
            await self._server.start_serving()
            log.info("Starting listening for CQL clients on %s:%d (unencrypted)...", *self.address)

    # --- events -------------------------------------------------------------------------------------

    def _schema_changed(self, change: SchemaChangeResult) -> None:
        """Backend listener (any thread): push SCHEMA_CHANGE to the registered connections."""
        event = Event("SCHEMA_CHANGE", change.change_type, change.target, change.keyspace,
                      change.name, tuple(change.argument_types))
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.push_event, event)

    def push_event(self, event: Event) -> None:
        """Send ``event`` on stream -1 to every connection registered for its type (loop thread)."""
        for conn in list(self.connections):
            if event.event_type in conn.registered:
                conn.send(event, EVENT_STREAM)

    # --- shutdown -----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop listening, close every connection, and wait for the requests already running."""
        if self._server is not None:
            self._server.close()
        if self._listening:                 # the backend (its database) may outlive this server
            remove = getattr(self.backend, "remove_schema_listener", None)
            if remove is not None:
                remove(self._schema_changed)
            self._listening = False
        running = [task for conn in list(self.connections) for task in conn.pending]
        for conn in list(self.connections):
            conn.abort()
        if running:                         # requests already running finish (unanswered)
            await asyncio.gather(*running, return_exceptions=True)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - best effort on shutdown
                pass
        if self.executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.executor.shutdown, True)
        if self.profile is not None:
            self.profile.dump()
        log.info("Stopped listening for CQL clients")


class ClientConnection(asyncio.Protocol):
    """One client: parses frames as bytes arrive, dispatches them, writes responses by stream id.

    Reading: every complete frame in the bytes received is dispatched at once (QUERY, PREPARE,
    EXECUTE and BATCH straight to the worker threads, anything else as a Task running ``_serve``),
    so the requests a driver pipelines in one TCP segment start together.  Writing: responses are
    collected and written with one ``transport.write`` per event-loop iteration (one send() for
    all the answers ready by then) instead of one per response.  Backpressure both ways: at
    ``max_in_flight`` running requests the connection stops reading (frames already received wait
    in the buffer), and so it does while the transport is full of answers the client does not
    read (``pause_writing``), until it drains."""

    def __init__(self, server: ProtocolServer) -> None:
        self.server = server
        self.options = server.options
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.peer: Any = None
        self.version: int | None = None            # fixed by the first accepted frame
        self.ready = False                         # STARTUP done (and authenticated)
        self.compressor: Compressor | None = None
        self.negotiator: Any = None                # SASL exchange in progress
        self.user: str | None = None
        self.registered: set[str] = set()
        self.backend_conn: BackendConnection | None = None
        self.max_in_flight = max(1, self.options.max_in_flight)
        self.pending: set[asyncio.Future] = set()   # requests running: Tasks and dispatcher Futures
        self.closing = False                       # nothing more is read (EOF, fatal error, stop)
        self._lost = False                         # the socket is gone
        self._buffer = bytearray()                 # received bytes not yet dispatched
        self._skip = 0                             # body bytes still to discard (a refused frame)
        self._reading_paused = False
        self._out: list[bytes] = []                # encoded frames waiting for the next flush
        self._flush_scheduled = False
        self._writable: asyncio.Future | None = None   # set while the transport is full
        self._idle_handle: asyncio.TimerHandle | None = None
        self._last_activity = 0.0

    # --- connection events ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")
        limit = self.options.max_connections
        if limit is not None and len(self.server.connections) >= limit:
            # Cassandra's native_transport_max_concurrent_connections: log and close at once
            log.warning("Refusing connection from %s: exceeded the maximum of %d client connections "
                        "(max_connections)", self.peer, limit)
            self.closing = True
            transport.close()
            return
        self.server.connections.add(self)
        log.debug("New connection from %s", self.peer)
        if self.options.idle_timeout:
            self._last_activity = self.loop.time()
            self._idle_handle = self.loop.call_later(self.options.idle_timeout, self._check_idle)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if self._idle_handle is not None:
            self._last_activity = self.loop.time()
        self._buffer += data
        self._process()

    def eof_received(self) -> bool:
        """The client will send no more: answer what is running, then close."""
        self.closing = True
        self._maybe_close()
        return True                                # keep the socket open for those answers

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self.closing = True
        self.server.connections.discard(self)
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        self._out.clear()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        if not self.pending:
            self._release_backend()
        log.debug("Closed connection from %s", self.peer)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self.loop.create_future()

    def resume_writing(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._reading_paused and not self.closing:
            self._process()

    # --- reading ------------------------------------------------------------------------------------

    def _process(self) -> None:
        """Dispatch every complete frame in the buffer, up to the in-flight limit."""
        buf = self._buffer
        pos = 0
        try:
            while not self.closing:
                available = len(buf) - pos
                if self._skip:
                    n = min(self._skip, available)
                    pos += n
                    self._skip -= n
                    if self._skip:
                        break
                    continue
                if available < HEADER_SIZE:
                    break
                if len(self.pending) >= self.max_in_flight or self._writable is not None:
                    if not self._reading_paused:
                        self._reading_paused = True
                        self.transport.pause_reading()
                    return
                raw = bytes(buf[pos:pos + HEADER_SIZE])
                try:
                    header = parse_header(raw)
                except FrameError as exc:
                    self.fail(int.from_bytes(raw[2:4], "big", signed=True), str(exc))
                    break
                verdict = self._check_header(header)
                if verdict is None:                # fatal: answered, the connection closes
                    break
                if verdict is False:               # refused but survivable: skip its body
                    pos += HEADER_SIZE
                    self._skip = header.length
                    continue
                if available < HEADER_SIZE + header.length:
                    break
                body = bytes(buf[pos + HEADER_SIZE:pos + HEADER_SIZE + header.length])
                pos += HEADER_SIZE + header.length
                self._dispatch(header, body)
        finally:
            if pos:
                del buf[:pos]
        if (self._reading_paused and not self.closing and len(self.pending) < self.max_in_flight
                and self._writable is None):
            self._reading_paused = False
            self.transport.resume_reading()

    def _check_header(self, header: Header) -> bool | None:
        """True: read the body and serve it; False: answered, skip the body; None: fatal."""
        if header.is_response:
            self.fail(header.stream, "Invalid frame: the direction bit of the version byte is set "
                                     "(a response sent to the server)")
            return None
        if header.protocol_version != PROTOCOL_VERSION:
            if self.version is None:
                self.send(ErrorMessage(ProtocolError.code, unsupported_version_message(
                    header.protocol_version)), header.stream)
                if header.length > self.options.max_frame_size:
                    self.closing = True
                    self._maybe_close()
                    return None
                return False
            self.fail(header.stream, f"Invalid message version. Got {header.protocol_version} but "
                                     f"previous messages on this connection had version {self.version}")
            return None
        if header.length > self.options.max_frame_size:
            self.fail(header.stream, f"Request is too big: length {header.length} exceeds maximum "
                                     f"allowed length {self.options.max_frame_size}.")
            return None
        return True

    def _dispatch(self, header: Header, body: bytes) -> None:
        self.version = PROTOCOL_VERSION
        if (header.opcode in _DIRECT_OPCODES and self.ready and not header.flags & _TRACING_FLAG
                and self.server.dispatcher is not None):
            self._dispatch_direct(header, body)
            return
        task = self.loop.create_task(self._serve(header, body))
        self.pending.add(task)
        task.add_done_callback(self._request_done)

    def _request_done(self, task: asyncio.Future) -> None:
        self.pending.discard(task)
        if self.closing:
            self._maybe_close()
        elif self._reading_paused and len(self.pending) < self.max_in_flight:
            self._process()                        # frames already received go first

    def _check_idle(self) -> None:
        self._idle_handle = None
        if self.closing:
            return
        timeout = self.options.idle_timeout or 0.0
        remaining = self._last_activity + timeout - self.loop.time()
        if self.pending:                           # work in progress is not idleness
            remaining = timeout
        if remaining > 0:
            self._idle_handle = self.loop.call_later(remaining, self._check_idle)
            return
        log.info("Closing idle connection from %s", self.peer)
        self.closing = True
        self._maybe_close()

    # --- writing ------------------------------------------------------------------------------------

    def encode(self, msg: Message, stream: int, compressor: Compressor | None,
               tracing_id: Any = None) -> bytes:
        """The response frame (any thread); a message that cannot be encoded becomes its error.
        ``tracing_id``: the tracing session of a traced request (flag 0x02, the id before the body)."""
        try:
            return encode_message(msg, stream, compressor=compressor, tracing_id=tracing_id)
        except CQLError as exc:   # e.g. a [string] that does not fit: tell the client, not the log
            return encode_message(ErrorMessage.from_exception(exc), stream, compressor=compressor,
                                  tracing_id=tracing_id)

    def send(self, msg: Message | bytes, stream: int) -> None:
        """Queue a response or event (loop thread) for the next flush; ``msg`` may be an already
        encoded frame."""
        if self._lost or self.transport is None or self.transport.is_closing():
            return
        self._out.append(msg if isinstance(msg, bytes) else self.encode(msg, stream, self.compressor))
        if self._idle_handle is not None:
            self._last_activity = self.loop.time()
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write every queued frame with one write (loop thread)."""
        self._flush_scheduled = False
        out, self._out = self._out, []
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def fail(self, stream: int, message: str) -> None:
        """A fatal protocol error: answer it, then close this connection (others are untouched)."""
        log.info("Protocol error from %s: %s", self.peer, message)
        self.send(encode_frame(RESPONSE | PROTOCOL_VERSION, 0, stream, Opcode.ERROR,
                               _error_body(protocol_error(message))), stream)
        self.closing = True
        self._maybe_close()

    def abort(self) -> None:
        """Server shutdown: read nothing more and close now (running requests finish unanswered)."""
        self.closing = True
        if self.transport is not None:
            self._flush()
            self.transport.close()

    def _maybe_close(self) -> None:
        """Once closing and nothing is running: write what is queued, close, drop the session."""
        if self.pending:
            return
        if self.transport is not None and not self.transport.is_closing():
            self._flush()
            self.transport.close()                 # after the queued bytes are written
        if self._lost:
            self._release_backend()

    def _release_backend(self) -> None:
        if self.backend_conn is not None:
            conn, self.backend_conn = self.backend_conn, None
            conn.close()

    # --- dispatch -----------------------------------------------------------------------------------

    async def _serve(self, header: Header, body: bytes) -> None:
        """Decode one request, answer it on its stream (backend work on the worker threads)."""
        try:
            env = decode_message(header, body, compressor=self.compressor,
                                 max_size=self.options.max_frame_size)
        except FrameError as exc:
            self.fail(header.stream, str(exc))
            return
        if header.flags & Flag.TRACING:           # the client asks for a trace (tracing.py)
            env.message.trace_request = wire_request(env.message, self.peer,
                                                     self.transport.get_extra_info("sockname"))
        try:
            response = await self._handle(env.message, header.stream)
        except asyncio.CancelledError:
            raise
        except CQLError as exc:
            response = ErrorMessage.from_exception(exc)
        except Exception as exc:  # noqa: BLE001 - a bug becomes a Server error, not a dead server
            log.exception("Unexpected error serving %s", Opcode(header.opcode).name)
            response = ErrorMessage.from_exception(ServerError(f"Unexpected error: {exc}"))
        self.send(response, header.stream)
        if self._writable is not None:            # the client is not reading: hold this request
            await self._writable

    async def _handle(self, msg: Message, stream: int) -> Message | bytes:
        if isinstance(msg, Options):
            return Supported(self.server.supported_options())
        if isinstance(msg, Startup):
            return self._startup(msg)
        if isinstance(msg, AuthResponse):
            return await self._auth_response(msg)
        if not self.ready:
            expecting = "SASL response" if self.negotiator is not None else "STARTUP or OPTIONS"
            raise ProtocolError(f"Unexpected message {Opcode(msg.opcode).name}, expecting {expecting}")
        if isinstance(msg, Register):
            for event in msg.events:
                if event not in EVENT_TYPES:
                    raise ProtocolError(f"Invalid value '{event}' for Event.Type")
            self.registered.update(msg.events)
            return Ready()
        if isinstance(msg, Query):
            return await self._call(msg, stream, lambda c: c.query(msg.query, msg.params))
        if isinstance(msg, Prepare):
            return await self._call(msg, stream, lambda c: c.prepare(msg.query))
        if isinstance(msg, Execute):
            return await self._call(msg, stream, lambda c: c.execute(msg.query_id, msg.params))
        if isinstance(msg, Batch):
            return await self._call(msg, stream, lambda c: c.batch(msg))
        raise ProtocolError(f"Unexpected message {Opcode(msg.opcode).name}")

    async def _call(self, request: Message, stream: int,
                    fn: Callable[[BackendConnection], Message]) -> bytes:
        """Run ``fn`` on this connection's backend session in a worker thread and encode its
        answer (or its error) there too, so big results do not hold up the event loop."""
        compressor = self.compressor

        def run() -> bytes:
            return self._run_backend(request, stream, fn, compressor)

        if self.server.dispatcher is None:    # workers=0: run on the event loop thread
            return run()
        return await self.server.dispatcher.submit(run)

    def _run_backend(self, request: Message, stream: int, fn: Callable[[BackendConnection], Message],
                     compressor: Compressor | None) -> bytes:
        """``fn`` on this connection's backend session, its answer (or error) encoded (worker)."""
        trace = getattr(request, "trace_request", None)
        try:
            if self.backend_conn is None:
                self.backend_conn = self.server.backend.open()
                if self.user is not None and hasattr(self.backend_conn, "login"):
                    self.backend_conn.login(self.user)      # the role its statements run as
            result = fn(self.backend_conn) if trace is None else \
                call_traced(trace, fn, self.backend_conn)
            if isinstance(request, (Query, Execute)):
                result = _skip_metadata(request, result)
        except CQLError as exc:
            result = ErrorMessage.from_exception(exc)
        except Exception as exc:  # noqa: BLE001 - a bug becomes a Server error, not a dead server
            log.exception("Unexpected error serving %s", Opcode(request.opcode).name)
            result = ErrorMessage.from_exception(ServerError(f"Unexpected error: {exc}"))
        return self.encode(result, stream, compressor, None if trace is None else trace.session_id)

    # --- the fast path: QUERY / PREPARE / EXECUTE / BATCH without a Task --------------------------

    def _dispatch_direct(self, header: Header, body: bytes) -> None:
        """Hand a request frame straight to the worker threads, which decode it, run it and encode
        the answer; the loop only writes it.  Taken once the connection is ready, for frames
        without the tracing flag (those, and everything else, go through ``_serve``)."""
        compressor = self.compressor
        future = self.server.dispatcher.submit(
            lambda: self._serve_in_worker(header, body, compressor))
        self.pending.add(future)
        future.add_done_callback(functools.partial(self._direct_done, header))

    def _serve_in_worker(self, header: Header, body: bytes,
                         compressor: Compressor | None) -> bytes | FrameError:
        try:
            msg = decode_message(header, body, compressor=compressor,
                                 max_size=self.options.max_frame_size).message
        except FrameError as exc:
            return exc                             # fatal: the loop answers it and closes
        if isinstance(msg, Execute):
            fn: Callable[[BackendConnection], Message] = \
                lambda c: c.execute(msg.query_id, msg.params)
        elif isinstance(msg, Query):
            fn = lambda c: c.query(msg.query, msg.params)       # noqa: E731
        elif isinstance(msg, Prepare):
            fn = lambda c: c.prepare(msg.query)                 # noqa: E731
        else:
            fn = lambda c: c.batch(msg)                         # noqa: E731
        return self._run_backend(msg, header.stream, fn, compressor)

    def _direct_done(self, header: Header, future: asyncio.Future) -> None:
        if not future.cancelled():
            exc = future.exception()
            if exc is not None:                    # _run_backend answers errors; this is a bug
                log.error("Unexpected error serving %s", Opcode(header.opcode).name, exc_info=exc)
                self.send(ErrorMessage.from_exception(ServerError(f"Unexpected error: {exc}")),
                          header.stream)
            else:
                result = future.result()
                if isinstance(result, FrameError):
                    self.fail(header.stream, str(result))
                else:
                    self.send(result, header.stream)
        self._request_done(future)

    def _startup(self, msg: Startup) -> Message:
        if self.ready or self.negotiator is not None:
            raise ProtocolError("Unexpected message STARTUP, the connection is already initialized")
        if "CQL_VERSION" not in msg.options:
            raise ProtocolError("Missing value CQL_VERSION in STARTUP message")
        version = msg.options["CQL_VERSION"]
        if not version.split(".")[0].isdigit() or int(version.split(".")[0]) != 3:
            raise ProtocolError(f"Invalid or unsupported CQL version {version}; supported: "
                                f"{self.server.supported_options()['CQL_VERSION'][0]}")
        compression = msg.options.get("COMPRESSION")
        if compression:
            compressor = self.server.compressors.get(compression.lower())
            if compressor is None:
                raise ProtocolError(f"Unknown compression algorithm: {compression}")
            self.compressor = compressor
        authenticator = self.options.authenticator
        if authenticator.requires_authentication:
            self.negotiator = authenticator.new_negotiator()
            return Authenticate(authenticator.class_name)
        self.ready = True
        return Ready()

    async def _auth_response(self, msg: AuthResponse) -> Message:
        """The SASL step; the password check (scrypt, ~40 ms, and a role read that may cross the
        ring) runs on the worker threads, not on the event loop."""
        if self.negotiator is None:
            raise ProtocolError("Unexpected message AUTH_RESPONSE: no authentication in progress")
        negotiator = self.negotiator
        evaluate = functools.partial(negotiator.evaluate, msg.token)
        try:
            dispatcher = self.server.dispatcher
            challenge = evaluate() if dispatcher is None else await dispatcher.submit(evaluate)
        except AuthenticationFailed:
            raise
        except CQLError as exc:
            raise AuthenticationFailed(str(exc)) from None
        if challenge is not None:
            return AuthChallenge(challenge)
        self.user = negotiator.user
        self.negotiator = None
        self.ready = True
        return AuthSuccess(None)


def _skip_metadata(request: Query | Execute, result: Message) -> Message:
    """Rows without column specs when the client asked for it (it has them from PREPARE)."""
    if request.params.skip_metadata and isinstance(result, RowsResult):
        result.no_metadata = True
    return result


def _error_body(msg: ErrorMessage) -> bytes:
    from .frame import BodyWriter
    w = BodyWriter()
    msg.encode_body(w)
    return w.getvalue()


class ServerThread:
    """A ProtocolServer on its own event loop in a background thread (tests, embedding).

    ``with ServerThread(backend, ServerOptions(port=0)) as server: host, port = server.address``;
    leaving the block (or ``stop()``) closes the server; the backend stays open (its owner closes it).
    """

    def __init__(self, backend: Backend, options: ServerOptions | None = None) -> None:
        self.server = ProtocolServer(backend, options or ServerOptions(port=0))
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cqlpy-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def start(self) -> "ServerThread":
        self._thread.start()
        self._started.wait(30)
        if self._error is not None:
            raise self._error
        return self

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.server.close(), self.loop)
        try:
            future.result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
