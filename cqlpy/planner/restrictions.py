"""WHERE-clause restrictions: Cassandra's rules for what SELECT, UPDATE and DELETE may restrict.

``classify(table, where, markers, statement=...)`` binds every relation of a WHERE clause to typed
values and sorts it, as Cassandra's StatementRestrictions does, into partition-key, token,
clustering and non-primary-key restrictions; it raises InvalidRequest for whatever the statement
type cannot do (notes §1.1-1.7).  The resulting ``WhereClause`` is immutable and reusable (a
prepared statement classifies once); for one execution's bound values (an ``EvalContext``) it gives

* ``partition_keys(ctx)``: the partition-key value tuples, de-duplicated, in key-value order;
* ``token_range(ctx)``: the token bounds of a ``token(...)`` restriction;
* ``clustering_keys(ctx)`` (full keys, UPDATE) or ``clustering_slices(ctx)`` (prefix + bounds,
  for SELECT and range DELETE; each maps onto ``RowCodec.slice(prefix, lower, upper)``);
* ``row_filter(ctx)``: a predicate over decoded rows for the restrictions no key/slice covers.

Values compare in CQL value order (``keycodec.sort_key``), whatever a column's CLUSTERING ORDER.

Use from UPDATE/DELETE (the checks of notes §1.2, §1.4, §1.12, §1.13, §1.17 are done here)::

    w = classify(table, stmt.where, markers, statement=UPDATE, catalog=cat, keyspace=ks,
                 static_only=writes_only_static_columns)
    for pk in w.partition_keys(ctx):            # tuples in partition-key order; [] for IN ()
        if w.clustering_is_full_eq:             # every clustering column by = / IN
            for ck in w.clustering_keys(ctx): ...            # full clustering tuples
        else:                                   # DELETE: prefix / slice -> range tombstones
            for s in w.clustering_slices(ctx):  # ClusteringSlice(prefix, lower, upper)
                codec.slice(s.prefix, s.lower, s.upper)
    w.missing_clustering, w.clustering (Units), w.restricted_clustering: for other checks
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from cqlpy.errors import InvalidRequest
from cqlpy.schema import keycodec
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, IndexMetadata, TableMetadata

from .terms import UNSET, EvalContext, Markers, Receiver, Value

SELECT, UPDATE, DELETE = "SELECT", "UPDATE", "DELETE"

REQUIRES_ALLOW_FILTERING = (
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable "
    "performance. If you want to execute this query despite the performance unpredictability, use "
    "ALLOW FILTERING")

EQ, IN, LT, LTE, GT, GTE = "=", "IN", "<", "<=", ">", ">="
CONTAINS, CONTAINS_KEY, ENTRY = "CONTAINS", "CONTAINS KEY", "[]="
SLICE_OPS = (LT, LTE, GT, GTE)
TOKEN_TYPE = T.BIGINT
MIN_TOKEN = -(1 << 63)


# --- one bound relation -----------------------------------------------------------------------------

class Restriction:
    """One relation, bound: ``columns`` (several for a tuple relation), ``op`` and its values.

    ``value``: the operand of = < <= > >= CONTAINS and map-entry = (a tuple for a tuple relation),
    or the whole list of ``IN ?``; ``values``: the items of ``IN (...)``; ``key``: the map key of
    ``m[key] = v``.  ``text`` is the relation as CQL (for messages and EXPLAIN).
    """

    __slots__ = ("columns", "op", "value", "values", "key", "text", "on_token")

    def __init__(self, columns: tuple[ColumnMetadata, ...], op: str, *, value: Value | None = None,
                 values: tuple[Value, ...] | None = None, key: Value | None = None, text: str = "",
                 on_token: bool = False) -> None:
        self.columns, self.op, self.value, self.values = columns, op, value, values
        self.key, self.text, self.on_token = key, text, on_token

    @property
    def first(self) -> ColumnMetadata:
        return self.columns[0]

    @property
    def is_multi(self) -> bool:
        """A tuple relation (TupleRestriction overrides this)."""
        return False

    @property
    def is_slice(self) -> bool:
        return self.op in SLICE_OPS

    @property
    def is_contains(self) -> bool:
        return self.op in (CONTAINS, CONTAINS_KEY, ENTRY)

    @property
    def markers(self) -> bool:
        vals = [self.value, self.key, *(self.values or ())]
        return any(v is not None and not v.is_constant for v in vals)

    def __repr__(self) -> str:
        return f"Restriction({self.text})"

    # --- evaluation ----------------------------------------------------------------------------

    def operand(self, ctx: EvalContext, *, key_column: bool) -> Any:
        return _checked(self.value.evaluate(ctx), self, key_column)   # type: ignore[union-attr]

    def in_list(self, ctx: EvalContext, *, key_column: bool) -> list[Any]:
        """The IN values (or the single EQ value), checked for null/unset."""
        if self.op == EQ:
            return [self.operand(ctx, key_column=key_column)]
        if self.values is not None:
            return [_checked(v.evaluate(ctx), self, key_column) for v in self.values]
        items = self.value.evaluate(ctx)              # type: ignore[union-attr]
        if items is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {_names(self.columns)}")
        if items is None:
            raise InvalidRequest(f"Invalid null value for column {_names(self.columns)}")
        return [_checked(v, self, key_column) for v in items]


class TupleRestriction(Restriction):
    """A multi-column relation ``(c1, c2) op ...`` on clustering columns (possibly one column)."""

    __slots__ = ()

    @property
    def is_multi(self) -> bool:
        return True


def _names(columns: Sequence[ColumnMetadata]) -> str:
    return ", ".join(c.name for c in columns)


def _checked(v: Any, r: Restriction, key_column: bool) -> Any:
    if v is UNSET:
        raise InvalidRequest(f"Invalid unset value for column {_names(r.columns)}")
    if v is None or (isinstance(v, tuple) and r.is_multi and any(x is None for x in v)):
        if key_column:
            raise InvalidRequest(f"Invalid null value in condition for column {_names(r.columns)}")
        raise InvalidRequest(f"Unsupported null value for column {_names(r.columns)}")
    return v


# --- merged restrictions of one column (or one group of clustering columns) ------------------------

class Unit:
    """Every restriction of one column, or of one tuple of clustering columns, merged: an EQ, an IN,
    a slice (``lower``/``upper``), or CONTAINS-style restrictions (``contains``)."""

    __slots__ = ("columns", "eq", "in_", "lower", "upper", "contains", "multi")

    def __init__(self, r: Restriction) -> None:
        self.columns: tuple[ColumnMetadata, ...] = r.columns
        self.multi = r.is_multi
        self.eq = r if r.op == EQ else None
        self.in_ = r if r.op == IN else None
        self.lower = r if r.op in (GT, GTE) else None
        self.upper = r if r.op in (LT, LTE) else None
        self.contains: list[Restriction] = [r] if r.is_contains else []

    @property
    def first(self) -> ColumnMetadata:
        return self.columns[0]

    @property
    def last(self) -> ColumnMetadata:
        return max(self.columns, key=lambda c: c.position)

    @property
    def is_eq(self) -> bool:
        return self.eq is not None

    @property
    def mixed_order(self) -> bool:
        """A tuple slice over clustering columns of mixed ASC/DESC order: not one byte range, so
        reads slice on its first column only (widened) and filter on the tuple."""
        return self.multi and self.is_slice and len({c.clustering_order for c in self.columns}) > 1

    @property
    def is_in(self) -> bool:
        return self.in_ is not None

    @property
    def is_slice(self) -> bool:
        return self.lower is not None or self.upper is not None

    @property
    def is_contains(self) -> bool:
        return bool(self.contains)

    @property
    def restrictions(self) -> list[Restriction]:
        out = [r for r in (self.eq, self.in_, self.lower, self.upper) if r is not None]
        return out + self.contains

    @property
    def text(self) -> str:
        return " AND ".join(r.text for r in self.restrictions)

    def merge(self, r: Restriction) -> None:
        """Fold ``r`` (on some of the same columns) in, with Cassandra's refusals."""
        common = _names([c for c in self.columns if c in r.columns] or [self.first])
        if self.eq is not None:
            raise InvalidRequest(f"{common} cannot be restricted by more than one relation if it "
                                 "includes an Equal")
        if self.in_ is not None:
            raise InvalidRequest(f"{common} cannot be restricted by more than one relation if it "
                                 "includes a IN")
        if self.contains:
            if not r.is_contains:
                raise InvalidRequest(f"Collection column {common} can only be restricted by "
                                     "CONTAINS, CONTAINS KEY, or map-entry equality")
            self.contains.append(r)
            return
        # self is a slice
        if not r.is_slice:
            raise InvalidRequest(f'Column "{common}" cannot be restricted by both an equality and an '
                                 "inequality relation")
        if self.multi != r.is_multi:
            raise InvalidRequest(f'Column "{common}" cannot be restricted by both a tuple notation '
                                 "inequality and a single column inequality")
        if self.first != r.first:
            raise InvalidRequest(f'Column "{r.first.name}" cannot be restricted by two inequalities not '
                                 "starting with the same column")
        if r.op in (GT, GTE):
            if self.lower is not None:
                raise InvalidRequest(f"More than one restriction was found for the start bound on "
                                     f"{common}")
            self.lower = r
        else:
            if self.upper is not None:
                raise InvalidRequest(f"More than one restriction was found for the end bound on "
                                     f"{common}")
            self.upper = r
        if len(r.columns) > len(self.columns):
            self.columns = r.columns


