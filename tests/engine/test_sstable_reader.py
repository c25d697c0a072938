"""SSTable reads: wide partitions read only what a slice needs, corruption, caches, scans."""
import struct

import pytest

from cqlpy.engine import descriptor as d
from cqlpy.engine.compression import ChunkCache
from cqlpy.engine.fs import FaultInjectingFileSystem, RealFileSystem
from cqlpy.engine.keycache import KeyCache
from cqlpy.engine.murmur3 import token
from cqlpy.engine.rows import Cell, PartitionUpdate, Row, Slice
from cqlpy.engine.sstable_reader import SSTableReader, verify_sstable
from cqlpy.engine.sstable_writer import SSTableWriter
from cqlpy.errors import CorruptionError, StorageError

TABLE = bytes(16)


def c(i: int) -> bytes:
    return struct.pack(">i", i)


def partition(key: bytes, nrows: int, width: int = 20) -> PartitionUpdate:
    u = PartitionUpdate(TABLE, key)
    for i in range(nrows):
        u.rows[c(i)] = Row(c(i), Cell(b"", 1), None, {"v": Cell(b"%07d" % i * (width // 7 + 1), 5)})
    return u


def write(fs, parts, directory="/t", generation=1, **kw):
    fs.makedirs(directory)
    w = SSTableWriter(fs, directory, generation, expected_partitions=len(parts), **kw)
    for u in sorted(parts, key=lambda u: (token(u.key), u.key)):
        w.append(token(u.key), u)
    return w.finish()


@pytest.fixture
def fs():
    return FaultInjectingFileSystem()


@pytest.fixture(scope="module")
def wide():
    """One SSTable holding a 100,000-row partition (plus a few narrow ones)."""
    fs = FaultInjectingFileSystem()
    parts = [partition(b"wide", 100_000)] + [partition(b"n%d" % i, 3) for i in range(20)]
    reader = write(fs, parts)
    return fs, reader


def test_wide_partition_has_row_index_samples(wide):
    _fs, reader = wide
    p = reader.partition(b"wide", token(b"wide"))
    assert p.is_wide
    samples = p._samples
    assert len(samples) > 30
    assert samples[0][0] == c(0) and samples[-1][1] == c(99_999)


@pytest.mark.parametrize("reversed_", [False, True])
def test_wide_slice_reads_only_a_few_chunks(wide, reversed_):
    _fs, reader = wide
    reader.clear_chunk_cache()
    before = reader.chunk_reads
    p = reader.partition(b"wide", token(b"wide"))
    rows = list(p.rows(Slice(c(50_000), True, c(50_100), False), reversed=reversed_))
    assert [r.clustering for r in rows] == [c(i) for i in (
        range(50_099, 49_999, -1) if reversed_ else range(50_000, 50_100))]
    total_chunks = len(reader.compression_info.offsets)
    used = reader.chunk_reads - before
    assert used <= 12 < total_chunks // 10, (used, total_chunks)


def test_wide_reversed_limit_reads_only_the_tail(wide):
    _fs, reader = wide
    reader.clear_chunk_cache()
    before = reader.chunk_reads
    it = reader.partition(b"wide", token(b"wide")).rows(reversed=True)
    first = [next(it).clustering for _ in range(3)]
    assert first == [c(99_999), c(99_998), c(99_997)]
    assert reader.chunk_reads - before <= 10


def test_wide_full_scan_forward_and_reversed(wide):
    _fs, reader = wide
    p = reader.partition(b"wide", token(b"wide"))
    forward = [r.clustering for r in p.rows()]
    assert forward == [c(i) for i in range(100_000)]
    assert [r.clustering for r in p.rows(reversed=True)] == forward[::-1]


def test_point_read_in_wide_partition(wide):
    _fs, reader = wide
    p = reader.partition(b"wide", token(b"wide"))
    for i in (0, 1, 777, 65_536, 99_999):
        reader.clear_chunk_cache()
        before = reader.chunk_reads
        (row,) = p.rows(Slice(c(i), True, c(i), True))
        assert row.clustering == c(i)
        assert reader.chunk_reads - before <= 6       # one row-index block, not the partition
    assert list(p.rows(Slice(c(5), False, c(5), True))) == []
    assert list(p.rows(Slice(c(200_000), True, None, True))) == []


def test_absent_keys_and_bloom_counters(fs):
    reader = write(fs, [partition(b"k%d" % i, 2) for i in range(200)])
    assert reader.partition(b"nope", token(b"nope")) is None
    for i in range(2000):
        key = b"absent%d" % i
        assert reader.partition(key, token(key)) is None
    assert reader.bloom_checks == 2001
    assert 0 < reader.bloom_false_positives < 60
    assert reader.may_contain(b"k5")


def test_key_cache_hit_skips_the_index(fs):
    kc = KeyCache()
    write(fs, [partition(b"k%d" % i, 2) for i in range(300)], index_interval=16)
    reader = SSTableReader.open(fs, "/t", 1, key_cache=kc)
    key = b"k42"
    assert reader.partition(key, token(key)) is not None
    reads = reader.index_block_reads
    assert (kc.hits, kc.misses) == (0, 1)
    p = reader.partition(key, token(key))
    assert [r.clustering for r in p.rows()] == [c(0), c(1)]
    assert reader.index_block_reads == reads and kc.hits == 1
    reader.close()
    assert len(kc) == 0                 # closed readers leave nothing behind


def test_key_cache_is_safe_across_reused_generations(fs):
    kc = KeyCache()
    write(fs, [partition(b"a", 2), partition(b"b", 1)]).close()
    r1 = SSTableReader.open(fs, "/t", 1, key_cache=kc)
    r1.partition(b"b", token(b"b"))
    d.delete_sstable(fs, "/t", 1)
    write(fs, [partition(b"b", 5)]).close()      # same directory + generation, new content
    r2 = SSTableReader.open(fs, "/t", 1, key_cache=kc)
    assert len(list(r2.partition(b"b", token(b"b")).rows())) == 5


def test_shared_chunk_cache(fs):
    cache = ChunkCache(1 << 20)
    write(fs, [partition(b"k%d" % i, 50) for i in range(50)])
    reader = SSTableReader.open(fs, "/t", 1, chunk_cache=cache)
    for _ in range(2):
        for i in range(50):
            list(reader.partition(b"k%d" % i, token(b"k%d" % i)).rows())
    assert cache.hits > cache.misses > 0
    reader.close()
    assert cache.size == 0


def test_scan_ranges(fs):
    parts = [partition(b"k%d" % i, 1) for i in range(300)]
    reader = write(fs, parts, index_interval=7)
    order = sorted((token(u.key), u.key) for u in parts)
    assert [(p.token, p.key) for p in reader.scan()] == order
    mid = order[100]
    assert [(p.token, p.key) for p in reader.scan(mid)] == order[100:]
    assert [(p.token, p.key) for p in reader.scan(mid, start_inclusive=False)] == order[101:]
    end = order[200][0]
    assert [(p.token, p.key) for p in reader.scan(mid, end_token=end)] == order[100:201]
    assert list(reader.scan((order[-1][0] + 1, b""))) == []
    assert [p.key for p in reader.scan((-(1 << 63), b""))] == [k for _t, k in order]


def test_flipped_bit_in_data_raises_corruption_naming_the_file(fs):
    parts = [partition(b"k%d" % i, 40, 200) for i in range(100)]
    reader = write(fs, parts)
    info = reader.compression_info
    victim = len(info.offsets) // 2
    fs.flip_bit(reader.data_path, info.offsets[victim] + 100)
    reader.close()
    reader = SSTableReader.open(fs, "/t", 1)
    errors = 0
    for u in parts:
        try:
            assert reader.partition(u.key, token(u.key)).to_update(TABLE).sorted_rows() == \
                u.sorted_rows()
        except CorruptionError as e:
            errors += 1
            assert e.path == reader.data_path and e.offset == info.offsets[victim]
            assert "1-Data.db" in str(e)
    assert errors >= 1
    problems = reader.verify()
    assert len(problems) == 1 and reader.data_path in problems[0]


@pytest.mark.parametrize("component", [d.INDEX, d.SUMMARY, d.FILTER, d.STATISTICS,
                                       d.COMPRESSION_INFO])
def test_damage_to_any_component_is_detected(fs, component):
    reader = write(fs, [partition(b"k%d" % i, 5) for i in range(300)], index_interval=32)
    reader.close()
    path = d.path("/t", 1, component)
    fs.flip_bit(path, fs.size(path) // 2)
    problems = verify_sstable(fs, "/t", 1)
    assert problems and all(path in p for p in problems)
    if component == d.INDEX:
        r = SSTableReader.open(fs, "/t", 1)
        with pytest.raises(CorruptionError) as e:
            for i in range(300):
                r.partition(b"k%d" % i, token(b"k%d" % i))
        assert e.value.path == path
    else:
        with pytest.raises(CorruptionError) as e:
            SSTableReader.open(fs, "/t", 1)
        assert e.value.path == path


def test_writer_rejects_out_of_order_and_duplicates(fs):
    fs.makedirs("/t")
    w = SSTableWriter(fs, "/t", 1, expected_partitions=2)
    a, b = sorted([b"x", b"y"], key=token)
    w.append(token(b), partition(b, 1))
    with pytest.raises(ValueError):
        w.append(token(a), partition(a, 1))
    with pytest.raises(ValueError):
        w.append(token(b), partition(b, 1))
    w.abort()
    assert fs.listdir("/t") == []


def test_writer_rejects_mismatched_row_keys_and_existing_generation(fs):
    write(fs, [partition(b"a", 1)]).close()
    with pytest.raises(StorageError):
        SSTableWriter(fs, "/t", 1, expected_partitions=1)
    w = SSTableWriter(fs, "/t", 2, expected_partitions=1)
    u = PartitionUpdate(TABLE, b"q", rows={b"x": Row(b"y")})
    with pytest.raises(ValueError):
        w.append(token(b"q"), u)
    w.abort()


def test_open_missing_sstable(fs):
    fs.makedirs("/t")
    with pytest.raises(StorageError):
        SSTableReader.open(fs, "/t", 9)


def test_empty_sstable(fs):
    reader = write(fs, [])
    assert list(reader.scan()) == [] and reader.partition(b"a", token(b"a")) is None
    assert reader.stats.partition_count == 0 and reader.verify() == []


def test_real_file_system(tmp_path):
    fs = RealFileSystem()
    directory = str(tmp_path / "t")
    reader = write(fs, [partition(b"k%d" % i, 30) for i in range(100)], directory=directory)
    assert reader.data_size == sum((tmp_path / "t" / n).stat().st_size
                                   for n in fs.listdir(directory))
    assert reader.partition(b"k7", token(b"k7")).to_update(TABLE).sorted_rows() == \
        partition(b"k7", 30).sorted_rows()
    assert sorted(fs.listdir(directory)) == sorted(
        d.file_name(1, comp) for comp in d.COMPONENTS + (d.TOC,))
    reader.close()
