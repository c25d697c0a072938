"""The system keyspaces (system, system_schema, system_auth, system_traces) and the system_schema row layout.

Part 1 -- the built-in keyspaces with Cassandra 5.0's tables and columns.

Table ids are Cassandra's: ``TableId.forSystemTable`` is ``UUID.nameUUIDFromBytes(keyspace + table)``,
an MD5 (version 3) uuid of the two names' bytes, so ``system.local`` is
7ad54392-bcdd-35a6-8417-4e047860b377 here as in Cassandra.  The definitions are written as data
(column name, CQL type text) and turned into ``TableMetadata`` once, on first use.

Part 2 -- metadata <-> ``system_schema`` rows: ``keyspace_rows`` gives the rows Cassandra 4/5 stores
for a keyspace (type strings such as ``frozen<map<text, text>>``, clustering_order
'asc'/'desc'/'none', position -1 for regular/static, flags {'compound'}, column_name_bytes), as plain
dicts of Python values (the codec's values: str, bool, int, float, uuid.UUID, bytes, set, list,
dict, naive UTC datetime); ``rows_to_keyspaces`` inverts it; ``schema_digest`` is the version uuid.
"""
from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache
from typing import Any, Iterable, Mapping

from cqlpy.errors import InvalidRequest, ServerError
from cqlpy.schema import types as _types
from cqlpy.schema.model import (
    ASC, CLUSTERING, DESC, LOCAL_STRATEGY, NONE, PARTITION_KEY, REGULAR, SIMPLE_STRATEGY, STATIC,
    ColumnMetadata, DroppedColumn, IndexMetadata, KeyspaceMetadata, TableMetadata, TableOptions,
    parse_type_name,
)
from cqlpy.schema.types import CQLType, UserType
from cqlpy.schema.values import datetime_from_millis, millis_from_datetime

SYSTEM = "system"
SYSTEM_SCHEMA = "system_schema"
SYSTEM_AUTH = "system_auth"
SYSTEM_TRACES = "system_traces"

LOCAL_SYSTEM_KEYSPACES = frozenset({SYSTEM, SYSTEM_SCHEMA})
"""Keyspaces no user may change at all (Unauthorized), stored on each node only."""
REPLICATED_SYSTEM_KEYSPACES = frozenset({SYSTEM_AUTH, SYSTEM_TRACES})
"""System keyspaces whose replication a user may ALTER, and nothing else."""
SYSTEM_KEYSPACES = LOCAL_SYSTEM_KEYSPACES | REPLICATED_SYSTEM_KEYSPACES

SCHEMA_TABLES = ("keyspaces", "tables", "columns", "column_masks", "dropped_columns", "triggers",
                 "views", "types", "functions", "aggregates", "indexes")
"""The system_schema tables, in Cassandra's order."""


def system_table_id(keyspace: str, table: str) -> uuid.UUID:
    """Cassandra's ``TableId.forSystemTable``: MD5 name uuid (version 3) of keyspace + table bytes."""
    return uuid.UUID(bytes=hashlib.md5((keyspace + table).encode("utf-8")).digest(), version=3)


def is_system_keyspace(name: str) -> bool:
    return name in SYSTEM_KEYSPACES


# Each definition: (columns as (name, cql type[, 'static']), partition key, clustering as (name, order),
#                   comment, option overrides).
_TableDef = tuple[list[tuple[str, ...]], list[str], list[tuple[str, str]], str, dict]

_VIEW_OPTION_COLUMNS = [
    ("allow_auto_snapshot", "boolean"), ("bloom_filter_fp_chance", "double"),
    ("caching", "frozen<map<text, text>>"), ("comment", "text"),
    ("compaction", "frozen<map<text, text>>"), ("compression", "frozen<map<text, text>>"),
    ("memtable", "text"), ("crc_check_chance", "double"), ("dclocal_read_repair_chance", "double"),
    ("default_time_to_live", "int"), ("extensions", "frozen<map<text, blob>>"),
    ("gc_grace_seconds", "int"), ("incremental_backups", "boolean"), ("id", "uuid"),
    ("max_index_interval", "int"), ("memtable_flush_period_in_ms", "int"),
    ("min_index_interval", "int"), ("read_repair_chance", "double"), ("speculative_retry", "text"),
    ("additional_write_policy", "text"), ("cdc", "boolean"), ("read_repair", "text"),
]

