"""The layout of one partition inside an SSTable's (uncompressed) Data stream, and a fast decoder.

Data stream = partitions back to back in (token, key) order, each::

    [u16 key length][key]
    [u8 flags: 1 partition deletion, 2 static row]
    [DeletionTime: i64 timestamp, u32 local deletion time]          if flag 1
    [u32 range tombstone count][RangeTombstone ...]                 (serialization's layout)
    [u32 length][static Row]                                        if flag 2
    rows, in clustering (bytes) order, each:  [u32 length][Row]     (serialization.encode_row)
    [u32 0]                                                         end of partition

A Row's encoding starts with ``[u32 clustering length][clustering]``, so a reader skips a row
without decoding it (the length prefix) and compares clusterings without decoding the rest.
Every Row encoding is at least 7 bytes long, so a 0 length is unambiguous.  The row-index samples
of the Index entry (``partition_index``) point at row length prefixes, relative to the partition
start; a wide partition's header (key .. static row) ends where its first sample starts.

The decoder here reads the same bytes as ``serialization.decode_row`` but with fewer calls; it
trusts its input only as far as the chunk CRCs do, and checks that every row ends exactly where its
length prefix says (``decode_*`` raise ``serialization.DecodeError``; ``iter_rows`` raises
``errors.CorruptionError`` naming the file and the row's stream position).
"""
from __future__ import annotations

import struct

from ..errors import CorruptionError
from .rows import NO_EXPIRY, Cell, ComplexColumn, DeletionTime, PartitionUpdate, Row
from .serialization import (
    CELL_EXPIRING, CELL_TOMBSTONE, COMPLEX, SIMPLE, DecodeError, decode_range_tombstone,
    encode_deletion, encode_range_tombstone, encode_row,
)

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U32X2 = struct.Struct(">II")
_CELL3 = struct.Struct(">BqI")      # flags, timestamp, then ldt / ttl / value length
_DEL = struct.Struct(">qI")
_MARKER = struct.Struct(">qI")          # a live marker after its flags: timestamp, value length
_SIMPLE_HEAD = struct.Struct(">BBqI")   # column kind, cell flags, timestamp, value length
_ZERO32 = b"\0\0\0\0"
_u32 = _U32.unpack_from
_cell3 = _CELL3.unpack_from
_del = _DEL.unpack_from
_pack32_into = _U32.pack_into
_names: dict[bytes, str] = {}

# Building a frozen dataclass through its generated __init__ costs ~0.4 us; setting the slots
# directly gives the same object (type Cell, equal, hashable) in ~0.2 us.  (Row is not frozen:
# its own __init__ is the fastest way.)
_obj_new = object.__new__
_set_value, _set_ts, _set_ttl, _set_ldt = (
    Cell.__dict__[f].__set__ for f in ("value", "timestamp", "ttl", "local_deletion_time"))


def encode_partition(update: PartitionUpdate, rows: list[Row], column_index_size: int
                     ) -> tuple[bytearray, tuple]:
    """The partition's bytes and its row-index samples (empty unless it spans several blocks)."""
    key = update.key
    if len(key) > 0xFFFF:
        raise ValueError("partition key longer than 65535 bytes")
    out = bytearray(_U16.pack(len(key)))
    out += key
    flags = (1 if update.deletion is not None else 0) | (2 if update.static_row is not None else 0)
    out.append(flags)
    if update.deletion is not None:
        encode_deletion(out, update.deletion)
    out += _U32.pack(len(update.range_tombstones))
    for rt in update.range_tombstones:
        encode_range_tombstone(out, rt)
    if update.static_row is not None:
        at = len(out)
        out += _ZERO32
        encode_row(out, update.static_row)
        _pack32_into(out, at, len(out) - at - 4)
    samples = []
    block_start = -1
    first = b""
    for row in rows:
        at = len(out)
        if block_start < 0:
            block_start, first = at, row.clustering
        out += _ZERO32
        encode_row(out, row)
        _pack32_into(out, at, len(out) - at - 4)
        if len(out) - block_start >= column_index_size:
            samples.append((first, row.clustering, block_start, len(out) - block_start))
            block_start = -1
    if block_start >= 0 and samples:
        samples.append((first, rows[-1].clustering, block_start, len(out) - block_start))
    out += _ZERO32
    return out, (tuple(samples) if len(samples) > 1 else ())


def decode_header(buf, pos: int = 0):
    """``(key, deletion, range_tombstones, static_row, position of the first row)``."""
    try:
        (klen,) = _U16.unpack_from(buf, pos)
        key = bytes(buf[pos + 2:pos + 2 + klen])
        pos += 2 + klen
        flags = buf[pos]
        pos += 1
        deletion = None
        if flags & 1:
            deletion = DeletionTime(*_del(buf, pos))
            pos += 12
        (nrt,) = _u32(buf, pos)
        pos += 4
        rts = []
        for _ in range(nrt):
            rt, pos = decode_range_tombstone(buf, pos)
            rts.append(rt)
        static = None
        if flags & 2:
            (n,) = _u32(buf, pos)
            static, end = decode_row(buf, pos + 4)
            if end != pos + 4 + n:
                raise DecodeError("static row length mismatch")
            pos = end
    except (struct.error, IndexError) as e:
        raise DecodeError(f"partition header truncated: {e}") from None
    return key, deletion, rts, static, pos


