"""Keys for the storage engine: partition-key bytes, and order-preserving clustering and cell-path bytes.

The engine compares plain ``bytes``.  Two encodings live here:

**Partition keys** use Cassandra's own serialization, so tokens equal Cassandra's:
one column -> its codec bytes as they are; several -> per column ``[u16 length][bytes][0x00]``.

**Clustering keys and cell paths** use an order-preserving, self-delimiting encoding: comparing
the bytes (``bytes.__lt__``) gives Cassandra's comparison of the values, column by column, and a
clustering prefix (c1, or c1 + c2, ...) is a byte prefix of the full key.  A DESC column is encoded
with every byte inverted, which reverses its order because no encoding is a prefix of another.

Layout of one encoded value: ``[tag][body]``.  Tags (do not change: written to disk)::

    0x00 END    ends the elements of a collection, or the fields of a tuple/UDT
    0x01 NULL   a null tuple/UDT field (sorts before every value, as in TupleType.compare)
    0x02 EMPTY  reserved for Cassandra's empty value of a non-string type; never written today
    0x03 VALUE  a value; the body follows

Bodies (ascending order; a DESC column inverts tag and body together)::

    tinyint, smallint, int, bigint, counter, timestamp
               big-endian two's complement with the sign bit flipped (1, 2, 4, 8, 8, 8 bytes)
    varint     0x80 for zero; n > 0: [0x80 + L][magnitude] (L = magnitude bytes, 1..126) or
               [0xFF][u32 L][magnitude]; n < 0: [0x7F - L][~magnitude] or [0x00][~u32 L][~magnitude]
    decimal    0x80 for zero; > 0: [0x81][varint E][digit pairs][0x00]; < 0: [0x7F] then the bytes
               of the positive form of |x| after 0x81, inverted.  x = 0.d1d2...dn x 10^E with
               d1, dn != 0; each pair of digits is one byte 1..100 (an odd last digit is padded
               with 0).  Numeric order, scale ignored: 1.0 and 1.00 are one key, as with
               BigDecimal.compareTo; decoding gives the smallest scale >= 0 (1.50 -> 1.5, 1E+2 -> 100)
    float, double
               IEEE bits; negative: all bits inverted, else sign bit set; NaN canonical (greatest),
               -0.0 < 0.0 (Java's Float.compare / Double.compare)
    boolean    0x00 false, 0x01 true
    text, ascii, blob, inet
               the bytes (UTF-8 / raw / 4 or 16 address bytes) with 0x00 written as 0x00 0xFF,
               then 0x00 0x00: unsigned byte order, a shorter prefix first
    date       u32 days with the epoch at 2^31 (the serialized form)
    time       u64 nanoseconds since midnight
    uuid       [version][8 bytes][8 bytes lsb]: for version 1 the 60-bit timestamp reordered to the
               front (time_hi, time_mid, time_low), else the msb as is (UUIDType.compareCustom)
    timeuuid   [8 bytes reordered timestamp][8 bytes lsb, each byte ^ 0x80] (signed byte compare)
    list       the elements in order, then END
    set        the elements sorted by their encoding and deduplicated, then END
    map        per entry sorted by key: key, value; then END
    tuple, UDT the fields (NULL for a null), trailing NULLs dropped, then END
    duration   not comparable: refused

Values are the Python values ``literals.coerce`` returns (codec.py lists them).
"""
from __future__ import annotations

import ipaddress
import math
import struct
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from cqlpy.errors import InvalidRequest, ServerError
from cqlpy.schema import types as T
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType
from cqlpy.schema.values import (
    DATE_EPOCH_OFFSET,
    NANOS_PER_DAY,
    date_from_days,
    datetime_from_millis,
    days_from_date,
    millis_from_datetime,
    nanos_from_time,
    time_from_nanos,
    udt_class,
)

END, NULL, EMPTY, VALUE = 0x00, 0x01, 0x02, 0x03

ASC, DESC = "asc", "desc"

_INVERT = bytes(255 - i for i in range(256))
_SIGNED_WIDTH = {"tinyint": 1, "smallint": 2, "int": 4, "bigint": 8, "counter": 8}
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
_MAX_PARTITION_KEY_COMPONENT = 0xFFFF


