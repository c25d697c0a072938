"""Bloom filter over partition keys (the Filter component), sized and hashed as Cassandra does.

Sizing (Cassandra's ``BloomCalculations``): the fewest bits per key b (1..20) for which some hash
count k gives a false-positive rate (1 - e^(-k/b))^k <= the target, then the fewest such k.
p = 0.01 -> 10 bits/key, 5 hashes (expected fp 0.94%); p = 0.1 -> 5 bits/key, 3 hashes.  A target
below what 20 bits/key reach uses the textbook optimum m/n = -ln p / ln(2)^2, k = round(m/n ln 2).

Bit positions: double hashing (Kirsch-Mitzenmacher) from the two halves of the key's Murmur3 hash
(``murmur3.hash128``, computed once per key and shared with the token):
``bit_i = (h[1] + i * h[0]) mod nbits`` for i in 0..k-1, with Python's unbounded ints and
non-negative modulo (Cassandra computes the same in Java longs with overflow; we need no Java
compatibility for our own files).  Bit b lives in byte b >> 3, mask 1 << (b & 7).

Filter.db layout::

    [4 "CQBF"][u16 format version][u32 hash count k][u64 bit count m][m/8 bytes of bits]
    [u32 crc32 of everything before]
"""
from __future__ import annotations

import math
import struct
import zlib

from .descriptor import CRC, FILTER, FORMAT_VERSION, HEADER, MAGIC
from .murmur3 import hash128

_BODY = struct.Struct(">IQ")
MAX_BITS_PER_KEY = 20


def fp_rate(bits_per_key: float, hashes: int) -> float:
    return (1.0 - math.exp(-hashes / bits_per_key)) ** hashes


def sizing(fp_chance: float) -> tuple[int, int]:
    """``(bits per key, hash count)`` for a target false-positive chance."""
    if not 0.0 < fp_chance <= 1.0:
        raise ValueError(f"bloom filter fp chance must be in (0, 1], got {fp_chance}")
    if fp_chance >= 1.0:
        return 1, 1
    for b in range(1, MAX_BITS_PER_KEY + 1):
        for k in range(1, b + 1):
            if fp_rate(b, k) <= fp_chance:
                return b, k
    b = math.ceil(-math.log(fp_chance) / (math.log(2) ** 2))
    return b, max(1, round(b * math.log(2)))


class BloomFilter:
    """A fixed-size bloom filter; ``add``/``contains`` take the key's ``hash128`` halves."""

    __slots__ = ("bits", "nbits", "hashes")

    def __init__(self, nbits: int, hashes: int, bits: bytearray | None = None) -> None:
        self.nbits = max(64, (nbits + 63) // 64 * 64)
        self.hashes = hashes
        self.bits = bits if bits is not None else bytearray(self.nbits // 8)

    @classmethod
    def for_keys(cls, expected_keys: int, fp_chance: float = 0.01) -> "BloomFilter":
        bits_per_key, hashes = sizing(fp_chance)
        return cls(max(1, expected_keys) * bits_per_key, hashes)

    def add_hash(self, h: tuple[int, int]) -> None:
        h0, h1 = h
        bits, nbits = self.bits, self.nbits
        for i in range(self.hashes):
            b = (h1 + i * h0) % nbits
            bits[b >> 3] |= 1 << (b & 7)

    def add(self, key: bytes) -> None:
        self.add_hash(hash128(key))

    def contains_hash(self, h: tuple[int, int]) -> bool:
        h0, h1 = h
        bits, nbits = self.bits, self.nbits
        # bit i is (h1 + i * h0) % nbits, computed incrementally on small ints (same bits)
        b = h1 % nbits
        step = h0 % nbits
        for _ in range(self.hashes):
            if not bits[b >> 3] & (1 << (b & 7)):
                return False
            b += step
            if b >= nbits:
                b -= nbits
        return True

    def __contains__(self, key: bytes) -> bool:
        return self.contains_hash(hash128(key))

    # --- Filter.db ------------------------------------------------------------------------------

    def encode(self) -> bytes:
        out = bytearray(HEADER.pack(MAGIC[FILTER], FORMAT_VERSION))
        out += _BODY.pack(self.hashes, self.nbits)
        out += self.bits
        out += CRC.pack(zlib.crc32(out))
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> "BloomFilter":
        """Raises ValueError (with the offset in the message) on any damage."""
        if len(data) < HEADER.size + _BODY.size + CRC.size:
            raise ValueError("offset 0: filter file too short")
        (crc,) = CRC.unpack_from(data, len(data) - 4)
        if zlib.crc32(memoryview(data)[:-4]) != crc:
            raise ValueError(f"offset {len(data) - 4}: filter checksum mismatch")
        magic, version = HEADER.unpack_from(data, 0)
        if magic != MAGIC[FILTER] or version != FORMAT_VERSION:
            raise ValueError(f"offset 0: not a version {FORMAT_VERSION} filter file")
        hashes, nbits = _BODY.unpack_from(data, HEADER.size)
        start = HEADER.size + _BODY.size
        bits = bytearray(data[start:len(data) - 4])
        if len(bits) * 8 != nbits or hashes < 1:
            raise ValueError(f"offset {HEADER.size}: filter size does not match its header")
        return cls(nbits, hashes, bits)
