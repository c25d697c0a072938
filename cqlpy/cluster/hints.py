"""Hinted handoff: writes a replica missed, kept by the coordinator and replayed when it is back.

A hint is written for a replica that is down when a write starts, or that does not answer within
the write timeout (notes A12).  No hint is written for a replica that has been down longer than
``max_hint_window`` (3 h), since repair must fix it anyway.  Hints live in memory and on disk, one
file per target host at a time, and are replayed when gossip reports the host alive (``on_alive``)
and every ``dispatch_interval`` seconds for live hosts (hints for timed-out replicas of live
hosts), one file at a time, oldest first; a file is deleted once every hint in it is acknowledged.
Hints for a host that leaves the ring are dropped (``excise``).
Replay is idempotent: hints carry the original mutations with their original timestamps.

File: ``<data>/hints/<target host id>-<creation time ms>.hints``; all integers big-endian::

    header   [u32 magic 0x48494E54 "HINT"][u16 FORMAT_VERSION][16 bytes target host id]
             [i64 file creation time ms][u32 crc32 of the previous 30 bytes]          34 bytes
    record   [u32 length][u32 crc32(length)][payload][u32 crc32(payload)]
    payload  [i64 hint creation time ms][u32 count] then count x [u32 n][n bytes]
             (each n bytes: one PartitionUpdate, cqlpy.engine.serialization.encode_update)

Records are appended and flushed to the OS as they are written (not fsynced: hints are best-effort,
as Cassandra's ``hints_flush_period`` buffers are); a file is fsynced when it is closed.  Reading a
file after a crash: a torn last record ends it quietly; a record whose length checksum fails ends
the file and is reported; a record whose payload checksum fails is reported and skipped (its
length is trustworthy).  Nothing here is pickled.
"""
from __future__ import annotations

import logging
import os
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Sequence

from .endpoints import Endpoint
from .gossip import EndpointStateChangeSubscriber
from .messaging import Message, Verb

log = logging.getLogger(__name__)

MAGIC = 0x48494E54                 # "HINT"; do not change
FORMAT_VERSION = 1                 # written to disk; bump when the layout above changes
HEADER = struct.Struct(">IH16sq")
U32 = struct.Struct(">I")
I64 = struct.Struct(">q")
RECORD_PREFIX = struct.Struct(">II")
HEADER_SIZE = HEADER.size + U32.size
SUFFIX = ".hints"
MAX_HINT_WINDOW = 3 * 3600.0       # max_hint_window: 3 h
DISPATCH_INTERVAL = 10.0           # Cassandra's hints dispatch check period


class Reporter(Protocol):
    def corruption(self, path: str, offset: int, nbytes: int, reason: str) -> None: ...


class LoggingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[str, int, int, str]] = []

    def corruption(self, path: str, offset: int, nbytes: int, reason: str) -> None:
        self.events.append((path, offset, nbytes, reason))
        log.warning("corrupt hints in %s at %d (%d bytes): %s", path, offset, nbytes, reason)


# --- file format --------------------------------------------------------------------------------

def hints_file_name(host_id: uuid.UUID, created_ms: int) -> str:
    return f"{host_id}-{created_ms}{SUFFIX}"


def parse_hints_file_name(name: str) -> tuple[uuid.UUID, int] | None:
    """Inverse of hints_file_name; None for any other name."""
    if not name.endswith(SUFFIX):
        return None
    stem = name[:-len(SUFFIX)]
    host, _, ms = stem.rpartition("-")
    try:
        return uuid.UUID(host), int(ms)
    except ValueError:
        return None


def encode_header(host_id: uuid.UUID, created_ms: int) -> bytes:
    head = HEADER.pack(MAGIC, FORMAT_VERSION, host_id.bytes, created_ms)
    return head + U32.pack(zlib.crc32(head))


def encode_record(created_ms: int, updates: Sequence[bytes]) -> bytes:
    payload = bytearray(I64.pack(created_ms))
    payload += U32.pack(len(updates))
    for u in updates:
        payload += U32.pack(len(u))
        payload += u
    return (RECORD_PREFIX.pack(len(payload), zlib.crc32(U32.pack(len(payload))))
            + bytes(payload) + U32.pack(zlib.crc32(payload)))


def _decode_payload(payload: bytes) -> tuple[int, list[bytes]]:
    (created,) = I64.unpack_from(payload, 0)
    (count,) = U32.unpack_from(payload, 8)
    pos, out = 12, []
    for _ in range(count):
        (n,) = U32.unpack_from(payload, pos)
        pos += 4
        if pos + n > len(payload):
            raise ValueError("update runs past the record")
        out.append(payload[pos:pos + n])
        pos += n
    if pos != len(payload):
        raise ValueError("trailing bytes in the record")
    return created, out


