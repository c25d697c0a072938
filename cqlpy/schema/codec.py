"""The value codec: native protocol v4 serialization of every CQL type, both ways.

``serialize(t, value) -> bytes`` gives the bytes a driver sends for ``value`` (a bound value, a
cell in a Rows result); ``deserialize(t, data)`` reads them back.  The same bytes are what the
engine stores in cells and what partition keys are made of (keycodec.py).  None (null) maps to
None both ways: the caller writes it as length -1.

Byte layouts (all integers big-endian)::

    ascii, text        the string's bytes (US-ASCII / UTF-8)
    tinyint .. bigint  1, 2, 4, 8 bytes two's complement; counter as bigint
    varint             two's complement, minimal length (Java BigInteger.toByteArray)
    decimal            [int scale][varint unscaled]: value = unscaled x 10^-scale
    float, double      IEEE 754 binary32 / binary64
    boolean            1 byte, 0 = false (any other byte reads as true)
    uuid, timeuuid     16 bytes (timeuuid: version 1 only)
    timestamp          int64 milliseconds since 1970-01-01T00:00Z
    date               uint32 days, 1970-01-01 = 2^31
    time               int64 nanoseconds since midnight, 0 <= ns < 86400 x 10^9
    duration           three signed vints: months, days, nanoseconds (below)
    blob               the bytes
    inet               4 (IPv4) or 16 (IPv6) address bytes
    list, set          [int n] then n x ([int length][element bytes]); a set is written sorted in
                       Cassandra's order, without duplicates
    map                [int n] then n x (key, value), each [int length][bytes], sorted by key
    tuple, UDT         per field [int length][bytes], length -1 for null; trailing fields may be
                       missing (they read as null: a UDT that gained fields)

Cassandra's vint (VIntCoding): the count of leading 1 bits in the first byte is the number of extra
bytes (0-8); the rest of the first byte and the extra bytes hold the value, most significant first.
A signed vint is the unsigned vint of its zigzag encoding ``(n << 1) ^ (n >> 63)``.

Python values (what ``deserialize`` returns and ``literals.coerce`` produces)::

    ascii, text -> str            integers, varint, counter -> int       float, double -> float
    decimal -> Decimal            boolean -> bool                        uuid, timeuuid -> uuid.UUID
    blob -> bytes                 inet -> IPv4Address / IPv6Address       duration -> values.Duration
    timestamp -> naive UTC datetime (ms precision), or int ms outside years 1..9999
    date -> datetime.date, or int days since 1970-01-01 outside years 1..9999
    time -> datetime.time; int nanoseconds when the value has sub-microsecond digits (a time
            cannot hold them: they would be lost)
    list -> list                  tuple -> tuple                          UDT -> values.udt_class(t)
    set -> set, in no order; a list in Cassandra's order when the elements are unhashable
           (lists, sets, maps, or tuples/UDTs holding one), as set<frozen<list<int>>>
    map -> dict in Cassandra's key order; a list of (key, value) pairs when keys are unhashable

An empty byte string is a legal value for most types in Cassandra ("empty", not null): for text,
ascii and blob it reads as "" / b""; for every other type it reads as None.

Deserialization checks every length against the bytes present before using it, so malformed input
is an InvalidRequest (as Cassandra's MarshalException is), never a huge allocation.
"""
from __future__ import annotations

import ipaddress
import struct
import uuid as uuidlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.schema import keycodec
from cqlpy.schema import types as T
from cqlpy.schema.literals import coerce
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType
from cqlpy.schema.values import (
    DATE_EPOCH_OFFSET,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    NANOS_PER_DAY,
    Duration,
    date_from_days,
    datetime_from_millis,
    days_from_date,
    millis_from_datetime,
    nanos_from_time,
    time_from_nanos,
    udt_class,
)

_INT32 = struct.Struct(">i")
_FIXED = {"tinyint": 1, "smallint": 2, "int": 4, "bigint": 8, "counter": 8}
_MAX_VALUE_LENGTH = INT32_MAX


# --- public API ----------------------------------------------------------------------------------

