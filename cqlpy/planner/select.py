"""SELECT planning: a bound, checked, reusable plan for one SELECT statement (notes §1.1-1.11).

``plan_select(select, catalog, keyspace)`` resolves the table, binds the selection and the WHERE
clause (restrictions.classify), and applies the statement-level rules: DISTINCT, ORDER BY, GROUP BY,
LIMIT and PER PARTITION LIMIT, aggregates, JSON.  The ``SelectPlan`` says how to read (partition
lookups or a token-ordered scan or an index, clustering slices, reversed or not) and what to do with
the rows (filter, per-partition limit, group/aggregate, post-sort for IN + ORDER BY, limit); the
executor (cqlpy.session.read_executor) runs it.  Plans are immutable; binding happens per execution
through an EvalContext.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata

from .restrictions import SELECT, WhereClause, classify
from .selection import ColumnSpec, Selection, bind_selection
from .terms import UNSET, EvalContext, Markers, Receiver, Value, bind_term

JSON_COLUMN = "[json]"


@dataclass(frozen=True)
class SelectPlan:
    """Everything the read executor needs for one SELECT (see the module docstring)."""

    kind = "select"                       # what cqlpy.session.executor dispatches on (not a field)

    statement: ast.Select
    table: TableMetadata
    selection: Selection
    where: WhereClause
    markers: Markers
    limit: Value | None = None
    per_partition_limit: Value | None = None
    reversed: bool = False
    order_by: tuple[tuple[ColumnMetadata, bool], ...] = ()
    post_sort: bool = False
    distinct: bool = False
    json: bool = False
    group_by_clustering: int | None = None
    """None without GROUP BY; else the number of clustering columns in each group key."""
    specs: tuple[ColumnSpec, ...] = field(default=())

    @property
    def keyspace(self) -> str:
        return self.table.keyspace

    @property
    def is_aggregate(self) -> bool:
        """Rows are folded: aggregates, or GROUP BY (first row of each group)."""
        return self.selection.is_aggregate or self.group_by_clustering is not None

    @property
    def column_names(self) -> list[str]:
        return [s.name for s in self.specs]

    def limits(self, ctx: EvalContext) -> tuple[int | None, int | None]:
        """(LIMIT, PER PARTITION LIMIT) for one execution; None = no limit."""
        return (_limit(self.limit, ctx, "LIMIT"), _limit(self.per_partition_limit, ctx,
                                                          "PER PARTITION LIMIT"))


def _limit(v: Value | None, ctx: EvalContext, what: str) -> int | None:
    if v is None:
        return None
    n = v.evaluate(ctx)
    if n is UNSET:
        return None
    if n is None:
        raise InvalidRequest(f"Invalid null value of {what.lower()}")
    if n <= 0:
        raise InvalidRequest(f"{what} must be strictly positive")
    return int(n)


def plan_select(select: ast.Select, catalog: Any, keyspace: str | None,
                markers: Markers | None = None) -> SelectPlan:
    """Plan ``select``; ``keyspace`` is the session's current keyspace (USE), if any."""
    ks = select.table.keyspace or keyspace
    if ks is None:
        raise InvalidRequest("No keyspace has been specified. USE a keyspace, or explicitly specify "
                             "keyspace.tablename")
    table = catalog.table(ks, select.table.name)
    return plan_select_on(select, table, catalog, markers if markers is not None else Markers())


def plan_select_on(select: ast.Select, table: TableMetadata, catalog: Any, markers: Markers) -> SelectPlan:
    """Plan ``select`` against an already resolved ``table``."""
    ks = table.keyspace
    selection = bind_selection(select, table, markers, catalog, ks)
    where = classify(table, select.where, markers, statement=SELECT,
                     allow_filtering=select.allow_filtering, catalog=catalog, keyspace=ks,
                     selects_only_static=selection.selects_only_static)
    if select.distinct:
        _check_distinct(select, table, selection, where)
    reversed_, order_by = _ordering(select, table, where)
    post_sort = bool(order_by) and where.has_partition_in
    group = _group_by(select, table, where)
    ppl = _bind_limit(select.per_partition_limit, table, "[per_partition_limit]", markers, catalog)
    if ppl is not None and selection.is_aggregate and group is None:
        raise InvalidRequest("PER PARTITION LIMIT is not allowed with aggregate queries.")
    limit = _bind_limit(select.limit, table, "[limit]", markers, catalog)
    if select.json:
        specs = (ColumnSpec(table.keyspace, table.name, JSON_COLUMN, T.TEXT),)
    else:
        specs = tuple(selection.specs())
    return SelectPlan(select, table, selection, where, markers, limit, ppl, reversed_, order_by,
                      post_sort, select.distinct, select.json, group, specs)


