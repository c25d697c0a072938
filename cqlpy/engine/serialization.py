"""Binary encoding of the engine's data model, shared by the commit log and the SSTable data file.

All integers are big-endian.  Changing anything here breaks existing files: bump the format
versions in ``descriptor`` (SSTables) and ``commitlog`` (segments).

DeletionTime   [i64 timestamp][u32 local_deletion_time]                              12 bytes
Cell           [u8 flags][i64 timestamp]
                 flags & EXPIRING:   [u32 ttl][u32 local_deletion_time]
                 flags & TOMBSTONE:  [u32 local_deletion_time]
                 not a tombstone:    [u32 value length][value]
Row            [u32 clustering length][clustering][u8 flags]
                 flags & HAS_MARKER:   Cell (the row marker)
                 flags & HAS_DELETION: DeletionTime
               [u16 column count], then per column
                 [u16 name length][name, UTF-8][u8 kind]
                 kind SIMPLE:  Cell
                 kind COMPLEX: [u8 has deletion][DeletionTime if so][u32 cell count]
                               then per cell [u32 path length][path][Cell]
Slice          [u8 flags: 1 has start, 2 start inclusive, 4 has end, 8 end inclusive]
               [u32 length][start] if has start, [u32 length][end] if has end
RangeTombstone Slice, DeletionTime
PartitionUpdate (one commit-log record)
               [16 table id][u16 key length][key][u8 flags: 1 deletion, 2 static row]
               [DeletionTime if flag 1][u32 range tombstone count][RangeTombstone ...]
               [Row if flag 2 (the static row)][u32 row count][Row ...]
"""
from __future__ import annotations

import struct

from .rows import Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice

DELETION = struct.Struct(">qI")
CELL_HEAD = struct.Struct(">Bq")
U8 = struct.Struct(">B")
U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
TTL_LDT = struct.Struct(">II")

# Cell flags: written to disk, do not change.
CELL_TOMBSTONE = 0x01
CELL_EXPIRING = 0x02
# Row flags: written to disk, do not change.
ROW_HAS_MARKER = 0x01
ROW_HAS_DELETION = 0x02
# Column kinds: written to disk, do not change.
SIMPLE = 0
COMPLEX = 1


class DecodeError(ValueError):
    """Bytes that do not decode; the caller names the file and offset."""


# --- encoding ----------------------------------------------------------------------------------

def encode_cell(out: bytearray, cell: Cell) -> None:
    value = cell.value
    if value is None:
        out += CELL_HEAD.pack(CELL_TOMBSTONE, cell.timestamp)
        out += U32.pack(cell.local_deletion_time)
    elif cell.ttl:
        out += CELL_HEAD.pack(CELL_EXPIRING, cell.timestamp)
        out += TTL_LDT.pack(cell.ttl, cell.local_deletion_time)
        out += U32.pack(len(value))
        out += value
    else:
        out += CELL_HEAD.pack(0, cell.timestamp)
        out += U32.pack(len(value))
        out += value


def encode_row(out: bytearray, row: Row) -> None:
    out += U32.pack(len(row.clustering))
    out += row.clustering
    flags = (ROW_HAS_MARKER if row.marker is not None else 0) | (
        ROW_HAS_DELETION if row.deletion is not None else 0)
    out += U8.pack(flags)
    if row.marker is not None:
        encode_cell(out, row.marker)
    if row.deletion is not None:
        out += DELETION.pack(row.deletion.timestamp, row.deletion.local_deletion_time)
    out += U16.pack(len(row.columns))
    for name, data in row.columns.items():
        raw = name.encode()
        out += U16.pack(len(raw))
        out += raw
        if isinstance(data, Cell):
            out += U8.pack(SIMPLE)
            encode_cell(out, data)
        else:
            out += U8.pack(COMPLEX)
            if data.deletion is None:
                out += U8.pack(0)
            else:
                out += U8.pack(1)
                out += DELETION.pack(data.deletion.timestamp, data.deletion.local_deletion_time)
            out += U32.pack(len(data.cells))
            for path, cell in data.cells.items():
                out += U32.pack(len(path))
                out += path
                encode_cell(out, cell)


def encode_slice(out: bytearray, s: Slice) -> None:
    flags = ((1 if s.start is not None else 0) | (2 if s.start_inclusive else 0)
             | (4 if s.end is not None else 0) | (8 if s.end_inclusive else 0))
    out += U8.pack(flags)
    if s.start is not None:
        out += U32.pack(len(s.start))
        out += s.start
    if s.end is not None:
        out += U32.pack(len(s.end))
        out += s.end


def encode_range_tombstone(out: bytearray, rt: RangeTombstone) -> None:
    encode_slice(out, rt.slice)
    out += DELETION.pack(rt.deletion.timestamp, rt.deletion.local_deletion_time)


def encode_deletion(out: bytearray, d: DeletionTime) -> None:
    out += DELETION.pack(d.timestamp, d.local_deletion_time)


def encode_update(update: PartitionUpdate) -> bytes:
    if len(update.table_id) != 16:
        raise ValueError("table id must be 16 bytes")
    if len(update.key) > 0xFFFF:
        raise ValueError("partition key longer than 65535 bytes")
    out = bytearray(update.table_id)
    out += U16.pack(len(update.key))
    out += update.key
    flags = (1 if update.deletion is not None else 0) | (2 if update.static_row is not None else 0)
    out += U8.pack(flags)
    if update.deletion is not None:
        encode_deletion(out, update.deletion)
    out += U32.pack(len(update.range_tombstones))
    for rt in update.range_tombstones:
        encode_range_tombstone(out, rt)
    if update.static_row is not None:
        encode_row(out, update.static_row)
    out += U32.pack(len(update.rows))
    for row in update.rows.values():
        encode_row(out, row)
    return bytes(out)


