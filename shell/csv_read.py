"""CSV field text -> Python value, compiled once per column type for COPY FROM.

``field_reader(t, column, ...)`` returns a function of one non-null field's text.  It reads the forms
COPY TO writes (values.csv_value) with plain Python constructors (``int``, ``float``, ``uuid.UUID``)
and, for collections, tuples and user types, one regex scan into tokens walked by a parser built
for that exact type.  Anything the fast readers do not take (odd spacing, a CQL literal form they
do not know, a wrong value) goes to values.csv_parse, which reads every CQL literal form and gives
the error message; so the fast path only decides how quickly a value is read, never what it is.
Values the constructors accept but the type does not (an int out of range, a float32 overflow, a
timeuuid of another version) are caught here too, so they are parse errors as in cqlsh; the final
conversion to the column's canonical value is the session's bind step.
"""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import re
import uuid
from typing import Any, Callable

from cqlpy.schema import literals
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType

from .values import csv_parse

# A collection literal as tokens: (string, punctuation, atom, junk); junk (an unterminated quote)
# sends the field to the careful reader.
_SCAN = re.compile(r"\s*(?:('(?:[^']|'')*')|([\[\]{}(),:])|([^\s\[\]{}(),:']+)|(.))", re.DOTALL)
_INTEGERS = ("int", "bigint", "smallint", "tinyint", "varint", "counter")
_TEXT = ("text", "varchar", "ascii")
_BOUNDS = {"tinyint": (-2**7, 2**7 - 1), "smallint": (-2**15, 2**15 - 1), "int": (-2**31, 2**31 - 1),
           "bigint": (-2**63, 2**63 - 1), "counter": (-2**63, 2**63 - 1)}

Leaf = Callable[[str], Any]
Reader = Callable[[list, int], tuple[Any, int]]


def _plain_int(s: str) -> int:
    if "_" in s:
        raise ValueError(s)
    return int(s)


def _plain_float(s: str) -> float:
    if "_" in s or s.strip().lower() in ("inf", "+inf", "-inf", "infinity", "+infinity", "nan", "+nan"):
        if s.strip() not in ("NaN", "Infinity", "-Infinity", "-NaN"):
            raise ValueError(s)
    return float(s)


def _blob(s: str) -> bytes:
    if s[:2] not in ("0x", "0X"):
        raise ValueError(s)
    return bytes.fromhex(s[2:])


def _leaf(name: str, boolstyle: tuple[str, str] | None = None) -> Leaf | None:
    """A quick text -> value function for a native type (None: only the careful reader)."""
    if name in _TEXT:
        return str
    if name in _BOUNDS:
        low, high = _BOUNDS[name]

        def bounded(s: str) -> int:
            value = _plain_int(s)
            if not low <= value <= high:
                raise ValueError(f"{s} is out of range for {name}")
            return value
        return bounded
    if name in _INTEGERS:
        return _plain_int
    if name == "double":
        return _plain_float
    if name in ("float", "timeuuid"):            # float32 range, timeuuid version: the type's check
        native = NativeType(name)
        parse = _plain_float if name == "float" else uuid.UUID
        return lambda s: literals.coerce(native, parse(s))                  # noqa: E731
    if name == "uuid":
        return uuid.UUID
    if name == "blob":
        return _blob
    if name == "decimal":
        return decimal.Decimal
    if name == "timestamp":
        return literals.parse_timestamp_millis
    if name == "date":
        return literals.parse_date_days
    if name == "time":
        return literals.parse_time_nanos
    if name == "duration":
        return literals.parse_duration
    if name == "inet":
        return ipaddress.ip_address
    if name == "boolean":
        true, false = (boolstyle[0].strip().lower(), boolstyle[1].strip().lower()) if boolstyle else ("true", "false")
        words = {true: True, false: False, "true": True, "false": False}
        return lambda s: words[s.strip().lower()]
    return None


