"""Lightweight-transaction conditions (IF EXISTS / IF NOT EXISTS / IF col op value) and their evaluation.

Planning binds each condition's terms to the column (or element / field) it tests, with Cassandra's
refusals (conditions on primary-key columns, on counter tables, IF with ``IN`` on keys is checked by
the modification planner).  Evaluation compares the row's current Python values with Cassandra's
rules (ColumnCondition): a missing row or cell compares as null; ``=``/``!=`` may compare with null;
an ordering operator against a null *condition value* is an error and against a null *current
value* is false; values compare in their type's order (keycodec's order-preserving bytes); an empty
non-frozen collection is null.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast
from cqlpy.schema import codec, keycodec
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata

from .terms import UNSET, EvalContext, Markers, Receiver, Value, bind_term

NONE, EXISTS, NOT_EXISTS, COLUMNS = "none", "exists", "not_exists", "columns"
_SLICE_OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class ColumnCondition:
    """One ``IF`` test: ``column[element].field op value`` (``element``/``field`` optional).

    For IN, ``values`` holds the items (or ``in_marker`` the ``IN ?`` list)."""

    column: ColumnMetadata
    operator: str
    value: Value | None = None
    values: tuple[Value, ...] = ()
    in_marker: Value | None = None
    element: Value | None = None
    field: str | None = None

    @property
    def tested_type(self) -> T.CQLType:
        """The type of what is compared (the element's, the field's, or the column's)."""
        t = self.column.type
        if self.element is not None:
            if isinstance(t, T.MapType):
                return t.value
            return t.element  # type: ignore[attr-defined]
        if self.field is not None:
            return t.field_type(self.field)  # type: ignore[attr-defined]
        return t

    def current(self, row: Mapping[str, Any] | None, ctx: EvalContext) -> Any:
        """The value under test in ``row`` (a CQL row as {column: python value}; None = no row)."""
        value = None if row is None else row.get(self.column.name)
        if self.element is not None:
            key = self.element.evaluate(ctx)
            if key is UNSET:
                raise InvalidRequest(f"Invalid 'unset' value in condition on {self.column.name}")
            if key is None:
                raise InvalidRequest(f"Invalid null value for {_elem_name(self.column)} element "
                                     f"access on {self.column.name}")
            if value is None:
                return None
            t = self.column.type
            if isinstance(t, T.MapType):
                if isinstance(value, Mapping):
                    return value.get(key)
                for k, v in value:
                    if k == key:
                        return v
                return None
            if isinstance(t, T.ListType):
                return value[key] if 0 <= key < len(value) else None
            raise InvalidRequest(f"Invalid element access on column {self.column.name} of type "
                                 f"{t.cql_name}")
        if self.field is not None:
            if value is None:
                return None
            t = self.column.type
            return getattr(value, self.field, None) if hasattr(value, "_fields") else \
                value[t.field_names.index(self.field)]  # type: ignore[attr-defined]
        return value

    def applies(self, row: Mapping[str, Any] | None, ctx: EvalContext) -> bool:
        current = self.current(row, ctx)
        t = self.tested_type
        op = self.operator
        multi = self.element is None and self.field is None and self.column.is_multi_cell
        if op == "IN":
            items = (self.in_marker.evaluate(ctx) if self.in_marker is not None
                     else [v.evaluate(ctx) for v in self.values])
            if items is UNSET or any(i is UNSET for i in (items or ())):
                raise InvalidRequest(f"Invalid 'unset' value in condition on {self.column.name}")
            if items is None:
                raise InvalidRequest(f"Invalid null list in IN condition on {self.column.name}")
            return any(_equal(t, current, i, multi) for i in items)
        if op in ("CONTAINS", "CONTAINS KEY"):
            expected = self._operand(ctx)
            if expected is None:
                raise InvalidRequest(f"Invalid comparison with null for {op} on "
                                     f"{self.column.name}")
            if current is None:
                return False
            if op == "CONTAINS KEY":
                keys = current.keys() if isinstance(current, Mapping) else [k for k, _ in current]
                return any(_equal(t.key, k, expected, False) for k in keys)  # type: ignore
            if isinstance(t, T.MapType):
                items = current.values() if isinstance(current, Mapping) else [v for _, v in current]
                return any(_equal(t.value, v, expected, False) for v in items)
            return any(_equal(t.element, v, expected, False) for v in current)  # type: ignore
        expected = self._operand(ctx)
        if op == "=":
            return _equal(t, current, expected, multi)
        if op == "!=":
            return not _equal(t, current, expected, multi)
        if expected is None or (multi and _is_empty(expected)):
            raise InvalidRequest(f'Invalid comparison with null for operator "{op}"')
        if current is None or (multi and _is_empty(current)):
            return False
        a, b = _key(t, current), _key(t, expected)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def _operand(self, ctx: EvalContext) -> Any:
        assert self.value is not None
        v = self.value.evaluate(ctx)
        if v is UNSET:
            raise InvalidRequest(f"Invalid 'unset' value in condition on {self.column.name}")
        return v


def _elem_name(column: ColumnMetadata) -> str:
    return "map" if isinstance(column.type, T.MapType) else "list"


def _is_empty(value: Any) -> bool:
    try:
        return len(value) == 0
    except TypeError:
        return False


def _key(t: T.CQLType, value: Any) -> bytes:
    """Bytes that compare as the values do (durations: bytes for equality only)."""
    ft = t.freeze() if t.is_multi_cell else t
    if ft.references_duration:
        return codec.serialize(ft, value)
    return keycodec.encode_value(ft, value)


def _equal(t: T.CQLType, a: Any, b: Any, multi: bool) -> bool:
    if multi:
        a = None if a is not None and _is_empty(a) else a
        b = None if b is not None and _is_empty(b) else b
    if a is None or b is None:
        return a is None and b is None
    return _key(t, a) == _key(t, b)


@dataclass(frozen=True)
class Conditions:
    """The IF clause of a statement: ``kind`` is NONE, EXISTS, NOT_EXISTS or COLUMNS."""

    kind: str = NONE
    columns: tuple[ColumnCondition, ...] = ()

    @property
    def is_conditional(self) -> bool:
        return self.kind != NONE

    @property
    def condition_columns(self) -> tuple[ColumnMetadata, ...] | None:
        """Columns shown after ``[applied]`` when a value condition fails (IF order, no
        duplicates); None means every column (IF [NOT] EXISTS)."""
        if self.kind != COLUMNS:
            return None
        seen: dict[str, ColumnMetadata] = {}
        for c in self.columns:
            seen.setdefault(c.column.name, c.column)
        return tuple(seen.values())

    @property
    def only_static(self) -> bool:
        return self.kind == COLUMNS and all(c.column.is_static for c in self.columns)

    def applies(self, row: Mapping[str, Any] | None, ctx: EvalContext,
                exists: bool | None = None) -> bool:
        """Whether the IF clause holds for ``row`` ({column: value}, static values included;
        None when there is nothing).  ``exists`` (default: ``row is not None``) is whether the
        row itself is live, for IF EXISTS / IF NOT EXISTS."""
        if exists is None:
            exists = row is not None
        if self.kind == EXISTS:
            return exists
        if self.kind == NOT_EXISTS:
            return not exists
        return all(c.applies(row, ctx) for c in self.columns)


NO_CONDITIONS = Conditions()


def plan_conditions(table: TableMetadata, conditions: Sequence[ast.Condition], *, if_exists: bool,
                    if_not_exists: bool, markers: Markers, catalog: Any = None) -> Conditions:
    """Bind the IF clause of a statement on ``table``."""
    if if_not_exists:
        return Conditions(NOT_EXISTS)
    if if_exists:
        return Conditions(EXISTS)
    if not conditions:
        return NO_CONDITIONS
    bound = tuple(_plan_one(table, c, markers, catalog) for c in conditions)
    return Conditions(COLUMNS, bound)


def _receiver(table: TableMetadata, name: str, t: T.CQLType) -> Receiver:
    return Receiver(table.keyspace, table.name, name, t)


def _plan_one(table: TableMetadata, cond: ast.Condition, markers: Markers,
              catalog: Any) -> ColumnCondition:
    col = table.column(cond.column)
    if col.is_primary_key:
        raise InvalidRequest(f"PRIMARY KEY column '{col.name}' cannot have IF conditions")
    t = col.type
    ks = table.keyspace
    element = None
    field = None
    tested = t
    label = col.name
    if cond.key is not None:
        if isinstance(t, T.MapType):
            element = bind_term(cond.key, _receiver(table, f"key({col.name})", t.key), markers,
                                catalog, ks)
            tested = t.value
        elif isinstance(t, T.ListType):
            element = bind_term(cond.key, _receiver(table, f"idx({col.name})", T.INT), markers,
                                catalog, ks)
            tested = t.element
        else:
            raise InvalidRequest(f"Invalid element access syntax for column {col.name} of type "
                                 f"{t.cql_name}: only maps and lists support element access")
        label = f"value({col.name})"
    elif cond.field is not None:
        if not isinstance(t, T.UserType):
            raise InvalidRequest(f"Invalid field selection: {col.name} of type {t.cql_name} is "
                                 "not a user type")
        if cond.field not in t.field_names:
            raise InvalidRequest(f"Unknown field '{cond.field}' for column {col.name} of user "
                                 f"type {t.name}")
        field = cond.field
        tested = t.field_type(field)
        label = f"{col.name}.{field}"
    op = cond.operator
    if op in ("CONTAINS", "CONTAINS KEY"):
        if element is not None or field is not None or not isinstance(
                t, (T.ListType, T.SetType, T.MapType)):
            raise InvalidRequest(f"Cannot use {op} on non-collection column {col.name}")
        if op == "CONTAINS KEY" and not isinstance(t, T.MapType):
            raise InvalidRequest(f"Cannot use CONTAINS KEY on non-map column {col.name}")
        et = t.key if op == "CONTAINS KEY" else (t.value if isinstance(t, T.MapType)
                                                 else t.element)  # type: ignore[attr-defined]
        value = bind_term(cond.value, _receiver(table, f"value({col.name})", et), markers,
                          catalog, ks)
        return ColumnCondition(col, op, value=value)
    if op == "IN":
        if isinstance(cond.value, ast.BindMarker):
            lt = T.ListType(tested)
            marker = bind_term(cond.value, _receiver(table, f"in({label})", lt), markers, catalog, ks)
            return ColumnCondition(col, op, in_marker=marker, element=element, field=field)
        items = tuple(bind_term(i, _receiver(table, label, tested), markers, catalog, ks)
                      for i in cond.value.items)
        return ColumnCondition(col, op, values=items, element=element, field=field)
    if op not in ("=", "!=") + _SLICE_OPS:
        raise InvalidRequest(f"Unsupported operator {op} in IF condition on {col.name}")
    if op in _SLICE_OPS and col.type.is_multi_cell and element is None and field is None \
            and isinstance(t, T.UserType):
        raise InvalidRequest(f"Slice conditions ( {op} ) are not supported on non-frozen user "
                             f"type column {col.name}")
    if op in _SLICE_OPS and tested.references_duration:
        raise InvalidRequest(f"Slice conditions ( {op} ) are not supported on durations")
    value = bind_term(cond.value, _receiver(table, label, tested), markers, catalog, ks)
    return ColumnCondition(col, op, value=value, element=element, field=field)