def _bind_limit(term: Any, table: TableMetadata, name: str, markers: Markers, catalog: Any) -> Value | None:
    if term is None:
        return None
    value = bind_term(term, Receiver(table.keyspace, table.name, name, T.INT), markers, catalog,
                      table.keyspace)
    if value.is_constant:
        what = "LIMIT" if name == "[limit]" else "PER PARTITION LIMIT"
        _limit(value, EvalContext(()), what)        # refuse LIMIT 0 / -1 at plan time
    return value


def _check_distinct(select: ast.Select, table: TableMetadata, selection: Selection,
                    where: WhereClause) -> None:
    if select.per_partition_limit is not None:
        raise InvalidRequest("PER PARTITION LIMIT is not allowed with SELECT DISTINCT queries")
    if where.clustering or any(not c.is_static for u in where.non_key for c in u.columns):
        raise InvalidRequest("SELECT DISTINCT with WHERE clause only supports restriction by "
                             "partition key and/or static columns.")
    cols = [c.name for c in table.select_star_order()] if selection.wildcard else selection.columns
    for name in cols:
        c = table.column(name)
        if not (c.is_partition_key or c.is_static):
            raise InvalidRequest(f"SELECT DISTINCT queries must only request partition key columns "
                                 f"and/or static columns (not {c.name})")
    if where.is_key_range:
        for c in table.partition_key:
            if c.name not in cols:
                raise InvalidRequest(f"SELECT DISTINCT queries must request all the partition key "
                                     f"columns (missing {c.name})")


def _ordering(select: ast.Select, table: TableMetadata,
              where: WhereClause) -> tuple[bool, tuple[tuple[ColumnMetadata, bool], ...]]:
    if not select.order_by:
        return False, ()
    if where.index is not None:
        raise InvalidRequest("ORDER BY with 2ndary indexes is not supported.")
    if where.is_key_range:
        raise InvalidRequest("ORDER BY is only supported when the partition key is restricted by an "
                             "EQ or an IN.")
    clustering = table.clustering
    seen: dict[str, bool] = {}
    i = 0
    reversed_flags: list[bool] = []
    out: list[tuple[ColumnMetadata, bool]] = []
    for o in select.order_by:
        c = table.column(o.column)
        if not c.is_clustering:
            raise InvalidRequest(f"Order by is currently only supported on the clustered columns of the "
                                 f"PRIMARY KEY, got {c.name}")
        if c.name in seen:
            raise InvalidRequest(f"Duplicate column {c.name} in ORDER BY")
        seen[c.name] = o.descending
        while i != c.position:
            if i > c.position or not where.is_restricted_by_eq(clustering[i].name):
                raise InvalidRequest("Order by currently only supports the ordering of columns "
                                     "following their declared order in the PRIMARY KEY")
            i += 1
        i += 1
        reversed_flags.append(o.descending != c.is_reversed)
        out.append((c, o.descending))
    if len(set(reversed_flags)) > 1:
        raise InvalidRequest("Unsupported order by relation")
    return reversed_flags[0], tuple(out)


def _group_by(select: ast.Select, table: TableMetadata, where: WhereClause) -> int | None:
    if not select.group_by:
        return None
    pk_columns = list(table.primary_key_columns)
    it = iter(pk_columns)
    clustering_prefix = 0
    consumed = 0
    for g in select.group_by:
        if not isinstance(g, ast.ColumnRef):
            raise InvalidRequest(f"Only columns of the PRIMARY KEY can be used in GROUP BY, got "
                                 f"{g.to_cql()}")
        c = table.column(g.name)
        if not c.is_primary_key:
            raise InvalidRequest(f"Group by is currently only supported on the columns of the PRIMARY "
                                 f"KEY, got {c.name}")
        while True:
            nxt = next(it, None)
            if nxt is None:
                raise InvalidRequest("Group by currently only support groups of columns following their "
                                     "declared order in the PRIMARY KEY")
            consumed += 1
            if nxt.is_clustering:
                clustering_prefix += 1
            if nxt.name == c.name:
                break
            if not where.is_restricted_by_eq(nxt.name):
                raise InvalidRequest("Group by currently only support groups of columns following their "
                                     "declared order in the PRIMARY KEY")
    if consumed < len(pk_columns) and not pk_columns[consumed].is_clustering:
        raise InvalidRequest("Group by is not supported on only a part of the partition key")
    if clustering_prefix and select.distinct:
        raise InvalidRequest("Grouping on clustering columns is not allowed for SELECT DISTINCT queries")
    return clustering_prefix


__all__ = ["SelectPlan", "plan_select", "plan_select_on", "JSON_COLUMN"]
