"""TcpMessagingService: the messaging interface over asyncio TCP, one outbound connection per peer.

Like Cassandra, a node sends on its own outbound connection to each peer (responses included) and
only reads from inbound ones, so the sender of a frame is taken from the frame, not the socket.

    listen      ``start()`` binds ``local.address:local.port`` (the storage port; 127.0.0.x in tests).
    outbound    a bounded queue and one writer task per peer.  It connects on demand (with a
                timeout) and again after any failure, backing off exponentially; frames queued
                while the peer cannot be reached are dropped (their callbacks time out), as are
                frames in flight when a connection breaks.  A watcher notices a peer's close.
    inbound     a reader per connection; a truncated, oversized or corrupt frame closes that
                connection only.
    threads     every public call may come from any thread; state is touched on the loop only.
    close       ``await close()`` stops the server, every connection, task and timer.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import threading
from typing import Any, Callable

from .endpoints import Endpoint
from .messaging import (
    DEFAULT_MAX_FRAME_SIZE,
    PREFIX,
    FrameError,
    Message,
    MessagingService,
    decode_frame,
    encode_frame,
    parse_prefix,
)

log = logging.getLogger(__name__)


class TcpMessagingService(MessagingService):
    """MessagingService on an asyncio event loop (create it inside the loop, then ``await start()``)."""

    def __init__(self, local: Endpoint, *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
                 connect_timeout: float = 2.0, reconnect_backoff: tuple[float, float] = (0.05, 2.0),
                 queue_limit: int = 8192) -> None:
        loop = asyncio.get_running_loop()
        super().__init__(local, loop)
        self.loop = loop
        self.max_frame_size = max_frame_size
        self.connect_timeout = connect_timeout
        self.reconnect_backoff = reconnect_backoff
        self.queue_limit = queue_limit
        self.dropped = 0                          # frames dropped: queue full, unreachable, broken
        self._thread = threading.get_ident()
        self._server: asyncio.AbstractServer | None = None
        self._outbound: dict[tuple[str, int], _OutboundConnection] = {}
        self._inbound: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.local.address, self.local.port)

    async def close(self) -> None:  # type: ignore[override]
        if self.closed:
            return
        super().close()
        if self._server is not None:
            self._server.close()
        for connection in list(self._outbound.values()):
            connection.close()
        tasks = [c.task for c in self._outbound.values() if c.task is not None] + list(self._inbound)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self._outbound.clear()

    def connected_peers(self) -> list[tuple[str, int]]:
        return sorted(key for key, c in self._outbound.items() if c.writer is not None)

    # MessagingService hooks -------------------------------------------------------------------------
    def _call_in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if threading.get_ident() == self._thread:
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def _transmit(self, to: Endpoint, message: Message) -> None:
        if self.closed:
            return
        if (to.address, to.port) == (self.local.address, self.local.port):
            self.loop.call_soon(self._receive, message)        # loopback, like Cassandra's
            return
        frame = encode_frame(message, self.max_frame_size)
        key = (to.address, to.port)
        connection = self._outbound.get(key)
        if connection is None:
            connection = self._outbound[key] = _OutboundConnection(self, to.address, to.port)
        connection.enqueue(frame)

    # inbound ----------------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self.closed or task is None:
            writer.close()
            return
        self._inbound.add(task)
        try:
            while not self.closed:
                prefix = await reader.readexactly(PREFIX.size)
                rest = await reader.readexactly(parse_prefix(prefix, self.max_frame_size))
                message, _ = decode_frame(prefix + rest, self.max_frame_size)
                self._receive(message)
        except asyncio.IncompleteReadError:
            pass                                              # peer closed (maybe mid-frame)
        except FrameError as exc:
            log.warning("%s: closing a connection from %s: %s", self.local,
                        writer.get_extra_info("peername"), exc)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._inbound.discard(task)
            writer.close()


class _OutboundConnection:
    """The queue and writer task for one peer; reconnects after failures."""

    def __init__(self, service: TcpMessagingService, address: str, port: int) -> None:
        self.service, self.address, self.port = service, address, port
        self.queue: collections.deque[bytes] = collections.deque()
        self.wakeup = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None
        self.watcher: asyncio.Task | None = None
        self.task: asyncio.Task | None = None
        self.failures = 0
        self.closed = False

    def enqueue(self, frame: bytes) -> None:
        if len(self.queue) >= self.service.queue_limit:
            self.service.dropped += 1
            return
        self.queue.append(frame)
        self.wakeup.set()
        if self.task is None or self.task.done():
            self.task = self.service.loop.create_task(self._run())

    def close(self) -> None:
        self.closed = True
        self._disconnect()
        self.wakeup.set()

    def _disconnect(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            self.watcher = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _drop_queued(self) -> None:
        self.service.dropped += len(self.queue)
        self.queue.clear()

    async def _run(self) -> None:
        try:
            while not self.closed:
                if not self.queue:
                    self.wakeup.clear()
                    await self.wakeup.wait()
                    continue
                if self.writer is None and not await self._connect():
                    self._drop_queued()
                    low, high = self.service.reconnect_backoff
                    await asyncio.sleep(min(high, low * (2 ** min(self.failures, 16))))
                    continue
                writer = self.writer
                assert writer is not None
                while self.queue:
                    writer.write(self.queue.popleft())
                try:
                    await writer.drain()
                except (ConnectionError, OSError):
                    self.service.dropped += 1
                    self._disconnect()
        except asyncio.CancelledError:
            pass
        finally:
            self._disconnect()

    async def _connect(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.address, self.port), self.service.connect_timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            self.failures += 1
            log.debug("%s: cannot connect to %s:%s: %s", self.service.local, self.address, self.port, exc)
            return False
        self.failures = 0
        self.writer = writer
        self.watcher = self.service.loop.create_task(self._watch(reader, writer))
        return True

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """We never read from an outbound connection: EOF here means the peer closed it."""
        try:
            await reader.read(1)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        if self.writer is writer:
            self.writer = None
            writer.close()

