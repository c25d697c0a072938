"""SSTableReader: opens one SSTable and serves partition reads and token-ordered scans.

Read path for ``partition(key, token)``: bloom filter (hash once) -> key cache -> Summary bisect ->
one Index block (CRC checked) -> CompressionInfo offset map -> Data chunk(s) (CRC checked, LZ4
decompressed, small LRU chunk cache) -> decode.  ``SSTablePartition.rows`` is lazy: a narrow
partition is decoded row by row from the bytes already read; a wide one reads only the row-index
blocks its slice needs, forward or reversed.

Any checksum mismatch or undecodable byte raises ``errors.CorruptionError`` naming the file and an
offset (a Data chunk's file offset for checksum failures; the uncompressed stream position of
the partition for decode failures).  Nothing wrong is ever returned.
"""
from __future__ import annotations

import bisect
import itertools
import re
import struct
from typing import Iterator

from ..errors import CorruptionError, StorageError
from . import descriptor as d
from .bloom import BloomFilter
from .compression import ChunkCache, ChunkReader, CompressionInfo
from .murmur3 import hash128
from .partition_format import decode_header, decode_row_at, find_row, iter_rows, row_offsets
from .partition_index import IndexReader, Summary
from .rows import FULL_SLICE, PartitionUpdate, Slice
from .serialization import DecodeError
from .statistics import Statistics

_ids = itertools.count(1)
_OFFSET = re.compile(r"^offset (\d+): (.*)$")
_DECODE_ERRORS = (DecodeError, struct.error, IndexError, ValueError)
_ZERO4 = b"\0\0\0\0"


def _last_clustering(sample) -> bytes:
    return sample[1]


def _corrupt(path: str, e: Exception) -> CorruptionError:
    m = _OFFSET.match(str(e))
    if m:
        return CorruptionError(path, int(m.group(1)), m.group(2))
    return CorruptionError(path, None, str(e))


def _load(fs, path: str, decode):
    try:
        data = fs.read_bytes(path)
    except FileNotFoundError:
        raise CorruptionError(path, None, "component listed in the TOC is missing") from None
    try:
        return decode(data)
    except ValueError as e:
        raise _corrupt(path, e) from None


