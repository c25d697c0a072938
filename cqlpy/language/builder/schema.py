"""AST-builder callbacks for keyspaces, tables, indexes and user types."""
from __future__ import annotations

from typing import Callable, NamedTuple

from ...errors import InvalidRequest
from ..ast import (INDEX_ENTRIES, INDEX_FULL, INDEX_KEYS, INDEX_VALUES, AlterKeyspace, AlterTableAdd,
                   AlterTableAlterType, AlterTableDrop, AlterTableDropCompactStorage, AlterTableRename,
                   AlterTableWith, AlterTypeAdd, AlterTypeAlterField, AlterTypeRename, ColumnDefinition,
                   CreateIndex, CreateKeyspace, CreateTable, CreateType, DropIndex, DropKeyspace,
                   DropTable, DropType, FieldDefinition, IndexTarget, MapLiteral, Property, Span)
from .core import fail, rule


# --- properties (WITH name = value AND ...) ------------------------------------------------------

def check_unique_properties(properties):
    seen = set()
    for prop in properties:
        if prop.name in seen:
            raise fail(f"Multiple definition for property '{prop.name}'", prop.span)
        seen.add(prop.name)
    return tuple(properties)


@rule()
def properties(span, *items):
    return check_unique_properties(items)


@rule()
def property(span, name, value):
    return Property(name, value, span=span)


@rule()
def property_map(span, *keys_and_values):
    entries = tuple(zip(keys_and_values[0::2], keys_and_values[1::2]))
    seen = set()
    for key, _ in entries:
        if key.text in seen:
            raise fail(f"Multiple definition for property '{key.text}'", key.span)
        seen.add(key.text)
    return MapLiteral(entries, span=span)


# --- keyspaces -----------------------------------------------------------------------------------

@rule()
def create_keyspace_statement(span, if_not_exists, name, options):
    return CreateKeyspace(name, options, bool(if_not_exists), span=span)


@rule()
def alter_keyspace_statement(span, if_exists, name, options):
    return AlterKeyspace(name, options, bool(if_exists), span=span)


@rule()
def drop_keyspace_statement(span, if_exists, name):
    return DropKeyspace(name, bool(if_exists), span=span)


# --- CREATE TABLE --------------------------------------------------------------------------------

class _Column(NamedTuple):
    definition: ColumnDefinition
    primary_key: bool
    span: Span | None


class _PrimaryKey(NamedTuple):
    partition_key: tuple[str, ...]
    clustering_columns: tuple[str, ...]
    span: Span | None


class _ClusteringOrder(NamedTuple):
    orderings: tuple
    span: Span | None


class _TableOptions(NamedTuple):
    properties: tuple
    clustering_order: tuple
    compact_storage: bool
    span: Span | None


@rule()
def column_definition(span, name, cql_type, static, primary_key):
    return _Column(ColumnDefinition(name, cql_type, bool(static), span=span), bool(primary_key), span)


@rule()
def primary_key_definition(span, partition_key, *clustering_columns):
    return _PrimaryKey(partition_key, clustering_columns, span)


@rule()
def create_table_statement(span, if_not_exists, table, *rest):
    *elements, options = rest
    columns, keys = [], []
    for element in elements:
        if isinstance(element, _Column):
            columns.append(element.definition)
            if element.primary_key:
                keys.append(((element.definition.name,), ()))
        else:
            keys.append((element.partition_key, element.clustering_columns))
    table_name = table.name if table.keyspace is None else f"{table.keyspace}.{table.name}"
    if len(keys) > 1:
        raise InvalidRequest(f"Multiple PRIMARY KEY specified for table '{table_name}', only one is allowed")
    seen = set()
    for column in columns:
        if column.name in seen:
            raise InvalidRequest(f"Duplicate column '{column.name}' declaration for table {table_name}")
        seen.add(column.name)
    partition_key, clustering_columns = keys[0] if keys else ((), ())
    options = options or _TableOptions((), (), False, None)
    ordered = set()
    for ordering in options.clustering_order:
        if ordering.column in ordered:
            raise InvalidRequest(f"Duplicate column '{ordering.column}' in CLUSTERING ORDER BY clause")
        ordered.add(ordering.column)
    return CreateTable(table, tuple(columns), partition_key, clustering_columns,
                       options.clustering_order, options.properties, bool(if_not_exists),
                       options.compact_storage, span=span)


@rule()
def table_options(span, *options):
    properties, clustering_order, compact_storage = [], (), False
    for option in options:
        if isinstance(option, Property):
            properties.append(option)
        elif isinstance(option, _ClusteringOrder):
            clustering_order += option.orderings
        else:
            compact_storage = True
    return _TableOptions(check_unique_properties(properties), clustering_order, compact_storage, span)


