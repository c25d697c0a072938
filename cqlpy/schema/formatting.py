"""Values as text: CQL literals that parse back to the same value, and cqlsh's display of values.

* ``to_cql_literal(t, value)`` -- for DESCRIBE, COPY and generated statements.  Parsing the result
  as a constant (``literals.literal_value`` with the kind the lexer gives it) yields ``value``
  again.  Strings are single-quoted with '' doubled; blobs ``0x...``; timestamps
  ``'2011-02-03 04:05:00.000+0000'`` (milliseconds: every Cassandra version parses that); floats as
  Java prints them (``1.0``, ``1.0E20``, ``NaN``, ``-Infinity``); durations ``1h30m``.
* ``display(t, value)`` -- a cell as cqlsh shows it in a result table: text unquoted at top level
  and quoted inside collections, timestamps ``2011-02-03 04:05:00.000000+0000``, floats and doubles
  at 5 significant digits (cqlsh's default precision), booleans ``True``/``False``, null ``null``.
  Text is escaped as cqlsh does without a terminal: backslashes doubled, control characters as
  ``\\n``/``\\x07``.
"""
from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cqlpy.schema import keycodec
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType, quote_identifier
from cqlpy.schema.values import (
    DATE_EPOCH_OFFSET,
    NANOS_PER_HOUR,
    NANOS_PER_MICRO,
    NANOS_PER_MILLI,
    NANOS_PER_MINUTE,
    NANOS_PER_SECOND,
    millis_from_datetime,
    nanos_from_time,
    round_to_float32,
)

DEFAULT_FLOAT_PRECISION = 5
DEFAULT_DOUBLE_PRECISION = 5


# --- CQL literals ----------------------------------------------------------------------------------

def to_cql_literal(t: CQLType, value: Any) -> str:
    """``value`` of type ``t`` as CQL constant text (``null`` for None)."""
    if value is None:
        return "null"
    if isinstance(t, NativeType):
        return _native_literal(t.name, value)
    if isinstance(t, ListType):
        return "[" + ", ".join(to_cql_literal(t.element, e) for e in value) + "]"
    if isinstance(t, SetType):
        return "{" + ", ".join(to_cql_literal(t.element, e) for e in _ordered_set(t, value)) + "}"
    if isinstance(t, MapType):
        return "{" + ", ".join(f"{to_cql_literal(t.key, k)}: {to_cql_literal(t.value, v)}"
                               for k, v in _ordered_map(t, value)) + "}"
    if isinstance(t, TupleType):
        return "(" + ", ".join(to_cql_literal(ft, v) for ft, v in zip(t.elements, value)) + ")"
    if isinstance(t, UserType):
        return "{" + ", ".join(f"{quote_identifier(name)}: {to_cql_literal(ft, v)}"
                               for name, ft, v in zip(t.field_names, t.field_types, _udt_fields(t, value))) + "}"
    raise TypeError(f"cannot format type {t.cql_name}")


def quote_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _native_literal(name: str, v: Any) -> str:
    if name in ("text", "ascii"):
        return quote_string(v)
    if name in ("tinyint", "smallint", "int", "bigint", "counter", "varint"):
        return int_to_str(v)
    if name in ("float", "double"):
        return java_float_str(v, double=name == "double")
    if name == "decimal":
        return str(v)
    if name == "boolean":
        return "true" if v else "false"
    if name in ("uuid", "timeuuid"):
        return str(v)
    if name == "blob":
        return "0x" + bytes(v).hex()
    if name == "inet":
        return quote_string(str(v))
    if name == "timestamp":
        if isinstance(v, int):
            return str(v)
        return quote_string(_timestamp_text(v, digits=3))
    if name == "date":
        if isinstance(v, int):
            return str(v + DATE_EPOCH_OFFSET)        # an integer date literal is the raw uint32
        return quote_string(v.isoformat())
    if name == "time":
        return quote_string(time_text(v))
    if name == "duration":
        return duration_text(v)
    raise TypeError(f"cannot format type {name}")


def int_to_str(n: int) -> str:
    """str(n) without Python's 4300-digit limit on int-to-text conversion."""
    try:
        return str(n)
    except ValueError:                  # more digits than Python converts by default
        return str(Decimal(n))


def java_float_str(x: float, double: bool = True) -> str:
    """Java's Double.toString / Float.toString: shortest digits, ``1.0``, ``1.0E20``, ``1.0E-5``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    text = repr(x) if double else _shortest_float32(x)
    sign, digit_tuple, exponent = Decimal(text).as_tuple()
    point = len(digit_tuple) + exponent     # x = 0.digits x 10^point
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    prefix = "-" if sign else ""
    if -3 < point <= 7:                     # 10^-3 <= |x| < 10^7: plain notation
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{digits}"
        whole, frac = digits[:point].ljust(point, "0"), digits[point:]
        return f"{prefix}{whole}.{frac or '0'}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _shortest_float32(x: float) -> str:
    for precision in range(1, 10):
        text = f"{x:.{precision}g}"
        if round_to_float32(float(text)) == x:
            return text
    return repr(x)


def _timestamp_text(v: datetime.datetime, digits: int) -> str:
    if v.tzinfo is not None and v.utcoffset() is not None:
        v = v.astimezone(datetime.timezone.utc)
    fraction = f"{millis_from_datetime(v) % 1000:03d}".ljust(digits, "0")
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
            f".{fraction}+0000")


def time_text(v: datetime.time | int) -> str:
    """``hh:mm:ss.nnnnnnnnn`` as Cassandra's TimeSerializer prints it."""
    ns = v if isinstance(v, int) else nanos_from_time(v)
    hours, rest = divmod(ns, NANOS_PER_HOUR)
    minutes, rest = divmod(rest, NANOS_PER_MINUTE)
    seconds, nanos = divmod(rest, NANOS_PER_SECOND)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{nanos:09d}"