class _UnitSet:
    """Units by column, merging overlapping restrictions (Cassandra's RestrictionSet)."""

    def __init__(self) -> None:
        self.by_column: dict[str, Unit] = {}

    def add(self, r: Restriction) -> Unit:
        existing = []
        for c in r.columns:
            u = self.by_column.get(c.name)
            if u is not None and u not in existing:
                existing.append(u)
        if not existing:
            unit = Unit(r)
        else:
            unit = existing[0]
            unit.merge(r)
            for other in existing[1:]:          # r bridged two units: fold the other's parts in
                for part in other.restrictions:
                    unit.merge(part)
        for c in unit.columns:
            self.by_column[c.name] = unit
        return unit

    def units(self) -> list[Unit]:
        seen: list[Unit] = []
        for u in self.by_column.values():
            if u not in seen:
                seen.append(u)
        return sorted(seen, key=lambda u: u.first.position)

    def columns(self) -> list[ColumnMetadata]:
        cols = {c.name: c for u in self.units() for c in u.columns}
        return sorted(cols.values(), key=lambda c: c.position)

    def __bool__(self) -> bool:
        return bool(self.by_column)


# --- the token restriction -------------------------------------------------------------------------

class TokenRestriction:
    """``token(pk...) op value`` restrictions merged into one range (EQ sets both bounds)."""

    __slots__ = ("lower", "upper", "eq", "columns")

    def __init__(self, columns: tuple[ColumnMetadata, ...]) -> None:
        self.columns = columns
        self.lower: Restriction | None = None
        self.upper: Restriction | None = None
        self.eq: Restriction | None = None

    @property
    def text(self) -> str:
        return " AND ".join(r.text for r in (self.eq, self.lower, self.upper) if r is not None)

    def add(self, r: Restriction) -> None:
        name = f"token({_names(self.columns)})"
        if self.eq is not None or (r.op == EQ and (self.lower or self.upper)):
            raise InvalidRequest(f"{name} cannot be restricted by more than one relation if it "
                                 "includes an Equal")
        if r.op == EQ:
            self.eq = r
        elif r.op in (GT, GTE):
            if self.lower is not None:
                raise InvalidRequest(f"More than one restriction was found for the start bound on {name}")
            self.lower = r
        else:
            if self.upper is not None:
                raise InvalidRequest(f"More than one restriction was found for the end bound on {name}")
            self.upper = r

    def bounds(self, ctx: EvalContext) -> tuple[int | None, bool, int | None, bool] | None:
        """(start, start_inclusive, end, end_inclusive) with None for unbounded; None when the
        range is empty.  Ranges never wrap (Cassandra returns nothing for start > end), and the
        minimum token as a bound means "unbounded"."""
        def val(r: Restriction) -> int:
            v = r.value.evaluate(ctx)                  # type: ignore[union-attr]
            if v is None or v is UNSET:
                raise InvalidRequest("Invalid null token value")
            return int(v)

        if self.eq is not None:
            t = val(self.eq)
            return (t, True, t, True)
        start = end = None
        si = ei = True
        if self.lower is not None:
            start, si = val(self.lower), self.lower.op == GTE
            if start == MIN_TOKEN:
                start, si = None, True
        if self.upper is not None:
            end, ei = val(self.upper), self.upper.op == LTE
            if end == MIN_TOKEN:
                end = None
        if start is not None and end is not None and (start > end or (start == end and not (si and ei))):
            return None
        return (start, si, end, ei)

    def contains(self, token: int, bounds: tuple[int | None, bool, int | None, bool]) -> bool:
        s, si, e, ei = bounds
        if s is not None and (token < s or (token == s and not si)):
            return False
        if e is not None and (token > e or (token == e and not ei)):
            return False
        return True


