"""Internode messaging: versioned frames, a self-describing payload codec, request/response by id, TCP.

Frame (all integers big-endian; changing anything here needs a new FRAME_VERSION)::

    [u32 magic 0xCA552DFA][u8 version][u32 length]                   prefix, 9 bytes
    [u8 verb][u64 message id][u8 flags]
    [u16 n][n bytes sender "address:port", utf-8][16 bytes sender host id]
    [payload, encoded as below]                                      `length` counts verb .. payload
    [u32 crc32 of version .. payload]

``length`` is at most ``max_frame_size`` (16 MiB by default); a larger, truncated, or corrupt frame
(bad magic, version, crc, verb, or payload) raises ``FrameError`` and costs only its connection.
Flags: RESPONSE (answers the request with the same id), FAILURE (a failed response: payload
``{"reason": name, "detail": text}``), EXPECTS_RESPONSE (the sender registered a callback).

Payload values (no pickle, no eval), one tag byte each::

    0x00 None  0x01 False  0x02 True  0x03 int [i64]  0x04 big int [u32 n][n bytes, signed]
    0x05 float [f64]  0x06 str [u32 n][utf-8]  0x07 bytes [u32 n][raw]  0x08 uuid [16 bytes]
    0x09 list [u32 count][value]*  (tuples encode as lists)
    0x0A map  [u32 count][key value]*  (keys: None, bool, int, float, str, bytes, uuid)

``MessagingService`` is the interface (handlers per verb, one-way ``send``, ``send_with_callback``
with a timeout per request, ``respond``); it runs on a timer with asyncio's ``time()`` /
``call_later()`` shape, so the same code runs on an event loop (``TcpMessagingService``, in
messaging_tcp.py) or on the fake scheduler of simulated_network.py.
"""
from __future__ import annotations

import enum
import itertools
import logging
import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from .endpoints import Endpoint

log = logging.getLogger(__name__)

MAGIC = 0xCA552DFA               # Cassandra's PROTOCOL_MAGIC; do not change
FRAME_VERSION = 1                # bump when the layout below changes
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024
MAX_NESTING = 32

PREFIX = struct.Struct(">IBI")              # magic, version, length
HEADER = struct.Struct(">BQBH")             # verb, id, flags, sender length
CRC = struct.Struct(">I")
HOST_ID_SIZE = 16

FLAG_RESPONSE = 0x01
FLAG_FAILURE = 0x02
FLAG_EXPECTS_RESPONSE = 0x04
KNOWN_FLAGS = FLAG_RESPONSE | FLAG_FAILURE | FLAG_EXPECTS_RESPONSE


class FrameError(ValueError):
    """A frame or payload that cannot be decoded (truncated, corrupt, too large, unknown verb)."""


class IncompleteFrame(FrameError):
    """More bytes are needed; ``needed`` is the full frame size when known, else 0."""

    def __init__(self, message: str, needed: int = 0) -> None:
        super().__init__(message)
        self.needed = needed


class Verb(enum.IntEnum):
    """Message kinds. Names follow Cassandra's ``Verb``; the numbers are ours (one byte on the wire)."""

    MUTATION_REQ = 0
    HINT_REQ = 1
    READ_REPAIR_REQ = 2
    READ_REQ = 3
    BATCH_STORE_REQ = 5
    BATCH_REMOVE_REQ = 6
    RANGE_REQ = 9
    TRUNCATE_REQ = 10
    GOSSIP_DIGEST_SYN = 14
    GOSSIP_DIGEST_ACK = 15
    GOSSIP_DIGEST_ACK2 = 16
    SCHEMA_PUSH_REQ = 18
    SCHEMA_PULL_REQ = 19
    SCHEMA_VERSION_REQ = 20
    REPLICATION_DONE_REQ = 22
    GOSSIP_SHUTDOWN = 29
    ECHO_REQ = 31
    PAXOS_PREPARE_REQ = 33
    PAXOS_PROPOSE_REQ = 34
    PAXOS_COMMIT_REQ = 35
    PING_REQ = 37
    STREAM_REQ = 40
    MUTATION_RSP = 60
    HINT_RSP = 61
    READ_REPAIR_RSP = 62
    READ_RSP = 63
    BATCH_STORE_RSP = 65
    BATCH_REMOVE_RSP = 66
    RANGE_RSP = 69
    TRUNCATE_RSP = 70
    SCHEMA_PULL_RSP = 79
    SCHEMA_VERSION_RSP = 80
    STREAM_RSP = 81
    ECHO_RSP = 91
    PAXOS_PREPARE_RSP = 93
    PAXOS_PROPOSE_RSP = 94
    PAXOS_COMMIT_RSP = 95
    PING_RSP = 97
    FAILURE_RSP = 99
    REQUEST_RSP = 100            # generic answer (SCHEMA_PUSH, REPLICATION_DONE, ...)

    @property
    def response_verb(self) -> "Verb":
        return _RESPONSE_VERBS.get(self, Verb.REQUEST_RSP)

    @property
    def timeout(self) -> float:
        """Default seconds to wait for the answer (cassandra.yaml's *_request_timeout)."""
        return _TIMEOUTS.get(self, 10.0)