def _cell(buf, pos: int):
    flags, ts, x = _cell3(buf, pos)
    pos += 13
    if flags == 0:
        end = pos + x
        return Cell(buf[pos:end], ts, 0, NO_EXPIRY), end
    if flags == CELL_TOMBSTONE:
        return Cell(None, ts, 0, x), pos
    if flags == CELL_EXPIRING:
        ldt, n = _U32.unpack_from(buf, pos)[0], _U32.unpack_from(buf, pos + 4)[0]
        pos += 8
        return Cell(buf[pos:pos + n], ts, x, ldt), pos + n
    raise DecodeError(f"unknown cell flags {flags:#x}")


def decode_row(buf, pos: int):
    """``(Row, end)`` from the bytes of serialization.encode_row at ``pos`` (buf: bytes)."""
    (n,) = _u32(buf, pos)
    pos += 4
    clustering = buf[pos:pos + n]
    pos += n
    flags = buf[pos]
    marker = deletion = None
    if flags:
        pos += 1
        if flags & 1:
            cflags, ts, x = _cell3(buf, pos)
            if cflags == 0:
                pos += 13 + x
                marker = _obj_new(Cell)
                _set_value(marker, buf[pos - x:pos])
                _set_ts(marker, ts)
                _set_ttl(marker, 0)
                _set_ldt(marker, NO_EXPIRY)
            else:
                marker, pos = _cell(buf, pos)
        if flags & 2:
            deletion = DeletionTime(*_del(buf, pos))
            pos += 12
        ncols = buf[pos] << 8 | buf[pos + 1]
        pos += 2
    else:
        ncols = buf[pos + 1] << 8 | buf[pos + 2]
        pos += 3
    columns = {}
    names = _names
    for _ in range(ncols):
        nlen = buf[pos] << 8 | buf[pos + 1]
        pos += 2
        raw = buf[pos:pos + nlen]
        name = names.get(raw)
        if name is None:
            name = _column_name(raw)
        pos += nlen
        kind = buf[pos]
        if kind == SIMPLE:
            cflags, ts, x = _cell3(buf, pos + 1)
            if cflags == 0:
                pos += 14 + x
                columns[name] = c = _obj_new(Cell)
                _set_value(c, buf[pos - x:pos])
                _set_ts(c, ts)
                _set_ttl(c, 0)
                _set_ldt(c, NO_EXPIRY)
            else:
                columns[name], pos = _cell(buf, pos + 1)
        elif kind == COMPLEX:
            pos += 1
            cdel = None
            if buf[pos]:
                cdel = DeletionTime(*_del(buf, pos + 1))
                pos += 12
            pos += 1
            (count,) = _u32(buf, pos)
            pos += 4
            cells = {}
            for _ in range(count):
                (plen,) = _u32(buf, pos)
                path = buf[pos + 4:pos + 4 + plen]
                cells[path], pos = _cell(buf, pos + 4 + plen)
            columns[name] = ComplexColumn(cdel, cells)
        else:
            raise DecodeError(f"unknown column kind {kind}")
    return Row(clustering, marker, deletion, columns), pos


def _column_name(raw: bytes) -> str:
    try:
        name = raw.decode()
    except UnicodeDecodeError:
        raise DecodeError("bad column name") from None
    if len(_names) < 10000:
        _names[raw] = name
    return name


