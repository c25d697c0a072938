"""Secondary indexes: one hidden engine table per index, built at CREATE INDEX, kept in step on every write.

Public API (the read executor and the DDL executor use these):

    index_lookup(engine, table, index, value, *, now=None) -> Iterator[tuple[bytes, bytes | None]]
        (base partition key bytes, base clustering bytes) of every row whose indexed value equals
        ``value``, in ring order: ascending token of the base partition, then clustering order.
        ``index`` is an IndexMetadata or its name; ``value`` is the Python value of what the index
        holds: the column's value for a plain index, an element for ``values(list|set)``, a map
        value for ``values(map)``, a key for ``keys(m)``, a ``(key, value)`` pair for
        ``entries(m)``, the whole frozen value for ``full(f)``.  For an index on a static column
        the clustering is None (every row of the partition matches).
        Entries of plain/collection indexes are exact (maintained under the write executor's
        partition lock); entries of indexes on key components may outlive a row that expired by
        TTL, so the caller re-checks the restriction on the base row it reads (as Cassandra does).
    index_key(table, index, value) -> bytes: the index-table partition key of a lookup value;
    local_entries(engine, table, index, key, *, from_token=None, now=None): the same pairs as
        index_lookup for an index key, optionally only those whose base token is >= from_token
        (a ring replica answers index reads with it, cqlpy/node_indexes.py).
    IndexManager(engine): create(table, index, now=...) (engine table + build over existing rows,
        called after the catalog's CREATE INDEX), drop(table, index_name), drop_table(table),
        truncate(table), ensure(catalog, now=...) (at open: rebuild an index whose table is
        missing), sync(catalog, now=...) (ensure, then drop hidden tables of indexes the catalog
        no longer names: a ring node adopting a peer's schema), lookup(...),
        updates_for(table, updates, now, only=None) (the write path's maintenance; ``only``: the
        index table ids that exist, others are skipped); ``building``: the index table ids
        whose build is under way (a ring replica refuses index reads on them meanwhile);
        ``lock``: held while an index table is created or dropped (a ring replica holds it from
        checking which index tables exist to applying, so no write slips past a starting build).
    index_table_id(table, index) / index_table_ids(catalog): the hidden tables' engine ids (the
        schema store must not drop them as unknown tables at open); is_index_table(name): whether
        an engine table name is that of a hidden index table ("table.index").

Index table layout (engine bytes): partition key = b"I" + the indexed value in keycodec's
order-preserving encoding (entries: key then value); clustering = token of the base partition as
8 bytes (sign bit flipped, so bytes order = token order) + u16 length + base partition key + base
clustering bytes.  Each entry is a row with only a marker whose timestamp/TTL are those of the
indexed cell; an entry that stops matching gets a row deletion at the old cell's timestamp.
"""
from __future__ import annotations

import struct
import threading
import uuid
from typing import Any, Container, Iterable, Iterator

from cqlpy.engine.murmur3 import token as murmur3_token
from cqlpy.engine.rows import (
    FULL_SLICE, NO_EXPIRY, Cell, DeletionTime, PartitionUpdate, Row, Slice, covering_deletion,
    later_deletion, live_row,
)
from cqlpy.errors import InvalidRequest
from cqlpy.schema import codec, keycodec
from cqlpy.schema import types as T
from cqlpy.schema.model import IndexMetadata, TableMetadata
from cqlpy.session.rowcodec import row_codec

_NAMESPACE = uuid.UUID("5d1c3f0e-6a1b-4c52-9a57-1f1e0c9a2b77")
_U16 = struct.Struct(">H")
_KEY_PREFIX = b"I"
_BUILD_BATCH = 500


def index_table_id(table: TableMetadata, index: IndexMetadata | str) -> bytes:
    """The engine table id of an index's hidden table (stable across restarts)."""
    name = index if isinstance(index, str) else index.name
    return uuid.uuid5(_NAMESPACE, f"{table.id.hex}:{name}").bytes


