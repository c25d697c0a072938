"""The partition Index (with row-index samples of wide partitions) and its in-memory Summary.

Index.db is a header and a sequence of blocks of up to ``index_interval`` (128) entries, in
(token, key) order; a lookup reads one block, checks its CRC, bisects its token array::

    [4 "CQIX"][u16 format version]
    block:  [u32 entry count n][n x i64 token][n x u32 offset of entry i from the block start]
            entry i: [u16 key length][key][u64 Data position][u64 partition length]
                     [u32 sample count s][s x sample]
            [u32 crc32 of the block]
    sample (one per ~column_index_size bytes of serialized rows in a wide partition):
            [u32 length][first clustering][u32 length][last clustering]
            [u64 offset of the block's first row, from the partition start][u64 block length]

Positions and lengths are in the *uncompressed* Data stream.  Partitions whose rows fit in one
block (most) have no samples.

Summary.db, loaded whole at open (one entry per Index block, so every 128th index entry)::

    [4 "CQSM"][u16 format version][u32 index interval][u32 block count m]
    m x [i64 first token][u64 block position in Index.db][u32 block length incl. CRC]
        [u16 length][first key]
    [u32 crc32 of everything before]

An index entry in memory is the tuple ``(position, length, samples)``, samples a tuple of
``(first, last, offset, length)``; the key cache stores exactly that.
"""
from __future__ import annotations

import bisect
import struct
import zlib

from ..errors import CorruptionError
from .descriptor import CRC, FORMAT_VERSION, HEADER, INDEX, MAGIC, SUMMARY

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_ENTRY_TAIL = struct.Struct(">QQI")
_SAMPLE_TAIL = struct.Struct(">QQ")
_SUMMARY_HEAD = struct.Struct(">II")
_SUMMARY_ENTRY = struct.Struct(">qQIH")
_crc32 = zlib.crc32
_STRUCTS: dict[int, tuple[struct.Struct, struct.Struct]] = {}

Sample = tuple[bytes, bytes, int, int]
IndexEntry = tuple[int, int, tuple]


def _arrays(n: int) -> tuple[struct.Struct, struct.Struct]:
    s = _STRUCTS.get(n)
    if s is None:
        s = _STRUCTS[n] = (struct.Struct(f">{n}q"), struct.Struct(f">{n}I"))
    return s


def encode_entry(key: bytes, position: int, length: int, samples) -> bytes:
    out = bytearray(_U16.pack(len(key)))
    out += key
    out += _ENTRY_TAIL.pack(position, length, len(samples))
    for first, last, offset, blen in samples:
        out += _U32.pack(len(first)) + first + _U32.pack(len(last)) + last
        out += _SAMPLE_TAIL.pack(offset, blen)
    return bytes(out)


def _decode_entry_tail(buf, pos: int) -> IndexEntry:
    """Decode an entry from just after its key."""
    position, length, count = _ENTRY_TAIL.unpack_from(buf, pos)
    if not count:
        return position, length, ()
    pos += _ENTRY_TAIL.size
    samples = []
    for _ in range(count):
        (n,) = _U32.unpack_from(buf, pos)
        first = bytes(buf[pos + 4:pos + 4 + n])
        pos += 4 + n
        (n,) = _U32.unpack_from(buf, pos)
        last = bytes(buf[pos + 4:pos + 4 + n])
        pos += 4 + n
        offset, blen = _SAMPLE_TAIL.unpack_from(buf, pos)
        pos += 16
        samples.append((first, last, offset, blen))
    return position, length, tuple(samples)


class IndexWriter:
    """Appends index entries to Index.db in blocks and builds the Summary."""

    def __init__(self, file, interval: int) -> None:
        self._file = file
        self._interval = interval
        self._tokens: list[int] = []
        self._entries: list[bytes] = []
        self._first_key = b""
        self._pos = HEADER.size
        self._summary = bytearray()
        self._blocks = 0
        file.write(HEADER.pack(MAGIC[INDEX], FORMAT_VERSION))

    def add(self, token: int, key: bytes, position: int, length: int, samples) -> None:
        if not self._entries:
            self._first_key = key
        self._tokens.append(token)
        self._entries.append(encode_entry(key, position, length, samples))
        if len(self._entries) >= self._interval:
            self._flush_block()

    def _flush_block(self) -> None:
        n = len(self._entries)
        if not n:
            return
        tokens_st, offsets_st = _arrays(n)
        offsets = []
        at = 4 + 8 * n + 4 * n
        for e in self._entries:
            offsets.append(at)
            at += len(e)
        block = bytearray(_U32.pack(n))
        block += tokens_st.pack(*self._tokens)
        block += offsets_st.pack(*offsets)
        for e in self._entries:
            block += e
        block += CRC.pack(_crc32(block))
        self._file.write(block)
        self._summary += _SUMMARY_ENTRY.pack(self._tokens[0], self._pos, len(block),
                                             len(self._first_key))
        self._summary += self._first_key
        self._blocks += 1
        self._pos += len(block)
        self._tokens, self._entries = [], []

    def finish(self) -> bytes:
        """Write the last block; return the Summary component's bytes."""
        self._flush_block()
        out = bytearray(HEADER.pack(MAGIC[SUMMARY], FORMAT_VERSION))
        out += _SUMMARY_HEAD.pack(self._interval, self._blocks)
        out += self._summary
        out += CRC.pack(_crc32(out))
        return bytes(out)


