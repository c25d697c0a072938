"""Secondary indexes on a ring: every replica indexes the data it holds; index reads ask the nodes.

Cassandra's model: an index is local to each node.  Three pieces, wired by cqlpy/node_ring.py:

    ReplicaEngine    the local engine as the ring's replica side sees it (StorageProxy's engine:
                     coordinated MUTATION, HINT and READ_REPAIR, the coordinator's own replica
                     write, streaming).  ``apply`` maintains the node's local index entries of
                     every indexed table it writes, with read-before-write on its own data
                     (IndexManager.updates_for, under the engine's partition locks and the
                     manager's lock: an index whose table is not there yet is left to its build,
                     which scans after the table appears); ``truncate``
                     empties the index tables too; ``tables()`` leaves the hidden index tables out
                     (streaming moves base data only: each node indexes what it receives).
    RingIndexes      ``database.indexes`` of the sessions of a ring node.  For a ring-replicated
                     table the coordinator does no index maintenance (updates_for gives nothing;
                     the replicas do it) and index queries go through ``index_source``; DDL
                     (create/drop: build or drop the local index) and node-local tables use the
                     node's IndexManager unchanged.
    index reads      two rounds of RANGE_REQ to every live node, as Cassandra's range read with an
                     index expression plus its replica filtering protection: (1) each node names
                     the rows its local index holds for the value (a batch in token order);
                     (2) every node sends its version of those rows (tombstones kept), so a replica
                     whose newer write moved the row out of the index still outvotes a stale one.
                     The coordinator merges per partition (last write wins, rows held by several
                     replicas counted once), re-checks the WHERE clause (read_sources.Reader) and
                     yields partitions in token order.  Like RingEngine.scan: the level's
                     availability check over the ranges read first, then no repair, the live
                     nodes' union (a covering set while one replica of each range is alive).

Index RANGE_REQ payloads (a dict with "index"; messaging's value encoding):
    entries  {"table": base table id, "index": index name, "key": index partition key
             (indexes.index_key), "start": [token, key] | None, "inclusive": bool, "limit": n,
             "now": seconds} -> {"entries": [[partition key, [clustering, ...] | None], ...] (at
             most n partitions from start, token order; None: the whole partition),
             "last": [token, key] | None (the last position named), "more": bool (entries remain
             past "last")}
    rows     {"table", "index", "rows": [[partition key, [clustering, ...] | None], ...], "now"}
             -> {"partitions": [encoded partition | None, ...]} (ring_engine's encoding)
A coordinator going over many matches asks again from the smallest "last" of the nodes that have
more, so each batch is exact up to that position.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterator, Sequence

from cqlpy.cluster.coordinator import UpdateSource, encode_partition, to_update
from cqlpy.cluster.messaging import Verb
from cqlpy.cluster.ring_engine import RANGE_TIMEOUT, ask_live_nodes, merge_partitions
from cqlpy.engine.murmur3 import token as murmur3_token
from cqlpy.engine.read_merge import resolve
from cqlpy.engine.rows import FULL_SLICE, PartitionUpdate, Slice
from cqlpy.errors import InvalidRequest
from cqlpy.schema.model import TableMetadata
from cqlpy.session.indexes import (
    IndexManager, index_key, index_table_id, index_table_ids, is_index_table, local_entries,
)
from cqlpy.session.write_executor import partition_locks

INDEX_BATCH = 128          # partitions per node per index RANGE_REQ round

Position = tuple[int, bytes]


def _indexed(table: TableMetadata | None) -> bool:
    return table is not None and any(not i.is_custom for i in table.indexes)


class ReplicaEngine:
    """The local engine, maintaining local secondary indexes on every replica-side write."""

    def __init__(self, local: Any, catalog: Any, indexes: IndexManager) -> None:
        self.local = local
        self.catalog = catalog
        self.indexes = indexes
        self._indexed: tuple[Any, dict[bytes, TableMetadata]] = (None, {})

    def indexed_tables(self) -> dict[bytes, TableMetadata]:
        """{table id: table} of the tables with secondary indexes (cached per schema version)."""
        version, tables = self._indexed
        current = self.catalog.schema_version              # read first: a commit moves it last
        if version != current:
            tables = {t.id.bytes: t for t in self.catalog.tables() if _indexed(t)}
            self._indexed = (current, tables)
        return tables

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local, name)

    def _now(self) -> int:
        clock = getattr(self.local, "clock", None)
        return int(clock() if clock is not None else time.time())

    def apply(self, updates: Sequence[PartitionUpdate]) -> None:
        tables = self.indexed_tables()
        indexed: dict[bytes, tuple[TableMetadata, list[PartitionUpdate]]] = {}
        for u in updates:
            table = tables.get(u.table_id)
            if table is not None:
                indexed.setdefault(u.table_id, (table, []))[1].append(u)
        if not indexed:
            self.local.apply(updates)
            return
        keys = {(u.table_id, u.key) for _t, mine in indexed.values() for u in mine}
        with partition_locks(self.local).hold(keys), self.indexes.lock:
            existing = {tid for _ks, _name, tid in self.local.tables()}
            now = self._now()
            extra: list[PartitionUpdate] = []
            for table, mine in indexed.values():
                extra.extend(self.indexes.updates_for(table, mine, now=now, only=existing))
            self.local.apply(list(updates) + extra)

    def truncate(self, table_id: bytes) -> None:
        self.local.truncate(table_id)
        table = self.catalog.table_by_id(table_id)
        if table is not None and table.indexes:
            self.indexes.truncate(table)

    def tables(self) -> list[tuple[str, str, bytes]]:
        """The engine's tables without the hidden index tables (local to each node)."""
        hidden = index_table_ids(self.catalog)
        return [t for t in self.local.tables() if t[2] not in hidden and not is_index_table(t[1])]


