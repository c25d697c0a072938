"""CQL constants -> values (Cassandra's assignability and fromString rules), and coerce() of Python values."""
import datetime
import ipaddress
import math
import uuid
from decimal import Decimal

import pytest

from cqlpy.errors import InvalidRequest
from cqlpy.schema import types as T
from cqlpy.schema.literals import coerce, is_assignable, literal_value, parse_duration
from cqlpy.schema.types import ListType, MapType, SetType, TupleType, UserType, parse_type
from cqlpy.schema.values import Duration, udt_class

V1 = "3fe17042-e99f-11f1-83a9-02fc00000001"
V4 = "9b2c6f4e-34c1-4c8e-a1b7-0a3e6b8d9f10"
UTC = datetime.datetime

# (kind, text, type, expected value)
ACCEPTED = [
    ("string", "abc", T.TEXT, "abc"), ("string", "", T.TEXT, ""), ("string", "it's", T.ASCII, "it's"),
    ("string", "ünï", T.TEXT, "ünï"),
    ("integer", "2147483647", T.INT, 2**31 - 1), ("integer", "-2147483648", T.INT, -2**31),
    ("integer", "127", T.TINYINT, 127), ("integer", "-32768", T.SMALLINT, -32768),
    ("integer", "9223372036854775807", T.BIGINT, 2**63 - 1), ("integer", "-5", T.COUNTER, -5),
    ("integer", "123456789012345678901234567890", T.VARINT, 123456789012345678901234567890),
    ("integer", "007", T.INT, 7),
    ("integer", "3", T.DOUBLE, 3.0), ("integer", "3", T.FLOAT, 3.0), ("integer", "3", T.DECIMAL, Decimal(3)),
    ("float", "1.5", T.DOUBLE, 1.5), ("float", "-1.5e10", T.DOUBLE, -1.5e10), ("float", "1.", T.DOUBLE, 1.0),
    ("float", "1E3", T.DOUBLE, 1000.0), ("float", "Infinity", T.DOUBLE, math.inf),
    ("float", "-Infinity", T.FLOAT, -math.inf), ("float", "1e300", T.FLOAT, math.inf),
    ("float", "0.1", T.FLOAT, 0.10000000149011612), ("float", "3.4028235E38", T.FLOAT, 3.4028234663852886e38),
    ("float", "3.40282356E38", T.FLOAT, 3.4028234663852886e38), ("float", "3.4028236E38", T.FLOAT, math.inf),
    ("float", "1.50", T.DECIMAL, Decimal("1.50")), ("float", "-1.5E-7", T.DECIMAL, Decimal("-1.5E-7")),
    ("boolean", "true", T.BOOLEAN, True), ("boolean", "FALSE", T.BOOLEAN, False),
    ("uuid", V4, T.UUID, uuid.UUID(V4)), ("uuid", V1, T.TIMEUUID, uuid.UUID(V1)),
    ("uuid", V1.upper(), T.UUID, uuid.UUID(V1)),
    ("hex", "0xCAFE", T.BLOB, b"\xca\xfe"), ("hex", "0x", T.BLOB, b""),
    ("string", "127.0.0.1", T.INET, ipaddress.ip_address("127.0.0.1")),
    ("string", "::1", T.INET, ipaddress.ip_address("::1")),
    ("null", "null", T.INT, None), ("null", "null", ListType(T.INT), None),
    # timestamps: every accepted shape; no zone means UTC
    ("string", "2011-02-03", T.TIMESTAMP, UTC(2011, 2, 3)),
    ("string", "2011-02-03 04:05", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5)),
    ("string", "2011-02-03 04:05:06", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5, 6)),
    ("string", "2011-02-03 04:05:06.789", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5, 6, 789000)),
    ("string", "2011-02-03T04:05:06.7", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5, 6, 700000)),
    ("string", "2011-02-03 04:05:00.000000+0000", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5)),
    ("string", "2011-02-03 04:05:06.123456789Z", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5, 6, 123000)),
    ("string", "2011-02-03 04:05+0100", T.TIMESTAMP, UTC(2011, 2, 3, 3, 5)),
    ("string", "2011-02-03 04:05 +01:30", T.TIMESTAMP, UTC(2011, 2, 3, 2, 35)),
    ("string", "2011-02-03T04:05:00-05", T.TIMESTAMP, UTC(2011, 2, 3, 9, 5)),
    ("string", "2011-02-03+0000", T.TIMESTAMP, UTC(2011, 2, 3)),
    ("string", "2011-02-03 04:05:00 UTC", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5)),
    ("string", "2011-2-3 4:5", T.TIMESTAMP, UTC(2011, 2, 3, 4, 5)),
    ("string", "1299038700000", T.TIMESTAMP, UTC(2011, 3, 2, 4, 5)),
    ("integer", "1299038700000", T.TIMESTAMP, UTC(2011, 3, 2, 4, 5)),
    ("integer", "-1", T.TIMESTAMP, UTC(1969, 12, 31, 23, 59, 59, 999000)),
    ("integer", "9223372036854775807", T.TIMESTAMP, 2**63 - 1),
    ("string", "10000-01-01", T.TIMESTAMP, 253402300800000),
    # dates: a string, or the raw uint32 (epoch at 2^31)
    ("string", "2011-02-03", T.DATE, datetime.date(2011, 2, 3)), ("string", "0001-01-01", T.DATE, datetime.date(1, 1, 1)),
    ("integer", "2147483648", T.DATE, datetime.date(1970, 1, 1)), ("string", "2147483649", T.DATE, datetime.date(1970, 1, 2)),
    ("integer", "0", T.DATE, -2**31), ("string", "20110203", T.DATE, 20110203 - 2**31), ("string", "+10000-01-01", T.DATE, 2932897),
    ("string", "-0001-12-31", T.DATE, -719529),
    # times: a string, or raw nanoseconds
    ("string", "04:05:06", T.TIME, datetime.time(4, 5, 6)),
    ("string", "04:05:06.123", T.TIME, datetime.time(4, 5, 6, 123000)),
    ("string", "4:05:06.123456789", T.TIME, 14706123456789),
    ("integer", "1000", T.TIME, datetime.time(0, 0, 0, 1)), ("string", "1", T.TIME, 1),
    # durations, all three forms
    ("duration", "1h30m", T.DURATION, Duration(0, 0, 90 * 60 * 10**9)),
    ("duration", "1y2mo3w4d5h6m7s8ms9us10ns", T.DURATION, Duration(14, 25, 18367008009010)),
    ("duration", "1Y2MO3D", T.DURATION, Duration(14, 3, 0)),
    ("duration", "5µs", T.DURATION, Duration(0, 0, 5000)), ("duration", "5us", T.DURATION, Duration(0, 0, 5000)),
    ("duration", "-2d10h", T.DURATION, Duration(0, -2, -36 * 10**12)),
    ("duration", "P1Y2M3DT4H5M6S", T.DURATION, Duration(14, 3, 14706 * 10**9)),
    ("duration", "PT1M", T.DURATION, Duration(0, 0, 60 * 10**9)), ("duration", "P2W", T.DURATION, Duration(0, 14, 0)),
    ("duration", "-P0001-02-03T04:05:06", T.DURATION, Duration(-14, -3, -14706 * 10**9)),
    ("duration", "0s", T.DURATION, Duration(0, 0, 0)),
]


