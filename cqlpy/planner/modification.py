"""Planning INSERT, INSERT JSON, UPDATE, DELETE and TRUNCATE: keys, operations, USING and IF, with Cassandra's refusals.

A plan is immutable and holds bound ``Value``s; the write executor (cqlpy.session.write_executor)
evaluates them per execution.  INSERT gives its key as one EQ ``KeyGroup`` per key column; UPDATE and
DELETE classify their WHERE clause with the shared restrictions module (``WhereClause``: partition
keys, full clustering keys, or DELETE's prefix/slice range), which also raises Cassandra's refusals.
Operations are the SET assignments (or DELETE selections) as ``Operation(kind, column, ...)``, kinds:

    set            c = v (scalar, frozen value, or full collection/UDT overwrite)
    set_element    m[k] = v (map put) / l[i] = v (list set-by-index: read-before-write)
    set_field      u.f = v (non-frozen UDT)
    append         l = l + [..] / s = s + {..} / m = m + {..}
    prepend        l = [..] + l
    remove         l = l - [..] (read-before-write) / s = s - {..} / m = m - {keys}
    increment      counter c = c + n / c = c - n (``sign`` -1)
    delete         DELETE c
    delete_element DELETE m[k] / DELETE s[e] / DELETE l[i] (read-before-write)
    delete_field   DELETE u.f
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlpy.errors import InvalidRequest, Unauthorized
from cqlpy.language import ast
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata
from cqlpy.schema.table_options import MAX_TTL
from cqlpy.schema.system_tables import SYSTEM_KEYSPACES

from .conditions import NO_CONDITIONS, Conditions, plan_conditions
from .restrictions import classify
from .terms import Literal, Markers, Receiver, Value, bind_term

INSERT, UPDATE, DELETE = "insert", "update", "delete"
"""Plan kinds (the executor dispatches on ``plan.kind``)."""


# --- plan objects ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyGroup:
    """Consecutive key columns restricted together: ``c = v``, ``c IN (..)``, ``c IN ?``,
    ``(c, d) = (..)``, ``(c, d) IN (..)``.  Each of ``items`` evaluates to one value (one column)
    or one tuple (several); ``list_marker`` (``IN ?``) evaluates to a list of those."""

    columns: tuple[ColumnMetadata, ...]
    items: tuple[Value, ...] = ()
    list_marker: Value | None = None
    is_in: bool = False


@dataclass(frozen=True)
class Operation:
    """One write to one column; see the module docstring for ``kind``."""

    kind: str
    column: ColumnMetadata
    value: Value | None = None
    key: Value | None = None
    field: str | None = None
    sign: int = 1

    @property
    def reads(self) -> bool:
        """Whether the operation needs the current value (list by index/value, counters)."""
        is_list = isinstance(self.column.type, T.ListType)
        return self.kind == "increment" or (is_list and self.kind in (
            "set_element", "remove", "delete_element"))


@dataclass(frozen=True)
class ModificationPlan:
    """A planned INSERT / UPDATE / DELETE on one table (also a BATCH member)."""

    kind: str
    table: TableMetadata
    partition: tuple[KeyGroup, ...] = ()          # INSERT: one EQ group per key column
    clustering: tuple[KeyGroup, ...] = ()
    where: Any = None                             # UPDATE / DELETE: restrictions.WhereClause
    operations: tuple[Operation, ...] = ()
    conditions: Conditions = NO_CONDITIONS
    ttl: Value | None = None
    timestamp: Value | None = None
    markers: Markers = field(default_factory=Markers, compare=False)
    static_only: bool = False
    json: Value | None = None
    json_default_unset: bool = False

    @property
    def keyspace(self) -> str:
        return self.table.keyspace

    @property
    def is_counter(self) -> bool:
        return any(op.kind == "increment" for op in self.operations)

    @property
    def is_conditional(self) -> bool:
        return self.conditions.is_conditional

    @property
    def reads_before_write(self) -> bool:
        return any(op.reads for op in self.operations)

    @property
    def writes_marker(self) -> bool:
        return self.kind == INSERT and not self.static_only

    def explain(self) -> list[tuple[str, str]]:
        """(step, detail) rows for EXPLAIN: what this write does to storage."""
        t = self.table
        kind = "INSERT JSON" if self.json is not None else self.kind.upper()
        rows = [("statement", kind), ("table", f"{t.keyspace}.{t.name}")]
        if self.where is not None:
            rows.append(("where", " AND ".join(self.where.describe()) or "none"))
            many = self.where.has_partition_in
            rows.append(("partitions", "several partitions (IN), one update each" if many
                         else "single partition"))
        else:
            rows.append(("partitions", "single partition"))
        rows.append(("writes", _explain_writes(self)))
        if self.operations:
            rows.append(("operations", ", ".join(_explain_op(op) for op in self.operations)))
        if self.reads_before_write:
            rows.append(("read before write", "current values read under the partition lock "
                         "(list index/removal, counters)"))
        if self.conditions.is_conditional:
            rows.append(("condition", f"compare-and-set under the partition lock "
                         f"({self.conditions.kind.replace('_', ' ')})"))
        ttl = "USING TTL" if self.ttl is not None else (
            f"default_time_to_live {t.options.default_time_to_live}"
            if t.options.default_time_to_live and self.kind != DELETE else "none")
        rows.append(("ttl", ttl))
        rows.append(("timestamp", "USING TIMESTAMP" if self.timestamp is not None
                     else "client or server timestamp of the execution"))
        if t.indexes:
            rows.append(("indexes", "maintained in the same write: " + ", ".join(
                i.name for i in t.indexes)))
        rows.append(("engine", "one engine.apply (one commit-log record)"))
        return rows


def _explain_writes(plan: "ModificationPlan") -> str:
    if plan.kind == INSERT:
        return ("static row only" if plan.static_only
                else "row marker + one cell per column (null = cell tombstone)")
    if plan.kind == UPDATE:
        return "static row cells" if plan.static_only else "cells only (no row marker)"
    if plan.operations:
        return "cell / element tombstones"
    w = plan.where
    if not w.restricted_clustering:
        return "partition tombstone"
    if w.clustering_is_full_eq:
        return "row tombstone"
    return "range tombstone over " + ("the clustering prefix" if all(
        u.is_eq or u.is_in for u in w.clustering) else "the clustering slice")


def _explain_op(op: Operation) -> str:
    name = op.column.name
    return {"set": f"{name} = value", "set_element": f"{name}[key] = value",
            "set_field": f"{name}.{op.field} = value", "append": f"{name} += elements",
            "prepend": f"{name} = elements + {name}", "remove": f"{name} -= elements",
            "increment": f"{name} {'+' if op.sign > 0 else '-'}= n",
            "delete": f"DELETE {name}", "delete_element": f"DELETE {name}[key]",
            "delete_field": f"DELETE {name}.{op.field}"}.get(op.kind, op.kind)


@dataclass(frozen=True)
class TruncatePlan:
    """TRUNCATE [TABLE] ks.t: drop every row, no tombstone."""

    table: TableMetadata
    markers: Markers = field(default_factory=Markers, compare=False)
    kind: str = "truncate"

    def explain(self) -> list[tuple[str, str]]:
        t = self.table
        return [("statement", "TRUNCATE"), ("table", f"{t.keyspace}.{t.name}"),
                ("writes", "no tombstone: memtable and SSTables of the table (and of its "
                 "indexes) dropped")]


# --- entry points ---------------------------------------------------------------------------------

def resolve_table(catalog: Any, name: ast.QualifiedName, keyspace: str | None) -> TableMetadata:
    """The table a write names; the system keyspaces are not writable (Unauthorized)."""
    ks = catalog.resolve_keyspace(name.keyspace, keyspace)
    table = catalog.table(ks, name.name)
    if ks in SYSTEM_KEYSPACES:
        raise Unauthorized(f"{ks} keyspace is not user-modifiable.")
    return table


def plan_modification(stmt: ast.Modification, catalog: Any, keyspace: str | None,
                      markers: Markers | None = None) -> ModificationPlan:
    """Plan one INSERT / INSERT JSON / UPDATE / DELETE (``markers`` is shared inside a BATCH)."""
    markers = markers if markers is not None else Markers()
    table = resolve_table(catalog, stmt.table, keyspace)
    if isinstance(stmt, ast.Insert):
        return _plan_insert(stmt, table, catalog, markers)
    if isinstance(stmt, ast.InsertJson):
        return _plan_insert_json(stmt, table, catalog, markers)
    if isinstance(stmt, ast.Update):
        return _plan_update(stmt, table, catalog, markers)
    if isinstance(stmt, ast.Delete):
        return _plan_delete(stmt, table, catalog, markers)
    raise InvalidRequest(f"Unsupported modification statement {type(stmt).__name__}")


def plan_truncate(stmt: ast.Truncate, catalog: Any, keyspace: str | None) -> TruncatePlan:
    return TruncatePlan(resolve_table(catalog, stmt.table, keyspace))


# --- USING ----------------------------------------------------------------------------------------

def _receiver(table: TableMetadata, name: str, t: T.CQLType) -> Receiver:
    return Receiver(table.keyspace, table.name, name, t)


def check_ttl(ttl: int, now_seconds: int | None = None, table: TableMetadata | None = None) -> None:
    """Cassandra's TTL limits (negative, > 20 years, expiry past 2038-01-19T03:14:06Z)."""
    if ttl < 0:
        raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {ttl}")
    if ttl > MAX_TTL:
        raise InvalidRequest(f"ttl is too large. requested ({ttl}) maximum ({MAX_TTL})")
    if now_seconds is not None and ttl > 0 and now_seconds + ttl > 2147483646:
        where = f" on table {table.keyspace}.{table.name}" if table is not None else ""
        raise InvalidRequest(
            f"Request{where} with ttl of {ttl} seconds exceeds maximum supported expiration date "
            "of 2038-01-19T03:14:06+00:00 and will have its expiration capped to that date. In "
            "order to avoid this use a lower TTL, change the expiration date overflow policy or "
            "upgrade to a version where this limitation is fixed. See CASSANDRA-14092 for more "
            "details.")


