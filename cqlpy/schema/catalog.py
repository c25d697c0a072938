"""The catalog: every keyspace, table, user type and index, with Cassandra's DDL rules and errors.

The catalog holds immutable metadata (model.py) and replaces a whole ``KeyspaceMetadata`` on each
DDL, so lookups need no lock.  It knows nothing of storage: persistence is a listener
(``add_listener``) that sees every change *before* it becomes visible and may veto it by raising;
the session's schema store writes the change to the engine there.  ``schema_rows``/``load`` convert
to and from the rows of the ``system_schema`` tables (system_tables.py holds the row layout);
properties.py reads the WITH properties of DDL statements.

``schema_version`` is a uuid derived from an MD5 digest of the schema rows of every keyspace except
the node-local system ones, as Cassandra derives it: nodes with the same schema report the same
version, and every DDL that changes something changes it.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping, Sequence

from cqlpy.errors import (
    AlreadyExists, ConfigurationException, InvalidRequest, SyntaxException, Unauthorized,
)
from cqlpy.schema import types as _types
from cqlpy.schema.properties import (  # noqa: F401 - re-exported: the catalog's DDL inputs
    KEYSPACE_PROPERTIES, parse_keyspace_properties, property_values,
)
from cqlpy.schema.model import (
    ASC, CLUSTERING, DESC, NONE, PARTITION_KEY, REGULAR, STATIC, ColumnDef, ColumnMetadata,
    DroppedColumn, IndexMetadata, KeyspaceMetadata, TableMetadata, TableOptions, index_target,
    index_target_kind, ast_type_text, is_valid_name, normalize_replication,
)
from cqlpy.schema.system_tables import (
    LOCAL_SYSTEM_KEYSPACES, REPLICATED_SYSTEM_KEYSPACES, SYSTEM_KEYSPACES, expand_user_types,
    keyspace_rows, rows_to_keyspaces, schema_digest, system_keyspaces,
)
from cqlpy.schema.types import CQLType, UserType

CUSTOM_INDEX_ALIASES = {
    "sai": "org.apache.cassandra.index.sai.StorageAttachedIndex",
    "storageattachedindex": "org.apache.cassandra.index.sai.StorageAttachedIndex",
    "sasi": "org.apache.cassandra.index.sasi.SASIIndex",
}


@dataclass(frozen=True)
class SchemaChange:
    """What a DDL changed, as the protocol's Schema_change result and event describe it.

    change_type: 'CREATED' | 'UPDATED' | 'DROPPED'; target: 'KEYSPACE' | 'TABLE' | 'TYPE';
    ``name`` is None for a keyspace target.
    """

    change_type: str
    target: str
    keyspace: str
    name: str | None = None
    argument_types: tuple[str, ...] = ()


Listener = Callable[[SchemaChange, Mapping[str, KeyspaceMetadata], Mapping[str, KeyspaceMetadata]],
                    None]
"""``listener(change, before, after)``: called before ``after`` becomes the catalog; raise to veto."""


def _check_name(what: str, name: str) -> None:
    if not is_valid_name(name):
        raise InvalidRequest(f"{what} name must not be empty, more than 48 characters long, or "
                             f"contain non-alphanumeric-underscore characters (got \"{name}\")")


class Catalog:
    """All keyspaces of one node, with DDL operations that validate like Cassandra."""

    def __init__(self, *, datacenters: Sequence[str] = ("datacenter1",)) -> None:
        self.datacenters = tuple(datacenters)
        self._lock = threading.RLock()
        self._keyspaces: dict[str, KeyspaceMetadata] = system_keyspaces()
        self._listeners: list[Listener] = []
        self._committed: list[Callable[[SchemaChange], None]] = []
        self._version = schema_digest(self._keyspaces)
        self._by_id: tuple[Mapping[str, KeyspaceMetadata] | None, dict[bytes, TableMetadata]] = (None, {})

    # --- listeners and versions ----------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def add_commit_listener(self, listener: Callable[[SchemaChange], None]) -> None:
        """``listener(change)`` runs after a change is visible (new ``schema_version`` included):
        the place to push schema events or update ``system.local``.  It cannot veto."""
        self._committed.append(listener)

    def remove_commit_listener(self, listener: Callable[[SchemaChange], None]) -> None:
        """Stop calling ``listener`` (added by ``add_commit_listener``); unknown ones are ignored."""
        try:
            self._committed.remove(listener)
        except ValueError:
            pass

    @property
    def schema_version(self) -> uuid.UUID:
        return self._version

    def _commit(self, change: SchemaChange, ks: KeyspaceMetadata | None) -> SchemaChange:
        """Make ``ks`` (None: no keyspace) the new state of ``change.keyspace``, listeners first."""
        before = self._keyspaces
        after = {k: v for k, v in before.items() if k != change.keyspace}
        if ks is not None:
            after[change.keyspace] = ks
        for listener in list(self._listeners):
            listener(change, before, after)
        self._keyspaces = after
        self._version = schema_digest(after)
        for committed in list(self._committed):
            committed(change)
        return change

    # --- lookups -------------------------------------------------------------------------------

    @property
    def keyspaces(self) -> Mapping[str, KeyspaceMetadata]:
        """Every keyspace by name (system ones included).  A snapshot: do not mutate."""
        return self._keyspaces

    def keyspace_names(self) -> list[str]:
        return sorted(self._keyspaces)

    @staticmethod
    def resolve_keyspace(keyspace: str | None, current: str | None) -> str:
        """The keyspace a possibly unqualified name refers to, given the session's USE keyspace."""
        if keyspace:
            return keyspace
        if current:
            return current
        raise InvalidRequest("No keyspace has been specified. USE a keyspace, or explicitly "
                             "specify keyspace.tablename")

    def get_keyspace(self, name: str) -> KeyspaceMetadata | None:
        return self._keyspaces.get(name)

    def keyspace(self, name: str) -> KeyspaceMetadata:
        ks = self._keyspaces.get(name)
        if ks is None:
            raise InvalidRequest(f"Keyspace '{name}' does not exist")
        return ks

    def get_table(self, keyspace: str, name: str) -> TableMetadata | None:
        ks = self._keyspaces.get(keyspace)
        return None if ks is None else ks.tables.get(name)

    def table(self, keyspace: str, name: str) -> TableMetadata:
        """The table; InvalidRequest for an unknown keyspace or table (Cassandra's wording)."""
        ks = self._keyspaces.get(keyspace)
        if ks is None:
            raise InvalidRequest(f"keyspace {keyspace} does not exist")
        table = ks.tables.get(name)
        if table is None:
            raise InvalidRequest(f"table {name} does not exist")
        return table

    def table_by_id(self, table_id: uuid.UUID | bytes) -> TableMetadata | None:
        """The table with this id (bytes or UUID), or None; every read and write asks, so the
        index is built once per schema snapshot (``_keyspaces`` is replaced, never mutated)."""
        keyspaces, by_id = self._by_id
        if keyspaces is not self._keyspaces:
            by_id = {}
            for ks in self._keyspaces.values():
                for t in ks.tables.values():
                    by_id[t.id.bytes] = t
            self._by_id = (self._keyspaces, by_id)
        return by_id.get(table_id if isinstance(table_id, bytes) else table_id.bytes)

    def tables(self) -> list[TableMetadata]:
        return [t for ks in self._keyspaces.values() for t in ks.tables.values()]

    def find_index(self, keyspace: str, name: str) -> tuple[TableMetadata, IndexMetadata] | None:
        ks = self._keyspaces.get(keyspace)
        return None if ks is None else ks.indexes().get(name)

    def user_type(self, keyspace: str, name: str) -> UserType:
        ks = self.keyspace(keyspace)
        t = ks.user_types.get(name)
        if t is None:
            raise InvalidRequest(f"Unknown type {keyspace}.{name}")
        return t

    def type_lookup(self, keyspace: str) -> Callable[[str | None, str], UserType | None]:
        """A user-type resolver for ``types.parse_type`` within ``keyspace``."""
        def lookup(ks: str | None, name: str) -> UserType | None:
            if ks is not None and ks != keyspace:
                raise InvalidRequest(f"Statement on keyspace {keyspace} cannot refer to a user type "
                                     f"in keyspace {ks}; user types can only be used in the "
                                     "keyspace they are defined in")
            found = self._keyspaces.get(keyspace)
            return None if found is None else found.user_types.get(name)
        return lookup

    def parse_type(self, keyspace: str, text: Any) -> CQLType:
        """A CQL type (its text, or a ``language.ast.CQLType``) resolved in ``keyspace``."""
        return _types.parse_type(text if isinstance(text, str) else ast_type_text(text),
                                 self.type_lookup(keyspace))

    # --- keyspaces -----------------------------------------------------------------------------

    def create_keyspace(self, name: str, replication: Mapping[str, Any] | None,
                        durable_writes: bool = True, *,
                        if_not_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            if name in self._keyspaces:
                if if_not_exists:
                    return None
                raise AlreadyExists(name)
            _check_name("Keyspace", name)
            if replication is None:
                raise InvalidRequest("Missing mandatory option 'replication'")
            repl = normalize_replication(name, replication, self.datacenters)
            ks = KeyspaceMetadata(name, repl, bool(durable_writes), {}, {})
            return self._commit(SchemaChange("CREATED", "KEYSPACE", name), ks)

    def alter_keyspace(self, name: str, replication: Mapping[str, Any] | None = None,
                       durable_writes: bool | None = None, *,
                       if_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            ks = self._keyspaces.get(name)
            if ks is None:
                if if_exists:
                    return None
                raise InvalidRequest(f"Keyspace '{name}' doesn't exist")
            if name in LOCAL_SYSTEM_KEYSPACES:
                raise Unauthorized(f"{name} keyspace is not user-modifiable.")
            changes: dict[str, Any] = {}
            if replication is not None:
                changes["replication"] = normalize_replication(name, replication, self.datacenters)
            if durable_writes is not None:
                changes["durable_writes"] = bool(durable_writes)
            new = ks.with_changes(**changes)
            return self._commit(SchemaChange("UPDATED", "KEYSPACE", name), new)

    def drop_keyspace(self, name: str, *, if_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            if name in SYSTEM_KEYSPACES:
                self._check_modifiable(name, "DROP", f"<keyspace {name}>")
            if name not in self._keyspaces:
                if if_exists:
                    return None
                raise InvalidRequest(f"Keyspace '{name}' doesn't exist")
            return self._commit(SchemaChange("DROPPED", "KEYSPACE", name), None)

    # --- tables --------------------------------------------------------------------------------

    def _check_modifiable(self, keyspace: str, verb: str, resource: str) -> None:
        if keyspace in LOCAL_SYSTEM_KEYSPACES:
            raise Unauthorized(f"{keyspace} keyspace is not user-modifiable.")
        if keyspace in REPLICATED_SYSTEM_KEYSPACES:
            raise Unauthorized(f"Cannot {verb} {resource}")

    def _existing_keyspace(self, name: str) -> KeyspaceMetadata:
        ks = self._keyspaces.get(name)
        if ks is None:
            raise InvalidRequest(f"Keyspace '{name}' doesn't exist")
        return ks

    def create_table(self, keyspace: str, name: str, columns: Sequence[ColumnDef],
                     partition_key: Sequence[str], clustering: Sequence[str] = (),
                     clustering_order: Sequence[tuple[str, str]] = (),
                     options: Mapping[str, Any] | None = None, *, if_not_exists: bool = False,
                     table_id: uuid.UUID | None = None,
                     compact_storage: bool = False) -> SchemaChange | None:
        """CREATE TABLE.  ``clustering_order`` is the CLUSTERING ORDER BY list as written
        ((column, 'asc'|'desc'), ...); ``options`` the WITH properties (an ``id`` property sets the
        table id, as Cassandra allows)."""
        with self._lock:
            self._check_modifiable(keyspace, "CREATE", f"<keyspace {keyspace}>")
            ks = self._existing_keyspace(keyspace)
            if name in ks.tables:
                if if_not_exists:
                    return None
                raise AlreadyExists(keyspace, name)
            _check_name("Table", name)
            if compact_storage:
                raise InvalidRequest("Compact tables are not allowed in Cassandra starting with 4.0 "
                                     "version.")
            props = dict(options or {})
            if "id" in props:
                try:
                    table_id = uuid.UUID(str(props.pop("id")))
                except ValueError:
                    raise ConfigurationException("Invalid table id") from None
            table = self._build_table(ks, name, columns, partition_key, clustering,
                                      clustering_order, props, table_id or uuid.uuid1())
            for other in self.tables():
                if other.id == table.id:
                    raise InvalidRequest(f"Table id {table.id} already used by "
                                         f"{other.keyspace}.{other.name}")
            new_ks = ks.with_table(table)
            return self._commit(SchemaChange("CREATED", "TABLE", keyspace, name), new_ks)

    def _build_table(self, ks: KeyspaceMetadata, name: str, columns: Sequence[ColumnDef],
                     partition_key: Sequence[str], clustering: Sequence[str],
                     clustering_order: Sequence[tuple[str, str]], props: Mapping[str, Any],
                     table_id: uuid.UUID) -> TableMetadata:
        defs: dict[str, ColumnDef] = {}
        for c in columns:
            if c.name in defs:
                raise InvalidRequest(f"Duplicate column '{c.name}' declaration for table "
                                     f"{ks.name}.{name}")
            defs[c.name] = c
        if not partition_key:
            raise InvalidRequest(f"No PRIMARY KEY specifed for table '{name}' (exactly one "
                                 "required)")
        seen: set[str] = set()
        for col in list(partition_key) + list(clustering):
            if col not in defs:
                raise InvalidRequest(f"Unknown definition {col} referenced in PRIMARY KEY")
            if col in seen:
                raise InvalidRequest(f"Duplicate definition for column {col} in PRIMARY KEY")
            seen.add(col)
        orders = self._clustering_orders(list(clustering), clustering_order)
        result: list[ColumnMetadata] = []
        for i, col in enumerate(partition_key):
            self._check_key_column(defs[col])
            result.append(ColumnMetadata(col, defs[col].type, PARTITION_KEY, i, NONE))
        for i, col in enumerate(clustering):
            self._check_key_column(defs[col])
            result.append(ColumnMetadata(col, defs[col].type, CLUSTERING, i, orders[i]))
        for c in columns:
            if c.name in seen:
                continue
            if c.static and not clustering:
                raise InvalidRequest("Static columns are only useful (and thus allowed) if the "
                                     "table has at least one clustering column")
            result.append(ColumnMetadata(c.name, c.type, STATIC if c.static else REGULAR, -1, NONE))
        for c in result:
            self._check_user_types(ks, c.type)
        counters = [c for c in result if not c.is_primary_key and c.is_counter]
        if counters and len(counters) != len([c for c in result if not c.is_primary_key]):
            raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
        table_options = TableOptions().with_properties(props)
        if counters and table_options.default_time_to_live > 0:
            raise InvalidRequest("Cannot set default_time_to_live on a table with counters")
        return TableMetadata(ks.name, name, table_id, tuple(result), table_options)

    @staticmethod
    def _clustering_orders(clustering: list[str], given: Sequence[tuple[str, str]]) -> list[str]:
        orders = [ASC] * len(clustering)
        seen: set[str] = set()
        not_clustering = [c for c, _ in given if c not in clustering]
        if not_clustering:
            raise InvalidRequest("Only clustering key columns can be defined in CLUSTERING ORDER "
                                 f"directive: {not_clustering} are not clustering columns")
        for i, (col, direction) in enumerate(given):
            if col in seen:
                raise InvalidRequest(f"Duplicate column '{col}' in CLUSTERING ORDER BY clause")
            seen.add(col)
            pos = clustering.index(col)
            if pos != i:
                if pos < i:
                    raise InvalidRequest("The order of columns in the CLUSTERING ORDER directive "
                                         "must match that of the clustering columns "
                                         f"({col} must appear before {given[pos][0]})")
                raise InvalidRequest(f"Missing CLUSTERING ORDER for column {clustering[i]}")
            d = direction.lower()
            if d not in (ASC, DESC):
                raise SyntaxException(f"Invalid clustering order '{direction}' for column {col}")
            orders[pos] = d
        return orders

    @staticmethod
    def _check_key_column(c: ColumnDef) -> None:
        t = c.type
        if c.static:
            raise InvalidRequest(f"Static column {c.name} cannot be part of the PRIMARY KEY")
        if t.is_multi_cell:
            if isinstance(t, UserType):
                raise InvalidRequest(f"Invalid non-frozen user-defined type \"{t.cql_name}\" for "
                                     f"PRIMARY KEY component {c.name}")
            raise InvalidRequest(f"Invalid non-frozen collection type {t.cql_name} for PRIMARY "
                                 f"KEY component {c.name}")
        if t.references_counter:
            raise InvalidRequest(f"counter type is not supported for PRIMARY KEY column "
                                 f"'{c.name}'")
        if t.references_duration:
            raise InvalidRequest(f"duration type is not supported for PRIMARY KEY column "
                                 f"'{c.name}'")

    @staticmethod
    def _check_user_types(ks: KeyspaceMetadata, t: CQLType) -> None:
        for u in t.referenced_user_types():
            if u.keyspace != ks.name:
                raise InvalidRequest(f"Statement on keyspace {ks.name} cannot refer to a user type "
                                     f"in keyspace {u.keyspace}; user types can only be used in "
                                     "the keyspace they are defined in")
            if u.name not in ks.user_types:
                raise InvalidRequest(f"Unknown type {ks.name}.{u.name}")

    def _existing_table(self, keyspace: str, name: str) -> tuple[KeyspaceMetadata, TableMetadata]:
        ks = self._existing_keyspace(keyspace)
        table = ks.tables.get(name)
        if table is None:
            raise InvalidRequest(f"Table '{keyspace}.{name}' doesn't exist")
        return ks, table

    def alter_table(self, keyspace: str, name: str, *, add: Sequence[ColumnDef] = (),
                    drop: Sequence[str] = (), rename: Mapping[str, str] | None = None,
                    options: Mapping[str, Any] | None = None, drop_timestamp: int | None = None,
                    if_exists: bool = False, if_column_not_exists: bool = False,
                    if_column_exists: bool = False) -> SchemaChange | None:
        """ALTER TABLE: ADD columns, DROP columns (``drop_timestamp`` µs = USING TIMESTAMP, default
        now), RENAME primary-key columns, WITH options.  Usually one of them per statement.
        ``if_column_not_exists`` skips ADDed columns that exist, ``if_column_exists`` skips DROPped
        or RENAMEd columns that do not (4.1+); nothing left to do returns None."""
        with self._lock:
            if keyspace in SYSTEM_KEYSPACES:
                self._check_modifiable(keyspace, "ALTER", f"<table {keyspace}.{name}>")
            if keyspace not in self._keyspaces and if_exists:
                return None
            ks = self._existing_keyspace(keyspace)
            if name not in ks.tables and if_exists:
                return None
            ks, table = self._existing_table(keyspace, name)
            if if_column_not_exists:
                add = [c for c in add if not table.has_column(c.name)]
            if if_column_exists:
                drop = [c for c in drop if table.has_column(c)]
                rename = {o: n for o, n in (rename or {}).items() if table.has_column(o)}
            if not (add or drop or rename or options):
                return None
            if add:
                table = self._alter_add(ks, table, add)
            if drop:
                table = self._alter_drop(table, drop, drop_timestamp)
            if rename:
                table = self._alter_rename(table, rename)
            if options:
                props = dict(options)
                if "id" in props:
                    raise ConfigurationException("Cannot alter table id.")
                new_options = table.options.with_properties(props)
                if table.is_counter and new_options.default_time_to_live > 0:
                    raise InvalidRequest("Cannot set default_time_to_live on a table with counters")
                table = table.with_changes(options=new_options)
            return self._commit(SchemaChange("UPDATED", "TABLE", keyspace, name),
                                ks.with_table(table))

    def alter_column_type(self, keyspace: str, name: str, column: str, *,
                          if_exists: bool = False) -> SchemaChange | None:
        """ALTER TABLE ... ALTER col TYPE t: refused once the table is found, as in 4.0+."""
        with self._lock:
            if keyspace in SYSTEM_KEYSPACES:
                self._check_modifiable(keyspace, "ALTER", f"<table {keyspace}.{name}>")
            if if_exists and self.get_table(keyspace, name) is None:
                return None
            self._existing_table(keyspace, name)
            raise InvalidRequest("Altering column types is no longer supported")

    def _alter_add(self, ks: KeyspaceMetadata, table: TableMetadata,
                   add: Sequence[ColumnDef]) -> TableMetadata:
        columns = list(table.columns)
        dropped = list(table.dropped_columns)
        names = {c.name for c in columns}
        for c in add:
            if c.name in names:
                raise InvalidRequest(f"Column with name '{c.name}' already exists")
            if c.static and not table.clustering:
                raise InvalidRequest("Static columns are only useful (and thus allowed) if the "
                                     "table has at least one clustering column")
            self._check_user_types(ks, c.type)
            counter = c.type == _types.COUNTER
            if counter and not table.is_counter:
                raise ConfigurationException(f"Cannot add a counter column ({c.name}) in a non "
                                             "counter column family")
            if not counter and table.is_counter:
                raise ConfigurationException(f"Cannot add a non counter column ({c.name}) in a "
                                             "counter column family")
            old = table.dropped(c.name)
            if old is not None:
                if expand_user_types(c.type).cql_name != old.type.cql_name:
                    raise InvalidRequest(f"Cannot re-add previously dropped column '{c.name}' of "
                                         f"type {c.type.cql_name}, incompatible with previous type "
                                         f"{old.type.cql_name}")
                if (old.kind == STATIC) != c.static:
                    raise InvalidRequest(f"Cannot re-add previously dropped column '{c.name}' of "
                                         f"kind {STATIC if c.static else REGULAR}, incompatible "
                                         f"with previous kind {old.kind}")
            names.add(c.name)
            columns.append(ColumnMetadata(c.name, c.type, STATIC if c.static else REGULAR, -1, NONE))
        return table.with_changes(columns=tuple(columns), dropped_columns=tuple(dropped))

    def _alter_drop(self, table: TableMetadata, drop: Sequence[str],
                    timestamp: int | None) -> TableMetadata:
        # dropped_time is stored in milliseconds: round up so the persisted value equals this one
        ts = timestamp if timestamp is not None else time.time_ns() // 1000
        ts = -(-ts // 1000) * 1000
        columns = {c.name: c for c in table.columns}
        dropped = {d.name: d for d in table.dropped_columns}
        for name in drop:
            col = columns.get(name)
            if col is None:
                raise InvalidRequest(f"Column {name} was not found in table "
                                     f"{table.keyspace}.{table.name}")
            if col.is_primary_key:
                raise InvalidRequest(f"Cannot drop PRIMARY KEY column {name}")
            dependent = [i.name for i in table.indexes if i.target_column == name]
            if dependent:
                raise InvalidRequest(f"Cannot drop column {name} because it has dependent "
                                     f"secondary indexes ({', '.join(dependent)})")
            del columns[name]
            dropped[name] = DroppedColumn(name, expand_user_types(col.type), col.kind, ts)
        return table.with_changes(columns=tuple(columns.values()),
                                  dropped_columns=tuple(dropped.values()))

    @staticmethod
    def _alter_rename(table: TableMetadata, rename: Mapping[str, str]) -> TableMetadata:
        columns = {c.name: c for c in table.columns}
        for old, new in rename.items():
            col = columns.get(old)
            if col is None:
                raise InvalidRequest(f"Column {old} was not found in table {table.name}")
            if not col.is_primary_key:
                raise InvalidRequest(f"Cannot rename non PRIMARY KEY column {old}")
            if new in columns:
                raise InvalidRequest(f"Cannot rename column {old} to {new} in table {table.name}; "
                                     "another column of that name already exist")
            dependent = [i.name for i in table.indexes if i.target_column == old]
            if dependent:
                raise InvalidRequest(f"Cannot rename column {old} because it has dependent "
                                     f"secondary indexes ({', '.join(dependent)})")
            del columns[old]
            columns[new] = replace(col, name=new)
        return table.with_changes(columns=tuple(columns.values()))

    def drop_table(self, keyspace: str, name: str, *, if_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            if keyspace in SYSTEM_KEYSPACES:
                self._check_modifiable(keyspace, "DROP", f"<table {keyspace}.{name}>")
            ks = self._keyspaces.get(keyspace)
            if ks is None or name not in ks.tables:
                if if_exists:
                    return None
                if ks is None:
                    raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
                raise InvalidRequest(f"Table '{keyspace}.{name}' doesn't exist")
            return self._commit(SchemaChange("DROPPED", "TABLE", keyspace, name),
                                ks.without_table(name))

    # --- user types ----------------------------------------------------------------------------

    def create_type(self, keyspace: str, name: str, fields: Sequence[tuple[str, CQLType]], *,
                    if_not_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            self._check_modifiable(keyspace, "CREATE", f"<keyspace {keyspace}>")
            ks = self._existing_keyspace(keyspace)
            if name in ks.user_types:
                if if_not_exists:
                    return None
                raise InvalidRequest(f"A user type with name '{name}' already exists")
            if name.upper() in _types.NATIVE_TYPES or name.lower() in _types.NATIVE_TYPES:
                raise InvalidRequest(f"Invalid (reserved) user type name {name}")
            udt = self._build_type(ks, name, fields)
            new_ks = ks.with_changes(user_types={**ks.user_types, name: udt})
            return self._commit(SchemaChange("CREATED", "TYPE", keyspace, name), new_ks)

    def _build_type(self, ks: KeyspaceMetadata, name: str,
                    fields: Sequence[tuple[str, CQLType]]) -> UserType:
        names: list[str] = []
        for field_name, t in fields:
            if field_name in names:
                raise InvalidRequest(f"Duplicate field name '{field_name}' in type '{name}'")
            if t.references_counter:
                raise InvalidRequest("A user type cannot contain counters")
            if isinstance(t, UserType) and t.is_multi_cell:
                raise InvalidRequest("A user type cannot contain non-frozen UDTs")
            if any(u.name == name for u in t.referenced_user_types()):
                raise InvalidRequest(f"Cannot create type {name} with reference to itself")
            self._check_user_types(ks, t)
            names.append(field_name)
        return UserType(ks.name, name, tuple(names), tuple(t.freeze() if t.is_multi_cell else t
                                                           for _, t in fields), False)

    def alter_type(self, keyspace: str, name: str, *, add: Sequence[tuple[str, CQLType]] = (),
                   rename: Mapping[str, str] | None = None, if_exists: bool = False,
                   if_field_not_exists: bool = False,
                   if_field_exists: bool = False) -> SchemaChange | None:
        """ALTER TYPE ADD field / RENAME field; tables using the type see the new definition.
        ``if_field_not_exists`` / ``if_field_exists`` skip what is already so (4.1+)."""
        with self._lock:
            self._check_modifiable(keyspace, "ALTER", f"<keyspace {keyspace}>")
            ks = self._existing_keyspace(keyspace)
            old = ks.user_types.get(name)
            if old is None:
                if if_exists:
                    return None
                raise InvalidRequest(f"Type '{keyspace}.{name}' doesn't exist")
            if if_field_not_exists:
                add = [(f, t) for f, t in add if f not in old.field_names]
            if if_field_exists:
                rename = {o: n for o, n in (rename or {}).items() if o in old.field_names}
            if not (add or rename):
                return None
            fields = list(zip(old.field_names, old.field_types))
            for field_name, t in add:
                if field_name in old.field_names:
                    raise InvalidRequest(f"Cannot add new field {field_name} to type "
                                         f"{keyspace}.{name}: a field with name {field_name} "
                                         "already exists")
                fields.append((field_name, t))
            for old_field, new_field in (rename or {}).items():
                idx = [f for f, _ in fields].index(old_field) if old_field in dict(fields) else -1
                if idx < 0:
                    raise InvalidRequest(f"Unkown field {old_field} in user type "
                                         f"{keyspace}.{name}")
                if new_field in dict(fields):
                    raise InvalidRequest(f"Duplicate field name {new_field} in type "
                                         f"{keyspace}.{name}")
                fields[idx] = (new_field, fields[idx][1])
            udt = self._build_type(ks, name, fields)
            user_types = {**ks.user_types, name: udt}
            new_ks = ks.with_changes(user_types=user_types).rebind_user_types()
            return self._commit(SchemaChange("UPDATED", "TYPE", keyspace, name), new_ks)

    def drop_type(self, keyspace: str, name: str, *, if_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            self._check_modifiable(keyspace, "DROP", f"<keyspace {keyspace}>")
            ks = self._keyspaces.get(keyspace)
            if ks is None or name not in ks.user_types:
                if if_exists:
                    return None
                if ks is None:
                    raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
                raise InvalidRequest(f"Type '{keyspace}.{name}' doesn't exist")
            for other in ks.user_types.values():
                if other.name != name and any(u.name == name for u in other.referenced_user_types()
                                              if u is not other):
                    raise InvalidRequest(f"Cannot drop user type {keyspace}.{name} as it is still "
                                         f"used by user type {other.name}")
            for table in ks.tables.values():
                for c in table.columns:
                    if any(u.name == name for u in c.type.referenced_user_types()):
                        raise InvalidRequest(f"Cannot drop user type {keyspace}.{name} as it is "
                                             f"still used by table {keyspace}.{table.name}")
            user_types = {k: v for k, v in ks.user_types.items() if k != name}
            return self._commit(SchemaChange("DROPPED", "TYPE", keyspace, name),
                                ks.with_changes(user_types=user_types))

    # --- indexes -------------------------------------------------------------------------------

    def create_index(self, keyspace: str, table: str, name: str | None, column: str,
                     target: str | None = "simple", *, custom_class: str | None = None,
                     index_options: Mapping[str, str] | None = None,
                     if_not_exists: bool = False) -> SchemaChange | None:
        """CREATE [CUSTOM] INDEX.  ``target``: 'simple' or None (the column as written), 'values',
        'keys', 'entries' or 'full' (any case).  Answers UPDATED TABLE, as Cassandra does."""
        with self._lock:
            if keyspace in SYSTEM_KEYSPACES:
                self._check_modifiable(keyspace, "ALTER", f"<table {keyspace}.{table}>")
            ks, t = self._existing_table(keyspace, table)
            target = (target or "simple").lower()
            col = t.get_column(column)
            if col is None:
                raise InvalidRequest(f"Column '{column}' doesn't exist")
            if name is not None:
                _check_name("Index", name)
            kind = index_target_kind(t, col, target, custom_class is not None)
            target_text = index_target(column, kind)
            if custom_class is not None:
                cls = CUSTOM_INDEX_ALIASES.get(custom_class.lower(), custom_class)
                options = {**(index_options or {}), "class_name": cls, "target": target_text}
                index_kind = "CUSTOM"
            else:
                options, index_kind = {"target": target_text}, "COMPOSITES"
            existing = ks.indexes()
            if name is None:
                base = "".join(ch for ch in f"{table}_{column}_idx" if ch.isalnum() or ch == "_")
                name, n = base, 0
                while name in existing:
                    n += 1
                    name = f"{base}_{n}"
            if name in existing:
                if if_not_exists:
                    return None
                raise InvalidRequest(f"Index '{name}' already exists")
            for other in t.indexes:
                if other.kind == index_kind and other.options == options:
                    if if_not_exists:
                        return None
                    raise InvalidRequest(f"Index {name} is a duplicate of existing index "
                                         f"{other.name}")
            index = IndexMetadata(name, table, index_kind, options)
            new_table = t.with_changes(indexes=t.indexes + (index,))
            return self._commit(SchemaChange("UPDATED", "TABLE", keyspace, table),
                                ks.with_table(new_table))

    def drop_index(self, keyspace: str, name: str, *, if_exists: bool = False) -> SchemaChange | None:
        with self._lock:
            if keyspace in SYSTEM_KEYSPACES:
                self._check_modifiable(keyspace, "DROP", f"<keyspace {keyspace}>")
            found = self.find_index(keyspace, name)
            if found is None:
                if if_exists:
                    return None
                self._existing_keyspace(keyspace)
                raise InvalidRequest(f"Index '{name}' could not be found in any of the tables of "
                                     f"keyspace '{keyspace}'")
            table, _ = found
            ks = self._keyspaces[keyspace]
            new_table = table.with_changes(indexes=tuple(i for i in table.indexes if i.name != name))
            return self._commit(SchemaChange("UPDATED", "TABLE", keyspace, table.name),
                                ks.with_table(new_table))

    # --- schema rows ---------------------------------------------------------------------------

    def schema_rows(self, keyspace: str) -> dict[str, list[dict[str, Any]]]:
        """The ``system_schema`` rows describing one keyspace: {schema table: [row, ...]}."""
        return keyspace_rows(self.keyspace(keyspace))

    def all_schema_rows(self, include_system: bool = True) -> dict[str, list[dict[str, Any]]]:
        """Rows of every keyspace (what ``SELECT * FROM system_schema.<t>`` returns)."""
        result: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(self._keyspaces):
            if not include_system and name in SYSTEM_KEYSPACES:
                continue
            for table, rows in keyspace_rows(self._keyspaces[name]).items():
                result.setdefault(table, []).extend(rows)
        return result

    def load(self, rows: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        """Replace the user schema with the one ``rows`` describe (as ``all_schema_rows`` gives).

        Built-in system keyspaces stay; for the replicated ones (system_auth, system_traces) only
        replication and durable_writes are taken from the rows.  No listener is called.
        """
        with self._lock:
            loaded = rows_to_keyspaces(rows)
            keyspaces = system_keyspaces()
            for name, ks in loaded.items():
                if name in LOCAL_SYSTEM_KEYSPACES:
                    continue
                if name in REPLICATED_SYSTEM_KEYSPACES:
                    keyspaces[name] = keyspaces[name].with_changes(
                        replication=ks.replication, durable_writes=ks.durable_writes)
                    continue
                keyspaces[name] = ks
            self._keyspaces = keyspaces
            self._version = schema_digest(keyspaces)

    @classmethod
    def from_rows(cls, rows: Mapping[str, Iterable[Mapping[str, Any]]], **kwargs: Any) -> "Catalog":
        catalog = cls(**kwargs)
        catalog.load(rows)
        return catalog
