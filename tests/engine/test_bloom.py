"""Bloom filter: Cassandra's sizing, measured false-positive rate, Filter.db round trip."""
import random

import pytest

from cqlpy.engine.bloom import BloomFilter, sizing
from cqlpy.engine.murmur3 import hash128


def test_sizing_matches_cassandra_bloom_calculations():
    assert sizing(0.01) == (10, 5)
    assert sizing(0.1) == (5, 3)
    assert sizing(1.0) == (1, 1)
    b, k = sizing(1e-9)                    # beyond 20 bits/key: textbook optimum
    assert b > 20 and k >= 1
    with pytest.raises(ValueError):
        sizing(0)


def test_no_false_negatives_and_fp_rate_near_target():
    rng = random.Random(11)
    keys = [rng.randbytes(12) for _ in range(20000)]
    bf = BloomFilter.for_keys(len(keys), 0.01)
    for k in keys:
        bf.add(k)
    assert all(k in bf for k in keys)
    probes = [b"absent" + rng.randbytes(10) for _ in range(50000)]
    fp = sum(1 for k in probes if k in bf) / len(probes)
    # 10 bits/key, 5 hashes: expected 0.94%
    assert 0.006 <= fp <= 0.014, fp


def test_fp_rate_at_ten_percent():
    rng = random.Random(12)
    bf = BloomFilter.for_keys(5000, 0.1)
    for _ in range(5000):
        bf.add(rng.randbytes(8))
    probes = [b"x" + rng.randbytes(8) for _ in range(20000)]
    fp = sum(1 for k in probes if k in bf) / len(probes)
    assert 0.06 <= fp <= 0.13, fp


def test_hash_once_api():
    bf = BloomFilter.for_keys(10)
    h = hash128(b"key")
    bf.add_hash(h)
    assert bf.contains_hash(h) and b"key" in bf


def test_encode_decode_round_trip_and_damage():
    bf = BloomFilter.for_keys(100, 0.01)
    for i in range(100):
        bf.add(str(i).encode())
    data = bf.encode()
    back = BloomFilter.decode(data)
    assert (back.nbits, back.hashes, back.bits) == (bf.nbits, bf.hashes, bf.bits)
    damaged = bytearray(data)
    damaged[20] ^= 4
    with pytest.raises(ValueError, match="checksum"):
        BloomFilter.decode(bytes(damaged))
    with pytest.raises(ValueError):
        BloomFilter.decode(data[:10])


def test_zero_expected_keys_still_works():
    bf = BloomFilter.for_keys(0)
    assert b"a" not in bf
    bf.add(b"a")
    assert b"a" in bf