def _using(stmt: Any, table: TableMetadata, catalog: Any, markers: Markers,
           ) -> tuple[Value | None, Value | None]:
    ttl = ts = None
    if getattr(stmt, "ttl", None) is not None:
        if table.is_counter:
            raise InvalidRequest("Cannot provide custom TTL for counter updates")
        ttl = bind_term(stmt.ttl, _receiver(table, "[ttl]", T.INT), markers, catalog, table.keyspace)
        if isinstance(ttl, Literal) and ttl.value is not None:
            check_ttl(ttl.value)
    if stmt.timestamp is not None:
        if table.is_counter:
            raise InvalidRequest("Cannot provide custom timestamp for counter updates")
        ts = bind_term(stmt.timestamp, _receiver(table, "[timestamp]", T.BIGINT), markers, catalog,
                       table.keyspace)
    return ttl, ts


def _check_conditional(table: TableMetadata, conditions: Conditions, ts: Value | None) -> None:
    if not conditions.is_conditional:
        return
    if table.is_counter:
        raise InvalidRequest("Conditional updates are not supported on counter tables")
    if ts is not None:
        raise InvalidRequest("Cannot provide custom timestamp for conditional updates")


def _eq_group(col: ColumnMetadata, v: Value) -> KeyGroup:
    return KeyGroup((col,), (v,))


