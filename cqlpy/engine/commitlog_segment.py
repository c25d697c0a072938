"""Commit-log segment format: file names, the segment header, record framing, and reading one segment.

A segment is one file, ``CommitLog-<version>-<segment id>.log``, in ``<data>/commitlog/``.  Segment
ids come from one counter per process that starts at the wall clock in microseconds (or past the
largest id on disk, whichever is larger) and increases by one per segment, so ids grow across
restarts.  All integers are big-endian.  Changing anything here breaks existing logs: bump
FORMAT_VERSION.

Segment header (16 bytes, at offset 0):
    [u32 version][u64 segment id][u32 crc32 of the previous 12 bytes]
Records follow back to back until the end of the file:
    [u32 size][u32 crc32(size bytes)][payload: size bytes][u32 crc32(size bytes + payload)]
    (the last CRC is one running checksum over the 4 size bytes and the payload: 12 bytes overhead)
Payload = one ``CommitLog.add`` call, so a multi-partition batch replays atomically:
    [u32 update count] then per update [u32 length][serialization.encode_update bytes]

Segments are append-only and never preallocated, and there are no sync markers (decided: the
framing alone tells the cases apart, and every case is reported and ends that segment's replay):
- fewer than 8 bytes left, or a record whose (checksummed) size runs past the end of the file:
  a torn tail, what an interrupted write leaves.  Reported as "torn tail".
- a size of 0 with a size CRC of 0: zero fill (a file system that extended the file but lost the
  data); treated as the end of data, reported only if a non-zero byte follows.
- a size whose CRC fails, a payload whose CRC fails, or a record whose CRCs pass but which does not
  decode: corruption.  Reported with its offset.
A record is never returned unless both CRCs pass and it decodes completely.
"""
from __future__ import annotations

import re
import struct
import zlib
from typing import Iterator, Protocol

from .rows import PartitionUpdate
from .serialization import decode_update, encode_update

FORMAT_VERSION = 1                      # written to disk; do not change
HEADER = struct.Struct(">IQI")          # version, segment id, crc32 of the first 12 bytes
HEADER_SIZE = HEADER.size               # 16
RECORD_PREFIX = struct.Struct(">II")    # size, crc32(size)
U32 = struct.Struct(">I")
RECORD_OVERHEAD = RECORD_PREFIX.size + U32.size      # 12

_NAME = re.compile(r"^CommitLog-(\d+)-(\d+)\.log$")


class Reporter(Protocol):
    """Receives each problem found while reading a log; reading then goes on with the next segment."""

    def corruption(self, path: str, offset: int, nbytes: int, reason: str) -> None: ...


# --- names -----------------------------------------------------------------------------------------

def segment_file_name(segment_id: int, version: int = FORMAT_VERSION) -> str:
    return f"CommitLog-{version}-{segment_id}.log"


def parse_segment_file_name(name: str) -> tuple[int, int] | None:
    """``(version, segment id)`` of a segment file name, or None for any other file."""
    m = _NAME.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


# --- writing ---------------------------------------------------------------------------------------

def encode_header(segment_id: int) -> bytes:
    head = struct.pack(">IQ", FORMAT_VERSION, segment_id)
    return head + U32.pack(zlib.crc32(head))


def encode_payload(updates: list[PartitionUpdate]) -> bytes:
    parts = [U32.pack(len(updates))]
    for u in updates:
        body = encode_update(u)
        parts.append(U32.pack(len(body)))
        parts.append(body)
    return b"".join(parts)


def frame_record(payload: bytes) -> bytes:
    size = U32.pack(len(payload))
    crc = zlib.crc32(size)
    return b"".join((size, U32.pack(crc), payload, U32.pack(zlib.crc32(payload, crc))))


# --- reading ---------------------------------------------------------------------------------------

def decode_payload(payload: memoryview) -> list[PartitionUpdate]:
    """The updates of one record; raises ValueError (DecodeError) if the bytes do not decode."""
    if len(payload) < 4:
        raise ValueError("record payload shorter than its update count")
    (count,), pos = U32.unpack_from(payload, 0), 4
    updates = []
    for _ in range(count):
        if pos + 4 > len(payload):
            raise ValueError(f"truncated update length at {pos}")
        (n,) = U32.unpack_from(payload, pos)
        pos += 4
        if pos + n > len(payload):
            raise ValueError(f"update of {n} bytes at {pos} runs past the record")
        updates.append(decode_update(payload[pos:pos + n]))
        pos += n
    if pos != len(payload):
        raise ValueError(f"{len(payload) - pos} trailing bytes after {count} updates")
    return updates


def read_header(data: bytes | memoryview) -> tuple[int, int] | str:
    """``(version, segment id)``, or a reason string if the header is missing or corrupt."""
    if len(data) < HEADER_SIZE:
        return "torn tail: incomplete segment header"
    version, segment_id, crc = HEADER.unpack_from(data, 0)
    if zlib.crc32(data[:12]) != crc:
        return "segment header checksum mismatch"
    return version, segment_id


def read_segment(path: str, data: bytes, segment_id: int,
                 reporter: Reporter) -> Iterator[tuple[int, list[PartitionUpdate]]]:
    """Yield ``(offset just past the record, updates)`` for every valid record of one segment's bytes.

    Stops at the first torn or corrupt record after reporting it; never raises for bad bytes.
    """
    if not data:
        return
    head = read_header(data)
    if isinstance(head, str):
        reporter.corruption(path, 0, len(data), head)
        return
    version, sid = head
    if version != FORMAT_VERSION:
        reporter.corruption(path, 0, len(data), f"unsupported commit log version {version}")
        return
    if sid != segment_id:
        reporter.corruption(path, 0, len(data),
                            f"header names segment {sid}, file name says {segment_id}")
        return
    view = memoryview(data)
    end = len(data)
    pos = HEADER_SIZE
    crc32 = zlib.crc32
    while pos < end:
        left = end - pos
        if left < RECORD_PREFIX.size:
            reporter.corruption(path, pos, left, "torn tail: incomplete record header")
            return
        size, size_crc = RECORD_PREFIX.unpack_from(data, pos)
        if size == 0 and size_crc == 0:
            if any(view[pos:]):
                reporter.corruption(path, pos, left, "zero record size followed by non-zero bytes")
            return
        if crc32(view[pos:pos + 4]) != size_crc:
            reporter.corruption(path, pos, left, "corrupt record header (size checksum mismatch)")
            return
        if size + RECORD_OVERHEAD > left:
            reporter.corruption(path, pos, left,
                                f"torn tail: record of {size} bytes runs past the end of the file")
            return
        body = pos + RECORD_PREFIX.size
        payload = view[body:body + size]
        (crc,) = U32.unpack_from(data, body + size)
        if crc32(payload, size_crc) != crc:
            reporter.corruption(path, pos, size + RECORD_OVERHEAD, "record checksum mismatch")
            return
        try:
            updates = decode_payload(payload)
        except Exception as e:          # DecodeError, or anything malformed bytes provoke
            reporter.corruption(path, pos, size + RECORD_OVERHEAD, f"undecodable record: {e}")
            return
        pos = body + size + U32.size
        yield pos, updates
