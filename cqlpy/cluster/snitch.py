"""Snitches: endpoint -> Location(datacenter, rack), and proximity order for choosing replicas.

- ``SimpleSnitch``: every endpoint in datacenter1/rack1 (Cassandra's SimpleSnitch).
- ``GossipingPropertyFileSnitch``: this node's dc/rack come from node options or a
  ``cassandra-rackdc.properties`` file; other endpoints' come from gossip (the DC and RACK application
  states), fed in with ``learn``; unknown endpoints fall back to datacenter1/rack1.

cassandra-rackdc.properties (Java properties; ``#``/``!`` comments; ``key=value`` or ``key: value``)::

    dc=dc1
    rack=rack1
    # optional
    prefer_local=true
    dc_suffix=_ssd

Unknown keys are ignored, as Cassandra does.  ``dc_suffix`` is appended to the dc name.
"""
from __future__ import annotations

import os
from typing import Iterable, Mapping, Protocol

from cqlpy.errors import ConfigurationException

from .endpoints import DEFAULT_DATACENTER, DEFAULT_LOCATION, DEFAULT_RACK, Endpoint, Location

RACKDC_FILE = "cassandra-rackdc.properties"


class EndpointSnitch(Protocol):
    """What replication, the coordinator and gossip ask of a snitch."""

    def location(self, endpoint: Endpoint) -> Location: ...

    def local_location(self) -> Location: ...


class SimpleSnitch:
    """Everything in one datacenter and one rack; proximity keeps the given order, local first."""

    name = "org.apache.cassandra.locator.SimpleSnitch"

    def __init__(self, local: Endpoint | None = None) -> None:
        self.local = local

    def location(self, endpoint: Endpoint) -> Location:
        return DEFAULT_LOCATION

    def local_location(self) -> Location:
        return DEFAULT_LOCATION

    def datacenter(self, endpoint: Endpoint) -> str:
        return DEFAULT_DATACENTER

    def rack(self, endpoint: Endpoint) -> str:
        return DEFAULT_RACK

    def sorted_by_proximity(self, endpoints: Iterable[Endpoint]) -> list[Endpoint]:
        return sorted_by_proximity(self, self.local, endpoints)


class GossipingPropertyFileSnitch:
    """Local dc/rack from options or a rackdc file; peers' locations learnt from gossip."""

    name = "org.apache.cassandra.locator.GossipingPropertyFileSnitch"

    def __init__(self, local: Endpoint | None = None, dc: str = DEFAULT_DATACENTER,
                 rack: str = DEFAULT_RACK, prefer_local: bool = False) -> None:
        dc, rack = dc.strip(), rack.strip()
        if not dc or not rack:
            raise ConfigurationException("DC or rack not found in snitch properties")
        self.local = local
        self._local_location = Location(dc, rack)
        self.prefer_local = prefer_local
        self._peers: dict[Endpoint, Location] = {}

    @classmethod
    def from_properties(cls, text: str, local: Endpoint | None = None) -> "GossipingPropertyFileSnitch":
        props = parse_properties(text)
        dc = props.get("dc", DEFAULT_DATACENTER) + props.get("dc_suffix", "")
        rack = props.get("rack", DEFAULT_RACK)
        prefer_local = props.get("prefer_local", "false").strip().lower() == "true"
        return cls(local, dc, rack, prefer_local)

    @classmethod
    def from_file(cls, path: str | os.PathLike,
                  local: Endpoint | None = None) -> "GossipingPropertyFileSnitch":
        """Read a cassandra-rackdc.properties file; a missing file is a ConfigurationException."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ConfigurationException(f"Unable to read {path}: {e.strerror}") from None
        return cls.from_properties(text, local)

    @classmethod
    def from_options(cls, options: Mapping[str, object],
                     local: Endpoint | None = None) -> "GossipingPropertyFileSnitch":
        """Node options: ``dc``/``datacenter``, ``rack``, ``prefer_local``, or ``rackdc_file``."""
        if options.get("rackdc_file"):
            return cls.from_file(str(options["rackdc_file"]), local)
        dc = str(options.get("dc") or options.get("datacenter") or DEFAULT_DATACENTER)
        rack = str(options.get("rack") or DEFAULT_RACK)
        prefer = options.get("prefer_local", False)
        prefer_local = prefer is True or str(prefer).strip().lower() == "true"
        return cls(local, dc, rack, prefer_local)

    def learn(self, endpoint: Endpoint, dc: str, rack: str) -> bool:
        """Record a peer's location from gossip; True when it changed."""
        loc = Location(dc, rack)
        if self._peers.get(endpoint) == loc:
            return False
        self._peers[endpoint] = loc
        return True

    def forget(self, endpoint: Endpoint) -> None:
        self._peers.pop(endpoint, None)

    def location(self, endpoint: Endpoint) -> Location:
        if endpoint == self.local:
            return self._local_location
        return self._peers.get(endpoint, DEFAULT_LOCATION)

    def local_location(self) -> Location:
        return self._local_location

    def datacenter(self, endpoint: Endpoint) -> str:
        return self.location(endpoint).datacenter

    def rack(self, endpoint: Endpoint) -> str:
        return self.location(endpoint).rack

    def sorted_by_proximity(self, endpoints: Iterable[Endpoint]) -> list[Endpoint]:
        return sorted_by_proximity(self, self.local, endpoints)


def sorted_by_proximity(snitch: EndpointSnitch, local: Endpoint | None,
                        endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """This node first, then its rack, then its datacenter, then the rest; stable otherwise."""
    here = snitch.local_location()

    def distance(e: Endpoint) -> int:
        if e == local:
            return 0
        loc = snitch.location(e)
        if loc.datacenter != here.datacenter:
            return 3
        return 1 if loc.rack == here.rack else 2

    return sorted(endpoints, key=distance)


def parse_properties(text: str) -> dict[str, str]:
    """A Java .properties subset: comments, ``key=value`` / ``key: value`` / ``key value``, trimmed,
    backslash line continuations."""
    out: dict[str, str] = {}
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    for line in logical:
        idx = [i for i in (line.find("="), line.find(":")) if i >= 0]
        if idx:
            cut = min(idx)
            key, value = line[:cut], line[cut + 1:]
        else:
            key, _, value = line.partition(" ")
        out[key.strip()] = value.strip()
    return out
