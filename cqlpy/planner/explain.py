"""EXPLAIN: a plan shown as rows of (step, detail) instead of being run.

For a SELECT the rows say which partitions are read (one key, keys of an IN in key order, a token
range or the whole ring in token order, or a secondary index), which clustering slices, in which
order, what is filtered (and that ALLOW FILTERING allowed it), grouping/aggregation, limits, and
the SSTables the reads are expected to touch: for partitions known at plan time each key's read is
traced through the engine (memtable, bloom filters, clustering ranges, timestamps); a scan reads
every SSTable.  A write (INSERT/UPDATE/DELETE/BATCH) shows its plan's own rows (``plan.explain()``:
partitions, writes, operations, conditions, TTL, timestamp, indexes); any other plan gets a short
description (statement kind, table, WHERE).

``explain_rows(plan, ctx) -> (columns, rows)``: ``ctx`` is the session's ExecutionContext (only
``engine`` and ``eval`` are used, duck-typed: the planner does not import the engine).
"""
from __future__ import annotations

from typing import Any

from cqlpy.errors import CQLError
from cqlpy.schema import keycodec
from cqlpy.schema import types as T

from .select import SelectPlan
from .terms import EvalContext

COLUMNS = [("step", T.TEXT), ("detail", T.TEXT)]
_MAX_TRACED_KEYS = 16


def explain_rows(plan: Any, ctx: Any = None) -> tuple[list, list[tuple[str, str]]]:
    """The EXPLAIN result of ``plan`` (columns, rows)."""
    if isinstance(plan, SelectPlan):
        return COLUMNS, explain_select(plan, ctx)
    return COLUMNS, _explain_other(plan)


def explain_select(plan: SelectPlan, ctx: Any = None) -> list[tuple[str, str]]:
    w = plan.where
    ev: EvalContext = getattr(ctx, "eval", None) or EvalContext(())
    rows: list[tuple[str, str]] = [("statement", "SELECT" + (" JSON" if plan.json else "")
                                    + (" DISTINCT" if plan.distinct else "")),
                                   ("table", f"{plan.table.keyspace}.{plan.table.name}")]
    keys: list[tuple] | None = None
    pk_text = " AND ".join(u.text for u in w.partition.values())
    if w.is_partition_lookup and not w.is_key_range:
        keys = _try(lambda: w.partition_keys(ev))
        if w.is_single_partition:
            rows.append(("partitions", f"single partition: {pk_text}"))
        else:
            n = f"{len(keys)} partitions" if keys is not None else "several partitions"
            rows.append(("partitions", f"{n} (IN), read one by one in partition-key order: {pk_text}"))
        if w.token is not None:
            rows.append(("token filter", w.token.text))
    elif w.index is not None:
        index, r = w.index
        rows.append(("partitions", f"secondary index {index.name} ({index.options.get('target')}): "
                                   f"{r.text}; matching rows read in token order"))
    elif w.token is not None:
        rows.append(("partitions", f"token range scan in token order: {w.token.text}"))
    else:
        rows.append(("partitions", "full scan of every partition in token order"))
    rows.append(("clustering", _clustering(plan, ev)))
    if plan.post_sort:
        order = "rows of all partitions merged and sorted in memory by " + ", ".join(
            f"{c.name} {'DESC' if d else 'ASC'}" for c, d in plan.order_by)
    elif plan.reversed:
        order = "reversed clustering order (ORDER BY)"
    else:
        order = "clustering order" + ("" if not w.is_key_range and w.index is None
                                      else " within partitions, partitions in token order")
    rows.append(("order", order))
    if w.filters:
        why = "ALLOW FILTERING" if plan.statement.allow_filtering else (
            "re-check of index matches" if w.index is not None else "key restrictions")
        rows.append(("filtering", " AND ".join(r.text for r in w.filters) + f" ({why})"))
    else:
        rows.append(("filtering", "none"))
    if plan.group_by_clustering is not None:
        cols = [c.name for c in plan.table.partition_key] + \
            [c.name for c in plan.table.clustering[:plan.group_by_clustering]]
        rows.append(("grouping", "GROUP BY " + ", ".join(cols)))
    if plan.selection.is_aggregate:
        aggs = [o.name for o in plan.selection.outputs if o.node.has_aggregate]
        rows.append(("aggregation", ", ".join(aggs)))
    if plan.per_partition_limit is not None:
        rows.append(("per partition limit", _value_text(plan.per_partition_limit, ev)))
    if plan.limit is not None:
        rows.append(("limit", _value_text(plan.limit, ev)))
    rows.append(("paging", "by offset into the computed result" if plan.is_aggregate or plan.post_sort
                 else "by position (last partition key and clustering)"))
    rows.extend(_storage(plan, ctx, keys))
    return rows


