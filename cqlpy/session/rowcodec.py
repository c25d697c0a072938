"""The bridge between CQL rows (Python values per column) and engine rows (bytes, cells, paths).

One ``RowCodec`` per table.  Keys use ``keycodec``: the partition key is Cassandra's serialization
(so tokens equal Cassandra's), clustering keys are order-preserving bytes (a DESC column inverted).
Cell values use the native-protocol codec.  How a CQL write becomes cells, as in Cassandra:

* INSERT writes a row marker (``Cell(b"", ts, ttl)``) plus one cell per given column; UPDATE writes
  only cells.  ``None`` writes a tombstone.  Static columns go to the static row (clustering b"").
* A non-frozen collection or UDT is a ``ComplexColumn``: list elements keyed by a timeuuid path
  (appends move forward in time from the write timestamp, prepends backwards from 2010-01-01, so
  they sort first), set elements keyed by the element with an empty value, map entries keyed by
  the key with the value's bytes, UDT fields keyed by the u16 field position.  Overwriting the
  whole value first deletes the collection at ``timestamp - 1``; DELETE of the column deletes it
  at ``timestamp``.
* Times: ``timestamp`` in microseconds, ``now``/``ttl`` in seconds (expiry = now + ttl).
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from cqlpy.engine.murmur3 import token as murmur3_token
from cqlpy.engine.rows import (
    NO_EXPIRY, Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice,
)
from cqlpy.errors import InvalidRequest
from cqlpy.schema import codec, keycodec
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata
from cqlpy.schema.values import udt_class

MARKER_VALUE = b""

# --- list cell paths: time-based uuids ------------------------------------------------------------

_UUID_EPOCH_OFFSET = 0x01B21DD213814000        # 100-ns intervals from 1582-10-15 to 1970-01-01
_PREPEND_REFERENCE = 1_262_304_000 * 10_000_000 + _UUID_EPOCH_OFFSET   # 2010-01-01, as Cassandra
_path_lock = threading.Lock()
_last_append = 0
_last_prepend = _PREPEND_REFERENCE
_CLOCK_SEQ = secrets.randbits(14)
_NODE = secrets.randbits(48) | (1 << 40)        # random node id, multicast bit set (RFC 4122 4.5)
_LIST_TYPE = T.ListType(T.INT)


def _timeuuid(ticks: int) -> uuid.UUID:
    """The version-1 uuid of ``ticks`` (100-ns intervals since 1582-10-15) and this process's node."""
    return uuid.UUID(fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF,
                             ((ticks >> 48) & 0x0FFF) | 0x1000, 0x80 | (_CLOCK_SEQ >> 8),
                             _CLOCK_SEQ & 0xFF, _NODE))


def list_paths(count: int, *, prepend: bool = False) -> list[bytes]:
    """``count`` new list cell paths, strictly increasing, for elements written now.

    As Cassandra's Lists: an append takes timeuuids of the current time (strictly increasing within
    this process), so it sorts after every element appended before; a prepend takes times running
    backwards from 2010-01-01, so it sorts before every existing element (elements of one prepend
    keep their order)."""
    global _last_append, _last_prepend
    now = time.time_ns() // 100 + _UUID_EPOCH_OFFSET
    with _path_lock:
        if prepend:
            start = min(_PREPEND_REFERENCE - (now - _PREPEND_REFERENCE), _last_prepend - 1)
            ticks = list(range(start - count + 1, start + 1))
            _last_prepend = start - count + 1
        else:
            start = max(now, _last_append + 1)
            ticks = list(range(start, start + count))
            _last_append = start + count - 1
    return [keycodec.encode_cell_path(_LIST_TYPE, _timeuuid(t)) for t in ticks]


# --- the codec -----------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def row_codec(table: TableMetadata) -> "RowCodec":
    """The (cached) codec of a table version; an altered table is a new version, with its own."""
    return RowCodec(table)


