"""CQL literals and Python values -> values of a target type, with Cassandra's assignability rules.

Two entry points:

* ``literal_value(kind, text, receiver, cql_type)`` -- a constant from CQL text.  ``kind`` is the
  lexer's kind (``string``, ``integer``, ``float``, ``boolean``, ``uuid``, ``hex``, ``duration``,
  ``null``); ``text`` is the token text (a string's content already unquoted and unescaped).  The
  kind must be assignable to the type (Constants.Literal.testAssignment), else
  ``Invalid STRING constant (abc) for "v" of type int``; then the text is parsed as the type
  parses it (``Int32Type.fromString`` ...), and failures are InvalidRequest too.
* ``coerce(cql_type, value)`` -- a Python value (bind parameter, API argument) validated and
  normalized to the canonical Python value of the type (what the codec returns), e.g. an ``int``
  for a ``double`` becomes a ``float``; a ``str`` for an ``int`` is an InvalidRequest.

The canonical Python values are listed in codec.py.  Where Cassandra's behaviour depends on the
server's time zone (timestamp strings without a zone), cqlpy uses UTC.
"""
from __future__ import annotations

import datetime
import ipaddress
import math
import re
import time as _time
import uuid as uuidlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.schema import keycodec
from cqlpy.schema import types as T
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType
from cqlpy.schema.values import (
    DATE_EPOCH_OFFSET,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MILLIS_PER_DAY,
    NANOS_PER_DAY,
    NANOS_PER_HOUR,
    NANOS_PER_MICRO,
    NANOS_PER_MILLI,
    NANOS_PER_MINUTE,
    NANOS_PER_SECOND,
    Duration,
    date_from_days,
    datetime_from_millis,
    days_from_civil,
    days_from_date,
    is_valid_civil,
    millis_from_datetime,
    round_to_float32,
    time_from_nanos,
    udt_class,
)

INTEGER_RANGES = {
    "tinyint": (-(1 << 7), (1 << 7) - 1),
    "smallint": (-(1 << 15), (1 << 15) - 1),
    "int": (INT32_MIN, INT32_MAX),
    "bigint": (INT64_MIN, INT64_MAX),
    "counter": (INT64_MIN, INT64_MAX),
}

# --- assignability (Constants.Literal.testAssignment) --------------------------------------------

ASSIGNABLE: dict[str, frozenset[str]] = {
    "string": frozenset({"ascii", "text", "inet", "date", "time", "timestamp"}),
    "integer": frozenset({"bigint", "counter", "date", "decimal", "double", "duration", "float", "int",
                          "smallint", "time", "timestamp", "tinyint", "varint"}),
    "float": frozenset({"decimal", "double", "float"}),
    "boolean": frozenset({"boolean"}),
    "uuid": frozenset({"uuid", "timeuuid"}),
    "hex": frozenset({"blob"}),
    "duration": frozenset({"duration"}),
}


def is_assignable(kind: str, cql_type: CQLType) -> bool:
    """Whether a constant of ``kind`` may be given for a receiver of ``cql_type``."""
    if kind == "null":
        return True
    return isinstance(cql_type, NativeType) and cql_type.name in ASSIGNABLE.get(kind, ())


def literal_value(kind: str, text: str, receiver: str, cql_type: CQLType) -> Any:
    """The value of the constant ``text`` of ``kind`` given for ``receiver`` (a column name) of ``cql_type``.

    Returns the canonical Python value (None for ``null``).  Raises InvalidRequest.
    """
    kind = kind.lower()
    if kind not in ASSIGNABLE and kind != "null":
        raise ValueError(f"unknown literal kind {kind!r}")
    if not is_assignable(kind, cql_type):
        raise InvalidRequest(f'Invalid {kind.upper()} constant ({text}) for "{receiver}" '
                             f"of type {cql_type.cql_name}")
    if kind == "null":
        return None
    assert isinstance(cql_type, NativeType)
    return _PARSERS[cql_type.name](kind, text)


