"""Property tests: any mix of data and tombstones written to an SSTable reads back exactly."""
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cqlpy.engine.compression import CompressionParams
from cqlpy.engine.fs import FaultInjectingFileSystem
from cqlpy.engine.keycache import KeyCache
from cqlpy.engine.murmur3 import token
from cqlpy.engine.rows import (
    NO_EXPIRY, Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice)
from cqlpy.engine.sstable_writer import SSTableWriter

TABLE = bytes(range(16))
ts = st.integers(-(1 << 63), (1 << 63) - 1)
ldt = st.integers(0, 0xFFFFFFFE)
small_bytes = st.binary(max_size=6)
clusterings = st.binary(min_size=0, max_size=4)


@st.composite
def cells(draw):
    kind = draw(st.sampled_from(["live", "tombstone", "expiring"]))
    if kind == "live":
        return Cell(draw(st.binary(max_size=40)), draw(ts))
    if kind == "tombstone":
        return Cell(None, draw(ts), 0, draw(ldt))
    return Cell(draw(small_bytes), draw(ts), draw(st.integers(1, 1 << 30)), draw(ldt))


deletions = st.builds(DeletionTime, ts, ldt)
complex_columns = st.builds(ComplexColumn, st.none() | deletions,
                            st.dictionaries(small_bytes, cells(), max_size=4))
column_data = st.one_of(cells(), complex_columns)
columns = st.dictionaries(st.sampled_from(["a", "b", "ünï", "v"]), column_data, max_size=3)


@st.composite
def rows(draw, clustering=None):
    c = draw(clusterings) if clustering is None else clustering
    return Row(c, draw(st.none() | cells()), draw(st.none() | deletions), draw(columns))


slices = st.builds(Slice, st.none() | clusterings, st.booleans(), st.none() | clusterings,
                   st.booleans())


@st.composite
def updates(draw, key):
    u = PartitionUpdate(TABLE, key, draw(st.none() | deletions))
    u.range_tombstones = draw(st.lists(st.builds(RangeTombstone, slices, deletions), max_size=3))
    if draw(st.booleans()):
        u.static_row = draw(rows(b""))
    for c in draw(st.lists(clusterings, max_size=12, unique=True)):
        u.rows[c] = draw(rows(c))
    return u


@st.composite
def tables(draw):
    keys = draw(st.lists(st.binary(max_size=20), min_size=1, max_size=12, unique=True))
    return [draw(updates(k)) for k in keys]


def write(fs, parts, **kw):
    fs.makedirs("/t")
    gen = kw.pop("generation", 1)
    w = SSTableWriter(fs, "/t", gen, expected_partitions=len(parts), table_id=TABLE, **kw)
    for u in sorted(parts, key=lambda u: (token(u.key), u.key)):
        w.append(token(u.key), u)
    return w.finish()


def same(a: PartitionUpdate, b: PartitionUpdate) -> None:
    assert a.key == b.key
    assert a.deletion == b.deletion
    assert a.range_tombstones == b.range_tombstones
    assert a.static_row == b.static_row
    assert a.sorted_rows() == b.sorted_rows()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from([
    dict(),                                                       # defaults
    dict(compression=CompressionParams.none(64), index_interval=2, column_index_size=40),
    dict(compression=CompressionParams(256), index_interval=3, column_index_size=120),
]))
def test_round_trip_by_key_and_by_scan(parts, options):
    fs = FaultInjectingFileSystem()
    reader = write(fs, parts, **options)
    by_key = {u.key: u for u in parts}
    for u in parts:
        p = reader.partition(u.key, token(u.key))
        assert p is not None
        same(p.to_update(TABLE), u)
    scanned = [p.to_update(TABLE) for p in reader.scan()]
    assert [(token(p.key), p.key) for p in scanned] == sorted((token(k), k) for k in by_key)
    for p in scanned:
        same(p, by_key[p.key])
    assert reader.verify() == []
    s = reader.stats
    assert s.partition_count == len(parts)
    assert s.row_count == sum(len(u.rows) for u in parts)
    reader.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clusterings, min_size=1, max_size=60, unique=True), slices, st.booleans(),
       st.integers(30, 400))
