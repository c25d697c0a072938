"""Token allocation for a joining node: random tokens, or Cassandra 4's replication-aware allocation.

Cassandra 4 ships ``num_tokens: 16`` with ``allocate_tokens_for_local_replication_factor: 3``
(notes A8); random tokens need ~256 vnodes per node to balance.  The allocator here follows
``ReplicationAwareTokenAllocator`` in outline, within the joining node's datacenter:

1. While the DC has fewer nodes than RF (every node then replicates everything): ``generate_splits``
   — start from a random token if the DC is empty, then repeatedly split the largest range at a
   ratio drawn from [1 - 1/sqrt(5), 1 - 1/sqrt(5) + 0.075] ≈ [0.553, 0.628], a "reasonably chaotic"
   start that later allocations even out.
2. Otherwise, one token at a time: every range's midpoint is a candidate, scored by how much it
   reduces the variance of replicated ownership, per node (target RF / nodes, or 1 / rack size when
   racks == RF; the joiner's target grows with the tokens it has) and per token (its node's target
   / its node's tokens).  Replicated ownership comes from NetworkTopologyStrategy's walk on the DC's
   sub-ring, so the allocation is rack-aware.  Candidates sit in a heap of (possibly stale)
   improvements; the top one is re-scored against the current ring and taken only if it still beats
   the next stale score, otherwise pushed back (lazy greedy).  The two halves of a taken range become
   candidates.

Deterministic for a given ``random.Random``.  Cost: about (candidates re-scored) × O(ring · RF)
per token; a few hundred milliseconds for a 100-vnode DC.
"""
from __future__ import annotations

import bisect
import heapq
import math
import random
from typing import Sequence

from .endpoints import Endpoint, Location
from .partitioner import MIN_TOKEN, RING_SIZE, Murmur3Partitioner, midpoint, ring_distance, split_at
from .token_metadata import TokenMetadata

SPLIT_RATIO_MIN = 1 - 1 / math.sqrt(5)      # ≈ 0.553
SPLIT_RATIO_SPREAD = 0.075
DEFAULT_NUM_TOKENS = 16
DEFAULT_ALLOCATION_RF = 3
# Scoring weights, tuned on 3..12-node DCs (tests/cluster/test_token_allocation.py): the joiner aims
# one token ahead of its progress, and per-token deviations weigh 4x per-node ones.
LOOKAHEAD = 1
NODE_WEIGHT = 1.0
TOKEN_WEIGHT = 4.0


def random_tokens(count: int, rng: random.Random | None = None,
                  existing: Sequence[int] = ()) -> list[int]:
    """``count`` distinct random tokens not already in ``existing`` (pre-4.0 behaviour), sorted."""
    rng = rng or random.Random()
    taken = set(existing)
    out: set[int] = set()
    while len(out) < count:
        t = Murmur3Partitioner.random_token(rng)
        if t not in taken:
            out.add(t)
    return sorted(out)


def generate_splits(existing: Sequence[int], count: int, rng: random.Random | None = None) -> list[int]:
    """``count`` new tokens, each splitting the currently largest range at a chaotic ratio."""
    rng = rng or random.Random()
    tokens = sorted(set(existing))
    new: list[int] = []
    if not tokens:
        first = Murmur3Partitioner.random_token(rng)
        tokens, new = [first], [first]
    # max-heap of ranges by size: (-size, start, end)
    if len(tokens) == 1:
        heap = [(-RING_SIZE, tokens[0], tokens[0])]
    else:
        heap = [(-ring_distance(tokens[i - 1], tokens[i]), tokens[i - 1], tokens[i])
                for i in range(len(tokens))]
    heapq.heapify(heap)
    taken = set(tokens)
    while len(new) < count:
        size, left, right = heapq.heappop(heap)
        ratio = SPLIT_RATIO_MIN + rng.random() * SPLIT_RATIO_SPREAD
        t = split_at(left, right, ratio)
        if t in taken or t == MIN_TOKEN:
            continue
        taken.add(t)
        new.append(t)
        heapq.heappush(heap, (-ring_distance(left, t), left, t))
        heapq.heappush(heap, (-(ring_distance(t, right) or RING_SIZE), t, right))
    return sorted(new)