# --- public API ----------------------------------------------------------------------------------

def encode_value(t: CQLType, value: Any) -> bytes:
    """The order-preserving encoding of one non-null value (ascending)."""
    out = bytearray()
    _encode(t, value, out)
    return bytes(out)


def decode_value(t: CQLType, data: bytes) -> Any:
    """Inverse of encode_value."""
    data = bytes(data)
    value, pos = _decode(t, data, 0)
    if pos != len(data):
        raise ServerError(f"Malformed key: {len(data) - pos} trailing bytes after a {t.cql_name} value")
    return value


sort_key = encode_value
"""``sorted(values, key=lambda v: sort_key(t, v))`` sorts as Cassandra does."""


def encode_prefix(types: Sequence[CQLType], orders: Sequence[str], values: Sequence[Any]) -> bytes:
    """Encode the first ``len(values)`` clustering columns (a prefix of the clustering)."""
    if len(values) > len(types):
        raise InvalidRequest(f"Got {len(values)} clustering values for {len(types)} clustering columns")
    out = bytearray()
    for t, order, value in zip(types, orders, values):
        if value is None:
            raise InvalidRequest(f"Invalid null value for clustering column of type {t.cql_name}")
        if not t.is_comparable:
            raise InvalidRequest(f"Type {t.cql_name} cannot be used in a clustering key")
        if _is_desc(order):
            component = bytearray()
            _encode(t, value, component)
            out += component.translate(_INVERT)
        else:
            _encode(t, value, out)
    return bytes(out)


def encode_clustering(types: Sequence[CQLType], orders: Sequence[str], values: Sequence[Any]) -> bytes:
    """Encode a full clustering (one value per clustering column) into comparable bytes."""
    if len(values) != len(types):
        raise InvalidRequest(f"Got {len(values)} clustering values for {len(types)} clustering columns")
    return encode_prefix(types, orders, values)


def decode_clustering(types: Sequence[CQLType], orders: Sequence[str], data: bytes) -> tuple:
    """Decode clustering bytes (full or a prefix) back to a tuple of values."""
    data = bytes(data)
    result, pos = [], 0
    for t, order in zip(types, orders):
        if pos == len(data):
            break
        if _is_desc(order):
            rest = data[pos:].translate(_INVERT)
            value, used = _decode(t, rest, 0)
        else:
            value, end = _decode(t, data, pos)
            used = end - pos
        result.append(value)
        pos += used
    if pos != len(data):
        raise ServerError(f"Malformed clustering key: {len(data) - pos} trailing bytes")
    return tuple(result)


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string that starts with ``prefix``.

    None when there is none (``prefix`` is empty or all 0xFF): the range is unbounded above.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def encode_cell_path(t: CQLType, key: Any) -> bytes:
    """The cell path of one element of a non-frozen collection or UDT, in Cassandra's order.

    list: the element's timeuuid; set: the element; map: the key; UDT: the field (by name or index),
    stored as its u16 position.
    """
    if isinstance(t, ListType):
        return encode_value(T.TIMEUUID, key)
    if isinstance(t, SetType):
        return encode_value(t.element, key)
    if isinstance(t, MapType):
        return encode_value(t.key, key)
    if isinstance(t, UserType):
        index = key if isinstance(key, int) else _field_index(t, key)
        if not 0 <= index < len(t.field_names):
            raise InvalidRequest(f"Unknown field {key!r} in type {t.name}")
        return _U16.pack(index)
    raise InvalidRequest(f"Type {t.cql_name} has no cell paths")


def decode_cell_path(t: CQLType, data: bytes) -> Any:
    """Inverse of encode_cell_path (a UDT path decodes to the field name)."""
    if isinstance(t, ListType):
        return decode_value(T.TIMEUUID, data)
    if isinstance(t, SetType):
        return decode_value(t.element, data)
    if isinstance(t, MapType):
        return decode_value(t.key, data)
    if isinstance(t, UserType):
        if len(data) != 2 or _U16.unpack(data)[0] >= len(t.field_names):
            raise ServerError(f"Malformed cell path for type {t.name}")
        return t.field_names[_U16.unpack(data)[0]]
    raise ServerError(f"Type {t.cql_name} has no cell paths")