def serialize(t: CQLType, value: Any) -> bytes | None:
    """The native-protocol bytes of ``value`` (validated by ``coerce``); None for None."""
    if value is None:
        return None
    return _encode(t, coerce(t, value))


def deserialize(t: CQLType, data: bytes | bytearray | memoryview | None) -> Any:
    """The Python value of native-protocol bytes; None for None.  Malformed bytes -> InvalidRequest."""
    if data is None:
        return None
    return _decode(t, memoryview(data).cast("B") if not isinstance(data, bytes) else data)


def serialize_many(types: list[CQLType], values: list[Any]) -> list[bytes | None]:
    """serialize() over parallel lists (a row, a set of bound values)."""
    return [serialize(t, v) for t, v in zip(types, values)]


# --- encoding (values are canonical: coerce() has run) --------------------------------------------

def _encode(t: CQLType, v: Any) -> bytes:
    if isinstance(t, NativeType):
        return _encode_native(t.name, v)
    if isinstance(t, ListType):
        return _encode_elements([_encode(t.element, e) for e in v])
    if isinstance(t, SetType):
        ordered = sorted({keycodec.sort_key(t.element, e): e for e in v}.items())
        return _encode_elements([_encode(t.element, e) for _, e in ordered])
    if isinstance(t, MapType):
        pairs = v.items() if isinstance(v, Mapping) else v
        ordered = sorted({keycodec.sort_key(t.key, k): (k, val) for k, val in pairs}.items())
        out = bytearray(_INT32.pack(len(ordered)))
        for _, (k, val) in ordered:
            _put_value(out, _encode(t.key, k))
            _put_value(out, _encode(t.value, val))
        return bytes(out)
    if isinstance(t, (TupleType, UserType)):
        ftypes = t.elements if isinstance(t, TupleType) else t.field_types
        out = bytearray()
        for ftype, field in zip(ftypes, v):
            if field is None:
                out += _INT32.pack(-1)
            else:
                _put_value(out, _encode(ftype, field))
        return bytes(out)
    raise InvalidRequest(f"Cannot serialize type {t.cql_name}")


def _put_value(out: bytearray, data: bytes) -> None:
    if len(data) > _MAX_VALUE_LENGTH:
        raise InvalidRequest(f"Value of {len(data)} bytes is too large")
    out += _INT32.pack(len(data))
    out += data


def _encode_elements(encoded: list[bytes]) -> bytes:
    out = bytearray(_INT32.pack(len(encoded)))
    for e in encoded:
        _put_value(out, e)
    return bytes(out)


def _encode_native(name: str, v: Any) -> bytes:
    width = _FIXED.get(name)
    if width is not None:
        return v.to_bytes(width, "big", signed=True)
    if name in ("text", "ascii"):
        return v.encode("utf-8")
    if name == "blob":
        return v
    if name == "varint":
        return encode_varint(v)
    if name == "double":
        return struct.pack(">d", v)
    if name == "float":
        return struct.pack(">f", v)
    if name == "decimal":
        return encode_decimal(v)
    if name == "boolean":
        return b"\x01" if v else b"\x00"
    if name in ("uuid", "timeuuid"):
        return v.bytes
    if name == "timestamp":
        ms = v if isinstance(v, int) else millis_from_datetime(v)
        return ms.to_bytes(8, "big", signed=True)
    if name == "date":
        days = v if isinstance(v, int) else days_from_date(v)
        return (days + DATE_EPOCH_OFFSET).to_bytes(4, "big")
    if name == "time":
        ns = v if isinstance(v, int) else nanos_from_time(v)
        return ns.to_bytes(8, "big", signed=True)
    if name == "inet":
        return v.packed
    if name == "duration":
        return encode_duration(v)
    raise InvalidRequest(f"Cannot serialize type {name}")


def encode_varint(n: int) -> bytes:
    """Java BigInteger.toByteArray(): minimal two's complement."""
    length = (n + (n < 0)).bit_length() // 8 + 1
    return n.to_bytes(length, "big", signed=True)


def encode_decimal(d: Decimal) -> bytes:
    sign, digits, exponent = d.as_tuple()
    unscaled = int(Decimal((sign, digits, 0)))          # no str round trip: no digit limit
    return _INT32.pack(-exponent) + encode_varint(unscaled)