def _compile(t: CQLType) -> Reader:
    """A reader of one value of type ``t`` from tokens at index i: (value, next index)."""
    if isinstance(t, NativeType):
        leaf = _leaf(t.name)
        if leaf is None:
            raise LookupError(t.name)
        is_text = t.name in _TEXT

        def native(tokens: list, i: int) -> tuple[Any, int]:
            string, punct, atom, junk = tokens[i]
            if string:
                return leaf(string[1:-1].replace("''", "'")), i + 1
            if atom and not is_text:
                if atom in ("null", "NULL"):
                    return None, i + 1
                return leaf(atom), i + 1
            raise ValueError(f"unexpected {punct or atom or junk!r}")
        return native
    if isinstance(t, (ListType, SetType)):
        element = _compile(t.element)
        opening, closing = ("[", "]") if isinstance(t, ListType) else ("{", "}")

        def sequence(tokens: list, i: int) -> tuple[Any, int]:
            if tokens[i][1] != opening:
                raise ValueError("expected " + opening)
            i += 1
            items = []
            if tokens[i][1] == closing:
                return items, i + 1
            while True:
                value, i = element(tokens, i)
                items.append(value)
                punct = tokens[i][1]
                i += 1
                if punct == closing:
                    return items, i
                if punct != ",":
                    raise ValueError("expected ,")
        return sequence
    if isinstance(t, MapType):
        key_reader, value_reader = _compile(t.key), _compile(t.value)

        def mapping(tokens: list, i: int) -> tuple[Any, int]:
            if tokens[i][1] != "{":
                raise ValueError("expected {")
            i += 1
            pairs = []
            if tokens[i][1] == "}":
                return pairs, i + 1
            while True:
                key, i = key_reader(tokens, i)
                if tokens[i][1] != ":":
                    raise ValueError("expected :")
                value, i = value_reader(tokens, i + 1)
                pairs.append((key, value))
                punct = tokens[i][1]
                i += 1
                if punct == "}":
                    return pairs, i
                if punct != ",":
                    raise ValueError("expected ,")
        return mapping
    if isinstance(t, TupleType):
        readers = [_compile(e) for e in t.elements]

        def tuple_(tokens: list, i: int) -> tuple[Any, int]:
            if tokens[i][1] != "(":
                raise ValueError("expected (")
            i += 1
            values = []
            for n, reader in enumerate(readers):
                if n:
                    if tokens[i][1] != ",":
                        raise ValueError("expected ,")
                    i += 1
                value, i = reader(tokens, i)
                values.append(value)
            if tokens[i][1] != ")":
                raise ValueError("expected )")
            return tuple(values), i + 1
        return tuple_
    if isinstance(t, UserType):
        fields = {name: _compile(ft) for name, ft in zip(t.field_names, t.field_types)}

        def udt(tokens: list, i: int) -> tuple[Any, int]:
            if tokens[i][1] != "{":
                raise ValueError("expected {")
            i += 1
            values: dict[str, Any] = {}
            if tokens[i][1] == "}":
                return values, i + 1
            while True:
                name = tokens[i][2]
                if not name or tokens[i + 1][1] != ":":
                    raise ValueError("expected a field name")
                name = name[1:-1].replace('""', '"') if name[0] == '"' else name.lower()
                value, i = fields[name](tokens, i + 2)
                values[name] = value
                punct = tokens[i][1]
                i += 1
                if punct == "}":
                    return values, i
                if punct != ",":
                    raise ValueError("expected ,")
        return udt
    raise LookupError(str(t))


def field_reader(t: Any, column: str, boolstyle: tuple[str, str] | None = None,
                 datetime_format: str | None = None) -> Callable[[str], Any]:
    """text -> value for a non-null field of a column of type ``t``; ValueError or a CQLError (from
    the careful reader) when the text is not such a value."""
    def careful(s: str) -> Any:
        if datetime_format and isinstance(t, NativeType) and t.name == "timestamp":
            try:
                parsed = datetime.datetime.strptime(s, datetime_format)
            except ValueError:
                pass
            else:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=datetime.timezone.utc)
                return literals.coerce(t, parsed)
        return csv_parse(t, s, column)

    if isinstance(t, NativeType):
        if t.name in ("text", "varchar"):
            return str
        if t.name == "timestamp" and datetime_format:
            return careful
        fast = _leaf(t.name, boolstyle)
    elif t is None:
        return careful
    else:
        try:
            reader = _compile(t)
        except LookupError:
            return careful
        scan = _SCAN.findall

        def fast(s: str) -> Any:
            tokens = scan(s)
            tokens.append(("", "", "", ""))                # an end marker: every lookahead is safe
            value, i = reader(tokens, 0)
            if i != len(tokens) - 1:
                raise ValueError("trailing text")
            return value
    if fast is None:
        return careful

    def read(s: str) -> Any:
        try:
            return fast(s)
        except Exception:           # noqa: BLE001 - the careful reader decides, with its message
            return careful(s)
    return read


__all__ = ["field_reader"]
