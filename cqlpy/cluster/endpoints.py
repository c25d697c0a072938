"""Endpoint: the value type naming one node of the ring (host id, address, port), and its Location.

Shared by the partitioner-side modules (token_metadata, replication, snitch, consistency) and by
gossip/messaging.  The contract, for every module in cqlpy/cluster:

- ``Endpoint(host_id, address, port)`` is frozen and hashable; equality is on all three fields.
  ``host_id`` is the node's permanent identity (Cassandra's host ID, a UUID chosen at first start and
  kept across restarts and address changes); ``address``/``port`` are where its internode messaging
  listens (Cassandra's ``InetAddressAndPort``; default storage port 7000).
- Endpoints sort by (address as an IP where it parses, port, host id), so sorted output is stable.
- ``str(endpoint)`` is ``address:port`` as nodetool prints it; ``Endpoint.parse("127.0.0.2:7000")``
  inverts it (the host id is then derived from the address, see ``host_id_for``).
- ``Location(datacenter, rack)`` is where the snitch places an endpoint.
"""
from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

DEFAULT_STORAGE_PORT = 7000
DEFAULT_DATACENTER = "datacenter1"
DEFAULT_RACK = "rack1"

_HOST_ID_NAMESPACE = uuid.UUID("5f6c1d2e-8a0b-4c3d-9e1f-2a3b4c5d6e7f")


class Location(NamedTuple):
    """Where an endpoint sits: its datacenter and rack (as the snitch reports them)."""

    datacenter: str = DEFAULT_DATACENTER
    rack: str = DEFAULT_RACK

    def __str__(self) -> str:
        return f"{self.datacenter}:{self.rack}"


DEFAULT_LOCATION = Location()


def host_id_for(address: str, port: int = DEFAULT_STORAGE_PORT) -> uuid.UUID:
    """A deterministic host id for an address (uuid5); for tests and for peers known only by address.

    A real node generates a random uuid4 once and persists it (Cassandra's
    ``SystemKeyspace.getOrInitializeLocalHostId``)."""
    return uuid.uuid5(_HOST_ID_NAMESPACE, f"{address}:{port}")


def _address_key(address: str) -> tuple:
    try:
        ip = ipaddress.ip_address(address)
        return (0, ip.version, int(ip), "")
    except ValueError:
        return (1, 0, 0, address)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One node: permanent host id plus the address and port its internode messaging listens on."""

    host_id: uuid.UUID
    address: str
    port: int = DEFAULT_STORAGE_PORT
    _sort_key: tuple = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sort_key", (_address_key(self.address), self.port, self.host_id.int))

    @classmethod
    def of(cls, address: str, port: int = DEFAULT_STORAGE_PORT,
           host_id: uuid.UUID | None = None) -> "Endpoint":
        """An endpoint for an address; without a host id one is derived from the address."""
        return cls(host_id if host_id is not None else host_id_for(address, port), address, port)

    @classmethod
    def parse(cls, text: str, host_id: uuid.UUID | None = None) -> "Endpoint":
        """'127.0.0.2', '127.0.0.2:7001' or '[::1]:7000' -> Endpoint."""
        text = text.strip()
        port = DEFAULT_STORAGE_PORT
        if text.startswith("["):
            address, _, rest = text[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif text.count(":") == 1:
            address, _, p = text.partition(":")
            port = int(p)
        else:
            address = text
        return cls.of(address, port, host_id)

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"

    def __lt__(self, other: "Endpoint") -> bool:
        return self._sort_key < other._sort_key

    def __le__(self, other: "Endpoint") -> bool:
        return self._sort_key <= other._sort_key

    def __gt__(self, other: "Endpoint") -> bool:
        return self._sort_key > other._sort_key

    def __ge__(self, other: "Endpoint") -> bool:
        return self._sort_key >= other._sort_key