# --- parsing constants per type (AbstractType.fromString) ----------------------------------------

_INTEGER_TEXT = re.compile(r"-?[0-9]+\Z")
_FLOAT_TEXT = re.compile(r"-?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|nan|infinity)\Z", re.IGNORECASE | re.ASCII)
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_HEX_TEXT = re.compile(r"(?:0[xX])?([0-9a-fA-F]*)\Z")


def _parse_int_text(text: str) -> int:
    if not _INTEGER_TEXT.match(text):
        raise ValueError(text)
    # int(str) refuses more than 4300 digits; Decimal has no such limit.
    return int(text) if len(text) < 4000 else int(Decimal(text))


def _bounded_integer(name: str):
    low, high = INTEGER_RANGES[name]
    java = {"tinyint": "byte", "smallint": "short", "int": "int", "bigint": "long", "counter": "long"}[name]

    def parse(kind: str, text: str) -> int:
        try:
            n = _parse_int_text(text)
        except ValueError:
            n = None
        if n is None or not low <= n <= high:
            raise InvalidRequest(f"Unable to make {java} from '{text}'")
        return n
    return parse


def _parse_varint(kind: str, text: str) -> int:
    try:
        return _parse_int_text(text)
    except ValueError:
        raise InvalidRequest(f"Unable to make int from '{text}'") from None


def _java_parse_double(text: str) -> float:
    if not _FLOAT_TEXT.match(text):
        raise ValueError(text)
    return float(text)          # overflows to +-inf, as Double.parseDouble does


def _parse_float(kind: str, text: str) -> float:
    try:
        return round_to_float32(_java_parse_double(text))
    except ValueError:
        raise InvalidRequest(f"Unable to make float from '{text}'") from None


def _parse_double(kind: str, text: str) -> float:
    try:
        return _java_parse_double(text)
    except ValueError:
        raise InvalidRequest(f"Unable to make double from '{text}'") from None


def _parse_decimal(kind: str, text: str) -> Decimal:
    if not _FLOAT_TEXT.match(text) or text.lower().lstrip("-") in ("nan", "infinity"):
        raise InvalidRequest(f"unable to make BigDecimal from '{text}'")
    return _check_decimal(Decimal(text))


