"""AST-builder callbacks for names, CQL types, constants, bind markers and other terms."""
from __future__ import annotations

from lark import Token

from ..ast import (BindMarker, Cast, Constant, CQLType, FunctionCall, ListLiteral, MapLiteral,
                   QualifiedName, SetLiteral, TupleLiteral, TypeHint, UserTypeLiteral)
from .core import MAX_NESTING, NAME, fail, leaf, next_marker_index, rule, token_span

# Names Cassandra refuses for user types although they are plain identifiers (Parser.g's
# reservedTypeNames; 'date' is a native type here, so it never reaches the check).
RESERVED_TYPE_NAMES = frozenset({"byte", "complex", "enum", "interval", "macaddr", "bitstring"})


# --- identifiers ---------------------------------------------------------------------------------

def fold(token: Token) -> str:
    """Unquoted identifiers and keywords fold to lower case; "Quoted" ones keep their case."""
    if token.type == "QUOTED_NAME":
        return token.value[1:-1].replace('""', '"')
    return token.value.lower()


@leaf("ident", "function_ident", "selector_function_ident", "describe_name")
def ident(children):
    token = children[0]
    if token.type == "QUOTED_NAME":
        token.value = token.value[1:-1].replace('""', '"')
    else:
        token.value = token.value.lower()
    token.type = NAME
    return token


@leaf()
def type_ident(children):
    token = children[0]
    name = fold(token)
    if token.type == "IDENT" and name in RESERVED_TYPE_NAMES:
        raise fail(f"Invalid (reserved) user type name {name}", token_span(token))
    token.value = name
    token.type = NAME
    return token


@leaf()
def user_name(children):
    """Legacy user names keep their case, quoted or not (as Cassandra's CREATE USER does)."""
    token = children[0]
    value = token.value
    if token.type == "STRING_LITERAL":
        value = _string_value(value)
    token.value = value
    token.type = NAME
    return token


@rule("table_name", "type_name", "function_name")
def qualified_name(span, *names):
    if len(names) == 2:
        return QualifiedName(names[0], names[1], span=span)
    return QualifiedName(None, names[0], span=span)


# --- types ---------------------------------------------------------------------------------------

@leaf("native_type", "cast_type")
def native_type(children):
    token = children[0]
    return CQLType(token.value.lower(), span=token_span(token))


def _composite(name, params, span):
    depth, pending = 0, [(param, 2) for param in params]
    while pending:
        param, level = pending.pop()
        depth = max(depth, level)
        pending.extend((inner, level + 1) for inner in param.params)
    if depth > MAX_NESTING:
        raise fail(f"too deeply nested type (more than {MAX_NESTING} levels)", span)
    return CQLType(name, tuple(params), span=span)


@rule()
def map_type(span, key, value):
    return _composite("map", (key, value), span)


@rule()
def list_type(span, element):
    return _composite("list", (element,), span)


@rule()
def set_type(span, element):
    return _composite("set", (element,), span)


@rule()
def tuple_type(span, *elements):
    return _composite("tuple", elements, span)


@rule()
def frozen_type(span, inner: CQLType):
    if inner.is_native:
        raise fail("frozen<> is only allowed on collections, tuples, and user-defined types", span)
    return CQLType(inner.name, inner.params, True, inner.keyspace, span=span)


@rule()
def user_type(span, name: QualifiedName):
    return CQLType(name.name, keyspace=name.keyspace, span=span)


# --- constants and markers -----------------------------------------------------------------------

def _string_value(literal: str) -> str:
    if literal.startswith("$$"):
        return literal[2:-2]
    return literal[1:-1].replace("''", "'")


@leaf()
def string_constant(children):
    token = children[0]
    return Constant("string", _string_value(token.value), span=token_span(token))


def _literal(kind):
    def build(children):
        token = children[0]
        return Constant(kind, token.value, span=token_span(token))
    return build


leaf("integer_constant")(_literal("integer"))
leaf("float_constant")(_literal("float"))
leaf("uuid_constant")(_literal("uuid"))
leaf("hex_constant")(_literal("hex"))
leaf("duration_constant")(_literal("duration"))


@leaf()
def boolean_constant(children):
    token = children[0]
    return Constant("boolean", token.value.lower(), span=token_span(token))


def _special_float(text):
    def build(children):
        return Constant("float", text, span=token_span(children[0], children[-1]))
    return build


leaf("nan_constant")(_special_float("NaN"))
leaf("infinity_constant")(_special_float("Infinity"))
leaf("negative_infinity_constant")(_special_float("-Infinity"))


@leaf()
def null_constant(children):
    return Constant("null", "NULL", span=token_span(children[0]))


@leaf()
def anonymous_marker(children):
    return BindMarker(next_marker_index(), span=token_span(children[0]))


@rule()
def named_marker(span, name):
    return BindMarker(next_marker_index(), name, span=span)


# --- composite terms -----------------------------------------------------------------------------

@rule()
def list_literal(span, *items):
    return ListLiteral(items, span=span)


@rule()
def empty_braces(span):
    return SetLiteral((), span=span)


@rule()
def set_literal(span, *items):
    return SetLiteral(items, span=span)


@rule()
def map_literal(span, *keys_and_values):
    return MapLiteral(tuple(zip(keys_and_values[0::2], keys_and_values[1::2])), span=span)


@rule()
def user_type_literal(span, *names_and_values):
    return UserTypeLiteral(tuple(zip(names_and_values[0::2], names_and_values[1::2])), span=span)


@rule()
def tuple_literal(span, *items):
    return TupleLiteral(items, span=span)


@rule()
def type_hint(span, cql_type, term):
    return TypeHint(cql_type, term, span=span)


@rule()
def cast_term(span, term, cql_type):
    return Cast(term, cql_type, span=span)


@rule()
def function_call(span, name: QualifiedName, *args):
    return FunctionCall(name.name, args, name.keyspace, span=span)
