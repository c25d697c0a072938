"""Chunked, checksummed Data files and their CompressionInfo offset map (Cassandra 4 style).

The Data component is the uncompressed partition stream (layout in ``sstable_writer``) cut into
chunks of ``chunk_length`` bytes (16 KiB by default; the last chunk may be shorter).  Each chunk is
stored as::

    [stored bytes][u32 crc32 of the stored bytes]

where the stored bytes are the LZ4 block (``lz4.block.compress(chunk, store_size=False)``) when it
is shorter than the chunk, and the raw chunk otherwise (as Cassandra 4 does when compression does
not help).  A reader tells them apart by length alone: stored length == uncompressed length of
that chunk means raw.  With compression disabled ("none") every chunk is stored raw, so the layout
and the checksums are the same.  Uncompressed position p lives in chunk ``p // chunk_length``.

CompressionInfo.db (our variant of Cassandra's, notes A5)::

    [4 "CQCI"][u16 format version]
    [u16 length][compressor name, UTF-8: "LZ4Compressor" or "none"]
    [u32 chunk length][u64 uncompressed data length][u64 Data file length][u32 chunk count n]
    [n x u64 offset of chunk i in Data.db]            <- the offset map
    [u32 crc32 of everything before]

Chunk i's stored bytes span ``offset[i] .. offset[i+1] - 4`` (the last one ends at the Data file
length - 4).  Every chunk read verifies the CRC (crc_check_chance = 1.0); a mismatch raises
``errors.CorruptionError`` naming the Data file and the chunk's offset.
"""
from __future__ import annotations

import struct
import threading
from collections import OrderedDict
import zlib
from dataclasses import dataclass

import lz4.block

from ..errors import CorruptionError
from .descriptor import COMPRESSION_INFO, CRC, DEFAULT_CHUNK_LENGTH, FORMAT_VERSION, HEADER, MAGIC

LZ4 = "LZ4Compressor"
NONE = "none"
_U16 = struct.Struct(">H")
_INFO = struct.Struct(">IQQI")
_compress = lz4.block.compress
_decompress = lz4.block.decompress
_crc32 = zlib.crc32
_pack_crc = CRC.pack


@dataclass(frozen=True)
class CompressionParams:
    """How a table's Data files are chunked and compressed."""

    chunk_length: int = DEFAULT_CHUNK_LENGTH
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.chunk_length < 16 or self.chunk_length & (self.chunk_length - 1):
            raise ValueError("chunk_length must be a power of two >= 16")

    @classmethod
    def none(cls, chunk_length: int = DEFAULT_CHUNK_LENGTH) -> "CompressionParams":
        return cls(chunk_length, False)

    @property
    def compressor(self) -> str:
        return LZ4 if self.enabled else NONE


@dataclass
class CompressionInfo:
    """The decoded CompressionInfo component."""

    compressor: str
    chunk_length: int
    data_length: int            # uncompressed bytes
    file_length: int            # bytes of Data.db
    offsets: list[int]

    def encode(self) -> bytes:
        name = self.compressor.encode()
        out = bytearray(HEADER.pack(MAGIC[COMPRESSION_INFO], FORMAT_VERSION))
        out += _U16.pack(len(name)) + name
        out += _INFO.pack(self.chunk_length, self.data_length, self.file_length, len(self.offsets))
        out += struct.pack(f">{len(self.offsets)}Q", *self.offsets)
        out += CRC.pack(_crc32(out))
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> "CompressionInfo":
        """Raises ValueError naming the offset on any damage."""
        if len(data) < HEADER.size + 2 + _INFO.size + 4:
            raise ValueError("offset 0: compression info too short")
        (crc,) = CRC.unpack_from(data, len(data) - 4)
        if _crc32(memoryview(data)[:-4]) != crc:
            raise ValueError(f"offset {len(data) - 4}: compression info checksum mismatch")
        magic, version = HEADER.unpack_from(data, 0)
        if magic != MAGIC[COMPRESSION_INFO] or version != FORMAT_VERSION:
            raise ValueError(f"offset 0: not a version {FORMAT_VERSION} compression info file")
        pos = HEADER.size
        (n,) = _U16.unpack_from(data, pos)
        name = bytes(data[pos + 2:pos + 2 + n]).decode("utf-8", "replace")
        pos += 2 + n
        chunk_length, data_length, file_length, count = _INFO.unpack_from(data, pos)
        pos += _INFO.size
        if pos + 8 * count + 4 != len(data) or name not in (LZ4, NONE) or chunk_length < 1:
            raise ValueError(f"offset {pos}: compression info does not match its header")
        offsets = list(struct.unpack_from(f">{count}Q", data, pos))
        return cls(name, chunk_length, data_length, file_length, offsets)


