"""Replication strategies: which endpoints hold a token's data, built from a keyspace's replication map.

- SimpleStrategy: walk the ring clockwise from the token, taking distinct endpoints until RF.
- NetworkTopologyStrategy: one clockwise walk for all datacenters (Cassandra 4's
  ``calculateNaturalReplicas``): per DC, the first endpoint seen on each new rack is taken; an
  endpoint on an already-used rack is taken only while ``rf - racks_in_dc`` repeats remain, so with
  racks >= RF the replicas sit on distinct racks and otherwise every rack gets one.  The replica set is
  the one notes A9 describes (skipped same-rack nodes topped up in ring order); the list is in the
  order the walk accepts endpoints, the first being the primary.
- LocalStrategy (system keyspaces: only this node) and EverywhereStrategy (every member).

``validate_replication`` checks a map as CREATE/ALTER KEYSPACE does against this ring's
``topology`` (the rules are schema/replication_options.py's).  Replica lookups go through a
``ReplicaMap``: one replica tuple per ring token, cached on the TokenMetadata until the ring changes.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Mapping

from cqlpy.engine import murmur3
from cqlpy.errors import ConfigurationException
from cqlpy.schema import replication_options
from cqlpy.schema.replication_options import (
    REPLICATION_FACTOR, STRATEGY_PACKAGE, Topology, parse_replication_factor,
)

from .endpoints import DEFAULT_DATACENTER, Endpoint
from .partitioner import RING_SIZE, TokenRange, normalize
from .token_metadata import TokenMetadata



class ReplicationStrategy:
    """Placement rules only; the ring comes in as a TokenMetadata on each call."""

    class_name: str = ""

    def calculate_natural_replicas(self, token: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        """Replicas of the range containing ``token``, primary first."""
        tokens = tm.sorted_tokens()
        if not tokens:
            return ()
        return self._replicas_at(tm.first_token_index(token), tm)

    def _replicas_at(self, index: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        raise NotImplementedError

    @property
    def replication_factor(self) -> int:
        """Total replicas over all datacenters (Σ RF)."""
        raise NotImplementedError

    def rf_for_datacenter(self, dc: str) -> int:
        """Replicas configured in one datacenter (SimpleStrategy: its RF, wherever the nodes are)."""
        return self.replication_factor

    @property
    def is_datacenter_aware(self) -> bool:
        return False

    def replica_map(self, tm: TokenMetadata) -> "ReplicaMap":
        """Replica tuples for every range of the ring, cached until the ring changes."""
        return tm.cached(("replica_map", self), lambda: ReplicaMap.build(self, tm))

    def replicas(self, token: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        """Cached lookup of ``calculate_natural_replicas``."""
        return self.replica_map(tm).for_token(token)

    def options(self) -> dict[str, str]:
        """The replication map as system_schema.keyspaces stores it."""
        return {"class": self.class_name}


@dataclass(frozen=True)
class SimpleStrategy(ReplicationStrategy):
    rf: int
    class_name = STRATEGY_PACKAGE + "SimpleStrategy"

    def _replicas_at(self, index: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        owners = tm.owners()
        n = len(owners)
        out: list[Endpoint] = []
        for k in range(n):
            if len(out) >= self.rf:
                break
            e = owners[(index + k) % n]
            if e not in out:
                out.append(e)
        return tuple(out)

    @property
    def replication_factor(self) -> int:
        return self.rf

    def options(self) -> dict[str, str]:
        return {"class": self.class_name, REPLICATION_FACTOR: str(self.rf)}


@dataclass(frozen=True)
class NetworkTopologyStrategy(ReplicationStrategy):
    """``datacenters``: (dc, rf) pairs, sorted by dc so equal settings compare and hash equal."""

    datacenters: tuple[tuple[str, int], ...]
    class_name = STRATEGY_PACKAGE + "NetworkTopologyStrategy"
    _rfs: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "datacenters", tuple(sorted(self.datacenters)))
        object.__setattr__(self, "_rfs", dict(self.datacenters))

    @classmethod
    def of(cls, **dc_rfs: int) -> "NetworkTopologyStrategy":
        return cls(tuple(dc_rfs.items()))

    def _replicas_at(self, index: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        owners = tm.owners()
        n = len(owners)
        dc_endpoints = tm.datacenter_endpoints()
        dc_racks = tm.datacenter_racks()
        # per DC: [rf_left, acceptable_rack_repeats]
        state: dict[str, list[int]] = {}
        for dc, rf in self._rfs.items():
            nodes = len(dc_endpoints.get(dc, ()))
            if rf <= 0 or nodes <= 0:
                continue
            state[dc] = [min(rf, nodes), rf - len(dc_racks.get(dc, ()))]
        to_fill = len(state)
        replicas: list[Endpoint] = []
        chosen: set[Endpoint] = set()
        seen_racks: set[tuple[str, str]] = set()
        location = tm.location
        k = 0
        while to_fill and k < n:
            ep = owners[(index + k) % n]
            k += 1
            loc = location(ep)
            st = state.get(loc[0])
            if st is None or st[0] == 0:
                continue
            if loc not in seen_racks:
                seen_racks.add(loc)
            elif st[1] <= 0 or ep in chosen:
                continue
            else:
                st[1] -= 1
            st[0] -= 1
            replicas.append(ep)
            chosen.add(ep)
            if st[0] == 0:
                to_fill -= 1
        return tuple(replicas)

    @property
    def replication_factor(self) -> int:
        return sum(self._rfs.values())

    def rf_for_datacenter(self, dc: str) -> int:
        return self._rfs.get(dc, 0)

    @property
    def is_datacenter_aware(self) -> bool:
        return True

    def options(self) -> dict[str, str]:
        return {"class": self.class_name, **{dc: str(rf) for dc, rf in self.datacenters}}


@dataclass(frozen=True)
class LocalStrategy(ReplicationStrategy):
    """System keyspaces: the data lives on this node only."""

    local: Endpoint | None = None
    class_name = STRATEGY_PACKAGE + "LocalStrategy"

    def calculate_natural_replicas(self, token: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        return (self.local,) if self.local is not None else ()

    def _replicas_at(self, index: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        return self.calculate_natural_replicas(0, tm)

    def replicas(self, token: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        return self.calculate_natural_replicas(token, tm)

    @property
    def replication_factor(self) -> int:
        return 1


@dataclass(frozen=True)
class EverywhereStrategy(ReplicationStrategy):
    """Every normal member holds every range (ring order from the token)."""

    class_name = STRATEGY_PACKAGE + "EverywhereStrategy"

    def _replicas_at(self, index: int, tm: TokenMetadata) -> tuple[Endpoint, ...]:
        return SimpleStrategy(len(tm.owners()))._replicas_at(index, tm)

    @property
    def replication_factor(self) -> int:
        return 0        # depends on the ring; use len(tm.endpoints())


class ReplicaMap:
    """A strategy's replicas for every range of one ring version: token -> bisect -> tuple."""

    __slots__ = ("tokens", "replicas", "ring_version", "_n")

    def __init__(self, tokens: list[int], replicas: list[tuple[Endpoint, ...]], ring_version: int):
        self.tokens, self.replicas, self.ring_version = tokens, replicas, ring_version
        self._n = len(tokens)

    @classmethod
    def build(cls, strategy: ReplicationStrategy, tm: TokenMetadata) -> "ReplicaMap":
        tokens = list(tm.sorted_tokens())
        reps = [strategy._replicas_at(i, tm) for i in range(len(tokens))]
        # share equal tuples so the map stays small on big rings
        interned: dict[tuple[Endpoint, ...], tuple[Endpoint, ...]] = {}
        reps = [interned.setdefault(r, r) for r in reps]
        return cls(tokens, reps, tm.ring_version)

    def for_token(self, token: int) -> tuple[Endpoint, ...]:
        if not self._n:
            return ()
        i = bisect.bisect_left(self.tokens, token)
        return self.replicas[i if i < self._n else 0]

    def for_key(self, key: bytes) -> tuple[Endpoint, ...]:
        return self.for_token(murmur3.token(key))

    def ranges(self) -> list[tuple[TokenRange, tuple[Endpoint, ...]]]:
        """(range, replicas) for every range of the ring, in token order."""
        toks = self.tokens
        return [(TokenRange(toks[i - 1], toks[i]), self.replicas[i]) for i in range(self._n)]