def index_table_name(table: TableMetadata, index: IndexMetadata | str) -> str:
    name = index if isinstance(index, str) else index.name
    return f"{table.name}.{name}"


def index_table_ids(catalog: Any) -> set[bytes]:
    """Engine ids of every index table the catalog's schema implies."""
    return {index_table_id(t, i) for t in catalog.tables() for i in t.indexes if not i.is_custom}


def _resolve(table: TableMetadata, index: IndexMetadata | str) -> IndexMetadata:
    if isinstance(index, IndexMetadata):
        return index
    found = table.index(index)
    if found is None:
        raise InvalidRequest(f"Unknown index {index} on table {table.keyspace}.{table.name}")
    return found


def _clustering(key: bytes, base_clustering: bytes) -> bytes:
    tok = murmur3_token(key) + (1 << 63)
    return tok.to_bytes(8, "big") + _U16.pack(len(key)) + key + base_clustering


def _split(clustering: bytes) -> tuple[bytes, bytes]:
    (n,) = _U16.unpack_from(clustering, 8)
    return clustering[10:10 + n], clustering[10 + n:]


class _Target:
    """What one index extracts from a row: entry keys with the cell that makes them live."""

    def __init__(self, table: TableMetadata, index: IndexMetadata) -> None:
        self.index = index
        name, kind = index.target
        self.column = table.column(name)
        self.kind = kind
        t = self.column.type
        self.static = self.column.is_static
        self.key_component = self.column.is_primary_key
        if kind == "keys":
            self.value_type: T.CQLType = t.key
        elif kind == "values":
            self.value_type = t.element if isinstance(t, (T.ListType, T.SetType)) else t.value
        elif kind == "entries":
            self.value_type = T.TupleType((t.key, t.value))
        else:
            self.value_type = t

    def key_of(self, value: Any) -> bytes:
        """The index partition key of a lookup value."""
        if value is None:
            raise InvalidRequest(f"Unsupported null value for indexed column {self.column.name}")
        if self.kind == "entries":
            k, v = value
            t = self.column.type
            return _KEY_PREFIX + keycodec.encode_prefix([t.key, t.value], ["asc", "asc"], [k, v])
        return _KEY_PREFIX + keycodec.encode_value(self.value_type, value)

    def entries(self, codec_: Any, key: bytes, row: Row | None) -> dict[bytes, Cell]:
        """{index key: liveness cell} for one live row (a static row for a static target)."""
        if row is None:
            return {}
        out: dict[bytes, Cell] = {}
        col = self.column
        if self.key_component:
            ts = max((c.timestamp for c in row.iter_cells()), default=None)
            if row.marker is not None:
                ts = row.marker.timestamp if ts is None else max(ts, row.marker.timestamp)
            if ts is None:
                return {}
            if col.is_partition_key:
                value = codec_.decode_partition_key(key)[col.name]
            else:
                value = codec_.decode_clustering(row.clustering)[col.name]
            return {self.key_of(value): Cell(b"", ts, 0, NO_EXPIRY)}
        data = row.columns.get(col.name)
        if data is None:
            return {}
        t = col.type
        if isinstance(data, Cell):
            if data.value is None or col.is_multi_cell:
                return {}
            value = codec.deserialize(t, data.value)
            if self.kind in ("simple", "full"):
                return {self.key_of(value): data}
            items = self._items(t, value)
            for item in items:
                _keep(out, self.key_of(item), data)
            return out
        for path, cell in data.cells.items():
            if cell.value is None:
                continue
            if isinstance(t, T.ListType):
                item = codec.deserialize(t.element, cell.value)
            elif isinstance(t, T.SetType):
                item = keycodec.decode_cell_path(t, path)
            elif isinstance(t, T.MapType):
                k = keycodec.decode_cell_path(t, path)
                if self.kind == "keys":
                    item = k
                elif self.kind == "entries":
                    item = (k, codec.deserialize(t.value, cell.value))
                else:
                    item = codec.deserialize(t.value, cell.value)
            else:
                continue
            _keep(out, self.key_of(item), cell)
        return out

    def _items(self, t: T.CQLType, value: Any) -> list[Any]:
        """Elements of a frozen collection for a values/keys/entries target."""
        if isinstance(t, T.MapType):
            pairs = value.items() if hasattr(value, "items") else value
            if self.kind == "keys":
                return [k for k, _ in pairs]
            if self.kind == "entries":
                return [(k, v) for k, v in pairs]
            return [v for _, v in pairs]
        return list(value)


