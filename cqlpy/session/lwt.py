"""Compare-and-set: IF NOT EXISTS / IF EXISTS / IF conditions on one node, with Cassandra's result shapes.

Under the partition lock: read the partition, evaluate every statement's conditions against the row
it names (or the static row), and only if all hold apply the statements as one write, at a
timestamp above anything the partition holds (a Paxos ballot only grows).  Results: ``[applied]``
alone on success, or on failure when no row was found; otherwise ``[applied]`` + the columns of the
conditions in IF order (every column for IF [NOT] EXISTS; in a batch the primary key first), one
row per row the conditions read (cql-semantics §1.15, Cassandra's buildCasResultSet).
On a ring (an engine with ``cas``, a replicated table) a Paxos round across the replicas replaces
the partition lock: it reads the partition at the serial quorum, calls ``_decide`` and writes its
updates at the ballot's timestamp (cqlpy/cluster/paxos.py).
"""
from __future__ import annotations

from typing import Any, Callable

from cqlpy.errors import InvalidRequest
from cqlpy.planner.conditions import COLUMNS
from cqlpy.planner.json_input import parse_json_row
from cqlpy.planner.modification import ModificationPlan
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata

from .results import Column, ResultSet
from .rowcodec import row_codec
PARTITION = object()
"""The target of a partition-level conditional DELETE (no clustering restriction)."""

from .write_executor import _check_component, _clustering_keys, _partition_keys, _Writer, \
    partition_locks


def _applied_column(table: TableMetadata) -> Column:
    return Column(table.keyspace, table.name, "[applied]", T.BOOLEAN)


def compare_and_set(ctx: Any, plans: list[ModificationPlan], batch_ts: int | None, *,
                     batch: bool) -> ResultSet:
    if not plans:
        return ResultSet.void()
    table = plans[0].table
    codec = row_codec(table)
    keys: set[bytes] = set()
    per_plan: list[tuple[ModificationPlan, bytes, bytes | None]] = []
    for plan in plans:
        if plan.json is not None:
            values = parse_json_row(table, plan.json.evaluate(ctx.eval))
            for c in table.partition_key:
                _check_component(c, values.get(c.name))
            key = codec.partition_key_bytes(values)
            ck = codec.clustering_bytes(values) if table.clustering else b""
            per_plan.append((plan, key, ck))
            keys.add(key)
            continue
        targets = _partition_keys(plan, codec, ctx)
        for key, _pk in targets:
            keys.add(key)
        if len(targets) != 1:
            continue
        key = targets[0][0]
        ck: Any
        where = plan.where
        restricted = bool(where.restricted_clustering) if where is not None else bool(plan.clustering)
        if plan.static_only:
            ck = None
        elif not restricted and table.clustering:
            ck = PARTITION
        elif not table.clustering:
            ck = b""
        else:
            values = _clustering_keys(plan, ctx)
            if len(values) != 1 or (where is not None and not where.clustering_is_full_eq):
                ck = PARTITION
            else:
                ck = codec.clustering_bytes(list(values[0]))
        per_plan.append((plan, key, ck))
    if len(keys) > 1:
        raise InvalidRequest("Batch with conditions cannot span multiple partitions")
    if not keys:
        return ResultSet.void()
    (key,) = keys
    cas = getattr(ctx.engine, "cas", None)
    if cas is not None and ctx.engine.replication(table.table_id) is not None:
        # a ring: a Paxos round across the replicas decides (cqlpy/cluster/paxos.py); the
        # updates are written at the ballot's microseconds
        return cas(table.table_id, key,
                   lambda part, micros: _decide(ctx, table, plans, per_plan, key, part,
                                                lambda: micros, batch),
                   now=ctx.now)
    check = getattr(ctx.engine, "check_conditional", None)    # a server's node of one
    if check is not None:
        check(table.table_id)
    with partition_locks(ctx.engine).hold([(table.table_id, key)]):
        part = ctx.engine.read(table.table_id, key, now=ctx.now)

        def timestamp() -> int:
            # Like a Paxos ballot: the write must win over whatever the partition holds, even
            # when a concurrent statement took a later timestamp but the lock earlier.
            ts = batch_ts if batch_ts is not None else ctx.timestamp
            seen = ctx.engine.read(table.table_id, key, now=ctx.now, tombstones=True)
            if seen is not None:
                ts = max(ts, _max_timestamp(seen) + 1)
            return ts

        result, updates = _decide(ctx, table, plans, per_plan, key, part, timestamp, batch)
        if updates:
            ctx.engine.apply(updates)
        return result