def _field_index(t: UserType, name: str) -> int:
    try:
        return t.field_names.index(name)
    except ValueError:
        raise InvalidRequest(f"Unknown field '{name}' in type {t.name}") from None


# --- partition keys ------------------------------------------------------------------------------

def compose_partition_key(components: Sequence[bytes]) -> bytes:
    """Serialized components -> the partition key bytes (Cassandra's CompositeType layout for several)."""
    if len(components) == 1:
        key = components[0]
        if len(key) > _MAX_PARTITION_KEY_COMPONENT:
            raise InvalidRequest(f"Key length of {len(key)} is longer than maximum of 65535")
        return bytes(key)
    out = bytearray()
    for c in components:
        if len(c) > _MAX_PARTITION_KEY_COMPONENT:
            raise InvalidRequest(f"Key length of {len(c)} is longer than maximum of 65535")
        out += _U16.pack(len(c))
        out += c
        out.append(0)
    return bytes(out)


def split_partition_key(count: int, key: bytes) -> list[bytes]:
    """Inverse of compose_partition_key for ``count`` components."""
    if count == 1:
        return [bytes(key)]
    parts, pos = [], 0
    for _ in range(count):
        if pos + 2 > len(key):
            raise ServerError("Malformed partition key: truncated component length")
        n = _U16.unpack_from(key, pos)[0]
        pos += 2
        if pos + n + 1 > len(key) or key[pos + n] != 0:
            raise ServerError("Malformed partition key: bad component")
        parts.append(bytes(key[pos:pos + n]))
        pos += n + 1
    if pos != len(key):
        raise ServerError("Malformed partition key: trailing bytes")
    return parts


_codec_module: Any = None


def _codec() -> Any:
    """``cqlpy.schema.codec``, imported late (it imports this module, to sort sets) and once:
    an import statement in a per-read function costs about a microsecond."""
    global _codec_module
    if _codec_module is None:
        from cqlpy.schema import codec
        _codec_module = codec
    return _codec_module


def encode_partition_key(types: Sequence[CQLType], values: Sequence[Any]) -> bytes:
    """Partition-key values -> key bytes, via the native-protocol codec."""
    if len(values) == 1 and len(types) == 1 and type(values[0]) is str \
            and 0 < len(values[0]) <= _MAX_PARTITION_KEY_COMPONENT // 4 \
            and types[0].__class__ is NativeType and types[0].name == "text":
        try:                # one text column, the common key: what serialize does, minus calls
            return values[0].encode("utf-8")
        except UnicodeEncodeError:
            pass            # (lone surrogates: the codec's path gives the error)
    codec = _codec_module or _codec()
    if len(values) != len(types):
        raise InvalidRequest(f"Got {len(values)} partition key values for {len(types)} columns")
    components = []
    for t, value in zip(types, values):
        if value is None:
            raise InvalidRequest("Invalid null value for partition key part")
        components.append(codec.serialize(t, value))
    if len(components) == 1 and not components[0]:
        raise InvalidRequest("Key may not be empty")
    return compose_partition_key(components)


def decode_partition_key(types: Sequence[CQLType], key: bytes) -> tuple:
    """Key bytes -> a tuple of partition-key values."""
    codec = _codec_module or _codec()

    parts = split_partition_key(len(types), key)
    return tuple(codec.deserialize(t, p) for t, p in zip(types, parts))


# --- encoding ------------------------------------------------------------------------------------

def _is_desc(order: str | bool) -> bool:
    if isinstance(order, bool):
        return order
    return order.lower() == DESC