# --- building strategies from replication maps ------------------------------------------------------

def _short_class(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def strategy_from_replication(replication: Mapping[str, object],
                              local: Endpoint | None = None) -> ReplicationStrategy:
    """A strategy from a stored replication map ('class' plus options); no topology validation."""
    opts = {str(k): str(v) for k, v in replication.items()}
    short = _short_class(opts.pop("class", ""))
    if short == "SimpleStrategy":
        return SimpleStrategy(parse_replication_factor(opts.get(REPLICATION_FACTOR, "")))
    if short == "NetworkTopologyStrategy":
        return NetworkTopologyStrategy(tuple((dc, parse_replication_factor(v))
                                             for dc, v in opts.items() if dc != REPLICATION_FACTOR))
    if short == "LocalStrategy":
        return LocalStrategy(local)
    if short == "EverywhereStrategy":
        return EverywhereStrategy()
    raise ConfigurationException(f"Unable to find replication strategy class '{replication.get('class')}'")


def topology(tm: TokenMetadata) -> Topology:
    """What a replication map is checked against (schema/replication_options.py), from the ring."""
    members = tm.datacenter_endpoints()
    return Topology(len(set(tm.endpoints()) | tm.bootstrapping_endpoints()),
                    {dc: len(eps) for dc, eps in members.items()}, frozenset(tm.known_datacenters()))


def validate_replication(keyspace: str, replication: Mapping[str, object], tm: TokenMetadata,
                         local_dc: str = DEFAULT_DATACENTER,
                         previous: Mapping[str, object] | None = None) -> tuple[dict[str, str], list[str]]:
    """Check a CREATE/ALTER KEYSPACE replication map against the ring; (stored map, warnings)."""
    return replication_options.validate_replication(keyspace, replication, topology(tm), local_dc,
                                                    previous)


# --- ring-wide views ---------------------------------------------------------------------------------

def replicas_for_key(replication: Mapping[str, object] | ReplicationStrategy, key: bytes,
                     tm: TokenMetadata, local: Endpoint | None = None) -> tuple[Endpoint, ...]:
    """nodetool getendpoints: the replicas of a serialized partition key, primary first."""
    strategy = (replication if isinstance(replication, ReplicationStrategy)
                else strategy_from_replication(replication, local))
    return strategy.replicas(murmur3.token(key), tm)


def address_ranges(strategy: ReplicationStrategy, tm: TokenMetadata) -> dict[Endpoint, list[TokenRange]]:
    """Every endpoint's replicated ranges (Cassandra's getAddressRanges), merged and sorted."""
    out: dict[Endpoint, list[TokenRange]] = {}
    for rng, reps in strategy.replica_map(tm).ranges():
        for e in reps:
            out.setdefault(e, []).append(rng)
    return {e: normalize(rs) for e, rs in out.items()}


def replicated_ownership(strategy: ReplicationStrategy, tm: TokenMetadata) -> dict[Endpoint, float]:
    """Effective ownership (nodetool status <keyspace>): fraction of the ring each endpoint replicates.

    The values sum to the number of replicas per range (Σ RF when every DC has enough nodes)."""
    out = {e: 0.0 for e in tm.endpoints()}
    rm = strategy.replica_map(tm)
    if len(rm.tokens) == 1:
        return {e: 1.0 for e in rm.replicas[0]}
    for rng, reps in rm.ranges():
        f = ((rng.end - rng.start) % RING_SIZE) / RING_SIZE
        for e in reps:
            out[e] += f
    return out


@dataclass(frozen=True)
class RangeMovement:
    """A range an endpoint is about to gain, and who holds it now (the streaming sources)."""

    range: TokenRange
    target: Endpoint
    sources: tuple[Endpoint, ...]


def range_movements(strategy: ReplicationStrategy, tm: TokenMetadata) -> list[RangeMovement]:
    """Ranges each endpoint gains once all pending joins and leaves settle, with their current holders.

    Compares the replicas of every sub-range bounded by tokens of either ring (current and settled),
    so it covers bootstrap, decommission and both at once."""
    settled = tm.clone_after_all_settled()
    now = tm.clone_only_token_map()
    bounds = sorted(set(now.sorted_tokens()) | set(settled.sorted_tokens()))
    out: list[RangeMovement] = []
    if not bounds or not settled.sorted_tokens():
        return out
    for i, b in enumerate(bounds):
        rng = TokenRange(bounds[i - 1], b)
        before = strategy.replicas(b, now) if now.sorted_tokens() else ()
        after = strategy.replicas(b, settled)
        for e in after:
            if e not in before:
                out.append(RangeMovement(rng, e, before))
    return out


def pending_ranges(strategy: ReplicationStrategy, tm: TokenMetadata) -> dict[Endpoint, list[TokenRange]]:
    """endpoint -> ranges it will replicate but does not yet (writes must also go there meanwhile)."""
    out: dict[Endpoint, list[TokenRange]] = {}
    for m in range_movements(strategy, tm):
        out.setdefault(m.target, []).append(m.range)
    return {e: normalize(rs) for e, rs in out.items()}