def read_hints_file(path: str, reporter: Reporter | None = None
                    ) -> tuple[uuid.UUID | None, list["Hint"]]:
    """(target host id, hints) of one file; see the module docstring for damaged files."""
    reporter = reporter or LoggingReporter()
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER_SIZE:
        return None, []                                # torn before the header was complete
    head = data[:HEADER.size]
    (crc,) = U32.unpack_from(data, HEADER.size)
    magic, version, host, _created = HEADER.unpack(head)
    if magic != MAGIC or version != FORMAT_VERSION or zlib.crc32(head) != crc:
        reporter.corruption(path, 0, HEADER_SIZE, "bad hints file header")
        return None, []
    hints: list[Hint] = []
    pos = HEADER_SIZE
    while pos < len(data):
        if pos + RECORD_PREFIX.size > len(data):
            break                                      # torn tail
        length, length_crc = RECORD_PREFIX.unpack_from(data, pos)
        if zlib.crc32(U32.pack(length)) != length_crc:
            reporter.corruption(path, pos, len(data) - pos, "record length checksum mismatch")
            break
        end = pos + RECORD_PREFIX.size + length + U32.size
        if end > len(data):
            break                                      # torn tail
        payload = data[pos + RECORD_PREFIX.size:end - U32.size]
        (payload_crc,) = U32.unpack_from(data, end - U32.size)
        if zlib.crc32(payload) != payload_crc:
            reporter.corruption(path, pos, end - pos, "record checksum mismatch")
        else:
            try:
                created, updates = _decode_payload(payload)
                hints.append(Hint(created, updates))
            except (ValueError, struct.error) as exc:
                reporter.corruption(path, pos, end - pos, f"undecodable record: {exc}")
        pos = end
    return uuid.UUID(bytes=host), hints


# --- in memory ------------------------------------------------------------------------------------

@dataclass(slots=True)
class Hint:
    created_ms: int
    updates: list[bytes]                               # encoded PartitionUpdates


