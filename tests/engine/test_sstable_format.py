"""SSTable naming (descriptor), Statistics, partition layout and Index/Summary units."""
import struct

import pytest

from cqlpy.engine import descriptor as d
from cqlpy.engine.fs import FaultInjectingFileSystem
from cqlpy.engine.partition_format import decode_header, decode_row, encode_partition, iter_rows
from cqlpy.engine.partition_index import IndexReader, IndexWriter, Summary
from cqlpy.engine.rows import (
    Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice)
from cqlpy.engine.serialization import decode_row as reference_decode_row
from cqlpy.engine.serialization import encode_row
from cqlpy.engine.statistics import Statistics
from cqlpy.errors import CorruptionError


# --- descriptor -----------------------------------------------------------------------------

@pytest.mark.parametrize("component", d.COMPONENTS + (d.TOC,))
@pytest.mark.parametrize("temporary", [False, True])
def test_file_names_round_trip(component, temporary):
    name = d.file_name(42, component, temporary=temporary)
    assert d.parse_file_name(name) == (42, component, temporary)
    assert d.parse_file_name("/some/dir/" + name) == (42, component, temporary)


def test_file_name_shapes():
    assert d.file_name(7, d.DATA) == "7-Data.db"
    assert d.file_name(7, d.TOC) == "7-TOC.txt"
    assert d.file_name(7, d.INDEX, temporary=True) == "tmp-7-Index.db"
    assert d.path("/x", 7, d.FILTER) == "/x/7-Filter.db"
    for bad in ("7-Bogus.db", "Data.db", "x-Data.db", "7-TOC.db", "CommitLog-1-2.log"):
        assert d.parse_file_name(bad) is None
    with pytest.raises(ValueError):
        d.file_name(1, "Bogus")
    assert d.sstable_of_path("/a/b/12-Summary.db") == ("/a/b", 12)
    with pytest.raises(ValueError):
        d.sstable_of_path("/a/b/readme")


def test_table_directories():
    tid = bytes(range(16))
    assert d.table_dir_name("users", tid) == "users-000102030405060708090a0b0c0d0e0f"
    assert d.table_directory("/data", "ks", "users", tid) == \
        "/data/data/ks/users-000102030405060708090a0b0c0d0e0f"
    assert d.parse_table_dir_name("/x/my-table-" + tid.hex()) == ("my-table", tid)
    assert d.parse_table_dir_name("nohex") is None


def test_toc_round_trip_and_generations():
    assert d.decode_toc(d.encode_toc(d.COMPONENTS)) == list(d.COMPONENTS)
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    for name in ("3-TOC.txt", "1-TOC.txt", "tmp-9-TOC.txt", "5-Data.db"):
        fs.write_bytes(f"/t/{name}", b"")
    assert d.generations(fs, "/t") == [1, 3]
    assert d.highest_generation(fs, "/t") == 9


# --- statistics -----------------------------------------------------------------------------

def test_statistics_round_trip_and_damage():
    s = Statistics(bytes(range(16)), -5, 99, 10, 0xFFFFFFFF, 3, 4, 5, 6, 1, 1000, 800,
                   b"\x00", b"\xff\xff", (12, 345), -7, b"first", 8, b"last")
    data = s.encode()
    assert Statistics.decode(data) == s
    assert Statistics.decode(Statistics().encode()) == Statistics()
    assert s.compression_ratio == 0.8
    assert s.to_dict()["commitlog_position"] == [12, 345]
    bad = bytearray(data)
    bad[30] ^= 1
    with pytest.raises(ValueError, match="checksum"):
        Statistics.decode(bytes(bad))


# --- partition layout -----------------------------------------------------------------------

def sample_row(c: bytes) -> Row:
    return Row(c, Cell(b"", 3, 10, 500), DeletionTime(1, 2), {
        "a": Cell(b"val", 5), "b": Cell(None, 6, 0, 77), "c": Cell(b"x", 7, 60, 999),
        "m": ComplexColumn(DeletionTime(4, 44), {b"p1": Cell(b"1", 8), b"p2": Cell(None, 9, 0, 1)}),
        "n": ComplexColumn(None, {}),
    })


def test_fast_row_decoder_equals_the_reference():
    for row in (sample_row(b"\x01\x02"), Row(b""), Row(b"z", None, None, {"é": Cell(b"", 0)})):
        out = bytearray()
        encode_row(out, row)
        data = bytes(out)
        assert decode_row(data, 0) == reference_decode_row(data, 0) == (row, len(data))


def test_partition_layout_header_and_samples():
    u = PartitionUpdate(bytes(16), b"key", DeletionTime(9, 9),
                        [RangeTombstone(Slice(b"a", True, b"b", False), DeletionTime(3, 3))],
                        Row(b"", None, None, {"s": Cell(b"static", 1)}))
    rows = [sample_row(bytes([i])) for i in range(30)]
    data, samples = encode_partition(u, rows, 200)
    key, deletion, rts, static, pos = decode_header(bytes(data))
    assert (key, deletion, rts, static) == (b"key", u.deletion, u.range_tombstones, u.static_row)
    assert len(samples) > 3 and samples[0][2] == pos
    assert data[-4:] == b"\0\0\0\0"
    assert list(iter_rows(bytes(data), pos, len(data) - 4, None, True, None, True)) == rows
    for first, last, off, length in samples:
        block = list(iter_rows(bytes(data), off, off + length, None, True, None, True))
        assert block[0].clustering == first and block[-1].clustering == last
    _data, none = encode_partition(u, rows[:1], 64 * 1024)
    assert none == ()


def test_row_decoder_reports_corruption():
    u = PartitionUpdate(bytes(16), b"k")
    data, _ = encode_partition(u, [sample_row(b"\x01")], 1 << 16)
    bad = bytearray(data)
    assert decode_header(bytes(data))[4] == 8
    struct.pack_into(">I", bad, 8, 5)        # the row's length prefix lies
    with pytest.raises(CorruptionError) as e:
        list(iter_rows(bytes(bad), 8, len(bad) - 4, None, True, None, True, "/x/1-Data.db", 100))
    assert e.value.path == "/x/1-Data.db" and e.value.offset == 108


# --- index and summary ----------------------------------------------------------------------

def test_index_blocks_and_summary_lookup():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/t")
    f = fs.create("/t/i")
    w = IndexWriter(f, 4)
    entries = [(t // 3, b"k%03d" % t, t * 10, 10, ()) for t in range(50)]   # equal tokens too
    entries[7] = entries[7][:4] + (((b"a", b"b", 5, 6), (b"c", b"d", 11, 3)),)
    for token, key, pos, length, samples in entries:
        w.add(token, key, pos, length, samples)
    summary = Summary.decode(w.finish())
    f.close()
    assert len(summary) == 13 and summary.interval == 4
    r = IndexReader(fs.open("/t/i"), summary, "/t/i")
    for token, key, pos, length, samples in entries:
        assert r.lookup(token, key) == (pos, length, samples)
    assert r.lookup(0, b"k001x") is None and r.lookup(-1, b"") is None
    assert r.lookup(99, b"zz") is None
    assert [(t, k) for t, k, _e in r.entries()] == [(e[0], e[1]) for e in entries]
    assert r.verify() == []
    fs.flip_bit("/t/i", 40)
    with pytest.raises(CorruptionError):
        r.lookup(0, b"k000")
    assert r.verify()