_RESPONSE_VERBS = {
    Verb.MUTATION_REQ: Verb.MUTATION_RSP, Verb.HINT_REQ: Verb.HINT_RSP,
    Verb.READ_REPAIR_REQ: Verb.READ_REPAIR_RSP, Verb.READ_REQ: Verb.READ_RSP,
    Verb.RANGE_REQ: Verb.RANGE_RSP, Verb.TRUNCATE_REQ: Verb.TRUNCATE_RSP,
    Verb.SCHEMA_PULL_REQ: Verb.SCHEMA_PULL_RSP, Verb.SCHEMA_VERSION_REQ: Verb.SCHEMA_VERSION_RSP,
    Verb.ECHO_REQ: Verb.ECHO_RSP, Verb.PING_REQ: Verb.PING_RSP, Verb.STREAM_REQ: Verb.STREAM_RSP,
    Verb.BATCH_STORE_REQ: Verb.BATCH_STORE_RSP, Verb.BATCH_REMOVE_REQ: Verb.BATCH_REMOVE_RSP,
    Verb.PAXOS_PREPARE_REQ: Verb.PAXOS_PREPARE_RSP, Verb.PAXOS_PROPOSE_REQ: Verb.PAXOS_PROPOSE_RSP,
    Verb.PAXOS_COMMIT_REQ: Verb.PAXOS_COMMIT_RSP,
}
_TIMEOUTS = {
    Verb.MUTATION_REQ: 2.0, Verb.HINT_REQ: 2.0, Verb.READ_REPAIR_REQ: 2.0, Verb.READ_REQ: 5.0,
    Verb.RANGE_REQ: 10.0, Verb.TRUNCATE_REQ: 60.0,
    Verb.BATCH_STORE_REQ: 2.0, Verb.BATCH_REMOVE_REQ: 2.0,
    Verb.PAXOS_PREPARE_REQ: 2.0, Verb.PAXOS_PROPOSE_REQ: 2.0, Verb.PAXOS_COMMIT_REQ: 2.0,
}


class RequestFailureReason(enum.Enum):
    """Why a request callback failed (Cassandra's ``RequestFailureReason``, plus TIMEOUT)."""

    UNKNOWN = "UNKNOWN"
    TIMEOUT = "TIMEOUT"
    READ_TOO_MANY_TOMBSTONES = "READ_TOO_MANY_TOMBSTONES"
    INCOMPATIBLE_SCHEMA = "INCOMPATIBLE_SCHEMA"
    UNREACHABLE = "UNREACHABLE"


@dataclass(frozen=True, slots=True)
class Message:
    """One internode message; ``sender`` is filled in by the messaging service that sends it."""

    verb: Verb
    payload: Any = None
    id: int = 0
    flags: int = 0
    sender: Endpoint | None = None

    @property
    def is_response(self) -> bool:
        return bool(self.flags & FLAG_RESPONSE)

    @property
    def is_failure(self) -> bool:
        return bool(self.flags & FLAG_FAILURE)

    @property
    def expects_response(self) -> bool:
        return bool(self.flags & FLAG_EXPECTS_RESPONSE)


# --- payload codec ---------------------------------------------------------------------------------

_I64 = struct.Struct(">q")
_F64 = struct.Struct(">d")
_U32 = struct.Struct(">I")
_KEY_TYPES = (type(None), bool, int, float, str, bytes, uuid.UUID)


