"""Cassandra's Murmur3Partitioner hash: MurmurHash3 x64 128-bit with Java's signed tail bytes.

Cassandra hashes a partition key with MurmurHash3_x64_128, seed 0, like the reference algorithm
except for one quirk: the last ``len % 16`` bytes (the tail) are read as *signed* Java bytes and
sign-extended to 64 bits before being shifted into k1/k2.  The reference algorithm (and ``mmh3``)
reads them unsigned, so the two agree exactly when no tail byte is >= 0x80.  We use ``mmh3`` (C,
~9M hashes/s) in that case and the pure-Python port below otherwise.

``hash128`` returns both 64-bit halves as signed ints: ``h[0]`` is the token and both halves feed
the bloom filter's double hashing, so a lookup hashes its key once.  ``token`` maps -2**63 (the
ring minimum Cassandra reserves) to 2**63 - 1.
"""
from __future__ import annotations

import functools

import mmh3

MASK = (1 << 64) - 1
C1 = 0x87C37B91114253D5
C2 = 0x4CF5AD432745937F
MIN_TOKEN = -(1 << 63)
MAX_TOKEN = (1 << 63) - 1

_hash64 = mmh3.hash64


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & MASK


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK
    return k ^ (k >> 33)


def _signed(x: int) -> int:
    return x - (1 << 64) if x >= (1 << 63) else x


def hash128_pure(key: bytes) -> tuple[int, int]:
    """The pure-Python port (Java semantics); used when a tail byte is >= 0x80."""
    n = len(key)
    h1 = h2 = 0
    nblocks = n >> 4
    for i in range(nblocks):
        base = i << 4
        k1 = int.from_bytes(key[base:base + 8], "little")
        k2 = int.from_bytes(key[base + 8:base + 16], "little")
        h1 ^= (_rotl((k1 * C1) & MASK, 31) * C2) & MASK
        h1 = ((_rotl(h1, 27) + h2) * 5 + 0x52DCE729) & MASK
        h2 ^= (_rotl((k2 * C2) & MASK, 33) * C1) & MASK
        h2 = ((_rotl(h2, 31) + h1) * 5 + 0x38495AB5) & MASK
    tail = key[nblocks << 4:]
    k1 = k2 = 0
    for i, b in enumerate(tail):
        v = (b | ~0xFF) & MASK if b >= 0x80 else b      # sign-extend the Java byte
        if i < 8:
            k1 ^= (v << (8 * i)) & MASK
        else:
            k2 ^= (v << (8 * (i - 8))) & MASK
    if len(tail) > 8:
        h2 ^= (_rotl((k2 * C2) & MASK, 33) * C1) & MASK
    if tail:
        h1 ^= (_rotl((k1 * C1) & MASK, 31) * C2) & MASK
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) & MASK
    h2 = (h2 + h1) & MASK
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & MASK
    h2 = (h2 + h1) & MASK
    return _signed(h1), _signed(h2)


_hash128_pure_cached = functools.lru_cache(maxsize=4096)(hash128_pure)


def hash128(key: bytes) -> tuple[int, int]:
    """Both halves of Cassandra's MurmurHash3_x64_128(key, seed 0), as signed 64-bit ints.

    The pure-Python path (~7 us) is memoised for the last 4096 such keys, since a read hashes
    its key once per SSTable it checks."""
    tail = len(key) & 15
    if tail == 0 or max(key[-tail:]) < 0x80:
        return _hash64(key, 0, True)
    return _hash128_pure_cached(bytes(key))


def token(key: bytes) -> int:
    """The Murmur3Partitioner token of a partition key."""
    tail = len(key) & 15
    if tail == 0 or max(key[-tail:]) < 0x80:
        t = _hash64(key, 0, True)[0]
    else:
        t = _hash128_pure_cached(bytes(key))[0]
    return MAX_TOKEN if t == MIN_TOKEN else t


def token_of_hash(h: tuple[int, int]) -> int:
    """The token from a ``hash128`` result (no second hash)."""
    t = h[0]
    return MAX_TOKEN if t == MIN_TOKEN else t
