"""Murmur3Partitioner: partition key -> signed 64-bit token, and token ranges on the wrapping ring.

Tokens are Python ints in [MIN_TOKEN, MAX_TOKEN] = [-2**63, 2**63 - 1].  MIN_TOKEN is reserved (no key
hashes to it: cqlpy.engine.murmur3.token maps it to MAX_TOKEN) and is the ring's origin, as in
Cassandra's ``Murmur3Partitioner.MINIMUM``.

A ``TokenRange(start, end)`` is Cassandra's ``Range``: start exclusive, end inclusive, wrapping past
MAX_TOKEN to MIN_TOKEN when ``start >= end``.  ``TokenRange(t, t)`` is the whole ring (a ring of one
token owns everything).  Sizes are counted in token steps on a ring of 2**64 positions, so a range's
``fraction`` of the ring is ``size / 2**64``.
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Iterable, Sequence

from cqlpy.engine import murmur3

MIN_TOKEN = murmur3.MIN_TOKEN
MAX_TOKEN = murmur3.MAX_TOKEN
RING_SIZE = 1 << 64
"""Number of token positions on the ring (the size of the full range)."""

PARTITIONER_CLASS = "org.apache.cassandra.dht.Murmur3Partitioner"


def ring_distance(start: int, end: int) -> int:
    """Clockwise steps from ``start`` to ``end``; 0 when they are equal."""
    return (end - start) % RING_SIZE


def _wrap(t: int) -> int:
    """Bring an int back onto the signed 64-bit ring."""
    return (t - MIN_TOKEN) % RING_SIZE + MIN_TOKEN


@dataclass(frozen=True, slots=True)
class TokenRange:
    """(start, end]: tokens after ``start`` up to and including ``end``, wrapping when start >= end."""

    start: int
    end: int

    @property
    def is_wrap_around(self) -> bool:
        """True when the range crosses MIN_TOKEN (Cassandra's ``Range.isWrapAround``)."""
        return self.start >= self.end and self.end != MIN_TOKEN

    @property
    def is_full_ring(self) -> bool:
        return self.start == self.end

    def contains(self, token: int) -> bool:
        start, end = self.start, self.end
        if start < end:
            return start < token <= end
        if start == end:
            return True
        return token > start or token <= end

    __contains__ = contains

    def size(self) -> int:
        """Token positions in the range; the full ring has RING_SIZE."""
        return ring_distance(self.start, self.end) or RING_SIZE

    def fraction(self) -> float:
        """The share of the ring this range covers, in (0, 1]."""
        return self.size() / RING_SIZE

    def midpoint(self) -> int:
        return midpoint(self.start, self.end)

    def split(self, token: int) -> tuple["TokenRange", "TokenRange"]:
        """(start, token] and (token, end]; ``token`` must lie strictly inside the range."""
        if token == self.end or not self.contains(token):
            raise ValueError(f"{token} does not split {self}")
        return TokenRange(self.start, token), TokenRange(token, self.end)

    def unwrap(self) -> tuple["TokenRange", ...]:
        """Non-wrapping pieces: (start, MIN] style pieces as Cassandra's ``Range.unwrap``.

        A wrapping (s, e] becomes (s, MIN_TOKEN] (meaning up to MAX_TOKEN; MIN_TOKEN as an end stands
        for the ring's end) and (MIN_TOKEN, e]."""
        if not self.is_wrap_around:
            return (self,)
        if self.end == MIN_TOKEN:
            return (self,)
        return (TokenRange(self.start, MIN_TOKEN), TokenRange(MIN_TOKEN, self.end))

    def __str__(self) -> str:
        return f"({self.start},{self.end}]"


def midpoint(left: int, right: int) -> int:
    """The token halfway from ``left`` clockwise to ``right`` (Cassandra's Murmur3Partitioner.midpoint).

    When ``left >= right`` the arc wraps past MAX_TOKEN; ``midpoint(t, t)`` is the point opposite t."""
    if left < right:
        return (left + right) >> 1
    mid = (MAX_TOKEN - MIN_TOKEN + left + right) >> 1
    if mid > MAX_TOKEN:
        mid = MIN_TOKEN + (mid - MAX_TOKEN)
    return mid


def split_at(left: int, right: int, ratio: float) -> int:
    """The token ``ratio`` of the way clockwise from ``left`` to ``right`` (0 < ratio < 1)."""
    size = ring_distance(left, right) or RING_SIZE
    return _wrap(left + int(size * ratio))


class Murmur3Partitioner:
    """Cassandra's default partitioner: tokens are the first 64 bits of MurmurHash3_x64_128."""

    name = PARTITIONER_CLASS
    min_token = MIN_TOKEN
    max_token = MAX_TOKEN
    preserves_order = False

    @staticmethod
    def get_token(key: bytes) -> int:
        """The token of a serialized partition key (see DESIGN.md, Data model)."""
        return murmur3.token(key)

    @staticmethod
    def midpoint(left: int, right: int) -> int:
        return midpoint(left, right)

    @staticmethod
    def random_token(rng: random.Random | None = None) -> int:
        """A uniformly random token other than MIN_TOKEN (Cassandra's ``getRandomToken``)."""
        r = rng or random
        while True:
            t = r.getrandbits(64) + MIN_TOKEN
            if t != MIN_TOKEN:
                return t

    @staticmethod
    def token_from_string(text: str) -> int:
        t = int(text)
        if not MIN_TOKEN <= t <= MAX_TOKEN:
            raise ValueError(f"Token {text} is out of range for Murmur3Partitioner")
        return t

    @staticmethod
    def token_to_string(token: int) -> str:
        return str(token)

    @staticmethod
    def describe_ownership(sorted_tokens: Sequence[int]) -> dict[int, float]:
        """Each token's primary share of the ring: the range (previous token, token]."""
        return describe_ownership(sorted_tokens)


def describe_ownership(sorted_tokens: Sequence[int]) -> dict[int, float]:
    """token -> fraction of the ring in (previous token, token]; fractions sum to 1."""
    n = len(sorted_tokens)
    if n == 0:
        return {}
    if n == 1:
        return {sorted_tokens[0]: 1.0}
    out = {}
    prev = sorted_tokens[-1]
    for t in sorted_tokens:
        out[t] = ring_distance(prev, t) / RING_SIZE
        prev = t
    return out


def ranges_between(sorted_tokens: Sequence[int]) -> list[TokenRange]:
    """The primary ranges of a sorted ring: (t[i-1], t[i]] for each token, the first one wrapping."""
    if not sorted_tokens:
        return []
    prev = sorted_tokens[-1]
    out = []
    for t in sorted_tokens:
        out.append(TokenRange(prev, t))
        prev = t
    return out


def first_token_index(sorted_tokens: Sequence[int], token: int) -> int:
    """Index of the first token >= ``token``, wrapping to 0 past the last (TokenMetadata.firstTokenIndex)."""
    i = bisect.bisect_left(sorted_tokens, token)
    return 0 if i == len(sorted_tokens) else i


def normalize(ranges: Iterable[TokenRange]) -> list[TokenRange]:
    """Merge adjacent and overlapping ranges into the fewest, sorted by start (wrapping one last);
    the full ring stays one range."""
    pieces: list[tuple[int, int]] = []
    for r in ranges:
        if r.is_full_ring:
            return [TokenRange(MIN_TOKEN, MIN_TOKEN)]
        if r.start < r.end:
            pieces.append((r.start, r.end))
        else:                                           # wrapping: split at MIN_TOKEN
            pieces.append((r.start, MAX_TOKEN))
            if r.end != MIN_TOKEN:
                pieces.append((MIN_TOKEN, r.end))
    if not pieces:
        return []
    pieces.sort()
    merged = [list(pieces[0])]
    for s, e in pieces[1:]:
        if s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    if len(merged) == 1 and merged[0][0] == MIN_TOKEN and merged[0][1] == MAX_TOKEN:
        return [TokenRange(MIN_TOKEN, MIN_TOKEN)]
    # a piece ending at MAX_TOKEN and one starting at MIN_TOKEN join across the wrap
    if len(merged) > 1 and merged[-1][1] == MAX_TOKEN and merged[0][0] == MIN_TOKEN:
        last = merged.pop()
        merged[0][0] = last[0]
    out = []
    for s, e in merged:
        out.append(TokenRange(s, MIN_TOKEN if e == MAX_TOKEN and s != MIN_TOKEN else e))
    out.sort(key=lambda r: (r.start >= r.end and r.end != MIN_TOKEN, r.start))
    return out


def subtract(ranges: Iterable[TokenRange], remove: Iterable[TokenRange]) -> list[TokenRange]:
    """The parts of ``ranges`` not covered by ``remove`` (used to find ranges to stream)."""
    keep = _intervals(normalize(ranges))
    for s2, e2 in _intervals(normalize(remove)):
        nxt = []
        for s1, e1 in keep:
            if e2 <= s1 or s2 >= e1:
                nxt.append((s1, e1))
                continue
            if s1 < s2:
                nxt.append((s1, s2))
            if e2 < e1:
                nxt.append((e2, e1))
        keep = nxt
    return normalize(TokenRange(s, MIN_TOKEN if e == MAX_TOKEN and s != MIN_TOKEN else e)
                     for s, e in keep if s != e)


def _intervals(ranges: list[TokenRange]) -> list[tuple[int, int]]:
    """Normalized ranges as non-wrapping (start, end] int pairs, with MAX_TOKEN as the ring end."""
    out = []
    for r in ranges:
        if r.is_full_ring:
            out.append((MIN_TOKEN, MAX_TOKEN))
        elif r.end == MIN_TOKEN:
            out.append((r.start, MAX_TOKEN))
        elif r.start < r.end:
            out.append((r.start, r.end))
        else:
            out.append((r.start, MAX_TOKEN))
            out.append((MIN_TOKEN, r.end))
    return out
