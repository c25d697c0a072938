"""Cell values as text and back: display (cqlsh's), CSV (exact, for COPY and --format csv), JSON, and
parsing CSV fields into Python values for COPY FROM.

CSV fields round-trip exactly: text and ascii are written as they are; every other native type as
its CQL literal (cqlpy.schema.formatting.to_cql_literal) without the surrounding quotes
(timestamps ``2011-02-03 04:05:00.000+0000``, floats in Java's shortest form, blobs ``0x...``);
collections, tuples and user types as their CQL literal (``['a', 'b']``, ``{1: 'x'}``).  Reading
classifies each leaf token as the CQL lexer would (string, integer, float, uuid, hex, duration,
boolean) and converts it with Cassandra's rules (cqlpy.schema.literals.literal_value).
"""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import math
import re
import uuid
from typing import Any

from cqlpy.schema import formatting, literals
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType

_NUMBER_TYPES = {"tinyint", "smallint", "int", "bigint", "counter", "varint", "float", "double", "decimal"}
_TIME_TYPES = {"timestamp", "date", "time"}
_TEXT_TYPES = {"text", "ascii", "varchar"}
_INTEGER_TYPES = {"tinyint", "smallint", "int", "bigint", "counter", "varint"}


def type_family(t: CQLType | None) -> str:
    """The colour family of a type, as cqlsh colours values: text, number, time, blob, collection,
    other."""
    if t is None:
        return "other"
    if isinstance(t, NativeType):
        if t.name in _TEXT_TYPES:
            return "text"
        if t.name in _NUMBER_TYPES:
            return "number"
        if t.name in _TIME_TYPES:
            return "time"
        if t.name == "blob":
            return "blob"
        return "other"
    return "collection"


def display_value(t: CQLType | None, value: Any, options: Any = None) -> str:
    """A cell as cqlsh shows it (``null`` for None)."""
    if value is None:
        return getattr(options, "null", "null")
    fp = getattr(options, "float_precision", formatting.DEFAULT_FLOAT_PRECISION)
    dp = getattr(options, "double_precision", formatting.DEFAULT_DOUBLE_PRECISION)
    if t is None:
        return _display_untyped(value)
    if type(value) is int and isinstance(t, NativeType) and t.name in _INTEGER_TYPES:
        return _int_text(value)
    if type(value) is str and isinstance(t, NativeType) and t.name in _TEXT_TYPES and value.isprintable() and "\\" not in value:
        return value
    try:
        return formatting.display(t, value, fp, dp)
    except Exception:           # a value the formatter does not know: show it rather than fail
        return _display_untyped(value)


def _int_text(n: int) -> str:
    """str(n), also past Python's 4300-digit limit (formatting.int_to_str builds 10**4000 per call)."""
    try:
        return str(n)
    except ValueError:
        return formatting.int_to_str(n)


def _display_untyped(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, float):
        return formatting.cqlsh_float_str(value, formatting.DEFAULT_DOUBLE_PRECISION)
    return str(value)


# --- CSV ---------------------------------------------------------------------------------------------

def csv_value(t: CQLType | None, value: Any, float_precision: int | None = None,
              double_precision: int | None = None) -> str:
    """A non-null cell as a CSV field that csv_parse reads back to the same value."""
    if t is None:
        return _display_untyped(value)
    if isinstance(t, NativeType):
        name = t.name
        if name in _TEXT_TYPES:
            return value
        if type(value) is int and name in _INTEGER_TYPES:
            return _int_text(value)
        if name == "float" and float_precision is not None and math.isfinite(value):
            return formatting.cqlsh_float_str(value, float_precision)
        if name == "double" and double_precision is not None and math.isfinite(value):
            return formatting.cqlsh_float_str(value, double_precision)
        text = formatting.to_cql_literal(t, value)
        if text.startswith("'") and text.endswith("'"):
            return text[1:-1].replace("''", "'")
        return text
    return formatting.to_cql_literal(t, value)


_LEAF = re.compile(r"""
      (?P<string>'(?:[^']|'')*')
    | (?P<dollar>\$\$.*?\$\$)
    | (?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z_]))
    | (?P<hex>0[xX][0-9a-fA-F]*)
    | (?P<duration>-?(?:[0-9]+(?:y|mo|ms|m|w|d|h|s|us|µs|ns))+(?![0-9A-Za-z_])
         |-?P[0-9A-Z]+(?:T[0-9A-Z]+)?(?![0-9A-Za-z_]))
    | (?P<float>-?[0-9]+(?:\.[0-9]*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)|-?NaN|-?Infinity)
    | (?P<integer>-?[0-9]+)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")*")
    | (?P<punct>[\[\]{}(),:])
    | (?P<space>\s+)
""", re.VERBOSE | re.DOTALL)