class SSTablePartition:
    """One partition of one SSTable: header decoded, rows decoded lazily by ``rows``."""

    __slots__ = ("key", "token", "deletion", "range_tombstones", "static_row", "_reader",
                 "_position", "_length", "_samples", "_buf", "_start", "_rows_start")

    def __init__(self, reader: "SSTableReader", key: bytes, token: int, entry) -> None:
        self._reader = reader
        self.key, self.token = key, token
        position, length, samples = entry
        self._position, self._length, self._samples = position, length, samples
        head = samples[0][2] if samples else length
        # the partition's bytes are buf[o:o + head]: the cached chunk itself when it holds them
        # all (no copy), else a joined copy
        buf, o = reader._chunks.view(position, head)
        self._start = o
        try:
            if len(buf) - o < head:
                raise DecodeError("partition runs past the end of the data")
            klen = len(key)
            if buf[o + 2:o + 3 + klen] == key + b"\0" and buf[o + 3 + klen:o + 7 + klen] == _ZERO4 \
                    and (buf[o] << 8 | buf[o + 1]) == klen:
                # the common header: no partition deletion, no range tombstones, no static row
                pkey, pos = key, o + 7 + klen
                self.deletion = self.static_row = None
                self.range_tombstones = []
            else:
                pkey, self.deletion, self.range_tombstones, self.static_row, pos = \
                    decode_header(buf, o)
            if pkey != key:
                raise DecodeError("partition key differs from the index entry's")
            if samples:
                if pos != o + head:
                    raise DecodeError("partition header length differs from the row index")
            elif buf[o + head - 4:o + head] != _ZERO4:
                raise DecodeError("partition end marker missing")
        except _DECODE_ERRORS as e:
            raise CorruptionError(reader.data_path, position, f"partition does not decode: {e}"
                                  ) from None
        self._buf = buf
        self._rows_start = pos

    def rows(self, slice: Slice = FULL_SLICE, reversed: bool = False) -> Iterator:
        """The rows inside ``slice``, in clustering order (or reversed); lazy."""
        if slice.is_empty():
            return iter(())
        if self._samples:
            return self._wide_rows(slice, reversed)
        return self._narrow_rows(slice, reversed)

    def point_row(self, clustering: bytes):
        """The row ``clustering``, or None (a single-row read: no iterator, no slice walk)."""
        if self._samples:
            for row in self._wide_rows(Slice(clustering, True, clustering, True), False):
                return row
            return None
        return find_row(self._buf, self._rows_start, self._start + self._length - 4, clustering,
                        self._reader.data_path, self._position - self._start)

    def _narrow_rows(self, s: Slice, reversed: bool):
        buf, start, end = self._buf, self._rows_start, self._start + self._length - 4
        c = s.start
        if c is not None and c == s.end and s.start_inclusive and s.end_inclusive:
            row = find_row(buf, start, end, c, self._reader.data_path,
                           self._position - self._start)
            return iter(()) if row is None else iter((row,))
        if not reversed:
            return iter_rows(buf, start, end, s.start, s.start_inclusive, s.end,
                             s.end_inclusive, self._reader.data_path, self._position - self._start)
        return self._narrow_reversed(buf, start, end, s)

    def _narrow_reversed(self, buf, start, end, s: Slice):
        try:
            offs = row_offsets(buf, start, end, s.start, s.start_inclusive, s.end,
                               s.end_inclusive)
            for o in offs[::-1]:
                yield decode_row_at(buf, o)
        except _DECODE_ERRORS as e:
            raise CorruptionError(self._reader.data_path, self._position,
                                  f"partition rows do not decode: {e}") from None

    def _blocks(self, s: Slice) -> list:
        """The row-index blocks that may hold rows of ``s`` (bisect on the blocks' last rows)."""
        samples = self._samples
        lo, hi = s.start, s.end
        i = 0
        if lo is not None:
            i = bisect.bisect_left(samples, lo, key=_last_clustering)
            if i < len(samples) and samples[i][1] == lo and not s.start_inclusive:
                i += 1
        out = []
        for sample in samples[i:]:
            first = sample[0]
            if hi is not None and (first > hi or (first == hi and not s.end_inclusive)):
                break
            out.append(sample)
        return out

    def _wide_rows(self, s: Slice, reversed: bool):
        blocks = self._blocks(s)
        if reversed:
            blocks.reverse()
        chunks, position = self._reader._chunks, self._position
        for _first, _last, off, blen in blocks:
            buf = chunks.read(position + off, blen)
            try:
                if len(buf) != blen:
                    raise DecodeError("row block runs past the end of the data")
                if not reversed:
                    yield from iter_rows(buf, 0, blen, s.start, s.start_inclusive, s.end,
                                         s.end_inclusive, self._reader.data_path, position + off)
                else:
                    offs = row_offsets(buf, 0, blen, s.start, s.start_inclusive, s.end,
                                       s.end_inclusive)
                    for o in offs[::-1]:
                        yield decode_row_at(buf, o)
            except _DECODE_ERRORS as e:
                raise CorruptionError(self._reader.data_path, position + off,
                                      f"row block does not decode: {e}") from None

    @property
    def is_wide(self) -> bool:
        return bool(self._samples)

    def to_update(self, table_id: bytes) -> PartitionUpdate:
        """Everything this SSTable holds for the partition."""
        update = PartitionUpdate(table_id, self.key, self.deletion, list(self.range_tombstones),
                                 self.static_row)
        for row in self.rows():
            update.rows[row.clustering] = row
        return update

    def __repr__(self) -> str:
        return f"SSTablePartition(key={self.key.hex()}, token={self.token})"


