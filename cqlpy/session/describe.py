"""DESCRIBE in every form Cassandra 4+ answers on the server, as rows of CQL that runs again.

Listings (DESCRIBE KEYSPACES / TABLES / TYPES / FUNCTIONS / AGGREGATES) answer
``keyspace_name, type, name``; element forms (DESCRIBE [FULL] SCHEMA, KEYSPACE, ONLY KEYSPACE, TABLE,
INDEX, TYPE, MATERIALIZED VIEW, a bare name) add ``create_statement``; DESCRIBE CLUSTER answers
``cluster, partitioner, snitch`` (+ ``range_ownership`` when a keyspace is in use).  The statements
are in Cassandra 4.1/5.0's layout (one column per line, options one per line after ``WITH``), built from
catalog metadata with the language printer's quoting, types and literals, so executing the
output of ``DESCRIBE SCHEMA`` in an empty database recreates the schema and describes the same
again.  ``WITH INTERNALS`` adds the table id and the dropped columns (``ALTER TABLE ... DROP ...
USING TIMESTAMP``).  System keyspaces appear in FULL SCHEMA as comments (they cannot be created).
"""
from __future__ import annotations

from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast
from cqlpy.language.printer import quote_name, string_literal, term
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import IndexMetadata, KeyspaceMetadata, TableMetadata
from cqlpy.schema.system_tables import SYSTEM_KEYSPACES
from cqlpy.schema.types import CQLType, UserType, parse_type

from .system_views import CLUSTER_NAME, PARTITIONER

SNITCH = "org.apache.cassandra.locator.SimpleSnitch"
TEXT = parse_type("text")
LISTING_COLUMNS = [("keyspace_name", TEXT), ("type", TEXT), ("name", TEXT)]
ELEMENT_COLUMNS = LISTING_COLUMNS + [("create_statement", TEXT)]

# The order Cassandra 4.1 prints table options in.
TABLE_OPTION_ORDER = (
    "additional_write_policy", "allow_auto_snapshot", "bloom_filter_fp_chance", "caching", "cdc",
    "comment", "compaction", "compression", "memtable", "crc_check_chance", "default_time_to_live",
    "extensions", "gc_grace_seconds", "incremental_backups", "max_index_interval",
    "memtable_flush_period_in_ms", "min_index_interval", "read_repair", "speculative_retry",
)

Row = tuple


def describe(statement: ast.Describe, catalog: Catalog, keyspace: str | None) -> tuple[list, list[Row]]:
    """(columns as (name, type) pairs, rows) answering ``statement``."""
    target, name = statement.target, statement.name
    internals = statement.with_internals
    if target == "CLUSTER":
        return _cluster(catalog, keyspace)
    if target in ("KEYSPACES", "TABLES", "TYPES", "FUNCTIONS", "AGGREGATES"):
        return LISTING_COLUMNS, _listing(target, catalog, keyspace)
    if target in ("SCHEMA", "FULL SCHEMA"):
        rows: list[Row] = []
        for ks_name in _keyspace_order(catalog, full=target == "FULL SCHEMA"):
            rows.extend(keyspace_rows(catalog.keyspace(ks_name), internals))
        return ELEMENT_COLUMNS, rows
    if target in ("KEYSPACE", "ONLY KEYSPACE"):
        ks_name = name.name if name is not None else _current(keyspace)
        ks = catalog.get_keyspace(ks_name)
        if ks is None:
            raise InvalidRequest(f"'{ks_name}' not found in keyspaces")
        if target == "ONLY KEYSPACE":
            return ELEMENT_COLUMNS, [_keyspace_row(ks)]
        return ELEMENT_COLUMNS, keyspace_rows(ks, internals)
    if target == "TABLE":
        ks, table = _table(catalog, name, keyspace)
        return ELEMENT_COLUMNS, _table_rows(ks, table, internals)
    if target == "INDEX":
        ks = _keyspace_of(catalog, name, keyspace)
        found = ks.indexes().get(name.name)
        if found is None:
            raise InvalidRequest(f"Index '{name.name}' not found in '{ks.name}'")
        return ELEMENT_COLUMNS, [_index_row(ks, *found)]
    if target == "TYPE":
        ks = _keyspace_of(catalog, name, keyspace)
        udt = ks.user_types.get(name.name)
        if udt is None:
            raise InvalidRequest(f"User defined type '{name.name}' not found in '{ks.name}'")
        return ELEMENT_COLUMNS, [_type_row(ks, udt)]
    if target == "MATERIALIZED VIEW":
        ks = _keyspace_of(catalog, name, keyspace)
        raise InvalidRequest(f"Materialized view '{name.name}' not found in '{ks.name}'")
    if target in ("FUNCTION", "AGGREGATE"):
        ks = _keyspace_of(catalog, name, keyspace)
        what = "User defined function" if target == "FUNCTION" else "User defined aggregate"
        raise InvalidRequest(f"{what} '{name.name}' not found in '{ks.name}'")
    if target == "NAME":
        return ELEMENT_COLUMNS, _by_name(catalog, name, keyspace, internals)
    raise InvalidRequest(f"Unsupported DESCRIBE {target}")


