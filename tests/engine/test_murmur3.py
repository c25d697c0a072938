"""Murmur3 tokens: Cassandra's vectors, mmh3 fast path vs the pure port, the driver as oracle."""
import os
import random
import struct

import pytest

from cqlpy.engine.murmur3 import MAX_TOKEN, hash128, hash128_pure, token, token_of_hash

# cql-semantics Appendix A / native-protocol §13
INT_VECTORS = {
    0: -3485513579396041028, 1: -4069959284402364209, 2: -3248873570005575792,
    3: 9010454139840013625, 4: -2729420104000364805, 5: -7509452495886106294,
    6: 2705480034054113608, 7: 1634052884888577606, 8: -3799847372828181882,
    9: 3728482343045213994, 10: -6715243485458697746, -1: 7297452126230313552,
}
COMPOSITE_VECTORS = {
    (1, 1): 5765203080415074583, (1, 2): 4881097376275569167,
    (2, 1): 1222388547083740924, (2, 2): -3974863545882308264,
}


def composite(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">H", len(p)) + p + b"\0" for p in parts)


@pytest.mark.parametrize("value,expected", sorted(INT_VECTORS.items()))
def test_int_keys(value, expected):
    assert token(struct.pack(">i", value)) == expected


@pytest.mark.parametrize("values,expected", sorted(COMPOSITE_VECTORS.items()))
def test_composite_keys(values, expected):
    key = composite(*(struct.pack(">i", v) for v in values))
    assert token(key) == expected


def test_text_key():
    assert token(b"a") == -8839064797231613815


def test_scan_order_of_int_keys_matches_cassandra():
    assert sorted(range(6), key=lambda i: token(struct.pack(">i", i))) == [5, 1, 0, 2, 4, 3]


def test_fast_path_and_pure_port_agree_on_unsigned_tails():
    rng = random.Random(3)
    for _ in range(500):
        key = bytes(rng.randrange(0x80) for _ in range(rng.randrange(40)))
        assert hash128(key) == hash128_pure(key)


def test_token_of_hash_maps_the_minimum():
    assert token_of_hash((-(1 << 63), 5)) == MAX_TOKEN
    assert token_of_hash((7, 5)) == 7


def test_random_binary_keys_against_the_driver():
    murmur3 = pytest.importorskip("cassandra.murmur3").murmur3
    rng = random.Random(7)
    for _ in range(3000):
        key = rng.randbytes(rng.randrange(0, 70))
        expected = murmur3(key)
        assert token(key) == (MAX_TOKEN if expected == -(1 << 63) else expected), key.hex()


def test_second_half_matches_the_pure_port_for_signed_tails():
    for _ in range(200):
        key = os.urandom(17) + b"\xff"
        assert hash128(key) == hash128_pure(key)
        assert hash128(key)[0] == token(key)
