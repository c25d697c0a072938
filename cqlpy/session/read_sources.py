"""Where a SELECT's rows come from: partition lookups, token-ordered scans, secondary indexes.

``partition_rows(...)`` yields, in the query's order, every CQL row the engine holds for a
SelectPlan, already decoded (a dict of column -> value, plus ``(kind, column)`` entries for the
writetime/ttl the selection asks for) and filtered by the WHERE clause's row filter, each with its
position (partition index, key, clustering bytes) so a page can resume after it:

* partition lookups (= / IN on the whole partition key): keys in key-value order, each read with
  the plan's clustering slices (reversed for a reversing ORDER BY);
* key ranges: ``engine.scan`` in token order within the token bounds (the whole ring if none);
* index queries: the index's (partition key, clustering) entries, ordered by token, then key, then
  clustering, each partition read for its entries and re-checked against the whole WHERE clause;
  on a ring, ``index_partitions(index, value, start, now)`` (cqlpy/node_indexes.py) gives the
  partitions instead, already read by the nodes, and they are re-checked the same way.

A partition with static data but no live rows gives one row (clustering and regular columns null)
when the query restricts no clustering or regular column (notes §1.11).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple

from cqlpy.engine.murmur3 import token as murmur3_token
from cqlpy.engine.rows import FULL_SLICE, Slice
from cqlpy.planner import functions as F
from cqlpy.planner.restrictions import ENTRY, ClusteringSlice
from cqlpy.planner.select import SelectPlan
from cqlpy.planner.terms import EvalContext
from cqlpy.schema import keycodec
from cqlpy.session.paging import Position
from cqlpy.session.request_options import check_serial_read
from cqlpy.session.row_decoder import RowDecoder
from cqlpy.session.rowcodec import RowCodec, row_codec

F.set_token_function(murmur3_token)

MIN_TOKEN, MAX_TOKEN = -(1 << 63), (1 << 63) - 1

IndexLookup = Callable[..., Any]
"""``lookup(index, value) -> iterable of (partition key bytes, clustering bytes)``."""

IndexPartitions = Callable[..., Iterator[Any]]
"""A ring's ``partitions(index, value, start, now) -> partitions in token order from start``."""


class SourceRow(NamedTuple):
    """One decoded CQL row and where it sits."""

    index: int                 # partition index (lookups), 0 otherwise
    key: bytes                 # partition key bytes
    clustering: bytes | None   # None: a static-only (or DISTINCT) row, the partition's only one
    row: Any                   # a dict of column -> value, or the output tuple (direct reads)


class _Setup:
    """What a plan's reads need that does not depend on the bound values (cached on the plan)."""

    def __init__(self, plan: SelectPlan) -> None:
        table = plan.table
        self.codec: RowCodec = row_codec(table)
        self.table_id = table.id.bytes
        self.cells = [(kind, table.column(name)) for kind, name in plan.selection.cell_requests]
        w = plan.where
        self.static_rows = not w.clustering and not any(
            not c.is_static for u in w.non_key for c in u.columns)
        self.n_clustering = len(table.clustering)
        self.ck_types = [c.type for c in table.clustering]
        self.ck_orders = [c.clustering_order for c in table.clustering]
        self.pk_types = [c.type for c in table.partition_key]
        self.pk_names = [c.name for c in table.partition_key]
        self.read_columns = None
        if not table.has_static and not self.cells:
            self.read_columns = [c.name for c in table.non_key_columns]
        sel = plan.selection
        # Plain columns, nothing to filter, fold or sort: decode straight into output tuples.
        self.direct = (sel.simple and not w.filters and not plan.is_aggregate and not plan.post_sort
                       and not self.cells)
        output = [o.node.column.name for o in sel.outputs] if self.direct else None  # type: ignore[attr-defined]
        # One partition by = on every key column, plain output: read it and decode in one go.
        self.single = (self.direct and w._pk_eq is not None and w.token is None and not plan.distinct
                       and not w.is_key_range)
        self.decoder = RowDecoder(self.codec, self._needed_columns(plan), output)

    @staticmethod
    def _needed_columns(plan: SelectPlan) -> list | None:
        """The table columns a row must hold (None: all of them)."""
        sel = plan.selection
        if sel.wildcard:
            return None
        names = set(sel.columns)
        for r in plan.where.filters:
            names.update(c.name for c in r.columns)
        names.update(c.name for c, _ in plan.order_by)
        if plan.group_by_clustering:
            names.update(c.name for c in plan.table.clustering[:plan.group_by_clustering])
        return [c for c in plan.table.columns if c.name in names]