class RingIndexes:
    """``database.indexes`` for the sessions of a ring node (see the module docstring)."""

    def __init__(self, local: IndexManager, ring: Any) -> None:
        self.local = local
        self.ring = ring                     # the RingEngine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local, name)     # create, drop, drop_table, ensure, sync, build

    def _replicated(self, table: TableMetadata) -> bool:
        return self.ring.replication(table.table_id) is not None

    def updates_for(self, table: TableMetadata, updates: Any, *, now: int,
                    only: Any = None) -> list[PartitionUpdate]:
        if self._replicated(table):
            return []                        # each replica maintains its own entries
        return self.local.updates_for(table, updates, now=now, only=only)

    def truncate(self, table: TableMetadata) -> None:
        if not self._replicated(table):      # else TRUNCATE_REQ reached every node's ReplicaEngine
            self.local.truncate(table)

    def lookup(self, table: TableMetadata, index: Any, value: Any, *,
               now: int | None = None) -> Iterator[tuple[bytes, bytes | None]]:
        """This node's entries only; a replicated table's reads use ``index_source``."""
        return self.local.lookup(table, index, value, now=now)

    def index_source(self, table: TableMetadata) -> Callable[..., Iterator[Any]] | None:
        """For a ring-replicated table, ``partitions(index, value, start, now)``: the partitions
        the nodes' indexes name, merged, in token order from ``start`` (a paging Position or
        None); None for a node-local table (the entries path serves it)."""
        if not self._replicated(table):
            return None

        def partitions(index: Any, value: Any, start: Any, now: int) -> Iterator[Any]:
            first: tuple[Position, bool] | None = None
            if start is not None:
                first = ((murmur3_token(start.key), start.key), not start.partition_done)
            return index_partitions(self.ring, table, index, value, first, now)
        return partitions


