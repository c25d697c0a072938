"""Consistency levels: how many replicas must answer, fail-fast Unavailable, and whom a read contacts.

Cassandra's ``db.ConsistencyLevel`` and the counting parts of ``locator.ReplicaPlans``
(notes A14).  ``block_for`` is the number of replica acknowledgements the coordinator waits for:

    ANY 1 (a stored hint counts; writes only)     ONE / TWO / THREE   1 / 2 / 3
    QUORUM, SERIAL    Σ RF // 2 + 1               ALL                 Σ RF
    LOCAL_ONE         1 in the local DC           LOCAL_QUORUM, LOCAL_SERIAL   RF_local // 2 + 1
    EACH_QUORUM       Σ over DCs of RF_dc // 2 + 1 (NetworkTopologyStrategy; otherwise QUORUM)

For a non-datacenter-aware strategy, LOCAL_QUORUM is QUORUM over the whole RF, as in Cassandra.
The protocol codes are the native protocol's ``[consistency]`` values (cqlpy.protocol.frame keeps
its own copy; the cluster layer does not import protocol).  ``location_of`` arguments map an
Endpoint to its Location (``TokenMetadata.location`` or a snitch's ``location``).
"""
from __future__ import annotations

import enum
from typing import Callable, Collection, Iterable

from cqlpy.errors import InvalidRequest, Unavailable

from .endpoints import DEFAULT_DATACENTER, DEFAULT_LOCATION, Endpoint, Location
from .replication import EverywhereStrategy, ReplicationStrategy

LocationOf = Callable[[Endpoint], Location]


class ConsistencyLevel(enum.IntEnum):
    """Consistency levels with their native-protocol codes."""

    ANY = 0x0000
    ONE = 0x0001
    TWO = 0x0002
    THREE = 0x0003
    QUORUM = 0x0004
    ALL = 0x0005
    LOCAL_QUORUM = 0x0006
    EACH_QUORUM = 0x0007
    SERIAL = 0x0008
    LOCAL_SERIAL = 0x0009
    LOCAL_ONE = 0x000A

    @property
    def is_datacenter_local(self) -> bool:
        """LOCAL_ONE, LOCAL_QUORUM, LOCAL_SERIAL: only the coordinator's DC counts."""
        return self in _LOCAL

    @property
    def is_serial(self) -> bool:
        return self in (ConsistencyLevel.SERIAL, ConsistencyLevel.LOCAL_SERIAL)

    @classmethod
    def of(cls, value: "ConsistencyLevel | int | str") -> "ConsistencyLevel":
        """From a code, a name ('local_quorum') or a level."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise InvalidRequest(f"Unknown consistency level {value}") from None
        return cls(value)


CL = ConsistencyLevel
_LOCAL = frozenset({CL.LOCAL_ONE, CL.LOCAL_QUORUM, CL.LOCAL_SERIAL})


def _default_location(_: Endpoint) -> Location:
    return DEFAULT_LOCATION


def quorum_for(rf: int) -> int:
    return rf // 2 + 1


def _total_rf(strategy: ReplicationStrategy, ring_size: int | None) -> int:
    if isinstance(strategy, EverywhereStrategy):
        if ring_size is None:
            raise ValueError("EverywhereStrategy needs the number of members (ring_size)")
        return ring_size
    return strategy.replication_factor


def local_quorum_for(strategy: ReplicationStrategy, dc: str, ring_size: int | None = None) -> int:
    """RF_dc // 2 + 1 under NetworkTopologyStrategy; QUORUM of the total RF otherwise."""
    if strategy.is_datacenter_aware:
        return quorum_for(strategy.rf_for_datacenter(dc))
    return quorum_for(_total_rf(strategy, ring_size))


def each_quorum_block_for(strategy: ReplicationStrategy) -> dict[str, int]:
    """dc -> replicas EACH_QUORUM needs there (NetworkTopologyStrategy only)."""
    if not strategy.is_datacenter_aware:
        raise ValueError("EACH_QUORUM per-DC counts need NetworkTopologyStrategy")
    return {dc: quorum_for(rf) for dc, rf in strategy.datacenters}   # type: ignore[attr-defined]


def block_for(cl: ConsistencyLevel | int | str, strategy: ReplicationStrategy,
              local_dc: str = DEFAULT_DATACENTER, ring_size: int | None = None) -> int:
    """Replica acknowledgements the level needs (Cassandra's ConsistencyLevel.blockFor)."""
    cl = CL.of(cl)
    if cl in (CL.ANY, CL.ONE, CL.LOCAL_ONE):
        return 1
    if cl is CL.TWO:
        return 2
    if cl is CL.THREE:
        return 3
    if cl in (CL.QUORUM, CL.SERIAL):
        return quorum_for(_total_rf(strategy, ring_size))
    if cl is CL.ALL:
        return _total_rf(strategy, ring_size)
    if cl in (CL.LOCAL_QUORUM, CL.LOCAL_SERIAL):
        return local_quorum_for(strategy, local_dc, ring_size)
    if cl is CL.EACH_QUORUM:
        if strategy.is_datacenter_aware:
            return sum(each_quorum_block_for(strategy).values())
        return quorum_for(_total_rf(strategy, ring_size))
    raise AssertionError(cl)