# --- clustering slices -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ClusteringSlice:
    """EQ values of the first clustering columns, then optional bounds on the next column(s):
    ``lower``/``upper`` = (values, inclusive) in CQL value order.  Exactly the arguments of
    ``RowCodec.slice(prefix, lower, upper)``."""

    prefix: tuple
    lower: tuple[tuple, bool] | None = None
    upper: tuple[tuple, bool] | None = None

    @property
    def is_point(self) -> bool:
        return self.lower is None and self.upper is None


# --- the classified WHERE clause -------------------------------------------------------------------

class WhereClause:
    """A classified WHERE clause (see the module docstring).  Attributes:

    ``partition``: Units on partition-key columns by name; ``token``: the TokenRestriction or None;
    ``clustering``: Units on clustering columns in column order; ``non_key``: Units on static and
    regular columns; ``slice_units``: the clustering units used to build slices (a prefix of EQ/IN
    units, then at most one slice unit); ``filters``: the restrictions checked on each row;
    ``is_key_range``: partitions come from a token-ordered scan (or an index) rather than keys;
    ``index``: (IndexMetadata, Restriction) when a secondary index serves the query.
    """

    def __init__(self, table: TableMetadata, statement: str) -> None:
        self.table = table
        self.statement = statement
        self.restrictions: list[Restriction] = []
        self.partition: dict[str, Unit] = {}
        self.token: TokenRestriction | None = None
        self.clustering: list[Unit] = []
        self.non_key: list[Unit] = []
        self.slice_units: list[Unit] = []
        self.filters: list[Restriction] = []
        self.is_key_range = False
        self.index: tuple[IndexMetadata, Restriction] | None = None
        self.clustering_needs_filtering = False
        self._pk_eq: list[Restriction] | None = None
        self._ck_eq: list[Restriction] | None = None
        self.partition_needs_filtering = False
        self.needs_allow_filtering = False

    # --- shape ---------------------------------------------------------------------------------

    @property
    def is_partition_lookup(self) -> bool:
        """Every partition-key column restricted by = or IN (a single- or multi-partition read)."""
        pk = self.table.partition_key
        return bool(pk) and all(c.name in self.partition and (self.partition[c.name].is_eq
                                                             or self.partition[c.name].is_in)
                                for c in pk)

    @property
    def is_single_partition(self) -> bool:
        return self.is_partition_lookup and all(
            u.is_eq or (u.in_ is not None and u.in_.values is not None and len(u.in_.values) == 1)
            for u in self.partition.values())

    @property
    def has_partition_in(self) -> bool:
        return any(u.is_in for u in self.partition.values())

    @property
    def has_clustering_restrictions(self) -> bool:
        return bool(self.clustering)

    @property
    def has_clustering_in(self) -> bool:
        return any(u.is_in for u in self.clustering)

    @property
    def restricted_clustering(self) -> list[ColumnMetadata]:
        cols = {c.name: c for u in self.clustering for c in u.columns}
        return sorted(cols.values(), key=lambda c: c.position)

    @property
    def missing_clustering(self) -> list[str]:
        done = {c.name for c in self.restricted_clustering}
        return [c.name for c in self.table.clustering if c.name not in done]

    @property
    def clustering_is_full_eq(self) -> bool:
        """All clustering columns restricted by = or IN (single or tuple): one row per key."""
        return not self.missing_clustering and all(u.is_eq or u.is_in for u in self.clustering)

    def is_restricted_by_eq(self, column: str) -> bool:
        """Whether ``column`` has a single-value EQ (single or tuple) restriction (ORDER BY rule)."""
        for units in (self.clustering, list(self.partition.values()), self.non_key):
            for u in units:
                if any(c.name == column for c in u.columns) and u.is_eq:
                    return True
        return False

    # --- values for one execution -----------------------------------------------------------------

    def partition_keys(self, ctx: EvalContext) -> list[tuple]:
        """The partition-key value tuples (cartesian product of the EQ/IN values), de-duplicated
        and sorted by key value as Cassandra returns IN partitions.  [] for ``IN ()``."""
        per_column = []
        pk_eq = self._pk_eq
        if pk_eq is not None:                                             # the common case
            return [tuple([r.operand(ctx, key_column=True) for r in pk_eq])]
        for c in self.table.partition_key:
            u = self.partition[c.name]
            vals = (u.eq or u.in_).in_list(ctx, key_column=True)       # type: ignore[union-attr]
            per_column.append(_sorted_unique(vals, c.type))
        if len(per_column) == 1:
            return [(v,) for v in per_column[0]]
        return list(itertools.product(*per_column))

    def token_range(self, ctx: EvalContext) -> tuple[int | None, bool, int | None, bool] | None:
        """The token bounds (None = unbounded side), None if the range is empty; (None, True,
        None, True) when there is no token restriction."""
        if self.token is None:
            return (None, True, None, True)
        return self.token.bounds(ctx)

    def clustering_keys(self, ctx: EvalContext) -> list[tuple]:
        """Full clustering keys (every clustering column by = or IN), sorted, de-duplicated."""
        return [s.prefix for s in self._prefixes(ctx, self.clustering)]

    def point_clustering(self, ctx: EvalContext) -> tuple | None:
        """The full clustering key when every clustering column is restricted by a single-value
        = (the point-read fast path); None otherwise."""
        if self._ck_eq is None:
            return None
        return tuple([r.operand(ctx, key_column=True) for r in self._ck_eq])

    def finish(self) -> None:
        """Precompute the fast paths (called once the clause is classified)."""
        pk = self.table.partition_key
        units = [self.partition.get(c.name) for c in pk]
        self._pk_eq = ([u.eq for u in units] if pk and all(u is not None and u.eq is not None
                                                             and not u.multi for u in units) else None)
        ck = self.table.clustering
        eq = [u for u in self.slice_units if u.eq is not None and not u.multi]
        self._ck_eq = ([u.eq for u in eq] if ck and len(eq) == len(ck) == len(self.slice_units)
                       else None)

    def clustering_slices(self, ctx: EvalContext) -> list[ClusteringSlice]:
        """The clustering slices of the ``slice_units`` (in clustering order, de-duplicated);
        [ClusteringSlice(())] (everything) when nothing restricts the clustering."""
        units = self.slice_units
        if not units:
            return [ClusteringSlice(())]
        eq_units = [u for u in units if not u.is_slice]
        slice_unit = units[-1] if units[-1].is_slice else None
        prefixes = self._prefixes(ctx, eq_units)
        if slice_unit is None:
            return prefixes
        lower = upper = None
        if slice_unit.mixed_order and self.statement == SELECT:   # widened; the filter does the rest
            for r in (slice_unit.lower, slice_unit.upper):
                if r is not None:
                    bound = (((r.operand(ctx, key_column=True)[0],), True))
                    if r.op in (GT, GTE):
                        lower = bound
                    else:
                        upper = bound
            return [ClusteringSlice(p.prefix, lower, upper) for p in prefixes]
        if slice_unit.lower is not None:
            lower = (_as_tuple(slice_unit.lower, slice_unit.lower.operand(ctx, key_column=True)),
                     slice_unit.lower.op == GTE)
        if slice_unit.upper is not None:
            upper = (_as_tuple(slice_unit.upper, slice_unit.upper.operand(ctx, key_column=True)),
                     slice_unit.upper.op == LTE)
        return [ClusteringSlice(p.prefix, lower, upper) for p in prefixes]

    def _prefixes(self, ctx: EvalContext, units: list[Unit]) -> list[ClusteringSlice]:
        """Cartesian product of the EQ/IN units' values as clustering prefixes, sorted in
        clustering order and de-duplicated."""
        parts: list[list[tuple]] = []
        for u in units:
            r = u.eq or u.in_
            assert r is not None
            vals = [_as_tuple(r, v) for v in r.in_list(ctx, key_column=True)]
            parts.append(vals)
        combos = [tuple(itertools.chain.from_iterable(p)) for p in itertools.product(*parts)]
        if len(combos) == 1:
            return [ClusteringSlice(combos[0])]
        ck = self.table.clustering
        types = [c.type for c in ck]
        orders = [c.clustering_order for c in ck]
        keyed = {}
        for combo in combos:
            keyed.setdefault(keycodec.encode_prefix(types[:len(combo)], orders[:len(combo)], combo), combo)
        return [ClusteringSlice(keyed[k]) for k in sorted(keyed)]

    def row_filter(self, ctx: EvalContext) -> Callable[[Mapping[str, Any]], bool] | None:
        """A predicate over decoded rows ({column: value}) for ``filters``; None when there are
        none.  Values are bound once, here."""
        if not self.filters:
            return None
        preds = [_predicate(r, ctx) for r in self.filters]
        if len(preds) == 1:
            return preds[0]
        return lambda row: all(p(row) for p in preds)

    def describe(self) -> list[str]:
        return [r.text for r in self.restrictions]