def _keep(out: dict[bytes, Cell], key: bytes, cell: Cell) -> None:
    mine = out.get(key)
    if mine is None or (cell.timestamp, cell.local_deletion_time) > (mine.timestamp,
                                                                      mine.local_deletion_time):
        out[key] = cell


def _entry_marker(cell: Cell) -> Cell:
    if cell.ttl > 0:
        return Cell(b"", cell.timestamp, cell.ttl, cell.local_deletion_time)
    return Cell(b"", cell.timestamp, 0, NO_EXPIRY)


def index_lookup(engine: Any, table: TableMetadata, index: IndexMetadata | str, value: Any, *,
                 now: int | None = None) -> Iterator[tuple[bytes, bytes | None]]:
    """(base partition key, base clustering | None) of the rows whose indexed value is ``value``,
    in token order then clustering order.  See the module docstring."""
    return local_entries(engine, table, index, index_key(table, index, value), now=now)


def index_key(table: TableMetadata, index: IndexMetadata | str, value: Any) -> bytes:
    """The index-table partition key holding the entries of ``value``."""
    return _Target(table, _resolve(table, index)).key_of(value)


def local_entries(engine: Any, table: TableMetadata, index: IndexMetadata | str, key: bytes, *,
                  from_token: int | None = None,
                  now: int | None = None) -> Iterator[tuple[bytes, bytes | None]]:
    """The entries of index key ``key`` held by ``engine`` (base token >= ``from_token`` when
    given), as index_lookup gives them."""
    idx = _resolve(table, index)
    static = table.column(idx.target[0]).is_static
    slices = (FULL_SLICE,)
    if from_token is not None:
        slices = (Slice((from_token + (1 << 63)).to_bytes(8, "big"), True, None, False),)
    part = engine.read(index_table_id(table, idx), key, slices, now=now)
    if part is None:
        return
    for row in part.rows:
        base_key, ck = _split(row.clustering)
        yield base_key, (None if static else ck)


def is_index_table(name: str) -> bool:
    """Whether an engine table name is that of a hidden index table (CQL names have no dot)."""
    return "." in name