@pytest.mark.parametrize("kind, text, t, expected", ACCEPTED,
                         ids=[f"{k}:{x}->{t.cql_name}" for k, x, t, _ in ACCEPTED])
def test_accepted(kind, text, t, expected):
    value = literal_value(kind, text, "v", t)
    assert value == expected
    assert type(value) is type(expected)


def test_nan():
    for t in (T.FLOAT, T.DOUBLE):
        assert math.isnan(literal_value("float", "NaN", "v", t))


def test_now_is_a_timestamp():
    value = literal_value("string", "now", "v", T.TIMESTAMP)
    assert abs(value - datetime.datetime.utcnow()) < datetime.timedelta(minutes=1)


# Kind not assignable to the type: `Invalid <KIND> constant (<text>) for "<col>" of type <type>`
WRONG_KIND = [
    ("string", "abc", T.INT), ("string", "123", T.INT), ("integer", "5", T.TEXT), ("float", "1.5", T.INT),
    ("float", "1.5", T.BIGINT), ("string", "true", T.BOOLEAN), ("string", V4, T.UUID), ("string", "cafe", T.BLOB),
    ("string", "0xcafe", T.BLOB), ("hex", "0x01", T.INT), ("integer", "1", T.BOOLEAN), ("boolean", "true", T.INT),
    ("uuid", V4, T.TEXT), ("duration", "1h", T.TIMESTAMP), ("string", "1h", T.DURATION),
    ("float", "1.5", T.TIMESTAMP), ("integer", "1", T.UUID), ("string", "x", ListType(T.TEXT)),
    ("integer", "1", parse_type("tuple<int>")), ("integer", "1", T.BLOB), ("integer", "1", T.INET),
]