def _as_tuple(r: Restriction, v: Any) -> tuple:
    return tuple(v) if r.is_multi else (v,)


def _sorted_unique(values: Iterable[Any], t: T.CQLType) -> list[Any]:
    keyed: dict[Any, Any] = {}
    for v in values:
        keyed.setdefault(sort_key(t, v), v)
    return [keyed[k] for k in sorted(keyed)]


def sort_key(t: T.CQLType, v: Any) -> Any:
    """Cassandra's value order as a Python sort key (types without an order compare as-is)."""
    try:
        return keycodec.sort_key(t, v)
    except Exception:  # noqa: BLE001 - durations and the like: equality only
        return repr(v).encode()


# --- filtering predicates --------------------------------------------------------------------------

def _predicate(r: Restriction, ctx: EvalContext) -> Callable[[Mapping[str, Any]], bool]:
    cols = r.columns
    key_column = all(c.is_primary_key for c in cols)
    if r.is_multi:
        types = [c.type for c in cols]
        names = [c.name for c in cols]

        def tkey(vals: Sequence[Any]) -> tuple:
            return tuple(sort_key(t, v) for t, v in zip(types, vals))

        if r.op in (EQ, IN):
            wanted = {tkey(v) for v in r.in_list(ctx, key_column=True)}
            return lambda row: tkey([row.get(n) for n in names]) in wanted
        bound = tuple(r.operand(ctx, key_column=True))
        n = len(bound)
        bk = tkey(bound)
        cmp = _COMPARE[r.op]
        return lambda row: cmp(tkey([row.get(x) for x in names[:n]]), bk)
    c = cols[0]
    name, t = c.name, c.type
    if r.op in (EQ, IN):
        if r.op == IN and r.values is not None and len(r.values) != 1 and not key_column:
            raise InvalidRequest(f"IN restrictions are not supported on indexed columns or when "
                                 f"filtering on column {name}; use = or remove the IN")
        wanted = {sort_key(t, v) for v in r.in_list(ctx, key_column=key_column)}

        def eq(row: Mapping[str, Any]) -> bool:
            v = row.get(name)
            return v is not None and sort_key(t, v) in wanted
        return eq
    if r.is_slice:
        bound = sort_key(t, r.operand(ctx, key_column=key_column))
        cmp = _COMPARE[r.op]

        def sl(row: Mapping[str, Any]) -> bool:
            v = row.get(name)
            return v is not None and cmp(sort_key(t, v), bound)
        return sl
    if r.op == CONTAINS:
        et = t.value if isinstance(t, T.MapType) else t.subtypes[0]
        target = sort_key(et, r.operand(ctx, key_column=False))

        def contains(row: Mapping[str, Any]) -> bool:
            v = row.get(name)
            if not v:
                return False
            items = v.values() if isinstance(v, dict) else (
                [p[1] for p in v] if isinstance(t, T.MapType) else v)
            return any(x is not None and sort_key(et, x) == target for x in items)
        return contains
    if r.op == CONTAINS_KEY:
        kt = t.key                                        # type: ignore[attr-defined]
        target = sort_key(kt, r.operand(ctx, key_column=False))

        def contains_key(row: Mapping[str, Any]) -> bool:
            v = row.get(name)
            if not v:
                return False
            keys = v.keys() if isinstance(v, dict) else [p[0] for p in v]
            return any(sort_key(kt, k) == target for k in keys)
        return contains_key
    # map entry m[key] = value
    kt, vt = t.key, t.value                               # type: ignore[attr-defined]
    k = r.key.evaluate(ctx)                               # type: ignore[union-attr]
    if k is None or k is UNSET:
        raise InvalidRequest(f"Unsupported null map key for column {name}")
    kk, target = sort_key(kt, k), sort_key(vt, r.operand(ctx, key_column=False))

    def entry(row: Mapping[str, Any]) -> bool:
        v = row.get(name)
        if not v:
            return False
        pairs = v.items() if isinstance(v, dict) else v
        return any(sort_key(kt, a) == kk and b is not None and sort_key(vt, b) == target
                   for a, b in pairs)
    return entry


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    LT: lambda a, b: a < b, LTE: lambda a, b: a <= b,
    GT: lambda a, b: a > b, GTE: lambda a, b: a >= b,
}


# --- classification ----------------------------------------------------------------------------------

from .restriction_rules import classify, index_supports  # noqa: E402  (the builder lives apart; see there)

__all__ = [
    "SELECT", "UPDATE", "DELETE", "REQUIRES_ALLOW_FILTERING", "Restriction", "TupleRestriction",
    "Unit", "TokenRestriction", "ClusteringSlice", "WhereClause", "classify", "index_supports",
    "sort_key", "Receiver", "Markers",
]