class SSTableReader:
    """An open, immutable SSTable.  Thread-safe for reads."""

    def __init__(self, fs, directory: str, generation: int, *, stats: Statistics,
                 info: CompressionInfo, summary: Summary, bloom: BloomFilter, data_file,
                 index_file, key_cache=None, chunk_cache_chunks: int = 64,
                 chunk_cache: ChunkCache | None = None) -> None:
        self.fs, self.directory, self.generation = fs, directory, generation
        self.stats, self.bloom, self.key_cache = stats, bloom, key_cache
        self.identity = (directory, generation, next(_ids))
        self.data_path = d.path(directory, generation, d.DATA)
        self.index_path = d.path(directory, generation, d.INDEX)
        self._data_file, self._index_file = data_file, index_file
        self.chunk_cache = chunk_cache
        self._chunks = ChunkReader(data_file, info, self.data_path, chunk_cache_chunks,
                                   chunk_cache, self.identity)
        self._index = IndexReader(index_file, summary, self.index_path)
        self.data_size = sum(fs.size(d.path(directory, generation, c))
                             for c in d.COMPONENTS + (d.TOC,))
        self.bloom_checks = 0
        self.bloom_false_positives = 0
        self.closed = False

    @classmethod
    def open(cls, fs, directory: str, generation: int, key_cache=None, *,
             chunk_cache: ChunkCache | None = None, chunk_cache_chunks: int = 64
             ) -> "SSTableReader":
        """Open a complete SSTable.  ``key_cache`` and ``chunk_cache`` may be shared by many
        readers; without ``chunk_cache`` the reader keeps ``chunk_cache_chunks`` chunks."""
        toc_path = d.path(directory, generation, d.TOC)
        if not fs.exists(toc_path):
            raise StorageError(f"no SSTable {generation} in {directory} (no {toc_path})")
        toc = d.decode_toc(fs.read_bytes(toc_path))
        missing = [c for c in d.COMPONENTS if c not in toc]
        if missing:
            raise CorruptionError(toc_path, None, f"TOC lacks components {missing}")
        p = lambda c: d.path(directory, generation, c)  # noqa: E731
        stats = _load(fs, p(d.STATISTICS), Statistics.decode)
        info = _load(fs, p(d.COMPRESSION_INFO), CompressionInfo.decode)
        summary = _load(fs, p(d.SUMMARY), Summary.decode)
        bloom = _load(fs, p(d.FILTER), BloomFilter.decode)
        for c in (d.DATA, d.INDEX):
            if not fs.exists(p(c)):
                raise CorruptionError(p(c), None, "component listed in the TOC is missing")
        data_file = fs.open(p(d.DATA))
        index_file = fs.open(p(d.INDEX))
        return cls(fs, directory, generation, stats=stats, info=info, summary=summary,
                   bloom=bloom, data_file=data_file, index_file=index_file, key_cache=key_cache,
                   chunk_cache_chunks=chunk_cache_chunks, chunk_cache=chunk_cache)

    # --- reads ----------------------------------------------------------------------------------

    def may_contain(self, key: bytes) -> bool:
        """The bloom filter's answer (False = certainly absent)."""
        self.bloom_checks += 1
        return self.bloom.contains_hash(hash128(key))

    def index_entry(self, key: bytes, token: int):
        """``(position, length, samples)`` of the partition, or None (no bloom check)."""
        cache = self.key_cache
        if cache is not None:
            entry = cache.get(self.identity, key)
            if entry is not None:
                return entry
        entry = self._index.lookup(token, key)
        if entry is not None and cache is not None:
            cache.put(self.identity, key, entry)
        return entry

    def partition(self, key: bytes, token: int, key_hash: tuple[int, int] | None = None
                  ) -> SSTablePartition | None:
        """The partition ``key`` (whose token is ``token``), or None if this SSTable lacks it.

        ``key_hash`` is ``hash128(key)`` when the caller has it already (a read probing several
        SSTables hashes its key once)."""
        self.bloom_checks += 1
        if not self.bloom.contains_hash(hash128(key) if key_hash is None else key_hash):
            return None
        cache = self.key_cache
        entry = None if cache is None else cache.get(self.identity, key)
        if entry is None:
            entry = self._index.lookup(token, key)
            if entry is None:
                self.bloom_false_positives += 1
                return None
            if cache is not None:
                cache.put(self.identity, key, entry)
        return SSTablePartition(self, key, token, entry)

    def scan(self, start: tuple[int, bytes] | None = None, start_inclusive: bool = True,
             end_token: int | None = None) -> Iterator[SSTablePartition]:
        """Partitions in (token, key) order from ``start`` up to ``end_token`` (inclusive)."""
        block = 0 if start is None else max(0, self._index.summary.block_for(*start))
        for token, key, entry in self._index.entries(block):
            if start is not None:
                if token < start[0] or (token == start[0] and (
                        key < start[1] or (key == start[1] and not start_inclusive))):
                    continue
            if end_token is not None and token > end_token:
                return
            yield SSTablePartition(self, key, token, entry)

    def __iter__(self) -> Iterator[SSTablePartition]:
        return self.scan()

    # --- counters, checks, lifecycle ------------------------------------------------------------

    @property
    def compression_info(self) -> CompressionInfo:
        return self._chunks.info

    @property
    def summary(self) -> Summary:
        return self._index.summary

    @property
    def chunk_reads(self) -> int:
        """Data chunks read from disk (chunk-cache misses) since open."""
        return self._chunks.chunk_reads

    @property
    def index_block_reads(self) -> int:
        return self._index.block_reads

    def clear_chunk_cache(self) -> None:
        self._chunks.clear_cache()

    def verify(self) -> list[str]:
        """Check every checksum of every component; problems named by file + offset."""
        return verify_sstable(self.fs, self.directory, self.generation)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.key_cache is not None:
            self.key_cache.invalidate(self.identity)
        self._chunks.clear_cache()
        self._data_file.close()
        self._index_file.close()

    def __enter__(self) -> "SSTableReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SSTableReader({self.directory!r}, {self.generation})"