class Summary:
    """Every Index block's first (token, key) and location, as sorted lists for bisect."""

    __slots__ = ("interval", "tokens", "keys", "positions", "lengths")

    def __init__(self, interval, tokens, keys, positions, lengths) -> None:
        self.interval, self.tokens, self.keys = interval, tokens, keys
        self.positions, self.lengths = positions, lengths

    @classmethod
    def decode(cls, data: bytes) -> "Summary":
        """Raises ValueError naming the offset on any damage."""
        if len(data) < HEADER.size + _SUMMARY_HEAD.size + 4:
            raise ValueError("offset 0: summary too short")
        (crc,) = CRC.unpack_from(data, len(data) - 4)
        if _crc32(memoryview(data)[:-4]) != crc:
            raise ValueError(f"offset {len(data) - 4}: summary checksum mismatch")
        magic, version = HEADER.unpack_from(data, 0)
        if magic != MAGIC[SUMMARY] or version != FORMAT_VERSION:
            raise ValueError(f"offset 0: not a version {FORMAT_VERSION} summary file")
        interval, count = _SUMMARY_HEAD.unpack_from(data, HEADER.size)
        pos = HEADER.size + _SUMMARY_HEAD.size
        tokens, keys, positions, lengths = [], [], [], []
        try:
            for _ in range(count):
                token, bpos, blen, n = _SUMMARY_ENTRY.unpack_from(data, pos)
                pos += _SUMMARY_ENTRY.size
                tokens.append(token)
                positions.append(bpos)
                lengths.append(blen)
                keys.append(bytes(data[pos:pos + n]))
                pos += n
        except struct.error:
            raise ValueError(f"offset {pos}: summary truncated") from None
        if pos != len(data) - 4:
            raise ValueError(f"offset {pos}: summary has trailing bytes")
        return cls(interval, tokens, keys, positions, lengths)

    def block_for(self, token: int, key: bytes) -> int:
        """The block that would hold (token, key): the last whose first entry is <= it; -1 if
        the key sorts before every entry."""
        tokens = self.tokens
        i = bisect.bisect_right(tokens, token) - 1
        keys = self.keys
        while i >= 0 and tokens[i] == token and keys[i] > key:
            i -= 1
        return i

    def __len__(self) -> int:
        return len(self.tokens)


class IndexReader:
    """Reads Index blocks through the Summary; every block read verifies the block CRC."""

    def __init__(self, file, summary: Summary, path: str) -> None:
        self._file = file
        self.summary = summary
        self.path = path
        self.block_reads = 0

    def read_block(self, i: int) -> bytes:
        s = self.summary
        start = s.positions[i]
        raw = self._file.read_at(start, s.lengths[i])
        self.block_reads += 1
        n = len(raw) - 4
        if n < 4 or _crc32(memoryview(raw)[:n]) != int.from_bytes(raw[n:], "big"):
            raise CorruptionError(self.path, start, f"index block {i} checksum mismatch")
        return raw

    def lookup(self, token: int, key: bytes) -> IndexEntry | None:
        """The index entry of (token, key), or None if the SSTable does not hold it."""
        i = self.summary.block_for(token, key)
        if i < 0:
            return None
        buf = self.read_block(i)
        try:
            (n,) = _U32.unpack_from(buf, 0)
            tokens_st, offsets_st = _arrays(n)
            tokens = tokens_st.unpack_from(buf, 4)
            j = bisect.bisect_left(tokens, token)
            if j >= n or tokens[j] != token:
                return None
            offsets = offsets_st.unpack_from(buf, 4 + 8 * n)
            klen = len(key)
            while j < n and tokens[j] == token:
                off = offsets[j]
                if (buf[off] << 8 | buf[off + 1]) == klen and buf[off + 2:off + 2 + klen] == key:
                    return _decode_entry_tail(buf, off + 2 + klen)
                j += 1
            return None
        except (struct.error, IndexError) as e:
            raise CorruptionError(self.path, self.summary.positions[i],
                                  f"index block {i} does not decode: {e}") from None

    def entries(self, start_block: int = 0):
        """Every (token, key, entry) from block ``start_block`` on, in order."""
        for i in range(max(0, start_block), len(self.summary)):
            buf = self.read_block(i)
            try:
                (n,) = _U32.unpack_from(buf, 0)
                tokens_st, offsets_st = _arrays(n)
                tokens = tokens_st.unpack_from(buf, 4)
                offsets = offsets_st.unpack_from(buf, 4 + 8 * n)
                decoded = []
                for j in range(n):
                    off = offsets[j]
                    (klen,) = _U16.unpack_from(buf, off)
                    key = bytes(buf[off + 2:off + 2 + klen])
                    decoded.append((tokens[j], key, _decode_entry_tail(buf, off + 2 + klen)))
            except (struct.error, IndexError) as e:
                raise CorruptionError(self.path, self.summary.positions[i],
                                      f"index block {i} does not decode: {e}") from None
            yield from decoded

    def verify(self) -> list[str]:
        problems = []
        try:
            head = self._file.read_at(0, HEADER.size)
            if len(head) < HEADER.size or HEADER.unpack(head) != (MAGIC[INDEX], FORMAT_VERSION):
                problems.append(f"{self.path} at offset 0: bad index header")
        except OSError as e:
            problems.append(f"{self.path}: {e}")
        for i in range(len(self.summary)):
            try:
                self.read_block(i)
            except CorruptionError as e:
                problems.append(f"{e.path} at offset {e.offset}: {e.reason}")
        s = self.summary
        end = s.positions[-1] + s.lengths[-1] if len(s) else HEADER.size
        if self._file.size() != end:
            problems.append(f"{self.path} at offset {end}: file is {self._file.size()} bytes, "
                            f"expected {end}")
        return problems
