"""Murmur3Partitioner: tokens (against cassandra-driver), wrapping ranges, midpoints, ownership."""
import random

import pytest
from cassandra.metadata import Murmur3Token

from cqlpy.cluster.partitioner import (
    MAX_TOKEN, MIN_TOKEN, RING_SIZE, Murmur3Partitioner, TokenRange, describe_ownership,
    first_token_index, midpoint, normalize, ranges_between, ring_distance, split_at, subtract)

P = Murmur3Partitioner


def test_tokens_match_cassandra_driver_including_high_tail_bytes():
    rng = random.Random(3)
    keys = [b"", b"a", b"key1", bytes(range(0x80, 0x90)), b"\xff" * 17]
    keys += [rng.randbytes(rng.randrange(1, 40)) for _ in range(500)]
    for k in keys:
        assert P.get_token(k) == Murmur3Token.from_key(k).value, k


def test_bounds_and_names():
    assert MIN_TOKEN == -(2 ** 63) and MAX_TOKEN == 2 ** 63 - 1
    assert P.name == "org.apache.cassandra.dht.Murmur3Partitioner"
    assert P.token_from_string(str(MAX_TOKEN)) == MAX_TOKEN
    with pytest.raises(ValueError):
        P.token_from_string(str(MAX_TOKEN + 1))
    rng = random.Random(1)
    assert all(MIN_TOKEN < P.random_token(rng) <= MAX_TOKEN for _ in range(1000))


@pytest.mark.parametrize("rng_, inside, outside", [
    (TokenRange(10, 20), [11, 15, 20], [10, 21, MIN_TOKEN, MAX_TOKEN]),
    (TokenRange(100, -100), [101, MAX_TOKEN, MIN_TOKEN, -100], [100, 0, -99]),
    (TokenRange(5, 5), [5, 6, MIN_TOKEN, MAX_TOKEN], []),
    (TokenRange(MIN_TOKEN, 0), [MIN_TOKEN + 1, 0], [MIN_TOKEN, 1]),
])
def test_range_contains_start_exclusive_end_inclusive(rng_, inside, outside):
    assert all(t in rng_ for t in inside)
    assert not any(t in rng_ for t in outside)


def test_range_sizes_and_fractions():
    assert TokenRange(10, 20).size() == 10
    assert TokenRange(MAX_TOKEN - 4, MIN_TOKEN + 5).size() == 10
    assert TokenRange(7, 7).size() == RING_SIZE and TokenRange(7, 7).fraction() == 1.0
    assert TokenRange(0, MIN_TOKEN).fraction() == pytest.approx(0.5)
    assert TokenRange(100, -100).is_wrap_around and not TokenRange(-100, 100).is_wrap_around
    assert not TokenRange(0, MIN_TOKEN).is_wrap_around       # ends at the ring's end


def test_split_and_unwrap():
    assert TokenRange(0, 100).split(40) == (TokenRange(0, 40), TokenRange(40, 100))
    with pytest.raises(ValueError):
        TokenRange(0, 100).split(100)
    with pytest.raises(ValueError):
        TokenRange(0, 100).split(200)
    assert TokenRange(100, -100).unwrap() == (TokenRange(100, MIN_TOKEN), TokenRange(MIN_TOKEN, -100))
    assert TokenRange(-100, 100).unwrap() == (TokenRange(-100, 100),)


def test_midpoint_is_cassandras():
    assert midpoint(-10, 10) == 0
    assert midpoint(0, 3) == 1
    # wrapping arc of 20 steps from MAX-10: halfway is MAX
    assert midpoint(MAX_TOKEN - 10, MIN_TOKEN + 10) == MAX_TOKEN
    assert midpoint(MAX_TOKEN - 10, MIN_TOKEN + 30) == MIN_TOKEN + 10
    assert midpoint(0, 0) == MAX_TOKEN                         # opposite point of a full ring
    rng = random.Random(5)
    for _ in range(2000):
        a, b = P.random_token(rng), P.random_token(rng)
        m = midpoint(a, b)
        assert m in TokenRange(a, b)
        assert abs(ring_distance(a, m) - ring_distance(m, b)) <= 2    # Java rounds twice when wrapping


def test_split_at_ratio():
    assert split_at(0, 1000, 0.25) == 250
    t = split_at(MAX_TOKEN - 99, MIN_TOKEN + 100, 0.5)
    assert t in TokenRange(MAX_TOKEN - 99, MIN_TOKEN + 100)
    assert ring_distance(MAX_TOKEN - 99, t) == 100


def test_describe_ownership_and_ranges():
    toks = sorted([-(2 ** 62), 0, 2 ** 62])
    own = describe_ownership(toks)
    assert own[0] == pytest.approx(0.25) and own[2 ** 62] == pytest.approx(0.25)
    assert own[-(2 ** 62)] == pytest.approx(0.5)              # wraps from 2**62
    assert sum(own.values()) == pytest.approx(1.0)
    assert describe_ownership([42]) == {42: 1.0}
    assert ranges_between(toks)[0] == TokenRange(2 ** 62, -(2 ** 62))
    assert P.describe_ownership(toks) == own


def test_first_token_index_wraps():
    toks = [-5, 0, 5]
    probes = (-10, -5, -4, 0, 3, 5, 6, MAX_TOKEN)
    assert [first_token_index(toks, t) for t in probes] == [0, 0, 1, 1, 2, 2, 0, 0]


def test_normalize_merges_and_keeps_full_ring():
    assert normalize([TokenRange(10, 20), TokenRange(20, 30), TokenRange(0, 5)]) == [
        TokenRange(0, 5), TokenRange(10, 30)]
    assert normalize([TokenRange(100, -100), TokenRange(-100, 100)]) == [TokenRange(MIN_TOKEN, MIN_TOKEN)]
    assert normalize([TokenRange(3, 3)]) == [TokenRange(MIN_TOKEN, MIN_TOKEN)]
    assert normalize([TokenRange(100, -100), TokenRange(-200, -150)]) == [TokenRange(100, -100)]
    assert normalize([TokenRange(100, -100), TokenRange(-50, -20)]) == [
        TokenRange(-50, -20), TokenRange(100, -100)]


def test_subtract():
    assert subtract([TokenRange(0, 100)], [TokenRange(10, 20), TokenRange(50, 200)]) == [
        TokenRange(0, 10), TokenRange(20, 50)]
    assert subtract([TokenRange(MIN_TOKEN, MIN_TOKEN)], [TokenRange(0, 10)]) == [TokenRange(10, 0)]
    assert subtract([TokenRange(0, 10)], [TokenRange(0, 10)]) == []
    rng = random.Random(9)
    for _ in range(200):                                    # membership agrees pointwise
        a = TokenRange(P.random_token(rng), P.random_token(rng))
        b = TokenRange(P.random_token(rng), P.random_token(rng))
        diff = subtract([a], [b])
        for t in [P.random_token(rng) for _ in range(20)] + [a.end, b.end, a.start, b.start]:
            assert any(t in r for r in diff) == (t in a and t not in b), (a, b, t)