class _Capture:
    """An engine stand-in for a _Writer: keeps what it applies; everything else (reads) goes to
    the real engine."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.updates: list[Any] = []

    def apply(self, updates: Any) -> None:
        self.updates.extend(updates)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _decide(ctx: Any, table: TableMetadata, plans: list[ModificationPlan], per_plan: list,
            key: bytes, part: Any, timestamp: Callable[[], int],
            batch: bool) -> tuple[ResultSet, list | None]:
    """Evaluate the conditions on ``part`` (the partition as read): (the result set, the updates
    to write at ``timestamp()`` when they all hold, else None)."""
    codec = row_codec(table)
    rows = {}
    static_values: dict[str, Any] = {}
    static_live = False
    pk_values = codec.decode_partition_key(key)
    if part is not None:
        for r in part.rows:
            rows[r.clustering] = codec.decode_row(None, r, part.static_row,
                                                  partition_key=pk_values)
        if part.static_row is not None:
            srow = codec.decode_row(None, None, part.static_row, partition_key=pk_values)
            static_values = {c.name: srow[c.name] for c in table.static_columns}
            static_live = any(v is not None for v in static_values.values())
    applied = True
    checked: list[tuple[ModificationPlan, bytes | None]] = []
    for plan, _key, ck in per_plan:
        if not plan.is_conditional:
            continue
        checked.append((plan, ck))
        row, exists = _current_row(table, pk_values, rows, static_values, static_live, ck)
        if not plan.conditions.applies(row, ctx.eval, exists):
            applied = False
    if not applied:
        return _failure(table, checked, rows, static_values, static_live, pk_values, batch), None
    ts = timestamp()
    writer = _Writer(ctx)
    capture = writer.engine = _Capture(ctx.engine)
    for plan in plans:
        writer.add(plan, ts)
    writer.commit()
    return ResultSet.of([_applied_column(table)], [(True,)]), capture.updates


def _max_timestamp(part: Any) -> int:
    ts = [r.max_timestamp() for r in part.rows]
    if part.static_row is not None:
        ts.append(part.static_row.max_timestamp())
    if part.deletion is not None:
        ts.append(part.deletion.timestamp)
    ts.extend(rt.deletion.timestamp for rt in part.range_tombstones)
    return max(ts, default=-(1 << 63))


def _current_row(table: TableMetadata, pk: dict, rows: dict, static_values: dict,
                 static_live: bool, ck: Any) -> tuple[dict | None, bool]:
    """(values for the conditions, whether the target exists) for a clustering ``ck``: None is
    the static row (statements writing only static columns), PARTITION the whole partition (a
    partition-level conditional DELETE).  Static values are always there for the conditions."""
    statics = None
    if static_live:
        statics = {c.name: None for c in table.columns}
        statics.update(pk)
        statics.update(static_values)
    if ck is None:
        return statics, static_live
    if ck is PARTITION:
        if rows:
            return next(iter(rows.values())), True
        return statics, static_live
    row = rows.get(ck)
    if row is not None:
        return row, True
    return statics, False


def _failure(table: TableMetadata, checked: list, rows: dict, static_values: dict,
             static_live: bool, pk: dict, batch: bool) -> ResultSet:
    wildcard = any(p.conditions.kind != COLUMNS for p, _ck in checked)
    if wildcard:
        cols = list(table.columns)
    else:
        seen: dict[str, ColumnMetadata] = {}
        if batch:
            for c in table.primary_key_columns:
                seen[c.name] = c
        for p, _ck in checked:
            for c in p.conditions.condition_columns or ():
                seen.setdefault(c.name, c)
        cols = list(seen.values())
    shows_static = not wildcard and any(c.is_static for c in cols)
    out_rows = []
    order = {None: b"", PARTITION: b""}
    for ck in sorted({ck for _p, ck in checked}, key=lambda c: (c not in order, order.get(c, c))):
        row, exists = _current_row(table, pk, rows, static_values, static_live, ck)
        if row is None or not (exists or shows_static):
            continue
        out_rows.append((False,) + tuple(row.get(c.name) for c in cols))
    if not out_rows:
        return ResultSet.of([_applied_column(table)], [(False,)])
    columns = [_applied_column(table)] + [Column(table.keyspace, table.name, c.name, c.type)
                                          for c in cols]
    return ResultSet.of(columns, out_rows)


__all__ = ["compare_and_set"]
