"""Native protocol v4 frames: the 9-byte header, the body notations, and body compression.

Frame layout (all integers big-endian)::

    byte 0     version   0x04 request, 0x84 response (the top bit is the direction)
    byte 1     flags     0x01 compressed, 0x02 tracing, 0x04 custom payload, 0x08 warning, 0x10 USE_BETA
    bytes 2-3  stream    signed i16; clients use >= 0, server-pushed EVENTs use -1
    byte 4     opcode    see Opcode
    bytes 5-8  length    i32 body length; a frame longer than the server's maximum is refused

Body notations (``BodyReader.read_*`` / ``BodyWriter.write_*``)::

    [byte]            u8                        [short]       u16
    [int]             i32                       [long]        i64
    [string]          [short] n + n UTF-8 bytes [long string] [int] n + n UTF-8 bytes
    [bytes]           [int] n + n bytes; n < 0 is null (None)
    [value]           [int] n + n bytes; n = -1 is null (None), n = -2 is "not set" (NOT_SET)
    [short bytes]     [short] n + n bytes       [uuid]        16 bytes
    [string list]     [short] n + n x [string]  [string map]  [short] n + n x ([string] key, [string] value)
    [string multimap] [short] n + n x ([string] key, [string list] values)
    [bytes map]       [short] n + n x ([string] key, [bytes] value)
    [inet]            [byte] size (4 or 16) + address bytes + [int] port
    [consistency]     [short], see Consistency

Every read checks the bytes present before it uses a length, so a malformed body raises
``FrameError`` (a ProtocolError: the server answers 0x000A and closes that connection), never
allocates what the peer merely claims, and never reads past the frame.

Compression (negotiated in STARTUP, the body only, never the header): ``lz4`` is the body's
uncompressed length as a big-endian [int] followed by an LZ4 block.  ``snappy`` is not offered.
"""
from __future__ import annotations

import enum
import ipaddress
import struct
import uuid as uuidlib
from dataclasses import dataclass

from cqlpy.errors import ProtocolError

PROTOCOL_VERSION = 4                        # the only version cqlpy speaks
RESPONSE = 0x80                              # direction bit of the version byte
HEADER = struct.Struct(">BBhBi")             # version, flags, stream, opcode, length
HEADER_SIZE = HEADER.size                    # 9 in v3, v4 and v5 (v5 frames start with the same header)
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024    # 16 MiB, Cassandra's native_transport_max_frame_size
SPEC_MAX_FRAME_SIZE = 256 * 1024 * 1024      # the spec's absolute limit
EVENT_STREAM = -1


class Opcode(enum.IntEnum):
    ERROR = 0x00
    STARTUP = 0x01
    READY = 0x02
    AUTHENTICATE = 0x03
    OPTIONS = 0x05
    SUPPORTED = 0x06
    QUERY = 0x07
    RESULT = 0x08
    PREPARE = 0x09
    EXECUTE = 0x0A
    REGISTER = 0x0B
    EVENT = 0x0C
    BATCH = 0x0D
    AUTH_CHALLENGE = 0x0E
    AUTH_RESPONSE = 0x0F
    AUTH_SUCCESS = 0x10


class Flag(enum.IntFlag):
    NONE = 0x00
    COMPRESSED = 0x01
    TRACING = 0x02
    CUSTOM_PAYLOAD = 0x04
    WARNING = 0x08
    USE_BETA = 0x10


class Consistency(enum.IntEnum):
    ANY = 0x0000
    ONE = 0x0001
    TWO = 0x0002
    THREE = 0x0003
    QUORUM = 0x0004
    ALL = 0x0005
    LOCAL_QUORUM = 0x0006
    EACH_QUORUM = 0x0007
    SERIAL = 0x0008
    LOCAL_SERIAL = 0x0009
    LOCAL_ONE = 0x000A


_CONSISTENCIES = {int(c): c for c in Consistency}   # a dict lookup is cheaper than Consistency(v)


class FrameError(ProtocolError):
    """A frame or body that breaks the protocol (truncated, oversized, a bad value)."""


class _NotSet:
    """The [value] "not set" marker (length -2): a bound value that writes nothing."""

    _instance: "_NotSet | None" = None

    def __new__(cls) -> "_NotSet":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_SET"

    def __reduce__(self) -> str:
        return "NOT_SET"


NOT_SET = _NotSet()


@dataclass(frozen=True, slots=True)
class Header:
    """The 9-byte frame header.  ``version`` is the raw byte (direction bit included)."""

    version: int
    flags: int
    stream: int
    opcode: int
    length: int

    @property
    def protocol_version(self) -> int:
        return self.version & 0x7F

    @property
    def is_response(self) -> bool:
        return bool(self.version & RESPONSE)

    def pack(self) -> bytes:
        return HEADER.pack(self.version, self.flags, self.stream, self.opcode, self.length)


