"""A snapshot of the schema for completion and header colours, read through the session's public API
(SELECTs on system_schema), so it works the same against the embedded database and a server.

The snapshot is a plain value: completion tests build one by hand (``Catalog.build``).  The shell
reloads it after every schema change (DDL, USE), so new tables complete at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .output import CLUSTERING, PARTITION_KEY, REGULAR, STATIC

_KIND_ORDER = {PARTITION_KEY: 0, CLUSTERING: 1, STATIC: 2, REGULAR: 3}


@dataclass(frozen=True)
class ColumnMeta:
    name: str
    kind: str = REGULAR          # partition_key | clustering | static | regular
    position: int = -1
    type: str = "text"


@dataclass(frozen=True)
class TableMeta:
    keyspace: str
    name: str
    columns: tuple[ColumnMeta, ...] = ()        # partition key, clustering (by position), static, regular

    @property
    def partition_key(self) -> tuple[ColumnMeta, ...]:
        return tuple(c for c in self.columns if c.kind == PARTITION_KEY)

    @property
    def clustering(self) -> tuple[ColumnMeta, ...]:
        return tuple(c for c in self.columns if c.kind == CLUSTERING)

    def role(self, column: str) -> str | None:
        for c in self.columns:
            if c.name == column:
                return c.kind
        return None


@dataclass(frozen=True)
class Catalog:
    """Keyspaces -> tables, user types per keyspace, and the current keyspace."""

    tables: Mapping[str, Mapping[str, TableMeta]] = field(default_factory=dict)
    types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    keyspace: str | None = None

    @property
    def keyspaces(self) -> list[str]:
        return sorted(self.tables)

    def table(self, keyspace: str | None, name: str) -> TableMeta | None:
        ks = keyspace or self.keyspace
        if ks is None:
            return None
        return self.tables.get(ks, {}).get(name)

    def with_keyspace(self, keyspace: str | None) -> "Catalog":
        return Catalog(self.tables, self.types, keyspace)

    @staticmethod
    def build(tables: Mapping[str, Mapping[str, Sequence[tuple[str, str] | tuple[str, str, str]]]],
              types: Mapping[str, Iterable[str]] | None = None, keyspace: str | None = None) -> "Catalog":
        """A snapshot from plain data: ``{ks: {table: [(column, kind[, type]), ...]}}`` with columns of
        each kind listed in key order."""
        built: dict[str, dict[str, TableMeta]] = {}
        for ks, ks_tables in tables.items():
            built[ks] = {}
            for name, cols in ks_tables.items():
                counters: dict[str, int] = {}
                metas = []
                for col in cols:
                    kind = col[1]
                    position = counters.get(kind, 0) if kind in (PARTITION_KEY, CLUSTERING) else -1
                    counters[kind] = counters.get(kind, 0) + 1
                    metas.append(ColumnMeta(col[0], kind, position, col[2] if len(col) > 2 else "text"))
                built[ks][name] = TableMeta(ks, name, _ordered(metas))
        return Catalog(built, {k: tuple(v) for k, v in (types or {}).items()}, keyspace)


def _ordered(columns: Iterable[ColumnMeta]) -> tuple[ColumnMeta, ...]:
    return tuple(sorted(columns, key=lambda c: (_KIND_ORDER.get(c.kind, 3), c.position
                                                if c.kind in (PARTITION_KEY, CLUSTERING) else 0, c.name)))


EMPTY = Catalog()


def _rows(session: Any, query: str) -> list:
    result = session.execute(query)
    rows = list(getattr(result, "current_rows", None) or [])
    state = getattr(result, "paging_state", None)
    while getattr(result, "has_more_pages", False) and state:
        result = session.execute(query, paging_state=state)
        rows.extend(getattr(result, "current_rows", None) or [])
        state = getattr(result, "paging_state", None)
    return rows


def load_catalog(session: Any) -> Catalog:
    """The schema as the session's system_schema tables show it (EMPTY parts when a query fails)."""
    keyspace = getattr(session, "keyspace", None)
    tables: dict[str, dict[str, list[ColumnMeta]]] = {}
    types: dict[str, list[str]] = {}
    try:
        for row in _rows(session, "SELECT keyspace_name FROM system_schema.keyspaces"):
            tables.setdefault(row[0], {})
        for row in _rows(session, "SELECT keyspace_name, table_name FROM system_schema.tables"):
            tables.setdefault(row[0], {}).setdefault(row[1], [])
        for row in _rows(session, "SELECT keyspace_name, table_name, column_name, kind, position, type "
                                  "FROM system_schema.columns"):
            ks, table, name, kind, position, type_text = row
            tables.setdefault(ks, {}).setdefault(table, []).append(
                ColumnMeta(name, kind or REGULAR, position if position is not None else -1, type_text or ""))
    except Exception:            # noqa: BLE001 - completion must never break the shell
        pass
    try:
        for row in _rows(session, "SELECT keyspace_name, type_name FROM system_schema.types"):
            types.setdefault(row[0], []).append(row[1])
    except Exception:            # noqa: BLE001
        pass
    built = {ks: {name: TableMeta(ks, name, _ordered(cols)) for name, cols in ks_tables.items()}
             for ks, ks_tables in tables.items()}
    return Catalog(built, {ks: tuple(sorted(names)) for ks, names in types.items()}, keyspace)