def block_for_write(cl: ConsistencyLevel | int | str, strategy: ReplicationStrategy,
                    local_dc: str = DEFAULT_DATACENTER, pending: Collection[Endpoint] = (),
                    location_of: LocationOf = _default_location, ring_size: int | None = None) -> int:
    """block_for plus the pending endpoints that will also receive the write (Cassandra's
    blockForWrite): during a range movement the joiner's acknowledgement must not be counted on
    instead of an old replica's.  Local levels add only pending endpoints of the local DC."""
    cl = CL.of(cl)
    n = block_for(cl, strategy, local_dc, ring_size)
    if cl.is_datacenter_local:
        return n + sum(1 for e in pending if location_of(e).datacenter == local_dc)
    return n + len(pending)


def validate_for_read(cl: ConsistencyLevel | int | str) -> ConsistencyLevel:
    cl = CL.of(cl)
    if cl is CL.ANY:
        raise InvalidRequest("ANY ConsistencyLevel is only supported for writes")
    return cl


def validate_for_write(cl: ConsistencyLevel | int | str) -> ConsistencyLevel:
    cl = CL.of(cl)
    if cl.is_serial:
        raise InvalidRequest("You must use conditional updates for serializable writes")
    return cl


def count_per_datacenter(endpoints: Iterable[Endpoint], location_of: LocationOf) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in endpoints:
        dc = location_of(e).datacenter
        out[dc] = out.get(dc, 0) + 1
    return out


def assure_sufficient_live_replicas(cl: ConsistencyLevel | int | str, strategy: ReplicationStrategy,
                                    live: Collection[Endpoint], local_dc: str = DEFAULT_DATACENTER,
                                    location_of: LocationOf = _default_location,
                                    ring_size: int | None = None, pending: Collection[Endpoint] = ()
                                    ) -> None:
    """Raise Unavailable(consistency, required, alive) when too few of ``live`` replicas are up.

    ``live`` are the replicas (natural plus pending, for writes) the failure detector reports up.
    ANY never fails: the coordinator's own hint counts."""
    cl = CL.of(cl)
    need = block_for_write(cl, strategy, local_dc, pending, location_of, ring_size)
    if cl is CL.ANY:
        return
    if cl.is_datacenter_local:
        alive = sum(1 for e in live if location_of(e).datacenter == local_dc)
        if alive < need:
            raise Unavailable(consistency=cl.name, required=need, alive=alive)
        return
    if cl is CL.EACH_QUORUM and strategy.is_datacenter_aware:
        per_dc = count_per_datacenter(live, location_of)
        pend = count_per_datacenter(pending, location_of)
        for dc, q in sorted(each_quorum_block_for(strategy).items()):
            required = q + pend.get(dc, 0)
            if per_dc.get(dc, 0) < required:
                raise Unavailable(f"Cannot achieve consistency level EACH_QUORUM in DC {dc}",
                                  consistency=cl.name, required=required, alive=per_dc.get(dc, 0))
        return
    if len(live) < need:
        raise Unavailable(consistency=cl.name, required=need, alive=len(live))


def is_sufficient(cl: ConsistencyLevel | int | str, strategy: ReplicationStrategy,
                  live: Collection[Endpoint], local_dc: str = DEFAULT_DATACENTER,
                  location_of: LocationOf = _default_location, ring_size: int | None = None,
                  pending: Collection[Endpoint] = ()) -> bool:
    """True when ``live`` satisfies the level (assure_sufficient_live_replicas without the raise)."""
    try:
        assure_sufficient_live_replicas(cl, strategy, live, local_dc, location_of, ring_size, pending)
    except Unavailable:
        return False
    return True


def replicas_for_read(cl: ConsistencyLevel | int | str, strategy: ReplicationStrategy,
                      replicas: Iterable[Endpoint], is_alive: Callable[[Endpoint], bool],
                      local_dc: str = DEFAULT_DATACENTER, location_of: LocationOf = _default_location,
                      ring_size: int | None = None, extra: int = 0) -> tuple[Endpoint, ...]:
    """The replicas a read contacts, closest first (Cassandra's ReplicaPlans.forRead).

    ``replicas`` must already be in proximity order (snitch.sorted_by_proximity).  Dead replicas are
    dropped; local levels keep only the local DC; EACH_QUORUM takes a quorum from every DC; any other
    level takes the first ``block_for`` (+ ``extra``, e.g. 1 for a speculative retry target).  Raises
    Unavailable when the live replicas cannot satisfy the level."""
    cl = validate_for_read(cl)
    live = [e for e in replicas if is_alive(e)]
    assure_sufficient_live_replicas(cl, strategy, live, local_dc, location_of, ring_size)
    need = block_for(cl, strategy, local_dc, ring_size)
    if cl.is_datacenter_local:
        local = [e for e in live if location_of(e).datacenter == local_dc]
        return tuple(local[:need + extra])
    if cl is CL.EACH_QUORUM and strategy.is_datacenter_aware:
        quorums = each_quorum_block_for(strategy)
        taken: dict[str, int] = {}
        out = []
        for e in live:
            dc = location_of(e).datacenter
            if taken.get(dc, 0) < quorums.get(dc, 0):
                taken[dc] = taken.get(dc, 0) + 1
                out.append(e)
        return tuple(out)
    return tuple(live[:need + extra])