_WHOLE = {kind: re.compile(rf"(?:{pattern})\Z", re.VERBOSE | re.DOTALL) for kind, pattern in (
    ("uuid", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ("hex", r"0[xX][0-9a-fA-F]*"),
    ("integer", r"-?[0-9]+"),
    ("float", r"-?[0-9]+(?:\.[0-9]*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)|-?NaN|-?Infinity"),
    ("duration", r"-?(?:[0-9]+(?:y|mo|ms|m|w|d|h|s|us|µs|ns))+|-?P[0-9A-Z]+(?:T[0-9A-Z]+)?"),
    ("boolean", r"(?i:true|false)"),
)}


def _classify(text: str) -> list[str]:
    """Lexer kinds ``text`` could be, most likely first; 'string' always last."""
    kinds = [kind for kind, pattern in _WHOLE.items() if pattern.match(text)]
    return kinds + ["string"]


def _native_from_text(t: NativeType, text: str, column: str) -> Any:
    if t.name in _TEXT_TYPES:
        return text
    if t.name == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    last_error: Exception | None = None
    for kind in _classify(text.strip()):
        if kind == "float" and text.strip().lstrip("-") in ("NaN", "Infinity"):
            value_text = text.strip()
            if t.name in ("float", "double"):
                return float(value_text.replace("Infinity", "inf"))
        try:
            if not literals.is_assignable(kind, t):
                continue
            return literals.literal_value(kind, text.strip(), column, t)
        except Exception as error:            # noqa: BLE001 - try the next reading
            last_error = error
    raise ValueError(str(last_error) if last_error else f"Invalid value {text!r} for type {t.cql_name}")


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items = [(m.lastgroup, m.group()) for m in _LEAF.finditer(text) if m.lastgroup != "space"]
        consumed = sum(len(m.group()) for m in _LEAF.finditer(text))
        if consumed != len(text):
            raise ValueError(f"cannot read {text!r} as a CQL literal")
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.items):
            raise ValueError("unexpected end of literal")
        item = self.items[self.pos]
        self.pos += 1
        return item

    def expect(self, text: str) -> None:
        kind, got = self.take()
        if got != text:
            raise ValueError(f"expected '{text}', found '{got}'")

    def at(self, text: str) -> bool:
        item = self.peek()
        return item is not None and item[1] == text


def _literal(t: CQLType, tokens: _Tokens, column: str) -> Any:
    item = tokens.peek()
    if item is not None and item[0] == "word" and item[1].lower() == "null":
        tokens.take()
        return None
    if isinstance(t, NativeType):
        kind, text = tokens.take()
        if kind == "punct" and text == "-":
            raise ValueError("unexpected '-'")
        if kind == "string":
            inner = text[1:-1].replace("''", "'")
            if t.name in _TEXT_TYPES:
                return inner
            return literals.literal_value("string", inner, column, t)
        if kind == "dollar":
            return literals.literal_value("string", text[2:-2], column, t)
        if kind == "word":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return literals.literal_value("boolean", lowered, column, t)
            if lowered in ("nan", "infinity") and t.name in ("float", "double"):
                return float("nan") if lowered == "nan" else float("inf")
            raise ValueError(f"unexpected word {text!r}")
        if kind == "float" and text.lstrip("-") in ("NaN", "Infinity"):
            return float(text.replace("Infinity", "inf"))
        return literals.literal_value(kind, text, column, t)
    if isinstance(t, ListType):
        tokens.expect("[")
        items = _sequence(t.element, tokens, "]", column)
        return items
    if isinstance(t, SetType):
        tokens.expect("{")
        return _sequence(t.element, tokens, "}", column)
    if isinstance(t, MapType):
        tokens.expect("{")
        pairs = []
        while not tokens.at("}"):
            key = _literal(t.key, tokens, column)
            tokens.expect(":")
            pairs.append((key, _literal(t.value, tokens, column)))
            if not tokens.at("}"):
                tokens.expect(",")
        tokens.take()
        return pairs
    if isinstance(t, TupleType):
        tokens.expect("(")
        values = []
        for i, element in enumerate(t.elements):
            if tokens.at(")"):
                break
            if i:
                tokens.expect(",")
            values.append(_literal(element, tokens, column))
        tokens.expect(")")
        return tuple(values) + (None,) * (len(t.elements) - len(values))
    if isinstance(t, UserType):
        tokens.expect("{")
        fields: dict[str, Any] = {}
        while not tokens.at("}"):
            kind, name = tokens.take()
            name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
            tokens.expect(":")
            fields[name] = _literal(t.field_type(name), tokens, column)
            if not tokens.at("}"):
                tokens.expect(",")
        tokens.take()
        return fields
    raise ValueError(f"unsupported type {t}")


def _sequence(element: CQLType, tokens: _Tokens, close: str, column: str) -> list:
    items = []
    while not tokens.at(close):
        items.append(_literal(element, tokens, column))
        if not tokens.at(close):
            tokens.expect(",")
    tokens.take()
    return items


def csv_parse(t: CQLType, text: str, column: str = "value") -> Any:
    """The value of a non-null CSV field for a column of type ``t`` (ValueError or a CQLError when the
    text is not a value of that type)."""
    if isinstance(t, NativeType):
        return _native_from_text(t, text, column)
    tokens = _Tokens(text.strip())
    value = _literal(t, tokens, column)
    if tokens.peek() is not None:
        raise ValueError(f"unexpected '{tokens.peek()[1]}' after the value")
    return literals.coerce(t, value)


# --- JSON --------------------------------------------------------------------------------------------

def json_value(t: CQLType | None, value: Any) -> Any:
    """A cell as a JSON-compatible value: numbers stay numbers, everything else as text or nested
    lists and objects."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else formatting.java_float_str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)                 # exact: a JSON float would round it
    if isinstance(value, (uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)) or \
            type(value).__name__ == "Duration":
        return display_value(t, value) if t is not None else str(value)
    if isinstance(t, MapType) or isinstance(value, dict):
        items = value.items() if isinstance(value, dict) else value
        kt = t.key if isinstance(t, MapType) else None
        vt = t.value if isinstance(t, MapType) else None
        return {str(json_value(kt, k)): json_value(vt, v) for k, v in items}
    if isinstance(t, UserType):
        return {name: json_value(ft, v) for name, ft, v in zip(t.field_names, t.field_types, value)}
    if isinstance(t, TupleType):
        return [json_value(et, v) for et, v in zip(t.elements, value)]
    if isinstance(t, (ListType, SetType)):
        items = value
        if isinstance(value, (set, frozenset)):
            items = sorted(value, key=repr)
        return [json_value(t.element, v) for v in items]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(None, v) for v in value]
    return str(value)
