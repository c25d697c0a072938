"""Bind parameters: ``?`` / ``:name`` values checked against their receivers, and driver-style ``%s``.

Two ways of giving values, as with cassandra-driver:

* markers (``?`` or ``:name``): the values are bound to the statement's markers, in order (a tuple or
  list) or by name (a dict: a ``:name`` marker by its name, a ``?`` marker by the name of the column
  it is compared with or assigned to, as the driver's bind metadata names it).  Each value is
  checked and converted for its receiver's type (``literals.coerce``); ``None`` is null and
  ``UNSET`` (``cqlpy.UNSET_VALUE``) leaves the column unwritten.
* ``%s`` / ``%(name)s`` in the text (a simple statement): the values are written into the text as CQL
  literals, as cassandra-driver's Encoder formats them (``'it''s'``, ``0xcafe``, ``[1, 2]`` for lists
  and tuples, ``{'a': 1}``, datetimes as milliseconds ...; one deviation: a Decimal keeps its exact
  digits, where the driver goes through float), and the resulting text is executed.  The session
  first tries the same text with markers (``percent_to_markers``): see Session.execute.
"""
from __future__ import annotations

import calendar
import datetime
import ipaddress
import math
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any, Sequence

from cqlpy.errors import InvalidRequest
from cqlpy.planner.terms import UNSET, Markers
from cqlpy.schema.formatting import duration_text
from cqlpy.schema.literals import coerce
from cqlpy.schema.values import Duration

_LEXICAL = re.compile(r"""
      '[^']*(?:''[^']*)*'          # string
    | "[^"]*(?:""[^"]*)*"          # quoted name
    | \$\$.*?\$\$                   # $$ string
    | (?:--|//)[^\n]*              # line comment
    | /\*.*?\*/                    # block comment
    | (?P<percent>%(?:s|\([A-Za-z_][A-Za-z0-9_]*\)s))
    | .
""", re.VERBOSE | re.DOTALL)


@lru_cache(maxsize=2048)
def uses_percent_style(text: str) -> bool:
    """Whether ``text`` has a ``%s`` or ``%(name)s`` placeholder outside strings and comments."""
    if "%" not in text:
        return False
    return any(m.group("percent") for m in _LEXICAL.finditer(text))


@lru_cache(maxsize=2048)
def percent_to_markers(text: str) -> tuple[str, bool] | None:
    """``text`` with ``%s`` as ``?`` and ``%(name)s`` as ``:name`` (``%%`` as ``%``), and whether the
    placeholders are named; None when that is not a faithful rewrite (a ``%`` directive inside a
    string or comment, a mix of both styles, another ``%`` directive): then only the driver's
    formatting can say what the text means."""
    out: list[str] = []
    styles: set[bool] = set()
    for match in _LEXICAL.finditer(text):
        token = match.group()
        if match.group("percent"):
            named = token.startswith("%(")
            styles.add(named)
            out.append(":" + token[2:-2] if named else "?")
        elif token == "%":
            return None                                   # %% or another directive: keep the driver's way
        elif "%" in token:
            return None                                   # a placeholder inside a string or comment
        else:
            out.append(token)
    if len(styles) != 1:
        return None
    return "".join(out), styles.pop()


# --- %s formatting (cassandra-driver's Encoder) ----------------------------------------------------