def _clustering(plan: SelectPlan, ev: EvalContext) -> str:
    w = plan.where
    if not plan.table.clustering:
        return "no clustering columns: one row per partition"
    if w.is_key_range or w.index is not None:
        if w.clustering:
            return "every row, checked against " + " AND ".join(u.text for u in w.clustering)
        return "every row"
    if not w.slice_units:
        return "every row (one slice)"
    slices = _try(lambda: w.clustering_slices(ev))
    n = f"{len(slices)} slice{'s' if len(slices) != 1 else ''}" if slices is not None else "slices"
    kind = "points" if w.clustering_is_full_eq and w.slice_units == w.clustering else n
    return f"{kind}: " + " AND ".join(u.text for u in w.slice_units)


def _storage(plan: SelectPlan, ctx: Any, keys: list[tuple] | None) -> list[tuple[str, str]]:
    engine = getattr(ctx, "engine", None)
    if engine is None:
        return []
    table_id = plan.table.id.bytes
    try:
        stats = engine.stats(table_id)
    except Exception:  # noqa: BLE001 - EXPLAIN must not fail on monitoring
        return []
    total = stats.get("sstable_count", 0)
    out = [("sstables", f"{total} on disk; memtable {stats.get('memtable_bytes', 0)} bytes")]
    if keys is None and plan.where.index is not None:
        out.append(("expected sstables", f"the index table, then each matching partition (of {total} "
                                         "SSTables, as bloom filters allow)"))
        return out
    if keys is None:
        out.append(("expected sstables", f"all {total} (a scan merges every SSTable with the memtable)"))
        return out
    now = getattr(ctx, "now", None)
    types = [c.type for c in plan.table.partition_key]
    names = [c.name for c in plan.table.partition_key]
    for values in keys[:_MAX_TRACED_KEYS]:
        trace: list = []
        try:
            key = keycodec.encode_partition_key(types, list(values))
            engine.read(table_id, key, now=now, trace=trace)
        except Exception:  # noqa: BLE001
            continue
        read = sum(1 for t in trace if t["activity"].startswith("Read partition from SSTable"))
        bloom = sum(1 for t in trace if "bloom filter says" in t["activity"])
        other = sum(1 for t in trace if t["activity"].startswith("Skipped SSTable")) - bloom
        where = ", ".join(f"{n} = {v!r}" for n, v in zip(names, values))
        out.append(("expected sstables", f"{where}: {read} of {total} read ({bloom} skipped by bloom "
                                         f"filter, {other} by clustering/timestamp)"))
    if len(keys) > _MAX_TRACED_KEYS:
        out.append(("expected sstables", f"... {len(keys) - _MAX_TRACED_KEYS} more partitions"))
    return out


def _value_text(value: Any, ev: EvalContext) -> str:
    v = _try(lambda: value.evaluate(ev))
    return "?" if v is None else str(v)


def _try(fn: Any) -> Any:
    try:
        return fn()
    except (CQLError, IndexError, TypeError):
        return None


def _explain_other(plan: Any) -> list[tuple[str, str]]:
    own = getattr(plan, "explain", None)
    if callable(own):                       # write plans describe themselves
        return [(str(step), str(detail)) for step, detail in own()]
    kind = getattr(plan, "kind", None) or type(plan).__name__
    rows = [("statement", str(kind).upper())]
    table = getattr(plan, "table", None)
    if table is not None:
        name = table if isinstance(table, str) else f"{table.keyspace}.{table.name}"
        rows.append(("table", name))
    where = getattr(plan, "where", None)
    if where is not None and hasattr(where, "describe"):
        rows.append(("where", " AND ".join(where.describe()) or "none"))
    statements = getattr(plan, "statements", None) or getattr(plan, "plans", None)
    if statements:
        rows.append(("statements", str(len(statements))))
    return rows


__all__ = ["explain_rows", "explain_select", "COLUMNS"]