_SCHEMA_OPTS = {"gc_grace_seconds": 7 * 86400, "memtable_flush_period_in_ms": 3600 * 1000}
_SYSTEM_OPTS = {"gc_grace_seconds": 0, "memtable_flush_period_in_ms": 3600 * 1000}

_DEFINITIONS: dict[str, dict[str, _TableDef]] = {
    SYSTEM_SCHEMA: {
        "keyspaces": ([("keyspace_name", "text"), ("durable_writes", "boolean"),
                       ("replication", "frozen<map<text, text>>")],
                      ["keyspace_name"], [], "keyspace definitions", _SCHEMA_OPTS),
        "tables": ([("keyspace_name", "text"), ("table_name", "text"), ("flags", "frozen<set<text>>")]
                   + _VIEW_OPTION_COLUMNS,
                   ["keyspace_name"], [("table_name", ASC)], "table definitions", _SCHEMA_OPTS),
        "columns": ([("keyspace_name", "text"), ("table_name", "text"), ("column_name", "text"),
                     ("clustering_order", "text"), ("column_name_bytes", "blob"), ("kind", "text"),
                     ("position", "int"), ("type", "text")],
                    ["keyspace_name"], [("table_name", ASC), ("column_name", ASC)],
                    "column definitions", _SCHEMA_OPTS),
        "column_masks": ([("keyspace_name", "text"), ("table_name", "text"), ("column_name", "text"),
                          ("function_keyspace", "text"), ("function_name", "text"),
                          ("function_argument_types", "frozen<list<text>>"),
                          ("function_argument_values", "frozen<list<text>>"),
                          ("function_argument_nulls", "frozen<list<boolean>>")],
                         ["keyspace_name"], [("table_name", ASC), ("column_name", ASC)],
                         "column dynamic data masks", _SCHEMA_OPTS),
        "dropped_columns": ([("keyspace_name", "text"), ("table_name", "text"),
                             ("column_name", "text"), ("dropped_time", "timestamp"),
                             ("kind", "text"), ("type", "text")],
                            ["keyspace_name"], [("table_name", ASC), ("column_name", ASC)],
                            "dropped column registry", _SCHEMA_OPTS),
        "triggers": ([("keyspace_name", "text"), ("table_name", "text"), ("trigger_name", "text"),
                      ("options", "frozen<map<text, text>>")],
                     ["keyspace_name"], [("table_name", ASC), ("trigger_name", ASC)],
                     "trigger definitions", _SCHEMA_OPTS),
        "views": ([("keyspace_name", "text"), ("view_name", "text"), ("base_table_id", "uuid"),
                   ("base_table_name", "text"), ("where_clause", "text"),
                   ("include_all_columns", "boolean")] + _VIEW_OPTION_COLUMNS,
                  ["keyspace_name"], [("view_name", ASC)], "view definitions", _SCHEMA_OPTS),
        "types": ([("keyspace_name", "text"), ("type_name", "text"),
                   ("field_names", "frozen<list<text>>"), ("field_types", "frozen<list<text>>")],
                  ["keyspace_name"], [("type_name", ASC)], "user defined type definitions",
                  _SCHEMA_OPTS),
        "functions": ([("keyspace_name", "text"), ("function_name", "text"),
                       ("argument_types", "frozen<list<text>>"),
                       ("argument_names", "frozen<list<text>>"), ("body", "text"),
                       ("language", "text"), ("return_type", "text"),
                       ("called_on_null_input", "boolean")],
                      ["keyspace_name"], [("function_name", ASC), ("argument_types", ASC)],
                      "user defined function definitions", _SCHEMA_OPTS),
        "aggregates": ([("keyspace_name", "text"), ("aggregate_name", "text"),
                        ("argument_types", "frozen<list<text>>"), ("final_func", "text"),
                        ("initcond", "text"), ("return_type", "text"), ("state_func", "text"),
                        ("state_type", "text")],
                       ["keyspace_name"], [("aggregate_name", ASC), ("argument_types", ASC)],
                       "user defined aggregate definitions", _SCHEMA_OPTS),
        "indexes": ([("keyspace_name", "text"), ("table_name", "text"), ("index_name", "text"),
                     ("kind", "text"), ("options", "frozen<map<text, text>>")],
                    ["keyspace_name"], [("table_name", ASC), ("index_name", ASC)],
                    "secondary index definitions", _SCHEMA_OPTS),
    },
    SYSTEM: {
        "batches": ([("id", "timeuuid"), ("mutations", "list<blob>"), ("version", "int")],
                    ["id"], [], "batches awaiting replay", _SYSTEM_OPTS),
        "local": ([("key", "text"), ("bootstrapped", "text"), ("broadcast_address", "inet"),
                   ("broadcast_port", "int"), ("cluster_name", "text"), ("cql_version", "text"),
                   ("data_center", "text"), ("gossip_generation", "int"), ("host_id", "uuid"),
                   ("listen_address", "inet"), ("listen_port", "int"),
                   ("native_protocol_version", "text"), ("partitioner", "text"), ("rack", "text"),
                   ("release_version", "text"), ("rpc_address", "inet"), ("rpc_port", "int"),
                   ("schema_version", "uuid"), ("tokens", "set<text>"),
                   ("truncated_at", "map<uuid, blob>")],
                  ["key"], [], "information about the local node", _SYSTEM_OPTS),
        "peers": ([("peer", "inet"), ("data_center", "text"), ("host_id", "uuid"),
                   ("preferred_ip", "inet"), ("rack", "text"), ("release_version", "text"),
                   ("rpc_address", "inet"), ("schema_version", "uuid"), ("tokens", "set<text>")],
                  ["peer"], [], "information about known peers in the cluster", _SYSTEM_OPTS),
        "peers_v2": ([("peer", "inet"), ("peer_port", "int"), ("data_center", "text"),
                      ("host_id", "uuid"), ("preferred_ip", "inet"), ("preferred_port", "int"),
                      ("rack", "text"), ("release_version", "text"), ("native_address", "inet"),
                      ("native_port", "int"), ("schema_version", "uuid"), ("tokens", "set<text>")],
                     ["peer"], [("peer_port", ASC)], "information about known peers in the cluster",
                     _SYSTEM_OPTS),
    },
    SYSTEM_AUTH: {
        "roles": ([("role", "text"), ("can_login", "boolean"), ("is_superuser", "boolean"),
                   ("member_of", "set<text>"), ("salted_hash", "text")],
                  ["role"], [], "role definitions", {"gc_grace_seconds": 90 * 86400}),
        "role_members": ([("role", "text"), ("member", "text")], ["role"], [("member", ASC)],
                         "role memberships lookup table", {"gc_grace_seconds": 90 * 86400}),
        "role_permissions": ([("role", "text"), ("resource", "text"),
                              ("permissions", "set<text>")],
                             ["role"], [("resource", ASC)], "permissions granted to db roles",
                             {"gc_grace_seconds": 90 * 86400}),
        "resource_role_permissons_index": ([("resource", "text"), ("role", "text")],
                                           ["resource"], [("role", ASC)],
                                           "index of db roles with permissions granted on a resource",
                                           {"gc_grace_seconds": 90 * 86400}),
        "network_permissions": ([("role", "text"), ("dcs", "frozen<set<text>>")], ["role"], [],
                                "user network permissions", {"gc_grace_seconds": 90 * 86400}),
    },
    SYSTEM_TRACES: {
        "sessions": ([("session_id", "uuid"), ("client", "inet"), ("command", "text"),
                      ("coordinator", "inet"), ("coordinator_port", "int"), ("duration", "int"),
                      ("parameters", "map<text, text>"), ("request", "text"),
                      ("started_at", "timestamp")],
                     ["session_id"], [], "tracing sessions", {"default_time_to_live": 86400}),
        "events": ([("session_id", "uuid"), ("event_id", "timeuuid"), ("activity", "text"),
                    ("source", "inet"), ("source_elapsed", "int"), ("source_port", "int"),
                    ("thread", "text")],
                   ["session_id"], [("event_id", ASC)], "tracing events",
                   {"default_time_to_live": 86400}),
    },
}