@pytest.mark.parametrize("kind, text, t", WRONG_KIND, ids=[f"{k}:{x}->{t.cql_name}" for k, x, t in WRONG_KIND])
def test_wrong_kind(kind, text, t):
    assert not is_assignable(kind, t)
    with pytest.raises(InvalidRequest) as info:
        literal_value(kind, text, "v", t)
    assert str(info.value) == f'Invalid {kind.upper()} constant ({text}) for "v" of type {t.cql_name}'


def test_message_matches_cassandra():
    with pytest.raises(InvalidRequest, match=r'^Invalid STRING constant \(abc\) for "v" of type int$'):
        literal_value("string", "abc", "v", T.INT)


# Right kind, text the type cannot parse.
UNPARSEABLE = [
    ("integer", "2147483648", T.INT), ("integer", "-2147483649", T.INT), ("integer", "128", T.TINYINT),
    ("integer", "32768", T.SMALLINT), ("integer", "9223372036854775808", T.BIGINT),
    ("integer", "9223372036854775808", T.COUNTER), ("integer", "5", T.DURATION),
    ("string", "é", T.ASCII), ("string", "300.1.2.3", T.INET), ("string", "localhost", T.INET),
    ("uuid", V4, T.TIMEUUID), ("hex", "0xabc", T.BLOB), ("hex", "0xzz", T.BLOB),
    ("float", "NaN", T.DECIMAL), ("float", "Infinity", T.DECIMAL),
    ("string", "2011-02-30", T.TIMESTAMP), ("string", "2011-13-01", T.TIMESTAMP), ("string", "02/03/2011", T.TIMESTAMP),
    ("string", "2011-02-03 25:00", T.TIMESTAMP), ("string", "2011-02-03 04:05 Nowhere/Land", T.TIMESTAMP),
    ("string", "2011-02-03 04:05:06.1234567890", T.TIMESTAMP), ("string", "", T.TIMESTAMP),
    ("integer", "9223372036854775808", T.TIMESTAMP),
    ("string", "2011-02-30", T.DATE), ("string", "2011-2-3", T.DATE),
    ("integer", "4294967296", T.DATE), ("integer", "-1", T.DATE), ("string", "x", T.DATE),
    ("string", "24:00:00", T.TIME), ("string", "04:05", T.TIME), ("string", "04:05:06.", T.TIME),
    ("string", "04:05:06.1234567890", T.TIME), ("integer", "86400000000000", T.TIME), ("integer", "-1", T.TIME),
    ("duration", "1h1h", T.DURATION), ("duration", "1m1h", T.DURATION), ("duration", "1x", T.DURATION),
    ("duration", "h", T.DURATION), ("duration", "P1H", T.DURATION), ("duration", "P1Y2W", T.DURATION),
    ("duration", "P0001-02-03", T.DURATION), ("duration", "2147483648mo", T.DURATION),
    ("duration", "178956971y", T.DURATION), ("duration", "9223372036854775808ns", T.DURATION),
    ("boolean", "yes", T.BOOLEAN), ("float", "1.5.5", T.DOUBLE), ("float", "0x10", T.DOUBLE),
    ("integer", "1_000", T.INT), ("integer", "١٢", T.INT), ("string", "٢٠١١-02-03", T.TIMESTAMP), ("float", "1_0.5", T.DOUBLE), ("uuid", "{" + V4 + "}", T.UUID),
]


