"""INSERT JSON: a JSON document -> {column: value}, with Cassandra's per-type ``fromJSONObject`` rules.

Keys name columns like identifiers: unquoted keys are case-insensitive (folded to lower case),
``"\\"Name\\""`` keeps its case.  Values: strings for text, ascii, inet, uuid, timeuuid, date, time,
timestamp, duration and blob (``"0x..."``); numbers (or numeric strings) for the numeric types,
timestamps (ms), dates (days) and times (ns); booleans (or ``"true"``/``"false"``); arrays for lists,
sets and tuples; objects for maps (keys given as strings, parsed as the key type) and user types.
Any mismatch is InvalidRequest ``Error decoding JSON value for v: ...``.
"""
from __future__ import annotations

import json
import re
from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.schema import types as T
from cqlpy.schema.literals import coerce, literal_value
from cqlpy.schema.model import TableMetadata

_INTEGER = re.compile(r"-?[0-9]+\Z")
_INT_NAMES = frozenset({"tinyint", "smallint", "int", "bigint", "varint", "counter"})
_FLOAT_NAMES = frozenset({"float", "double", "decimal"})
_STRING_KINDS = {"ascii": "string", "text": "string", "varchar": "string", "inet": "string",
                 "date": "string", "time": "string", "timestamp": "string", "uuid": "uuid",
                 "timeuuid": "uuid", "duration": "duration", "blob": "hex"}


class _Bad(Exception):
    pass


def parse_json_row(table: TableMetadata, text: Any) -> dict[str, Any]:
    """The columns and values an ``INSERT ... JSON`` document gives (values already typed)."""
    if text is None:
        raise InvalidRequest("Got null for INSERT JSON values")
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as e:
        raise InvalidRequest(f"Could not decode JSON string as a map: {e}. (String was: {text})") \
            from None
    if not isinstance(doc, dict):
        raise InvalidRequest(f"Could not decode JSON string as a map: not a JSON object. (String "
                             f"was: {text})")
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key.lower()
        col = table.get_column(name)
        if col is None:
            raise InvalidRequest(f"JSON values map contains unrecognized column: {name}")
        out[name] = from_json(col.type, value, name)
    return out


def from_json(t: T.CQLType, value: Any, name: str) -> Any:
    """The canonical Python value of JSON ``value`` for a column ``name`` of type ``t``."""
    try:
        return coerce(t, _convert(t, value, name)) if value is not None else None
    except _Bad as e:
        raise InvalidRequest(f"Error decoding JSON value for {name}: {e}") from None


def _convert(t: T.CQLType, v: Any, name: str) -> Any:
    if v is None:
        return None
    if isinstance(t, T.NativeType):
        return _native(t, v, name)
    if isinstance(t, (T.ListType, T.SetType)):
        if not isinstance(v, list):
            raise _Bad(f"Expected a list, but got a {_kind(v)}: {v!r}")
        items = [_convert(t.element, i, name) for i in v]
        if any(i is None for i in items):
            raise _Bad("Invalid null element in collection")
        return items
    if isinstance(t, T.MapType):
        if not isinstance(v, dict):
            raise _Bad(f"Expected a map, but got a {_kind(v)}: {v!r}")
        out = []
        for k, val in v.items():
            key = _map_key(t.key, k, name)
            if val is None:
                raise _Bad("Invalid null value in map")
            out.append((key, _convert(t.value, val, name)))
        return out
    if isinstance(t, T.TupleType):
        if not isinstance(v, list):
            raise _Bad(f"Expected a list representation of a tuple, but got a {_kind(v)}: {v!r}")
        if len(v) > len(t.elements):
            raise _Bad(f"Tuple contains extra items (expected {len(t.elements)}): {v!r}")
        items = [_convert(et, i, name) for et, i in zip(t.elements, v)]
        return tuple(items + [None] * (len(t.elements) - len(items)))
    if isinstance(t, T.UserType):
        if not isinstance(v, dict):
            raise _Bad(f"Expected a map, but got a {_kind(v)}: {v!r}")
        fields: dict[str, Any] = {}
        for k, val in v.items():
            fname = k[1:-1] if len(k) >= 2 and k[0] == k[-1] == '"' else k.lower()
            if fname not in t.field_names:
                raise _Bad(f"Unknown field '{fname}' in value of user defined type {t.name}")
            fields[fname] = _convert(t.field_type(fname), val, name)
        return fields
    raise _Bad(f"Unsupported type {t.cql_name}")


def _map_key(t: T.CQLType, k: str, name: str) -> Any:
    if isinstance(t, T.NativeType) and t.name in ("ascii", "text", "varchar"):
        return k
    try:
        parsed = json.loads(k)
    except ValueError:
        parsed = k
    if isinstance(t, T.NativeType) and isinstance(parsed, str):
        return _native(t, parsed, name)
    return _convert(t, parsed, name)


def _native(t: T.NativeType, v: Any, name: str) -> Any:
    n = t.name
    try:
        if n == "boolean":
            if isinstance(v, bool):
                return v
            if isinstance(v, str) and v.lower() in ("true", "false"):
                return v.lower() == "true"
            raise _Bad(f"Expected a boolean value, but got a {_kind(v)}: {v!r}")
        if isinstance(v, bool):
            raise _Bad(f"Expected a {n} value, but got a boolean")
        if n in _INT_NAMES or n in ("date", "time", "timestamp") and isinstance(v, int):
            if isinstance(v, int):
                return literal_value("integer", str(v), name, t)
            if isinstance(v, str) and _INTEGER.match(v.strip()):
                return literal_value("integer", v.strip(), name, t)
            if isinstance(v, str) and n in ("date", "time", "timestamp"):
                return literal_value("string", v, name, t)
            raise _Bad(f"Expected an {n} value, but got a {_kind(v)}: {v!r}")
        if n in _FLOAT_NAMES:
            if isinstance(v, int):
                return literal_value("integer", str(v), name, t)
            if isinstance(v, float):
                return literal_value("float", repr(v), name, t)
            if isinstance(v, str):
                kind = "integer" if _INTEGER.match(v.strip()) else "float"
                return literal_value(kind, v.strip(), name, t)
            raise _Bad(f"Expected a {n} value, but got a {_kind(v)}: {v!r}")
        if not isinstance(v, str):
            raise _Bad(f"Expected a string representation of a {n} value, but got a "
                       f"{_kind(v)}: {v!r}")
        kind = _STRING_KINDS.get(n)
        if kind is None:
            raise _Bad(f"Unsupported type {n}")
        if kind == "hex" and not v.lower().startswith("0x"):
            raise _Bad(f"String representation of blob is missing 0x prefix: {v}")
        return literal_value(kind, v, name, t)
    except InvalidRequest as e:
        raise _Bad(str(e)) from None


def _kind(v: Any) -> str:
    return {dict: "map", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "float"}.get(type(v), type(v).__name__)


__all__ = ["from_json", "parse_json_row"]