def _encode(t: CQLType, v: Any, out: bytearray) -> None:
    out.append(VALUE)
    try:
        if isinstance(t, NativeType):
            _encode_native(t.name, v, out)
        elif isinstance(t, ListType):
            for element in v:
                _encode_element(t.element, element, out)
            out.append(END)
        elif isinstance(t, SetType):
            for encoded in sorted({encode_value(t.element, e) for e in _no_nulls(v)}):
                out += encoded
            out.append(END)
        elif isinstance(t, MapType):
            pairs = v.items() if isinstance(v, Mapping) else v
            entries = {encode_value(t.key, k): (k, val) for k, val in pairs}
            for encoded_key in sorted(entries):
                out += encoded_key
                _encode_element(t.value, entries[encoded_key][1], out)
            out.append(END)
        elif isinstance(t, (TupleType, UserType)):
            _encode_fields(t, v, out)
        else:
            raise InvalidRequest(f"Cannot encode type {t.cql_name} in a key")
    except (TypeError, ValueError, AttributeError, struct.error, OverflowError) as e:
        shown = repr(v) if len(repr(v)) <= 60 else repr(v)[:57] + "..."
        raise InvalidRequest(f"Invalid value {shown} for type {t.cql_name}: {e}") from None


def _no_nulls(values: Iterable[Any]) -> Iterable[Any]:
    for v in values:
        if v is None:
            raise InvalidRequest("null is not supported inside collections")
        yield v


def _encode_element(t: CQLType, v: Any, out: bytearray) -> None:
    if v is None:
        raise InvalidRequest("null is not supported inside collections")
    _encode(t, v, out)


def _encode_fields(t: TupleType | UserType, v: Any, out: bytearray) -> None:
    ftypes = t.elements if isinstance(t, TupleType) else t.field_types
    if isinstance(t, UserType) and isinstance(v, Mapping):
        fields = [v.get(name) for name in t.field_names]
    else:
        fields = list(v)
    if len(fields) > len(ftypes):
        raise InvalidRequest(f"Too many fields ({len(fields)}) for type {t.cql_name}")
    while fields and fields[-1] is None:
        fields.pop()
    for ftype, field in zip(ftypes, fields):
        if field is None:
            out.append(NULL)
        else:
            _encode(ftype, field, out)
    out.append(END)


def _encode_native(name: str, v: Any, out: bytearray) -> None:
    width = _SIGNED_WIDTH.get(name)
    if width is not None:
        out += _signed(v, width, name)
    elif name == "timestamp":
        ms = v if isinstance(v, int) else millis_from_datetime(v)
        out += _signed(ms, 8, name)
    elif name == "varint":
        _put_varint(_int(v), out)
    elif name == "float":
        _put_ieee(float(v), out, double=False)
    elif name == "double":
        _put_ieee(float(v), out, double=True)
    elif name == "decimal":
        _put_decimal(v if isinstance(v, Decimal) else Decimal(v), out)
    elif name == "boolean":
        if not isinstance(v, bool):
            raise TypeError("expected a bool")
        out.append(1 if v else 0)
    elif name in ("text", "ascii"):
        _put_bytes(v.encode("utf-8"), out)
    elif name == "blob":
        _put_bytes(bytes(v), out)
    elif name == "inet":
        address = v if not isinstance(v, str) else ipaddress.ip_address(v)
        _put_bytes(address.packed, out)
    elif name == "date":
        days = v if isinstance(v, int) else days_from_date(v)
        out += _U32.pack(days + DATE_EPOCH_OFFSET)
    elif name == "time":
        ns = v if isinstance(v, int) else nanos_from_time(v)
        if not 0 <= ns < NANOS_PER_DAY:
            raise ValueError("time out of range")
        out += ns.to_bytes(8, "big")
    elif name == "uuid":
        _put_uuid(v, out)
    elif name == "timeuuid":
        _put_timeuuid(v, out)
    elif name == "duration":
        raise InvalidRequest("Durations cannot be compared or used in keys")
    else:
        raise InvalidRequest(f"Cannot encode type {name} in a key")


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("expected an int")
    return v


def _signed(v: Any, width: int, name: str) -> bytes:
    n = _int(v)
    bias = 1 << (8 * width - 1)
    if not -bias <= n < bias:
        raise InvalidRequest(f"Value {n} out of range for type {name}")
    return (n + bias).to_bytes(width, "big")