def encode_literal(value: Any) -> str:
    """A Python value as the CQL literal cassandra-driver's ``cql_encode_all_types`` writes."""
    if value is None:
        return "NULL"
    if value is UNSET:
        raise InvalidRequest("UNSET_VALUE cannot be used with %s parameters (use a prepared statement "
                             "or ? markers)")
    if isinstance(value, bool):
        return str(value)                                  # True / False: CQL keywords are case-free
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if math.isnan(value):
            return "NaN"
        return repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(datetime.timezone.utc)
        seconds = calendar.timegm(value.utctimetuple())
        return str(seconds * 1000 + value.microsecond // 1000)
    if isinstance(value, datetime.date):
        return "'" + value.strftime("%Y-%m-%d") + "'"
    if isinstance(value, datetime.time):
        return "'" + value.isoformat() + "'"
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return "'" + str(value) + "'"
    if isinstance(value, Duration):
        return duration_text(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{encode_literal(k)}: {encode_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(encode_literal(v) for v in value) + "}"
    if isinstance(value, (list, tuple)):                   # the driver writes tuples as lists too
        return "[" + ", ".join(encode_literal(v) for v in value) + "]"
    raise InvalidRequest(f"Cannot write a Python {type(value).__name__} as a CQL literal")


def format_percent(text: str, params: Any) -> str:
    """``text % params`` with every value encoded as a CQL literal (a dict for ``%(name)s``)."""
    try:
        if isinstance(params, Mapping):
            return text % {k: encode_literal(v) for k, v in params.items()}
        if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
            params = (params,)
        return text % tuple(encode_literal(v) for v in params)
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidRequest(f"Cannot format the query's %s parameters: {exc}") from None


# --- marker binding --------------------------------------------------------------------------------

def marker_names(markers: Markers) -> list[str]:
    """The bind metadata names: a ``:name`` marker's name, else its receiver's name."""
    out = []
    for name, receiver in zip(markers.names, markers.receivers):
        out.append(name if name is not None else (receiver.name if receiver is not None else "?"))
    return out


def bind_values(markers: Markers, params: Any, *, prepared: bool = False) -> list[Any]:
    """The values for a statement's markers, in marker order, each coerced to its receiver's type.

    A sequence must have one value per marker (a prepared statement may leave trailing values out:
    they are UNSET, as the driver does with protocol v4); a dict gives values by name (missing
    names are UNSET).  Wrong types are InvalidRequest naming the receiver."""
    count = len(markers)
    if params is None:
        params = ()
    kind = type(params)
    if kind is tuple or kind is list:
        values = list(params)
        if len(values) != count:
            if len(values) > count or not prepared:
                raise InvalidRequest(f"There were {count} markers(?) in CQL but {len(values)} bound "
                                     "variables")
            values.extend([UNSET] * (count - len(values)))
    elif isinstance(params, Mapping):
        lowered = {str(k): v for k, v in params.items()}
        values = []
        for name in marker_names(markers):
            if name in lowered:
                values.append(lowered[name])
            elif name.lower() in lowered:
                values.append(lowered[name.lower()])
            else:
                values.append(UNSET)
    elif isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise InvalidRequest(f"Bind values must be a tuple, a list or a dict, not {kind.__name__}")
    else:
        return bind_values(markers, list(params), prepared=prepared)
    receivers = markers.receivers
    for i, value in enumerate(values):
        if value is None or value is UNSET:
            continue
        receiver = receivers[i]
        if receiver is None:
            continue
        try:
            values[i] = coerce(receiver.type, value)
        except InvalidRequest as exc:
            converted = from_driver_value(value)
            if converted is value:
                raise InvalidRequest(f"Invalid value for {receiver.name} (bind marker {i}): {exc}") from None
            values[i] = converted if converted is UNSET else coerce(receiver.type, converted)
    return values


def from_driver_value(value: Any) -> Any:
    """cassandra-driver's own value types as plain Python values, so code written for the driver
    binds unchanged: UNSET_VALUE, SortedSet, OrderedMap(SerializedKey), util.Date, util.Time.
    Anything else is returned as is."""
    module = type(value).__module__ or ""
    if module == "builtins" and type(value) is object:
        try:
            from cassandra.query import UNSET_VALUE          # only if the driver is installed
        except ImportError:
            return value
        return UNSET if value is UNSET_VALUE else value
    if not module.startswith("cassandra"):
        return value
    name = type(value).__name__
    if name == "SortedSet":
        return set(value) if all(_hashable(v) for v in value) else list(value)
    if name in ("OrderedMap", "OrderedMapSerializedKey"):
        return dict(value.items()) if all(_hashable(k) for k in value.keys()) else list(value.items())
    if name == "Date":
        return value.days_from_epoch
    if name == "Time":
        return value.nanosecond_time
    return value


def _hashable(v: Any) -> bool:
    try:
        hash(v)
        return True
    except TypeError:
        return False
