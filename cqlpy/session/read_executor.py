"""Running a SelectPlan over the engine: rows in Cassandra's order, limits, aggregation, paging.

``ReadExecutor(engine, clock=..., index_lookup=..., index_partitions=...).execute(plan, ctx,
fetch_size=None, paging_state=None)`` returns a ResultSet.  The pipeline, in Cassandra's order
(notes §1.8-1.11):

1. rows from the sources (read_sources: lookups in key order, scans in token order, index entries),
   filtered by the WHERE clause;
2. PER PARTITION LIMIT (rows, or groups with GROUP BY, per partition);
3. GROUP BY / aggregates (aggregates.Aggregator), or the IN + ORDER BY merge sort;
4. LIMIT; projection (selection); JSON.

Paging (``fetch_size``): plain queries stop after ``fetch_size`` rows and return a *position*
state (the last row's partition key and clustering, the LIMIT left and the rows already taken from
that partition), from which the next execution resumes exactly; results that must be computed whole
(aggregates, GROUP BY, IN + ORDER BY) are paged by an *offset* into the result.  See paging.py.
"""
from __future__ import annotations

import itertools
import time
from typing import Any, Callable, Iterator

from cqlpy.errors import InvalidRequest
from cqlpy.planner.restrictions import sort_key
from cqlpy.planner.select import SelectPlan
from cqlpy.planner.terms import EvalContext
from cqlpy.session import paging
from cqlpy.session.aggregates import Aggregator
from cqlpy.planner.json_output import json_object
from cqlpy.session.paging import Offset, Position
from cqlpy.session.read_sources import IndexLookup, IndexPartitions, Reader, SourceRow
from cqlpy.session.results import ResultSet, make_rows


def _order_key(row: dict, col: Any) -> tuple:
    v = row.get(col.name)
    return (0, b"") if v is None else (1, sort_key(col.type, v))


def _identity(row: Any, ctx: EvalContext) -> Any:
    return row


def _default_clock() -> int:
    return time.time_ns() // 1000


