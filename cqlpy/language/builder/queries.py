"""AST-builder callbacks for SELECT (selectors, clauses) and for WHERE relations."""
from __future__ import annotations

from typing import NamedTuple

from lark import Token

from ..ast import (CONTAINS, CONTAINS_KEY, IN, IS_NOT, LIKE, Cast, ColumnRef, Constant, CountRows,
                   ElementRelation, ElementSelection, FieldSelection, FunctionCall, InValues,
                   ListLiteral, Ordering, Relation, Select, Selector, SliceSelection, TokenRelation,
                   Span, TupleLiteral, TupleRelation, WritetimeOrTTL)
from .core import NAME, fail, leaf, rule, span_of


# --- SELECT --------------------------------------------------------------------------------------

class _SelectHead(NamedTuple):
    json: bool
    distinct: bool
    selectors: tuple
    span: Span | None


@rule()
def select_statement(span, head, table, where, group_by, order_by, per_partition_limit, limit,
                     allow_filtering):
    return Select(table, head.selectors, where or (), group_by or (), order_by or (), per_partition_limit,
                  limit, allow_filtering is not None, head.distinct, head.json, span=span)


@rule()
def select_head(span, json, distinct, selectors):
    return _SelectHead(json is not None, distinct is not None, selectors, span)


@rule("select_json", "select_distinct", "allow_filtering", spans=False)
def flag(span):
    return True


@rule(spans=False)
def select_all(span):
    return ()


@rule("select_clause", "selector_args", "where_clause", "group_by_clause", "order_by_clause",
      "insert_values", "deletions", "index_targets", "partition_key", spans=False)
def sequence(span, *items):
    return items


@rule()
def selector(span, expression, alias):
    return Selector(expression, alias, span=span)


@leaf("selector_alias", "per_partition_limit_clause", "limit_clause", "parenthesized_relation",
      "in_marker", "index_name", "role_of", "batch_child")
def passthrough(children):
    """The one meaningful child, as is (a NAME token keeps its position for the parent's span)."""
    for child in children:
        if child.__class__ is not Token or child.type == NAME:
            return child
    raise AssertionError(f"nothing to pass through in {children!r}")


@rule()
def column_selector(span, name):
    return ColumnRef(name, span=span)


@rule()
def function_selector(span, name, args):
    return FunctionCall(name, args, span=span)


@rule()
def qualified_function_selector(span, keyspace, name, args):
    if not isinstance(keyspace, ColumnRef):
        raise fail("invalid function name", span)
    return FunctionCall(name, args, keyspace.name, span=span)


@rule()
def count_rows_selector(span):
    return CountRows(span=span)


@rule()
def count_selector(span, args):
    return FunctionCall("count", args, span=span)


def _metadata_selector(kind):
    def build(span, column):
        return WritetimeOrTTL(kind, column, span=span)
    return build


rule("writetime_selector")(_metadata_selector("writetime"))
rule("maxwritetime_selector")(_metadata_selector("maxwritetime"))
rule("ttl_selector")(_metadata_selector("ttl"))


@rule()
def cast_selector(span, expression, cql_type):
    return Cast(expression, cql_type, span=span)


@rule()
def field_selector(span, expression, field):
    return FieldSelection(expression, field, span=span)


@rule()
def element_selector(span, expression, key):
    return ElementSelection(expression, key, span=span)


@rule()
def slice_selector(span, expression, start, end):
    return SliceSelection(expression, start, end, span=span)


@rule()
def slice_from_selector(span, expression, start):
    return SliceSelection(expression, start, None, span=span)


@rule()
def slice_to_selector(span, expression, end):
    return SliceSelection(expression, None, end, span=span)


@rule()
def list_selector(span, *items):
    return ListLiteral(items, span=span)


@rule()
def tuple_selector(span, *items):
    if len(items) == 1:             # parentheses around one selector group it, as in Cassandra
        return items[0]
    return TupleLiteral(items, span=span)


@rule()
def ordering(span, column, descending):
    return Ordering(column, bool(descending), span=span)


rule("clustering_order")(ordering)


@rule(spans=False)
def ascending(span):
    return False


@rule(spans=False)
def descending(span):
    return True


# --- relations -----------------------------------------------------------------------------------

@leaf()
def relation_operator(children):
    return children[0].value


@leaf()
def column_relation(children):
    # children: the column's NAME token, the operator token, the value (operators are spelled out in
    # the grammar to save a reduction per relation)
    column, operator, value = children
    return Relation(column.value, operator.value, value, span=span_of(children))


@rule()
def column_in_relation(span, column, values):
    return Relation(column, IN, values, span=span)


def _operator_relation(operator):
    def build(span, column, value):
        return Relation(column, operator, value, span=span)
    return build


rule("contains_relation")(_operator_relation(CONTAINS))
rule("contains_key_relation")(_operator_relation(CONTAINS_KEY))
rule("like_relation")(_operator_relation(LIKE))


@rule()
def is_not_null_relation(span, column):
    return Relation(column, IS_NOT, Constant("null", "NULL", span=span), span=span)


@rule()
def element_relation(span, column, key, operator, value):
    return ElementRelation(column, key, operator, value, span=span)


class Columns(NamedTuple):
    """``(c1, c2)``: the names, and where they were written (names alone carry no position)."""

    names: tuple
    span: Span | None


@rule()
def column_tuple(span, *names):
    return Columns(names, span)


@rule()
def token_relation(span, columns, operator, value):
    return TokenRelation(columns.names, operator, value, span=span)


@rule()
def tuple_relation(span, columns, operator, value):
    return TupleRelation(columns.names, operator, value, span=span)


@rule()
def tuple_in_relation(span, columns, values):
    return TupleRelation(columns.names, IN, values, span=span)


@rule()
def in_values(span, *items):
    return InValues(items, span=span)
