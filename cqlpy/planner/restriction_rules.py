"""Classifying a WHERE clause: binding relations and applying Cassandra's restriction rules.

This is Cassandra's StatementRestrictions constructor, step by step (notes §1.1-1.7): every relation
is bound and merged with the others on the same column(s); then the partition key, the clustering
columns and the other columns are checked for what the statement type allows; for SELECT it
decides between a partition lookup and a key range, whether a secondary index serves the query, and
whether the query filters (which needs ALLOW FILTERING).  The result is a ``WhereClause``.
"""
from __future__ import annotations

from typing import Any, Sequence

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast
from cqlpy.schema import keycodec
from cqlpy.schema import types as T
from cqlpy.schema.model import IndexMetadata, TableMetadata

from . import functions as F
from .restrictions import (
    CONTAINS, CONTAINS_KEY, ENTRY, EQ, IN, REQUIRES_ALLOW_FILTERING, SELECT, SLICE_OPS,
    TOKEN_TYPE, UPDATE, Restriction, TokenRestriction, TupleRestriction, Unit, WhereClause, _UnitSet,
)
from .terms import UNSET, EvalContext, Markers, Receiver, Value, bind_term


def classify(table: TableMetadata, where: Sequence[Any], markers: Markers, *,
             statement: str = SELECT, allow_filtering: bool = False, catalog: Any = None,
             keyspace: str | None = None, selects_only_static: bool = False,
             static_only: bool = False) -> WhereClause:
    """Bind and check the relations ``where`` of a ``statement`` (SELECT, UPDATE or DELETE) on
    ``table``; markers get their receivers in ``markers``.

    ``selects_only_static`` (SELECT): the selection has only partition-key and static columns.
    ``static_only`` (UPDATE/DELETE): the statement writes only static columns, so the clustering
    key must not be restricted.  Raises InvalidRequest as Cassandra does.
    """
    return _Classifier(table, markers, statement, allow_filtering and statement == SELECT,
                       catalog, keyspace or table.keyspace).run(where, selects_only_static, static_only)


def index_supports(index: IndexMetadata, r: Restriction) -> bool:
    """Whether a legacy secondary index answers restriction ``r`` (Cassandra's supportsExpression:
    EQ on the indexed value, CONTAINS on values(), CONTAINS KEY on keys(), m[k] = v on entries())."""
    if index.is_custom:
        return False
    column, kind = index.target
    if column not in (c.name for c in r.columns):
        return False
    if r.is_multi:
        return r.op == EQ and kind == "simple"
    if kind in ("simple", "full"):
        return r.op == EQ
    return {"values": CONTAINS, "keys": CONTAINS_KEY, "entries": ENTRY}.get(kind) == r.op