class _DcRing:
    """The DC's sub-ring as parallel arrays of ints, with replicated ownership under NTS rules."""

    def __init__(self, tokens: list[int], owners: list[int], rack_of: list[int], rf: int,
                 num_tokens: int):
        self.tokens, self.owners, self.rack_of, self.rf = tokens, owners, rack_of, rf
        self.nodes = len(rack_of)
        racks = len(set(rack_of))
        if racks == rf:       # every rack replicates the whole ring once: split it within the rack
            sizes = {r: rack_of.count(r) for r in rack_of}
            self.targets = [1 / sizes[r] for r in rack_of]
        else:
            self.targets = [min(rf, self.nodes) / self.nodes] * self.nodes
        counts = [owners.count(o) for o in range(self.nodes - 1)] + [num_tokens]
        self.token_targets = [t / c for t, c in zip(self.targets, counts)]

    def ownership(self, tokens: list[int], owners: list[int]) -> tuple[list[float], list[float]]:
        """Replicated ownership per node index, and per token (the ranges each token replicates)."""
        n = len(tokens)
        rack_of = self.rack_of
        present = set(owners)
        racks = len({rack_of[o] for o in present})
        rf_eff = min(self.rf, len(present))
        repeats0 = self.rf - racks
        own = [0.0] * self.nodes
        tok = [0.0] * n
        prev = tokens[-1]
        for i in range(n):
            t = tokens[i]
            size = ((t - prev) % RING_SIZE or RING_SIZE) / RING_SIZE
            prev = t
            left, rep = rf_eff, repeats0
            chosen: list[int] = []
            seen: set[int] = set()
            k = i
            for _ in range(n):
                o = owners[k]
                r = rack_of[o]
                if r not in seen:
                    seen.add(r)
                elif rep <= 0 or o in chosen:
                    k = k + 1 if k + 1 < n else 0
                    continue
                else:
                    rep -= 1
                chosen.append(o)
                own[o] += size
                tok[k] += size
                left -= 1
                if not left:
                    break
                k = k + 1 if k + 1 < n else 0
        return own, tok

    def score(self, tokens: list[int], owners: list[int], new_share: float = 1.0) -> float:
        """Σ (node ownership − target)² + Σ (token ownership − target / tokens of its node)²."""
        own, tok = self.ownership(tokens, owners)
        targets, per_token = self.targets, self.token_targets
        last = own.pop()
        node_term = (sum((x - t) ** 2 for x, t in zip(own, targets))
                     + (last - targets[-1] * new_share) ** 2)
        token_term = sum((x - per_token[o]) ** 2 for x, o in zip(tok, owners))
        return NODE_WEIGHT * node_term + TOKEN_WEIGHT * token_term

    def with_token(self, token: int, owner: int) -> tuple[list[int], list[int]]:
        i = bisect.bisect_left(self.tokens, token)
        return self.tokens[:i] + [token] + self.tokens[i:], self.owners[:i] + [owner] + self.owners[i:]


def allocate_tokens(tm: TokenMetadata, endpoint: Endpoint, num_tokens: int = DEFAULT_NUM_TOKENS,
                    rf: int = DEFAULT_ALLOCATION_RF, rng: random.Random | None = None,
                    location: Location | tuple[str, str] | None = None) -> list[int]:
    """Tokens for ``endpoint`` joining ``tm``, balancing replicated ownership at ``rf`` in its DC.

    ``location`` defaults to the endpoint's location in ``tm``.  Tokens of other datacenters are
    avoided but otherwise ignored (each DC is balanced on its own, as NetworkTopologyStrategy
    replicates each DC from its own nodes)."""
    rng = rng or random.Random()
    loc = Location(*location) if location is not None else tm.location(endpoint)
    dc = loc.datacenter
    all_tokens = set(tm.sorted_tokens()) | set(tm.bootstrap_tokens())
    members = sorted(e for e in tm.endpoints() if tm.datacenter(e) == dc and e != endpoint)
    dc_tokens = sorted((t, e) for e in members for t in tm.tokens_of(e))
    if len(members) < rf:
        new = generate_splits([t for t, _ in dc_tokens], num_tokens, rng)
        return _avoid_collisions(new, all_tokens, rng)
    index = {e: i for i, e in enumerate(members)}
    me = len(members)
    rack_ids: dict[str, int] = {}
    rack_of = [rack_ids.setdefault(tm.rack(e), len(rack_ids)) for e in members]
    rack_of.append(rack_ids.setdefault(loc.rack, len(rack_ids)))
    ring = _DcRing([t for t, _ in dc_tokens], [index[e] for _, e in dc_tokens], rack_of, rf,
                   num_tokens)
    share = (1 + LOOKAHEAD) / num_tokens             # the joiner's target grows token by token
    current = ring.score(ring.tokens, ring.owners, share)
    version = 0
    heap: list[tuple[float, int, int]] = []          # (-improvement, candidate token, version)

    def push_candidates(left: int, right: int) -> None:
        if ring_distance(left, right) < 2 and left != right:
            return
        c = midpoint(left, right)
        if c in all_tokens or c == MIN_TOKEN:
            return
        tokens, owners = ring.with_token(c, me)
        heapq.heappush(heap, (ring.score(tokens, owners, share) - current, c, version))

    toks = ring.tokens
    for i in range(len(toks)):
        push_candidates(toks[i - 1], toks[i])
    new: list[int] = []
    while len(new) < num_tokens and heap:
        neg, c, v = heapq.heappop(heap)
        if c in all_tokens:
            continue
        if v != version:
            tokens, owners = ring.with_token(c, me)
            fresh = ring.score(tokens, owners, share) - current
            if heap and fresh > heap[0][0]:
                heapq.heappush(heap, (fresh, c, version))
                continue
        tokens, owners = ring.with_token(c, me)
        i = tokens.index(c)
        left, right = tokens[i - 1], tokens[(i + 1) % len(tokens)]
        ring.tokens, ring.owners = tokens, owners
        share = (len(new) + 1 + LOOKAHEAD) / num_tokens
        current = ring.score(tokens, owners, share)
        version += 1
        all_tokens.add(c)
        new.append(c)
        push_candidates(left, c)
        push_candidates(c, right)
    if len(new) < num_tokens:                        # tiny rings: fall back to splitting
        new += generate_splits(sorted(all_tokens), num_tokens - len(new), rng)
    return sorted(new)


def _avoid_collisions(tokens: list[int], taken: set[int], rng: random.Random) -> list[int]:
    out = []
    for t in tokens:
        while t in taken or t == MIN_TOKEN:
            t = Murmur3Partitioner.random_token(rng)
        taken.add(t)
        out.append(t)
    return sorted(out)