def _put_varint(n: int, out: bytearray) -> None:
    if n == 0:
        out.append(0x80)
        return
    magnitude = abs(n)
    length = (magnitude.bit_length() + 7) // 8
    body = magnitude.to_bytes(length, "big")
    if n > 0:
        if length <= 0x7E:
            out.append(0x80 + length)
        else:
            out.append(0xFF)
            out += _U32.pack(length)
        out += body
    else:
        if length <= 0x7E:
            out.append(0x7F - length)
        else:
            out.append(0x00)
            out += _U32.pack(length).translate(_INVERT)
        out += body.translate(_INVERT)


def _put_ieee(x: float, out: bytearray, double: bool) -> None:
    if double:
        bits = 0x7FF8000000000000 if math.isnan(x) else struct.unpack(">Q", struct.pack(">d", x))[0]
        sign, mask, fmt = 1 << 63, (1 << 64) - 1, ">Q"
    else:
        bits = 0x7FC00000 if math.isnan(x) else struct.unpack(">I", struct.pack(">f", x))[0]
        sign, mask, fmt = 1 << 31, (1 << 32) - 1, ">I"
    bits = bits ^ mask if bits & sign else bits | sign
    out += struct.pack(fmt, bits)


def _put_decimal(d: Decimal, out: bytearray) -> None:
    if not d.is_finite():
        raise ValueError("decimal must be finite")
    sign, digits, exponent = d.as_tuple()
    digits = list(digits)
    while digits and digits[-1] == 0:
        digits.pop()
        exponent += 1
    if not digits:
        out.append(0x80)
        return
    body = bytearray()
    _put_varint(len(digits) + exponent, body)          # E, with x = 0.d1d2... x 10^E
    if len(digits) % 2:
        digits.append(0)
    for i in range(0, len(digits), 2):
        body.append(digits[i] * 10 + digits[i + 1] + 1)
    body.append(0x00)
    if sign:
        out.append(0x7F)
        out += body.translate(_INVERT)
    else:
        out.append(0x81)
        out += body


def _put_bytes(data: bytes, out: bytearray) -> None:
    out += data.replace(b"\x00", b"\x00\xff")
    out += b"\x00\x00"


def _uuid_int(v: Any) -> int:
    if not isinstance(v, uuidlib.UUID):
        raise TypeError("expected a uuid.UUID")
    return v.int


def _reorder_timestamp(msb: int) -> int:
    """msb = time_low(32) time_mid(16) version+time_hi(16) -> version+time_hi, time_mid, time_low."""
    return ((msb & 0xFFFF) << 48) | (((msb >> 16) & 0xFFFF) << 32) | (msb >> 32)


def _restore_timestamp(reordered: int) -> int:
    return ((reordered & 0xFFFFFFFF) << 32) | (((reordered >> 32) & 0xFFFF) << 16) | (reordered >> 48)


def _put_uuid(v: Any, out: bytearray) -> None:
    n = _uuid_int(v)
    msb, lsb = n >> 64, n & ((1 << 64) - 1)
    version = (msb >> 12) & 0xF
    out.append(version)
    out += (_reorder_timestamp(msb) if version == 1 else msb).to_bytes(8, "big")
    out += lsb.to_bytes(8, "big")


def _put_timeuuid(v: Any, out: bytearray) -> None:
    n = _uuid_int(v)
    msb, lsb = n >> 64, n & ((1 << 64) - 1)
    if (msb >> 12) & 0xF != 1:
        raise InvalidRequest(f"Invalid UUID version {(msb >> 12) & 0xF} for timeuuid")
    out += _reorder_timestamp(msb).to_bytes(8, "big")
    out += (lsb ^ 0x8080808080808080).to_bytes(8, "big")


# --- decoding ------------------------------------------------------------------------------------

def _need(data: bytes, pos: int, n: int) -> None:
    if pos + n > len(data):
        raise ServerError("Malformed key: truncated value")


