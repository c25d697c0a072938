"""Values as CQL literals (they parse back) and as cqlsh displays them."""
import datetime
import ipaddress
import math
import uuid
from decimal import Decimal

import pytest

from cqlpy.schema import types as T
from cqlpy.schema.formatting import cqlsh_float_str, display, java_float_str, to_cql_literal
from cqlpy.schema.types import ListType, MapType, SetType, TupleType, UserType, parse_type
from cqlpy.schema.values import Duration, udt_class

ADDRESS = UserType("ks", "address", ("street", "Zip Code"), (T.TEXT, T.INT), True)
U = uuid.UUID("9b2c6f4e-34c1-4c8e-a1b7-0a3e6b8d9f10")
TS = datetime.datetime(2011, 2, 3, 4, 5, 6, 789000)

LITERALS = [
    (T.TEXT, "it's", "'it''s'"), (T.ASCII, "", "''"), (T.INT, -5, "-5"), (T.VARINT, 10**5000, "1" + "0" * 5000),
    (T.DOUBLE, 1.0, "1.0"), (T.DOUBLE, 1e20, "1.0E20"), (T.DOUBLE, -2.5e-10, "-2.5E-10"), (T.DOUBLE, 0.001, "0.001"),
    (T.DOUBLE, 1234567.5, "1234567.5"), (T.DOUBLE, 12345678.0, "1.2345678E7"), (T.DOUBLE, math.nan, "NaN"),
    (T.DOUBLE, -math.inf, "-Infinity"), (T.DOUBLE, -0.0, "-0.0"), (T.FLOAT, 0.10000000149011612, "0.1"),
    (T.FLOAT, 3.4028234663852886e38, "3.4028235E38"),
    (T.DECIMAL, Decimal("-1.50"), "-1.50"), (T.DECIMAL, Decimal("1E+3"), "1E+3"),
    (T.BOOLEAN, True, "true"), (T.UUID, U, str(U)), (T.BLOB, b"\xca\xfe", "0xcafe"), (T.BLOB, b"", "0x"),
    (T.INET, ipaddress.ip_address("::1"), "'::1'"),
    (T.TIMESTAMP, TS, "'2011-02-03 04:05:06.789+0000'"), (T.TIMESTAMP, datetime.datetime(5, 1, 1), "'0005-01-01 00:00:00.000+0000'"),
    (T.TIMESTAMP, 2**62, str(2**62)),
    (T.DATE, datetime.date(2011, 2, 3), "'2011-02-03'"), (T.DATE, -2**31, "0"),
    (T.TIME, datetime.time(4, 5, 6, 7), "'04:05:06.000007000'"), (T.TIME, 1, "'00:00:00.000000001'"),
    (T.DURATION, Duration(14, 25, 18367008009010), "1y2mo25d5h6m7s8ms9us10ns"),
    (T.DURATION, Duration(0, -1, -3600 * 10**9), "-1d1h"), (T.DURATION, Duration(0, 0, 0), "0s"),
    (ListType(T.TEXT), ["a", "b'"], "['a', 'b''']"), (ListType(T.INT), [], "[]"),
    (SetType(T.INT), {3, -1, 2}, "{-1, 2, 3}"), (MapType(T.TEXT, T.INT), {"b": 2, "a": 1}, "{'a': 1, 'b': 2}"),
    (TupleType((T.INT, T.TEXT)), (1, None), "(1, null)"),
    (ADDRESS, udt_class(ADDRESS)("x", 5), "{street: 'x', \"Zip Code\": 5}"),
    (parse_type("frozen<list<frozen<map<int, frozen<set<text>>>>>>"), [{1: {"b", "a"}}], "[{1: {'a', 'b'}}]"),
    (T.INT, None, "null"),
]


@pytest.mark.parametrize("t, value, text", LITERALS, ids=[f"{t.cql_name}-{i}" for i, (t, _, _) in enumerate(LITERALS)])
def test_to_cql_literal(t, value, text):
    assert to_cql_literal(t, value) == text


DISPLAYS = [
    (T.TEXT, "plain", "plain"), (T.TEXT, "a\\b\nc", "a\\\\b\\nc"), (T.INT, 42, "42"), (T.BOOLEAN, False, "False"),
    (T.DOUBLE, 3.14159265, "3.14159"), (T.DOUBLE, 123456789.123, "1.2346e+08"), (T.DOUBLE, 1.0, "1"),
    (T.FLOAT, 0.10000000149011612, "0.1"), (T.DOUBLE, math.nan, "NaN"), (T.DOUBLE, math.inf, "Infinity"),
    (T.DECIMAL, Decimal("1.50"), "1.50"), (T.UUID, U, str(U)), (T.BLOB, b"\x01\xff", "0x01ff"),
    (T.INET, ipaddress.ip_address("10.0.0.1"), "10.0.0.1"),
    (T.TIMESTAMP, TS, "2011-02-03 04:05:06.789000+0000"), (T.TIMESTAMP, 2**62, str(2**62)),
    (T.DATE, datetime.date(2011, 2, 3), "2011-02-03"), (T.DATE, 2**31 - 1, str(2**31 - 1)),
    (T.TIME, datetime.time(4, 5, 6, 7), "04:05:06.000007000"), (T.DURATION, Duration(0, 0, 90 * 60 * 10**9), "1h30m"),
    (T.INT, None, "null"),
    (ListType(T.TEXT), ["a", "it's"], "['a', 'it''s']"), (SetType(T.INT), {2, 1}, "{1, 2}"),
    (MapType(T.TEXT, T.TIMESTAMP), {"k": TS}, "{'k': '2011-02-03 04:05:06.789000+0000'}"),
    (ListType(T.DATE), [datetime.date(2011, 2, 3)], "[2011-02-03]"),
    (ListType(T.INET), [ipaddress.ip_address("::1")], "['::1']"),
    (TupleType((T.INT, T.TEXT)), (1, None), "(1, null)"),
    (ADDRESS, udt_class(ADDRESS)("x", None), "{street: 'x', Zip Code: null}"),
]


@pytest.mark.parametrize("t, value, text", DISPLAYS, ids=[f"{t.cql_name}-{i}" for i, (t, _, _) in enumerate(DISPLAYS)])
def test_display(t, value, text):
    assert display(t, value) == text


def test_float_helpers():
    assert java_float_str(100.0) == "100.0"
    assert java_float_str(1e7) == "1.0E7"
    assert java_float_str(9999999.0) == "9999999.0"
    assert java_float_str(0.00099) == "9.9E-4"
    assert cqlsh_float_str(0.5, 5) == "0.5"
    assert cqlsh_float_str(1e-20, 5) == "1e-20"
    assert cqlsh_float_str(3.14159265, 12) == "3.14159265"
