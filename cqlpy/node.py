"""One cqlpy node: the embedded database behind the native-protocol server (``cqlpy-server``).

    cqlpy-server --data DIR [--listen 127.0.0.1] [--port 9042] [--authenticator password]
                 [--max-frame-size-mb 16] [--max-in-flight 1024] [--idle-timeout SECONDS]
                 [--compression lz4] [--workers 1] [--commitlog-sync periodic|batch]

Binds loopback unless told otherwise and logs to stderr.  SIGTERM / SIGINT stop it cleanly: no
new connections, running requests finish, memtables are flushed, the data folder is closed.  After
SIGKILL the commit log replays on the next start.  ``--port 0`` picks a free port; the log line
``Starting listening for CQL clients on HOST:PORT`` tells which, and system.local's rpc_address /
rpc_port report the address and port actually served.

The ring (a later change) adds its options to ``NodeConfig`` beside these: ``storage_port``,
``seeds``, ``dc``, ``rack``, ``num_tokens`` (flags ``--storage-port``, ``--seeds``, ``--dc``,
``--rack``, ``--num-tokens``); ``listen`` is then also the gossip address.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from cqlpy.protocol.auth import authenticator_named
from cqlpy.protocol.backend import SessionBackend
from cqlpy.protocol.frame import DEFAULT_MAX_FRAME_SIZE
from cqlpy.protocol.server import ProtocolServer, ServerOptions

log = logging.getLogger("cqlpy.node")


@dataclass
class NodeConfig:
    """Everything a node needs to start; the command line fills it (``parse_args``)."""

    data: str
    listen: str = "127.0.0.1"
    native_port: int = 9042
    authenticator: str = "allow_all"
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    max_in_flight: int = 1024
    idle_timeout: float | None = None
    compression: tuple[str, ...] = ()
    workers: int = 1
    engine_options: dict[str, Any] = field(default_factory=dict)

    def server_options(self) -> ServerOptions:
        return ServerOptions(host=self.listen, port=self.native_port,
                             max_frame_size=self.max_frame_size, max_in_flight=self.max_in_flight,
                             idle_timeout=self.idle_timeout, compression=self.compression,
                             workers=self.workers,
                             authenticator=authenticator_named(self.authenticator))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cqlpy-server", description="Run one cqlpy node.")
    p.add_argument("--data", required=True, metavar="DIR", help="data folder (created if missing)")
    p.add_argument("--listen", default="127.0.0.1", metavar="ADDRESS",
                   help="address for clients (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9042, help="native protocol port (default 9042; 0 = any)")
    p.add_argument("--authenticator", default="allow_all", choices=["allow_all", "password"],
                   help="password: SASL PLAIN, user cassandra / password cassandra")
    p.add_argument("--max-frame-size-mb", type=float, default=DEFAULT_MAX_FRAME_SIZE / 2**20,
                   help="largest request frame accepted, in MiB (default 16)")
    p.add_argument("--max-in-flight", type=int, default=1024,
                   help="requests running at once per connection (default 1024)")
    p.add_argument("--idle-timeout", type=float, default=None, metavar="SECONDS",
                   help="close connections idle this long (default: never)")
    p.add_argument("--compression", action="append", default=[], choices=["lz4"],
                   help="offer this body compression to clients")
    p.add_argument("--workers", type=int, default=1,
                   help="threads running queries (0: on the event loop thread; default 1)")
    p.add_argument("--commitlog-sync", choices=["periodic", "batch"], default=None)
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def parse_args(argv: list[str] | None = None) -> tuple[NodeConfig, argparse.Namespace]:
    args = build_parser().parse_args(argv)
    engine: dict[str, Any] = {}
    if args.commitlog_sync:
        engine["commitlog_sync"] = args.commitlog_sync
    config = NodeConfig(data=args.data, listen=args.listen, native_port=args.port,
                        authenticator=args.authenticator,
                        max_frame_size=int(args.max_frame_size_mb * 2**20),
                        max_in_flight=args.max_in_flight, idle_timeout=args.idle_timeout,
                        compression=tuple(args.compression), workers=args.workers,
                        engine_options=engine)
    return config, args


class Node:
    """Storage + catalog (the embedded Database) and the native-protocol server."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.backend: SessionBackend | None = None
        self.server: ProtocolServer | None = None
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        log.info("Opening data folder %s", self.config.data)
        self.backend = await loop.run_in_executor(
            None, lambda: SessionBackend.open_path(self.config.data, **self.config.engine_options))
        self.server = ProtocolServer(self.backend, self.config.server_options())
        try:
            await self.server.start()
        except BaseException:
            self.backend.close()
            raise
        host, port = self.server.address
        await loop.run_in_executor(self.server.executor, _advertise_native_address,
                                   self.backend, host, port)

    def request_stop(self) -> None:
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop serving, flush memtables and close the data folder."""
        if self.server is not None:
            await self.server.close()
        if self.backend is not None:
            log.info("Flushing memtables and closing %s", self.config.data)
            backend, self.backend = self.backend, None
            await asyncio.get_running_loop().run_in_executor(None, backend.close)
        log.info("Node stopped")

    async def run(self) -> None:
        """Start, serve until SIGTERM/SIGINT (or ``request_stop``), stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
                pass
        await self.start()
        try:
            await self.wait_stopped()
        finally:
            await self.stop()


def _advertise_native_address(backend: SessionBackend, host: str, port: int) -> None:
    """Write the client address and port actually served into system.local (rpc_address,
    rpc_port), where drivers and cqlsh read them."""
    import ipaddress
    views = getattr(backend.database, "system_views", None)
    if views is None:
        return
    if hasattr(views, "set_native_address"):
        views.set_native_address(host, port)
        return
    try:     # until SystemViews offers set_native_address: the same write as its schema_version update
        write = views.codec.write(["local"], [], timestamp=views._timestamp(), now=int(views.clock()))
        if host not in ("0.0.0.0", "::"):
            write.set("rpc_address", ipaddress.ip_address(host))
        write.set("rpc_port", port)
        views.engine.apply([write.update])
    except (AttributeError, TypeError, ValueError) as exc:
        log.warning("Cannot record the native address in system.local: %s", exc)


def main(argv: list[str] | None = None) -> int:
    config, args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, args.log_level),
                        format="%(levelname)s  %(asctime)s %(name)s: %(message)s")
    try:
        asyncio.run(Node(config).run())
    except OSError as exc:
        log.error("Cannot start: %s", exc)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the operator, not a traceback
        from cqlpy.errors import CQLError
        if isinstance(exc, CQLError):
            log.error("Cannot start: %s", exc)
            return 1
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