def _decode(t: CQLType, data: bytes, pos: int) -> tuple[Any, int]:
    _need(data, pos, 1)
    tag = data[pos]
    if tag != VALUE:
        raise ServerError(f"Malformed key: unexpected tag 0x{tag:02x} for a {t.cql_name} value")
    pos += 1
    if isinstance(t, NativeType):
        return _decode_native(t.name, data, pos)
    if isinstance(t, ListType):
        elements = []
        while True:
            _need(data, pos, 1)
            if data[pos] == END:
                return elements, pos + 1
            element, pos = _decode(t.element, data, pos)
            elements.append(element)
    if isinstance(t, SetType):
        elements = []
        while True:
            _need(data, pos, 1)
            if data[pos] == END:
                pos += 1
                break
            element, pos = _decode(t.element, data, pos)
            elements.append(element)
        return (set(elements) if T.python_value_is_hashable(t.element) else elements), pos
    if isinstance(t, MapType):
        pairs = []
        while True:
            _need(data, pos, 1)
            if data[pos] == END:
                pos += 1
                break
            key, pos = _decode(t.key, data, pos)
            value, pos = _decode(t.value, data, pos)
            pairs.append((key, value))
        return (dict(pairs) if T.python_value_is_hashable(t.key) else pairs), pos
    if isinstance(t, (TupleType, UserType)):
        ftypes = t.elements if isinstance(t, TupleType) else t.field_types
        fields: list[Any] = []
        while True:
            _need(data, pos, 1)
            if data[pos] == END:
                pos += 1
                break
            if len(fields) == len(ftypes):
                raise ServerError(f"Malformed key: too many fields for {t.cql_name}")
            if data[pos] == NULL:
                fields.append(None)
                pos += 1
            else:
                field, pos = _decode(ftypes[len(fields)], data, pos)
                fields.append(field)
        fields += [None] * (len(ftypes) - len(fields))
        return (tuple(fields) if isinstance(t, TupleType) else udt_class(t)(*fields)), pos
    raise ServerError(f"Cannot decode type {t.cql_name} from a key")


def _decode_native(name: str, data: bytes, pos: int) -> tuple[Any, int]:
    width = _SIGNED_WIDTH.get(name) or (8 if name == "timestamp" else None)
    if width is not None:
        _need(data, pos, width)
        n = int.from_bytes(data[pos:pos + width], "big") - (1 << (8 * width - 1))
        return (datetime_from_millis(n) if name == "timestamp" else n), pos + width
    if name == "varint":
        return _get_varint(data, pos)
    if name in ("float", "double"):
        size = 8 if name == "double" else 4
        unsigned, ieee = (">Q", ">d") if size == 8 else (">I", ">f")
        sign, mask = 1 << (8 * size - 1), (1 << (8 * size)) - 1
        _need(data, pos, size)
        bits = struct.unpack_from(unsigned, data, pos)[0]
        bits = bits ^ sign if bits & sign else bits ^ mask
        return struct.unpack(ieee, struct.pack(unsigned, bits))[0], pos + size
    if name == "decimal":
        return _get_decimal(data, pos)
    if name == "boolean":
        _need(data, pos, 1)
        if data[pos] > 1:
            raise ServerError("Malformed key: bad boolean")
        return data[pos] == 1, pos + 1
    if name in ("text", "ascii", "blob", "inet"):
        raw, pos = _get_bytes(data, pos)
        if name == "blob":
            return raw, pos
        if name == "inet":
            if len(raw) not in (4, 16):
                raise ServerError("Malformed key: bad inet address length")
            return ipaddress.ip_address(raw), pos
        try:
            return raw.decode("utf-8"), pos
        except UnicodeDecodeError:
            raise ServerError("Malformed key: invalid UTF-8") from None
    if name == "date":
        _need(data, pos, 4)
        return date_from_days(_U32.unpack_from(data, pos)[0] - DATE_EPOCH_OFFSET), pos + 4
    if name == "time":
        _need(data, pos, 8)
        ns = int.from_bytes(data[pos:pos + 8], "big")
        if ns >= NANOS_PER_DAY:
            raise ServerError("Malformed key: time out of range")
        return (time_from_nanos(ns) if ns % 1000 == 0 else ns), pos + 8
    if name == "uuid":
        _need(data, pos, 17)
        version = data[pos]
        middle = int.from_bytes(data[pos + 1:pos + 9], "big")
        msb = _restore_timestamp(middle) if version == 1 else middle
        lsb = int.from_bytes(data[pos + 9:pos + 17], "big")
        return uuidlib.UUID(int=(msb << 64) | lsb), pos + 17
    if name == "timeuuid":
        _need(data, pos, 16)
        msb = _restore_timestamp(int.from_bytes(data[pos:pos + 8], "big"))
        lsb = int.from_bytes(data[pos + 8:pos + 16], "big") ^ 0x8080808080808080
        return uuidlib.UUID(int=(msb << 64) | lsb), pos + 16
    raise ServerError(f"Cannot decode type {name} from a key")


