"""The node-local rows of the ``system`` keyspace: ``system.local`` as drivers and cqlsh read it.

``system.local`` is an ordinary engine table (its schema is in cqlpy.schema.system_tables); this
module writes its one row (key ``'local'``) when a database opens and rewrites ``schema_version``
after every DDL; a server that listens for clients records its address (``set_native_address``:
``rpc_address``, ``rpc_port``, where drivers and cqlsh look for it).  Write timestamps come from
a ServerTimestamps (timestamps.py) seeded, like the sessions', from the newest timestamp on disk,
so a reopened database's rows win over the stored ones even when the clock went back.
``host_id`` and ``tokens`` are chosen on the first open and kept afterwards, as a Cassandra node
keeps them; ``gossip_generation`` is the open time in seconds.  ``system.peers`` and
``system.peers_v2`` stay empty: an embedded database is a one-node cluster.
"""
from __future__ import annotations

import random
import time
import uuid
from typing import Any, Callable

from cqlpy.schema.catalog import Catalog, SchemaChange
from cqlpy.schema.system_tables import system_table
from cqlpy.session.rowcodec import RowCodec
from cqlpy.session.timestamps import ServerTimestamps

CLUSTER_NAME = "Test Cluster"
RELEASE_VERSION = "5.0.0"                   # what cqlsh 6.2 (Cassandra 5.0's) was built against: no warning
CQL_VERSION = "3.4.7"                       # what Cassandra 5.0 reports (4.1: 3.4.6)
NATIVE_PROTOCOL_VERSION = "4"
PARTITIONER = "org.apache.cassandra.dht.Murmur3Partitioner"
DATA_CENTER = "datacenter1"
RACK = "rack1"
NUM_TOKENS = 16                             # Cassandra 4.x default num_tokens
LOCAL_ADDRESS = "127.0.0.1"
STORAGE_PORT = 7000
NATIVE_PORT = 9042


class SystemViews:
    """Keeps ``system.local`` of one database up to date."""

    def __init__(self, engine: Any, catalog: Catalog, clock: Callable[[], float] = time.time,
                 timestamps: ServerTimestamps | None = None) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self.table = system_table("system", "local")
        self.codec = RowCodec(self.table)
        self.host_id: uuid.UUID | None = None
        self.tokens: set[str] = set()
        self.timestamps = timestamps if timestamps is not None else ServerTimestamps()

    @classmethod
    def open(cls, engine: Any, catalog: Catalog, clock: Callable[[], float] = time.time,
             timestamps: ServerTimestamps | None = None) -> "SystemViews":
        """Write the local row (keeping a stored host id and tokens) and follow schema changes."""
        views = cls(engine, catalog, clock, timestamps)
        views._write_local()
        catalog.add_commit_listener(views._on_schema_change)
        return views

    def close(self) -> None:
        self.catalog.remove_commit_listener(self._on_schema_change)

    # --- rows ----------------------------------------------------------------------------------

    def stored_local(self) -> dict[str, Any] | None:
        """The stored ``system.local`` row, or None before the first open."""
        key = self.codec.partition_key_bytes(["local"])
        partition = self.engine.read(self.codec.table_id, key, now=int(self.clock()))
        if partition is None:
            return None
        rows = self.codec.decode_partition(partition)
        return rows[0] if rows else None

    def _timestamp(self) -> int:
        return self.timestamps.next(int(self.clock() * 1_000_000))

    def _write_local(self) -> None:
        stored = self.stored_local() or {}
        self.host_id = stored.get("host_id") or uuid.uuid4()
        tokens = stored.get("tokens")
        if not tokens:
            rng = random.Random(self.host_id.int)
            tokens = {str(rng.randint(-(1 << 63) + 1, (1 << 63) - 1)) for _ in range(NUM_TOKENS)}
        self.tokens = set(tokens)
        address = _inet(LOCAL_ADDRESS)
        row = {
            "key": "local",
            "bootstrapped": "COMPLETED",
            "broadcast_address": address,
            "broadcast_port": STORAGE_PORT,
            "cluster_name": CLUSTER_NAME,
            "cql_version": CQL_VERSION,
            "data_center": DATA_CENTER,
            "gossip_generation": int(self.clock()),
            "host_id": self.host_id,
            "listen_address": address,
            "listen_port": STORAGE_PORT,
            "native_protocol_version": NATIVE_PROTOCOL_VERSION,
            "partitioner": PARTITIONER,
            "rack": RACK,
            "release_version": RELEASE_VERSION,
            "rpc_address": address,
            "rpc_port": NATIVE_PORT,
            "schema_version": self.catalog.schema_version,
            "tokens": self.tokens,
        }
        now = int(self.clock())
        self.engine.apply([self.codec.insert(row, timestamp=self._timestamp(), now=now)])

    def _on_schema_change(self, change: SchemaChange) -> None:
        self.update_schema_version()

    def update_schema_version(self) -> None:
        now = int(self.clock())
        write = self.codec.write(["local"], [], timestamp=self._timestamp(), now=now)
        write.set("schema_version", self.catalog.schema_version)
        self.engine.apply([write.update])

    def set_native_address(self, host: str, port: int) -> None:
        """Record the address clients reach this node at: ``rpc_address`` (kept when ``host`` is a
        wildcard such as 0.0.0.0 or ::, which no client can dial) and ``rpc_port``."""
        address = _inet(host)
        write = self.codec.write(["local"], [], timestamp=self._timestamp(), now=int(self.clock()))
        if not address.is_unspecified:
            write.set("rpc_address", address)
        write.set("rpc_port", int(port))
        self.engine.apply([write.update])


def _inet(text: str):
    import ipaddress
    return ipaddress.ip_address(text)


def local_row_values(views: SystemViews) -> dict[str, Any]:
    """What ``SELECT * FROM system.local`` shows, straight from the store (for tests and tools)."""
    return views.stored_local() or {}
