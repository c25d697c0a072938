"""CSV text of values: exact round trips per type, and cqlsh's display."""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import math
import uuid

import pytest

from cqlpy.schema.types import NATIVE_TYPES, ListType, MapType, SetType, TupleType, UserType, parse_type
from cqlpy.schema.values import Duration

from cqlpy_shell.values import csv_parse, csv_value, display_value, json_value

N = NATIVE_TYPES
POINT = UserType("ks", "point", ("x", "y"), (N["int"], N["text"]), frozen=True)

CASES = [
    (N["int"], -42), (N["bigint"], 2**63 - 1), (N["smallint"], -32768), (N["tinyint"], 127),
    (N["varint"], 10**40), (N["decimal"], decimal.Decimal("-1.2300E-7")), (N["double"], 0.1),
    (N["double"], 1e308), (N["double"], -0.0), (N["double"], float("inf")), (N["float"], 3.4028234663852886e38),
    (N["float"], 0.10000000149011612), (N["boolean"], False), (N["text"], "a,b\n'c'"), (N["ascii"], "x"),
    (N["blob"], b"\x00\xff"), (N["blob"], b""), (N["uuid"], uuid.UUID(int=7)),
    (N["timeuuid"], uuid.UUID("50554d6e-29bb-11e5-b345-feff819cdc9f")),
    (N["inet"], ipaddress.ip_address("::1")), (N["inet"], ipaddress.ip_address("10.0.0.1")),
    (N["date"], datetime.date(1, 1, 1)), (N["time"], datetime.time(23, 59, 59, 999999)), (N["time"], 47655123456789),
    (N["timestamp"], datetime.datetime(1969, 12, 31, 23, 59, 59, 999000)),
    (N["duration"], Duration(14, 3, 5_000_000_123)), (N["duration"], Duration(-1, -2, -3)),
    (ListType(N["text"]), ["a'b", "", "c,d"]), (SetType(N["int"]), {3, 1}),
    (MapType(N["text"], ListType(N["int"]).freeze()), {"k": [1, 2]}),
    (TupleType((N["int"], N["text"], N["double"])), (1, None, 2.5)), (POINT, None),
]


@pytest.mark.parametrize("cql_type, value", CASES, ids=lambda x: str(x)[:30])
def test_csv_round_trip(cql_type, value):
    if value is None:
        return
    text = csv_value(cql_type, value)
    back = csv_parse(cql_type, text)
    if isinstance(value, float) and value == 0:
        assert math.copysign(1, back) == math.copysign(1, value)
    assert back == value, text


def test_udt_round_trip():
    value = csv_parse(POINT, "{x: 1, y: 'it''s'}")
    assert csv_parse(POINT, csv_value(POINT, value)) == value


def test_parse_leniency():
    assert csv_parse(N["boolean"], "True") is True and csv_parse(N["boolean"], "no") is False
    assert csv_parse(N["timestamp"], "2024-01-02 03:04:05+0000") == datetime.datetime(2024, 1, 2, 3, 4, 5)
    with pytest.raises(Exception):
        csv_parse(N["int"], "twelve")
    with pytest.raises(Exception):
        csv_parse(ListType(N["int"]), "[1, 2")


def test_display_and_json():
    assert display_value(N["double"], 3.14159265) == "3.14159"
    assert display_value(N["text"], "a\nb") == "a\\nb"
    assert display_value(None, None) == "null"
    assert display_value(N["int"], 10**5000)[:3] == "100"
    assert json_value(parse_type("map<text, int>"), {"a": 1}) == {"a": 1}
    assert json_value(N["blob"], b"\x01") == "0x01"
    assert json_value(N["decimal"], decimal.Decimal("1.10")) == "1.10"
