"""Schema metadata: keyspaces, tables, columns and indexes, as Cassandra 4/5 holds them.

Every object here is immutable: the catalog builds a new ``KeyspaceMetadata`` for each DDL and swaps
it in, so a reader holding a table never sees it change under its feet.  Values are normalized the
way Cassandra reports them in ``system_schema`` (strategy classes by full Java name, option maps
with string values), so what a driver reads back equals what Cassandra would show.  A table's
``WITH`` options are a ``TableOptions`` (cqlpy/schema/table_options.py).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from cqlpy.errors import ConfigurationException, InvalidRequest, SyntaxException
from cqlpy.schema import types as _types
from cqlpy.schema.replication_options import (
    NETWORK_TOPOLOGY_STRATEGY, SIMPLE_STRATEGY, STRATEGY_PACKAGE, parse_replication_factor,
)
from cqlpy.schema.table_options import TableOptions
from cqlpy.schema.types import CQLType, UserType

PARTITION_KEY = "partition_key"
CLUSTERING = "clustering"
STATIC = "static"
REGULAR = "regular"
KINDS = (PARTITION_KEY, CLUSTERING, STATIC, REGULAR)

ASC, DESC, NONE = "asc", "desc", "none"

MAX_NAME_LENGTH = 48
"""Keyspace, table and index names are limited to 48 characters of ``[A-Za-z0-9_]`` (4.x)."""

_VALID_NAME = re.compile(r"^\w+$", re.ASCII)


def is_valid_name(name: str) -> bool:
    """Keyspace/table/index names: non-empty, at most 48 characters of ``[A-Za-z0-9_]``."""
    return bool(_VALID_NAME.match(name)) and len(name) <= MAX_NAME_LENGTH


quote_name = _types.quote_identifier
"""``name`` as CQL text: bare when it reads back the same, else double-quoted."""


# --- type facts the schema needs (thin wrappers over cqlpy.schema.types) ----------------------------

def type_name(t: CQLType) -> str:
    """The CQL text of a type as ``system_schema`` stores it (``frozen<map<text, int>>``)."""
    return t.cql_name


def parse_type_name(text: str, user_types: Mapping[str, UserType] | None = None) -> CQLType:
    """Inverse of ``type_name``; user types are resolved by name in ``user_types``."""
    return _types.parse_type(text, user_types or {})


def ast_type_text(node: Any) -> str:
    """The type string of a ``language.ast.CQLType`` node, for ``types.parse_type``."""
    if node.params:
        inner = f"{node.name}<" + ", ".join(ast_type_text(p) for p in node.params) + ">"
    elif node.keyspace is not None:
        inner = f"{quote_name(node.keyspace)}.{quote_name(node.name)}"
    elif node.name in _types.NATIVE_TYPES:
        inner = node.name
    else:
        inner = quote_name(node.name)
    return f"frozen<{inner}>" if node.frozen else inner


def is_multi_cell(t: CQLType) -> bool:
    """A non-frozen collection or user type: stored as one cell per element."""
    return t.is_multi_cell


def is_counter_type(t: CQLType) -> bool:
    return t == _types.COUNTER


def referenced_user_types(t: CQLType) -> set[str]:
    """Names of the user types ``t`` uses, at any depth."""
    return {u.name for u in t.referenced_user_types()}


# --- columns ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnMetadata:
    """One column: its CQL type, its kind and, for key columns, its position in the key.

    ``position`` is the index in the partition key or clustering key, -1 for static and regular
    columns.  ``clustering_order`` is 'asc' or 'desc' for clustering columns, 'none' otherwise.
    """

    name: str
    type: CQLType
    kind: str = REGULAR
    position: int = -1
    clustering_order: str = NONE

    @property
    def is_partition_key(self) -> bool:
        return self.kind == PARTITION_KEY

    @property
    def is_clustering(self) -> bool:
        return self.kind == CLUSTERING

    @property
    def is_primary_key(self) -> bool:
        return self.kind in (PARTITION_KEY, CLUSTERING)

    @property
    def is_static(self) -> bool:
        return self.kind == STATIC

    @property
    def is_regular(self) -> bool:
        return self.kind == REGULAR

    @property
    def is_reversed(self) -> bool:
        """A clustering column declared DESC (its keys are stored inverted)."""
        return self.clustering_order == DESC

    @property
    def is_multi_cell(self) -> bool:
        return is_multi_cell(self.type)

    @property
    def is_counter(self) -> bool:
        return is_counter_type(self.type)

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    @property
    def column_name_bytes(self) -> bytes:
        return self.name.encode("utf-8")

    @property
    def quoted_name(self) -> str:
        return quote_name(self.name)


@dataclass(frozen=True)
class ColumnDef:
    """A column as CREATE TABLE / ALTER TABLE ADD declares it (input to the catalog)."""

    name: str
    type: CQLType
    static: bool = False


@dataclass(frozen=True)
class DroppedColumn:
    """A column removed by ALTER TABLE DROP: its cells written at or before ``dropped_time``
    (microseconds) stay hidden even if a column of that name is added again."""

    name: str
    type: CQLType
    kind: str
    dropped_time: int


# --- indexes ------------------------------------------------------------------------------------

INDEX_TARGET_KINDS = ("values", "keys", "entries", "full")
_TARGET = re.compile(r"^(keys|values|entries|full)\((.+)\)$")


@dataclass(frozen=True)
class IndexMetadata:
    """A secondary index of table ``table``.  ``options['target']`` is Cassandra's target string:
    ``v``, ``keys(m)``, ``values(m)``, ``entries(m)`` or ``full(f)`` (names quoted if needed)."""

    name: str
    table: str = ""
    kind: str = "COMPOSITES"
    options: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, str]:
        """(column name, target kind) where kind is 'simple', 'values', 'keys', 'entries' or 'full'."""
        text = self.options.get("target", "")
        m = _TARGET.match(text)
        kind, column = (m.group(1), m.group(2)) if m else ("simple", text)
        if column.startswith('"') and column.endswith('"') and len(column) >= 2:
            column = column[1:-1].replace('""', '"')
        return column, kind

    @property
    def target_column(self) -> str:
        return self.target[0]

    @property
    def target_kind(self) -> str:
        return self.target[1]

    @property
    def is_custom(self) -> bool:
        return self.kind == "CUSTOM"


def index_target(column: str, kind: str) -> str:
    """The ``target`` option for an index on ``column`` ('simple' means the plain column)."""
    name = quote_name(column)
    return name if kind == "simple" else f"{kind}({name})"


def index_target_kind(t: "TableMetadata", col: ColumnMetadata, target: str, custom: bool) -> str:
    """The kind of index target ('simple', 'values', ...) a CREATE INDEX on ``col`` gets, or
    Cassandra's refusal (InvalidRequest): counter tables, durations, the only partition-key
    column, keys()/entries() on non-maps, full() on non-frozen values, ..."""
    if t.is_counter:
        raise InvalidRequest("Secondary indexes on counter tables are not supported")
    if col.type.references_duration:
        raise InvalidRequest("Secondary indexes are not supported on duration columns")
    if col.is_partition_key and len(t.partition_key) == 1 and not custom:
        raise InvalidRequest(f"Cannot create secondary index on the only partition key "
                             f"column {col.name}")
    ctype = col.type
    is_collection = ctype.is_collection
    if target == "simple":
        if not is_collection or (custom and not ctype.is_multi_cell):
            return "simple"
        target = "values"                       # a bare collection column indexes its values
    if target == "full":
        if ctype.is_multi_cell or not (is_collection or isinstance(ctype, UserType)):
            raise InvalidRequest("full() indexes can only be created on frozen collections")
        return "full"
    if target not in ("values", "keys", "entries"):
        raise SyntaxException(f"Invalid index target {target}")
    if not is_collection:
        raise InvalidRequest(f"Cannot create {target}() index on {col.name}. Non-collection "
                             "columns only support simple indexes")
    if not ctype.is_multi_cell:
        raise InvalidRequest(f"Cannot create {target}() index on frozen column {col.name}. "
                             "Frozen collections are immutable and must be fully indexed by "
                             f"using the 'full({col.name})' modifier")
    if target in ("keys", "entries") and not isinstance(ctype, _types.MapType):
        raise InvalidRequest(f"Cannot create index on {target} of column {col.name} with "
                             "non-map type")
    return target


# --- tables -------------------------------------------------------------------------------------

def _column_sort_key(c: ColumnMetadata) -> tuple:
    rank = KINDS.index(c.kind)
    if c.kind in (PARTITION_KEY, CLUSTERING):
        return (rank, c.position, b"")
    return (rank, 0, c.name.encode("utf-8"))


@dataclass(frozen=True)
class TableMetadata:
    """A table: identity, columns (kept in SELECT * order), options and indexes."""

    keyspace: str
    name: str
    id: uuid.UUID
    columns: tuple[ColumnMetadata, ...]
    options: TableOptions = field(default_factory=TableOptions)
    indexes: tuple[IndexMetadata, ...] = ()
    dropped_columns: tuple[DroppedColumn, ...] = ()
    flags: frozenset[str] | None = None
    """``system_schema.tables.flags``; None means the default: {'compound'} (+ 'counter')."""

    def __post_init__(self) -> None:
        cols = tuple(sorted(self.columns, key=_column_sort_key))
        object.__setattr__(self, "columns", cols)
        object.__setattr__(self, "indexes", tuple(sorted(self.indexes, key=lambda i: i.name)))
        object.__setattr__(self, "dropped_columns",
                           tuple(sorted(self.dropped_columns, key=lambda d: d.name)))
        if self.flags is None:
            flags = {"compound"}
            if any(c.is_counter for c in cols if not c.is_primary_key):
                flags.add("counter")
            object.__setattr__(self, "flags", frozenset(flags))
        by_name = {c.name: c for c in cols}
        object.__setattr__(self, "_by_name", by_name)

    def __hash__(self) -> int:
        return hash((self.keyspace, self.name, self.id))

    # lookups
    def column(self, name: str) -> ColumnMetadata:
        """The column named ``name``; InvalidRequest('Undefined column name x') if absent."""
        col = self._by_name.get(name)  # type: ignore[attr-defined]
        if col is None:
            raise InvalidRequest(f"Undefined column name {name} in table {self.keyspace}.{self.name}")
        return col

    def get_column(self, name: str) -> ColumnMetadata | None:
        return self._by_name.get(name)  # type: ignore[attr-defined]

    def has_column(self, name: str) -> bool:
        return name in self._by_name  # type: ignore[attr-defined]

    def dropped(self, name: str) -> DroppedColumn | None:
        for d in self.dropped_columns:
            if d.name == name:
                return d
        return None

    def index(self, name: str) -> IndexMetadata | None:
        for i in self.indexes:
            if i.name == name:
                return i
        return None

    # column groups
    @property
    def partition_key(self) -> tuple[ColumnMetadata, ...]:
        return tuple(c for c in self.columns if c.kind == PARTITION_KEY)

    @property
    def clustering(self) -> tuple[ColumnMetadata, ...]:
        return tuple(c for c in self.columns if c.kind == CLUSTERING)

    @property
    def static_columns(self) -> tuple[ColumnMetadata, ...]:
        return tuple(c for c in self.columns if c.kind == STATIC)

    @property
    def regular_columns(self) -> tuple[ColumnMetadata, ...]:
        return tuple(c for c in self.columns if c.kind == REGULAR)

    @property
    def primary_key_columns(self) -> tuple[ColumnMetadata, ...]:
        return tuple(c for c in self.columns if c.is_primary_key)

    @property
    def non_key_columns(self) -> tuple[ColumnMetadata, ...]:
        return tuple(c for c in self.columns if not c.is_primary_key)

    def select_star_order(self) -> tuple[ColumnMetadata, ...]:
        """SELECT * order: partition key, clustering (declared order), static then regular
        columns each sorted by name (UTF-8 bytes)."""
        return self.columns

    @property
    def has_static(self) -> bool:
        return any(c.kind == STATIC for c in self.columns)

    @property
    def is_counter(self) -> bool:
        return "counter" in (self.flags or ())

    @property
    def table_id(self) -> bytes:
        """The engine's table id: the uuid's 16 bytes."""
        return self.id.bytes

    @property
    def qualified_name(self) -> str:
        return f"{quote_name(self.keyspace)}.{quote_name(self.name)}"

    # copies
    def with_changes(self, **changes: Any) -> "TableMetadata":
        if "columns" in changes and "flags" not in changes:
            changes["flags"] = None
        return replace(self, **changes)


# --- keyspaces ----------------------------------------------------------------------------------

LOCAL_STRATEGY = STRATEGY_PACKAGE + "LocalStrategy"
EVERYWHERE_STRATEGY = STRATEGY_PACKAGE + "EverywhereStrategy"


@dataclass(frozen=True)
class KeyspaceMetadata:
    """A keyspace: replication (a map with the strategy's full class name under 'class'),
    durable_writes, its tables and its user types (by name)."""

    name: str
    replication: dict[str, str]
    durable_writes: bool = True
    tables: dict[str, TableMetadata] = field(default_factory=dict)
    user_types: dict[str, UserType] = field(default_factory=dict)

    @property
    def strategy_class(self) -> str:
        return self.replication.get("class", "")

    @property
    def strategy_name(self) -> str:
        """The class without its package: 'SimpleStrategy', 'NetworkTopologyStrategy', ..."""
        return self.strategy_class.rsplit(".", 1)[-1]

    def table(self, name: str) -> TableMetadata | None:
        return self.tables.get(name)

    def indexes(self) -> dict[str, tuple[TableMetadata, IndexMetadata]]:
        """Every index of the keyspace by name, with its table (index names are per keyspace)."""
        return {i.name: (t, i) for t in self.tables.values() for i in t.indexes}

    def with_table(self, table: TableMetadata) -> "KeyspaceMetadata":
        return replace(self, tables={**self.tables, table.name: table})

    def without_table(self, name: str) -> "KeyspaceMetadata":
        return replace(self, tables={k: v for k, v in self.tables.items() if k != name})

    def with_changes(self, **changes: Any) -> "KeyspaceMetadata":
        return replace(self, **changes)

    def __hash__(self) -> int:
        return hash(self.name)

    def rebind_user_types(self) -> "KeyspaceMetadata":
        """This keyspace with every type re-resolved against its current user types (ALTER TYPE)."""
        ks = self
        resolved: dict[str, UserType] = {}

        def lookup(_ks: str | None, name: str) -> UserType | None:
            return resolved.get(name) or ks.user_types.get(name)

        pending = dict(ks.user_types)
        while pending:
            progressed = False
            for name, udt in list(pending.items()):
                deps = {u.name for f in udt.field_types for u in f.referenced_user_types()}
                if deps & set(pending) - {name}:
                    continue
                fields = tuple(_types.parse_type(f.cql_name, lookup) for f in udt.field_types)
                resolved[name] = replace(udt, field_types=fields)
                del pending[name]
                progressed = True
            if not progressed:
                resolved.update(pending)
                break
        tables = {}
        for tname, table in ks.tables.items():
            cols = tuple(replace(c, type=_types.parse_type(c.type.cql_name, lookup))
                         if c.type.referenced_user_types() else c for c in table.columns)
            tables[tname] = table.with_changes(columns=cols)
        return ks.with_changes(user_types=resolved, tables=tables)


# --- replication ---------------------------------------------------------------------------------

def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def normalize_replication(keyspace: str, replication: Mapping[str, Any],
                          datacenters: Sequence[str] = ("datacenter1",)) -> dict[str, str]:
    """Validate a replication map and return it as Cassandra stores it (full class name first).

    ``datacenters`` expands NetworkTopologyStrategy's ``replication_factor`` shorthand (4.0+).
    """
    opts = {str(k): _option_text(v) for k, v in replication.items()}
    cls = opts.pop("class", None)
    if cls is None:
        raise ConfigurationException("Missing replication strategy class")
    full = cls if "." in cls else STRATEGY_PACKAGE + cls
    short = full.rsplit(".", 1)[-1]
    if short in ("LocalStrategy", "EverywhereStrategy", "MetaStrategy"):
        raise ConfigurationException(f"Unable to use given strategy class: {short} is reserved for "
                                     "internal use.")
    if full == SIMPLE_STRATEGY:
        if "replication_factor" not in opts:
            raise ConfigurationException("SimpleStrategy requires a replication_factor strategy "
                                         "option.")
        for key in opts:
            if key != "replication_factor":
                raise ConfigurationException(f"Unrecognized strategy option {{{key}}} passed to "
                                             f"SimpleStrategy for keyspace {keyspace}")
        parse_replication_factor(opts["replication_factor"])
    elif full == NETWORK_TOPOLOGY_STRATEGY:
        shorthand = opts.pop("replication_factor", None)
        if shorthand is not None:
            parse_replication_factor(shorthand)
            for dc in datacenters:
                opts.setdefault(dc, shorthand)
        for value in opts.values():
            parse_replication_factor(value)
    else:
        raise ConfigurationException(f"Unable to find replication strategy class '{full}'")
    return {"class": full, **dict(sorted(opts.items()))}