class ChunkWriter:
    """Writes the uncompressed stream as checksummed chunks; ``position`` is uncompressed."""

    def __init__(self, file, params: CompressionParams) -> None:
        self._file = file
        self._params = params
        self._length = params.chunk_length
        self._buf = bytearray()
        self._flushed = 0           # uncompressed bytes already cut into chunks
        self._offset = 0            # bytes written to the file
        self.offsets: list[int] = []

    @property
    def position(self) -> int:
        return self._flushed + len(self._buf)

    def write(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        length = self._length
        if len(buf) >= length:
            start = 0
            while len(buf) - start >= length:
                self._emit(bytes(buf[start:start + length]))
                start += length
            del buf[:start]

    def _emit(self, chunk: bytes) -> None:
        stored = chunk
        if self._params.enabled:
            packed = _compress(chunk, store_size=False)
            if len(packed) < len(chunk):
                stored = packed
        self.offsets.append(self._offset)
        self._file.write(stored)
        self._file.write(_pack_crc(_crc32(stored)))
        self._offset += len(stored) + 4
        self._flushed += len(chunk)

    def finish(self) -> CompressionInfo:
        """Write the last (short) chunk; the file itself is synced and closed by the caller."""
        if self._buf:
            self._emit(bytes(self._buf))
            self._buf = bytearray()
        return CompressionInfo(self._params.compressor, self._length, self._flushed,
                               self._offset, self.offsets)


class ChunkCache:
    """An LRU of decompressed, checksum-verified chunks, by (SSTable identity, chunk index).

    Shared by the SSTables of an engine (like Cassandra's chunk cache) or private to one reader;
    ``capacity`` counts bytes.  Thread-safe.
    """

    def __init__(self, capacity: int = 32 * 1024 * 1024) -> None:
        self.capacity = capacity
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._map: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        m = self._map
        c = m.get(key)                  # one C call: atomic under the GIL, no lock needed
        if c is None:
            self.misses += 1
            return None
        with self._lock:
            if key in m:                # (an eviction or invalidate may have raced us)
                m.move_to_end(key)
        self.hits += 1
        return c

    def put(self, key, chunk: bytes) -> None:
        with self._lock:
            m = self._map
            old = m.pop(key, None)
            if old is not None:
                self.size -= len(old)
            m[key] = chunk
            self.size += len(chunk)
            while self.size > self.capacity and m:
                self.size -= len(m.popitem(last=False)[1])

    def invalidate(self, owner) -> None:
        """Drop every chunk of ``owner`` (the first element of its keys)."""
        with self._lock:
            for k in [k for k in self._map if k[0] == owner]:
                self.size -= len(self._map.pop(k))

    def clear(self) -> None:
        with self._lock:
            self._map.clear()
            self.size = 0


class ChunkReader:
    """Random access to the uncompressed stream of one Data file, through a chunk cache.

    ``chunk_reads`` counts chunks read from the file (cache misses): tests use it to prove a slice
    reads only part of a partition.  Without a shared ``cache`` the reader keeps a private one of
    ``cache_chunks`` chunks.
    """

    def __init__(self, file, info: CompressionInfo, path: str, cache_chunks: int = 64,
                 cache: ChunkCache | None = None, owner=None) -> None:
        self._file = file
        self.info = info
        self.path = path
        self._length = info.chunk_length
        self._ends = info.offsets[1:] + [info.file_length]
        self._cache = cache if cache is not None else ChunkCache(
            max(1, cache_chunks) * info.chunk_length)
        self._owner = owner if owner is not None else object()
        self.chunk_reads = 0

    def _load(self, i: int) -> bytes:
        offsets = self.info.offsets
        if i >= len(offsets):
            raise CorruptionError(self.path, self.info.file_length,
                                  f"read past the last chunk (chunk {i})")
        start = offsets[i]
        raw = self._file.read_at(start, self._ends[i] - start)
        self.chunk_reads += 1
        return self._check(i, start, raw)

    def _check(self, i: int, start: int, raw: bytes) -> bytes:
        n = len(raw) - 4
        if n < 0 or _crc32(memoryview(raw)[:n]) != int.from_bytes(raw[n:], "big"):
            raise CorruptionError(self.path, start, f"chunk {i} checksum mismatch")
        expect = min(self._length, self.info.data_length - i * self._length)
        if n == expect:
            return raw[:n]
        try:
            chunk = _decompress(memoryview(raw)[:n], uncompressed_size=expect)
        except Exception as e:         # lz4 raises LZ4BlockError; any failure is corruption
            raise CorruptionError(self.path, start, f"chunk {i} does not decompress: {e}") from None
        if len(chunk) != expect:
            raise CorruptionError(self.path, start, f"chunk {i} decompresses to {len(chunk)} bytes")
        return chunk

    def chunk(self, i: int) -> bytes:
        key = (self._owner, i)
        c = self._cache.get(key)
        if c is None:
            c = self._load(i)
            self._cache.put(key, c)
        return c

    def view(self, pos: int, n: int) -> tuple[bytes, int]:
        """``(buf, offset)`` with the ``n`` bytes from ``pos`` at ``buf[offset:offset + n]``:
        the cached chunk itself when one chunk holds them (no copy), else ``(read(pos, n), 0)``.
        ``buf`` is shorter than ``offset + n`` only past the end of the data."""
        length = self._length
        first = pos // length
        if n > 0 and (pos + n - 1) // length == first and pos + n <= self.info.data_length:
            return self.chunk(first), pos - first * length
        return self.read(pos, n), 0

    def read(self, pos: int, n: int) -> bytes:
        """``n`` uncompressed bytes from ``pos`` (checksums verified); short only past the end."""
        length = self._length
        if pos + n > self.info.data_length:
            n = max(0, self.info.data_length - pos)
        first = pos // length
        last = (pos + n - 1) // length if n > 0 else first
        if first == last:
            off = pos - first * length
            return self.chunk(first)[off:off + n]
        parts = []
        end = pos + n
        for i in range(first, last + 1):
            base = i * length
            parts.append(self.chunk(i)[max(pos, base) - base:min(end, base + length) - base])
        return b"".join(parts)

    def clear_cache(self) -> None:
        self._cache.invalidate(self._owner)

    def verify(self) -> list[str]:
        """Check every chunk's CRC and decompression; problems as ``path at offset N: reason``."""
        problems = []
        if self._file.size() != self.info.file_length:
            problems.append(f"{self.path} at offset {self.info.file_length}: file is "
                            f"{self._file.size()} bytes, expected {self.info.file_length}")
        for i, start in enumerate(self.info.offsets):
            try:
                self._check(i, start, self._file.read_at(start, self._ends[i] - start))
            except CorruptionError as e:
                problems.append(f"{e.path} at offset {e.offset}: {e.reason}")
        return problems