_REPLICATION = {
    SYSTEM: {"class": LOCAL_STRATEGY},
    SYSTEM_SCHEMA: {"class": LOCAL_STRATEGY},
    SYSTEM_AUTH: {"class": SIMPLE_STRATEGY, "replication_factor": "1"},
    SYSTEM_TRACES: {"class": SIMPLE_STRATEGY, "replication_factor": "2"},
}


def _build_table(keyspace: str, name: str, definition: _TableDef) -> TableMetadata:
    columns_def, pk, ck, comment, overrides = definition
    types = {c[0]: c[1] for c in columns_def}
    statics = {c[0] for c in columns_def if len(c) > 2 and c[2] == STATIC}
    columns = []
    for i, col in enumerate(pk):
        columns.append(ColumnMetadata(col, parse_type_name(types[col]), PARTITION_KEY, i))
    for i, (col, order) in enumerate(ck):
        columns.append(ColumnMetadata(col, parse_type_name(types[col]), CLUSTERING, i,
                                      DESC if order == DESC else ASC))
    keys = set(pk) | {c for c, _ in ck}
    for col, text, *_ in columns_def:
        if col not in keys:
            columns.append(ColumnMetadata(col, parse_type_name(text),
                                          STATIC if col in statics else REGULAR, -1, NONE))
    options = TableOptions(comment=comment, **overrides)
    return TableMetadata(keyspace, name, system_table_id(keyspace, name), tuple(columns), options)


