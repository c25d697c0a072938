"""SSTable Statistics: what the read path, compaction and commit-log replay need to know up front.

Statistics.db layout (all integers big-endian)::

    [4 "CQST"][u16 format version][16 table id (zeros if unknown)]
    [i64 min timestamp][i64 max timestamp][u32 min local deletion time][u32 max local deletion time]
    [u64 partition count][u64 row count][u64 cell count][u64 tombstone count]
    [u64 partition deletion count][u64 uncompressed data length][u64 Data file length]
    [u8 flags: 1 min clustering present, 2 max clustering present, 4 commit-log position present]
    [u32 length][min clustering] if flag 1      [u32 length][max clustering] if flag 2
    [i64 segment id][i64 offset] if flag 4
    [i64 first token][u16 length][first key]    [i64 last token][u16 length][last key]
    [u32 crc32 of everything before]

Meanings:
* timestamps cover every cell, row marker and deletion (microseconds);
* local deletion times cover tombstones, deletions and expiring cells, and (as in Cassandra) count
  ``NO_EXPIRY`` (0xFFFFFFFF) for a live cell that never expires, so ``max_local_deletion_time <
  gc_before`` means every datum in the SSTable is a purgeable tombstone or expired;
* ``tombstone_count``: tombstone cells + row deletions + collection deletions + range tombstones +
  partition deletions; ``cell_count``: every cell (markers excluded);
* min/max clustering cover every (non-static) row and every range tombstone bound; ``None`` on a
  side means unbounded there (an open range tombstone) or no rows at all.  Partition deletions are
  not covered by them: a reader skipping SSTables by clustering must check
  ``partition_deletion_count`` too;
* ``commitlog_position``: the commit-log position this SSTable's data is complete up to.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from .descriptor import CRC, FORMAT_VERSION, HEADER, MAGIC, STATISTICS
from .rows import NO_EXPIRY, Cell, ComplexColumn, PartitionUpdate, Row

_FIXED = struct.Struct(">16sqqIIQQQQQQQB")
_U32 = struct.Struct(">I")
_POS = struct.Struct(">qq")
_KEY = struct.Struct(">qH")
MAX_TS = (1 << 63) - 1
MIN_TS = -(1 << 63)


@dataclass
class Statistics:
    table_id: bytes = bytes(16)
    min_timestamp: int = MAX_TS
    max_timestamp: int = MIN_TS
    min_local_deletion_time: int = NO_EXPIRY
    max_local_deletion_time: int = 0
    partition_count: int = 0
    row_count: int = 0
    cell_count: int = 0
    tombstone_count: int = 0
    partition_deletion_count: int = 0
    data_length: int = 0                 # uncompressed
    compressed_length: int = 0           # bytes of Data.db (chunks + CRCs)
    min_clustering: bytes | None = None
    max_clustering: bytes | None = None
    commitlog_position: tuple[int, int] | None = None
    first_token: int = 0
    first_key: bytes = b""
    last_token: int = 0
    last_key: bytes = b""

    @property
    def compression_ratio(self) -> float:
        return self.compressed_length / self.data_length if self.data_length else 1.0

    def encode(self) -> bytes:
        flags = ((1 if self.min_clustering is not None else 0)
                 | (2 if self.max_clustering is not None else 0)
                 | (4 if self.commitlog_position is not None else 0))
        out = bytearray(HEADER.pack(MAGIC[STATISTICS], FORMAT_VERSION))
        out += _FIXED.pack(self.table_id, self.min_timestamp, self.max_timestamp,
                           self.min_local_deletion_time, self.max_local_deletion_time,
                           self.partition_count, self.row_count, self.cell_count,
                           self.tombstone_count, self.partition_deletion_count, self.data_length,
                           self.compressed_length, flags)
        for value in (self.min_clustering, self.max_clustering):
            if value is not None:
                out += _U32.pack(len(value)) + value
        if self.commitlog_position is not None:
            out += _POS.pack(*self.commitlog_position)
        out += _KEY.pack(self.first_token, len(self.first_key)) + self.first_key
        out += _KEY.pack(self.last_token, len(self.last_key)) + self.last_key
        out += CRC.pack(zlib.crc32(out))
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> "Statistics":
        """Raises ValueError naming the offset on any damage."""
        if len(data) < HEADER.size + _FIXED.size + 2 * _KEY.size + 4:
            raise ValueError("offset 0: statistics file too short")
        (crc,) = CRC.unpack_from(data, len(data) - 4)
        if zlib.crc32(memoryview(data)[:-4]) != crc:
            raise ValueError(f"offset {len(data) - 4}: statistics checksum mismatch")
        magic, version = HEADER.unpack_from(data, 0)
        if magic != MAGIC[STATISTICS] or version != FORMAT_VERSION:
            raise ValueError(f"offset 0: not a version {FORMAT_VERSION} statistics file")
        try:
            fields = _FIXED.unpack_from(data, HEADER.size)
            stats = cls(*fields[:-1])
            flags = fields[-1]
            pos = HEADER.size + _FIXED.size
            if flags & 1:
                (n,) = _U32.unpack_from(data, pos)
                stats.min_clustering = bytes(data[pos + 4:pos + 4 + n])
                pos += 4 + n
            if flags & 2:
                (n,) = _U32.unpack_from(data, pos)
                stats.max_clustering = bytes(data[pos + 4:pos + 4 + n])
                pos += 4 + n
            if flags & 4:
                stats.commitlog_position = _POS.unpack_from(data, pos)
                pos += _POS.size
            stats.first_token, n = _KEY.unpack_from(data, pos)
            stats.first_key = bytes(data[pos + _KEY.size:pos + _KEY.size + n])
            pos += _KEY.size + n
            stats.last_token, n = _KEY.unpack_from(data, pos)
            stats.last_key = bytes(data[pos + _KEY.size:pos + _KEY.size + n])
            pos += _KEY.size + n
        except struct.error:
            raise ValueError(f"offset {HEADER.size}: statistics truncated") from None
        if pos != len(data) - 4:
            raise ValueError(f"offset {pos}: statistics has trailing bytes")
        return stats

    def to_dict(self) -> dict:
        """Plain values for tools (bytes as hex)."""
        def hx(b):
            return None if b is None else b.hex()
        return {
            "table_id": self.table_id.hex(),
            "min_timestamp": self.min_timestamp, "max_timestamp": self.max_timestamp,
            "min_local_deletion_time": self.min_local_deletion_time,
            "max_local_deletion_time": self.max_local_deletion_time,
            "partition_count": self.partition_count, "row_count": self.row_count,
            "cell_count": self.cell_count, "tombstone_count": self.tombstone_count,
            "partition_deletion_count": self.partition_deletion_count,
            "data_length": self.data_length, "compressed_length": self.compressed_length,
            "compression_ratio": round(self.compression_ratio, 4),
            "min_clustering": hx(self.min_clustering), "max_clustering": hx(self.max_clustering),
            "commitlog_position": (None if self.commitlog_position is None
                                   else list(self.commitlog_position)),
            "first_token": self.first_token, "first_key": self.first_key.hex(),
            "last_token": self.last_token, "last_key": self.last_key.hex(),
        }


class StatsCollector:
    """Accumulates Statistics while a writer appends partitions."""

    def __init__(self, table_id: bytes | None = None) -> None:
        self.stats = Statistics(table_id if table_id is not None else bytes(16))
        self._min_c: bytes | None = None
        self._max_c: bytes | None = None
        self._unbounded_low = self._unbounded_high = False

    def _time(self, ts: int, ldt: int | None) -> None:
        s = self.stats
        if ts < s.min_timestamp:
            s.min_timestamp = ts
        if ts > s.max_timestamp:
            s.max_timestamp = ts
        if ldt is not None:
            if ldt < s.min_local_deletion_time:
                s.min_local_deletion_time = ldt
            if ldt > s.max_local_deletion_time:
                s.max_local_deletion_time = ldt

    def _cell(self, cell: Cell) -> None:
        self._time(cell.timestamp, cell.local_deletion_time)
        if cell.value is None:
            self.stats.tombstone_count += 1

    def _row(self, row: Row) -> None:
        s = self.stats
        if row.marker is not None:
            self._time(row.marker.timestamp, row.marker.local_deletion_time)
        if row.deletion is not None:
            self._time(row.deletion.timestamp, row.deletion.local_deletion_time)
            s.tombstone_count += 1
        for data in row.columns.values():
            if type(data) is Cell:
                s.cell_count += 1
                self._cell(data)
            else:
                assert isinstance(data, ComplexColumn)
                if data.deletion is not None:
                    self._time(data.deletion.timestamp, data.deletion.local_deletion_time)
                    s.tombstone_count += 1
                for cell in data.cells.values():
                    s.cell_count += 1
                    self._cell(cell)

    def _clustering(self, low: bytes | None, high: bytes | None) -> None:
        if low is None:
            self._unbounded_low = True
        elif self._min_c is None or low < self._min_c:
            self._min_c = low
        if high is None:
            self._unbounded_high = True
        elif self._max_c is None or high > self._max_c:
            self._max_c = high

    def add(self, token: int, update: PartitionUpdate, rows: list[Row]) -> None:
        """Account for one partition (``rows`` already sorted)."""
        s = self.stats
        if s.partition_count == 0:
            s.first_token, s.first_key = token, update.key
        s.last_token, s.last_key = token, update.key
        s.partition_count += 1
        if update.deletion is not None:
            self._time(update.deletion.timestamp, update.deletion.local_deletion_time)
            s.tombstone_count += 1
            s.partition_deletion_count += 1
        for rt in update.range_tombstones:
            self._time(rt.deletion.timestamp, rt.deletion.local_deletion_time)
            s.tombstone_count += 1
            self._clustering(rt.slice.start, rt.slice.end)
        if update.static_row is not None:
            self._row(update.static_row)
        if rows:
            s.row_count += len(rows)
            self._clustering(rows[0].clustering, rows[-1].clustering)
            for row in rows:
                self._row(row)

    def finish(self, data_length: int, compressed_length: int,
               commitlog_position: tuple[int, int] | None) -> Statistics:
        s = self.stats
        s.min_clustering = None if self._unbounded_low else self._min_c
        s.max_clustering = None if self._unbounded_high else self._max_c
        s.data_length, s.compressed_length = data_length, compressed_length
        s.commitlog_position = (None if commitlog_position is None
                                else (int(commitlog_position[0]), int(commitlog_position[1])))
        return s