@pytest.mark.parametrize("kind, text, t", UNPARSEABLE, ids=[f"{k}:{x}->{t.cql_name}" for k, x, t in UNPARSEABLE])
def test_unparseable(kind, text, t):
    assert is_assignable(kind, t)
    with pytest.raises(InvalidRequest):
        literal_value(kind, text, "v", t)


@pytest.mark.parametrize("text, message", [
    ("1h1h", "The hours are specified multiple times"),
    ("1m1h", "The minutes should be after hours"),
    ("2147483648mo", "The total number of months must be less or equal to 2147483647"),
])
def test_duration_messages(text, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_duration(text)


def test_huge_integer_literal():
    text = "9" * 5000
    assert literal_value("integer", text, "v", T.VARINT) == 10**5000 - 1
    assert literal_value("integer", text, "v", T.DOUBLE) == math.inf


# --- coerce: Python values -------------------------------------------------------------------------

ADDRESS = UserType("ks", "address", ("street", "zip"), (T.TEXT, T.INT))


@pytest.mark.parametrize("t, given, expected", [
    (T.DOUBLE, 3, 3.0), (T.FLOAT, 0.1, 0.10000000149011612), (T.DECIMAL, 3, Decimal(3)),
    (T.DECIMAL, 0.1, Decimal("0.1")), (T.VARINT, 10**30, 10**30),
    (T.TIMESTAMP, 0, datetime.datetime(1970, 1, 1)), (T.TIMESTAMP, datetime.date(2011, 2, 3), datetime.datetime(2011, 2, 3)),
    (T.TIMESTAMP, datetime.datetime(2011, 2, 3, 4, 5, 6, 789999), datetime.datetime(2011, 2, 3, 4, 5, 6, 789000)),
    (T.TIMESTAMP, datetime.datetime(2011, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-1))),
     datetime.datetime(2011, 2, 3, 5, 5)),
    (T.DATE, 0, datetime.date(1970, 1, 1)), (T.DATE, datetime.datetime(2011, 2, 3, 23, 0), datetime.date(2011, 2, 3)),
    (T.TIME, 3_000, datetime.time(0, 0, 0, 3)), (T.TIME, 3_001, 3_001),
    (T.INET, "10.0.0.1", ipaddress.ip_address("10.0.0.1")), (T.BLOB, bytearray(b"ab"), b"ab"),
    (T.BLOB, memoryview(b"ab"), b"ab"),
    (ListType(T.DOUBLE), (1, 2.5), [1.0, 2.5]), (SetType(T.INT), [1, 1, 2], {1, 2}),
    (SetType(T.INT), frozenset({3}), {3}),
    (parse_type("set<frozen<list<int>>>"), [[2], [1], [2]], [[1], [2]]),
    (MapType(T.TEXT, T.INT), [("a", 1)], {"a": 1}),
    (TupleType((T.INT, T.TEXT)), [1], (1, None)),
    (ADDRESS, {"zip": 5}, udt_class(ADDRESS)(None, 5)), (ADDRESS, ("x",), udt_class(ADDRESS)("x", None)),
    (T.DURATION, Duration(1, 2, 3), Duration(1, 2, 3)),
])
def test_coerce(t, given, expected):
    value = coerce(t, given)
    assert value == expected
    assert type(value) is type(expected)


def test_coerce_accepts_duck_typed_udts_and_durations():
    class Address:
        street, zip = "x", 1

    class DriverDuration:
        months, days, nanoseconds = 1, 0, 5
    assert coerce(ADDRESS, Address()) == ("x", 1)
    assert coerce(T.DURATION, DriverDuration()) == Duration(1, 0, 5)


@pytest.mark.parametrize("t, value", [
    (T.INT, "1"), (T.INT, 1.5), (T.INT, None.__class__), (T.DOUBLE, "1"), (T.TEXT, 1), (T.BOOLEAN, "true"),
    (T.UUID, 5), (T.TIMESTAMP, 1.5), (T.DATE, "2011-01-01"), (T.TIME, datetime.datetime(2011, 1, 1)),
    (T.INT, 2**31), (ADDRESS, 5), (ADDRESS, "text"), (MapType(T.INT, T.INT), [(1, 2, 3)]),
])
def test_coerce_refuses(t, value):
    with pytest.raises(InvalidRequest):
        coerce(t, value)