@lru_cache(maxsize=None)
def _system_keyspaces() -> tuple[KeyspaceMetadata, ...]:
    result = []
    for ks in (SYSTEM, SYSTEM_SCHEMA, SYSTEM_AUTH, SYSTEM_TRACES):
        tables = {name: _build_table(ks, name, d) for name, d in _DEFINITIONS[ks].items()}
        result.append(KeyspaceMetadata(ks, dict(_REPLICATION[ks]), True, tables, {}))
    return tuple(result)


def system_keyspaces() -> dict[str, KeyspaceMetadata]:
    """The built-in keyspaces by name (fresh dict; the metadata objects are immutable)."""
    return {k.name: k for k in _system_keyspaces()}


def system_table(keyspace: str, table: str) -> TableMetadata:
    """One built-in table, e.g. ``system_table('system_schema', 'columns')``."""
    return system_keyspaces()[keyspace].tables[table]


# --- metadata <-> system_schema rows --------------------------------------------------------------

def expand_user_types(t: CQLType) -> CQLType:
    """``t`` with every user type replaced by a frozen tuple of its fields: how Cassandra records
    the type of a dropped column, which must outlive the user type."""
    if isinstance(t, UserType):
        return _types.TupleType(tuple(expand_user_types(f).freeze() for f in t.field_types))
    if isinstance(t, _types.ListType):
        return _types.ListType(expand_user_types(t.element), t.frozen)
    if isinstance(t, _types.SetType):
        return _types.SetType(expand_user_types(t.element), t.frozen)
    if isinstance(t, _types.MapType):
        return _types.MapType(expand_user_types(t.key), expand_user_types(t.value), t.frozen)
    if isinstance(t, _types.TupleType):
        return _types.TupleType(tuple(expand_user_types(e) for e in t.elements))
    return t


