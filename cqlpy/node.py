"""One cqlpy node: the embedded database behind the native-protocol server (``cqlpy-server``).

    cqlpy-server --data DIR [--listen 127.0.0.1] [--port 9042] [--authenticator password]
                 [--max-frame-size-mb 16] [--max-in-flight 1024] [--idle-timeout SECONDS]
                 [--max-connections N]
                 [--compression lz4] [--workers 1] [--commitlog-sync periodic|batch]
                 [--admin-port 7199] [--seeds A,B,C --storage-port 7000 --dc DC --rack RACK ...]

Binds loopback unless told otherwise and logs to stderr.  SIGTERM / SIGINT stop it cleanly: no
new connections, running requests finish, memtables are flushed, the data folder is closed.  After
SIGKILL the commit log replays on the next start.  ``--port 0`` picks a free port; the log line
``Starting listening for CQL clients on HOST:PORT`` tells which, and system.local's rpc_address /
rpc_port report the address and port actually served.

Ring: ``--seeds A,B,C`` (a seed lists itself too) makes the node one of a ring (cqlpy/node_ring.py):
``--storage-port`` (7000) for internode messaging on ``--listen`` (the gossip address too; nodes of
one test use 127.0.0.x with the same ports), ``--dc``/``--rack`` or ``--rackdc-file``,
``--num-tokens`` (16), ``--phi-convict-threshold`` (8).  Sessions then run on a RingEngine: writes
and single-partition reads go through the coordinator at the request's consistency level.
A new node that is not a seed bootstraps into an existing ring (STATUS BOOT, shown UJ; it streams
the ranges it gains, then turns NORMAL) and listens for clients only after that.
Without ``--seeds`` the node is the single-node cluster it always was.

Authentication: ``--authenticator password`` checks SASL PLAIN logins against system_auth.roles
(cqlpy/session/roles.py; the first start creates the superuser cassandra / cassandra).  On a ring,
system_auth is replicated like Cassandra's (SimpleStrategy RF 1; ALTER KEYSPACE system_auth changes
it), so a role created through one node logs in through any; the default superuser is created once
per cluster, ``AUTH_SETUP_DELAY`` after the node joined and only if no role exists anywhere.

Admin channel (Cassandra's JMX): ``--admin-port`` (7199; 0 = any, logged as ``Starting admin
channel on HOST:PORT``; -1 = none) on ``--listen``, spoken by ``cqlpy-nodetool``
(cqlpy/node_admin.py, cqlpy/nodetool.py).
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

AUTH_SETUP_DELAY = 2.0      # seconds after joining before the default role check (Cassandra: ~10)


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
    max_connections: int | None = None
    compression: tuple[str, ...] = ()
    workers: int = 1
    engine_options: dict[str, Any] = field(default_factory=dict)
    ring: Any = None                 # cqlpy.node_ring.RingOptions when --seeds is given
    admin_port: int | None = None    # the admin channel (nodetool); None: no channel

    def server_options(self, roles: Any = None) -> ServerOptions:
        """The server's options; ``roles``: the role manager a password authenticator checks."""
        return ServerOptions(host=self.listen, port=self.native_port,
                             max_frame_size=self.max_frame_size, max_in_flight=self.max_in_flight,
                             idle_timeout=self.idle_timeout, compression=self.compression,
                             max_connections=self.max_connections,
                             workers=self.workers,
                             authenticator=authenticator_named(self.authenticator, roles))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cqlpy-server", description="Run one cqlpy node.")
    p.add_argument("--data", required=True, metavar="DIR", help="data folder (created if missing)")
    p.add_argument("--listen", default="127.0.0.1", metavar="ADDRESS",
                   help="address for clients (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9042, help="native protocol port (default 9042; 0 = any)")
    p.add_argument("--authenticator", default="allow_all", choices=["allow_all", "password"],
                   help="password: SASL PLAIN against the roles in system_auth.roles (first "
                        "start: superuser cassandra / password cassandra)")
    p.add_argument("--max-frame-size-mb", type=float, default=DEFAULT_MAX_FRAME_SIZE / 2**20,
                   help="largest request frame accepted, in MiB (default 16)")
    p.add_argument("--max-in-flight", type=int, default=1024,
                   help="requests running at once per connection (default 1024)")
    p.add_argument("--idle-timeout", type=float, default=None, metavar="SECONDS",
                   help="close connections idle this long (default: never)")
    p.add_argument("--max-connections", type=int, default=None, metavar="N",
                   help="client connections at once; more are closed on arrival (default: no cap)")
    p.add_argument("--compression", action="append", default=[], choices=["lz4"],
                   help="offer this body compression to clients")
    p.add_argument("--workers", type=int, default=1,
                   help="threads running queries (0: on the event loop thread; default 1)")
    p.add_argument("--commitlog-sync", choices=["periodic", "batch"], default=None)
    p.add_argument("--admin-port", type=int, default=7199,
                   help="admin channel for cqlpy-nodetool on --listen (default 7199; 0 = any; "
                        "-1 = none)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    ring = p.add_argument_group("ring", "given --seeds, the node joins a ring (cqlpy/node_ring.py)")
    ring.add_argument("--seeds", default=None, metavar="A,B,C",
                      help="seed addresses (host or host:storage-port); a seed lists itself too")
    ring.add_argument("--storage-port", type=int, default=7000,
                      help="internode messaging port on --listen (default 7000)")
    ring.add_argument("--dc", default=None, help="this node's datacenter (default datacenter1)")
    ring.add_argument("--rack", default=None, help="this node's rack (default rack1)")
    ring.add_argument("--rackdc-file", default=None, metavar="FILE",
                      help="a cassandra-rackdc.properties file (dc=, rack=) instead of --dc/--rack")
    ring.add_argument("--num-tokens", type=int, default=16, help="vnodes per node (default 16)")
    ring.add_argument("--phi-convict-threshold", type=float, default=8.0,
                      help="failure detector threshold (default 8: a silent node is DOWN after ~18 s)")
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
                        max_connections=args.max_connections,
                        compression=tuple(args.compression), workers=args.workers,
                        engine_options=engine,
                        admin_port=None if args.admin_port < 0 else args.admin_port)
    if args.seeds is not None:
        from cqlpy.node_ring import RingOptions, parse_seeds
        config.ring = RingOptions(seeds=parse_seeds(args.seeds), storage_port=args.storage_port,
                                  dc=args.dc, rack=args.rack, rackdc_file=args.rackdc_file,
                                  num_tokens=args.num_tokens,
                                  phi_convict_threshold=args.phi_convict_threshold)
    return config, args


class Node:
    """Storage + catalog (the embedded Database) and the native-protocol server."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.backend: SessionBackend | None = None
        self.server: ProtocolServer | None = None
        self.ring: Any = None            # NodeRing, when config.ring is set
        self.admin: Any = None           # cqlpy.node_admin.AdminServer
        self._serving = False
        self._stopped = asyncio.Event()
        self._roles_setup: asyncio.Task | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        log.info("Opening data folder %s", self.config.data)
        self.backend = await loop.run_in_executor(
            None, lambda: SessionBackend.open_path(self.config.data, **self.config.engine_options))
        if self.config.ring is not None:
            self._wrap_for_ring()
        else:   # a node of one still counts replicas against the request's level
            from cqlpy.node_consistency import CheckedDatabase
            from cqlpy.session.request_options import consistency_level, serial_consistency_level
            self.backend.database = CheckedDatabase(self.backend.database, consistency_level.get,
                                                    serial_consistency_level.get)
        # system_auth; a single node creates the default superuser now, a ring node once joined
        roles = await loop.run_in_executor(None, self.backend.role_manager)
        self.server = ProtocolServer(self.backend, self.config.server_options(roles))
        try:
            # a ring node listens for clients once it has joined (a bootstrap streams first)
            await self.server.start(serve=self.ring is None)
        except BaseException:
            self.backend.close()
            raise
        host, port = self.server.address
        await loop.run_in_executor(self.server.executor, _advertise_native_address,
                                   self.backend, host, port)
        self._serving = True
        # the admin channel answers while a new node bootstraps, so nodetool shows it UJ
        await self._start_admin()
        if self.ring is not None:
            await self.ring.start(host, port)
            self._roles_setup = asyncio.create_task(self._setup_default_role(roles))
            await self.server.serve()

    async def _setup_default_role(self, roles: Any) -> None:
        """Cassandra's scheduled auth setup: once the ring has settled, create the default
        superuser cluster-wide if no role exists (roles.setup_on_ring); retried while the ring
        cannot answer (replicas down, timeouts)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(AUTH_SETUP_DELAY)
            try:
                await loop.run_in_executor(None, roles.setup_on_ring)
                return
            except Exception as exc:  # noqa: BLE001 - Unavailable, timeouts: try again later
                log.info("Setting up the default role failed (%s); retrying in %.0f s", exc,
                         AUTH_SETUP_DELAY)

    async def _start_admin(self) -> None:
        if self.config.admin_port is None:
            return
        from cqlpy.node_admin import AdminServer
        admin = AdminServer(self, self.config.listen, self.config.admin_port)
        try:
            await admin.start()
            self.admin = admin
        except OSError as exc:   # the node still serves clients; nodetool cannot reach it
            log.error("Cannot start the admin channel on %s:%d: %s", self.config.listen,
                      self.config.admin_port, exc)

    async def stop_serving(self, announce: bool = True) -> None:
        """Stop the native transport and leave the ring (nodetool drain / decommission); the
        data folder stays open and the admin channel keeps answering."""
        if not self._serving:
            return
        self._serving = False
        if self.server is not None:
            await self.server.close()
        if self.ring is not None:
            if not announce and self.ring.gossiper is not None:
                self.ring.gossiper.stop(announce=False)
            await self.ring.stop()

    def _wrap_for_ring(self) -> None:
        """Sessions run on the ring (RingEngine) instead of the local engine."""
        from cqlpy.node_ring import NodeRing, RingDatabase
        from cqlpy.session.request_options import consistency_level
        assert self.backend is not None
        if self.config.workers < 1:
            from cqlpy.errors import ConfigurationException
            raise ConfigurationException("--seeds needs --workers >= 1: coordinated requests wait "
                                         "for the event loop")
        from cqlpy.node_admin import check_not_decommissioned
        check_not_decommissioned(self.config.data)
        database = self.backend.database
        self.ring = NodeRing(self.config.ring, database, self.config.listen,
                             push_event=lambda event: self.server and self.server.push_event(event),
                             consistency=consistency_level.get)
        self.backend.database = RingDatabase(database, self.ring.engine)

    def request_stop(self) -> None:
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop serving, flush memtables and close the data folder."""
        if self.admin is not None:
            await self.admin.close()
        if self._roles_setup is not None:
            self._roles_setup.cancel()
        await self.stop_serving()
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
    views = getattr(backend.database, "system_views", None)
    if views is not None:
        views.set_native_address(host, port)


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