def index_partitions(ring: Any, table: TableMetadata, index: Any, value: Any,
                     start: tuple[Position, bool] | None, now: int,
                     batch: int = INDEX_BATCH) -> Iterator[Any]:
    """Coordinator side of an index read: live partitions in token order from ``start``
    ((token, key), inclusive) over every live node's local index, fetched ``batch`` at a time."""
    name = index if isinstance(index, str) else index.name
    request: dict[str, Any] = {"table": table.table_id, "index": name,
                               "key": index_key(table, index, value), "limit": batch, "now": now}
    # as any range read: enough live replicas for the level over the ranges read, else Unavailable
    check = getattr(ring, "assure_range_available", None)      # RingEngine's; a stand-in may lack it
    if check is not None:
        check(table.table_id, None if start is None else start[0][0])

    def ask(payload: dict[str, Any]) -> list[Any]:
        proxy = ring.proxy()
        return ring._call(lambda: ask_live_nodes(proxy, Verb.RANGE_REQ, payload, RANGE_TIMEOUT),
                          RANGE_TIMEOUT)

    while True:
        request["start"] = None if start is None else [start[0][0], start[0][1]]
        request["inclusive"] = True if start is None else start[1]
        named: dict[bytes, set[bytes] | None] = {}
        bound: Position | None = None
        for answer in ask(dict(request)):
            for key, cks in answer.get("entries") or ():
                key = bytes(key)
                if key in named and named[key] is None:
                    continue
                if cks is None:
                    named[key] = None
                else:
                    named.setdefault(key, set()).update(bytes(c) for c in cks)  # type: ignore[union-attr]
            last = answer.get("last")
            if answer.get("more") and last is not None:
                pos = (int(last[0]), bytes(last[1]))
                bound = pos if bound is None or pos < bound else bound
        keys = sorted(named, key=lambda k: (murmur3_token(k), k))
        if bound is not None:
            keys = [k for k in keys if (murmur3_token(k), k) <= bound]
        if keys:
            rows = [[k, None if named[k] is None else sorted(named[k] or ())] for k in keys]
            merged = merge_partitions(ask({"table": table.table_id, "index": name, "rows": rows,
                                           "now": now}))
            for key in keys:
                update = merged.get(key)
                part = None if update is None else resolve([UpdateSource(update)], (FULL_SLICE,),
                                                           now=now)
                if part is not None:
                    yield part
        if bound is None:
            return
        start = (bound, False)


def index_answer(replica: ReplicaEngine, payload: dict[str, Any]) -> dict[str, Any]:
    """Replica side of an index RANGE_REQ (see the module docstring): the rows this node's local
    index names, or this node's version of given rows.  An index this node has not finished
    building refuses (the coordinator's query fails rather than miss rows)."""
    engine = replica.local
    table = replica.catalog.table_by_id(payload["table"])
    if table is None:
        raise InvalidRequest(f"unknown table id {bytes(payload['table']).hex()}")
    now = int(payload["now"])
    if "rows" in payload:
        return {"partitions": [_local_rows(engine, table, bytes(key), cks, now)
                               for key, cks in payload["rows"]]}
    index = table.index(payload["index"])
    if index is None or index.is_custom:
        raise InvalidRequest(f"no index {payload['index']} on {table.keyspace}.{table.name} here yet")
    tid = index_table_id(table, index)
    if tid in replica.indexes.building or not any(t == tid for _ks, _n, t in engine.tables()):
        raise InvalidRequest(f"index {index.name} is not built on this node yet")
    start = payload.get("start")
    first = None if start is None else (int(start[0]), bytes(start[1]))
    inclusive = bool(payload.get("inclusive", True))
    limit = max(1, int(payload.get("limit") or INDEX_BATCH))
    by_key: dict[bytes, list[bytes | None]] = {}
    for key, ck in local_entries(engine, table, index, bytes(payload["key"]),
                                 from_token=None if first is None else first[0], now=now):
        by_key.setdefault(key, []).append(ck)
    order = sorted(by_key, key=lambda k: (murmur3_token(k), k))
    if first is not None:
        order = [k for k in order if (murmur3_token(k), k) > first
                 or (inclusive and (murmur3_token(k), k) == first)]
    more = len(order) > limit
    order = order[:limit]
    named = []
    for key in order:
        cks = by_key[key]
        whole = not table.clustering or not all(cks)
        named.append([key, None if whole else sorted(set(cks))])   # type: ignore[type-var]
    last = None if not order else [murmur3_token(order[-1]), order[-1]]
    return {"entries": named, "last": last, "more": more}


def _local_rows(engine: Any, table: TableMetadata, key: bytes, cks: Any, now: int) -> bytes | None:
    """This node's version (tombstones kept) of rows ``cks`` (None: all) of partition ``key``."""
    if cks is None or not table.clustering:
        slices = [FULL_SLICE]
    else:
        slices = [Slice(bytes(c), True, bytes(c), True) for c in cks]
    part = engine.read(table.table_id, key, slices, now=now, tombstones=True)
    return None if part is None else encode_partition(to_update(table.table_id, part))


def is_index_request(payload: Any) -> bool:
    return isinstance(payload, dict) and "index" in payload


__all__ = ["INDEX_BATCH", "ReplicaEngine", "RingIndexes", "index_answer", "index_partitions",
           "is_index_request"]
