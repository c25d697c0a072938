"""The native protocol server: asyncio connections in front of a Backend (backend.py).

One ``ClientConnection`` per TCP connection reads frames (header, then body), and answers each
request on its own stream id, so requests on a connection are pipelined: a slow query does not hold
up the OPTIONS heartbeat behind it.  Backend calls (CQL) run on a worker thread pool (one thread by
default, which also keeps the storage engine single-threaded); the protocol handshake is answered
on the event loop.

Per connection::

    first frame     its version must be 4.  Any other (the drivers try 0x42, 0x41, 5 first) gets
                    ERROR 0x000A "Invalid or unsupported protocol version (N); supported versions
                    are (4/v4)" on the same stream with a 0x84 header, and the socket stays open
                    so the driver can close it and step down.  Later frames must keep version 4.
    handshake       OPTIONS -> SUPPORTED at any time; STARTUP -> READY, or AUTHENTICATE and the
                    SASL exchange when the authenticator requires it; nothing else before it.
    requests        QUERY, PREPARE, EXECUTE, BATCH -> the backend; REGISTER -> READY, and from
                    then on EVENTs on stream -1 (SCHEMA_CHANGE after every DDL, from any client).
    limits          a body longer than ``max_frame_size`` is refused; at most ``max_in_flight``
                    requests run at once (reading pauses until one finishes); with
                    ``idle_timeout`` a connection without traffic or pending work is closed.
    malformed       a frame that cannot be decoded gets ERROR 0x000A on its stream and the
                    connection is closed; other connections never notice.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from cqlpy.errors import AuthenticationFailed, CQLError, ProtocolError, ServerError

from .auth import AllowAllAuthenticator, Authenticator
from .backend import Backend, BackendConnection
from .frame import (
    DEFAULT_MAX_FRAME_SIZE,
    EVENT_STREAM,
    HEADER_SIZE,
    PROTOCOL_VERSION,
    RESPONSE,
    Compressor,
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
from .results import RowsResult, SchemaChangeResult

log = logging.getLogger("cqlpy.protocol")

CQL_VERSION = "3.4.7"
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
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.options.workers, thread_name_prefix="cqlpy-request") \
            if self.options.workers > 0 else None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
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
        if not self._listening:
            self.backend.add_schema_listener(self._schema_changed)
            self._listening = True
        self._server = await asyncio.start_server(self._accept, self.options.host, self.options.port,
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

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ClientConnection(self, reader, writer)
        self.connections.add(conn)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)
            if task is not None:
                self._tasks.discard(task)

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
        for conn in list(self.connections):
            conn.abort()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - best effort on shutdown
                pass
        if self.executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.executor.shutdown, True)
        log.info("Stopped listening for CQL clients")


class ClientConnection:
    """One client: reads frames, dispatches them, writes responses by stream id."""

    def __init__(self, server: ProtocolServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.options = server.options
        self.reader = reader
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.version: int | None = None            # fixed by the first accepted frame
        self.ready = False                         # STARTUP done (and authenticated)
        self.compressor: Compressor | None = None
        self.negotiator: Any = None                # SASL exchange in progress
        self.user: str | None = None
        self.registered: set[str] = set()
        self.backend_conn: BackendConnection | None = None
        self.in_flight = asyncio.Semaphore(max(1, self.options.max_in_flight))
        self.pending: set[asyncio.Task] = set()
        self.closing = False

    # --- reading ------------------------------------------------------------------------------------

    async def _read_header(self) -> bytes | None:
        """The next 9 header bytes; None at end of stream or when idle too long."""
        timeout = self.options.idle_timeout
        while True:
            try:
                if timeout:
                    return await asyncio.wait_for(self.reader.readexactly(HEADER_SIZE), timeout)
                return await self.reader.readexactly(HEADER_SIZE)
            except asyncio.TimeoutError:
                if not self.pending:
                    log.info("Closing idle connection from %s", self.peer)
                    return None
            except (asyncio.IncompleteReadError, ConnectionError):
                return None

    async def run(self) -> None:
        log.debug("New connection from %s", self.peer)
        try:
            while not self.closing:
                raw = await self._read_header()
                if raw is None:
                    break
                try:
                    header = parse_header(raw)
                except FrameError as exc:
                    self.fail(int.from_bytes(raw[2:4], "big", signed=True), str(exc))
                    break
                if not await self._accept_frame(header):
                    break
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - one connection's bug must not reach the others
            log.exception("Connection from %s failed", self.peer)
        finally:
            await self._finish()

    async def _accept_frame(self, header: Header) -> bool:
        """Check the header, read the body and dispatch it; False when the connection must end."""
        if header.is_response:
            self.fail(header.stream, "Invalid frame: the direction bit of the version byte is set "
                                     "(a response sent to the server)")
            return False
        if header.protocol_version != PROTOCOL_VERSION:
            if self.version is None:
                self.send(ErrorMessage(ProtocolError.code, unsupported_version_message(
                    header.protocol_version)), header.stream)
                if header.length > self.options.max_frame_size:
                    return False
                return await self._skip(header.length)
            self.fail(header.stream, f"Invalid message version. Got {header.protocol_version} but "
                                     f"previous messages on this connection had version {self.version}")
            return False
        if header.length > self.options.max_frame_size:
            self.fail(header.stream, f"Request is too big: length {header.length} exceeds maximum "
                                     f"allowed length {self.options.max_frame_size}.")
            return False
        self.version = PROTOCOL_VERSION
        try:
            body = await self.reader.readexactly(header.length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
        await self.in_flight.acquire()
        task = asyncio.ensure_future(self._serve(header, body))
        self.pending.add(task)
        task.add_done_callback(self._request_done)
        return not self.closing

    def _request_done(self, task: asyncio.Task) -> None:
        self.pending.discard(task)
        self.in_flight.release()

    async def _skip(self, n: int) -> bool:
        try:
            await self.reader.readexactly(n)
            return True
        except (asyncio.IncompleteReadError, ConnectionError):
            return False

    # --- writing ------------------------------------------------------------------------------------

    def encode(self, msg: Message, stream: int, compressor: Compressor | None) -> bytes:
        """The response frame (any thread); a message that cannot be encoded becomes its error."""
        try:
            return encode_message(msg, stream, compressor=compressor)
        except CQLError as exc:   # e.g. a [string] that does not fit: tell the client, not the log
            return encode_message(ErrorMessage.from_exception(exc), stream, compressor=compressor)

    def send(self, msg: Message | bytes, stream: int) -> None:
        """Write a response or event (loop thread); ``msg`` may be an already encoded frame."""
        if self.writer.is_closing():
            return
        self.writer.write(msg if isinstance(msg, bytes) else self.encode(msg, stream, self.compressor))

    def fail(self, stream: int, message: str) -> None:
        """A fatal protocol error: answer it, then close this connection (others are untouched)."""
        log.info("Protocol error from %s: %s", self.peer, message)
        if not self.writer.is_closing():
            self.writer.write(encode_frame(RESPONSE | PROTOCOL_VERSION, 0, stream, Opcode.ERROR,
                                           _error_body(protocol_error(message))))
        self.closing = True

    def abort(self) -> None:
        self.closing = True
        self.writer.close()

    async def _finish(self) -> None:
        self.closing = True
        if self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)
        try:
            if not self.writer.is_closing():
                await self.writer.drain()
        except (ConnectionError, RuntimeError):
            pass
        self.writer.close()
        if self.backend_conn is not None:
            conn, self.backend_conn = self.backend_conn, None
            conn.close()
        log.debug("Closed connection from %s", self.peer)

    # --- dispatch -----------------------------------------------------------------------------------

    async def _serve(self, header: Header, body: bytes) -> None:
        """Decode one request, answer it on its stream (backend work on the worker threads)."""
        try:
            env = decode_message(header, body, compressor=self.compressor,
                                 max_size=self.options.max_frame_size)
        except FrameError as exc:
            self.fail(header.stream, str(exc))
            self.writer.close()
            return
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
        try:
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            pass

    async def _handle(self, msg: Message, stream: int) -> Message | bytes:
        if isinstance(msg, Options):
            return Supported(self.server.supported_options())
        if isinstance(msg, Startup):
            return self._startup(msg)
        if isinstance(msg, AuthResponse):
            return self._auth_response(msg)
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
            try:
                if self.backend_conn is None:
                    self.backend_conn = self.server.backend.open()
                result = fn(self.backend_conn)
                if isinstance(request, (Query, Execute)):
                    result = _skip_metadata(request, result)
            except CQLError as exc:
                result = ErrorMessage.from_exception(exc)
            except Exception as exc:  # noqa: BLE001 - a bug becomes a Server error, not a dead server
                log.exception("Unexpected error serving %s", Opcode(request.opcode).name)
                result = ErrorMessage.from_exception(ServerError(f"Unexpected error: {exc}"))
            return self.encode(result, stream, compressor)

        if self.server.executor is None:      # workers=0: run on the event loop thread
            return run()
        return await asyncio.get_running_loop().run_in_executor(self.server.executor, run)

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

    def _auth_response(self, msg: AuthResponse) -> Message:
        if self.negotiator is None:
            raise ProtocolError("Unexpected message AUTH_RESPONSE: no authentication in progress")
        try:
            challenge = self.negotiator.evaluate(msg.token)
        except AuthenticationFailed:
            raise
        except CQLError as exc:
            raise AuthenticationFailed(str(exc)) from None
        if challenge is not None:
            return AuthChallenge(challenge)
        self.user = self.negotiator.user
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