# --- lookups ---------------------------------------------------------------------------------------

def _current(keyspace: str | None) -> str:
    if not keyspace:
        raise InvalidRequest("No keyspace specified and no current keyspace")
    return keyspace


def _keyspace_of(catalog: Catalog, name: ast.QualifiedName | None, keyspace: str | None) -> KeyspaceMetadata:
    ks_name = name.keyspace if name is not None and name.keyspace else _current(keyspace)
    ks = catalog.get_keyspace(ks_name)
    if ks is None:
        raise InvalidRequest(f"'{ks_name}' not found in keyspaces")
    return ks


def _table(catalog: Catalog, name: ast.QualifiedName, keyspace: str | None):
    ks = _keyspace_of(catalog, name, keyspace)
    table = ks.tables.get(name.name)
    if table is None:
        raise InvalidRequest(f"Table '{name.name}' not found in keyspace '{ks.name}'")
    return ks, table


def _by_name(catalog: Catalog, name: ast.QualifiedName, keyspace: str | None, internals: bool) -> list[Row]:
    if name.keyspace is None:
        ks = catalog.get_keyspace(name.name)
        if ks is not None:
            return keyspace_rows(ks, internals)
        if not keyspace:
            raise InvalidRequest(f"'{name.name}' not found in keyspaces")
    ks = _keyspace_of(catalog, name, keyspace)
    if name.name in ks.tables:
        return _table_rows(ks, ks.tables[name.name], internals)
    found = ks.indexes().get(name.name)
    if found is not None:
        return [_index_row(ks, *found)]
    if name.name in ks.user_types:
        return [_type_row(ks, ks.user_types[name.name])]
    raise InvalidRequest(f"'{name.name}' not found in keyspace '{ks.name}'")


def _keyspace_order(catalog: Catalog, full: bool) -> list[str]:
    names = sorted(catalog.keyspaces)
    user = [n for n in names if n not in SYSTEM_KEYSPACES]
    system = [n for n in names if n in SYSTEM_KEYSPACES]
    return (system + user) if full else user


# --- listings and cluster --------------------------------------------------------------------------

def _listing(target: str, catalog: Catalog, keyspace: str | None) -> list[Row]:
    if target == "KEYSPACES":
        return [(n, "keyspace", n) for n in sorted(catalog.keyspaces)]
    names = [keyspace] if keyspace else sorted(catalog.keyspaces)
    rows: list[Row] = []
    for ks_name in names:
        ks = catalog.get_keyspace(ks_name)
        if ks is None:
            continue
        if target == "TABLES":
            rows.extend((ks.name, "table", t) for t in sorted(ks.tables))
        elif target == "TYPES":
            rows.extend((ks.name, "type", t) for t in sorted(ks.user_types))
    return rows


def _cluster(catalog: Catalog, keyspace: str | None) -> tuple[list, list[Row]]:
    columns = [("cluster", TEXT), ("partitioner", TEXT), ("snitch", TEXT)]
    row: tuple = (CLUSTER_NAME, PARTITIONER, SNITCH)
    if keyspace:
        columns.append(("range_ownership", parse_type("map<text, frozen<list<text>>>")))
        row = row + ({},)
    return columns, [row]


# --- create statements -----------------------------------------------------------------------------

def keyspace_rows(ks: KeyspaceMetadata, internals: bool = False) -> list[Row]:
    """The keyspace, then its types (dependencies first), then each table with its indexes."""
    rows = [_keyspace_row(ks)]
    for udt in _types_in_dependency_order(ks):
        rows.append(_type_row(ks, udt))
    for name in sorted(ks.tables):
        rows.extend(_table_rows(ks, ks.tables[name], internals))
    return rows


def _system_comment(ks: KeyspaceMetadata, text: str) -> str:
    if ks.name not in SYSTEM_KEYSPACES:
        return text
    return (f"/*\nWarning: {ks.name} is a system keyspace and cannot be recreated; "
            f"its definition is shown for information only.\n{text.replace('*/', '* /')}\n*/")


def _keyspace_row(ks: KeyspaceMetadata) -> Row:
    replication = "{" + ", ".join(f"{string_literal(k)}: {string_literal(v)}"
                                  for k, v in ks.replication.items()) + "}"
    text = (f"CREATE KEYSPACE {quote_name(ks.name)} WITH replication = {replication}  "
            f"AND durable_writes = {'true' if ks.durable_writes else 'false'};")
    return (ks.name, "keyspace", ks.name, _system_comment(ks, text))


def _types_in_dependency_order(ks: KeyspaceMetadata) -> list[UserType]:
    done: list[UserType] = []
    seen: set[str] = set()

    def visit(udt: UserType) -> None:
        if udt.name in seen:
            return
        seen.add(udt.name)
        for field_type in udt.field_types:
            for dep in field_type.referenced_user_types():
                if dep.name != udt.name and dep.name in ks.user_types:
                    visit(ks.user_types[dep.name])
        done.append(udt)

    for name in sorted(ks.user_types):
        visit(ks.user_types[name])
    return done


