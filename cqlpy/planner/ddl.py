"""Schema statements (CREATE / ALTER / DROP of keyspaces, tables, types, indexes) and USE, as plans.

Planning resolves the keyspace a statement names (``USE``'s keyspace for unqualified names) and
turns the AST into the arguments of one catalog operation; ``DdlPlan.apply(catalog)`` performs it.
Validation is Cassandra's and lives mostly in the catalog (cqlpy.schema.catalog): replication
maps, table options, key rules, name clashes.  What only the statement shape can tell is checked
here: several index targets without CUSTOM, ALTER ... TYPE, DROP COMPACT STORAGE, properties given
twice.  The executor (cqlpy.session.executor) runs ``apply`` and then the storage side effects the
outcome lists: indexes to build or to drop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlpy.errors import InvalidRequest, SyntaxException
from cqlpy.language import ast
from cqlpy.schema.catalog import (
    Catalog, SchemaChange, parse_keyspace_properties, property_values,
)
from cqlpy.schema.model import ASC, DESC, ColumnDef, IndexMetadata, TableMetadata

from .terms import Markers

DDL_STATEMENTS = (
    ast.CreateKeyspace, ast.AlterKeyspace, ast.DropKeyspace, ast.CreateTable, ast.AlterTableAdd,
    ast.AlterTableDrop, ast.AlterTableRename, ast.AlterTableWith, ast.AlterTableAlterType,
    ast.AlterTableDropCompactStorage, ast.DropTable, ast.CreateIndex, ast.DropIndex, ast.CreateType,
    ast.AlterTypeAdd, ast.AlterTypeRename, ast.AlterTypeAlterField, ast.DropType,
)


@dataclass
class DdlOutcome:
    """What a schema statement did: the change (None for a no-op such as IF NOT EXISTS on an
    existing object), and the indexes whose storage must now be built or removed."""

    change: SchemaChange | None
    created_indexes: list[tuple[TableMetadata, IndexMetadata]] = field(default_factory=list)
    dropped_indexes: list[tuple[TableMetadata, IndexMetadata]] = field(default_factory=list)


@dataclass(frozen=True)
class DdlPlan:
    """A planned schema statement; ``keyspace`` is the resolved keyspace it acts in."""

    statement: ast.Statement
    keyspace: str
    kind: str = "ddl"
    markers: Markers = field(default_factory=Markers)

    @property
    def is_schema_change(self) -> bool:
        return True

    def apply(self, catalog: Catalog) -> DdlOutcome:
        handler = _HANDLERS[type(self.statement)]
        return handler(self.statement, self.keyspace, catalog)


@dataclass(frozen=True)
class UsePlan:
    """``USE ks``: the keyspace must exist when the statement runs."""

    keyspace: str
    kind: str = "use"
    markers: Markers = field(default_factory=Markers)

    def check(self, catalog: Catalog) -> str:
        if catalog.get_keyspace(self.keyspace) is None:
            raise InvalidRequest(f"Keyspace '{self.keyspace}' does not exist")
        return self.keyspace


def plan_ddl(statement: ast.Statement, catalog: Catalog, keyspace: str | None) -> DdlPlan:
    """The plan of a schema statement; raises InvalidRequest when no keyspace can be resolved."""
    if isinstance(statement, (ast.CreateKeyspace, ast.AlterKeyspace, ast.DropKeyspace)):
        return DdlPlan(statement, statement.name)
    name = _qualified(statement)
    ks = Catalog.resolve_keyspace(name.keyspace, keyspace)
    if isinstance(statement, ast.CreateTable):
        if statement.compact_storage:
            raise InvalidRequest("Compact tables are not allowed in Cassandra starting with 4.0 version.")
        # options are checked now so a bad property is reported even if the table exists
        property_values(statement.options)
    return DdlPlan(statement, ks)


def plan_use(statement: ast.Use) -> UsePlan:
    return UsePlan(statement.keyspace)


def _qualified(statement: ast.Statement) -> ast.QualifiedName:
    for attr in ("table", "name"):
        value = getattr(statement, attr, None)
        if isinstance(value, ast.QualifiedName):
            return value
    raise InvalidRequest(f"Unsupported schema statement {type(statement).__name__}")


def _types(statement: Any, keyspace: str, catalog: Catalog, columns) -> list[ColumnDef]:
    if catalog.get_keyspace(keyspace) is None:
        raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
    return [ColumnDef(c.name, catalog.parse_type(keyspace, c.type), c.static) for c in columns]


# --- keyspaces -------------------------------------------------------------------------------------

def _create_keyspace(st: ast.CreateKeyspace, ks: str, catalog: Catalog) -> DdlOutcome:
    replication, durable = parse_keyspace_properties(property_values(st.options))
    change = catalog.create_keyspace(st.name, replication, True if durable is None else durable,
                                     if_not_exists=st.if_not_exists)
    return DdlOutcome(change)


def _alter_keyspace(st: ast.AlterKeyspace, ks: str, catalog: Catalog) -> DdlOutcome:
    replication, durable = parse_keyspace_properties(property_values(st.options))
    return DdlOutcome(catalog.alter_keyspace(st.name, replication, durable, if_exists=st.if_exists))


def _drop_keyspace(st: ast.DropKeyspace, ks: str, catalog: Catalog) -> DdlOutcome:
    found = catalog.get_keyspace(st.name)
    dropped = [] if found is None else [(t, i) for t, i in found.indexes().values()]
    change = catalog.drop_keyspace(st.name, if_exists=st.if_exists)
    return DdlOutcome(change, dropped_indexes=dropped if change else [])


# --- tables ----------------------------------------------------------------------------------------

def _create_table(st: ast.CreateTable, ks: str, catalog: Catalog) -> DdlOutcome:
    options = property_values(st.options)
    if catalog.get_keyspace(ks) is None:
        raise InvalidRequest(f"Keyspace '{ks}' doesn't exist")
    if st.if_not_exists and catalog.get_table(ks, st.table.name) is not None:
        return DdlOutcome(None)
    columns = _types(st, ks, catalog, st.columns)
    order = [(o.column, DESC if o.descending else ASC) for o in st.clustering_order]
    change = catalog.create_table(ks, st.table.name, columns, st.partition_key, st.clustering_columns,
                                  order, options, if_not_exists=st.if_not_exists)
    return DdlOutcome(change)


def _alter_table_add(st: ast.AlterTableAdd, ks: str, catalog: Catalog) -> DdlOutcome:
    if st.if_exists and catalog.get_table(ks, st.table.name) is None:
        return DdlOutcome(None)
    columns = _types(st, ks, catalog, st.columns)
    return DdlOutcome(catalog.alter_table(ks, st.table.name, add=columns, if_exists=st.if_exists,
                                          if_column_not_exists=st.if_column_not_exists))


def _alter_table_drop(st: ast.AlterTableDrop, ks: str, catalog: Catalog) -> DdlOutcome:
    timestamp = None
    if st.timestamp is not None:
        if not isinstance(st.timestamp, ast.Constant) or st.timestamp.kind != "integer":
            raise InvalidRequest("USING TIMESTAMP of ALTER TABLE DROP must be an integer literal")
        timestamp = int(st.timestamp.text)
    return DdlOutcome(catalog.alter_table(ks, st.table.name, drop=st.columns, drop_timestamp=timestamp,
                                          if_exists=st.if_exists, if_column_exists=st.if_column_exists))


def _alter_table_rename(st: ast.AlterTableRename, ks: str, catalog: Catalog) -> DdlOutcome:
    rename: dict[str, str] = {}
    for old, new in st.renames:
        if old in rename:
            raise InvalidRequest(f"Cannot rename column {old} twice")
        rename[old] = new
    return DdlOutcome(catalog.alter_table(ks, st.table.name, rename=rename, if_exists=st.if_exists,
                                          if_column_exists=st.if_column_exists))


def _alter_table_with(st: ast.AlterTableWith, ks: str, catalog: Catalog) -> DdlOutcome:
    return DdlOutcome(catalog.alter_table(ks, st.table.name, options=property_values(st.options),
                                          if_exists=st.if_exists))


def _alter_table_type(st: ast.AlterTableAlterType, ks: str, catalog: Catalog) -> DdlOutcome:
    return DdlOutcome(catalog.alter_column_type(ks, st.table.name, st.column, if_exists=st.if_exists))


def _drop_compact_storage(st: ast.AlterTableDropCompactStorage, ks: str, catalog: Catalog) -> DdlOutcome:
    if catalog.get_table(ks, st.table.name) is None:
        if st.if_exists:
            return DdlOutcome(None)
        if catalog.get_keyspace(ks) is None:
            raise InvalidRequest(f"Keyspace '{ks}' doesn't exist")
        raise InvalidRequest(f"Table '{ks}.{st.table.name}' doesn't exist")
    raise InvalidRequest("Cannot DROP COMPACT STORAGE on table without COMPACT STORAGE")


def _drop_table(st: ast.DropTable, ks: str, catalog: Catalog) -> DdlOutcome:
    table = catalog.get_table(ks, st.table.name)
    dropped = [(table, i) for i in table.indexes] if table is not None else []
    change = catalog.drop_table(ks, st.table.name, if_exists=st.if_exists)
    return DdlOutcome(change, dropped_indexes=dropped if change else [])


# --- indexes ---------------------------------------------------------------------------------------

def _create_index(st: ast.CreateIndex, ks: str, catalog: Catalog) -> DdlOutcome:
    if not st.targets:
        raise SyntaxException("CREATE INDEX needs a column to index")
    if len(st.targets) > 1 and not st.custom:
        raise InvalidRequest("Only CUSTOM indexes support multiple columns")
    if st.custom and not st.using:
        raise InvalidRequest("CUSTOM index requires specifying the index class")
    if st.using and not st.custom:
        raise SyntaxException("USING is only valid for CUSTOM indexes (CREATE CUSTOM INDEX ... USING)")
    props = property_values(st.options)
    unknown = [p for p in props if p != "options"]
    if unknown:
        raise SyntaxException(f"Unknown property '{unknown[0]}'")
    index_options = props.get("options")
    if index_options is not None and not isinstance(index_options, dict):
        raise SyntaxException("Invalid value for property 'options'. It should be a map.")
    if index_options and not st.custom:
        raise InvalidRequest("Cannot specify index class for a non-CUSTOM index")
    if len(st.targets) > 1:
        raise InvalidRequest("Indexes on several columns are not supported by cqlpy")
    target = st.targets[0]
    before = catalog.get_table(ks, st.table.name)
    before_names = {i.name for i in before.indexes} if before is not None else set()
    change = catalog.create_index(ks, st.table.name, st.name, target.column,
                                  (target.kind or "simple").lower(), custom_class=st.using,
                                  index_options={str(k): str(v) for k, v in (index_options or {}).items()},
                                  if_not_exists=st.if_not_exists)
    if change is None:
        return DdlOutcome(None)
    table = catalog.table(ks, st.table.name)
    created = [(table, i) for i in table.indexes if i.name not in before_names]
    return DdlOutcome(change, created_indexes=created)


def _drop_index(st: ast.DropIndex, ks: str, catalog: Catalog) -> DdlOutcome:
    found = catalog.find_index(ks, st.name.name)
    change = catalog.drop_index(ks, st.name.name, if_exists=st.if_exists)
    return DdlOutcome(change, dropped_indexes=[found] if change and found else [])


# --- user types ------------------------------------------------------------------------------------

def _create_type(st: ast.CreateType, ks: str, catalog: Catalog) -> DdlOutcome:
    if catalog.get_keyspace(ks) is None:
        raise InvalidRequest(f"Keyspace '{ks}' doesn't exist")
    ksm = catalog.keyspace(ks)
    if st.if_not_exists and st.name.name in ksm.user_types:
        return DdlOutcome(None)
    fields = [(f.name, catalog.parse_type(ks, f.type)) for f in st.fields]
    return DdlOutcome(catalog.create_type(ks, st.name.name, fields, if_not_exists=st.if_not_exists))


def _alter_type_add(st: ast.AlterTypeAdd, ks: str, catalog: Catalog) -> DdlOutcome:
    ksm = catalog.get_keyspace(ks)
    if ksm is None or st.name.name not in ksm.user_types:
        if st.if_exists:
            return DdlOutcome(None)
        if ksm is None:
            raise InvalidRequest(f"Keyspace '{ks}' doesn't exist")
        raise InvalidRequest(f"Type '{ks}.{st.name.name}' doesn't exist")
    field_type = catalog.parse_type(ks, st.field.type)
    return DdlOutcome(catalog.alter_type(ks, st.name.name, add=[(st.field.name, field_type)],
                                         if_exists=st.if_exists,
                                         if_field_not_exists=st.if_field_not_exists))


def _alter_type_rename(st: ast.AlterTypeRename, ks: str, catalog: Catalog) -> DdlOutcome:
    return DdlOutcome(catalog.alter_type(ks, st.name.name, rename=dict(st.renames), if_exists=st.if_exists,
                                         if_field_exists=st.if_field_exists))


def _alter_type_field(st: ast.AlterTypeAlterField, ks: str, catalog: Catalog) -> DdlOutcome:
    ksm = catalog.get_keyspace(ks)
    if (ksm is None or st.name.name not in ksm.user_types) and st.if_exists:
        return DdlOutcome(None)
    catalog.user_type(ks, st.name.name)
    raise InvalidRequest("Alterations of field types are not supported")


def _drop_type(st: ast.DropType, ks: str, catalog: Catalog) -> DdlOutcome:
    return DdlOutcome(catalog.drop_type(ks, st.name.name, if_exists=st.if_exists))


_HANDLERS = {
    ast.CreateKeyspace: _create_keyspace, ast.AlterKeyspace: _alter_keyspace,
    ast.DropKeyspace: _drop_keyspace, ast.CreateTable: _create_table,
    ast.AlterTableAdd: _alter_table_add, ast.AlterTableDrop: _alter_table_drop,
    ast.AlterTableRename: _alter_table_rename, ast.AlterTableWith: _alter_table_with,
    ast.AlterTableAlterType: _alter_table_type, ast.AlterTableDropCompactStorage: _drop_compact_storage,
    ast.DropTable: _drop_table, ast.CreateIndex: _create_index, ast.DropIndex: _drop_index,
    ast.CreateType: _create_type, ast.AlterTypeAdd: _alter_type_add,
    ast.AlterTypeRename: _alter_type_rename, ast.AlterTypeAlterField: _alter_type_field,
    ast.DropType: _drop_type,
}