def parse_header(data: bytes | bytearray | memoryview) -> Header:
    """The header in the first 9 bytes of ``data``.  A negative length is a FrameError."""
    if len(data) < HEADER_SIZE:
        raise FrameError(f"Truncated frame header: {len(data)} of {HEADER_SIZE} bytes")
    version, flags, stream, opcode, length = HEADER.unpack_from(data, 0)
    if length < 0:
        raise FrameError(f"Invalid frame body length {length}")
    return Header(version, flags, stream, opcode, length)


def encode_frame(version: int, flags: int, stream: int, opcode: int, body: bytes) -> bytes:
    """Header + body.  ``version`` is the raw byte (0x04 for a request, 0x84 for a response)."""
    return HEADER.pack(version, flags, stream, opcode, len(body)) + body


# --- body primitives ------------------------------------------------------------------------------

_BYTE = struct.Struct(">B")
_SHORT = struct.Struct(">H")
_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")


class BodyReader:
    """Reads the notations of a frame body from ``data`` at ``pos``, checking every bound."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.data = bytes(data)
        self.pos = pos
        self.end = len(self.data)

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def _take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise FrameError(f"Not enough bytes to read {what}: need {n}, have {self.remaining}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def _unpack(self, st: struct.Struct, what: str) -> int:
        if self.pos + st.size > self.end:
            raise FrameError(f"Not enough bytes to read {what}: need {st.size}, have {self.remaining}")
        value = st.unpack_from(self.data, self.pos)[0]
        self.pos += st.size
        return value

    def _count(self, min_item_size: int, what: str) -> int:
        """A [short] count, checked against the bytes left (each item needs ``min_item_size``)."""
        n = self._unpack(_SHORT, what)
        if n * min_item_size > self.remaining:
            raise FrameError(f"{what} claims {n} items but only {self.remaining} bytes remain")
        return n

    def read_byte(self) -> int:
        return self._unpack(_BYTE, "[byte]")

    def read_short(self) -> int:
        return self._unpack(_SHORT, "[short]")

    def read_int(self) -> int:
        return self._unpack(_INT, "[int]")

    def read_long(self) -> int:
        return self._unpack(_LONG, "[long]")

    def _utf8(self, raw: bytes, what: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FrameError(f"Invalid UTF-8 in {what}") from None

    def read_string(self) -> str:
        n = self.read_short()
        return self._utf8(self._take(n, "[string]"), "[string]")

    def read_long_string(self) -> str:
        n = self.read_int()
        if n < 0:
            raise FrameError(f"Invalid [long string] length {n}")
        return self._utf8(self._take(n, "[long string]"), "[long string]")

    def read_bytes(self) -> bytes | None:
        n = self.read_int()
        if n < 0:
            return None
        return self._take(n, "[bytes]")

    def read_value(self) -> bytes | None | _NotSet:
        n = self.read_int()
        if n == -1:
            return None
        if n == -2:
            return NOT_SET
        if n < 0:
            raise FrameError(f"Invalid [value] length {n}")
        return self._take(n, "[value]")

    def read_short_bytes(self) -> bytes:
        n = self.read_short()
        return self._take(n, "[short bytes]")

    def read_uuid(self) -> uuidlib.UUID:
        return uuidlib.UUID(bytes=self._take(16, "[uuid]"))

    def read_string_list(self) -> list[str]:
        n = self._count(2, "[string list]")
        return [self.read_string() for _ in range(n)]

    def read_string_map(self) -> dict[str, str]:
        n = self._count(4, "[string map]")
        out: dict[str, str] = {}
        for _ in range(n):
            key = self.read_string()
            out[key] = self.read_string()
        return out

    def read_string_multimap(self) -> dict[str, list[str]]:
        n = self._count(4, "[string multimap]")
        out: dict[str, list[str]] = {}
        for _ in range(n):
            key = self.read_string()
            out[key] = self.read_string_list()
        return out

    def read_bytes_map(self) -> dict[str, bytes | None]:
        n = self._count(6, "[bytes map]")
        out: dict[str, bytes | None] = {}
        for _ in range(n):
            key = self.read_string()
            out[key] = self.read_bytes()
        return out

    def read_inet(self) -> tuple[str, int]:
        size = self.read_byte()
        if size not in (4, 16):
            raise FrameError(f"Invalid [inet] address size {size}")
        address = ipaddress.ip_address(self._take(size, "[inet]"))
        return str(address), self.read_int()

    def read_consistency(self) -> Consistency:
        value = self.read_short()
        level = _CONSISTENCIES.get(value)
        if level is None:
            raise FrameError(f"Unknown consistency level 0x{value:04x}")
        return level

    def read_rest(self) -> bytes:
        return self._take(self.remaining, "the rest of the body")


class BodyWriter:
    """Builds a frame body from the notations; ``getvalue()`` gives the bytes."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def write_byte(self, v: int) -> None:
        self.buf += _BYTE.pack(v)

    def write_short(self, v: int) -> None:
        self.buf += _SHORT.pack(v)

    def write_int(self, v: int) -> None:
        self.buf += _INT.pack(v)

    def write_long(self, v: int) -> None:
        self.buf += _LONG.pack(v)

    def write_raw(self, data: bytes) -> None:
        self.buf += data

    def write_string(self, s: str) -> None:
        data = s.encode("utf-8")
        if len(data) > 0xFFFF:
            raise FrameError(f"[string] too long: {len(data)} bytes")
        self.buf += _SHORT.pack(len(data)) + data

    def write_long_string(self, s: str) -> None:
        data = s.encode("utf-8")
        self.buf += _INT.pack(len(data)) + data

    def write_bytes(self, data: bytes | None) -> None:
        if data is None:
            self.buf += _INT.pack(-1)
        else:
            self.buf += _INT.pack(len(data))
            self.buf += data

    def write_value(self, data: bytes | None | _NotSet) -> None:
        if data is NOT_SET:
            self.buf += _INT.pack(-2)
        else:
            self.write_bytes(data)  # type: ignore[arg-type]

    def write_short_bytes(self, data: bytes) -> None:
        if len(data) > 0xFFFF:
            raise FrameError(f"[short bytes] too long: {len(data)} bytes")
        self.buf += _SHORT.pack(len(data)) + data

    def write_uuid(self, u: uuidlib.UUID) -> None:
        self.buf += u.bytes

    def write_string_list(self, items: list[str] | tuple[str, ...]) -> None:
        self.write_short(len(items))
        for s in items:
            self.write_string(s)

    def write_string_map(self, m: dict[str, str]) -> None:
        self.write_short(len(m))
        for k, v in m.items():
            self.write_string(k)
            self.write_string(v)

    def write_string_multimap(self, m: dict[str, list[str]]) -> None:
        self.write_short(len(m))
        for k, v in m.items():
            self.write_string(k)
            self.write_string_list(v)

    def write_bytes_map(self, m: dict[str, bytes | None]) -> None:
        self.write_short(len(m))
        for k, v in m.items():
            self.write_string(k)
            self.write_bytes(v)

    def write_inet(self, address: str, port: int) -> None:
        packed = ipaddress.ip_address(address).packed
        self.write_byte(len(packed))
        self.buf += packed
        self.write_int(port)

    def write_consistency(self, c: int) -> None:
        self.write_short(int(c))


