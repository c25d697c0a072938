"""Shared builders for ring tests: endpoints, random rings, and cassandra-driver's placement as an oracle."""
from __future__ import annotations

import random

from cqlpy.cluster.endpoints import Endpoint
from cqlpy.cluster.token_allocation import random_tokens
from cqlpy.cluster.token_metadata import TokenMetadata


def ep(n: int) -> Endpoint:
    return Endpoint.of(f"127.0.{n // 250}.{n % 250 + 1}")


def random_ring(rng: random.Random, nodes: int, num_tokens: int = 4,
                layout=lambda i: ("datacenter1", "rack1")) -> TokenMetadata:
    """``nodes`` endpoints with random tokens; ``layout(i)`` gives node i's (dc, rack)."""
    tm = TokenMetadata()
    for i in range(nodes):
        tm.update_normal_tokens(ep(i), random_tokens(num_tokens, rng), layout(i))
    return tm


class FakeHost:
    """Just enough of cassandra.pool.Host for cassandra.metadata's replica maps."""

    def __init__(self, endpoint: Endpoint, datacenter: str, rack: str):
        self.endpoint, self.datacenter, self.rack = endpoint, datacenter, rack

    def __repr__(self) -> str:
        return f"FakeHost({self.endpoint}, {self.datacenter}, {self.rack})"


def driver_replica_map(driver_strategy, tm: TokenMetadata) -> dict[int, list[Endpoint]]:
    """ring token -> replicas, as cassandra-driver computes them for token-aware routing."""
    hosts = {e: FakeHost(e, *tm.location(e)) for e in tm.endpoints()}
    owner = {t: hosts[tm.endpoint_for(t)] for t in tm.sorted_tokens()}
    rmap = driver_strategy.make_token_replica_map(owner, list(tm.sorted_tokens()))
    return {t: [h.endpoint for h in hs] for t, hs in rmap.items()}