class _TupleValue(Value):
    """``(v1, v2)`` written for a tuple relation: each item bound to its column."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Value, ...], type: T.CQLType) -> None:
        self.items, self.type = items, type
        self.is_constant = all(v.is_constant for v in items)

    def evaluate(self, ctx: EvalContext) -> Any:
        vals = tuple(v.evaluate(ctx) for v in self.items)
        if any(v is UNSET for v in vals):
            return UNSET
        return vals


class _TokenOf(Value):
    """``token(v1, ...)`` on the right-hand side of a token relation: the token of a key."""

    __slots__ = ("args", "types")

    def __init__(self, args: tuple[Value, ...], types: list[T.CQLType]) -> None:
        self.args, self.types, self.type = args, types, TOKEN_TYPE
        self.is_constant = False

    def evaluate(self, ctx: EvalContext) -> Any:
        vals = [a.evaluate(ctx) for a in self.args]
        if any(v is None or v is UNSET for v in vals):
            raise InvalidRequest("Invalid null value for the token function")
        return F.partition_token(keycodec.encode_partition_key(self.types, vals))


class _Classifier:
    def __init__(self, table: TableMetadata, markers: Markers, statement: str, allow_filtering: bool,
                 catalog: Any, keyspace: str) -> None:
        self.table, self.markers, self.statement = table, markers, statement
        self.allow_filtering, self.catalog, self.keyspace = allow_filtering, catalog, keyspace
        self.pk = _UnitSet()
        self.ck = _UnitSet()
        self.other = _UnitSet()
        self.token: TokenRestriction | None = None
        self.all: list[Restriction] = []

    # --- binding -------------------------------------------------------------------------------

    def receiver(self, name: str, t: T.CQLType) -> Receiver:
        return Receiver(self.table.keyspace, self.table.name, name, t)

    def bind(self, term: Any, name: str, t: T.CQLType) -> Value:
        return bind_term(term, self.receiver(name, t), self.markers, self.catalog, self.keyspace)

    def relation(self, rel: Any) -> Restriction:
        text = rel.to_cql()
        if isinstance(rel, ast.TokenRelation):
            return self.token_relation(rel, text)
        if isinstance(rel, ast.TupleRelation):
            return self.tuple_relation(rel, text)
        if isinstance(rel, ast.ElementRelation):
            col = self.table.column(rel.column)
            t = col.type
            if not isinstance(t, T.MapType):
                raise InvalidRequest(f"Column {col.name} cannot be used as a map: only map entries "
                                     f"(m[key] = value) can be restricted, {col.name} is a "
                                     f"{t.cql_name}")
            if rel.operator != EQ:
                raise InvalidRequest(f"Only = is supported on map entries, got {text}")
            key = self.bind(rel.key, f"key({col.name})", t.key)
            value = self.bind(rel.value, f"value({col.name})", t.value)
            return Restriction((col,), ENTRY, value=value, key=key, text=text)
        if not isinstance(rel, ast.Relation):
            raise InvalidRequest(f"Unsupported restriction: {text}")
        col = self.table.column(rel.column)
        op, t = rel.operator, col.type
        if op == ast.relations.NEQ:
            raise InvalidRequest(f'Unsupported "!=" relation: {text}')
        if op == ast.relations.IS_NOT:
            raise InvalidRequest(f"Unsupported restriction: {text}")
        if op == ast.relations.LIKE:
            raise InvalidRequest(f"LIKE restriction is only supported on properly indexed columns. "
                                 f"{text} is not valid.")
        if op in (CONTAINS, CONTAINS_KEY):
            if not t.is_collection:
                raise InvalidRequest(f"Cannot use {op} on non-collection column {col.name}")
            if op == CONTAINS_KEY and not isinstance(t, T.MapType):
                raise InvalidRequest(f"Cannot use CONTAINS KEY on non-map column {col.name}")
            if op == CONTAINS_KEY:
                et, name = t.key, f"key({col.name})"                      # type: ignore[attr-defined]
            else:
                et = t.value if isinstance(t, T.MapType) else t.subtypes[0]
                name = f"value({col.name})"
            return Restriction((col,), op, value=self.bind(rel.value, name, et), text=text)
        if t.is_multi_cell:
            shown = "'IN'" if op == IN else f"'{op}'"
            raise InvalidRequest(f"Collection column '{col.name}' ({t.cql_name}) cannot be restricted "
                                 f"by a {shown} relation")
        if op in SLICE_OPS and not t.is_comparable:
            raise InvalidRequest(f"Slice restrictions are not supported on duration columns: {text}")
        if op == IN:
            if isinstance(rel.value, ast.InValues):
                values = tuple(self.bind(v, col.name, t) for v in rel.value.items)
                return Restriction((col,), IN, values=values, text=text)
            lst = self.bind(rel.value, f"in({col.name})", T.ListType(t))
            return Restriction((col,), IN, value=lst, text=text)
        return Restriction((col,), op, value=self.bind(rel.value, col.name, t), text=text)

    def tuple_relation(self, rel: ast.TupleRelation, text: str) -> Restriction:
        cols = []
        for name in rel.columns:
            c = self.table.column(name)
            if not c.is_clustering:
                raise InvalidRequest(f"Multi-column relations can only be applied to clustering "
                                     f"columns but was applied to: {c.name}")
            if c in cols:
                raise InvalidRequest(f'Column "{c.name}" appeared twice in a relation: {text}')
            if cols and c.position != cols[-1].position + 1:
                raise InvalidRequest(f"Clustering columns must appear in the PRIMARY KEY order in "
                                     f"multi-column relations: {text}")
            cols.append(c)
        columns = tuple(cols)
        op = rel.operator
        if op == ast.relations.NEQ:
            raise InvalidRequest(f'Unsupported "!=" relation: {text}')
        if op not in (EQ, IN) + SLICE_OPS:
            raise InvalidRequest(f"Unsupported restriction: {text}")
        tt = T.TupleType(tuple(c.type for c in columns))
        label = "(" + ", ".join(c.name for c in columns) + ")"

        def tuple_value(term: Any) -> Value:
            if isinstance(term, ast.TupleLiteral):
                if len(term.items) != len(columns):
                    raise InvalidRequest(f"Expected {len(columns)} elements in value tuple, but got "
                                         f"{len(term.items)}: {term.to_cql()}")
                return _TupleValue(tuple(self.bind(i, c.name, c.type)
                                         for i, c in zip(term.items, columns)), tt)
            if isinstance(term, ast.BindMarker):
                return self.bind(term, label, tt)
            raise InvalidRequest(f"Invalid value {term.to_cql()} for {label}: a tuple is expected")

        if op == IN:
            if isinstance(rel.value, ast.InValues):
                return TupleRestriction(columns, IN, values=tuple(tuple_value(v) for v in rel.value.items),
                                        text=text)
            return TupleRestriction(columns, IN, value=self.bind(rel.value, f"in{label}", T.ListType(tt)),
                                    text=text)
        return TupleRestriction(columns, op, value=tuple_value(rel.value), text=text)

    def token_relation(self, rel: ast.TokenRelation, text: str) -> Restriction:
        if self.statement != SELECT:
            raise InvalidRequest(f"The token function cannot be used in WHERE clauses for "
                                 f"{self.statement} statements")
        pk = self.table.partition_key
        cols = [self.table.column(n) for n in rel.columns]
        for c in cols:
            if not c.is_partition_key:
                raise InvalidRequest(f"The token() function is only supported on the partition key, "
                                     f"found on {c.name}")
        if len(set(c.name for c in cols)) != len(cols):
            raise InvalidRequest(f"The token() function contains duplicate partition key components: {text}")
        if len(cols) != len(pk):
            raise InvalidRequest("The token() function must be applied to all partition key components "
                                 "or none of them")
        if [c.name for c in cols] != [c.name for c in pk]:
            raise InvalidRequest("The token function arguments must be in the partition key order: "
                                 + ", ".join(c.name for c in pk))
        op = rel.operator
        if op == ast.relations.NEQ:
            raise InvalidRequest(f'Unsupported "!=" relation: {text}')
        if op not in (EQ,) + SLICE_OPS:
            raise InvalidRequest(f"Only =, <, <=, > and >= are supported with token(): {text}")
        v = rel.value
        if isinstance(v, ast.FunctionCall) and v.name == "token" and v.keyspace in (None, "system"):
            if len(v.args) != len(pk):
                raise InvalidRequest(f"Invalid number of arguments in call to function token: "
                                     f"{len(pk)} required but {len(v.args)} provided")
            args = tuple(self.bind(a, c.name, c.type) for a, c in zip(v.args, pk))
            value: Value = _TokenOf(args, [c.type for c in pk])
        else:
            value = self.bind(v, "partition key token", TOKEN_TYPE)
        return Restriction(tuple(pk), op, value=value, text=text, on_token=True)

    # --- collecting ----------------------------------------------------------------------------

    def add(self, r: Restriction) -> None:
        self.all.append(r)
        if r.on_token:
            if self.token is None:
                self.token = TokenRestriction(r.columns)
            self.token.add(r)
            return
        first = r.first
        if first.is_partition_key:
            self.pk.add(r)
        elif first.is_clustering:
            if not self.allow_filtering:
                self._check_clustering_order(r)
            self.ck.add(r)
        else:
            self.other.add(r)

    def _check_clustering_order(self, r: Restriction) -> None:
        """Cassandra's ClusteringColumnRestrictions.mergeWith checks (without ALLOW FILTERING):
        nothing may follow a slice."""
        units = self.ck.units()
        if not units:
            return
        last = max(units, key=lambda u: u.last.position)
        new_first, last_first = r.first.position, last.first.position
        if last.is_slice and new_first > last_first:
            raise InvalidRequest(f'Clustering column "{r.first.name}" cannot be restricted (preceding '
                                 f'column "{last.first.name}" is restricted by a non-EQ relation)')
        if new_first < last_first and r.is_slice:
            following = min((c for u in units for c in u.columns if c.position > new_first),
                            key=lambda c: c.position)
            raise InvalidRequest(f'PRIMARY KEY column "{following.name}" cannot be restricted '
                                 f'(preceding column "{r.first.name}" is restricted by a non-EQ relation)')

    # --- the rules -----------------------------------------------------------------------------

    def run(self, where: Sequence[Any], selects_only_static: bool, static_only: bool) -> WhereClause:
        for rel in where:
            self.add(self.relation(rel))
        w = WhereClause(self.table, self.statement)
        w.restrictions = self.all
        w.partition = {c.name: u for c in self.table.partition_key
                       for u in [self.pk.by_column.get(c.name)] if u is not None}
        w.token = self.token
        w.clustering = self.ck.units()
        w.non_key = self.other.units()
        w.slice_units = self._slice_units(w.clustering)
        ck_needs_filtering = (any(u not in w.slice_units for u in w.clustering)
                              or any(u.is_contains for u in w.clustering))
        w.clustering_needs_filtering = ck_needs_filtering
        if self.statement == SELECT:
            self._select_rules(w, selects_only_static)
        else:
            self._modification_rules(w, static_only, ck_needs_filtering)
        w.finish()
        return w

    @staticmethod
    def _slice_units(units: list[Unit]) -> list[Unit]:
        """The prefix of clustering units that slices can serve: EQ/IN units on consecutive
        columns from the first, then at most one slice (a tuple slice over columns of mixed
        ASC/DESC order cannot be one byte range, so it is filtered instead)."""
        out: list[Unit] = []
        position = 0
        for u in units:
            if u.is_contains or u.first.position != position:
                break
            out.append(u)
            if u.is_slice:
                break
            position = u.last.position + 1
        return out

    def _modification_rules(self, w: WhereClause, static_only: bool, ck_filtering: bool) -> None:
        kind = self.statement
        missing = [c.name for c in self.table.partition_key if c.name not in w.partition]
        if missing:
            raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
        if any(not (u.is_eq or u.is_in) for u in w.partition.values()):
            raise InvalidRequest(f"Only EQ and IN relation are supported on the partition key (unless "
                                 f"you use the token() function) for {kind} statements")
        if static_only and w.clustering:
            raise InvalidRequest(f"Invalid restrictions on clustering columns since the {kind} "
                                 "statement modifies only static columns")
        if kind == UPDATE:
            if any(u.is_slice for u in w.clustering):
                raise InvalidRequest("Slice restrictions are not supported on the clustering columns "
                                     "in UPDATE statements")
            if any(u.is_contains for u in w.clustering):
                raise InvalidRequest(f"Cannot use UPDATE with CONTAINS: {w.clustering[0].text}")
            if not static_only and w.missing_clustering:
                raise InvalidRequest(f"Some clustering keys are missing: {', '.join(w.missing_clustering)}")
        else:
            if any(u.is_contains for u in w.clustering):
                raise InvalidRequest("Clustering columns can only be restricted with CONTAINS with a "
                                     "secondary index or filtering")
            if ck_filtering:
                self._gap_error(w)
        if w.non_key:
            names = ", ".join(c.name for u in w.non_key for c in u.columns)
            raise InvalidRequest(f"Non PRIMARY KEY columns found in where clause: {names}")

    def _gap_error(self, w: WhereClause) -> None:
        restricted = w.restricted_clustering
        for declared, got in zip(self.table.clustering, restricted):
            if declared.name != got.name:
                raise InvalidRequest(f'PRIMARY KEY column "{got.name}" cannot be restricted as preceding '
                                     f'column "{declared.name}" is not restricted')
        raise InvalidRequest(REQUIRES_ALLOW_FILTERING)

    def _select_rules(self, w: WhereClause, selects_only_static: bool) -> None:
        af = self.allow_filtering
        indexes = [i for i in self.table.indexes if not i.is_custom]
        supported = [(i, r) for r in self.all if not r.on_token for i in indexes if index_supports(i, r)]
        has_index = bool(supported)
        has_ck_index = any(r.first.is_clustering for _, r in supported)
        uses_index = False
        pk_units = list(w.partition.values())
        pk_complete = len(w.partition) == len(self.table.partition_key)
        pk_filtering = bool(pk_units) and (not pk_complete or any(
            not (u.is_eq or u.is_in) for u in pk_units))
        w.partition_needs_filtering = pk_filtering
        if self.token is not None and not (pk_complete and not pk_filtering):
            w.is_key_range = True
        if not pk_units:
            w.is_key_range = True
            uses_index = has_index
        if pk_filtering:
            if not af and not has_index:
                raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
            if w.has_partition_in:
                raise InvalidRequest("IN restrictions are not supported when the query involves "
                                     "filtering")
            w.is_key_range = True
            uses_index = has_index
        count_pk = uses_index or pk_filtering
        if selects_only_static and w.clustering:
            raise InvalidRequest("Cannot restrict clustering columns when selecting only static columns")
        if any(u.is_contains for u in w.clustering) and not has_index and not af:
            raise InvalidRequest("Clustering columns can only be restricted with CONTAINS with a "
                                 "secondary index or filtering")
        if w.clustering and w.clustering_needs_filtering:
            if has_index:
                uses_index = True
            elif not af:
                self._gap_error(w)
        if w.is_key_range and has_ck_index:
            uses_index = True
        count_ck = uses_index or w.clustering_needs_filtering
        if w.non_key:
            if has_index:
                uses_index = True
            elif not af:
                raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
        if uses_index:
            if w.has_partition_in:
                raise InvalidRequest("Select on indexed columns and with IN clause for the PRIMARY KEY "
                                     "are not supported")
            if selects_only_static:
                raise InvalidRequest("Queries using 2ndary indexes don't support selecting only static "
                                     "columns")
        if not af and (w.is_key_range or uses_index):
            count = (len(w.partition) if count_pk else 0) \
                + (len(w.restricted_clustering) if count_ck else 0) \
                + sum(len(u.columns) for u in w.non_key)
            multiple_contains = any(len(u.contains) > 1 for u in w.non_key)
            if count > 1 or (count == 0 and w.clustering) or (count and multiple_contains):
                raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
        w.needs_allow_filtering = af and (pk_filtering or w.clustering_needs_filtering
                                          or bool(w.non_key) or (w.is_key_range and bool(w.clustering)))
        if uses_index:
            w.index = self._choose_index(supported)
        self._check_filtered_in(w, count_ck)
        w.filters = self._filters(w)

    @staticmethod
    def _choose_index(supported: list[tuple[IndexMetadata, Restriction]]) -> tuple[IndexMetadata, Restriction]:
        """Regular/static columns first (most selective in practice), then clustering, then key."""
        def rank(item: tuple[IndexMetadata, Restriction]) -> int:
            r = item[1]
            return 2 if r.first.is_partition_key else 1 if r.first.is_clustering else 0
        return min(supported, key=rank)

    @staticmethod
    def _check_filtered_in(w: WhereClause, clustering_in_filter: bool) -> None:
        """Cassandra cannot put a multi-valued IN into its row filter (non-key columns, and
        clustering columns that slices do not serve)."""
        candidates = [r for u in w.non_key for r in u.restrictions]
        if clustering_in_filter:
            candidates += [r for u in w.clustering if u not in w.slice_units for r in u.restrictions]
        for r in candidates:
            if r.op == IN and (r.values is None or len(r.values) != 1):
                raise InvalidRequest(f"IN restrictions are not supported on indexed columns or when "
                                     f"filtering: {r.text} (use = instead, or query each value)")

    @staticmethod
    def _filters(w: WhereClause) -> list[Restriction]:
        """The restrictions to check on every row the reads return."""
        out: list[Restriction] = []
        lookup = w.is_partition_lookup and not w.is_key_range
        if not lookup:
            out += [r for u in w.partition.values() for r in u.restrictions]
            out += [r for u in w.clustering for r in u.restrictions]
        else:
            out += [r for u in w.clustering if u not in w.slice_units or u.mixed_order
                    for r in u.restrictions]
        out += [r for u in w.non_key for r in u.restrictions]
        return out
