"""TokenMetadata: the sorted ring, lookups that wrap, topology, pending changes kept apart, caches."""
import random

import pytest

from cqlpy.cluster.endpoints import DEFAULT_LOCATION, Endpoint, Location
from cqlpy.cluster.partitioner import MAX_TOKEN, MIN_TOKEN, TokenRange
from cqlpy.cluster.token_metadata import TokenMetadata

from .ring_helpers import ep, random_ring

A, B, C, D = ep(0), ep(1), ep(2), ep(3)


def ring3() -> TokenMetadata:
    tm = TokenMetadata()
    tm.update_normal_tokens(A, [-100, 200])
    tm.update_normal_tokens(B, [0], ("dc1", "r1"))
    tm.update_normal_tokens(C, [100])
    return tm


def test_sorted_tokens_owners_and_lookup():
    tm = ring3()
    assert tm.sorted_tokens() == [-100, 0, 100, 200]
    assert tm.owners() == (A, B, C, A)
    assert tm.endpoint_for(0) == B and tm.endpoint_for(1) is None
    assert tm.tokens_of(A) == [-100, 200]
    assert [tm.first_token(t) for t in (-101, -100, -99, 150, 200, 201, MAX_TOKEN)] == [
        -100, -100, 0, 200, 200, -100, -100]
    assert tm.primary_endpoint(201) == A and tm.primary_endpoint(50) == C
    assert [t for t, _ in tm.ring_iterator(150)] == [200, -100, 0, 100]
    assert len(tm) == 4 and tm.endpoints() == [A, B, C]
    assert tm.is_member(B) and not tm.is_member(D)


def test_primary_ranges_and_ownership():
    tm = ring3()
    assert tm.primary_range(-100) == TokenRange(200, -100)
    assert tm.primary_ranges(A) == [TokenRange(200, -100), TokenRange(100, 200)]
    own = tm.ownership()
    assert sum(own.values()) == pytest.approx(1.0)
    assert own[B] == pytest.approx(100 / 2 ** 64)
    with pytest.raises(LookupError):
        tm.predecessor(5)
    one = TokenMetadata()
    one.update_normal_tokens(A, [7])
    assert one.ownership() == {A: 1.0} and one.primary_range(7).is_full_ring


def test_topology_defaults_and_groupings():
    tm = ring3()
    assert tm.location(A) == DEFAULT_LOCATION == Location("datacenter1", "rack1")
    assert tm.location(B) == Location("dc1", "r1") and tm.datacenter(B) == "dc1" and tm.rack(B) == "r1"
    assert tm.datacenter_endpoints() == {"datacenter1": {A, C}, "dc1": {B}}
    assert tm.datacenter_racks() == {"datacenter1": {"rack1": {A, C}}, "dc1": {"r1": {B}}}
    v = tm.ring_version
    tm.update_topology(C, ("dc1", "r2"))
    assert tm.ring_version > v
    assert tm.datacenter_racks()["dc1"] == {"r1": {B}, "r2": {C}}
    assert tm.known_datacenters() == {"datacenter1", "dc1"}


def test_tokens_move_between_endpoints_and_replace():
    tm = ring3()
    tm.update_normal_tokens(D, [100, 300])              # D takes C's only token
    assert tm.endpoint_for(100) == D and not tm.is_member(C)
    tm.update_normal_tokens(A, [-50])                   # A's tokens are replaced, not added
    assert tm.tokens_of(A) == [-50] and tm.endpoint_for(200) is None
    tm.remove_endpoint(A)
    assert tm.sorted_tokens() == [0, 100, 300] and tm.location(A) == DEFAULT_LOCATION


def test_invalid_tokens_refused():
    tm = TokenMetadata()
    for bad in ([], [MAX_TOKEN + 1], [MIN_TOKEN - 1], ["5"], [True]):
        with pytest.raises(ValueError):
            tm.update_normal_tokens(A, bad)
    with pytest.raises(LookupError):
        tm.first_token_index(0)


def test_pending_changes_are_kept_apart():
    tm = ring3()
    v = tm.ring_version
    tm.add_bootstrap_tokens(D, [50, 250], ("dc1", "r2"))
    assert tm.ring_version > v
    assert tm.sorted_tokens() == [-100, 0, 100, 200]          # normal ring unchanged
    assert tm.bootstrap_tokens() == {50: D, 250: D} and tm.bootstrapping_endpoints() == {D}
    assert tm.location(D) == Location("dc1", "r2")
    with pytest.raises(ValueError):
        tm.add_bootstrap_tokens(ep(9), [50])                   # another joiner's token
    with pytest.raises(ValueError):
        tm.add_bootstrap_tokens(ep(9), [0])                    # a member's token
    tm.add_leaving_endpoint(C)
    assert tm.leaving_endpoints() == {C} and tm.has_pending_changes()
    with pytest.raises(ValueError):
        tm.add_leaving_endpoint(ep(9))
    settled = tm.clone_after_all_settled()
    assert settled.sorted_tokens() == [-100, 0, 50, 200, 250]
    assert settled.endpoint_for(50) == D and not settled.is_member(C)
    assert not settled.has_pending_changes()
    assert tm.clone_after_all_left().sorted_tokens() == [-100, 0, 200]
    assert tm.clone_only_token_map().bootstrap_tokens() == {}
    assert tm.sorted_tokens() == [-100, 0, 100, 200]          # clones do not touch the original
    tm.update_normal_tokens(D, [50, 250])                      # bootstrap completes
    assert tm.bootstrap_tokens() == {} and tm.endpoint_for(250) == D


def test_cache_is_dropped_on_every_change():
    tm = ring3()
    builds = []
    get = lambda: tm.cached("k", lambda: builds.append(1) or len(builds))
    assert get() == 1 and get() == 1
    tm.update_normal_tokens(D, [400])
    assert get() == 2
    tm.add_bootstrap_tokens(ep(8), [500])
    assert get() == 3
    tm.update_topology(D, ("dc9", "r9"))
    assert get() == 4


def test_endpoint_by_host_id_and_endpoint_values():
    tm = ring3()
    assert tm.endpoint_by_host_id(B.host_id) == B
    e = Endpoint.parse("127.0.0.9:7001")
    assert (e.address, e.port) == ("127.0.0.9", 7001) and str(e) == "127.0.0.9:7001"
    assert Endpoint.parse("[::1]:7000").address == "::1" and str(Endpoint.parse("::1")) == "[::1]:7000"
    assert Endpoint.of("127.0.0.9", 7001) == e and hash(Endpoint.of("127.0.0.9", 7001)) == hash(e)
    assert sorted([Endpoint.of("127.0.0.10"), Endpoint.of("127.0.0.9")])[0].address == "127.0.0.9"


def test_big_ring_lookups_agree_with_a_linear_scan():
    rng = random.Random(4)
    tm = random_ring(rng, 20, 16)
    toks = tm.sorted_tokens()
    for _ in range(500):
        t = rng.randrange(MIN_TOKEN, MAX_TOKEN)
        expect = next((x for x in toks if x >= t), toks[0])
        assert tm.first_token(t) == expect
