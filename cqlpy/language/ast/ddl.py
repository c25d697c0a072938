"""Schema statements: keyspaces, tables, indexes and user types (CREATE / ALTER / DROP)."""
from __future__ import annotations

from typing import Any

from .base import Node, Property, QualifiedName, Statement
from .nodeclass import node_class
from .cqltype import CQLType
from .query import Ordering

# IndexTarget.kind values (None is a plain ``(column)`` target).
INDEX_VALUES, INDEX_KEYS, INDEX_ENTRIES, INDEX_FULL = "VALUES", "KEYS", "ENTRIES", "FULL"


# --- keyspaces -------------------------------------------------------------------------------------

@node_class
class CreateKeyspace(Statement):
    """``CREATE KEYSPACE [IF NOT EXISTS] name WITH replication = {...} [AND durable_writes = b]``."""

    name: str
    options: tuple[Property, ...]
    if_not_exists: bool = False


@node_class
class AlterKeyspace(Statement):
    name: str
    options: tuple[Property, ...]
    if_exists: bool = False


@node_class
class DropKeyspace(Statement):
    name: str
    if_exists: bool = False


# --- tables ----------------------------------------------------------------------------------------

@node_class
class ColumnDefinition(Node):
    """``name type [STATIC]`` in CREATE TABLE or ALTER TABLE ADD."""

    name: str
    type: CQLType
    static: bool = False


@node_class
class CreateTable(Statement):
    """``CREATE TABLE [IF NOT EXISTS] t (columns, PRIMARY KEY ((pk...), ck...)) WITH ...``.
    The primary key, written inline or as a clause, is in ``partition_key`` and ``clustering_columns``
    (both empty if none was given); ``clustering_order`` is the CLUSTERING ORDER BY list as written;
    ``options`` are the other WITH properties in written order."""

    table: QualifiedName
    columns: tuple[ColumnDefinition, ...]
    partition_key: tuple[str, ...] = ()
    clustering_columns: tuple[str, ...] = ()
    clustering_order: tuple[Ordering, ...] = ()
    options: tuple[Property, ...] = ()
    if_not_exists: bool = False
    compact_storage: bool = False


@node_class
class AlterTableAdd(Statement):
    """``ALTER TABLE [IF EXISTS] t ADD [IF NOT EXISTS] c type [STATIC]`` or ``ADD (c1 t1, c2 t2)``."""

    table: QualifiedName
    columns: tuple[ColumnDefinition, ...]
    if_exists: bool = False
    if_column_not_exists: bool = False


@node_class
class AlterTableDrop(Statement):
    """``ALTER TABLE t DROP [IF EXISTS] c`` or ``DROP (c1, c2)`` ``[USING TIMESTAMP n]``."""

    table: QualifiedName
    columns: tuple[str, ...]
    if_exists: bool = False
    if_column_exists: bool = False
    timestamp: Any = None


@node_class
class AlterTableRename(Statement):
    """``ALTER TABLE t RENAME [IF EXISTS] a TO b [AND c TO d]``; ``renames`` are (old, new) pairs."""

    table: QualifiedName
    renames: tuple[tuple[str, str], ...]
    if_exists: bool = False
    if_column_exists: bool = False


@node_class
class AlterTableWith(Statement):
    """``ALTER TABLE t WITH prop = value [AND ...]``."""

    table: QualifiedName
    options: tuple[Property, ...]
    if_exists: bool = False


@node_class
class AlterTableAlterType(Statement):
    """``ALTER TABLE t ALTER c TYPE type`` (parses; Cassandra 4+ refuses it when executing)."""

    table: QualifiedName
    column: str
    type: CQLType
    if_exists: bool = False


@node_class
class AlterTableDropCompactStorage(Statement):
    table: QualifiedName
    if_exists: bool = False


@node_class
class DropTable(Statement):
    table: QualifiedName
    if_exists: bool = False


# --- secondary indexes -----------------------------------------------------------------------------

@node_class
class IndexTarget(Node):
    """``col``, ``VALUES(col)``, ``KEYS(col)``, ``ENTRIES(col)`` or ``FULL(col)``; ``kind`` is None for
    the plain form, else one of INDEX_VALUES, INDEX_KEYS, INDEX_ENTRIES, INDEX_FULL."""

    column: str
    kind: str | None = None


@node_class
class CreateIndex(Statement):
    """``CREATE [CUSTOM] INDEX [IF NOT EXISTS] [name] ON t (targets) [USING 'class'] [WITH ...]``."""

    table: QualifiedName
    targets: tuple[IndexTarget, ...]
    name: str | None = None
    custom: bool = False
    using: str | None = None
    options: tuple[Property, ...] = ()
    if_not_exists: bool = False


@node_class
class DropIndex(Statement):
    name: QualifiedName
    if_exists: bool = False


# --- user-defined types ----------------------------------------------------------------------------

@node_class
class FieldDefinition(Node):
    name: str
    type: CQLType


@node_class
class CreateType(Statement):
    name: QualifiedName
    fields: tuple[FieldDefinition, ...]
    if_not_exists: bool = False


@node_class
class AlterTypeAdd(Statement):
    """``ALTER TYPE [IF EXISTS] t ADD [IF NOT EXISTS] field type``."""

    name: QualifiedName
    field: FieldDefinition
    if_exists: bool = False
    if_field_not_exists: bool = False


@node_class
class AlterTypeRename(Statement):
    """``ALTER TYPE t RENAME [IF EXISTS] a TO b [AND c TO d]``."""

    name: QualifiedName
    renames: tuple[tuple[str, str], ...]
    if_exists: bool = False
    if_field_exists: bool = False


@node_class
class AlterTypeAlterField(Statement):
    """``ALTER TYPE t ALTER field TYPE type``."""

    name: QualifiedName
    field: str
    type: CQLType
    if_exists: bool = False


@node_class
class DropType(Statement):
    name: QualifiedName
    if_exists: bool = False
