"""CAST(x AS type) in a SELECT clause: the conversions Cassandra's CastFcts allows, with Java semantics.

Allowed (notes §3.5): every numeric type (tinyint, smallint, int, bigint, varint, float, double,
decimal, counter) to every other numeric type and to text/varchar/ascii; ascii to text; boolean,
inet, time, uuid, timeuuid, date, timestamp to text; timestamp to date; date to timestamp;
timeuuid to timestamp and date.  A cast to the value's own type is a no-op; anything else is an
InvalidRequest.  Numbers narrow as Java's ``Number.intValue()`` & co. do (wrapping, floats
truncated toward zero and saturated), and text is what Java's ``toString`` prints.
"""
from __future__ import annotations

import datetime
import ipaddress
import math
import struct
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from cqlpy.errors import InvalidRequest
from cqlpy.schema import formatting
from cqlpy.schema.types import CQLType, NativeType
from cqlpy.schema.values import (
    date_from_days,
    datetime_from_millis,
    days_from_date,
    millis_from_datetime,
    round_to_float32,
)

from .functions import timeuuid_millis

NUMERIC = ("tinyint", "smallint", "int", "bigint", "varint", "float", "double", "decimal", "counter")
TEXTUAL = ("text", "varchar", "ascii")
_WIDTH = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}


def cast_function(source: CQLType, target: CQLType) -> Callable[[Any], Any]:
    """The conversion of a non-null value of ``source`` to ``target``; InvalidRequest if CQL has
    no such cast."""
    if source == target:
        return lambda v: v
    if not (isinstance(source, NativeType) and isinstance(target, NativeType)):
        raise _no_cast(source, target)
    s, t = source.name, target.name
    if s == "varchar":
        s = "text"
    if t == "varchar":
        t = "text"
    if s == t:
        return lambda v: v
    if s in NUMERIC and t in NUMERIC:
        return _numeric(s, t)
    if t in ("text", "ascii") and (s in NUMERIC or s in ("ascii", "text", "boolean", "inet", "time",
                                                         "uuid", "timeuuid", "date", "timestamp")):
        if t == "ascii" and s not in NUMERIC and s != "ascii":
            raise _no_cast(source, target)
        return lambda v: to_text(s, v)
    if s == "timestamp" and t == "date":
        return lambda v: date_from_days(_ms(v) // 86_400_000)
    if s == "date" and t == "timestamp":
        return lambda v: datetime_from_millis(_days(v) * 86_400_000)
    if s == "timeuuid" and t == "timestamp":
        return lambda v: datetime_from_millis(timeuuid_millis(v))
    if s == "timeuuid" and t == "date":
        return lambda v: date_from_days(timeuuid_millis(v) // 86_400_000)
    raise _no_cast(source, target)


def _no_cast(source: CQLType, target: CQLType) -> InvalidRequest:
    return InvalidRequest(f"{source.cql_name} cannot be cast to {target.cql_name}")


def _ms(v: Any) -> int:
    return v if isinstance(v, int) else millis_from_datetime(v)


def _days(v: Any) -> int:
    return v if isinstance(v, int) else days_from_date(v)


# --- numbers ---------------------------------------------------------------------------------------

def _wrap(n: int, bits: int) -> int:
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >> (bits - 1) else n


def _java_float_to_long(x: float, bits: int) -> int:
    """Java's (long)/(int) of a double: truncate toward zero, NaN -> 0, saturate."""
    if math.isnan(x):
        return 0
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if math.isinf(x):
        return hi if x > 0 else lo
    return max(lo, min(hi, int(x)))


def _to_integer(s: str, v: Any, bits: int | None) -> int:
    if s in ("float", "double"):
        if bits is None:                      # BigDecimal.valueOf(double).toBigInteger()
            if math.isnan(v) or math.isinf(v):
                raise InvalidRequest(f"Cannot convert {formatting.java_float_str(v)} to varint")
            return int(v)
        if bits == 64:
            return _java_float_to_long(v, 64)
        # Number.intValue/shortValue/byteValue of a Float/Double: (int) then narrowing
        return _wrap(_java_float_to_long(v, 32), bits)
    if s == "decimal":
        n = int(v)                            # toBigInteger truncates toward zero
    else:
        n = int(v)
    return n if bits is None else _wrap(n, bits)


def _numeric(s: str, t: str) -> Callable[[Any], Any]:
    if t in _WIDTH:
        bits = _WIDTH[t]
        return lambda v: _to_integer(s, v, bits)
    if t == "varint":
        return lambda v: _to_integer(s, v, None)
    if t == "double":
        return lambda v: float(v)
    if t == "float":
        return lambda v: round_to_float32(float(v))
    if t == "decimal":
        if s in ("float", "double"):
            def to_dec(v: float) -> Decimal:
                if math.isnan(v) or math.isinf(v):
                    raise InvalidRequest(f"Cannot convert {formatting.java_float_str(v)} to decimal")
                # BigDecimal.valueOf(double): the digits of Double.toString
                return Decimal(formatting.java_float_str(float(v), double=True))
            return to_dec
        return lambda v: Decimal(v)
    raise InvalidRequest(f"{s} cannot be cast to {t}")


# --- text ------------------------------------------------------------------------------------------

def to_text(s: str, v: Any) -> str:
    """Java's toString of a value of native type ``s`` (what CAST(... AS text) returns)."""
    if s in ("tinyint", "smallint", "int", "bigint", "varint", "counter"):
        return formatting.int_to_str(v)
    if s == "float":
        return formatting.java_float_str(v, double=False)
    if s == "double":
        return formatting.java_float_str(v, double=True)
    if s == "decimal":
        return _big_decimal_text(v)
    if s in ("text", "ascii"):
        return v
    if s == "boolean":
        return "true" if v else "false"
    if s == "inet":
        return _java_inet_text(v)
    if s == "time":
        return formatting.time_text(v)
    if s in ("uuid", "timeuuid"):
        return str(v)
    if s == "date":
        return v.isoformat() if isinstance(v, datetime.date) else str(v)
    if s == "timestamp":
        ms = _ms(v)
        dt = datetime_from_millis(ms)
        if isinstance(dt, int):
            return str(ms)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    raise InvalidRequest(f"{s} cannot be cast to text")


def _big_decimal_text(d: Decimal) -> str:
    """Java's BigDecimal.toString (the same scientific-notation rule as Python's Decimal)."""
    try:
        return str(d).replace("e", "E")
    except InvalidOperation:  # pragma: no cover - Decimal str never fails
        return repr(d)


def _java_inet_text(a: Any) -> str:
    """InetAddress.getHostAddress: IPv6 without :: compression, no leading zeros per group."""
    if isinstance(a, ipaddress.IPv6Address):
        if a.ipv4_mapped is not None:
            return str(a.ipv4_mapped)
        groups = struct.unpack(">8H", a.packed)
        return ":".join(f"{g:x}" for g in groups)
    return str(a)


__all__ = ["cast_function", "to_text", "NUMERIC"]