class ReadExecutor:
    """Executes SELECT plans against one engine.

    ``clock``: the session's clock in µs (a new page is a new execution, with its own "now");
    ``index_lookup(index, value)``: the secondary-index service (cqlpy.session.indexes), giving
    (partition key bytes, clustering bytes) pairs; without it index queries scan and filter;
    ``index_partitions(index, value, start, now)``: on a ring, the partitions the nodes' indexes
    name, in token order (cqlpy/node_indexes.py), used instead of ``index_lookup``.
    """

    def __init__(self, engine: Any, *, clock: Callable[[], int] | None = None,
                 index_lookup: IndexLookup | None = None,
                 index_partitions: IndexPartitions | None = None) -> None:
        self.engine = engine
        self.clock = clock or _default_clock
        self.index_lookup = index_lookup
        self.index_partitions = index_partitions

    def _reader(self, plan: SelectPlan, ctx: EvalContext) -> Reader:
        return Reader(self.engine, plan, ctx, self.index_lookup, self.index_partitions)

    # --- entry point ------------------------------------------------------------------------------

    def execute(self, plan: SelectPlan, ctx: EvalContext, *, fetch_size: int | None = None,
                paging_state: bytes | None = None) -> ResultSet:
        """Run ``plan`` with the bound values of ``ctx``; one page when ``fetch_size`` is given."""
        if fetch_size is not None and fetch_size <= 0:
            fetch_size = None
        rows, state = self.rows(plan, ctx, fetch_size=fetch_size, paging_state=paging_state)
        fetch: Callable[[bytes], ResultSet] | None = None
        if state is not None:
            params = ctx.params

            def fetch_page(next_state: bytes) -> ResultSet:
                return self.execute(plan, EvalContext(params, self.clock()), fetch_size=fetch_size,
                                    paging_state=next_state)
            fetch = fetch_page
        return ResultSet(plan.specs, make_rows(plan.column_names, rows), paging_state=state,
                         fetch_page=fetch)

    def rows(self, plan: SelectPlan, ctx: EvalContext, *, fetch_size: int | None = None,
             paging_state: bytes | None = None) -> tuple[list[tuple], bytes | None]:
        """The output rows (value tuples) of one page and the state of the next (or None)."""
        limit, ppl = plan.limits(ctx)
        start = paging.decode(paging_state) if paging_state else None
        if plan.post_sort and fetch_size is not None and (limit is None or limit > fetch_size):
            raise InvalidRequest("Cannot page queries with both ORDER BY and a IN restriction on the "
                                 "partition key; you must either remove the ORDER BY or the IN and sort "
                                 "client side, or disable paging for this query")
        if plan.is_aggregate or plan.post_sort:
            if start is not None and not isinstance(start, Offset):
                raise InvalidRequest("Invalid paging state for this query")
            whole = self._whole(plan, ctx, limit, ppl)
            return self._offset_page(plan, whole, start, fetch_size)
        if start is not None and not isinstance(start, Position):
            raise InvalidRequest("Invalid paging state for this query")
        if start is None and not plan.json:
            reader = self._reader(plan, ctx)
            if reader.single:
                cap = limit if ppl is None else ppl if limit is None else min(limit, ppl)
                if fetch_size is not None and (cap is None or cap > fetch_size):
                    rows = reader.single_partition(fetch_size + 1)
                    if len(rows) > fetch_size:        # more than a page: page the normal way
                        rows = None
                else:
                    rows = reader.single_partition(cap)
                if rows is not None:
                    return rows, None
        gen = self._emit(plan, ctx, start, limit, ppl)
        try:
            if fetch_size is None:
                if plan.json:
                    return [self._finish(plan, item[0]) for item in gen], None
                return [item[0] for item in gen], None
            page = list(itertools.islice(gen, fetch_size))
            more = next(gen, None) is not None
        finally:
            gen.close()
        state = None
        if more and page:
            _, sr, remaining, count = page[-1]
            state = paging.encode(Position(sr.key, sr.clustering or b"", sr.clustering is None,
                                           remaining, count, sr.index))
        return [self._finish(plan, item[0]) for item in page], state

    # --- plain rows -------------------------------------------------------------------------------

    def _emit(self, plan: SelectPlan, ctx: EvalContext, start: Position | None, limit: int | None,
              ppl: int | None) -> Iterator[tuple[tuple, SourceRow, int | None, int]]:
        reader = self._reader(plan, ctx)
        remaining = start.remaining if start is not None else limit
        if remaining is not None and remaining <= 0:
            return
        cur_key = start.key if start is not None and not start.partition_done else None
        cur_count = start.partition_rows if cur_key is not None else 0
        project = _identity if reader.direct else plan.selection.project
        rows = reader.rows(start)
        try:
            for sr in rows:
                if sr.key != cur_key:
                    cur_key, cur_count = sr.key, 0
                if ppl is not None and cur_count >= ppl:
                    continue
                cur_count += 1
                if remaining is not None:
                    remaining -= 1
                yield project(sr.row, ctx), sr, remaining, cur_count
                if remaining == 0:
                    return
        finally:
            rows.close()

    def _finish(self, plan: SelectPlan, values: tuple) -> tuple:
        if plan.json:
            outs = plan.selection.outputs
            return (json_object([o.name for o in outs], [o.type for o in outs], values),)
        return values

    # --- whole results: aggregates, GROUP BY, IN + ORDER BY -----------------------------------------

    def _whole(self, plan: SelectPlan, ctx: EvalContext, limit: int | None, ppl: int | None) -> list[tuple]:
        reader = self._reader(plan, ctx)
        source = reader.rows(None)
        try:
            if plan.post_sort and not plan.is_aggregate:
                return self._sorted(plan, ctx, source, limit, ppl)
            if plan.group_by_clustering is None:
                agg = Aggregator(plan.selection, ctx)
                for sr in source:
                    agg.add(sr.row)
                return [self._finish(plan, agg.result())]
            return self._grouped(plan, ctx, source, limit, ppl)
        finally:
            source.close()

    def _grouped(self, plan: SelectPlan, ctx: EvalContext, source: Iterator[SourceRow],
                 limit: int | None, ppl: int | None) -> list[tuple]:
        """One output row per group (consecutive rows with the same partition and clustering
        prefix); PER PARTITION LIMIT counts groups, LIMIT counts output rows.  With IN + ORDER BY
        the groups are then sorted by their first rows."""
        clustering = plan.table.clustering[:plan.group_by_clustering or 0]
        sort_after = plan.post_sort
        groups: list[tuple[dict, Aggregator]] = []
        agg: Aggregator | None = None
        group: tuple | None = None
        part_key: bytes | None = None
        part_groups = 0
        for sr in source:
            if sr.key != part_key:
                part_key, part_groups = sr.key, 0
            row = sr.row
            g = (sr.key,) + tuple(None if row.get(c.name) is None else sort_key(c.type, row.get(c.name))
                                  for c in clustering)
            if g != group:
                group = g
                if not sort_after and limit is not None and len(groups) >= limit:
                    break
                if ppl is not None and part_groups >= ppl:
                    agg = None
                    continue
                agg = Aggregator(plan.selection, ctx)
                groups.append((row, agg))
                part_groups += 1
            if agg is not None:
                agg.add(row)
        if sort_after:
            firsts = [first for first, _ in groups]
            order = list(range(len(groups)))
            for col, desc in reversed(plan.order_by):
                order.sort(key=lambda i, col=col: _order_key(firsts[i], col), reverse=desc)
            groups = [groups[i] for i in order]
        if limit is not None:
            groups = groups[:limit]
        return [self._finish(plan, a.result()) for _, a in groups]

    def _sorted(self, plan: SelectPlan, ctx: EvalContext, source: Iterator[SourceRow],
                limit: int | None, ppl: int | None) -> list[tuple]:
        rows = []
        cur, count = None, 0
        for sr in source:
            if sr.key != cur:
                cur, count = sr.key, 0
            if ppl is not None and count >= ppl:
                continue
            count += 1
            rows.append(sr.row)
        for col, desc in reversed(plan.order_by):           # stable: last key first
            rows.sort(key=lambda row, col=col: _order_key(row, col), reverse=desc)
        if limit is not None:
            rows = rows[:limit]
        return [self._finish(plan, plan.selection.project(r, ctx)) for r in rows]

    @staticmethod
    def _offset_page(plan: SelectPlan, whole: list[tuple], start: Offset | None,
                     fetch_size: int | None) -> tuple[list[tuple], bytes | None]:
        offset = start.rows if start is not None else 0
        if fetch_size is None:
            return whole[offset:], None
        page = whole[offset:offset + fetch_size]
        end = offset + len(page)
        state = paging.encode(Offset(end)) if end < len(whole) else None
        return page, state


def execute_select(plan: SelectPlan, ctx: Any) -> ResultSet:
    """The session's entry point: run ``plan`` in an ExecutionContext (cqlpy.session.executor),
    which carries the engine, the indexes, the bound values, the statement's time, the paging
    options and ``refetch`` (the same statement from a paging state, for ResultSet paging)."""
    indexes = getattr(ctx.database, "indexes", None)
    lookup: IndexLookup | None = None
    partitions: IndexPartitions | None = None
    if indexes is not None:
        def index_lookup(index: Any, value: Any) -> Any:
            return indexes.lookup(plan.table, index, value, now=ctx.now)
        lookup = index_lookup
        source = getattr(indexes, "index_source", None)      # a ring node (node_indexes.py)
        if source is not None:
            partitions = source(plan.table)
    executor = ReadExecutor(ctx.engine, index_lookup=lookup, index_partitions=partitions)
    rows, state = executor.rows(plan, ctx.eval, fetch_size=ctx.fetch_size, paging_state=ctx.paging_state)
    return ResultSet(plan.specs, make_rows(plan.column_names, rows), paging_state=state,
                     fetch_page=ctx.refetch)


__all__ = ["ReadExecutor", "execute_select"]
