"""A keyspace's replication map checked against the nodes of the cluster, as CREATE/ALTER KEYSPACE does.

Cassandra validates a replication map against the nodes it knows
(``AbstractReplicationStrategy.validateReplicationStrategy``): NetworkTopologyStrategy's
``replication_factor`` expands into every known datacenter, options of ``'0'`` are dropped, a
datacenter no node is in is an unrecognized option (ConfigurationException), and a replication
factor above the nodes available is accepted with a client warning.  ``Topology`` is what the check
needs of the cluster: node counts, not the token ring, so the session can run it on an embedded
database (one node in datacenter1) and a ring node hands in its own (cqlpy/cluster/replication.py
builds one from TokenMetadata).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from cqlpy.errors import ConfigurationException

STRATEGY_PACKAGE = "org.apache.cassandra.locator."
SIMPLE_STRATEGY = STRATEGY_PACKAGE + "SimpleStrategy"
NETWORK_TOPOLOGY_STRATEGY = STRATEGY_PACKAGE + "NetworkTopologyStrategy"
REPLICATION_FACTOR = "replication_factor"
DEFAULT_DATACENTER = "datacenter1"
SYSTEM_KEYSPACES = frozenset({"system", "system_schema", "system_auth", "system_distributed",
                              "system_traces", "system_views", "system_virtual_schema"})
_RESERVED = ("LocalStrategy", "EverywhereStrategy", "MetaStrategy")


@dataclass(frozen=True)
class Topology:
    """What a replication map is checked against: ``nodes`` (members and joiners),
    ``datacenter_nodes`` (dc -> normal members) and ``datacenters`` (every dc a node is in)."""

    nodes: int
    datacenter_nodes: Mapping[str, int] = field(default_factory=dict)
    datacenters: frozenset[str] = frozenset()

    @classmethod
    def single_node(cls, datacenter: str = DEFAULT_DATACENTER) -> "Topology":
        return cls(1, {datacenter: 1}, frozenset({datacenter}))


def parse_replication_factor(value: str) -> int:
    """An RF option as Cassandra validates it (no transient replication)."""
    value = str(value).strip()
    if "/" in value:
        raise ConfigurationException("Transient replication is disabled. Enable in cassandra.yaml to use.")
    try:
        rf = int(value)
    except ValueError:
        raise ConfigurationException(f"Replication factor must be numeric; found {value}") from None
    if rf < 0:
        raise ConfigurationException(f"Replication factor must be non-negative; found {value}")
    return rf


def validate_replication(keyspace: str, replication: Mapping[str, object], topology: Topology,
                         local_dc: str = DEFAULT_DATACENTER,
                         previous: Mapping[str, object] | None = None) -> tuple[dict[str, str], list[str]]:
    """Check a CREATE/ALTER KEYSPACE replication map against ``topology``; (stored map, warnings).
    ``previous``: the map an ALTER changes (its datacenters keep their settings)."""
    opts = {str(k): _option_text(v) for k, v in replication.items()}
    cls = opts.pop("class", None)
    if cls is None:
        raise ConfigurationException("Missing replication strategy class")
    full = cls if "." in cls else STRATEGY_PACKAGE + cls
    short = _short_class(full)
    if short in _RESERVED and full.startswith(STRATEGY_PACKAGE):
        raise ConfigurationException(f"Unable to use given strategy class: {short} is reserved for "
                                     "internal use.")
    system = keyspace.lower() in SYSTEM_KEYSPACES
    warnings: list[str] = []
    if full == SIMPLE_STRATEGY:
        if REPLICATION_FACTOR not in opts:
            raise ConfigurationException("SimpleStrategy requires a replication_factor strategy option.")
        for key in opts:
            if key != REPLICATION_FACTOR:
                raise ConfigurationException(f"Unrecognized strategy option {{{key}}} passed to "
                                             f"SimpleStrategy for keyspace {keyspace}")
        rf = parse_replication_factor(opts[REPLICATION_FACTOR])
        nodes = topology.nodes
        if not system and 0 < nodes < rf:
            warnings.append(f"Your replication factor {rf} for keyspace {keyspace} is higher than "
                            f"the number of nodes {nodes}")
        return {"class": full, REPLICATION_FACTOR: opts[REPLICATION_FACTOR]}, warnings
    if full != NETWORK_TOPOLOGY_STRATEGY:
        raise ConfigurationException(f"Unable to find replication strategy class '{full}'")
    valid_dcs = set(topology.datacenters) | {local_dc}
    prev = {str(k): _option_text(v) for k, v in (previous or {}).items() if k != "class"}
    shorthand = opts.pop(REPLICATION_FACTOR, None)
    if shorthand is None and not opts:
        shorthand = prev.get(REPLICATION_FACTOR)
    elif shorthand is not None:
        for dc, rf_text in prev.items():            # ALTER: keep existing DCs' settings
            if dc != REPLICATION_FACTOR:
                opts.setdefault(dc, rf_text)
    if shorthand is not None:
        parse_replication_factor(shorthand)
        for dc in sorted(valid_dcs):
            opts.setdefault(dc, shorthand.strip())
    opts = {dc: v for dc, v in opts.items() if v != "0"}
    if not opts:
        raise ConfigurationException("Configuration for at least one datacenter must be present")
    for dc in opts:
        if dc not in valid_dcs:
            raise ConfigurationException(f"Unrecognized strategy option {{{dc}}} passed to "
                                         f"NetworkTopologyStrategy for keyspace {keyspace}")
    for dc, value in opts.items():
        rf = parse_replication_factor(value)
        nodes = topology.datacenter_nodes.get(dc, 0)
        if not system and 0 < nodes < rf:
            warnings.append(f"Your replication factor {rf} for keyspace {keyspace} is higher than "
                            f"the number of nodes {nodes} for datacenter {dc}")
    return {"class": full, **dict(sorted(opts.items()))}, warnings


def _short_class(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def _option_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
