"""Persists the catalog in the engine's ``system_schema`` tables and keeps engine tables in step with it.

At open (``SchemaStore.open``): create the missing engine tables of the system keyspaces, read
every ``system_schema`` row back (through ``RowCodec``), rebuild the catalog from them, write the
rows of the built-in keyspaces when they differ from what is stored (Cassandra rewrites them at
every start), create any engine table still missing, and drop engine tables no schema names (a
crash between a DROP's schema write and its data removal).  The hidden table of every index the
schema names is kept (indexes.py builds only a missing one); that of a dropped index goes.

On each DDL (a catalog listener, called before the change becomes visible): new tables get their
engine table first; then, in one ``engine.apply`` (one commit-log record), every ``system_schema``
partition of the changed keyspace is rewritten: a partition deletion at ``ts - 1`` and the current
rows at ``ts`` (a dropped keyspace gets the deletion only); then dropped tables leave the disk and
changed options reach the engine.  Timestamps only grow, across restarts too.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping

from cqlpy.engine.compression import CompressionParams
from cqlpy.engine.options import TableOptions as EngineTableOptions
from cqlpy.engine.rows import PartitionUpdate
from cqlpy.schema.catalog import Catalog, SchemaChange
from cqlpy.schema.model import KeyspaceMetadata, TableMetadata
from cqlpy.schema.table_options import TableOptions
from cqlpy.schema.system_tables import (
    SCHEMA_TABLES, SYSTEM_KEYSPACES, SYSTEM_SCHEMA, canonical_value, keyspace_rows,
    system_keyspaces,
)
from cqlpy.session.indexes import index_table_ids
from cqlpy.session.rowcodec import RowCodec


def engine_table_options(options: TableOptions) -> EngineTableOptions:
    """The storage-relevant part of a table's options, in the engine's terms."""
    compaction: dict[str, Any] = {}
    for name, value in options.compaction.items():
        if name == "class":
            compaction["class"] = value.rsplit(".", 1)[-1]
        elif name == "enabled":
            compaction["enabled"] = value.lower() == "true"
        else:
            try:
                compaction[name] = int(value)
            except ValueError:
                try:
                    compaction[name] = float(value)
                except ValueError:
                    compaction[name] = value
    comp = options.compression
    if comp.get("enabled", "true").lower() == "false":
        compression = CompressionParams(enabled=False)
    else:
        chunk_kb = int(comp.get("chunk_length_in_kb", "16"))
        compression = CompressionParams(chunk_length=chunk_kb * 1024,
                                        enabled=not comp.get("class", "").endswith("NoopCompressor"))
    return EngineTableOptions(gc_grace_seconds=options.gc_grace_seconds, compaction=compaction,
                              compression=compression,
                              bloom_filter_fp_chance=options.bloom_filter_fp_chance)


class SchemaStore:
    """A catalog kept in, and loaded from, one engine's ``system_schema`` tables."""

    def __init__(self, engine: Any, catalog: Catalog,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self._lock = threading.Lock()
        self._last_timestamp = 0
        schema = system_keyspaces()[SYSTEM_SCHEMA]
        self._codecs = {name: RowCodec(schema.tables[name]) for name in SCHEMA_TABLES}

    @classmethod
    def open(cls, engine: Any, catalog: Catalog | None = None, *,
             clock: Callable[[], float] = time.time) -> "SchemaStore":
        """Load the schema stored in ``engine`` into ``catalog`` (a new one by default), make the
        engine's tables match it, and persist every later DDL of the catalog."""
        store = cls(engine, catalog if catalog is not None else Catalog(), clock)
        store._open()
        return store

    # --- timestamps ----------------------------------------------------------------------------

    def _next_timestamp(self) -> int:
        """A write timestamp (µs) at least 2 above the previous one (so ``ts - 1`` is above it)."""
        ts = max(int(self.clock() * 1_000_000), self._last_timestamp + 2)
        self._last_timestamp = ts
        return ts

    def _now(self) -> int:
        return int(self.clock())

    # --- reading -------------------------------------------------------------------------------

    def read_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every stored ``system_schema`` row, by schema table (also notes the newest timestamp)."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for name, codec in self._codecs.items():
            out = rows.setdefault(name, [])
            for partition in self.engine.scan(codec.table_id):
                for row in partition.rows:
                    self._last_timestamp = max(self._last_timestamp, row.max_timestamp())
                out.extend(codec.decode_partition(partition))
        return rows

    # --- opening -------------------------------------------------------------------------------

    def _open(self) -> None:
        engine, catalog = self.engine, self.catalog
        existing = {table_id for _ks, _name, table_id in engine.tables()}
        for ks in system_keyspaces().values():
            for table in ks.tables.values():
                if table.id.bytes not in existing:
                    self._ensure_engine_table(table)
        stored = self.read_rows()
        catalog.load(stored)
        updates = []
        stored_by_ks = _rows_by_keyspace(stored)
        for name in SYSTEM_KEYSPACES:
            ks = catalog.keyspace(name)
            if _canonical_rows(keyspace_rows(ks)) != _canonical_rows(stored_by_ks.get(name, {})):
                updates.extend(self._keyspace_updates(name, ks, self._next_timestamp()))
        if updates:
            engine.apply(updates)
        known = index_table_ids(catalog)             # hidden index tables: kept, not rebuilt
        for table in catalog.tables():
            known.add(table.id.bytes)
            if table.id.bytes not in existing:       # existing ones keep the options they were
                self._ensure_engine_table(table)     # given at CREATE / ALTER (options.json)
        for table_id in existing - known:
            engine.drop_table(table_id)
        catalog.add_listener(self._on_change)

    def _ensure_engine_table(self, table: TableMetadata) -> None:
        self.engine.create_table(table.keyspace, table.name, table.id.bytes,
                                 engine_table_options(table.options))

    # --- writing -------------------------------------------------------------------------------

    def _keyspace_updates(self, name: str, ks: KeyspaceMetadata | None,
                          ts: int) -> list[PartitionUpdate]:
        """One update per schema table: delete the keyspace's partition at ts-1, write its rows."""
        now = self._now()
        rows = keyspace_rows(ks) if ks is not None else {}
        updates = []
        for table_name, codec in self._codecs.items():
            update = codec.delete_partition([name], timestamp=ts - 1, now=now)
            for row in rows.get(table_name, []):
                update.merge(codec.insert(row, timestamp=ts, now=now))
            updates.append(update)
        return updates

    def _on_change(self, change: SchemaChange, before: Mapping[str, KeyspaceMetadata],
                   after: Mapping[str, KeyspaceMetadata]) -> None:
        with self._lock:
            name = change.keyspace
            old_ks, new_ks = before.get(name), after.get(name)
            old_tables = {t.id: t for t in (old_ks.tables.values() if old_ks else ())}
            new_tables = {t.id: t for t in (new_ks.tables.values() if new_ks else ())}
            for tid, table in new_tables.items():
                if tid not in old_tables:
                    self._ensure_engine_table(table)
            self.engine.apply(self._keyspace_updates(name, new_ks, self._next_timestamp()))
            for tid, table in old_tables.items():
                if tid not in new_tables:
                    self.engine.drop_table(tid.bytes)
                elif new_tables[tid].options != table.options:
                    self.engine.set_table_options(tid.bytes,
                                                  engine_table_options(new_tables[tid].options))

    def close(self) -> None:
        """Stop persisting (the engine stays open: its owner closes it)."""
        try:
            self.catalog.remove_listener(self._on_change)
        except ValueError:
            pass


def _rows_by_keyspace(rows: Mapping[str, list[dict[str, Any]]]
                      ) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table, table_rows in rows.items():
        for row in table_rows:
            out.setdefault(row["keyspace_name"], {}).setdefault(table, []).append(row)
    return out


def _canonical_rows(rows: Mapping[str, list[dict[str, Any]]]) -> dict[str, list]:
    """Rows in a comparable form (null columns and tables without rows left out)."""
    return {t: sorted(canonical_value({k: v for k, v in r.items() if v is not None}) for r in rs)
            for t, rs in rows.items() if rs}