# --- INSERT ---------------------------------------------------------------------------------------

def _insert_checks(table: TableMetadata) -> None:
    if table.is_counter:
        raise InvalidRequest("INSERT statements are not allowed on counter tables, use UPDATE "
                             "instead")


def _key_shape(table: TableMetadata, given: set[str], non_key: list[ColumnMetadata]) -> bool:
    """Checks an INSERT's key columns; True when it writes only the static row."""
    missing = [c.name for c in table.partition_key if c.name not in given]
    if missing:
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    missing_ck = [c.name for c in table.clustering if c.name not in given]
    if not missing_ck:
        return False
    static_only = (len(missing_ck) == len(table.clustering) and bool(non_key)
                   and all(c.is_static for c in non_key))
    if not static_only:
        raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing_ck)}")
    return True


def _plan_insert(stmt: ast.Insert, table: TableMetadata, catalog: Any,
                 markers: Markers) -> ModificationPlan:
    _insert_checks(table)
    if len(stmt.columns) != len(stmt.values):
        raise InvalidRequest("Unmatched column names/values")
    if len(set(stmt.columns)) != len(stmt.columns):
        raise InvalidRequest("The column names contains duplicates")
    cols = [table.column(n) for n in stmt.columns]
    bound: dict[str, Value] = {}
    for col, term in zip(cols, stmt.values):
        bound[col.name] = bind_term(term, _receiver(table, col.name, col.type), markers, catalog,
                                    table.keyspace)
    ttl, ts = _using(stmt, table, catalog, markers)
    conditions = plan_conditions(table, (), if_exists=False, if_not_exists=stmt.if_not_exists,
                                 markers=markers, catalog=catalog)
    _check_conditional(table, conditions, ts)
    non_key = [c for c in cols if not c.is_primary_key]
    static_only = _key_shape(table, set(bound), non_key)
    partition = tuple(_eq_group(c, bound[c.name]) for c in table.partition_key)
    clustering = () if static_only else tuple(_eq_group(c, bound[c.name]) for c in table.clustering)
    ops = tuple(Operation("set", c, bound[c.name]) for c in non_key)
    return ModificationPlan(INSERT, table, partition, clustering, None, ops, conditions, ttl, ts,
                            markers, static_only)


