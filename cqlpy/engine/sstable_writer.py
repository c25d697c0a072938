"""SSTableWriter: writes one immutable SSTable under temporary names, then publishes it.

Protocol (names in ``descriptor``):
1. every component is written as ``tmp-<generation>-<Component>.db``: Data (checksummed chunks,
   ``compression``) and Index (``partition_index``) stream while partitions are appended; Summary,
   Filter (``bloom``), CompressionInfo and Statistics (``statistics``) are written by ``finish``;
2. each file is fsynced and closed, then renamed to its final name; the directory is synced;
3. the TOC is written as ``tmp-<generation>-TOC.txt``, fsynced, renamed, and the directory synced
   again.  Only then does the SSTable exist (``SSTableReader.open`` needs the TOC, and
   ``descriptor.cleanup_temporary`` deletes anything without one).

Partitions must arrive in strictly increasing (token, key) order; the rows of a partition are
written in clustering order (sorted here).  The partition layout inside Data is documented in
``partition_format``.
"""
from __future__ import annotations

from ..errors import StorageError
from . import descriptor as d
from .bloom import BloomFilter
from .compression import ChunkWriter, CompressionParams
from .murmur3 import hash128
from .partition_format import encode_partition
from .partition_index import IndexWriter
from .rows import PartitionUpdate
from .statistics import StatsCollector


class SSTableWriter:
    """Builds one SSTable; ``append`` partitions in order, then ``finish`` (or ``abort``)."""

    def __init__(self, fs, directory: str, generation: int, *, expected_partitions: int,
                 compression: CompressionParams = CompressionParams(),
                 bloom_fp_chance: float = d.DEFAULT_BLOOM_FP_CHANCE,
                 commitlog_position: tuple[int, int] | None = None,
                 index_interval: int = d.DEFAULT_INDEX_INTERVAL,
                 column_index_size: int = d.DEFAULT_COLUMN_INDEX_SIZE,
                 table_id: bytes | None = None) -> None:
        if index_interval < 1 or column_index_size < 1:
            raise ValueError("index_interval and column_index_size must be positive")
        self.fs, self.directory, self.generation = fs, directory, generation
        self.commitlog_position = commitlog_position
        self._column_index_size = column_index_size
        self._files: dict[str, object] = {}
        self._done = False
        for component in (d.DATA, d.INDEX):
            if fs.exists(d.path(directory, generation, component)):
                raise StorageError(f"SSTable generation {generation} already exists in {directory}")
        try:
            self._files[d.DATA] = fs.create(self._tmp(d.DATA))
            self._files[d.INDEX] = fs.create(self._tmp(d.INDEX))
        except BaseException:
            self.abort()
            raise
        self._data = ChunkWriter(self._files[d.DATA], compression)
        self._index = IndexWriter(self._files[d.INDEX], index_interval)
        self._bloom = BloomFilter.for_keys(expected_partitions, bloom_fp_chance)
        self._stats = StatsCollector(table_id)
        self._last: tuple[int, bytes] | None = None

    def _tmp(self, component: str) -> str:
        return d.path(self.directory, self.generation, component, temporary=True)

    @property
    def partition_count(self) -> int:
        return self._stats.stats.partition_count

    @property
    def data_position(self) -> int:
        """Uncompressed bytes written so far (for size-based decisions by the caller)."""
        return self._data.position

    def append(self, token: int, partition: PartitionUpdate) -> None:
        """Add one partition; (token, key) must be greater than the previous one's."""
        if self._done:
            raise StorageError("SSTableWriter already finished or aborted")
        key = partition.key
        last = self._last
        if last is not None and (token < last[0] or (token == last[0] and key <= last[1])):
            raise ValueError(f"partitions out of order: ({token}, {key.hex()}) after "
                             f"({last[0]}, {last[1].hex()})")
        self._last = (token, key)
        rows = partition.rows
        ordered = []
        for c in sorted(rows):
            row = rows[c]
            if row.clustering != c:
                raise ValueError("a row's clustering differs from its key in PartitionUpdate.rows")
            ordered.append(row)
        data, samples = encode_partition(partition, ordered, self._column_index_size)
        position = self._data.position
        self._data.write(data)
        self._index.add(token, key, position, len(data), samples)
        self._bloom.add_hash(hash128(key))
        self._stats.add(token, partition, ordered)

    def finish(self, key_cache=None, chunk_cache=None):
        """Sync, rename into place, write the TOC last; return the opened ``SSTableReader``
        (using ``key_cache`` / ``chunk_cache`` if given)."""
        from .sstable_reader import SSTableReader
        if self._done:
            raise StorageError("SSTableWriter already finished or aborted")
        try:
            info = self._data.finish()
            summary = self._index.finish()
            stats = self._stats.finish(info.data_length, info.file_length, self.commitlog_position)
            for component, payload in ((d.COMPRESSION_INFO, info.encode()),
                                       (d.SUMMARY, summary),
                                       (d.FILTER, self._bloom.encode()),
                                       (d.STATISTICS, stats.encode())):
                self._files[component] = f = self.fs.create(self._tmp(component))
                f.write(payload)
            for f in self._files.values():
                f.sync()
                f.close()
            for component in self._files:
                self.fs.rename(self._tmp(component),
                               d.path(self.directory, self.generation, component))
            self.fs.sync_dir(self.directory)
            toc = self.fs.create(self._tmp(d.TOC))
            toc.write(d.encode_toc(d.COMPONENTS))
            toc.sync()
            toc.close()
            self.fs.rename(self._tmp(d.TOC), d.path(self.directory, self.generation, d.TOC))
            self.fs.sync_dir(self.directory)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return SSTableReader.open(self.fs, self.directory, self.generation, key_cache,
                                  chunk_cache=chunk_cache)

    def abort(self) -> None:
        """Close and delete everything this writer created, TOC first (the generation was unused
        when the writer started, so every file of it is ours)."""
        self._done = True
        for f in self._files.values():
            try:
                f.close()
            except Exception:
                pass
        for component in (d.TOC,) + d.COMPONENTS:
            for tmp in (False, True):
                p = d.path(self.directory, self.generation, component, temporary=tmp)
                try:
                    if self.fs.exists(p):
                        self.fs.remove(p)
                except Exception:
                    pass
        self._files.clear()

    def __enter__(self) -> "SSTableWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and not self._done:
            self.abort()
