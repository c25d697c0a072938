"""Terms: the values written in CQL (constants, bind markers, collection/tuple/user-type literals,
function calls, type hints and casts)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Node
from .nodeclass import node_class

if TYPE_CHECKING:
    from .cqltype import CQLType

# Constant.kind values.  ``text`` holds: for 'string' the unescaped value; for 'boolean' 'true' or
# 'false'; for 'float' the literal, or 'NaN' / 'Infinity' / '-Infinity'; for 'null' 'NULL'; for the
# other kinds the literal exactly as written (integers may carry a leading '-').
CONSTANT_KINDS = ("string", "integer", "float", "boolean", "uuid", "hex", "duration", "null")


@node_class
class Term(Node):
    """Base of the value nodes."""


@node_class
class Constant(Term):
    """A literal value; see CONSTANT_KINDS for ``kind`` and what ``text`` holds."""

    kind: str
    text: str

    @property
    def is_null(self) -> bool:
        return self.kind == "null"


NULL = Constant("null", "NULL")


@node_class
class BindMarker(Term):
    """``?`` (``name`` None) or ``:name``.  ``index`` is the marker's position among all the markers of
    its statement (0-based, in text order; a BATCH numbers its inner statements' markers together),
    i.e. the index of the value a client binds to it."""

    index: int
    name: str | None = None


@node_class
class ListLiteral(Term):
    """``[a, b]``.  In a SELECT clause the items may be selector expressions."""

    items: tuple[Any, ...] = ()


@node_class
class SetLiteral(Term):
    """``{a, b}``.  ``{}`` parses as an empty SetLiteral (as in Cassandra, the column type decides
    whether it is an empty set or an empty map)."""

    items: tuple[Any, ...] = ()


@node_class
class MapLiteral(Term):
    """``{k: v, ...}``; ``entries`` are (key, value) pairs in written order."""

    entries: tuple[tuple[Any, Any], ...] = ()


@node_class
class TupleLiteral(Term):
    """``(a, b)``; a single parenthesised term in a term position is a one-element tuple."""

    items: tuple[Any, ...] = ()


@node_class
class UserTypeLiteral(Term):
    """``{field: value, ...}``; ``fields`` are (field name, value) pairs in written order."""

    fields: tuple[tuple[str, Any], ...] = ()


@node_class
class FunctionCall(Term):
    """``[keyspace.]name(args)``.  Unquoted names are folded to lower case (``toTimestamp`` →
    ``totimestamp``).  In a SELECT clause the arguments may be selector expressions (columns...)."""

    name: str
    args: tuple[Any, ...] = ()
    keyspace: str | None = None


@node_class
class TypeHint(Term):
    """``(type) term``: forces the type of a term, e.g. ``(int) ?``."""

    type: CQLType
    term: Any


@node_class
class Cast(Term):
    """``CAST(term AS type)``; in a SELECT clause ``term`` may be a selector expression."""

    term: Any
    type: CQLType