# --- decoding ----------------------------------------------------------------------------------
# Each decoder takes (buffer, offset) and returns (value, offset after it).  Truncated or
# malformed input raises DecodeError, never IndexError or struct.error.

def _take(buf: bytes | memoryview, pos: int, n: int) -> tuple[bytes, int]:
    end = pos + n
    if n < 0 or end > len(buf):
        raise DecodeError(f"truncated: need {n} bytes at {pos}, have {len(buf) - pos}")
    return bytes(buf[pos:end]), end


def _unpack(st: struct.Struct, buf: bytes | memoryview, pos: int) -> tuple[tuple, int]:
    end = pos + st.size
    if end > len(buf):
        raise DecodeError(f"truncated: need {st.size} bytes at {pos}")
    return st.unpack_from(buf, pos), end


def decode_cell(buf: bytes | memoryview, pos: int) -> tuple[Cell, int]:
    (flags, ts), pos = _unpack(CELL_HEAD, buf, pos)
    if flags & CELL_TOMBSTONE:
        (ldt,), pos = _unpack(U32, buf, pos)
        return Cell(None, ts, 0, ldt), pos
    ttl, ldt = 0, 0xFFFFFFFF
    if flags & CELL_EXPIRING:
        (ttl, ldt), pos = _unpack(TTL_LDT, buf, pos)
    if flags & ~(CELL_TOMBSTONE | CELL_EXPIRING):
        raise DecodeError(f"unknown cell flags {flags:#x}")
    (n,), pos = _unpack(U32, buf, pos)
    value, pos = _take(buf, pos, n)
    return Cell(value, ts, ttl, ldt), pos


def decode_deletion(buf: bytes | memoryview, pos: int) -> tuple[DeletionTime, int]:
    (ts, ldt), pos = _unpack(DELETION, buf, pos)
    return DeletionTime(ts, ldt), pos


def decode_row(buf: bytes | memoryview, pos: int) -> tuple[Row, int]:
    (n,), pos = _unpack(U32, buf, pos)
    clustering, pos = _take(buf, pos, n)
    (flags,), pos = _unpack(U8, buf, pos)
    marker = deletion = None
    if flags & ROW_HAS_MARKER:
        marker, pos = decode_cell(buf, pos)
    if flags & ROW_HAS_DELETION:
        deletion, pos = decode_deletion(buf, pos)
    (ncols,), pos = _unpack(U16, buf, pos)
    columns: dict = {}
    for _ in range(ncols):
        (nlen,), pos = _unpack(U16, buf, pos)
        raw, pos = _take(buf, pos, nlen)
        try:
            name = raw.decode()
        except UnicodeDecodeError as e:
            raise DecodeError(f"bad column name at {pos}") from e
        (kind,), pos = _unpack(U8, buf, pos)
        if kind == SIMPLE:
            columns[name], pos = decode_cell(buf, pos)
        elif kind == COMPLEX:
            (has_del,), pos = _unpack(U8, buf, pos)
            cdel = None
            if has_del:
                cdel, pos = decode_deletion(buf, pos)
            (ncells,), pos = _unpack(U32, buf, pos)
            cells = {}
            for _ in range(ncells):
                (plen,), pos = _unpack(U32, buf, pos)
                path, pos = _take(buf, pos, plen)
                cells[path], pos = decode_cell(buf, pos)
            columns[name] = ComplexColumn(cdel, cells)
        else:
            raise DecodeError(f"unknown column kind {kind}")
    return Row(clustering, marker, deletion, columns), pos


def decode_slice(buf: bytes | memoryview, pos: int) -> tuple[Slice, int]:
    (flags,), pos = _unpack(U8, buf, pos)
    start = end = None
    if flags & 1:
        (n,), pos = _unpack(U32, buf, pos)
        start, pos = _take(buf, pos, n)
    if flags & 4:
        (n,), pos = _unpack(U32, buf, pos)
        end, pos = _take(buf, pos, n)
    return Slice(start, bool(flags & 2), end, bool(flags & 8)), pos


def decode_range_tombstone(buf: bytes | memoryview, pos: int) -> tuple[RangeTombstone, int]:
    s, pos = decode_slice(buf, pos)
    d, pos = decode_deletion(buf, pos)
    return RangeTombstone(s, d), pos


def decode_update(buf: bytes | memoryview) -> PartitionUpdate:
    table_id, pos = _take(buf, 0, 16)
    (klen,), pos = _unpack(U16, buf, pos)
    key, pos = _take(buf, pos, klen)
    (flags,), pos = _unpack(U8, buf, pos)
    update = PartitionUpdate(table_id, key)
    if flags & 1:
        update.deletion, pos = decode_deletion(buf, pos)
    (nrt,), pos = _unpack(U32, buf, pos)
    for _ in range(nrt):
        rt, pos = decode_range_tombstone(buf, pos)
        update.range_tombstones.append(rt)
    if flags & 2:
        update.static_row, pos = decode_row(buf, pos)
    (nrows,), pos = _unpack(U32, buf, pos)
    for _ in range(nrows):
        row, pos = decode_row(buf, pos)
        update.rows[row.clustering] = row
    if pos != len(buf):
        raise DecodeError(f"{len(buf) - pos} trailing bytes after a partition update")
    return update