def duration_text(d: Any) -> str:
    """Cassandra's Duration.toString: ``1y2mo3d4h5m6s7ms8us9ns``, ``-`` in front when negative
    (``0s`` for the zero duration, which Cassandra prints as an empty string)."""
    months, days, nanos = abs(d.months), abs(d.days), abs(d.nanoseconds)
    parts = []
    for amount, unit in ((months // 12, "y"), (months % 12, "mo"), (days, "d")):
        if amount:
            parts.append(f"{amount}{unit}")
    for size, unit in ((NANOS_PER_HOUR, "h"), (NANOS_PER_MINUTE, "m"), (NANOS_PER_SECOND, "s"),
                       (NANOS_PER_MILLI, "ms"), (NANOS_PER_MICRO, "us"), (1, "ns")):
        amount, nanos = divmod(nanos, size)
        if amount:
            parts.append(f"{amount}{unit}")
    if not parts:
        return "0s"
    negative = d.months < 0 or d.days < 0 or d.nanoseconds < 0
    return ("-" if negative else "") + "".join(parts)


def _ordered_set(t: SetType, value: Any) -> list:
    return [e for _, e in sorted({keycodec.sort_key(t.element, e): e for e in value}.items())]


def _ordered_map(t: MapType, value: Any) -> list:
    pairs = value.items() if isinstance(value, Mapping) else value
    return [kv for _, kv in sorted({keycodec.sort_key(t.key, k): (k, v) for k, v in pairs}.items())]


def _udt_fields(t: UserType, value: Any) -> list:
    if isinstance(value, Mapping):
        return [value.get(name) for name in t.field_names]
    fields = list(value)
    return fields + [None] * (len(t.field_names) - len(fields))


# --- cqlsh display -----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\xa0]")


def display(t: CQLType, value: Any, float_precision: int = DEFAULT_FLOAT_PRECISION,
            double_precision: int = DEFAULT_DOUBLE_PRECISION) -> str:
    """``value`` as cqlsh prints it in a result table (without colour)."""
    return _display(t, value, False, float_precision, double_precision)


def _display(t: CQLType, v: Any, nested: bool, fp: int, dp: int) -> str:
    if v is None:
        return "null"
    if isinstance(t, NativeType):
        return _display_native(t.name, v, nested, fp, dp)
    sub = lambda st, sv: _display(st, sv, True, fp, dp)     # noqa: E731
    if isinstance(t, ListType):
        return "[" + ", ".join(sub(t.element, e) for e in v) + "]"
    if isinstance(t, SetType):
        return "{" + ", ".join(sub(t.element, e) for e in _ordered_set(t, v)) + "}"
    if isinstance(t, MapType):
        return "{" + ", ".join(f"{sub(t.key, k)}: {sub(t.value, val)}" for k, val in _ordered_map(t, v)) + "}"
    if isinstance(t, TupleType):
        return "(" + ", ".join(sub(ft, fv) for ft, fv in zip(t.elements, v)) + ")"
    if isinstance(t, UserType):
        return "{" + ", ".join(f"{_display_text(name, False)}: {sub(ft, fv)}"
                               for name, ft, fv in zip(t.field_names, t.field_types, _udt_fields(t, v))) + "}"
    return str(v)


def _display_text(s: str, quoted: bool) -> str:
    # cqlsh without colour: backslashes doubled, control characters as Python escapes.
    escaped = s.replace("\\", "\\\\")
    if quoted:
        escaped = escaped.replace("'", "''")
    escaped = _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], escaped)
    return f"'{escaped}'" if quoted else escaped


def _display_native(name: str, v: Any, nested: bool, fp: int, dp: int) -> str:
    if name in ("text", "ascii"):
        return _display_text(v, nested)
    if name in ("tinyint", "smallint", "int", "bigint", "counter", "varint"):
        return int_to_str(v)
    if name in ("float", "double"):
        return cqlsh_float_str(v, fp if name == "float" else dp)
    if name == "decimal":
        return str(v)
    if name == "boolean":
        return "True" if v else "False"
    if name in ("uuid", "timeuuid"):
        return str(v)
    if name == "blob":
        return "0x" + bytes(v).hex()
    if name == "inet":
        return f"'{v}'" if nested else str(v)
    if name == "timestamp":
        text = str(v) if isinstance(v, int) else _timestamp_text(v, digits=6)
        return f"'{text}'" if nested else text
    if name == "date":
        return str(v) if isinstance(v, int) else v.isoformat()
    if name == "time":
        return time_text(v)
    if name == "duration":
        return duration_text(v)
    return str(v)


def cqlsh_float_str(x: float, precision: int) -> str:
    """cqlsh's format_floating_point_type: ``%g`` with ``precision`` significant digits, widened so
    that numbers printed without an exponent keep ``precision`` digits after the integer part."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if abs(x) > 2.220446049250313e-16:
        exponent = int(math.log10(abs(x)))
        if -4 <= exponent < precision:
            precision = precision + exponent + 1
    return "%.*g" % (precision, x)


__all__ = ["to_cql_literal", "display", "quote_string", "java_float_str", "cqlsh_float_str",
           "duration_text", "time_text", "int_to_str"]