# --- compression ------------------------------------------------------------------------------------

class Compressor:
    """One body compression algorithm, as negotiated by STARTUP's COMPRESSION option."""

    name = ""

    def compress(self, body: bytes) -> bytes:
        raise NotImplementedError

    def decompress(self, body: bytes, max_size: int) -> bytes:
        raise NotImplementedError


class LZ4Compressor(Compressor):
    """[int] uncompressed length (big-endian) + one LZ4 block, as Cassandra and the drivers do."""

    name = "lz4"

    def compress(self, body: bytes) -> bytes:
        import lz4.block
        # lz4.block stores the size little-endian; the protocol wants it big-endian
        return _INT.pack(len(body)) + lz4.block.compress(body, store_size=False)

    def decompress(self, body: bytes, max_size: int) -> bytes:
        import lz4.block
        if len(body) < 4:
            raise FrameError("Truncated lz4 body")
        size = _INT.unpack_from(body, 0)[0]
        if size < 0 or size > max_size:
            raise FrameError(f"lz4 body claims {size} uncompressed bytes (maximum {max_size})")
        if size == 0:
            return b""
        try:
            out = lz4.block.decompress(body[4:], uncompressed_size=size)
        except Exception as exc:  # lz4.block.LZ4BlockError and friends
            raise FrameError(f"Cannot decompress lz4 body: {exc}") from None
        if len(out) != size:
            raise FrameError("lz4 body has the wrong uncompressed length")
        return out


def available_compressors() -> dict[str, Compressor]:
    """The algorithms this process can offer (lz4 when the ``lz4`` package imports)."""
    out: dict[str, Compressor] = {}
    try:
        import lz4.block  # noqa: F401
        out["lz4"] = LZ4Compressor()
    except ImportError:  # pragma: no cover - lz4 is a dependency
        pass
    return out
