"""``SELECT JSON``: one ``[json]`` text column holding a JSON object per row, as Cassandra renders it.

Keys are the result column names (a name with upper-case letters is wrapped in escaped double
quotes, ``"\\"Foo\\""``, as Cassandra does); values are each type's ``toJSONString``: numbers as
JSON numbers (floats as Java prints them), text, uuids, inets, dates, times, durations and blobs
(``"0x0102"``) as JSON strings, timestamps as ``"2011-02-03 04:05:00.000Z"``, lists, sets and
tuples as arrays, maps and UDTs as objects (a non-text map key becomes the string of its JSON),
null as ``null``.  Separators are ``", "`` and ``": "``.
"""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any, Sequence

from .casts import to_text
from cqlpy.schema import formatting
from cqlpy.schema import types as T
from cqlpy.schema.types import CQLType
from cqlpy.schema.values import millis_from_datetime


def quote(s: str) -> str:
    """A JSON string literal (control characters escaped, non-ASCII kept)."""
    return json.dumps(s, ensure_ascii=False)


def json_key(name: str) -> str:
    return quote(f'"{name}"' if name != name.lower() else name)


def json_object(names: Sequence[str], types: Sequence[CQLType], values: Sequence[Any]) -> str:
    """One row as Cassandra's JSON object text."""
    return "{" + ", ".join(f"{json_key(n)}: {to_json(t, v)}"
                           for n, t, v in zip(names, types, values)) + "}"


def to_json(t: CQLType, v: Any) -> str:
    """A value's JSON text (Cassandra's AbstractType.toJSONString)."""
    if v is None:
        return "null"
    if isinstance(t, T.NativeType):
        return _native(t.name, v)
    if isinstance(t, (T.ListType, T.SetType)):
        items = v
        if isinstance(t, T.SetType):
            items = formatting._ordered_set(t, v)        # noqa: SLF001 - Cassandra's set order
        return "[" + ", ".join(to_json(t.element, e) for e in items) + "]"
    if isinstance(t, T.MapType):
        pairs = formatting._ordered_map(t, v)            # noqa: SLF001
        out = []
        for k, val in pairs:
            key = to_json(t.key, k)
            if not key.startswith('"'):
                key = quote(key)
            out.append(f"{key}: {to_json(t.value, val)}")
        return "{" + ", ".join(out) + "}"
    if isinstance(t, T.TupleType):
        return "[" + ", ".join(to_json(et, e) for et, e in zip(t.elements, v)) + "]"
    if isinstance(t, T.UserType):
        fields = list(v) + [None] * (len(t.field_names) - len(v))
        return "{" + ", ".join(f"{json_key(n)}: {to_json(ft, fv)}"
                               for n, ft, fv in zip(t.field_names, t.field_types, fields)) + "}"
    return quote(str(v))


def _native(name: str, v: Any) -> str:
    if name in ("text", "varchar", "ascii"):
        return quote(v)
    if name in ("tinyint", "smallint", "int", "bigint", "counter", "varint"):
        return formatting.int_to_str(v)
    if name in ("float", "double"):
        text = formatting.java_float_str(v, double=name == "double")
        return quote(text) if text in ("NaN", "Infinity", "-Infinity") else text
    if name == "decimal":
        return str(Decimal(v)).replace("e", "E")
    if name == "boolean":
        return "true" if v else "false"
    if name == "blob":
        return quote("0x" + bytes(v).hex())
    if name == "timestamp":
        if isinstance(v, datetime.datetime):
            ms = millis_from_datetime(v)
            return quote(v.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}Z")
        return formatting.int_to_str(v)
    if name == "duration":
        return quote(formatting.duration_text(v))
    return quote(to_text(name, v))