def _setup(plan: SelectPlan) -> _Setup:
    setup = plan.__dict__.get("_read_setup")
    if setup is None:
        setup = _Setup(plan)
        object.__setattr__(plan, "_read_setup", setup)
    return setup


class Reader:
    """Row source for one execution of one plan.  ``direct``: rows are output tuples already
    (plain column selections with nothing to filter); otherwise they are dicts."""

    def __init__(self, engine: Any, plan: SelectPlan, ctx: EvalContext,
                 index_lookup: IndexLookup | None = None,
                 index_partitions: IndexPartitions | None = None) -> None:
        setup = _setup(plan)
        self.engine, self.plan, self.ctx = engine, plan, ctx
        self.table = plan.table
        self.codec = setup.codec
        self.table_id = setup.table_id
        self.now = ctx.now_micros // 1_000_000
        self.where = plan.where
        self.filter = self.where.row_filter(ctx)
        self.index_lookup = index_lookup
        self.index_partitions = index_partitions
        self.cells = setup.cells
        self.static_rows = setup.static_rows
        self.n_clustering = setup.n_clustering
        self.read_columns = setup.read_columns
        self.decoder = setup.decoder
        self.direct = setup.direct
        self.single = setup.single
        self.ck_types, self.ck_orders = setup.ck_types, setup.ck_orders
        self.pk_types, self.pk_names = setup.pk_types, setup.pk_names

    # --- decoding ------------------------------------------------------------------------------

    def decode(self, pk: dict, statics: dict, row: Any, static: Any) -> Any:
        if self.direct:
            return self.decoder.tuple_row(pk, statics, row)
        out = self.decoder.dict_row(pk, statics, row)
        for kind, col in self.cells:
            src = static if col.is_static else row
            data = src.columns.get(col.name) if src is not None else None
            if kind == "ttl":
                out[(kind, col.name)] = self.codec.ttl(col, data, self.now)
            else:
                wt = self.codec.writetime(col, data)
                if kind == "maxwritetime" and isinstance(wt, list):
                    wt = max(wt) if wt else None
                out[(kind, col.name)] = wt
        return out

    def rows_of(self, index: int, partition: Any, after: bytes | None,
                distinct: bool = False, pk: dict | None = None) -> Iterator[SourceRow]:
        """The filtered rows of one engine partition (``after``: skip rows up to that
        clustering, in query order; ``pk``: the partition-key values when known)."""
        key = partition.key
        if pk is None:
            pk = self.codec.decode_partition_key(key)
        static = partition.static_row
        if static is not None and not static.columns:
            static = None
        statics = self.decoder.static_values(static)
        flt = self.filter
        if distinct:
            if partition.rows or static is not None:
                row = self.decode(pk, statics, None, static)
                if flt is None or flt(row):
                    yield SourceRow(index, key, None, row)
            return
        rows = partition.rows
        if not rows:
            if static is not None and self.static_rows and after is None:
                row = self.decode(pk, statics, None, static)
                if flt is None or flt(row):
                    yield SourceRow(index, key, None, row)
            return
        rev = self.plan.reversed
        decode = self.decode
        for r in rows:
            c = r.clustering
            if after is not None and ((c >= after) if rev else (c <= after)):
                continue
            row = decode(pk, statics, r, static)
            if flt is None or flt(row):
                yield SourceRow(index, key, c, row)

    def single_partition(self, limit: int | None) -> list[tuple]:
        """The output rows of a ``single`` plan (one partition, plain columns, nothing filtered),
        without the per-row machinery: the point-read and partition-read fast path."""
        values = self.where.partition_keys(self.ctx)[0]
        key = keycodec.encode_partition_key(self.pk_types, values)
        slices = self.slices() if self.n_clustering else [FULL_SLICE]
        if not slices:
            return []
        point = len(slices) == 1 and _is_point(slices[0])
        part = self.engine.read(self.table_id, key, slices, reversed=self.plan.reversed, limit=limit,
                                now=self.now, columns=self.read_columns if point else None)
        if part is None:
            return []
        pk = dict(zip(self.pk_names, values))
        static = part.static_row
        if static is not None and not static.columns:
            static = None
        statics = self.decoder.static_values(static)
        tuple_row = self.decoder.tuple_row
        rows = part.rows
        if not rows:
            if static is not None and self.static_rows:
                return [tuple_row(pk, statics, None)]
            return []
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
        return self.decoder.tuple_rows(pk, statics, rows)

    # --- sources -------------------------------------------------------------------------------

    def rows(self, start: Position | None) -> Iterator[SourceRow]:
        w = self.where
        if w.is_partition_lookup and not w.is_key_range:
            return self._lookup_rows(start)
        if w.index is not None:
            return self._index_rows(start)
        return self._scan_rows(start)

    def slices(self) -> list[Slice]:
        point = self.where.point_clustering(self.ctx)
        if point is not None:
            ck = keycodec.encode_prefix(self.ck_types, self.ck_orders, point)
            return [Slice(ck, True, ck, True)]
        out = []
        for s in self.where.clustering_slices(self.ctx):
            out.append(self._slice(s))
        return [s for s in out if not s.is_empty()]

    def _slice(self, s: ClusteringSlice) -> Slice:
        if s.lower is None and s.upper is None:
            if not s.prefix:
                return FULL_SLICE
            if len(s.prefix) == self.n_clustering:
                ck = keycodec.encode_prefix(self.ck_types, self.ck_orders, s.prefix)
                return Slice(ck, True, ck, True)
        return self.codec.slice(s.prefix, s.lower, s.upper)

    def _lookup_rows(self, start: Position | None) -> Iterator[SourceRow]:
        keys = self.where.partition_keys(self.ctx)
        if not keys:
            return
        check_serial_read(len(keys))     # Cassandra: SERIAL reads one partition at a time
        slices = self.slices() if self.table.clustering else [FULL_SLICE]
        if not slices:
            return
        token_bounds = None
        if self.where.token is not None:
            token_bounds = self.where.token_range(self.ctx)
            if token_bounds is None:
                return
        first = 0
        after = None
        if start is not None:
            first = start.partition_index
            if start.partition_done:
                first += 1
            else:
                after = start.clustering
        distinct = self.plan.distinct
        pk_types, pk_names = self.pk_types, self.pk_names
        for i in range(first, len(keys)):
            values = keys[i]
            key = keycodec.encode_partition_key(pk_types, values)
            if token_bounds is not None and not self.where.token.contains(murmur3_token(key), token_bounds):
                continue
            sl = slices if after is None or i != first else _trim(slices, after, self.plan.reversed)
            if not sl:
                continue
            limit = 1 if distinct else None
            part = self.engine.read(self.table_id, key, sl, reversed=self.plan.reversed, limit=limit,
                                    now=self.now, columns=self.read_columns
                                    if len(sl) == 1 and _is_point(sl[0]) else None)
            if part is None:
                continue
            yield from self.rows_of(i, part, after if i == first else None, distinct,
                                    dict(zip(pk_names, values)))

    def _scan_rows(self, start: Position | None) -> Iterator[SourceRow]:
        bounds = self.where.token_range(self.ctx)
        if bounds is None:
            return
        lo, lo_inc, hi, hi_inc = bounds
        scan_start: tuple[int, bytes] | None = None
        inclusive = True
        if lo is not None:
            if lo_inc:
                scan_start = (lo, b"")
            elif lo == MAX_TOKEN:
                return
            else:
                scan_start = (lo + 1, b"")
        end = hi
        if hi is not None and not hi_inc:
            if hi == MIN_TOKEN:
                return
            end = hi - 1
        distinct = self.plan.distinct
        if start is not None:
            pos = (murmur3_token(start.key), start.key)
            if scan_start is None or pos > scan_start:
                scan_start, inclusive = pos, False
                if not start.partition_done and not distinct:
                    # finish the partition the last page stopped in, from its last row on
                    rest = _trim([FULL_SLICE], start.clustering, False)
                    part = self.engine.read(self.table_id, start.key, rest, now=self.now) if rest else None
                    if part is not None:
                        yield from self.rows_of(0, part, start.clustering, distinct)
        it = self.engine.scan(self.table_id, scan_start, inclusive, end, now=self.now)
        try:
            for part in it:
                yield from self.rows_of(0, part, None, distinct)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _index_rows(self, start: Position | None) -> Iterator[SourceRow]:
        if self.index_lookup is None and self.index_partitions is None:
            yield from self._scan_rows(start)          # no index service: scan and filter
            return
        index, r = self.where.index                   # type: ignore[misc]
        value = _index_value(r, index, self.ctx)
        if self.index_partitions is not None:         # a ring: the nodes answer with partitions
            after = start.clustering if start is not None and not start.partition_done else None
            for part in self.index_partitions(index, value, start, self.now):
                a = after if start is not None and part.key == start.key else None
                yield from self.rows_of(0, part, a, self.plan.distinct)
            return
        entries = sorted({(murmur3_token(k), k, c or b"") for k, c in self.index_lookup(index, value)})
        if start is not None:
            pos = (murmur3_token(start.key), start.key)
            if start.partition_done:
                entries = [e for e in entries if (e[0], e[1]) > pos]
            else:
                entries = [e for e in entries if (e[0], e[1]) > pos or
                           ((e[0], e[1]) == pos and e[2] > start.clustering)]
        by_key: dict[bytes, list[bytes]] = {}
        order: list[bytes] = []
        for _, k, c in entries:
            if k not in by_key:
                by_key[k] = []
                order.append(k)
            by_key[k].append(c)
        after = start.clustering if start is not None and not start.partition_done else None
        for k in order:
            cs = by_key[k]
            if self.table.clustering and all(cs):
                sl = [Slice(c, True, c, True) for c in sorted(set(cs))]
            else:
                sl = [FULL_SLICE]
            part = self.engine.read(self.table_id, k, sl, now=self.now)
            if part is None:
                continue
            a = after if start is not None and k == start.key else None
            yield from self.rows_of(0, part, a, self.plan.distinct)