def table_rows(table: TableMetadata) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``tables``, ``columns``, ``dropped_columns`` and ``indexes`` for one table."""
    ks, name = table.keyspace, table.name
    row = {"keyspace_name": ks, "table_name": name, "id": table.id,
           "flags": set(table.flags or ()), **table.options.as_row()}
    columns = [{"keyspace_name": ks, "table_name": name, "column_name": c.name,
                "clustering_order": c.clustering_order, "column_name_bytes": c.column_name_bytes,
                "kind": c.kind, "position": c.position, "type": c.type.cql_name}
               for c in sorted(table.columns, key=lambda c: c.name)]
    dropped = [{"keyspace_name": ks, "table_name": name, "column_name": d.name,
                "dropped_time": datetime_from_millis(d.dropped_time // 1000), "kind": d.kind,
                "type": d.type.cql_name}
               for d in sorted(table.dropped_columns, key=lambda d: d.name)]
    indexes = [{"keyspace_name": ks, "table_name": name, "index_name": i.name, "kind": i.kind,
                "options": dict(i.options)}
               for i in sorted(table.indexes, key=lambda i: i.name)]
    return {"tables": [row], "columns": columns, "dropped_columns": dropped, "indexes": indexes}


def keyspace_rows(ks: KeyspaceMetadata) -> dict[str, list[dict[str, Any]]]:
    """Every ``system_schema`` row describing ``ks``: {schema table name: rows in key order}."""
    result: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMA_TABLES}
    result["keyspaces"].append({"keyspace_name": ks.name, "durable_writes": ks.durable_writes,
                                "replication": dict(ks.replication)})
    for name in sorted(ks.tables):
        for table_name, rows in table_rows(ks.tables[name]).items():
            result[table_name].extend(rows)
    for name in sorted(ks.user_types):
        udt = ks.user_types[name]
        result["types"].append({"keyspace_name": ks.name, "type_name": name,
                                "field_names": list(udt.field_names),
                                "field_types": [t.cql_name for t in udt.field_types]})
    return result


def _group(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["keyspace_name"], []).append(row)
    return out


def _load_user_types(keyspace: str, rows: list[Mapping[str, Any]]) -> dict[str, UserType]:
    """User types from their rows, resolving types that use other types in dependency order."""
    resolved: dict[str, UserType] = {}
    pending = {r["type_name"]: r for r in rows}
    while pending:
        progressed = False
        for name, row in list(pending.items()):
            try:
                fields = tuple(parse_type_name(t, resolved) for t in row["field_types"] or ())
            except InvalidRequest:                  # uses a type not resolved yet
                continue
            resolved[name] = UserType(keyspace, name, tuple(row["field_names"] or ()), fields, False)
            del pending[name]
            progressed = True
        if not progressed:
            raise ServerError(f"Stored user types of keyspace {keyspace} cannot be resolved: "
                              f"{sorted(pending)}")
    return resolved


def rows_to_keyspaces(rows: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, KeyspaceMetadata]:
    """Inverse of ``keyspace_rows`` over any number of keyspaces (missing tables count as empty)."""
    by_table = {name: _group(rows.get(name, ())) for name in SCHEMA_TABLES}
    result: dict[str, KeyspaceMetadata] = {}
    for ks_row in rows.get("keyspaces", ()):
        ks = ks_row["keyspace_name"]
        user_types = _load_user_types(ks, by_table["types"].get(ks, []))
        columns: dict[str, list[Mapping[str, Any]]] = {}
        for r in by_table["columns"].get(ks, []):
            columns.setdefault(r["table_name"], []).append(r)
        dropped: dict[str, list[Mapping[str, Any]]] = {}
        for r in by_table["dropped_columns"].get(ks, []):
            dropped.setdefault(r["table_name"], []).append(r)
        indexes: dict[str, list[Mapping[str, Any]]] = {}
        for r in by_table["indexes"].get(ks, []):
            indexes.setdefault(r["table_name"], []).append(r)
        tables: dict[str, TableMetadata] = {}
        for t in by_table["tables"].get(ks, []):
            name = t["table_name"]
            cols = tuple(ColumnMetadata(c["column_name"], parse_type_name(c["type"], user_types),
                                        c["kind"], c["position"] if c["position"] is not None else -1,
                                        c["clustering_order"] or NONE)
                         for c in columns.get(name, []))
            drops = tuple(DroppedColumn(d["column_name"], parse_type_name(d["type"]), d["kind"],
                                        _micros(d["dropped_time"]))
                          for d in dropped.get(name, []))
            idx = tuple(IndexMetadata(i["index_name"], name, i["kind"],
                                        dict(i["options"] or {}))
                        for i in indexes.get(name, []))
            flags = t.get("flags")
            tables[name] = TableMetadata(ks, name, t["id"], cols, TableOptions.from_row(t), idx,
                                         drops, frozenset(flags) if flags is not None else None)
        result[ks] = KeyspaceMetadata(ks, dict(ks_row["replication"] or {}),
                                      bool(ks_row["durable_writes"]), tables, user_types)
    return result


def _micros(value: Any) -> int:
    if isinstance(value, int):
        return value * 1000
    return millis_from_datetime(value) * 1000


def canonical_value(value: Any) -> str:
    """A stable text for a row value: same value, same text, on every node."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{canonical_value(k)}:{canonical_value(v)}" for k, v in
                              sorted(value.items(), key=lambda kv: canonical_value(kv[0]))) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(canonical_value(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_value(v) for v in value) + "]"
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return repr(value)
    return f"{type(value).__name__}:{value!r}"


def schema_digest(keyspaces: Mapping[str, KeyspaceMetadata]) -> uuid.UUID:
    """The schema version: ``UUID.nameUUIDFromBytes(md5(rows))`` over every keyspace but the local
    system ones, as Cassandra computes it (an empty schema gives Cassandra's well-known
    59adb24e-f3cd-3e02-97f0-5b395827453f)."""
    digest = hashlib.md5()
    for name in sorted(keyspaces):
        if name in LOCAL_SYSTEM_KEYSPACES:
            continue
        for table, rows in keyspace_rows(keyspaces[name]).items():
            for row in rows:
                digest.update(table.encode())
                digest.update(canonical_value(row).encode())
    return uuid.UUID(bytes=hashlib.md5(digest.digest()).digest(), version=3)