def _plan_insert_json(stmt: ast.InsertJson, table: TableMetadata, catalog: Any,
                      markers: Markers) -> ModificationPlan:
    _insert_checks(table)
    json_value = bind_term(stmt.json, _receiver(table, "[json]", T.TEXT), markers, catalog,
                           table.keyspace)
    ttl, ts = _using(stmt, table, catalog, markers)
    conditions = plan_conditions(table, (), if_exists=False, if_not_exists=stmt.if_not_exists,
                                 markers=markers, catalog=catalog)
    _check_conditional(table, conditions, ts)
    return ModificationPlan(INSERT, table, (), (), None, (), conditions, ttl, ts, markers, False,
                            json=json_value, json_default_unset=stmt.default_unset)


# --- UPDATE ---------------------------------------------------------------------------------------

def _op_text(a: ast.Assignment) -> str:
    try:
        return a.to_cql()
    except Exception:  # noqa: BLE001 - message only
        return a.column


def _plan_assignment(a: ast.Assignment, table: TableMetadata, catalog: Any,
                     markers: Markers) -> Operation:
    col = table.get_column(a.column)
    if col is None:
        raise InvalidRequest(f"Undefined column name {a.column} in table "
                             f"{table.keyspace}.{table.name}")
    if col.is_primary_key:
        raise InvalidRequest(f"PRIMARY KEY part {col.name} found in SET part")
    t = col.type
    ks = table.keyspace

    def bind(term: Any, name: str, rt: T.CQLType) -> Value:
        return bind_term(term, _receiver(table, name, rt), markers, catalog, ks)

    text = f"({_op_text(a)})"
    if isinstance(a, ast.SetValue):
        if col.is_counter:
            raise InvalidRequest(f"Cannot set the value of counter column {col.name} (counters "
                                 "can only be incremented/decremented, not set)")
        return Operation("set", col, bind(a.value, col.name, t))
    if isinstance(a, (ast.AddTo, ast.RemoveFrom)):
        sign = 1 if isinstance(a, ast.AddTo) else -1
        if col.is_counter:
            return Operation("increment", col, bind(a.value, col.name, T.COUNTER), sign=sign)
        if not isinstance(t, (T.ListType, T.SetType, T.MapType)):
            raise InvalidRequest(f"Invalid operation {text} for non counter column {col.name}")
        if not t.is_multi_cell:
            raise InvalidRequest(f"Invalid operation {text} for frozen collection column "
                                 f"{col.name}")
        if sign > 0:
            return Operation("append", col, bind(a.value, col.name, t))
        if isinstance(t, T.MapType):
            return Operation("remove", col, bind(a.value, col.name, T.SetType(t.key)))
        return Operation("remove", col, bind(a.value, col.name, t))
    if isinstance(a, ast.Prepend):
        if not isinstance(t, T.ListType):
            raise InvalidRequest(f"Invalid operation {text} for non list column {col.name}")
        if not t.is_multi_cell:
            raise InvalidRequest(f"Invalid operation {text} for frozen list column {col.name}")
        return Operation("prepend", col, bind(a.value, col.name, t))
    if isinstance(a, ast.SetElement):
        if isinstance(t, T.MapType) and t.is_multi_cell:
            return Operation("set_element", col, bind(a.value, f"value({col.name})", t.value),
                             key=bind(a.key, f"key({col.name})", t.key))
        if isinstance(t, T.ListType) and t.is_multi_cell:
            return Operation("set_element", col, bind(a.value, f"value({col.name})", t.element),
                             key=bind(a.key, f"idx({col.name})", T.INT))
        if isinstance(t, (T.ListType, T.MapType)):
            raise InvalidRequest(f"Invalid operation {text} for frozen collection column "
                                 f"{col.name}")
        if isinstance(t, T.SetType):
            raise InvalidRequest(f"Invalid operation {text} for set column {col.name}")
        raise InvalidRequest(f"Invalid operation {text} for non collection column {col.name}")
    if isinstance(a, ast.SetField):
        if not isinstance(t, T.UserType):
            raise InvalidRequest(f"Invalid operation {text} for non-UDT column {col.name}")
        if not t.is_multi_cell:
            raise InvalidRequest(f"Invalid operation {text} for frozen UDT column {col.name}")
        if a.field not in t.field_names:
            raise InvalidRequest(f"UDT column {col.name} does not have a field named {a.field}")
        return Operation("set_field", col, bind(a.value, f"{col.name}.{a.field}",
                                                t.field_type(a.field)), field=a.field)
    raise InvalidRequest(f"Unsupported operation {text}")


