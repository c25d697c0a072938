"""INSERT, UPDATE, DELETE and BATCH, with their assignments, deletions and IF conditions."""
from __future__ import annotations

from typing import Any

from .base import Node, QualifiedName, Statement
from .nodeclass import node_class

# Batch kinds.
LOGGED, UNLOGGED, COUNTER = "LOGGED", "UNLOGGED", "COUNTER"


# --- UPDATE ... SET assignments (Cassandra's Operation.Raw*) -------------------------------------

@node_class
class Assignment(Node):
    """Base of the SET operations; every one names the ``column`` it writes."""

    column: str


@node_class
class SetValue(Assignment):
    """``c = value``."""

    value: Any


@node_class
class AddTo(Assignment):
    """``c = c + value`` or ``c += value``: counter increment, list append, set union, map merge.
    (``c = c -1``, lexed as ``c = c`` followed by the integer -1, is AddTo with value -1.)"""

    value: Any


@node_class
class RemoveFrom(Assignment):
    """``c = c - value`` or ``c -= value``: counter decrement, element or key removal."""

    value: Any


@node_class
class Prepend(Assignment):
    """``c = value + c``: list prepend."""

    value: Any


@node_class
class SetElement(Assignment):
    """``c[key] = value``: one map entry or list element."""

    key: Any
    value: Any


@node_class
class SetField(Assignment):
    """``c.field = value``: one field of a user-type column."""

    field: str
    value: Any


# --- DELETE selection and IF conditions ------------------------------------------------------------

@node_class
class Deletion(Node):
    """One item of ``DELETE a, b[key], c.field FROM ...``: a whole column, one element (``key``) or one
    user-type field (``field``)."""

    column: str
    key: Any = None
    field: str | None = None


@node_class
class Condition(Node):
    """One lightweight-transaction condition: ``column op value``, ``column[key] op value`` or
    ``column.field op value``.  Operators are those of relations (= < <= > >= != IN CONTAINS
    CONTAINS KEY); for IN, ``value`` is an InValues or a BindMarker."""

    column: str
    operator: str
    value: Any
    key: Any = None
    field: str | None = None


# --- statements ------------------------------------------------------------------------------------

@node_class
class Modification(Statement):
    """Base of INSERT, UPDATE and DELETE (the statements a BATCH may hold)."""


@node_class
class Insert(Modification):
    """``INSERT INTO table (columns) VALUES (values) [IF NOT EXISTS] [USING TTL t AND TIMESTAMP ts]``.
    ``ttl`` and ``timestamp`` are integer Constants, BindMarkers or None."""

    table: QualifiedName
    columns: tuple[str, ...]
    values: tuple[Any, ...]
    if_not_exists: bool = False
    ttl: Any = None
    timestamp: Any = None


@node_class
class InsertJson(Modification):
    """``INSERT INTO table JSON 'doc' [DEFAULT NULL | DEFAULT UNSET] ...``; ``json`` is a string
    Constant or a BindMarker.  ``default_unset`` is True for DEFAULT UNSET (DEFAULT NULL is the default)."""

    table: QualifiedName
    json: Any
    default_unset: bool = False
    if_not_exists: bool = False
    ttl: Any = None
    timestamp: Any = None


@node_class
class Update(Modification):
    """``UPDATE table [USING ...] SET assignments WHERE relations [IF EXISTS | IF conditions]``."""

    table: QualifiedName
    assignments: tuple[Assignment, ...]
    where: tuple[Any, ...]
    conditions: tuple[Condition, ...] = ()
    if_exists: bool = False
    ttl: Any = None
    timestamp: Any = None


@node_class
class Delete(Modification):
    """``DELETE [deletions] FROM table [USING TIMESTAMP ts] WHERE relations [IF EXISTS | IF conditions]``;
    ``columns`` is () for a whole-row / range / partition delete."""

    table: QualifiedName
    where: tuple[Any, ...]
    columns: tuple[Deletion, ...] = ()
    conditions: tuple[Condition, ...] = ()
    if_exists: bool = False
    timestamp: Any = None


@node_class
class Batch(Statement):
    """``BEGIN [UNLOGGED | COUNTER] BATCH [USING ...] statements APPLY BATCH``; ``kind`` is LOGGED,
    UNLOGGED or COUNTER.  (USING TTL parses; Cassandra rejects it when planning.)"""

    statements: tuple[Modification, ...] = ()
    kind: str = LOGGED
    ttl: Any = None
    timestamp: Any = None