def _parse_boolean(kind: str, text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise InvalidRequest(f"Unable to make boolean from '{text}'")
    return lowered == "true"


def _parse_text(kind: str, text: str) -> str:
    _check_utf8(text)
    return text


def _parse_ascii(kind: str, text: str) -> str:
    if not text.isascii():
        raise InvalidRequest(f"Invalid ASCII character in string literal '{text}'")
    return text


def _parse_inet(kind: str, text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidRequest(f"Unable to make inet address from '{text}'") from None


def _parse_uuid(kind: str, text: str) -> uuidlib.UUID:
    if not _UUID_TEXT.match(text):
        raise InvalidRequest(f"Unable to make UUID from '{text}'")
    return uuidlib.UUID(text)


def _parse_timeuuid(kind: str, text: str) -> uuidlib.UUID:
    value = _parse_uuid(kind, text)
    if _uuid_version(value) != 1:
        raise InvalidRequest(f"Unable to make timeuuid from '{text}': TimeUUID supports only version 1 UUIDs")
    return value


def _parse_blob(kind: str, text: str) -> bytes:
    m = _HEX_TEXT.match(text)
    if not m:
        raise InvalidRequest(f"cannot parse '{text}' as hex bytes")
    digits = m.group(1)
    if len(digits) % 2:
        raise InvalidRequest(f"cannot parse '{text}' as hex bytes: odd number of hex digits")
    return bytes.fromhex(digits)


def _parse_timestamp(kind: str, text: str) -> datetime.datetime | int:
    return datetime_from_millis(parse_timestamp_millis(text))


def _parse_date(kind: str, text: str) -> datetime.date | int:
    return date_from_days(parse_date_days(text))


def _parse_time(kind: str, text: str) -> datetime.time | int:
    return _time_value(parse_time_nanos(text))


def _parse_duration(kind: str, text: str) -> Duration:
    return parse_duration(text)


_PARSERS = {
    "ascii": _parse_ascii, "text": _parse_text, "varint": _parse_varint,
    "tinyint": _bounded_integer("tinyint"), "smallint": _bounded_integer("smallint"),
    "int": _bounded_integer("int"), "bigint": _bounded_integer("bigint"), "counter": _bounded_integer("counter"),
    "float": _parse_float, "double": _parse_double, "decimal": _parse_decimal,
    "boolean": _parse_boolean, "uuid": _parse_uuid, "timeuuid": _parse_timeuuid, "blob": _parse_blob,
    "inet": _parse_inet, "timestamp": _parse_timestamp, "date": _parse_date, "time": _parse_time,
    "duration": _parse_duration,
}


# --- timestamp, date, time strings ---------------------------------------------------------------

# TimestampSerializer (4.1+): "y-M-d['T'| ]H:m[:s][.fraction 0-9 digits]" or "yyyy-MM-dd", each with
# an optional zone: "Z", "+hh", "+hhmm", "+hh:mm" (optionally after a space), or " <zone name>".
_TIMESTAMP_TEXT = re.compile(r"""
    (?P<year>\d{1,9})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
    (?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})
        (?::(?P<second>\d{1,2})(?:\.(?P<fraction>\d{0,9}))?)?)?
    (?P<zone>\s?(?:Z|[+-]\d{2}(?::?\d{2})?)|\s[A-Za-z][A-Za-z0-9_/+-]*)?
    \Z""", re.VERBOSE | re.ASCII)


def parse_timestamp_millis(text: str) -> int:
    """Milliseconds since the epoch for a timestamp literal string (Cassandra's accepted formats)."""
    if text.lower() == "now":
        return _time.time_ns() // NANOS_PER_MILLI
    if _INTEGER_TEXT.match(text):
        n = _parse_int_text(text)
        if not INT64_MIN <= n <= INT64_MAX:
            raise InvalidRequest(f"Unable to make long (for date) from: '{text}'")
        return n
    m = _TIMESTAMP_TEXT.match(text)
    if not m:
        raise InvalidRequest(f"Unable to parse a date/time from '{text}'")
    year, month, day = int(m["year"]), int(m["month"]), int(m["day"])
    hour, minute, second = int(m["hour"] or 0), int(m["minute"] or 0), int(m["second"] or 0)
    if not is_valid_civil(year, month, day) or hour > 23 or minute > 59 or second > 59:
        raise InvalidRequest(f"Unable to parse a date/time from '{text}'")
    millis = int((m["fraction"] or "").ljust(3, "0")[:3])
    local = (days_from_civil(year, month, day) * MILLIS_PER_DAY
             + ((hour * 60 + minute) * 60 + second) * 1000 + millis)
    offset_ms = _zone_offset_millis(m["zone"], text, year, month, day, hour, minute, second)
    result = local - offset_ms
    if not INT64_MIN <= result <= INT64_MAX:
        raise InvalidRequest(f"Unable to parse a date/time from '{text}'")
    return result


def _zone_offset_millis(zone: str | None, text: str, *fields: int) -> int:
    if zone is None:
        return 0                       # no zone: UTC (Cassandra uses the server's zone)
    zone = zone.strip()
    if zone == "Z":
        return 0
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", zone, re.ASCII)
    if m:
        hours, minutes = int(m[2]), int(m[3] or 0)
        if hours > 18 or minutes > 59:
            raise InvalidRequest(f"Unable to parse a date/time from '{text}'")
        return (1 if m[1] == "+" else -1) * (hours * 60 + minutes) * 60_000
    try:
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(zone)
        local = datetime.datetime(*fields)
        offset = tz.utcoffset(local)
    except Exception:
        raise InvalidRequest(f"Unable to parse a date/time from '{text}'") from None
    return (offset.days * 86400 + offset.seconds) * 1000 if offset else 0


_DATE_TEXT = re.compile(r"([+-]?\d{4,9})-(\d{2})-(\d{2})\Z", re.ASCII)


def parse_date_days(text: str) -> int:
    """Days since the epoch for a date literal: ``yyyy-mm-dd``, or the raw uint32 (epoch at 2^31)."""
    if _INTEGER_TEXT.match(text):
        raw = _parse_int_text(text)
        if not 0 <= raw <= 0xFFFFFFFF:
            raise InvalidRequest(f"Unable to make unsigned int (for date) from: '{text}'")
        return raw - DATE_EPOCH_OFFSET
    m = _DATE_TEXT.match(text)
    if not m or (len(m[1].lstrip("+-")) > 4 and m[1][0] not in "+-"):
        raise InvalidRequest(f"Unable to coerce '{text}' to a formatted date (long)")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not is_valid_civil(year, month, day):
        raise InvalidRequest(f"Unable to coerce '{text}' to a formatted date (long)")
    days = days_from_civil(year, month, day)
    if not INT32_MIN <= days <= INT32_MAX:
        raise InvalidRequest(f"Input date {text} is out of the supported range")
    return days


def parse_time_nanos(text: str) -> int:
    """Nanoseconds since midnight for a time literal: ``hh:mm:ss[.fffffffff]``, or raw nanoseconds."""
    if _INTEGER_TEXT.match(text):
        n = _parse_int_text(text)
        if not 0 <= n < NANOS_PER_DAY:
            raise InvalidRequest(f"Unable to make long (for time) from: '{text}'")
        return n
    m = re.fullmatch(r"\s*(\d+):(\d+):(\d+)(?:\.(\d{1,9}))?\s*", text, re.ASCII)
    if not m or int(m[1]) > 23 or int(m[2]) > 59 or int(m[3]) > 59:
        raise InvalidRequest(f"(TimeType) Unable to coerce '{text}' to a formatted time (long)")
    nanos = int((m[4] or "").ljust(9, "0"))
    return ((int(m[1]) * 60 + int(m[2])) * 60 + int(m[3])) * NANOS_PER_SECOND + nanos


# --- duration strings (cql3.Duration.from) --------------------------------------------------------

_UNIT_NANOS = {"h": NANOS_PER_HOUR, "m": NANOS_PER_MINUTE, "s": NANOS_PER_SECOND, "ms": NANOS_PER_MILLI,
               "us": NANOS_PER_MICRO, "µs": NANOS_PER_MICRO, "ns": 1}
# Units in the order they must appear; each index may be used once.
_UNIT_ORDER = {"y": 1, "mo": 2, "w": 3, "d": 4, "h": 5, "m": 6, "s": 7, "ms": 8, "us": 9, "µs": 9, "ns": 10}
_UNIT_NAMES = ["", "years", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds",
               "microseconds", "nanoseconds"]
_STANDARD = re.compile(r"(\d+)(mo|ms|us|µs|ns|y|w|d|h|s|m)", re.IGNORECASE | re.ASCII)
_ISO = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?\Z", re.ASCII)
_ISO_WEEK = re.compile(r"P(\d+)W\Z", re.ASCII)
_ISO_ALTERNATIVE = re.compile(r"P(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\Z", re.ASCII)


class _DurationBuilder:
    def __init__(self, text: str):
        self.text, self.months, self.days, self.nanos, self.last = text, 0, 0, 0, 0

    def add(self, unit: str, amount: int) -> None:
        index = _UNIT_ORDER[unit]
        if index == self.last:
            raise InvalidRequest(f"Invalid duration. The {_UNIT_NAMES[index]} are specified multiple times")
        if index < self.last:
            raise InvalidRequest(f"Invalid duration. The {_UNIT_NAMES[self.last]} should be after "
                                 f"{_UNIT_NAMES[index]}")
        self.last = index
        if unit in ("y", "mo"):
            self.months += amount * (12 if unit == "y" else 1)
            self._check(self.months, INT32_MAX, "months")
        elif unit in ("w", "d"):
            self.days += amount * (7 if unit == "w" else 1)
            self._check(self.days, INT32_MAX, "days")
        else:
            self.nanos += amount * _UNIT_NANOS[unit]
            self._check(self.nanos, INT64_MAX, "nanoseconds")

    def _check(self, total: int, limit: int, name: str) -> None:
        if total > limit:
            raise InvalidRequest(f"Invalid duration. The total number of {name} must be less or equal "
                                 f"to {INT32_MAX}")

    def build(self, negative: bool) -> Duration:
        sign = -1 if negative else 1
        return Duration(sign * self.months, sign * self.days, sign * self.nanos)


def parse_duration(text: str) -> Duration:
    """A duration literal in any of Cassandra's forms: ``1h30m``, ``P1Y2M3DT4H5M6S``, ``P2W``,
    ``P0001-02-03T04:05:06``; a leading ``-`` negates it."""
    negative = text.startswith("-")
    source = text[1:] if negative else text
    builder = _DurationBuilder(text)
    if source.startswith("P"):
        if source.endswith("W"):
            m = _ISO_WEEK.match(source)
            units = ["w"]
        elif "-" in source:
            m = _ISO_ALTERNATIVE.match(source)
            units = ["y", "mo", "d", "h", "m", "s"]
        else:
            m = _ISO.match(source)
            units = ["y", "mo", "d", "h", "m", "s"]
        if not m:
            raise InvalidRequest(f"Unable to convert '{text}' to a duration")
        for unit, amount in zip(units, m.groups()):
            if amount is not None:
                builder.add(unit, int(amount))
        return builder.build(negative)
    pos = 0
    if not source:
        raise InvalidRequest(f"Unable to convert '{text}' to a duration")
    while pos < len(source):
        m = _STANDARD.match(source, pos)
        if not m:
            raise InvalidRequest(f"Unable to convert '{text}' to a duration")
        builder.add(m[2].lower(), int(m[1]))
        pos = m.end()
    return builder.build(negative)


# --- Python values (bind parameters) ---------------------------------------------------------------

def coerce(cql_type: CQLType, value: Any) -> Any:
    """Validate a Python value for ``cql_type`` and return its canonical form; None stays None.

    Accepted inputs beyond the canonical ones: int for float/double/decimal, float for decimal
    (via its shortest repr), an aware datetime or a date for timestamp (converted to naive UTC),
    int milliseconds for timestamp, int days since the epoch for date, int nanoseconds for time,
    str for inet, tuples for lists, lists/tuples/frozensets for sets, pairs for maps, dicts and plain
    tuples for UDTs, any object with months/days/nanoseconds for duration.
    """
    if value is None:
        return None
    try:
        if isinstance(cql_type, NativeType):
            return _COERCERS[cql_type.name](value)
        if isinstance(cql_type, ListType):
            if not isinstance(value, (list, tuple)):
                raise _WrongType()
            return [_coerce_element(cql_type.element, v) for v in value]
        if isinstance(cql_type, SetType):
            return _coerce_set(cql_type, value)
        if isinstance(cql_type, MapType):
            return _coerce_map(cql_type, value)
        if isinstance(cql_type, TupleType):
            return _coerce_tuple(cql_type, value)
        if isinstance(cql_type, UserType):
            return _coerce_udt(cql_type, value)
    except _WrongType:
        raise InvalidRequest(f"Invalid value {_short_repr(value)} of Python type {type(value).__name__} "
                             f"for type {cql_type.cql_name}") from None
    raise InvalidRequest(f"Unsupported type {cql_type.cql_name}")


class _WrongType(Exception):
    pass


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _coerce_element(t: CQLType, v: Any) -> Any:
    if v is None:
        raise InvalidRequest("null is not supported inside collections")
    return coerce(t, v)


def _coerce_set(t: SetType, value: Any) -> Any:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise _WrongType()
    elements = [_coerce_element(t.element, v) for v in value]
    if T.python_value_is_hashable(t.element):
        return set(elements)
    unique = {keycodec.sort_key(t.element, e): e for e in elements}   # Cassandra order, deduplicated
    return [unique[k] for k in sorted(unique)]


def _coerce_map(t: MapType, value: Any) -> Any:
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        pairs = [tuple(p) for p in value]
    else:
        raise _WrongType()
    entries = [(_coerce_element(t.key, k), _coerce_element(t.value, v)) for k, v in pairs]
    if T.python_value_is_hashable(t.key):
        return dict(entries)
    unique = {keycodec.sort_key(t.key, k): (k, v) for k, v in entries}
    return [unique[k] for k in sorted(unique)]


def _coerce_tuple(t: TupleType, value: Any) -> tuple:
    if not isinstance(value, (tuple, list)):
        raise _WrongType()
    if len(value) > len(t.elements):
        raise InvalidRequest(f"Invalid tuple value for type {t.cql_name}: too many elements "
                             f"(expected {len(t.elements)}, got {len(value)})")
    fields = [coerce(ft, v) for ft, v in zip(t.elements, value)]
    return tuple(fields + [None] * (len(t.elements) - len(fields)))


def _coerce_udt(t: UserType, value: Any) -> tuple:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in t.field_names]
        if unknown:
            raise InvalidRequest(f"Unknown field '{unknown[0]}' in value of user defined type {t.name}")
        raw = [value.get(name) for name in t.field_names]
    elif isinstance(value, (tuple, list)):
        if len(value) > len(t.field_names):
            raise InvalidRequest(f"Too many fields ({len(value)}) for user defined type {t.name}")
        raw = list(value) + [None] * (len(t.field_names) - len(value))
    elif isinstance(value, (str, bytes, int, float)):
        raise _WrongType()
    else:                               # an object with one attribute per field (driver-style classes)
        raw = [getattr(value, name, None) for name in t.field_names]
    return udt_class(t)(*(coerce(ft, v) for ft, v in zip(t.field_types, raw)))


def _coerce_int(name: str):
    low, high = INTEGER_RANGES.get(name, (None, None))

    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _WrongType()
        if low is not None and not low <= v <= high:
            raise InvalidRequest(f"Value {v} out of range for type {name} ({low} to {high})")
        return int(v)
    return check


def _coerce_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _WrongType()
    try:
        x = float(v)
    except OverflowError:
        x = math.inf
    result = round_to_float32(x)
    if math.isinf(result) and not math.isinf(x):
        raise InvalidRequest(f"Value {_short_repr(v)} out of range for type float")
    return result


def _coerce_double(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _WrongType()
    try:
        return float(v)
    except OverflowError:
        raise InvalidRequest(f"Value {_short_repr(v)} out of range for type double") from None


def _check_decimal(d: Decimal) -> Decimal:
    if not d.is_finite():
        raise InvalidRequest(f"Invalid decimal {d}: NaN and Infinity are not decimals")
    if not INT32_MIN <= -d.as_tuple().exponent <= INT32_MAX:
        raise InvalidRequest(f"Decimal {d} has a scale out of range")
    return d


def _coerce_decimal(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return _check_decimal(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _WrongType()
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InvalidRequest(f"Invalid decimal {v}: NaN and Infinity are not decimals")
        return _check_decimal(Decimal(repr(v)))
    return Decimal(v)


def _coerce_boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _WrongType()
    return v


def _check_utf8(s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("Invalid UTF-8 string (lone surrogate)") from None


def _coerce_text(v: Any) -> str:
    if not isinstance(v, str):
        raise _WrongType()
    _check_utf8(v)
    return v


def _coerce_ascii(v: Any) -> str:
    if not isinstance(v, str):
        raise _WrongType()
    if not v.isascii():
        raise InvalidRequest(f"Invalid ASCII string {_short_repr(v)}")
    return v


def _coerce_blob(v: Any) -> bytes:
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise _WrongType()
    return bytes(v)


def _uuid_version(u: uuidlib.UUID) -> int:
    return (u.int >> 76) & 0xF


def _coerce_uuid(v: Any) -> uuidlib.UUID:
    if not isinstance(v, uuidlib.UUID):
        raise _WrongType()
    return v


def _coerce_timeuuid(v: Any) -> uuidlib.UUID:
    u = _coerce_uuid(v)
    if _uuid_version(u) != 1:
        raise InvalidRequest(f"Invalid UUID version {_uuid_version(u)} for timeuuid: {u}")
    return u


def _coerce_inet(v: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return v
    if isinstance(v, str):
        return _parse_inet("string", v)
    raise _WrongType()


def _coerce_timestamp(v: Any) -> datetime.datetime | int:
    if isinstance(v, datetime.datetime):
        ms = millis_from_datetime(v)
    elif isinstance(v, datetime.date):
        ms = days_from_date(v) * MILLIS_PER_DAY
    elif isinstance(v, int) and not isinstance(v, bool):
        ms = v
    else:
        raise _WrongType()
    if not INT64_MIN <= ms <= INT64_MAX:
        raise InvalidRequest(f"Value {v} out of range for type timestamp")
    return datetime_from_millis(ms)


def _coerce_date(v: Any) -> datetime.date | int:
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None and v.utcoffset() is not None:
            v = v.astimezone(datetime.timezone.utc)
        return v.date()
    if isinstance(v, datetime.date):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        if not INT32_MIN <= v <= INT32_MAX:
            raise InvalidRequest(f"Value {v} out of range for type date (days since 1970-01-01)")
        return date_from_days(v)
    raise _WrongType()


def _time_value(ns: int) -> datetime.time | int:
    return time_from_nanos(ns) if ns % NANOS_PER_MICRO == 0 else ns


def _coerce_time(v: Any) -> datetime.time | int:
    if isinstance(v, datetime.time):
        return v.replace(tzinfo=None) if v.tzinfo is not None else v
    if isinstance(v, int) and not isinstance(v, bool):
        if not 0 <= v < NANOS_PER_DAY:
            raise InvalidRequest(f"Value {v} out of range for type time (nanoseconds since midnight)")
        return _time_value(v)
    raise _WrongType()


def _coerce_duration(v: Any) -> Duration:
    try:
        months, days, nanos = v.months, v.days, v.nanoseconds
    except AttributeError:
        raise _WrongType() from None
    for part in (months, days, nanos):
        if isinstance(part, bool) or not isinstance(part, int):
            raise _WrongType()
    if not (INT32_MIN <= months <= INT32_MAX and INT32_MIN <= days <= INT32_MAX
            and INT64_MIN <= nanos <= INT64_MAX):
        raise InvalidRequest(f"Duration {v} out of range")
    if not ((months >= 0 and days >= 0 and nanos >= 0) or (months <= 0 and days <= 0 and nanos <= 0)):
        raise InvalidRequest("The duration months, days and nanoseconds must be all of the same sign "
                             f"({months}, {days}, {nanos})")
    return v if type(v) is Duration else Duration(months, days, nanos)


_COERCERS = {
    "ascii": _coerce_ascii, "text": _coerce_text, "blob": _coerce_blob, "boolean": _coerce_boolean,
    "tinyint": _coerce_int("tinyint"), "smallint": _coerce_int("smallint"), "int": _coerce_int("int"),
    "bigint": _coerce_int("bigint"), "counter": _coerce_int("counter"), "varint": _coerce_int("varint"),
    "float": _coerce_float, "double": _coerce_double, "decimal": _coerce_decimal,
    "uuid": _coerce_uuid, "timeuuid": _coerce_timeuuid, "inet": _coerce_inet,
    "timestamp": _coerce_timestamp, "date": _coerce_date, "time": _coerce_time,
    "duration": _coerce_duration,
}

__all__ = [
    "ASSIGNABLE", "INTEGER_RANGES", "coerce", "is_assignable", "literal_value", "parse_date_days",
    "parse_duration", "parse_time_nanos", "parse_timestamp_millis",
]