@rule()
def clustering_order_option(span, *orderings):
    return _ClusteringOrder(orderings, span)


@rule()
def compact_storage_option(span):
    return "COMPACT STORAGE"


# --- ALTER / DROP TABLE --------------------------------------------------------------------------
# The instruction callbacks return an _Instruction whose ``build(name, if_exists, span)`` makes the
# statement once the table (or type) name is known.

class _Instruction(NamedTuple):
    build: Callable
    span: Span | None


def instruction(fn):
    """Wrap ``fn(span, *children) -> build`` so that it returns an _Instruction."""
    def wrapped(span, *children):
        return _Instruction(fn(span, *children), span)
    wrapped.__name__ = fn.__name__
    return wrapped


@rule()
def alter_table_statement(span, if_exists, table, instruction):
    return instruction.build(table, bool(if_exists), span)


@rule()
@instruction
def alter_table_add(span, if_column_not_exists, *columns):
    return lambda table, if_exists, span: AlterTableAdd(
        table, columns, if_exists, bool(if_column_not_exists), span=span)


@rule()
def added_column(span, name, cql_type, static):
    return ColumnDefinition(name, cql_type, bool(static), span=span)


@rule()
@instruction
def alter_table_drop(span, if_column_exists, *names_and_timestamp):
    *names, timestamp = names_and_timestamp
    return lambda table, if_exists, span: AlterTableDrop(
        table, tuple(names), if_exists, bool(if_column_exists), timestamp, span=span)


@rule()
def drop_timestamp(span, value):
    return value


@rule()
@instruction
def alter_table_rename(span, if_column_exists, *names):
    renames = tuple(zip(names[0::2], names[1::2]))
    return lambda table, if_exists, span: AlterTableRename(
        table, renames, if_exists, bool(if_column_exists), span=span)


@rule()
@instruction
def alter_table_with(span, options):
    return lambda table, if_exists, span: AlterTableWith(table, options, if_exists, span=span)


@rule()
@instruction
def alter_table_alter_type(span, column, cql_type):
    return lambda table, if_exists, span: AlterTableAlterType(table, column, cql_type, if_exists, span=span)


@rule()
@instruction
def alter_table_drop_compact_storage(span):
    return lambda table, if_exists, span: AlterTableDropCompactStorage(table, if_exists, span=span)


@rule()
def drop_table_statement(span, if_exists, table):
    return DropTable(table, bool(if_exists), span=span)


# --- indexes -------------------------------------------------------------------------------------

@rule()
def create_index_statement(span, custom, if_not_exists, name, table, targets, using, options):
    return CreateIndex(table, targets, name, bool(custom), using, options or (), bool(if_not_exists),
                       span=span)


def _index_target(kind):
    def build(span, column):
        return IndexTarget(column, kind, span=span)
    return build


rule("index_on_values")(_index_target(None))
rule("index_on_collection_values")(_index_target(INDEX_VALUES))
rule("index_on_keys")(_index_target(INDEX_KEYS))
rule("index_on_entries")(_index_target(INDEX_ENTRIES))
rule("index_on_full")(_index_target(INDEX_FULL))


@rule()
def index_class(span, name):
    return name.text


@rule()
def index_options(span, options):
    return options


@rule()
def drop_index_statement(span, if_exists, name):
    return DropIndex(name, bool(if_exists), span=span)


# --- user types ----------------------------------------------------------------------------------

@rule()
def create_type_statement(span, if_not_exists, name, *fields):
    return CreateType(name, fields, bool(if_not_exists), span=span)


@rule()
def field_definition(span, name, cql_type):
    return FieldDefinition(name, cql_type, span=span)


@rule()
def alter_type_statement(span, if_exists, name, instruction):
    return instruction.build(name, bool(if_exists), span)


@rule()
@instruction
def alter_type_add(span, if_field_not_exists, field, cql_type):
    definition = FieldDefinition(field, cql_type, span=span)
    return lambda name, if_exists, span: AlterTypeAdd(
        name, definition, if_exists, bool(if_field_not_exists), span=span)


@rule()
@instruction
def alter_type_rename(span, if_field_exists, *names):
    renames = tuple(zip(names[0::2], names[1::2]))
    return lambda name, if_exists, span: AlterTypeRename(
        name, renames, if_exists, bool(if_field_exists), span=span)


@rule()
@instruction
def alter_type_alter(span, field, cql_type):
    return lambda name, if_exists, span: AlterTypeAlterField(name, field, cql_type, if_exists, span=span)


@rule()
def drop_type_statement(span, if_exists, name):
    return DropType(name, bool(if_exists), span=span)