def encode_value(value: Any) -> bytes:
    """Encode a payload value (None, bool, int, float, str, bytes, UUID, list/tuple, dict)."""
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_NESTING:
        raise ValueError("payload nested too deeply")
    if value is None:
        out.append(0x00)
    elif value is False or value is True:
        out.append(0x02 if value else 0x01)
    elif isinstance(value, int):
        if -(1 << 63) <= value < (1 << 63):
            out.append(0x03)
            out += _I64.pack(value)
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)
            out.append(0x04)
            out += _U32.pack(len(raw)) + raw
    elif isinstance(value, float):
        out.append(0x05)
        out += _F64.pack(value)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out.append(0x06)
        out += _U32.pack(len(raw)) + raw
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out.append(0x07)
        out += _U32.pack(len(raw)) + raw
    elif isinstance(value, uuid.UUID):
        out.append(0x08)
        out += value.bytes
    elif isinstance(value, (list, tuple)):
        out.append(0x09)
        out += _U32.pack(len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, dict):
        out.append(0x0A)
        out += _U32.pack(len(value))
        for key, item in value.items():
            if not isinstance(key, _KEY_TYPES):
                raise TypeError(f"cannot encode a map key of type {type(key).__name__}")
            _encode(key, out, depth + 1)
            _encode(item, out, depth + 1)
    else:
        raise TypeError(f"cannot encode a payload value of type {type(value).__name__}")


def decode_value(data: bytes | memoryview) -> Any:
    """Inverse of ``encode_value``; raises FrameError on truncated, trailing or unknown bytes."""
    view = memoryview(data)
    value, pos = _decode(view, 0, 0)
    if pos != len(view):
        raise FrameError(f"{len(view) - pos} trailing bytes after the payload")
    return value


def _take(view: memoryview, pos: int, n: int) -> int:
    if pos + n > len(view):
        raise FrameError("truncated payload")
    return pos + n