def _type_row(ks: KeyspaceMetadata, udt: UserType) -> Row:
    fields = ",\n".join(f"    {quote_name(f)} {type_text(t)}" for f, t in zip(udt.field_names, udt.field_types))
    text = f"CREATE TYPE {quote_name(ks.name)}.{quote_name(udt.name, 'type_ident')} (\n{fields}\n);"
    return (ks.name, "type", udt.name, _system_comment(ks, text))


def type_text(t: CQLType) -> str:
    """A column or field type as CQL (user types unqualified, as DESCRIBE prints them)."""
    return t.cql_name


def _table_rows(ks: KeyspaceMetadata, table: TableMetadata, internals: bool) -> list[Row]:
    rows = [(ks.name, "table", table.name, _system_comment(ks, table_statement(table, internals)))]
    for index in sorted(table.indexes, key=lambda i: i.name):
        rows.append(_index_row(ks, table, index))
    return rows


def table_statement(table: TableMetadata, internals: bool = False) -> str:
    """CREATE TABLE as Cassandra 4.1's DESCRIBE prints it."""
    name = f"{quote_name(table.keyspace)}.{quote_name(table.name)}"
    pk, ck = table.partition_key, table.clustering
    inline_key = len(pk) == 1 and not ck
    lines = []
    columns = list(pk) + list(ck) + list(table.static_columns) + list(table.regular_columns)
    dropped = list(table.dropped_columns) if internals else []
    existing = {c.name for c in columns}
    for c in columns:
        line = f"    {quote_name(c.name)} {type_text(c.type)}"
        if c.is_static:
            line += " static"
        if inline_key and c.is_partition_key:
            line += " PRIMARY KEY"
        lines.append(line)
    for d in sorted(dropped, key=lambda d: d.name):
        if d.name not in existing:
            lines.append(f"    {quote_name(d.name)} {type_text(d.type)}"
                         + (" static" if d.kind == "static" else ""))
    if not inline_key:
        parts = ", ".join(quote_name(c.name) for c in pk)
        key = f"({parts})" if len(pk) > 1 else parts
        rest = "".join(", " + quote_name(c.name) for c in ck)
        lines.append(f"    PRIMARY KEY ({key}{rest})")
    options = []
    if internals:
        options.append(f"ID = {table.id}")
    if ck:
        order = ", ".join(f"{quote_name(c.name)} {'DESC' if c.is_reversed else 'ASC'}" for c in ck)
        options.append(f"CLUSTERING ORDER BY ({order})")
    row = table.options.as_row()
    for option in TABLE_OPTION_ORDER:
        if option in row:
            options.append(f"{option} = {_option_literal(row[option])}")
    text = f"CREATE TABLE {name} (\n" + ",\n".join(lines) + "\n) WITH " + "\n    AND ".join(options) + ";"
    for d in sorted(dropped, key=lambda d: d.name):
        if d.name not in existing:
            text += f"\nALTER TABLE {name} DROP {quote_name(d.name)} USING TIMESTAMP {d.dropped_time};"
    return text


def _option_literal(value: Any) -> str:
    """An option value as CQL, through the printer (strings quoted, maps, numbers, booleans)."""
    return term(_option_term(value))


def _option_term(value: Any) -> Any:
    if isinstance(value, bool):
        return ast.Constant("boolean", "true" if value else "false")
    if isinstance(value, int):
        return ast.Constant("integer", str(value))
    if isinstance(value, float):
        return ast.Constant("float", repr(value))
    if isinstance(value, (bytes, bytearray)):
        return ast.Constant("hex", "0x" + bytes(value).hex())
    if isinstance(value, dict):
        return ast.MapLiteral(tuple((_option_term(str(k)), _option_term(v)) for k, v in value.items()))
    return ast.Constant("string", str(value))


def _index_row(ks: KeyspaceMetadata, table: TableMetadata, index: IndexMetadata) -> Row:
    return (ks.name, "index", index.name, index_statement(table, index))


def index_statement(table: TableMetadata, index: IndexMetadata) -> str:
    """CREATE [CUSTOM] INDEX as Cassandra prints it: the stored target text (``v``, ``keys(m)``,
    ``values(l)``, ``full(f)``), the class and the other options of a custom index."""
    target = index.options.get("target", "")
    head = (f"CREATE {'CUSTOM ' if index.is_custom else ''}INDEX {quote_name(index.name)} ON "
            f"{quote_name(table.keyspace)}.{quote_name(table.name)} ({target})")
    if index.is_custom:
        head += f" USING {string_literal(index.options.get('class_name', ''))}"
        options = {k: v for k, v in index.options.items() if k not in ("target", "class_name")}
        if options:
            head += f" WITH OPTIONS = {_option_literal(options)}"
    return head + ";"