class IndexManager:
    """The secondary indexes of one engine: their tables, builds and per-write maintenance."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.building: set[bytes] = set()       # index table ids whose build is under way
        self.lock = threading.RLock()           # index tables appear / leave under it

    # --- schema side ---------------------------------------------------------------------------

    def _ensure_table(self, table: TableMetadata, index: IndexMetadata) -> bool:
        """Create the hidden table if missing; True when it was created."""
        tid = index_table_id(table, index)
        with self.lock:
            if any(t == tid for _ks, _n, t in self.engine.tables()):
                return False
            self.engine.create_table(table.keyspace, index_table_name(table, index), tid)
            self.building.add(tid)              # until the build that follows is done
            return True

    def create(self, table: TableMetadata, index: IndexMetadata | str, *, now: int) -> None:
        """CREATE INDEX: make the index table and index every existing row of ``table``."""
        idx = _resolve(table, index)
        if idx.is_custom:
            return
        self._ensure_table(table, idx)
        self.build(table, idx, now=now)

    def build(self, table: TableMetadata, index: IndexMetadata, *, now: int) -> int:
        """Index every live row of ``table``; returns the number of entries written."""
        tid = index_table_id(table, index)
        self.building.add(tid)
        try:
            return self._build(table, index, tid, now)
        finally:
            self.building.discard(tid)

    def _build(self, table: TableMetadata, index: IndexMetadata, tid: bytes, now: int) -> int:
        target = _Target(table, index)
        codec_ = row_codec(table)
        pending: dict[bytes, PartitionUpdate] = {}
        count = 0
        for part in self.engine.scan(table.table_id, now=now):
            rows = [part.static_row] if target.static else part.rows
            for row in rows:
                ck = b"" if target.static else row.clustering
                for ikey, cell in target.entries(codec_, part.key, row).items():
                    u = pending.get(ikey)
                    if u is None:
                        u = pending[ikey] = PartitionUpdate(tid, ikey)
                    u.add_row(Row(_clustering(part.key, ck), marker=_entry_marker(cell)))
                    count += 1
            if len(pending) >= _BUILD_BATCH:
                self.engine.apply(list(pending.values()))
                pending = {}
        if pending:
            self.engine.apply(list(pending.values()))
        return count

    def drop(self, table: TableMetadata, index: IndexMetadata | str) -> None:
        """DROP INDEX: the hidden table leaves the disk."""
        tid = index_table_id(table, index)
        with self.lock:
            if any(t == tid for _ks, _n, t in self.engine.tables()):
                self.engine.drop_table(tid)

    def drop_table(self, table: TableMetadata) -> None:
        """DROP TABLE / DROP KEYSPACE: drop the tables of every index of ``table``."""
        for idx in table.indexes:
            self.drop(table, idx)

    def truncate(self, table: TableMetadata) -> None:
        existing = {t for _ks, _n, t in self.engine.tables()}
        for idx in table.indexes:
            tid = index_table_id(table, idx)
            if tid in existing:
                self.engine.truncate(tid)

    def ensure(self, catalog: Any, *, now: int) -> None:
        """At open: every index of the catalog has its table; a missing one is rebuilt."""
        for table in catalog.tables():
            for idx in table.indexes:
                if not idx.is_custom and self._ensure_table(table, idx):
                    self.build(table, idx, now=now)

    def sync(self, catalog: Any, *, now: int) -> None:
        """ensure(), then drop the hidden tables of indexes ``catalog`` no longer names (a ring
        node adopting a peer's DROP INDEX / DROP TABLE / DROP KEYSPACE)."""
        self.ensure(catalog, now=now)
        known = index_table_ids(catalog)
        with self.lock:
            for _ks, name, tid in self.engine.tables():
                if is_index_table(name) and tid not in known:
                    self.engine.drop_table(tid)

    def lookup(self, table: TableMetadata, index: IndexMetadata | str, value: Any, *,
               now: int | None = None) -> Iterator[tuple[bytes, bytes | None]]:
        return index_lookup(self.engine, table, index, value, now=now)

    # --- write side ----------------------------------------------------------------------------

    def updates_for(self, table: TableMetadata, updates: Iterable[PartitionUpdate], *,
                    now: int, only: Container[bytes] | None = None) -> list[PartitionUpdate]:
        """The index-table updates that keep every index of ``table`` in step with ``updates``
        (base updates of that table, not yet applied).  Reads the current state of the touched
        rows; the caller holds the partition locks and applies both lists in one engine.apply.
        ``only``: maintain just the indexes whose table id is in it (the tables that exist)."""
        targets = [_Target(table, i) for i in table.indexes
                   if not i.is_custom and table.get_column(i.target_column) is not None
                   and (only is None or index_table_id(table, i) in only)]
        if not targets:
            return []
        codec_ = row_codec(table)
        merged: dict[bytes, PartitionUpdate] = {}
        for u in updates:
            if u.table_id != table.table_id:
                continue
            mine = merged.get(u.key)
            if mine is None:
                mine = merged[u.key] = PartitionUpdate(u.table_id, u.key)
            mine.merge(u)
        out: dict[tuple[bytes, bytes], PartitionUpdate] = {}
        for key, upd in merged.items():
            if not _touches(targets, upd):
                continue
            old = self._read_old(table, key, upd, now)
            for target in targets:
                for ck, before, after in _row_states(old, upd, target.static, now):
                    self._diff(target, codec_, table, key, ck, before, after, out, now)
        return [u for u in out.values() if not u.is_empty()]

    def _read_old(self, table: TableMetadata, key: bytes, upd: PartitionUpdate, now: int) -> Any:
        slices = None
        if upd.deletion is None and not upd.range_tombstones and len(upd.rows) <= 32:
            slices = ([Slice(ck, True, ck, True) for ck in sorted(upd.rows)]
                      or [Slice(b"\xff", True, b"\xff", False)])     # static row only
        if slices is None:
            return self.engine.read(table.table_id, key, now=now, tombstones=True)
        return self.engine.read(table.table_id, key, slices, now=now, tombstones=True)

    def _diff(self, target: _Target, codec_: Any, table: TableMetadata, key: bytes, ck: bytes,
              before: Row | None, after: Row | None,
              out: dict[tuple[bytes, bytes], PartitionUpdate], now: int) -> None:
        old = target.entries(codec_, key, before)
        new = target.entries(codec_, key, after)
        if old == new:
            return
        tid = index_table_id(table, target.index)
        clustering = _clustering(key, ck)

        def update(ikey: bytes) -> PartitionUpdate:
            u = out.get((tid, ikey))
            if u is None:
                u = out[(tid, ikey)] = PartitionUpdate(tid, ikey)
            return u

        for ikey, cell in old.items():
            fresh = new.get(ikey)
            if fresh is None or fresh.timestamp > cell.timestamp:
                update(ikey).add_row(Row(clustering, deletion=DeletionTime(cell.timestamp, now)))
        for ikey, cell in new.items():
            if old.get(ikey) != cell:
                update(ikey).add_row(Row(clustering, marker=_entry_marker(cell)))


def _touches(targets: list[_Target], upd: PartitionUpdate) -> bool:
    """Whether ``upd`` may change some entry (else the read-before-write is skipped)."""
    if upd.deletion is not None or upd.range_tombstones:
        return True
    for target in targets:
        if target.key_component:
            return True
        name = target.column.name
        if target.static:
            if upd.static_row is not None and name in upd.static_row.columns:
                return True
            continue
        for row in upd.rows.values():
            if row.deletion is not None or name in row.columns:
                return True
    return False


def _row_states(old: Any, upd: PartitionUpdate, static: bool,
                now: int) -> Iterator[tuple[bytes, Row | None, Row | None]]:
    """(clustering, live row before, live row after) for every row ``upd`` may change."""
    old_del = old.deletion if old is not None else None
    old_rts = list(old.range_tombstones) if old is not None else []
    new_del = later_deletion(old_del, upd.deletion)
    new_rts = old_rts + list(upd.range_tombstones)
    if static:
        before_row = old.static_row if old is not None else None
        after_row = before_row
        if upd.static_row is not None:
            after_row = upd.static_row if after_row is None else after_row.merge(upd.static_row)
        if before_row is None and after_row is None:
            return
        before = live_row(before_row, old_del, now) if before_row is not None else None
        after = live_row(after_row, new_del, now) if after_row is not None else None
        yield b"", before, after
        return
    old_rows = {r.clustering: r for r in old.rows} if old is not None else {}
    touched = set(upd.rows)
    if upd.deletion is not None:
        touched.update(old_rows)
    elif upd.range_tombstones:
        touched.update(ck for ck in old_rows
                       if any(rt.slice.contains(ck) for rt in upd.range_tombstones))
    for ck in sorted(touched):
        before_row = old_rows.get(ck)
        after_row = before_row
        if ck in upd.rows:
            after_row = upd.rows[ck] if after_row is None else after_row.merge(upd.rows[ck])
        before = (live_row(before_row, covering_deletion(old_del, old_rts, ck), now)
                  if before_row is not None else None)
        after = (live_row(after_row, covering_deletion(new_del, new_rts, ck), now)
                 if after_row is not None else None)
        yield ck, before, after


__all__ = ["IndexManager", "index_key", "index_lookup", "index_table_id", "index_table_ids",
           "index_table_name", "is_index_table", "local_entries"]