def _plan_update(stmt: ast.Update, table: TableMetadata, catalog: Any,
                 markers: Markers) -> ModificationPlan:
    ops = tuple(_plan_assignment(a, table, catalog, markers) for a in stmt.assignments)
    static_only = bool(ops) and all(op.column.is_static for op in ops)
    where = classify(table, stmt.where, markers, statement="UPDATE", catalog=catalog,
                     keyspace=table.keyspace, static_only=static_only)
    ttl, ts = _using(stmt, table, catalog, markers)
    conditions = plan_conditions(table, stmt.conditions, if_exists=stmt.if_exists,
                                 if_not_exists=False, markers=markers, catalog=catalog)
    _check_conditional(table, conditions, ts)
    _check_row_keys(table, where, static_only, UPDATE)
    _check_conditional_keys(where, conditions, UPDATE)
    return ModificationPlan(UPDATE, table, (), (), where, ops, conditions, ttl, ts, markers,
                            static_only and not where.restricted_clustering)


def _check_row_keys(table: TableMetadata, where: Any, static_only: bool, verb: str) -> None:
    restricted = len(where.restricted_clustering)
    if static_only:
        if restricted:
            raise InvalidRequest("Invalid restrictions on clustering columns since the "
                                 f"{verb.upper()} statement modifies only static columns")
        return
    if where.missing_clustering:
        raise InvalidRequest(f"Some clustering keys are missing: "
                             f"{', '.join(where.missing_clustering)}")