def verify_sstable(fs, directory: str, generation: int) -> list[str]:
    """Every checksum of one SSTable, component by component (works when ``open`` would fail)."""
    problems: list[str] = []
    p = lambda c: d.path(directory, generation, c)  # noqa: E731
    if not fs.exists(p(d.TOC)):
        return [f"{p(d.TOC)}: missing (the SSTable is incomplete)"]
    toc = d.decode_toc(fs.read_bytes(p(d.TOC)))
    for c in d.COMPONENTS:
        if c not in toc or not fs.exists(p(c)):
            problems.append(f"{p(c)}: missing")
    decoded = {}
    for c, decode in ((d.STATISTICS, Statistics.decode),
                      (d.COMPRESSION_INFO, CompressionInfo.decode),
                      (d.SUMMARY, Summary.decode), (d.FILTER, BloomFilter.decode)):
        if fs.exists(p(c)):
            try:
                decoded[c] = decode(fs.read_bytes(p(c)))
            except ValueError as e:
                err = _corrupt(p(c), e)
                problems.append(f"{err.path} at offset {err.offset}: {err.reason}")
    if d.COMPRESSION_INFO in decoded and fs.exists(p(d.DATA)):
        with fs.open(p(d.DATA)) as f:
            problems += ChunkReader(f, decoded[d.COMPRESSION_INFO], p(d.DATA), 1).verify()
    if d.SUMMARY in decoded and fs.exists(p(d.INDEX)):
        with fs.open(p(d.INDEX)) as f:
            problems += IndexReader(f, decoded[d.SUMMARY], p(d.INDEX)).verify()
    return problems
