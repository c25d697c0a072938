"""Token allocation: random tokens, generateSplits, and replication-aware allocation that balances
replicated ownership (measured against random tokens on the same rings)."""
import random
import time

import pytest

from cqlpy.cluster.partitioner import MIN_TOKEN, RING_SIZE, ring_distance
from cqlpy.cluster.replication import NetworkTopologyStrategy, replicated_ownership
from cqlpy.cluster.token_allocation import (
    SPLIT_RATIO_MIN, SPLIT_RATIO_SPREAD, allocate_tokens, generate_splits, random_tokens)
from cqlpy.cluster.token_metadata import TokenMetadata

from .ring_helpers import ep


def test_random_tokens_distinct_sorted_and_seeded():
    toks = random_tokens(256, random.Random(1), existing=[0])
    assert len(set(toks)) == 256 and toks == sorted(toks) and 0 not in toks and MIN_TOKEN not in toks
    assert toks == random_tokens(256, random.Random(1), existing=[0])


def test_generate_splits_from_an_empty_ring():
    toks = generate_splits([], 2, random.Random(3))
    assert len(toks) == 2
    a, b = toks
    share = max(ring_distance(a, b), ring_distance(b, a)) / RING_SIZE
    assert SPLIT_RATIO_MIN - 1e-9 <= share <= SPLIT_RATIO_MIN + SPLIT_RATIO_SPREAD + 1e-9


def test_generate_splits_always_split_the_largest_range():
    rng = random.Random(4)
    ring = generate_splits([], 16, rng)
    more = generate_splits(ring, 16, rng)
    assert not set(ring) & set(more) and len(more) == 16
    merged = sorted(ring + more)
    sizes = [ring_distance(merged[i - 1], merged[i]) for i in range(len(merged))]
    # chaotic but bounded: no range more than ~3x another
    assert max(sizes) / min(sizes) < 4


def build_dc(nodes: int, seed: int, allocate: bool, racks: int = 1, rf: int = 3) -> TokenMetadata:
    rng = random.Random(seed)
    tm = TokenMetadata()
    for i in range(nodes):
        loc = ("dc1", f"r{i % racks}")
        toks = allocate_tokens(tm, ep(i), 16, rf, rng, loc) if allocate else random_tokens(16, rng)
        tm.update_normal_tokens(ep(i), toks, loc)
    return tm


def worst_deviation(tm: TokenMetadata, rf: int = 3, dc: str = "dc1") -> float:
    own = {e: v for e, v in replicated_ownership(NetworkTopologyStrategy.of(**{dc: rf}), tm).items()
           if tm.datacenter(e) == dc}
    mean = sum(own.values()) / len(own)
    return max(abs(v / mean - 1) for v in own.values())


@pytest.mark.parametrize("nodes", [3, 4, 5, 6])
def test_allocation_balances_replicated_ownership(nodes):
    """num_tokens 16, RF 3: every node within 15% of the mean replicated ownership."""
    for seed in range(5):
        tm = build_dc(nodes, seed, allocate=True)
        assert worst_deviation(tm) <= 0.15, (nodes, seed, worst_deviation(tm))
        assert all(len(tm.tokens_of(e)) == 16 for e in tm.endpoints())


def test_random_tokens_do_measurably_worse():
    alloc = [worst_deviation(build_dc(n, s, True)) for n in (4, 5, 6) for s in range(5)]
    rand = [worst_deviation(build_dc(n, s, False)) for n in (4, 5, 6) for s in range(5)]
    assert sum(rand) / len(rand) > 2.5 * sum(alloc) / len(alloc), (alloc, rand)
    assert max(rand) > 0.15


@pytest.mark.parametrize("nodes", [3, 6, 9])
def test_allocation_is_rack_aware(nodes):
    """Three racks with equal nodes, RF 3: each rack holds every range once; nodes split it evenly."""
    for seed in range(3):
        tm = build_dc(nodes, seed, allocate=True, racks=3)
        assert worst_deviation(tm) <= 0.15, (nodes, seed, worst_deviation(tm))


def test_each_datacenter_is_balanced_on_its_own():
    rng = random.Random(11)
    tm = TokenMetadata()
    for i in range(10):
        loc = ("dc1" if i % 2 == 0 else "dc2", "rack1")
        tm.update_normal_tokens(ep(i), allocate_tokens(tm, ep(i), 16, 3, rng, loc), loc)
    assert worst_deviation(tm, dc="dc1") <= 0.15 and worst_deviation(tm, dc="dc2") <= 0.15
    assert len(tm.sorted_tokens()) == 160                      # no collisions across DCs


def test_allocation_uses_the_endpoints_known_location_and_is_deterministic():
    a = build_dc(5, 21, allocate=True)
    b = build_dc(5, 21, allocate=True)
    assert a.sorted_tokens() == b.sorted_tokens()
    tm = build_dc(4, 2, allocate=True)
    tm.update_topology(ep(7), ("dc1", "r0"))
    toks = allocate_tokens(tm, ep(7), 8, 3, random.Random(1))
    assert len(toks) == 8 and not set(toks) & set(tm.sorted_tokens())


def test_allocation_is_fast_enough_for_a_twelve_node_dc():
    tm = build_dc(11, 5, allocate=True)
    t0 = time.perf_counter()
    allocate_tokens(tm, ep(11), 16, 3, random.Random(5), ("dc1", "r0"))
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("seed", range(8))
def test_allocator_ownership_model_is_network_topology_strategy(seed):
    """The allocator's fast integer model of replicated ownership agrees with the real strategy."""
    from cqlpy.cluster.token_allocation import _DcRing
    rng = random.Random(seed)
    racks, rf = rng.randrange(1, 5), rng.randrange(1, 5)
    tm = TokenMetadata()
    for i in range(rng.randrange(1, 9)):
        tm.update_normal_tokens(ep(i), random_tokens(rng.randrange(1, 6), rng), ("dc1", f"r{i % racks}"))
    members = tm.endpoints()
    index = {e: i for i, e in enumerate(members)}
    rack_ids: dict = {}
    rack_of = [rack_ids.setdefault(tm.rack(e), len(rack_ids)) for e in members]
    ring = _DcRing(list(tm.sorted_tokens()), [index[e] for e in tm.owners()], rack_of, rf, 16)
    own, per_token = ring.ownership(ring.tokens, ring.owners)
    expected = replicated_ownership(NetworkTopologyStrategy.of(dc1=rf), tm)
    if len(tm.sorted_tokens()) > 1:
        assert own == pytest.approx([expected[e] for e in members])
        assert sum(per_token) == pytest.approx(sum(own))