def iter_rows(buf, pos: int, end: int, start: bytes | None, start_inclusive: bool,
              stop: bytes | None, stop_inclusive: bool, path: str = "?", base: int = 0):
    """Decode the rows of ``buf[pos:end]`` whose clustering lies in the bounds, in order.

    Rows of the common shape (a live row marker or none, no row deletion, only live simple
    cells without TTL) are decoded inline, without a call per row or per cell; any other row
    goes through ``decode_row``.  Undecodable bytes raise CorruptionError naming ``path`` and
    ``base`` (the stream position of ``buf``) plus the row's offset."""
    u32x2 = _U32X2.unpack_from
    mhead = _MARKER.unpack_from
    chead = _SIMPLE_HEAD.unpack_from
    names = _names
    new, set_value, set_ts, set_ttl, set_ldt = _obj_new, _set_value, _set_ts, _set_ttl, _set_ldt
    bounded = start is not None or stop is not None
    try:
        while pos < end:
            rlen, n = u32x2(buf, pos)        # the row length, then its clustering length
            body = pos + 4
            nxt = body + rlen
            if rlen == 0 or nxt > end:
                raise DecodeError(f"bad row length {rlen}")
            p = pos + 8 + n
            c = buf[pos + 8:p]
            if bounded:
                if start is not None and (c < start or (c == start and not start_inclusive)):
                    pos = nxt
                    continue
                if stop is not None and (c > stop or (c == stop and not stop_inclusive)):
                    return
            row = None
            flags = buf[p]
            if flags == 1 and buf[p + 1] == 0:          # a live marker, no row deletion
                ts, x = mhead(buf, p + 2)
                p += 14 + x
                marker = new(Cell)
                set_value(marker, buf[p - x:p])
                set_ts(marker, ts)
                set_ttl(marker, 0)
                set_ldt(marker, NO_EXPIRY)
                ok = True
            elif flags == 0:
                marker = None
                p += 1
                ok = True
            else:
                ok = False
            if ok:
                ncols = buf[p] << 8 | buf[p + 1]
                p += 2
                columns = {}
                for _ in range(ncols):
                    nlen = buf[p] << 8 | buf[p + 1]
                    p += 2
                    raw = buf[p:p + nlen]
                    p += nlen
                    if buf[p]:                  # a collection (its head may be < 14 bytes)
                        ok = False
                        break
                    kind, cflags, ts, x = chead(buf, p)
                    if cflags:
                        ok = False
                        break
                    p += 14 + x
                    name = names.get(raw)
                    if name is None:
                        name = _column_name(raw)
                    columns[name] = cell = new(Cell)
                    set_value(cell, buf[p - x:p])
                    set_ts(cell, ts)
                    set_ttl(cell, 0)
                    set_ldt(cell, NO_EXPIRY)
                if ok:
                    row = Row(c, marker, None, columns)
                    after = p
            if row is None:
                row, after = decode_row(buf, body)
            if after != nxt:
                raise DecodeError(f"row is {after - body} bytes, its prefix says {rlen}")
            yield row
            pos = nxt
    except (DecodeError, struct.error, IndexError, ValueError) as e:
        raise CorruptionError(path, base + pos, f"row does not decode: {e}") from None


def find_row(buf, pos: int, end: int, clustering: bytes, path: str = "?", base: int = 0):
    """The row of ``buf[pos:end]`` whose clustering is ``clustering``, or None (a point read).

    A row starts ``[u32 row length][u32 clustering length][clustering]``, so ``buf.find`` of
    the last two proposes where the row is (or proves it absent, the common answer when a read
    probes several SSTables); walking the row length prefixes confirms that the match is a row
    start and not bytes inside a value (then the next match is tried).  Errors as ``iter_rows``.
    """
    u32 = _u32
    pattern = _U32.pack(len(clustering)) + clustering
    try:
        at = buf.find(pattern, pos + 4, end)
        while at >= 0:
            target = at - 4
            while pos < target:                 # skip whole rows up to the match
                (rlen,) = u32(buf, pos)
                nxt = pos + 4 + rlen
                if rlen == 0 or nxt > end:
                    raise DecodeError(f"bad row length {rlen}")
                pos = nxt
            if pos == target:
                (rlen,) = u32(buf, pos)
                if rlen == 0 or pos + 4 + rlen > end:
                    raise DecodeError(f"bad row length {rlen}")
                row, after = decode_row(buf, pos + 4)
                if after != pos + 4 + rlen:
                    raise DecodeError(f"row is {after - pos - 4} bytes, its prefix says {rlen}")
                return row
            at = buf.find(pattern, pos + 4, end)    # the match was inside a row: look further
        return None
    except (DecodeError, struct.error, IndexError, ValueError) as e:
        raise CorruptionError(path, base + pos, f"row does not decode: {e}") from None


def row_offsets(buf, pos: int, end: int, start: bytes | None, start_inclusive: bool,
                stop: bytes | None, stop_inclusive: bool) -> list[int]:
    """Offsets of the rows of ``buf[pos:end]`` inside the bounds (for reversed reads)."""
    out = []
    u32 = _u32
    while pos < end:
        (rlen,) = u32(buf, pos)
        nxt = pos + 4 + rlen
        if rlen == 0 or nxt > end:
            raise DecodeError(f"bad row length {rlen} at {pos}")
        (n,) = u32(buf, pos + 4)
        c = buf[pos + 8:pos + 8 + n]
        if start is not None and (c < start or (c == start and not start_inclusive)):
            pos = nxt
            continue
        if stop is not None and (c > stop or (c == stop and not stop_inclusive)):
            break
        out.append(pos)
        pos = nxt
    return out


def decode_row_at(buf, pos: int) -> Row:
    """The row whose length prefix is at ``pos``."""
    (rlen,) = _u32(buf, pos)
    row, after = decode_row(buf, pos + 4)
    if after != pos + 4 + rlen:
        raise DecodeError(f"row at {pos} is {after - pos - 4} bytes, its prefix says {rlen}")
    return row
