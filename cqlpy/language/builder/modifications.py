"""AST-builder callbacks for INSERT, UPDATE, DELETE and BATCH, their USING options, assignments,
deletions and IF conditions."""
from __future__ import annotations

from typing import NamedTuple

from ..ast import (CONTAINS, CONTAINS_KEY, COUNTER, IN, LOGGED, UNLOGGED, AddTo, Batch, Condition,
                   Delete, Deletion, Insert, InsertJson, Prepend, RemoveFrom, SetElement, SetField,
                   SetValue, Span, Update)
from .core import fail, rule

class _IfExists(NamedTuple):
    """What ``IF EXISTS`` builds, instead of a tuple of conditions."""

    span: Span | None


# --- INSERT --------------------------------------------------------------------------------------

@rule()
def insert_statement(span, table, columns, values, if_not_exists, using):
    ttl, timestamp = using or (None, None)
    return Insert(table, columns.names, values, bool(if_not_exists), ttl, timestamp, span=span)


@rule()
def insert_json_statement(span, table, json, default_unset, if_not_exists, using):
    ttl, timestamp = using or (None, None)
    return InsertJson(table, json, bool(default_unset), bool(if_not_exists), ttl, timestamp, span=span)


@rule(spans=False)
def default_null(span):
    return False


@rule("default_unset", "if_not_exists", "if_exists", "static_column", "inline_primary_key",
      "custom_index", "no_recursive", "with_internals", "superuser", spans=False)
def true(span):
    return True


@rule(spans=False)
def nosuperuser(span):
    return False


@rule()
def using_clause(span, *options):
    """-> (ttl, timestamp); each may be given once."""
    found = {}
    for name, value, option_span in options:
        if name in found:
            raise fail(f"USING {name.upper()} given twice", option_span)
        found[name] = value
    return found.get("ttl"), found.get("timestamp")


@rule()
def using_ttl(span, value):
    return ("ttl", value, span)


@rule()
def using_timestamp(span, value):
    return ("timestamp", value, span)


# --- UPDATE --------------------------------------------------------------------------------------

@rule()
def update_statement(span, table, using, *rest):
    *assignments, where, conditions = rest
    _check_assignments(assignments)
    ttl, timestamp = using or (None, None)
    if_exists = isinstance(conditions, _IfExists)
    return Update(table, tuple(assignments), where, () if if_exists else (conditions or ()),
                  if_exists, ttl, timestamp, span=span)


def _check_assignments(assignments):
    """Cassandra's grammar refuses setting a column twice unless both operations touch distinct
    elements or fields (Operation.RawUpdate.isCompatibleWith)."""
    seen = {}
    for assignment in assignments:
        for earlier in seen.get(assignment.column, ()):
            if _incompatible(earlier, assignment):
                raise fail(f"Multiple incompatible setting of column {assignment.column}",
                           assignment.span)
        seen.setdefault(assignment.column, []).append(assignment)


def _incompatible(earlier, later) -> bool:
    if isinstance(earlier, SetValue) or isinstance(later, SetValue):
        return True
    return isinstance(earlier, SetField) and isinstance(later, SetField) and earlier.field == later.field


@rule()
def set_value(span, column, value):
    return SetValue(column, value, span=span)


def _same_column(column, other, form, span):
    if column != other:
        raise fail(f"Only expressions of the form {form} are supported.", span)


@rule()
def add_assignment(span, column, other, value):
    _same_column(column, other, "X = X + <value>", span)
    return AddTo(column, value, span=span)


@rule()
def remove_assignment(span, column, other, value):
    _same_column(column, other, "X = X - <value>", span)
    return RemoveFrom(column, value, span=span)


@rule()
def add_signed_assignment(span, column, other, integer):
    # ``c = c -1`` is lexed as ``c = c`` followed by the integer -1: Cassandra adds the negative number
    sign = "-" if integer.text.startswith("-") else "+"
    _same_column(column, other, f"X = X {sign} <value>", span)
    return AddTo(column, integer, span=span)


@rule()
def prepend_assignment(span, column, value, other):
    _same_column(column, other, "X = <value> + X", span)
    return Prepend(column, value, span=span)


@rule()
def add_to(span, column, value):
    return AddTo(column, value, span=span)


@rule()
def remove_from(span, column, value):
    return RemoveFrom(column, value, span=span)


@rule()
def set_element(span, column, key, value):
    return SetElement(column, key, value, span=span)


@rule()
def set_field(span, column, field, value):
    return SetField(column, field, value, span=span)


# --- IF conditions -------------------------------------------------------------------------------

@rule()
def if_exists_conditions(span):
    return _IfExists(span)


@rule(spans=False)
def column_conditions(span, *conditions):
    return conditions


@rule()
def simple_condition(span, column, operator, value):
    return Condition(column, operator, value, span=span)


@rule()
def in_condition(span, column, values):
    return Condition(column, IN, values, span=span)


@rule()
def contains_condition(span, column, value):
    return Condition(column, CONTAINS, value, span=span)


@rule()
def contains_key_condition(span, column, value):
    return Condition(column, CONTAINS_KEY, value, span=span)


@rule()
def element_condition(span, column, key, operator, value):
    return Condition(column, operator, value, key=key, span=span)


@rule()
def element_in_condition(span, column, key, values):
    return Condition(column, IN, values, key=key, span=span)


@rule()
def field_condition(span, column, field, operator, value):
    return Condition(column, operator, value, field=field, span=span)


@rule()
def field_in_condition(span, column, field, values):
    return Condition(column, IN, values, field=field, span=span)


# --- DELETE --------------------------------------------------------------------------------------

@rule()
def delete_statement(span, deletions, table, timestamp, where, conditions):
    if_exists = isinstance(conditions, _IfExists)
    return Delete(table, where, deletions or (), () if if_exists else (conditions or ()), if_exists,
                  timestamp, span=span)


@rule()
def delete_column(span, column):
    return Deletion(column, span=span)


@rule()
def delete_element(span, column, key):
    return Deletion(column, key=key, span=span)


@rule()
def delete_field(span, column, field):
    return Deletion(column, field=field, span=span)


@rule()
def delete_using(span, value):
    return value


# --- BATCH ---------------------------------------------------------------------------------------

@rule()
def batch_statement(span, kind, using, *statements):
    ttl, timestamp = using or (None, None)
    return Batch(statements, kind or LOGGED, ttl, timestamp, span=span)


@rule(spans=False)
def unlogged_batch(span):
    return UNLOGGED


@rule(spans=False)
def counter_batch(span):
    return COUNTER
