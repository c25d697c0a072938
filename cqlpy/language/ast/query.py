"""SELECT: the statement, its selectors and its ordering clauses."""
from __future__ import annotations

from typing import Any

from .base import Node, QualifiedName, Statement
from .nodeclass import node_class


@node_class
class Selectable(Node):
    """Base of the expressions that exist only in a SELECT clause (column references and the like).
    A selector expression is a Selectable or a Term (constants, markers, function calls, casts,
    list and tuple literals whose items are selector expressions)."""


@node_class
class ColumnRef(Selectable):
    """A column named in a SELECT clause."""

    name: str


@node_class
class CountRows(Selectable):
    """``count(*)``.  (``count(1)`` and ``count(col)`` are FunctionCalls named 'count'.)"""


@node_class
class WritetimeOrTTL(Selectable):
    """``writetime(col)``, ``maxwritetime(col)`` or ``ttl(col)``; ``kind`` is the function name."""

    kind: str
    column: str


@node_class
class ElementSelection(Selectable):
    """``expr[key]``: one element of a map, set or list."""

    expression: Any
    key: Any


@node_class
class SliceSelection(Selectable):
    """``expr[start..end]``, either bound may be None."""

    expression: Any
    start: Any = None
    end: Any = None


@node_class
class FieldSelection(Selectable):
    """``expr.field``: a field of a user-type value."""

    expression: Any
    field: str


@node_class
class Selector(Node):
    """One item of a SELECT clause: an expression and its optional ``AS`` alias."""

    expression: Any
    alias: str | None = None


@node_class
class Ordering(Node):
    """``column [ASC | DESC]`` in ORDER BY or CLUSTERING ORDER BY."""

    column: str
    descending: bool = False


@node_class
class Select(Statement):
    """``SELECT [JSON] [DISTINCT] selectors FROM table [WHERE ...] [GROUP BY ...] [ORDER BY ...]
    [PER PARTITION LIMIT n] [LIMIT n] [ALLOW FILTERING]``.  ``selectors`` is () for ``*``.
    ``where`` holds relations (Relation, ElementRelation, TupleRelation, TokenRelation) joined by AND;
    ``limit`` and ``per_partition_limit`` are integer Constants or BindMarkers."""

    table: QualifiedName
    selectors: tuple[Selector, ...] = ()
    where: tuple[Any, ...] = ()
    group_by: tuple[Any, ...] = ()
    order_by: tuple[Ordering, ...] = ()
    per_partition_limit: Any = None
    limit: Any = None
    allow_filtering: bool = False
    distinct: bool = False
    json: bool = False
