"""The partition decoder's fast paths give exactly what the reference decoder gives.

``iter_rows`` decodes the common row shape inline and ``find_row`` locates a point-read row with
``bytes.find``; both must agree with ``serialization.decode_row`` on every row shape, including
values that contain the bytes of another row's clustering prefix (false matches for ``find``).
"""
import struct

import pytest

from cqlpy.engine.partition_format import encode_partition, find_row, iter_rows
from cqlpy.engine.rows import Cell, ComplexColumn, DeletionTime, PartitionUpdate, Row
from cqlpy.errors import CorruptionError

_U32 = struct.Struct(">I")


def _ck(i: int) -> bytes:
    return _U32.pack(i)


def _rows() -> list[Row]:
    trap = _U32.pack(4) + _ck(7)              # looks like row 7's clustering prefix
    return [
        Row(_ck(0), Cell(b"", 1), None, {"v": Cell(b"plain", 1)}),
        Row(_ck(1), None, None, {"v": Cell(b"no marker", 2), "w": Cell(b"second", 2)}),
        Row(_ck(2), Cell(b"", 3), None, {"v": Cell(trap * 3, 3)}),
        Row(_ck(3), Cell(b"", 4, 60, 1000), None, {"v": Cell(b"ttl marker", 4)}),
        Row(_ck(4), Cell(b"", 5), DeletionTime(4, 99), {"v": Cell(b"row deletion", 5)}),
        Row(_ck(5), Cell(b"", 6), None, {"v": Cell(None, 6, 0, 77)}),
        Row(_ck(6), None, None, {"v": Cell(trap, 7, 30, 500), "s": ComplexColumn(None, {})}),
        Row(_ck(7), Cell(b"", 8), None, {"m": ComplexColumn(DeletionTime(1, 2),
                                                             {b"k": Cell(trap, 8)})}),
        Row(_ck(9), None, None, {}),
    ]


def _partition():
    rows = _rows()
    data, _samples = encode_partition(PartitionUpdate(bytes(16), b"key"), rows, 1 << 20)
    return bytes(data), 2 + 3 + 1 + 4, len(data) - 4, rows


def test_iter_rows_fast_path_equals_the_rows_written():
    data, pos, end, rows = _partition()
    assert list(iter_rows(data, pos, end, None, True, None, True)) == rows
    assert list(iter_rows(data, pos, end, _ck(2), True, _ck(6), False)) == rows[2:6]


@pytest.mark.parametrize("i", range(11))
def test_find_row_finds_each_row_and_nothing_else(i):
    data, pos, end, rows = _partition()
    want = [r for r in rows if r.clustering == _ck(i)]
    got = find_row(data, pos, end, _ck(i))
    assert ([got] if got is not None else []) == want
    # bounded iteration agrees
    assert list(iter_rows(data, pos, end, _ck(i), True, _ck(i), True)) == want


def test_find_row_reports_a_bad_length_prefix():
    data, pos, end, _rows_ = _partition()
    bad = bytearray(data)
    bad[pos:pos + 4] = _U32.pack(end)          # the first row claims to run past the end
    with pytest.raises(CorruptionError):
        find_row(bytes(bad), pos, end, _ck(9))