def _check_conditional_keys(where: Any, conditions: Conditions, verb: str) -> None:
    if not conditions.is_conditional:
        return
    if where.has_partition_in:
        raise InvalidRequest("IN on the partition key is not supported with conditional "
                             f"{'updates' if verb == UPDATE else 'deletions'}")
    if where.has_clustering_in:
        raise InvalidRequest("IN on the clustering key columns is not supported with "
                             f"conditional {'updates' if verb == UPDATE else 'deletions'}")


# --- DELETE ---------------------------------------------------------------------------------------

def _plan_deletion(d: ast.Deletion, table: TableMetadata, catalog: Any,
                   markers: Markers) -> Operation:
    col = table.get_column(d.column)
    if col is None:
        raise InvalidRequest(f"Undefined column name {d.column} in table "
                             f"{table.keyspace}.{table.name}")
    if col.is_primary_key:
        raise InvalidRequest(f"Invalid identifier {col.name} for deletion (should not be a "
                             "PRIMARY KEY part)")
    t = col.type
    ks = table.keyspace
    if d.key is not None:
        if not isinstance(t, (T.ListType, T.SetType, T.MapType)):
            raise InvalidRequest(f"Invalid deletion operation for non collection column {col.name}")
        if not t.is_multi_cell:
            raise InvalidRequest(f"Invalid deletion operation for frozen collection column "
                                 f"{col.name}")
        if isinstance(t, T.ListType):
            kt, name = T.INT, f"idx({col.name})"
        elif isinstance(t, T.SetType):
            kt, name = t.element, col.name
        else:
            kt, name = t.key, f"key({col.name})"
        key = bind_term(d.key, _receiver(table, name, kt), markers, catalog, ks)
        return Operation("delete_element", col, key=key)
    if d.field is not None:
        if not isinstance(t, T.UserType):
            raise InvalidRequest(f"Invalid field deletion operation for non-UDT column {col.name}")
        if not t.is_multi_cell:
            raise InvalidRequest(f"Frozen UDT column {col.name} does not support field deletion")
        if d.field not in t.field_names:
            raise InvalidRequest(f"UDT column {col.name} does not have a field named {d.field}")
        return Operation("delete_field", col, field=d.field)
    return Operation("delete", col)


def _plan_delete(stmt: ast.Delete, table: TableMetadata, catalog: Any,
                 markers: Markers) -> ModificationPlan:
    ops = tuple(_plan_deletion(d, table, catalog, markers) for d in stmt.columns)
    static_only = bool(ops) and all(op.column.is_static for op in ops)
    where = classify(table, stmt.where, markers, statement="DELETE", catalog=catalog,
                     keyspace=table.keyspace, static_only=static_only)
    _ttl, ts = _using(stmt, table, catalog, markers)
    conditions = plan_conditions(table, stmt.conditions, if_exists=stmt.if_exists,
                                 if_not_exists=False, markers=markers, catalog=catalog)
    _check_conditional(table, conditions, ts)
    restricted = len(where.restricted_clustering)
    full_key = where.clustering_is_full_eq
    if ops and static_only:
        _check_row_keys(table, where, True, DELETE)
    _check_conditional_keys(where, conditions, DELETE)
    if conditions.is_conditional and not full_key:
        if any(not op.column.is_static for op in ops) or (not ops and restricted):
            raise InvalidRequest("DELETE statements must restrict all PRIMARY KEY columns with "
                                 "equality relations in order to delete non static columns")
        if conditions.kind == "columns" and not conditions.only_static:
            raise InvalidRequest("DELETE statements must restrict all PRIMARY KEY columns with "
                                 "equality relations in order to use IF condition on non static "
                                 "columns")
    if ops and not static_only and not full_key:
        raise InvalidRequest("Range deletions are not supported for specific columns")
    return ModificationPlan(DELETE, table, (), (), where, ops, conditions, None, ts, markers,
                            static_only and not restricted)


__all__ = ["DELETE", "INSERT", "KeyGroup", "ModificationPlan", "Operation", "TruncatePlan",
           "UPDATE", "check_ttl", "plan_modification", "plan_truncate", "resolve_table"]