def _get_varint(data: bytes, pos: int) -> tuple[int, int]:
    _need(data, pos, 1)
    head = data[pos]
    pos += 1
    if head == 0x80:
        return 0, pos
    if head > 0x80:
        if head == 0xFF:
            _need(data, pos, 4)
            length = _U32.unpack_from(data, pos)[0]
            pos += 4
        else:
            length = head - 0x80
        _need(data, pos, length)
        return int.from_bytes(data[pos:pos + length], "big"), pos + length
    if head == 0x00:
        _need(data, pos, 4)
        length = _U32.unpack_from(bytes(data[pos:pos + 4]).translate(_INVERT))[0]
        pos += 4
    else:
        length = 0x7F - head
    _need(data, pos, length)
    return -int.from_bytes(bytes(data[pos:pos + length]).translate(_INVERT), "big"), pos + length


def _get_decimal(data: bytes, pos: int) -> tuple[Decimal, int]:
    _need(data, pos, 1)
    head = data[pos]
    pos += 1
    if head == 0x80:
        return Decimal(0), pos
    if head not in (0x7F, 0x81):
        raise ServerError("Malformed key: bad decimal")
    negative = head == 0x7F
    # The body is self-delimiting: a varint, then pair bytes up to the 0x00 (inverted: 0xFF) end.
    end = data.find(b"\xff" if negative else b"\x00", pos + _varint_size(data, pos, negative))
    if end < 0:
        raise ServerError("Malformed key: unterminated decimal")
    body = bytes(data[pos:end + 1])
    if negative:
        body = body.translate(_INVERT)
    e, i = _get_varint(body, 0)
    digits: list[int] = []
    for b in body[i:-1]:
        if not 1 <= b <= 100:
            raise ServerError("Malformed key: bad decimal digits")
        digits += divmod(b - 1, 10)
    while digits and digits[-1] == 0:
        digits.pop()
    if not digits:
        raise ServerError("Malformed key: bad decimal digits")
    exponent = e - len(digits)
    if 0 < exponent <= 64:                       # 1E+2 -> 100: the smallest scale >= 0
        digits += [0] * exponent
        exponent = 0
    return Decimal((1 if negative else 0, tuple(digits), exponent)), end + 1


def _varint_size(data: bytes, pos: int, inverted: bool) -> int:
    _need(data, pos, 1)
    head = data[pos] ^ (0xFF if inverted else 0)
    if head == 0x80:
        return 1
    if head in (0xFF, 0x00):
        _need(data, pos + 1, 4)
        raw = bytes(data[pos + 1:pos + 5])
        length = _U32.unpack(raw.translate(_INVERT) if (head == 0x00) != inverted else raw)[0]
        return 5 + length
    return 1 + (head - 0x80 if head > 0x80 else 0x7F - head)


def _get_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    chunks, start = [], pos
    while True:
        zero = data.find(b"\x00", pos)
        if zero < 0 or zero + 1 >= len(data):
            raise ServerError("Malformed key: unterminated byte string")
        if data[zero + 1] == 0x00:
            chunks.append(data[start:zero])
            return b"".join(bytes(c) for c in chunks), zero + 2
        if data[zero + 1] != 0xFF:
            raise ServerError("Malformed key: bad escape in byte string")
        chunks.append(data[start:zero + 1])
        pos = start = zero + 2