class RowCodec:
    """Encodes keys and writes, and decodes engine rows, for one table."""

    def __init__(self, table: TableMetadata) -> None:
        self.table = table
        self.table_id = table.id.bytes
        self._pk = table.partition_key
        self._ck = table.clustering
        self._pk_types = [c.type for c in self._pk]
        self._ck_types = [c.type for c in self._ck]
        self._ck_orders = [c.clustering_order for c in self._ck]
        self._dropped = {d.name: d.dropped_time for d in table.dropped_columns}
        self._non_key = table.non_key_columns
        self._static = table.static_columns

    # --- keys ------------------------------------------------------------------------------

    def _values(self, columns: Sequence[ColumnMetadata], values: Sequence[Any] | Mapping[str, Any],
                partial: bool = False) -> list[Any]:
        if not isinstance(values, Mapping):
            return list(values)
        out = []
        for c in columns:
            if c.name not in values:
                if partial:
                    break
                missing = ", ".join(m.name for m in columns if m.name not in values)
                what = ("partition key parts" if c.is_partition_key else "clustering keys")
                raise InvalidRequest(f"Some {what} are missing: {missing}")
            out.append(values[c.name])
        return out

    def partition_key_bytes(self, values: Sequence[Any] | Mapping[str, Any]) -> bytes:
        """Partition-key values (in key order, or by name) -> the engine's key bytes."""
        vals = self._values(self._pk, values)
        for c, v in zip(self._pk, vals):
            if v is None:
                raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
        return keycodec.encode_partition_key(self._pk_types, vals)

    def token(self, values: Sequence[Any] | Mapping[str, Any]) -> int:
        return murmur3_token(self.partition_key_bytes(values))

    def decode_partition_key(self, key: bytes) -> dict[str, Any]:
        values = keycodec.decode_partition_key(self._pk_types, key)
        return {c.name: v for c, v in zip(self._pk, values)}

    def clustering_bytes(self, values: Sequence[Any] | Mapping[str, Any]) -> bytes:
        """A full clustering (one value per clustering column) -> comparable bytes."""
        vals = self._values(self._ck, values)
        for c, v in zip(self._ck, vals):
            if v is None:
                raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
        return keycodec.encode_clustering(self._ck_types, self._ck_orders, vals)

    def clustering_prefix(self, values: Sequence[Any] | Mapping[str, Any]) -> bytes:
        """The first n clustering values -> the byte prefix of every clustering that starts so."""
        vals = self._values(self._ck, values, partial=True)
        return keycodec.encode_prefix(self._ck_types[:len(vals)], self._ck_orders[:len(vals)], vals)

    def decode_clustering(self, data: bytes) -> dict[str, Any]:
        values = keycodec.decode_clustering(self._ck_types, self._ck_orders, data)
        return {c.name: v for c, v in zip(self._ck, values)}

    def prefix_slice(self, values: Sequence[Any] | Mapping[str, Any]) -> Slice:
        """Every row whose clustering starts with these values (all rows for ``()``)."""
        return self.slice(self._values(self._ck, values, partial=True))

    def slice(self, prefix: Sequence[Any] = (), lower: tuple[Sequence[Any], bool] | None = None,
              upper: tuple[Sequence[Any], bool] | None = None) -> Slice:
        """The clustering byte range for ``prefix`` (EQ values of the first columns) followed by
        a slice on the next column(s): ``lower``/``upper`` = (values, inclusive) in CQL value
        order; several values form a tuple bound ``(c, d) > (1, 2)``.  A DESC column swaps
        the byte bounds.  A tuple bound over columns of mixed order is refused (InvalidRequest).
        """
        p = self.clustering_prefix(list(prefix))
        start = p or None                       # inclusive
        end = keycodec.prefix_end(p) if p else None   # exclusive
        n = len(prefix)
        for bound, is_lower in ((lower, True), (upper, False)):
            if bound is None:
                continue
            values, inclusive = bound
            values = list(values)
            if not values:
                continue
            orders = set(self._ck_orders[n:n + len(values)])
            if len(orders) > 1:
                raise InvalidRequest("Tuple slices over clustering columns of mixed ASC/DESC order "
                                     "are not supported")
            desc = self._ck_orders[n] == "desc"
            e = keycodec.encode_prefix(self._ck_types[:n + len(values)],
                                       self._ck_orders[:n + len(values)], list(prefix) + values)
            # In byte order: a lower value bound is a lower byte bound unless the column is DESC.
            as_lower = is_lower != desc
            if as_lower:
                b = e if inclusive else keycodec.prefix_end(e)
                if b is None:                       # nothing sorts after: an empty range
                    return Slice(p + b"\xff", True, p + b"\xff", False)
                if start is None or b > start:
                    start = b
            else:
                b = keycodec.prefix_end(e) if inclusive else e
                if b is not None and (end is None or b < end):
                    end = b
        return Slice(start, True, end, False)

    # --- writes ----------------------------------------------------------------------------

    def write(self, partition_key: Sequence[Any] | Mapping[str, Any],
              clustering: Sequence[Any] | Mapping[str, Any] | None, *, timestamp: int,
              now: int, ttl: int = 0) -> "RowWrite":
        """Start a write of one row (``clustering`` None: only static columns may be written)."""
        key = self.partition_key_bytes(partition_key)
        ck = None
        if clustering is not None:
            ck = self.clustering_bytes(clustering) if self._ck else b""
        elif not self._ck:
            ck = b""
        return RowWrite(self, key, ck, timestamp, now, ttl)

    def insert(self, values: Mapping[str, Any], *, timestamp: int, now: int,
               ttl: int = 0) -> PartitionUpdate:
        """INSERT: a row marker plus a cell for every non-key column in ``values``.

        When only key and static columns are given and no clustering value, only the static row
        is written (no marker), as Cassandra does."""
        has_ck = all(c.name in values for c in self._ck)
        non_key = [c for c in self._non_key if c.name in values]
        if not has_ck and (any(not c.is_static for c in non_key)
                           or any(c.name in values for c in self._ck)):
            missing = ", ".join(c.name for c in self._ck if c.name not in values)
            raise InvalidRequest(f"Some clustering keys are missing: {missing}")
        w = self.write(values, values if has_ck else None, timestamp=timestamp, now=now, ttl=ttl)
        if has_ck:
            w.marker()
        for c in non_key:
            w.set(c.name, values[c.name])
        return w.update

    def delete_partition(self, partition_key: Sequence[Any] | Mapping[str, Any], *,
                         timestamp: int, now: int) -> PartitionUpdate:
        return PartitionUpdate(self.table_id, self.partition_key_bytes(partition_key),
                               deletion=DeletionTime(timestamp, now))

    def delete_row(self, partition_key: Sequence[Any] | Mapping[str, Any],
                   clustering: Sequence[Any] | Mapping[str, Any], *, timestamp: int,
                   now: int) -> PartitionUpdate:
        u = PartitionUpdate(self.table_id, self.partition_key_bytes(partition_key))
        ck = self.clustering_bytes(clustering)
        u.add_row(Row(ck, deletion=DeletionTime(timestamp, now)))
        return u

    def delete_range(self, partition_key: Sequence[Any] | Mapping[str, Any], slice: Slice, *,
                     timestamp: int, now: int) -> PartitionUpdate:
        u = PartitionUpdate(self.table_id, self.partition_key_bytes(partition_key))
        if not slice.is_empty():
            u.range_tombstones.append(RangeTombstone(slice, DeletionTime(timestamp, now)))
        return u

    # --- reads -----------------------------------------------------------------------------

    def _cell_visible(self, name: str, timestamp: int) -> bool:
        dropped = self._dropped.get(name)
        return dropped is None or timestamp > dropped

    def decode_value(self, column: ColumnMetadata, data: Cell | ComplexColumn | None) -> Any:
        """The Python value of one column's data (None when absent, deleted or empty)."""
        if data is None:
            return None
        t = column.type
        if isinstance(data, Cell):
            if data.value is None or not self._cell_visible(column.name, data.timestamp):
                return None
            if column.is_multi_cell:       # a frozen value where a collection is expected
                return None
            return codec.deserialize(t, data.value)
        cells = [(p, c) for p, c in sorted(data.cells.items())
                 if c.value is not None and self._cell_visible(column.name, c.timestamp)]
        if not cells:
            return None
        if isinstance(t, T.ListType):
            return [codec.deserialize(t.element, c.value) for _, c in cells]
        if isinstance(t, T.SetType):
            items = [keycodec.decode_cell_path(t, p) for p, _ in cells]
            return set(items) if T.python_value_is_hashable(t.element) else items
        if isinstance(t, T.MapType):
            pairs = [(keycodec.decode_cell_path(t, p), codec.deserialize(t.value, c.value))
                     for p, c in cells]
            return dict(pairs) if T.python_value_is_hashable(t.key) else pairs
        if isinstance(t, T.UserType):
            fields: dict[str, Any] = {}
            for p, c in cells:
                name = keycodec.decode_cell_path(t, p)
                fields[name] = codec.deserialize(t.field_type(name), c.value)
            return udt_class(t)(*(fields.get(f) for f in t.field_names))
        return None

    def decode_row(self, key: bytes | None, row: Row | None, static_row: Row | None = None, *,
                   partition_key: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One CQL row: {column: value} for every column in SELECT * order (None when null).

        ``row`` None gives the static-only row of a partition without live rows (clustering and
        regular columns null).  ``partition_key`` saves decoding ``key`` again."""
        pk = partition_key if partition_key is not None else (
            self.decode_partition_key(key) if key is not None else {})
        ck = self.decode_clustering(row.clustering) if row is not None and self._ck else {}
        out: dict[str, Any] = {}
        for c in self.table.columns:
            if c.is_partition_key:
                out[c.name] = pk.get(c.name)
            elif c.is_clustering:
                out[c.name] = ck.get(c.name)
            elif c.is_static:
                out[c.name] = self.decode_value(
                    c, static_row.columns.get(c.name) if static_row is not None else None)
            else:
                out[c.name] = self.decode_value(c, row.columns.get(c.name) if row is not None
                                                else None)
        return out

    def decode_partition(self, partition: Any) -> list[dict[str, Any]]:
        """Every CQL row of an engine ``Partition`` (rows in its order; a partition with only
        static data gives one row with null clustering and regular columns)."""
        pk = self.decode_partition_key(partition.key)
        static = partition.static_row
        if partition.rows:
            return [self.decode_row(None, r, static, partition_key=pk) for r in partition.rows]
        if static is not None and any(self.decode_value(c, static.columns.get(c.name)) is not None
                                      for c in self._static):
            return [self.decode_row(None, None, static, partition_key=pk)]
        return []

    def writetime(self, column: ColumnMetadata, data: Cell | ComplexColumn | None) -> Any:
        """``writetime(col)``: the cell's timestamp (µs); for a non-frozen collection the list of
        its elements' timestamps (5.0); None when null."""
        if data is None:
            return None
        if isinstance(data, Cell):
            return data.timestamp if data.value is not None else None
        cells = [c for _, c in sorted(data.cells.items()) if c.value is not None]
        return [c.timestamp for c in cells] or None

    def ttl(self, column: ColumnMetadata, data: Cell | ComplexColumn | None, now: int) -> Any:
        """``ttl(col)``: remaining seconds of an expiring cell, None if it does not expire."""
        if data is None:
            return None

        def remaining(c: Cell) -> int | None:
            if c.value is None or c.ttl <= 0:
                return None
            return max(0, c.local_deletion_time - now)

        if isinstance(data, Cell):
            return remaining(data)
        cells = [c for _, c in sorted(data.cells.items()) if c.value is not None]
        return [remaining(c) for c in cells] or None


class RowWrite:
    """The cells one statement writes to one row (and the partition's static row)."""

    def __init__(self, codec_: RowCodec, key: bytes, clustering: bytes | None, timestamp: int,
                 now: int, ttl: int) -> None:
        self.codec = codec_
        self.table = codec_.table
        self.timestamp, self.now, self.ttl = timestamp, now, ttl
        self.clustering = clustering
        self.update = PartitionUpdate(codec_.table_id, key)

    # --- plumbing --------------------------------------------------------------------------

    def _row_for(self, column: ColumnMetadata) -> Row:
        u = self.update
        if column.is_static:
            if u.static_row is None:
                u.static_row = Row(b"")
            return u.static_row
        if column.is_primary_key:
            raise InvalidRequest(f"PRIMARY KEY part {column.name} found in SET part")
        if self.clustering is None:
            missing = ", ".join(c.name for c in self.table.clustering)
            raise InvalidRequest(f"Some clustering keys are missing: {missing}")
        row = u.rows.get(self.clustering)
        if row is None:
            row = u.rows[self.clustering] = Row(self.clustering)
        return row

    def _live(self, value: bytes) -> Cell:
        if self.ttl > 0:
            return Cell(value, self.timestamp, self.ttl, self.now + self.ttl)
        return Cell(value, self.timestamp, 0, NO_EXPIRY)

    def _tombstone(self) -> Cell:
        return Cell(None, self.timestamp, 0, self.now)

    def _complex(self, column: ColumnMetadata) -> ComplexColumn:
        row = self._row_for(column)
        data = row.columns.get(column.name)
        if not isinstance(data, ComplexColumn):
            data = row.columns[column.name] = ComplexColumn()
        return data

    def _column(self, name: str) -> ColumnMetadata:
        return self.table.column(name)

    # --- operations ------------------------------------------------------------------------

    def marker(self) -> "RowWrite":
        """The row marker an INSERT writes (primary-key liveness, with the statement's TTL)."""
        if self.clustering is None:
            raise InvalidRequest("A row marker needs the full primary key")
        row = self.update.rows.get(self.clustering)
        if row is None:
            row = self.update.rows[self.clustering] = Row(self.clustering)
        row.marker = self._live(MARKER_VALUE)
        return self

    def set(self, name: str, value: Any) -> "RowWrite":
        """``col = value``: the whole value (None: a tombstone, or a collection deletion)."""
        column = self._column(name)
        t = column.type
        if not column.is_multi_cell:
            row = self._row_for(column)
            row.columns[name] = (self._tombstone() if value is None
                                 else self._live(codec.serialize(t, value)))
            return self
        data = self._complex(column)
        data.deletion = DeletionTime(self.timestamp - 1, self.now)
        data.cells.clear()
        if value is not None:
            self._add_elements(column, data, value)
        return self

    def append(self, name: str, value: Any) -> "RowWrite":
        """``col = col + value``: list append, set union, map put-all, UDT fields set."""
        column = self._multi_cell(name)
        if value is not None:
            self._add_elements(column, self._complex(column), value)
        return self

    def prepend(self, name: str, values: Sequence[Any]) -> "RowWrite":
        """``l = [..] + l`` on a list."""
        column = self._multi_cell(name)
        if not isinstance(column.type, T.ListType):
            raise InvalidRequest(f"Invalid operation for non-list column {name}")
        if values:
            data = self._complex(column)
            for path, v in zip(list_paths(len(values), prepend=True), values):
                data.cells[path] = self._live(codec.serialize(column.type.element, v))
        return self

    def discard(self, name: str, keys: Iterable[Any]) -> "RowWrite":
        """``s = s - {..}`` on a set, ``m = m - {keys}`` / ``DELETE m[k]`` on a map, ``DELETE u.f``
        on a UDT: element tombstones."""
        column = self._multi_cell(name)
        if isinstance(column.type, T.ListType):
            raise InvalidRequest("Removing list elements by value needs the current list: use "
                                 "delete_paths with the paths read")
        data = self._complex(column)
        for k in keys:
            data.cells[keycodec.encode_cell_path(column.type, k)] = self._tombstone()
        return self

    def put(self, name: str, key: Any, value: Any) -> "RowWrite":
        """``m[k] = v`` on a map or ``u.f = v`` on a non-frozen UDT (None deletes the element)."""
        column = self._multi_cell(name)
        t = column.type
        path = keycodec.encode_cell_path(t, key)
        if isinstance(t, T.MapType):
            vt = t.value
        elif isinstance(t, T.UserType):
            vt = t.field_type(key)
        else:
            raise InvalidRequest(f"Invalid operation {name}[...] for non-map column {name}")
        data = self._complex(column)
        data.cells[path] = self._tombstone() if value is None else self._live(codec.serialize(vt, value))
        return self

    def set_paths(self, name: str, items: Iterable[tuple[bytes, Any]]) -> "RowWrite":
        """Write elements at existing cell paths (``l[i] = v`` after reading the list's paths)."""
        column = self._multi_cell(name)
        t = column.type
        vt = t.element if isinstance(t, T.ListType) else t.value if isinstance(t, T.MapType) else None
        data = self._complex(column)
        for path, v in items:
            if v is None:
                data.cells[path] = self._tombstone()
            elif vt is None:
                data.cells[path] = self._live(b"")
            else:
                data.cells[path] = self._live(codec.serialize(vt, v))
        return self

    def delete_paths(self, name: str, paths: Iterable[bytes]) -> "RowWrite":
        """Element tombstones at given paths (list ``DELETE l[i]`` / ``l = l - [..]``)."""
        column = self._multi_cell(name)
        data = self._complex(column)
        for path in paths:
            data.cells[path] = self._tombstone()
        return self

    def delete(self, name: str) -> "RowWrite":
        """``DELETE col``: a cell tombstone, or a collection deletion at the write timestamp."""
        column = self._column(name)
        if column.is_multi_cell:
            data = self._complex(column)
            data.deletion = DeletionTime(self.timestamp, self.now)
            data.cells.clear()
        else:
            self._row_for(column).columns[name] = self._tombstone()
        return self

    def _multi_cell(self, name: str) -> ColumnMetadata:
        column = self._column(name)
        if not column.is_multi_cell:
            raise InvalidRequest(f"Invalid operation on non-collection column {name}")
        return column

    def _add_elements(self, column: ColumnMetadata, data: ComplexColumn, value: Any) -> None:
        t = column.type
        if isinstance(t, T.ListType):
            values = list(value)
            for path, v in zip(list_paths(len(values)), values):
                if v is None:
                    raise InvalidRequest("null is not supported inside collections")
                data.cells[path] = self._live(codec.serialize(t.element, v))
        elif isinstance(t, T.SetType):
            for v in value:
                if v is None:
                    raise InvalidRequest("null is not supported inside collections")
                data.cells[keycodec.encode_cell_path(t, v)] = self._live(b"")
        elif isinstance(t, T.MapType):
            items = value.items() if isinstance(value, Mapping) else value
            for k, v in items:
                if k is None or v is None:
                    raise InvalidRequest("null is not supported inside collections")
                data.cells[keycodec.encode_cell_path(t, k)] = self._live(codec.serialize(t.value, v))
        elif isinstance(t, T.UserType):
            if isinstance(value, Mapping):
                items = list(value.items())
            elif hasattr(value, "_fields"):
                items = list(zip(t.field_names, value))
            else:
                items = list(zip(t.field_names, value))
            for field, v in items:
                if v is None:
                    continue
                path = keycodec.encode_cell_path(t, field)
                data.cells[path] = self._live(codec.serialize(t.field_type(field), v))
        else:
            raise InvalidRequest(f"Invalid operation on column {column.name} of type {t.cql_name}")