@dataclass(slots=True, eq=False)
class HintsFile:
    path: str
    hints: list[Hint] = field(default_factory=list)
    writer: Any = None                                 # open file while it is the current one

    def close(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            os.fsync(self.writer.fileno())
            self.writer.close()
            self.writer = None


class HintsService(EndpointStateChangeSubscriber):
    """Stores hints per target host and replays them; subscribe it to gossip (done here)."""

    def __init__(self, storage_service: Any, messaging: Any, data_dir: str, *,
                 max_hint_window: float = MAX_HINT_WINDOW,
                 dispatch_interval: float = DISPATCH_INTERVAL, delivery_timeout: float = 2.0,
                 enabled: bool = True, reporter: Reporter | None = None) -> None:
        self.storage_service = storage_service
        self.gossiper = storage_service.gossiper
        self.messaging = messaging
        self.timer = messaging.timer
        self.directory = os.path.join(data_dir, "hints")
        self.max_hint_window = max_hint_window
        self.dispatch_interval = dispatch_interval
        self.delivery_timeout = delivery_timeout
        self.enabled = enabled
        self.reporter = reporter or LoggingReporter()
        self._files: dict[uuid.UUID, list[HintsFile]] = {}
        self._dispatching: set[uuid.UUID] = set()
        self._timer: Any = None
        self.stored = 0
        self.delivered = 0
        self.closed = False
        os.makedirs(self.directory, exist_ok=True)
        self._load()
        self.gossiper.register(self)
        if hasattr(storage_service, "add_listener"):
            storage_service.add_listener(self)

    # --- lifecycle --------------------------------------------------------------------------------

    def _load(self) -> None:
        named = [(parse_hints_file_name(n), n) for n in os.listdir(self.directory)]
        for _parsed, name in sorted((p, n) for p, n in named if p is not None):
            path = os.path.join(self.directory, name)
            host, hints = read_hints_file(path, self.reporter)
            if host is None or not hints:
                os.remove(path)                        # empty, torn header, or unreadable header
                continue
            self._files.setdefault(host, []).append(HintsFile(path, hints))

    def start(self) -> None:
        """Begin the periodic dispatch check."""
        if self._timer is None and self.dispatch_interval > 0:
            self._timer = self.timer.call_later(self.dispatch_interval, self._periodic)

    def close(self) -> None:
        """Stop dispatching; close (fsync) the files being written."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for files in self._files.values():
            for f in files:
                f.close()
        try:
            self.gossiper.unregister(self)
        except ValueError:
            pass

    # --- storing ----------------------------------------------------------------------------------

    def within_window(self, target: Endpoint) -> bool:
        """False once the target has been DOWN longer than max_hint_window."""
        since = self.gossiper.unreachable.get(target)
        return since is None or self.timer.time() - since <= self.max_hint_window

    def store(self, target: Endpoint, updates: Sequence[bytes]) -> bool:
        """Keep a hint (encoded PartitionUpdates) for ``target``; False when none was written."""
        if not self.enabled or self.closed or not self.within_window(target):
            return False
        now_ms = int(self.gossiper.wall_clock() * 1000)
        files = self._files.setdefault(target.host_id, [])
        current = files[-1] if files and files[-1].writer is not None else None
        if current is None:
            created = now_ms
            while os.path.exists(os.path.join(self.directory,
                                              hints_file_name(target.host_id, created))):
                created += 1
            path = os.path.join(self.directory, hints_file_name(target.host_id, created))
            writer = open(path, "wb")
            writer.write(encode_header(target.host_id, created))
            current = HintsFile(path, [], writer)
            files.append(current)
        hint = Hint(now_ms, [bytes(u) for u in updates])
        current.writer.write(encode_record(hint.created_ms, hint.updates))
        current.writer.flush()
        current.hints.append(hint)
        self.stored += 1
        return True

    # --- queries ----------------------------------------------------------------------------------

    def pending_hosts(self) -> list[uuid.UUID]:
        return sorted(h for h, files in self._files.items() if any(f.hints for f in files))

    def pending_count(self, host_id: uuid.UUID | None = None) -> int:
        hosts = [host_id] if host_id is not None else list(self._files)
        return sum(len(f.hints) for h in hosts for f in self._files.get(h, ()))

    def files(self, host_id: uuid.UUID) -> list[str]:
        return [f.path for f in self._files.get(host_id, ())]

    def excise(self, host_id: uuid.UUID) -> None:
        """Drop every hint for a host that left the ring (HintsService.excise)."""
        for hf in list(self._files.get(host_id, ())):
            self._delete(host_id, hf)
        self._files.pop(host_id, None)

    def on_ring_change(self, endpoint: Endpoint) -> None:
        tm = self.storage_service.token_metadata
        if (endpoint.host_id in self._files and not tm.is_member(endpoint)
                and endpoint not in tm.bootstrapping_endpoints()):
            self.excise(endpoint.host_id)

    # --- replay -----------------------------------------------------------------------------------

    def on_alive(self, endpoint: Endpoint, state: Any) -> None:
        if endpoint.host_id in self._files:
            self.timer.call_later(0.0, self.dispatch, endpoint.host_id)

    def _periodic(self) -> None:
        self._timer = None
        if self.closed:
            return
        for host in self.pending_hosts():
            endpoint = self.storage_service.endpoint_for_host_id(host)
            if endpoint is not None and self.storage_service.is_alive(endpoint):
                self.dispatch(host)
        self.start()

    def dispatch(self, host_id: uuid.UUID) -> None:
        """Replay one host's hints, a file at a time, if the host is alive; idempotent to repeat."""
        if self.closed or host_id in self._dispatching:
            return
        endpoint = self.storage_service.endpoint_for_host_id(host_id)
        if endpoint is None or not self.storage_service.is_alive(endpoint):
            return
        files = self._files.get(host_id)
        if not files:
            return
        for f in files:
            f.close()                                  # new hints go to a fresh file
        self._dispatching.add(host_id)
        self._dispatch_file(host_id, endpoint, iter(list(files)))

    def _dispatch_file(self, host_id: uuid.UUID, endpoint: Endpoint, files: Iterator[HintsFile]) -> None:
        hf = next(files, None)
        if hf is None or self.closed:
            self._dispatching.discard(host_id)
            if not self._files.get(host_id):
                self._files.pop(host_id, None)
            return
        outstanding = {"n": len(hf.hints), "failed": False}

        def finished() -> None:
            if outstanding["failed"]:
                self._dispatching.discard(host_id)
                return
            self._delete(host_id, hf)
            self._dispatch_file(host_id, endpoint, files)

        def acked(_: Message) -> None:
            outstanding["n"] -= 1
            self.delivered += 1
            if outstanding["n"] == 0:
                finished()

        def failed(*_: Any) -> None:
            outstanding["n"] -= 1
            outstanding["failed"] = True
            if outstanding["n"] == 0:
                finished()

        if not hf.hints:
            finished()
            return
        for hint in hf.hints:
            self.messaging.send_with_callback(endpoint, Verb.HINT_REQ, {"updates": hint.updates},
                                              acked, failed, timeout=self.delivery_timeout)

    def _delete(self, host_id: uuid.UUID, hf: HintsFile) -> None:
        hf.close()
        try:
            os.remove(hf.path)
        except FileNotFoundError:
            pass
        files = self._files.get(host_id, [])
        if hf in files:
            files.remove(hf)
