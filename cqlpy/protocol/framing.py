"""A message in a frame and out again: ``encode_message`` / ``decode_message``.

``encode_message`` writes the header, the optional body prefixes and the body, compressing it when
a compressor was negotiated; ``decode_message`` does the reverse and picks the message class from
the opcode and the direction bit.  Prefixes, in this order, each present only when its header flag
is set::

    tracing (0x02)         [uuid] tracing session id           responses only
    warning (0x08)         [string list] warnings              responses only
    custom payload (0x04)  [bytes map]                         both directions

A request's tracing flag asks the server to trace it (no prefix).  A body with bytes left over
after its message is a FrameError, like any other malformed body.
"""
from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

from .error_messages import ErrorMessage
from .frame import (
    PROTOCOL_VERSION,
    RESPONSE,
    SPEC_MAX_FRAME_SIZE,
    BodyReader,
    BodyWriter,
    Compressor,
    Flag,
    FrameError,
    Header,
    Opcode,
    encode_frame,
)
from .messages import (
    AuthChallenge,
    Authenticate,
    AuthResponse,
    AuthSuccess,
    Batch,
    Event,
    Execute,
    Message,
    Options,
    Prepare,
    Query,
    Ready,
    Register,
    Startup,
    Supported,
)
from .results import Result

# the flags as plain ints: an IntFlag operation costs a Python call, and these run on every frame
_COMPRESSED, _TRACING, _CUSTOM_PAYLOAD, _WARNING = (
    int(f) for f in (Flag.COMPRESSED, Flag.TRACING, Flag.CUSTOM_PAYLOAD, Flag.WARNING))

REQUESTS: dict[int, type[Message]] = {m.opcode: m for m in (
    Startup, Options, Query, Prepare, Execute, Batch, Register, AuthResponse)}
RESPONSES: dict[int, type[Message]] = {m.opcode: m for m in (
    ErrorMessage, Ready, Authenticate, Supported, Result, Event, AuthChallenge, AuthSuccess)}


def encode_message(msg: Message, stream: int, *, compressor: Compressor | None = None,
                   tracing_id: uuidlib.UUID | None = None,
                   custom_payload: dict[str, bytes | None] | None = None,
                   version: int = PROTOCOL_VERSION) -> bytes:
    """The whole frame for ``msg`` on ``stream`` (a response when ``msg`` is one)."""
    w = BodyWriter()
    flags = 0
    if not msg.is_request:
        if tracing_id is not None:
            flags |= _TRACING
            w.write_uuid(tracing_id)
        warnings = getattr(msg, "warnings", None)
        if warnings:
            flags |= _WARNING
            w.write_string_list(list(warnings))
    elif tracing_id is not None:
        flags |= _TRACING
    if custom_payload:
        flags |= _CUSTOM_PAYLOAD
        w.write_bytes_map(custom_payload)
    msg.encode_body(w)
    body = w.getvalue()
    if compressor is not None and msg.opcode not in (Opcode.STARTUP, Opcode.OPTIONS):
        body = compressor.compress(body)
        flags |= _COMPRESSED
    return encode_frame((version & 0x7F) | (0 if msg.is_request else RESPONSE), flags, stream,
                        int(msg.opcode), body)


@dataclass
class Envelope:
    """A decoded frame: its header, message and the optional prefixes."""

    header: Header
    message: Message
    tracing_id: uuidlib.UUID | None = None
    warnings: list[str] | None = None
    custom_payload: dict[str, bytes | None] | None = None

    @property
    def stream(self) -> int:
        return self.header.stream


def decode_message(header: Header, body: bytes, *, compressor: Compressor | None = None,
                   max_size: int = SPEC_MAX_FRAME_SIZE) -> Envelope:
    """Decode one frame body.  Unknown opcodes, trailing bytes and bad fields are FrameErrors."""
    if header.flags & _COMPRESSED:
        if compressor is None:
            raise FrameError("Received a compressed frame but no compression was negotiated")
        body = compressor.decompress(body, max_size)
    response = header.is_response
    if response:
        cls = RESPONSES.get(header.opcode)
    else:
        cls = REQUESTS.get(header.opcode)
    if cls is None:
        direction = "response" if response else "request"
        raise FrameError(f"Unknown or unexpected {direction} opcode 0x{header.opcode:02x}")
    r = BodyReader(body)
    env = Envelope(header, Message())
    if response and header.flags & _TRACING:
        env.tracing_id = r.read_uuid()
    if response and header.flags & _WARNING:
        env.warnings = r.read_string_list()
    if header.flags & _CUSTOM_PAYLOAD:
        env.custom_payload = r.read_bytes_map()
    env.message = cls.decode_body(r)
    if env.warnings:
        env.message.warnings = env.warnings  # type: ignore[attr-defined]
    if r.remaining:
        raise FrameError(f"{r.remaining} unexpected bytes after the {Opcode(header.opcode).name} body")
    return env