def test_slices_forward_and_reversed_match_a_filter(cs, s, reversed_, column_index_size):
    fs = FaultInjectingFileSystem()
    u = PartitionUpdate(TABLE, b"k")
    for c in cs:
        u.rows[c] = Row(c, Cell(b"", 1), None, {"v": Cell(c * 9, 2)})
    reader = write(fs, [u], column_index_size=column_index_size,
                   compression=CompressionParams(64))
    p = reader.partition(b"k", token(b"k"))
    expect = [u.rows[c] for c in sorted(cs) if s.contains(c)]
    if reversed_:
        expect.reverse()
    assert list(p.rows(s, reversed_)) == expect


def test_stats_cover_every_kind_of_datum():
    fs = FaultInjectingFileSystem()
    u = PartitionUpdate(TABLE, b"k", DeletionTime(5, 100))
    u.range_tombstones = [RangeTombstone(Slice(b"\x01", True, b"\x05", False),
                                         DeletionTime(7, 200))]
    u.rows[b"\x02"] = Row(b"\x02", Cell(b"", 10), DeletionTime(3, 50), {
        "a": Cell(None, 20, 0, 60), "b": Cell(b"x", -4, 10, 300),
        "m": ComplexColumn(DeletionTime(8, 70), {b"p": Cell(b"1", 9)})})
    s = write(fs, [u], commitlog_position=(3, 77)).stats
    assert (s.min_timestamp, s.max_timestamp) == (-4, 20)
    assert (s.min_local_deletion_time, s.max_local_deletion_time) == (50, NO_EXPIRY)
    assert s.tombstone_count == 5       # partition, range, row, cell, collection
    assert s.partition_deletion_count == 1
    assert (s.min_clustering, s.max_clustering) == (b"\x01", b"\x05")
    assert s.commitlog_position == (3, 77) and s.cell_count == 3 and s.row_count == 1
    assert s.table_id == TABLE and s.first_key == s.last_key == b"k"


def test_clustering_bounds_open_range_tombstone_is_unbounded():
    fs = FaultInjectingFileSystem()
    u = PartitionUpdate(TABLE, b"k")
    u.range_tombstones = [RangeTombstone(Slice(b"\x01", True, None, True), DeletionTime(7, 200))]
    u.rows[b"\x02"] = Row(b"\x02", Cell(b"", 10))
    s = write(fs, [u]).stats
    assert s.min_clustering == b"\x01" and s.max_clustering is None


def test_int_clusterings_many_rows_default_options():
    fs = FaultInjectingFileSystem()
    parts = []
    for k in range(50):
        u = PartitionUpdate(TABLE, struct.pack(">i", k))
        for c in range(30):
            cl = struct.pack(">i", c)
            u.rows[cl] = Row(cl, Cell(b"", 1), None, {"v": Cell(b"%d" % (k * c), 1)})
        parts.append(u)
    reader = write(fs, parts)
    for u in parts:
        same(reader.partition(u.key, token(u.key)).to_update(TABLE), u)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=6), min_size=1, max_size=80, unique=True),
       st.binary(max_size=6), st.booleans(), st.integers(1, 9), st.none() | st.integers())
def test_scan_from_any_decorated_key(keys, probe, inclusive, interval, end_offset):
    fs = FaultInjectingFileSystem()
    kc = KeyCache()
    parts = [PartitionUpdate(TABLE, k, rows={b"": Row(b"", Cell(b"", 1))}) for k in keys]
    reader = write(fs, parts, index_interval=interval)
    reader.key_cache = kc
    order = sorted((token(k), k) for k in keys)
    starts = [order[len(order) // 2], (token(probe), probe)]
    for start in starts:
        end_token = None if end_offset is None else start[0] + end_offset
        expect = [tk for tk in order if (tk > start or (inclusive and tk == start))
                  and (end_token is None or tk[0] <= end_token)]
        got = [(p.token, p.key) for p in reader.scan(start, inclusive, end_token)]
        assert got == expect
    for _ in range(2):                                   # second pass hits the key cache
        for k in keys:
            assert [r.clustering for r in reader.partition(k, token(k)).rows()] == [b""]
    assert kc.hits == len(keys) and kc.misses == len(keys)
