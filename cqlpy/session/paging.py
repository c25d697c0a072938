"""Paging states: the opaque bytes that resume a SELECT exactly where its last page stopped.

A state is either a *position* (where the last returned row sits, plus the limits left) or an
*offset* (for results that are computed whole: aggregates, GROUP BY, IN + ORDER BY).  Layout, all
integers big-endian (the client treats the bytes as opaque; only this module reads them)::

    [u8 version = 1][u8 kind]
    kind 1, position:
        [u16 n][n bytes partition key]
        [u8 row kind]                 0 = a row (clustering follows), 1 = the partition is done
                                      (a static-only row, a DISTINCT row, or its last row)
        [u16 n][n bytes clustering]
        [i32 remaining LIMIT]         -1 = no limit
        [i32 rows of that partition already returned]   (for PER PARTITION LIMIT)
        [i32 partition index]         position of the partition among the queried keys (IN)
    kind 2, offset:
        [i64 rows already returned]   [i32 remaining LIMIT]

A malformed state is a ProtocolError ("Invalid value for the paging state"), as in Cassandra.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from cqlpy.errors import ProtocolError

VERSION = 1
POSITION, OFFSET = 1, 2
ROW, PARTITION_DONE = 0, 1

_HEAD = struct.Struct(">BB")
_U16 = struct.Struct(">H")
_TAIL = struct.Struct(">iii")
_OFFSET = struct.Struct(">qi")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page stopped: the last row returned (or a finished partition)."""

    key: bytes
    clustering: bytes
    partition_done: bool
    remaining: int | None
    partition_rows: int
    partition_index: int = 0


@dataclass(frozen=True, slots=True)
class Offset:
    """A page boundary in a result computed whole: ``rows`` already returned."""

    rows: int
    remaining: int | None = None


def encode(state: Position | Offset) -> bytes:
    if isinstance(state, Offset):
        return _HEAD.pack(VERSION, OFFSET) + _OFFSET.pack(state.rows, _opt(state.remaining))
    return b"".join((
        _HEAD.pack(VERSION, POSITION),
        _U16.pack(len(state.key)), state.key,
        bytes([PARTITION_DONE if state.partition_done else ROW]),
        _U16.pack(len(state.clustering)), state.clustering,
        _TAIL.pack(_opt(state.remaining), state.partition_rows, state.partition_index),
    ))


def _opt(n: int | None) -> int:
    return -1 if n is None else n


def decode(data: bytes) -> Position | Offset:
    try:
        version, kind = _HEAD.unpack_from(data, 0)
        if version != VERSION:
            raise ValueError("version")
        if kind == OFFSET:
            rows, remaining = _OFFSET.unpack_from(data, 2)
            if len(data) != 2 + _OFFSET.size or rows < 0:
                raise ValueError("length")
            return Offset(rows, None if remaining < 0 else remaining)
        if kind != POSITION:
            raise ValueError("kind")
        pos = 2
        (n,) = _U16.unpack_from(data, pos)
        pos += 2
        key = bytes(data[pos:pos + n])
        pos += n
        row_kind = data[pos]
        pos += 1
        (n,) = _U16.unpack_from(data, pos)
        pos += 2
        clustering = bytes(data[pos:pos + n])
        pos += n
        remaining, partition_rows, index = _TAIL.unpack_from(data, pos)
        if pos + _TAIL.size != len(data) or len(key) == 0 or row_kind not in (ROW, PARTITION_DONE):
            raise ValueError("length")
        return Position(key, clustering, row_kind == PARTITION_DONE,
                        None if remaining < 0 else remaining, partition_rows, index)
    except (struct.error, IndexError, ValueError, TypeError):
        raise ProtocolError("Invalid value for the paging state") from None


__all__ = ["Position", "Offset", "encode", "decode"]