def _index_value(r: Any, index: Any, ctx: EvalContext) -> Any:
    """The value to look up in ``index`` for restriction ``r``."""
    if r.op == ENTRY:
        return (r.key.evaluate(ctx), r.operand(ctx, key_column=False))
    v = r.operand(ctx, key_column=r.first.is_primary_key)
    if r.is_multi:
        column = index.target_column
        for c, x in zip(r.columns, v):
            if c.name == column:
                return x
    return v


def _is_point(s: Slice) -> bool:
    return s.start is not None and s.start == s.end and s.start_inclusive and s.end_inclusive


def _trim(slices: list[Slice], after: bytes, reversed_: bool) -> list[Slice]:
    """The parts of ``slices`` strictly after ``after`` in query order."""
    out = []
    for s in slices:
        if not reversed_:
            if s.end is not None and s.end <= after:
                continue
            if s.start is None or s.start <= after:
                s = Slice(after, False, s.end, s.end_inclusive)
        else:
            if s.start is not None and s.start >= after:
                continue
            if s.end is None or s.end >= after:
                s = Slice(s.start, s.start_inclusive, after, False)
        if not s.is_empty():
            out.append(s)
    return out


def token_of(key: bytes) -> int:
    return murmur3_token(key)


__all__ = ["Reader", "SourceRow", "token_of"]