def _decode(view: memoryview, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_NESTING:
        raise FrameError("payload nested too deeply")
    end = _take(view, pos, 1)
    tag = view[pos]
    pos = end
    if tag <= 0x02:
        return (None, False, True)[tag], pos
    if tag == 0x03:
        end = _take(view, pos, 8)
        return _I64.unpack_from(view, pos)[0], end
    if tag == 0x05:
        end = _take(view, pos, 8)
        return _F64.unpack_from(view, pos)[0], end
    if tag == 0x08:
        end = _take(view, pos, 16)
        return uuid.UUID(bytes=bytes(view[pos:end])), end
    if tag not in (0x04, 0x06, 0x07, 0x09, 0x0A):
        raise FrameError(f"unknown payload tag 0x{tag:02x}")
    end = _take(view, pos, 4)
    n = _U32.unpack_from(view, pos)[0]
    pos = end
    if tag in (0x04, 0x06, 0x07):
        end = _take(view, pos, n)
        raw = bytes(view[pos:end])
        if tag == 0x04:
            return int.from_bytes(raw, "big", signed=True), end
        if tag == 0x07:
            return raw, end
        try:
            return raw.decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise FrameError("invalid utf-8 in a payload string") from exc
    if n > len(view) - pos:           # every item takes at least one byte
        raise FrameError("truncated payload")
    if tag == 0x09:
        items = []
        for _ in range(n):
            item, pos = _decode(view, pos, depth + 1)
            items.append(item)
        return items, pos
    result = {}
    for _ in range(n):
        key, pos = _decode(view, pos, depth + 1)
        if not isinstance(key, _KEY_TYPES):
            raise FrameError("unhashable map key in payload")
        result[key], pos = _decode(view, pos, depth + 1)
    return result, pos


# --- frames ----------------------------------------------------------------------------------------

def encode_frame(message: Message, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Serialize a message (its sender must be set) into one frame."""
    if message.sender is None:
        raise ValueError("a message needs a sender before it is framed")
    sender = str(message.sender).encode("utf-8")
    payload = encode_value(message.payload)
    body = b"".join((HEADER.pack(int(message.verb), message.id, message.flags, len(sender)), sender,
                     message.sender.host_id.bytes, payload))
    if len(body) > max_frame_size:
        raise ValueError(f"message of {len(body)} bytes exceeds the frame limit {max_frame_size}")
    head = PREFIX.pack(MAGIC, FRAME_VERSION, len(body))
    return head + body + CRC.pack(zlib.crc32(body, zlib.crc32(head[4:])))


def parse_prefix(prefix: bytes, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> int:
    """Check the 9-byte prefix; return the number of bytes that follow it (body + crc)."""
    if len(prefix) < PREFIX.size:
        raise IncompleteFrame("truncated frame prefix")
    magic, version, length = PREFIX.unpack_from(prefix)
    if magic != MAGIC:
        raise FrameError(f"bad magic 0x{magic:08x}")
    if version != FRAME_VERSION:
        raise FrameError(f"unsupported frame version {version}")
    if length > max_frame_size:
        raise FrameError(f"frame of {length} bytes exceeds the limit {max_frame_size}")
    if length < HEADER.size + HOST_ID_SIZE + 1:
        raise FrameError(f"frame length {length} is too short")
    return length + CRC.size


def decode_frame(data: bytes, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> tuple[Message, int]:
    """Decode the frame at the start of ``data``; return (message, bytes consumed).

    Raises IncompleteFrame when ``data`` holds only part of a frame, FrameError when it is corrupt."""
    rest = parse_prefix(data, max_frame_size)
    total = PREFIX.size + rest
    if len(data) < total:
        raise IncompleteFrame("truncated frame", total)
    view = memoryview(data)[:total]
    body = view[PREFIX.size:total - CRC.size]
    (expected,) = CRC.unpack_from(view, total - CRC.size)
    if zlib.crc32(body, zlib.crc32(view[4:PREFIX.size])) != expected:
        raise FrameError("frame checksum mismatch")
    verb_id, message_id, flags, sender_len = HEADER.unpack_from(body)
    try:
        verb = Verb(verb_id)
    except ValueError:
        raise FrameError(f"unknown verb {verb_id}") from None
    if flags & ~KNOWN_FLAGS:
        raise FrameError(f"unknown flags 0x{flags:02x}")
    pos = HEADER.size + sender_len
    if pos + HOST_ID_SIZE > len(body):
        raise FrameError("truncated frame header")
    try:
        address = bytes(body[HEADER.size:pos]).decode("utf-8")
        host_id = uuid.UUID(bytes=bytes(body[pos:pos + HOST_ID_SIZE]))
        sender = Endpoint.parse(address, host_id)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"bad sender in frame: {exc}") from None
    payload = decode_value(body[pos + HOST_ID_SIZE:])
    return Message(verb, payload, message_id, flags, sender), total


# --- the service -----------------------------------------------------------------------------------

class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Timer(Protocol):
    """What messaging and gossip need from a clock: asyncio's event-loop shape."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle: ...


Handler = Callable[[Message], None]
ResponseCallback = Callable[[Message], None]
FailureCallback = Callable[[Endpoint, RequestFailureReason, str], None]


@dataclass(slots=True)
class _Callback:
    to: Endpoint
    on_response: ResponseCallback
    on_failure: FailureCallback | None
    timer: TimerHandle | None = None


class MessagingService:
    """Handlers per verb, one-way sends, and request/response matched by message id.

    Subclasses move frames (``_transmit``) and hand arrivals to ``_receive``.  Callbacks and
    handlers run on the service's timer (the event loop, or the simulated scheduler)."""

    def __init__(self, local: Endpoint, timer: Timer) -> None:
        self.local = local
        self.timer = timer
        self._handlers: dict[Verb, Handler] = {}
        self._callbacks: dict[int, _Callback] = {}
        self._ids = itertools.count(1)
        self.closed = False

    # interface -------------------------------------------------------------------------------------
    def register_handler(self, verb: Verb, handler: Handler) -> None:
        self._handlers[verb] = handler

    def remove_handler(self, verb: Verb) -> None:
        self._handlers.pop(verb, None)

    def send(self, to: Endpoint, verb: Verb, payload: Any = None) -> int:
        """Fire and forget; returns the message id."""
        message = Message(verb, payload, next(self._ids), 0, self.local)
        self._call_in_loop(self._transmit, to, message)
        return message.id

    def send_with_callback(self, to: Endpoint, verb: Verb, payload: Any,
                           on_response: ResponseCallback, on_failure: FailureCallback | None = None,
                           timeout: float | None = None) -> int:
        """Send a request; exactly one of on_response / on_failure is called later (or neither
        after close).  A response from an endpoint other than ``to`` is ignored."""
        message = Message(verb, payload, next(self._ids), FLAG_EXPECTS_RESPONSE, self.local)
        self._call_in_loop(self._send_request, to, message, on_response, on_failure,
                           verb.timeout if timeout is None else timeout)
        return message.id

    def respond(self, request: Message, payload: Any = None, verb: Verb | None = None) -> None:
        if request.sender is None:
            return
        response = Message(verb or request.verb.response_verb, payload, request.id, FLAG_RESPONSE,
                           self.local)
        self._call_in_loop(self._transmit, request.sender, response)

    def respond_failure(self, request: Message, reason: RequestFailureReason = RequestFailureReason.UNKNOWN,
                        detail: str = "") -> None:
        if request.sender is None:
            return
        response = Message(Verb.FAILURE_RSP, {"reason": reason.value, "detail": detail}, request.id,
                           FLAG_RESPONSE | FLAG_FAILURE, self.local)
        self._call_in_loop(self._transmit, request.sender, response)

    @property
    def pending_requests(self) -> int:
        return len(self._callbacks)

    def close(self) -> None:
        """Stop: pending callbacks are dropped (never called), handlers no longer run."""
        self.closed = True
        for callback in self._callbacks.values():
            if callback.timer is not None:
                callback.timer.cancel()
        self._callbacks.clear()

    # for subclasses --------------------------------------------------------------------------------
    def _transmit(self, to: Endpoint, message: Message) -> None:
        raise NotImplementedError

    def _call_in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def _send_request(self, to: Endpoint, message: Message, on_response: ResponseCallback,
                      on_failure: FailureCallback | None, timeout: float) -> None:
        if self.closed:
            return
        callback = _Callback(to, on_response, on_failure)
        self._callbacks[message.id] = callback
        callback.timer = self.timer.call_later(timeout, self._expire, message.id)
        try:
            self._transmit(to, message)
        except (TypeError, ValueError) as exc:     # payload that cannot be encoded
            self._fail(message.id, RequestFailureReason.UNKNOWN, str(exc))
            raise

    def _expire(self, message_id: int) -> None:
        self._fail(message_id, RequestFailureReason.TIMEOUT, "timed out")

    def _fail(self, message_id: int, reason: RequestFailureReason, detail: str) -> None:
        callback = self._callbacks.pop(message_id, None)
        if callback is None:
            return
        if callback.timer is not None:
            callback.timer.cancel()
        if callback.on_failure is not None:
            self._run(callback.on_failure, callback.to, reason, detail)

    def _receive(self, message: Message) -> None:
        """Dispatch an arrival: a response to its callback, a request to its verb's handler."""
        if self.closed:
            return
        if message.is_response:
            callback = self._callbacks.get(message.id)
            if callback is None or not _same_address(callback.to, message.sender):
                return                            # late (already timed out) or not ours
            del self._callbacks[message.id]
            if callback.timer is not None:
                callback.timer.cancel()
            if message.is_failure:
                payload = message.payload if isinstance(message.payload, dict) else {}
                try:
                    reason = RequestFailureReason(payload.get("reason"))
                except ValueError:
                    reason = RequestFailureReason.UNKNOWN
                if callback.on_failure is not None:
                    self._run(callback.on_failure, callback.to, reason, str(payload.get("detail", "")))
            else:
                self._run(callback.on_response, message)
            return
        handler = self._handlers.get(message.verb)
        if handler is None:
            log.debug("%s: no handler for %s from %s", self.local, message.verb.name, message.sender)
            if message.expects_response:
                self.respond_failure(message, RequestFailureReason.UNKNOWN, f"no handler for {message.verb.name}")
            return
        try:
            handler(message)
        except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the connection
            log.exception("%s: handler for %s failed", self.local, message.verb.name)
            if message.expects_response:
                self.respond_failure(message, RequestFailureReason.UNKNOWN, f"{type(exc).__name__}: {exc}")

    def _run(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001
            log.exception("%s: messaging callback failed", self.local)


def _same_address(a: Endpoint, b: Endpoint | None) -> bool:
    return b is not None and a.address == b.address and a.port == b.port
