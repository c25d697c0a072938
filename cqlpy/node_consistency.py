"""A standalone node's consistency checks: the engine its sessions see, refusing what Cassandra refuses.

A single Cassandra node is a ring of one: the coordinator still counts live replicas against the
request's consistency level before it touches any data.  ``CheckedEngine`` gives a standalone
``cqlpy-server``'s sessions the local engine with those checks (wired by cqlpy/node.py; a ring node
gets cqlpy.cluster.ring_engine.RingEngine instead).  The level is the protocol request's
(cqlpy.session.request_options.consistency_level); with none set (the embedded Session, internal
work) nothing is checked, as the embedded database documents.

    apply   updates of a replicated keyspace: SERIAL / LOCAL_SERIAL -> InvalidRequest ("You must
            use conditional updates for serializable writes"); too few live replicas ->
            Unavailable(consistency, required, alive)
    read    a query's read (not an index maintenance read, which keeps tombstones): the same
            count (ANY never fails: a conditional write's commit level may be ANY); at SERIAL /
            LOCAL_SERIAL the Paxos participants, a serial quorum of the replicas
    scan    a range read: SERIAL / LOCAL_SERIAL -> InvalidRequest ("... one partition at a
            time"); otherwise the count
    check_conditional  before a conditional write (session/lwt.py): the commit level may not be
            SERIAL / LOCAL_SERIAL, and the serial level needs a quorum of the replicas
            (IF NOT EXISTS at ONE on RF 3 is Unavailable(SERIAL, 2, 1), as Cassandra's Paxos)
    other   the local engine

The live replicas of a keyspace on a node of one: the node itself when the keyspace places a
replica in its datacenter (SimpleStrategy or EverywhereStrategy with RF >= 1,
NetworkTopologyStrategy with datacenter1 >= 1), else none.  Tables of system and system_schema, and
keyspaces with LocalStrategy, accept any level; so do system_auth and system_traces, which this node
writes on its own (roles, traces) while a request's level is current: Cassandra writes those at
levels of its own choosing, not the request's.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from cqlpy.cluster.consistency import (
    ConsistencyLevel,
    assure_sufficient_live_replicas,
    validate_for_write,
)
from cqlpy.cluster.endpoints import DEFAULT_DATACENTER, Endpoint
from cqlpy.cluster.paxos import commit_level
from cqlpy.cluster.replication import (
    EverywhereStrategy,
    LocalStrategy,
    ReplicationStrategy,
    strategy_from_replication,
)
from cqlpy.engine.rows import FULL_SLICE, PartitionUpdate, Slice
from cqlpy.errors import InvalidRequest
from cqlpy.schema.system_tables import LOCAL_SYSTEM_KEYSPACES, REPLICATED_SYSTEM_KEYSPACES

THIS_NODE = Endpoint.of("127.0.0.1")     # stands for the node itself: the only replica there is
UNCHECKED_KEYSPACES = LOCAL_SYSTEM_KEYSPACES | REPLICATED_SYSTEM_KEYSPACES
SERIAL_RANGE = ("SERIAL/LOCAL_SERIAL consistency may only be requested for one partition at a "
                "time")


class CheckedEngine:
    """The local engine behind the consistency checks of a node of one (module docstring)."""

    def __init__(self, local: Any, catalog: Any, consistency: Callable[[], Any],
                 serial_consistency: Callable[[], Any] = lambda: None,
                 datacenter: str = DEFAULT_DATACENTER) -> None:
        self.local = local
        self.catalog = catalog
        self._consistency = consistency
        self._serial_consistency = serial_consistency
        self._strategies: dict[str, tuple[Any, ReplicationStrategy | None]] = {}
        self.datacenter = datacenter

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local, name)

    def strategy(self, table_id: bytes) -> ReplicationStrategy | None:
        """The replication strategy of a table's keyspace; None for a node-local one."""
        table = self.catalog.table_by_id(table_id)
        if table is None or table.keyspace in UNCHECKED_KEYSPACES:
            return None
        ks = self.catalog.get_keyspace(table.keyspace)
        if ks is None:
            return None
        cached = self._strategies.get(table.keyspace)
        if cached is not None and cached[0] is ks:
            return cached[1]
        try:
            strategy = strategy_from_replication(ks.replication)
        except Exception:   # noqa: BLE001 - an unknown class: nothing to count against
            strategy = None
        if isinstance(strategy, LocalStrategy):
            strategy = None
        self._strategies[table.keyspace] = (ks, strategy)     # until the keyspace changes
        return strategy

    def level(self) -> ConsistencyLevel | None:
        level = self._consistency()
        return None if level is None else ConsistencyLevel.of(level)

    def live_replicas(self, strategy: ReplicationStrategy) -> tuple[Endpoint, ...]:
        if isinstance(strategy, EverywhereStrategy):
            return (THIS_NODE,)
        rf = (strategy.rf_for_datacenter(self.datacenter) if strategy.is_datacenter_aware
              else strategy.replication_factor)
        return (THIS_NODE,) if rf >= 1 else ()

    def assure(self, cl: ConsistencyLevel, strategy: ReplicationStrategy) -> None:
        """Unavailable when this node cannot give ``cl`` for the keyspace."""
        assure_sufficient_live_replicas(cl, strategy, self.live_replicas(strategy), self.datacenter,
                                        ring_size=1)

    # --- the engine interface -----------------------------------------------------------------------

    def check_conditional(self, table_id: bytes) -> None:
        cl = self.level()
        strategy = self.strategy(table_id)
        if cl is None or strategy is None:
            return
        commit_level(cl)
        serial = self._serial_consistency()
        self.assure(ConsistencyLevel.SERIAL if serial is None else ConsistencyLevel.of(serial),
                    strategy)

    def apply(self, updates: Sequence[PartitionUpdate]) -> None:
        cl = self.level()
        if cl is not None:
            seen: set[bytes] = set()
            for u in updates:
                if u.table_id in seen:
                    continue
                seen.add(u.table_id)
                strategy = self.strategy(u.table_id)
                if strategy is not None:
                    validate_for_write(cl)
                    self.assure(cl, strategy)
        self.local.apply(updates)

    def read(self, table_id: bytes, key: bytes, slices: Sequence[Slice] = (FULL_SLICE,), *,
             tombstones: bool = False, **options: Any) -> Any:
        cl = self.level()
        if cl is not None and not tombstones:
            strategy = self.strategy(table_id)
            if strategy is not None:
                self.assure(cl, strategy)
        return self.local.read(table_id, key, slices, tombstones=tombstones, **options)

    def scan(self, table_id: bytes, *args: Any, tombstones: bool = False,
             **options: Any) -> Iterator[Any]:
        cl = self.level()
        if cl is not None and not tombstones:
            strategy = self.strategy(table_id)
            if strategy is not None:
                if cl.is_serial:
                    raise InvalidRequest(SERIAL_RANGE)
                self.assure(cl, strategy)
        return self.local.scan(table_id, *args, tombstones=tombstones, **options)


class CheckedDatabase:
    """The Database seen by a standalone node's sessions: the same, except ``engine`` checks."""

    def __init__(self, database: Any, consistency: Callable[[], Any],
                 serial_consistency: Callable[[], Any] = lambda: None) -> None:
        self.local_database = database
        self.engine = CheckedEngine(database.engine, database.catalog, consistency,
                                    serial_consistency)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["local_database"], name)
