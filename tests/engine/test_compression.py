"""Chunked Data files: LZ4 or raw chunks, CRC on every read, the CompressionInfo offset map."""
import os
import random

import pytest

from cqlpy.engine.compression import (
    ChunkCache, ChunkReader, ChunkWriter, CompressionInfo, CompressionParams)
from cqlpy.engine.fs import FaultInjectingFileSystem
from cqlpy.errors import CorruptionError


def write(fs, params, payload, pieces=7):
    f = fs.create("/d/Data.db")
    w = ChunkWriter(f, params)
    step = max(1, len(payload) // pieces)
    for i in range(0, len(payload), step):
        w.write(payload[i:i + step])
    assert w.position == len(payload)
    info = w.finish()
    f.sync()
    f.close()
    return info


@pytest.fixture
def fs():
    f = FaultInjectingFileSystem()
    f.makedirs("/d")
    return f


@pytest.mark.parametrize("params", [CompressionParams(), CompressionParams(1024),
                                    CompressionParams.none(), CompressionParams.none(64)])
def test_round_trip_any_range(fs, params):
    rng = random.Random(1)
    payload = b"".join(rng.choice([b"abc" * 50, os.urandom(100)]) for _ in range(600))
    info = write(fs, params, payload)
    assert info.data_length == len(payload)
    assert len(info.offsets) == -(-len(payload) // params.chunk_length)
    info = CompressionInfo.decode(info.encode())
    r = ChunkReader(fs.open("/d/Data.db"), info, "/d/Data.db", 4)
    for _ in range(300):
        a = rng.randrange(len(payload))
        n = rng.randrange(0, 5000)
        assert r.read(a, n) == payload[a:a + n]
    assert r.verify() == []


def test_incompressible_chunks_are_stored_raw(fs):
    payload = os.urandom(40000)
    info = write(fs, CompressionParams(), payload)
    size = fs.size("/d/Data.db")
    assert size == len(payload) + 4 * len(info.offsets) == info.file_length
    compressible = b"x" * 40000
    info2 = write(fs, CompressionParams(), compressible)
    assert info2.file_length < 2000


def test_flipped_bit_raises_corruption_naming_file_and_offset(fs):
    payload = (b"hello world " * 5000)
    info = write(fs, CompressionParams(4096), payload)
    fs.flip_bit("/d/Data.db", info.offsets[2] + 3)
    r = ChunkReader(fs.open("/d/Data.db"), info, "/d/Data.db")
    assert r.read(0, 100) == payload[:100]
    with pytest.raises(CorruptionError) as e:
        r.read(2 * 4096 + 10, 10)
    assert e.value.path == "/d/Data.db" and e.value.offset == info.offsets[2]
    problems = r.verify()
    assert len(problems) == 1 and "/d/Data.db" in problems[0]


def test_compression_info_damage_is_detected(fs):
    info = write(fs, CompressionParams(), b"abc" * 10000)
    data = bytearray(info.encode())
    data[12] ^= 1
    with pytest.raises(ValueError, match="checksum"):
        CompressionInfo.decode(bytes(data))


def test_chunk_cache_shared_lru_and_counters(fs):
    payload = os.urandom(64 * 1024)
    info = write(fs, CompressionParams(4096), payload)
    cache = ChunkCache(capacity=2 * 4096)
    r = ChunkReader(fs.open("/d/Data.db"), info, "/d/Data.db", cache=cache, owner="a")
    r.read(0, 10)
    r.read(5, 10)
    assert r.chunk_reads == 1 and cache.hits == 1
    r.read(4096, 10)
    r.read(8192, 10)                       # evicts chunk 0
    r.read(0, 10)
    assert r.chunk_reads == 4
    assert cache.size <= cache.capacity
    cache.invalidate("a")
    assert cache.size == 0


def test_bad_params():
    with pytest.raises(ValueError):
        CompressionParams(1000)