def encode_duration(d: Duration) -> bytes:
    out = bytearray()
    for n in (d.months, d.days, d.nanoseconds):
        write_unsigned_vint(out, ((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF)
    return bytes(out)


def write_unsigned_vint(out: bytearray, v: int) -> None:
    """Cassandra's VIntCoding.writeUnsignedVInt for 0 <= v < 2^64."""
    if v < 0x80:
        out.append(v)
        return
    extra = 8
    for k in range(1, 8):
        if v < 1 << (7 * k + 7):
            extra = k
            break
    first = (0xFF << (8 - extra)) & 0xFF
    out.append(first | (v >> (8 * extra)))
    out += (v & ((1 << (8 * extra)) - 1)).to_bytes(extra, "big")


def read_unsigned_vint(data: bytes, pos: int) -> tuple[int, int]:
    """Inverse of write_unsigned_vint: (value, position after it)."""
    if pos >= len(data):
        raise InvalidRequest("Truncated vint")
    first = data[pos]
    extra = 8 - (~first & 0xFF).bit_length()
    if pos + 1 + extra > len(data):
        raise InvalidRequest("Truncated vint")
    value = first & (0xFF >> extra)
    for b in data[pos + 1:pos + 1 + extra]:
        value = (value << 8) | b
    return value, pos + 1 + extra


# --- decoding --------------------------------------------------------------------------------------

def _decode(t: CQLType, data: bytes | memoryview) -> Any:
    if isinstance(t, NativeType):
        return _decode_native(t.name, data)
    if len(data) == 0:
        return None
    if isinstance(t, ListType):
        return [_decode(t.element, e) for e in _read_elements(data, 1, t)]
    if isinstance(t, SetType):
        elements = [_decode(t.element, e) for e in _read_elements(data, 1, t)]
        return set(elements) if T.python_value_is_hashable(t.element) else elements
    if isinstance(t, MapType):
        raw = _read_elements(data, 2, t)
        pairs = [(_decode(t.key, raw[i]), _decode(t.value, raw[i + 1])) for i in range(0, len(raw), 2)]
        return dict(pairs) if T.python_value_is_hashable(t.key) else pairs
    if isinstance(t, (TupleType, UserType)):
        ftypes = t.elements if isinstance(t, TupleType) else t.field_types
        fields: list[Any] = []
        pos = 0
        while pos < len(data):
            if len(fields) == len(ftypes):
                raise InvalidRequest(f"Invalid {t.cql_name} value: more fields than the type has")
            length, pos = _read_length(data, pos, t)
            if length < 0:
                fields.append(None)
                continue
            fields.append(_decode(ftypes[len(fields)], data[pos:pos + length]))
            pos += length
        fields += [None] * (len(ftypes) - len(fields))
        return tuple(fields) if isinstance(t, TupleType) else udt_class(t)(*fields)
    raise InvalidRequest(f"Cannot deserialize type {t.cql_name}")


def _read_length(data: bytes | memoryview, pos: int, t: CQLType) -> tuple[int, int]:
    if pos + 4 > len(data):
        raise InvalidRequest(f"Invalid {t.cql_name} value: truncated length")
    length = _INT32.unpack_from(data, pos)[0]
    pos += 4
    if length > len(data) - pos:
        raise InvalidRequest(f"Invalid {t.cql_name} value: length {length} exceeds the "
                             f"{len(data) - pos} bytes left")
    return length, pos


def _read_elements(data: bytes | memoryview, per_entry: int, t: CQLType) -> list:
    """[int n] then n x per_entry values of [int length][bytes]: the raw element slices."""
    count, pos = _read_length(data, 0, t) if len(data) >= 4 else (None, 0)
    if count is None:
        raise InvalidRequest(f"Invalid {t.cql_name} value: truncated size")
    # _read_length bounded count by the bytes left; each element needs 4 more at least.
    if count < 0 or count * per_entry * 4 > len(data) - pos:
        raise InvalidRequest(f"Invalid {t.cql_name} value: bad element count {count}")
    out = []
    for _ in range(count * per_entry):
        length, pos = _read_length(data, pos, t)
        if length < 0:
            raise InvalidRequest("null is not supported inside collections")
        out.append(data[pos:pos + length])
        pos += length
    if pos != len(data):
        raise InvalidRequest(f"Invalid {t.cql_name} value: {len(data) - pos} unexpected trailing bytes")
    return out


def _expect(data: bytes | memoryview, sizes: tuple[int, ...], name: str) -> None:
    if len(data) not in sizes:
        raise InvalidRequest(f"Expected {' or '.join(map(str, sizes))} byte {name} value ({len(data)})")


def _decode_native(name: str, data: bytes | memoryview) -> Any:
    if len(data) == 0:
        return {"text": "", "ascii": "", "blob": b""}.get(name)
    width = _FIXED.get(name)
    if width is not None:
        _expect(data, (width,), name)
        return int.from_bytes(data, "big", signed=True)
    if name == "text":
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("Invalid UTF-8 bytes for text") from None
    if name == "ascii":
        raw = bytes(data)
        if not raw.isascii():
            raise InvalidRequest("Invalid byte for ascii")
        return raw.decode("ascii")
    if name == "blob":
        return bytes(data)
    if name == "varint":
        return int.from_bytes(data, "big", signed=True)
    if name == "double":
        _expect(data, (8,), name)
        return struct.unpack(">d", data)[0]
    if name == "float":
        _expect(data, (4,), name)
        return struct.unpack(">f", data)[0]
    if name == "decimal":
        if len(data) < 5:
            raise InvalidRequest(f"Invalid decimal value of {len(data)} bytes")
        scale = _INT32.unpack_from(data, 0)[0]
        unscaled = int.from_bytes(data[4:], "big", signed=True)
        sign, digits, _ = Decimal(unscaled).as_tuple()
        return Decimal((sign, digits, -scale))
    if name == "boolean":
        _expect(data, (1,), name)
        return data[0] != 0
    if name in ("uuid", "timeuuid"):
        _expect(data, (16,), name)
        value = uuidlib.UUID(bytes=bytes(data))
        if name == "timeuuid" and (value.int >> 76) & 0xF != 1:
            raise InvalidRequest("Invalid version for TimeUUID type")
        return value
    if name == "timestamp":
        _expect(data, (8,), name)
        return datetime_from_millis(int.from_bytes(data, "big", signed=True))
    if name == "date":
        _expect(data, (4,), name)
        return date_from_days(int.from_bytes(data, "big") - DATE_EPOCH_OFFSET)
    if name == "time":
        _expect(data, (8,), name)
        ns = int.from_bytes(data, "big", signed=True)
        if not 0 <= ns < NANOS_PER_DAY:
            raise InvalidRequest(f"Invalid time value {ns}: out of range")
        return time_from_nanos(ns) if ns % 1000 == 0 else ns
    if name == "inet":
        _expect(data, (4, 16), name)
        return ipaddress.ip_address(bytes(data))
    if name == "duration":
        return decode_duration(bytes(data))
    raise InvalidRequest(f"Cannot deserialize type {name}")


def decode_duration(data: bytes) -> Duration:
    parts, pos = [], 0
    for _ in range(3):
        u, pos = read_unsigned_vint(data, pos)
        parts.append((u >> 1) ^ -(u & 1))
    if pos != len(data):
        raise InvalidRequest("Invalid duration value: trailing bytes")
    months, days, nanos = parts
    if not (INT32_MIN <= months <= INT32_MAX and INT32_MIN <= days <= INT32_MAX
            and INT64_MIN <= nanos <= INT64_MAX):
        raise InvalidRequest("Invalid duration value: out of range")
    if not ((months >= 0 and days >= 0 and nanos >= 0) or (months <= 0 and days <= 0 and nanos <= 0)):
        raise InvalidRequest("Invalid duration value: months, days and nanoseconds of different signs")
    return Duration(months, days, nanos)


__all__ = ["serialize", "deserialize", "serialize_many", "encode_varint", "encode_decimal",
           "encode_duration", "decode_duration", "write_unsigned_vint", "read_unsigned_vint"]
