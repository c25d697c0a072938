"""WHERE-clause relations shared by SELECT, UPDATE and DELETE, and their operators."""
from __future__ import annotations

from typing import Any

from .base import Node
from .nodeclass import node_class

# Relation operators, as the printer writes them.
EQ, LT, LTE, GT, GTE, NEQ = "=", "<", "<=", ">", ">=", "!="
IN = "IN"
CONTAINS = "CONTAINS"
CONTAINS_KEY = "CONTAINS KEY"
LIKE = "LIKE"
IS_NOT = "IS NOT"          # only as ``IS NOT NULL`` (value is the NULL constant)
COMPARISON_OPERATORS = (EQ, LT, LTE, GT, GTE, NEQ)


@node_class
class InValues(Node):
    """The parenthesised list after IN: ``IN (1, 2)``; ``IN ()`` has no items.  (``IN ?`` is a bare
    BindMarker instead.)  For a tuple relation the items are TupleLiterals or BindMarkers."""

    items: tuple[Any, ...] = ()


@node_class
class Relation(Node):
    """``column op value`` for op in = < <= > >= != CONTAINS, CONTAINS KEY, LIKE, IS NOT (NULL), IN.
    For IN, ``value`` is an InValues or a BindMarker (``IN ?``)."""

    column: str
    operator: str
    value: Any


@node_class
class ElementRelation(Node):
    """``column[key] op value`` (a map entry or list element restriction)."""

    column: str
    key: Any
    operator: str
    value: Any


@node_class
class TupleRelation(Node):
    """``(c1, c2) op value``: a multi-column relation.  For ops = < <= > >= != the value is a
    TupleLiteral or a BindMarker; for IN an InValues (of TupleLiterals / BindMarkers) or a BindMarker."""

    columns: tuple[str, ...]
    operator: str
    value: Any


@node_class
class TokenRelation(Node):
    """``token(c1, c2) op value``: a restriction on the partition token."""

    columns: tuple[str, ...]
    operator: str
    value: Any
