"""Commit-log segment format: names, header, record framing, and how a segment's bytes are read."""
import struct
import zlib

import pytest

from cqlpy.engine import commitlog_segment as seg
from cqlpy.engine.rows import Cell, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice

T1 = bytes(range(16))
T2 = bytes(range(16, 32))


class ListReporter:
    def __init__(self):
        self.problems = []

    def corruption(self, path, offset, nbytes, reason):
        self.problems.append((path, offset, nbytes, reason))


def upd(i, table=T1, size=20):
    u = PartitionUpdate(table, b"key%d" % i)
    u.add_row(Row(b"c%d" % i, Cell(b"", i, 0, 0xFFFFFFFF), None,
                  {"v": Cell(b"v" * size, i, 0, 0xFFFFFFFF)}))
    return u


def segment_bytes(segment_id, records):
    return seg.encode_header(segment_id) + b"".join(
        seg.frame_record(seg.encode_payload(r)) for r in records)


def read(data, segment_id=7):
    rep = ListReporter()
    out = list(seg.read_segment("/log/x", data, segment_id, rep))
    return out, rep.problems


def test_file_names_round_trip():
    assert seg.segment_file_name(1234567) == "CommitLog-1-1234567.log"
    assert seg.parse_segment_file_name("CommitLog-1-1234567.log") == (1, 1234567)
    assert seg.parse_segment_file_name("CommitLog-2-5.log") == (2, 5)
    for other in ("CommitLog-1-5.log.tmp", "LOCK", "CommitLog-x-5.log", "commitlog-1-5.log"):
        assert seg.parse_segment_file_name(other) is None


def test_header_layout():
    h = seg.encode_header(0x0102030405060708)
    assert len(h) == seg.HEADER_SIZE == 16
    assert h[:12] == struct.pack(">IQ", seg.FORMAT_VERSION, 0x0102030405060708)
    assert h[12:] == struct.pack(">I", zlib.crc32(h[:12]))
    assert seg.read_header(h) == (1, 0x0102030405060708)


def test_record_layout():
    payload = b"abcdef"
    r = seg.frame_record(payload)
    assert len(r) == len(payload) + seg.RECORD_OVERHEAD
    size = struct.pack(">I", 6)
    assert r[:4] == size
    assert r[4:8] == struct.pack(">I", zlib.crc32(size))
    assert r[8:14] == payload
    assert r[14:] == struct.pack(">I", zlib.crc32(size + payload))


def test_payload_round_trip_keeps_every_update():
    rt = RangeTombstone(Slice(b"a", True, b"m", False), DeletionTime(5, 6))
    u = PartitionUpdate(T2, b"pk", DeletionTime(1, 2), [rt], Row(b"", None, None, {}))
    records = [[upd(1)], [upd(2), upd(3, T2), u]]
    out, problems = read(segment_bytes(7, records))
    assert problems == []
    assert [r for _, r in out] == records
    ends = [e for e, _ in out]
    assert ends[0] == seg.HEADER_SIZE + len(seg.frame_record(seg.encode_payload(records[0])))
    assert ends[1] == len(segment_bytes(7, records))


def test_empty_segment_is_silent():
    assert read(b"") == ([], [])
    assert read(seg.encode_header(7)) == ([], [])


def test_torn_header_is_reported():
    out, problems = read(seg.encode_header(7)[:9])
    assert out == [] and problems[0][1:3] == (0, 9) and "torn" in problems[0][3]


def test_header_corruption_and_mismatched_id_are_reported():
    h = bytearray(seg.encode_header(7))
    h[5] ^= 1
    assert "checksum" in read(bytes(h))[1][0][3]
    assert "file name says 8" in read(seg.encode_header(7), segment_id=8)[1][0][3]


def test_every_truncation_point_yields_only_whole_records():
    records = [[upd(i)] for i in range(5)]
    data = segment_bytes(7, records)
    full_ends = [e for e, _ in read(data)[0]]
    for cut in range(seg.HEADER_SIZE, len(data)):
        out, problems = read(data[:cut])
        whole = [e for e in full_ends if e <= cut]
        assert [e for e, _ in out] == whole
        assert [r for _, r in out] == records[:len(whole)]
        if cut in full_ends or cut == seg.HEADER_SIZE:
            assert problems == []
        else:
            assert len(problems) == 1
            path, offset, nbytes, reason = problems[0]
            assert (path, offset, nbytes) == ("/log/x", max([seg.HEADER_SIZE] + whole),
                                              cut - max([seg.HEADER_SIZE] + whole))
            assert reason.startswith("torn tail")


def test_every_bit_flip_is_caught():
    records = [[upd(i)] for i in range(3)]
    data = segment_bytes(7, records)
    ends = [e for e, _ in read(data)[0]]
    starts = [seg.HEADER_SIZE] + ends[:-1]
    for pos in range(seg.HEADER_SIZE, len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0x10
        out, problems = read(bytes(bad))
        hit = max(i for i, s in enumerate(starts) if s <= pos)
        assert [r for _, r in out] == records[:hit], pos
        assert len(problems) == 1 and problems[0][1] == starts[hit], pos


def test_crc_valid_but_undecodable_record_is_corruption():
    bad_payload = struct.pack(">I", 1) + struct.pack(">I", 3) + b"xyz"
    data = seg.encode_header(7) + seg.frame_record(seg.encode_payload([upd(1)])) + \
        seg.frame_record(bad_payload)
    out, problems = read(data)
    assert len(out) == 1
    assert "undecodable" in problems[0][3] and problems[0][1] == out[0][0]


def test_trailing_bytes_inside_a_record_are_corruption():
    payload = seg.encode_payload([upd(1)]) + b"\x00"
    out, problems = read(seg.encode_header(7) + seg.frame_record(payload))
    assert out == [] and "undecodable" in problems[0][3]


def test_zero_fill_ends_the_data_quietly():
    data = segment_bytes(7, [[upd(1)]])
    out, problems = read(data + bytes(4096))
    assert len(out) == 1 and problems == []
    out, problems = read(data + bytes(100) + b"\x01")
    assert len(out) == 1 and "zero" in problems[0][3]


@pytest.mark.parametrize("junk", [b"\xff" * 3, b"\xff" * 40])
def test_garbage_tail_is_reported_not_raised(junk):
    out, problems = read(segment_bytes(7, [[upd(1)]]) + junk)
    assert len(out) == 1 and len(problems) == 1
