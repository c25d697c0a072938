"""The native-protocol value codec: round trips, cassandra-driver's bytes as oracle, malformed input."""
import datetime
import ipaddress
import math
import uuid
from decimal import Decimal

import pytest
from cassandra import cqltypes
from cassandra import util as driver_util

from cqlpy.errors import InvalidRequest
from cqlpy.schema import types as T
from cqlpy.schema.codec import (
    decode_duration, deserialize, encode_duration, read_unsigned_vint, serialize, write_unsigned_vint,
)
from cqlpy.schema.types import ListType, MapType, SetType, TupleType, UserType, parse_type
from cqlpy.schema.values import Duration, udt_class

ADDRESS = UserType("ks", "address", ("street", "zip", "tags"), (T.TEXT, T.INT, SetType(T.TEXT, True)))
V1 = uuid.UUID("3fe17042-e99f-11f1-83a9-02fc00000001")
V4 = uuid.UUID("9b2c6f4e-34c1-4c8e-a1b7-0a3e6b8d9f10")

# (type, value): each must survive serialize -> deserialize unchanged.
ROUND_TRIPS = [
    (T.ASCII, ""), (T.ASCII, "hello"),
    (T.TEXT, ""), (T.TEXT, "héllo wörld ✓ 𝄞"), (T.TEXT, "nul\x00inside"),
    (T.TINYINT, -128), (T.TINYINT, 127), (T.SMALLINT, -32768), (T.SMALLINT, 32767),
    (T.INT, -2**31), (T.INT, 2**31 - 1), (T.INT, 0), (T.BIGINT, -2**63), (T.BIGINT, 2**63 - 1),
    (T.COUNTER, 42),
    (T.VARINT, 0), (T.VARINT, -1), (T.VARINT, 127), (T.VARINT, 128), (T.VARINT, -128), (T.VARINT, -129),
    (T.VARINT, 10**100), (T.VARINT, -(10**100)), (T.VARINT, 10**6000),
    (T.FLOAT, 1.5), (T.FLOAT, -0.0), (T.FLOAT, math.inf), (T.FLOAT, -math.inf), (T.FLOAT, 3.4028234663852886e38),
    (T.DOUBLE, 0.1), (T.DOUBLE, -0.0), (T.DOUBLE, 1.7976931348623157e308), (T.DOUBLE, 5e-324), (T.DOUBLE, -math.inf),
    (T.DECIMAL, Decimal("0")), (T.DECIMAL, Decimal("-1.23")), (T.DECIMAL, Decimal("1.000")),
    (T.DECIMAL, Decimal("1E+10")), (T.DECIMAL, Decimal("-0.000000000000000000000000000001")),
    (T.DECIMAL, Decimal("123456789012345678901234567890.123456789")),
    (T.BOOLEAN, True), (T.BOOLEAN, False),
    (T.UUID, V4), (T.UUID, V1), (T.TIMEUUID, V1),
    (T.TIMESTAMP, datetime.datetime(2011, 2, 3, 4, 5, 6, 789000)),
    (T.TIMESTAMP, datetime.datetime(1, 1, 1)), (T.TIMESTAMP, datetime.datetime(9999, 12, 31, 23, 59, 59, 999000)),
    (T.TIMESTAMP, datetime.datetime(1969, 12, 31, 23, 59, 59, 999000)),
    (T.TIMESTAMP, 2**63 - 1), (T.TIMESTAMP, -2**63),             # outside datetime's range: int ms
    (T.DATE, datetime.date(2011, 2, 3)), (T.DATE, datetime.date(1, 1, 1)), (T.DATE, datetime.date(9999, 12, 31)),
    (T.DATE, 2**31 - 1), (T.DATE, -2**31),                        # outside date's range: int days
    (T.TIME, datetime.time(0, 0)), (T.TIME, datetime.time(23, 59, 59, 999999)),
    (T.TIME, 86_399_999_999_999), (T.TIME, 1),                    # sub-microsecond: int ns
    (T.DURATION, Duration(0, 0, 0)), (T.DURATION, Duration(14, 25, 18367008009010)),
    (T.DURATION, Duration(-1, -2, -3)), (T.DURATION, Duration(2**31 - 1, 2**31 - 1, 2**63 - 1)),
    (T.DURATION, Duration(-2**31, -2**31, -2**63)),
    (T.BLOB, b""), (T.BLOB, bytes(range(256))),
    (T.INET, ipaddress.ip_address("127.0.0.1")), (T.INET, ipaddress.ip_address("::1")),
    (T.INET, ipaddress.ip_address("2001:db8::ff00:42:8329")),
    (ListType(T.INT), []), (ListType(T.INT), [3, 1, 3]),
    (SetType(T.TEXT), set()), (SetType(T.TEXT), {"b", "a", ""}),
    (MapType(T.TEXT, T.INT), {}), (MapType(T.TEXT, T.INT), {"a": 1, "b": 2}),
    (parse_type("frozen<list<frozen<map<int, frozen<set<text>>>>>>"), [{1: {"x"}, 2: set()}, {}]),
    (parse_type("set<frozen<list<int>>>"), [[1], [1, 2], [2]]),        # unhashable elements: a list
    (parse_type("map<frozen<list<int>>, text>"), [([1], "a"), ([2], "b")]),
    (TupleType((T.INT, T.TEXT, T.BLOB)), (1, None, b"x")), (TupleType((T.INT,)), (None,)),
    (TupleType((T.INT, ListType(T.INT, True))), (1, [2, 3])),
    (ADDRESS, udt_class(ADDRESS)("Main St", None, {"a"})), (ADDRESS, udt_class(ADDRESS)(None, None, None)),
]


@pytest.mark.parametrize("t, value", ROUND_TRIPS, ids=[f"{t.cql_name}-{i}" for i, (t, _) in enumerate(ROUND_TRIPS)])
def test_round_trip(t, value):
    data = serialize(t, value)
    back = deserialize(t, data)
    assert back == value
    assert type(back) is type(value)
    assert serialize(t, back) == data


def test_nan_round_trip():
    for t in (T.FLOAT, T.DOUBLE):
        assert math.isnan(deserialize(t, serialize(t, math.nan)))


def test_negative_zero_keeps_its_sign():
    assert math.copysign(1, deserialize(T.DOUBLE, serialize(T.DOUBLE, -0.0))) == -1


def test_null_is_none_both_ways():
    assert serialize(T.INT, None) is None and deserialize(T.INT, None) is None


def test_memoryview_input():
    assert deserialize(T.INT, memoryview(b"\x00\x00\x00\x07")) == 7
    assert deserialize(ListType(T.INT), bytearray(serialize(ListType(T.INT), [1]))) == [1]


# --- cassandra-driver as oracle ------------------------------------------------------------------

def _driver_type(t):
    return cqltypes.lookup_casstype(t.class_name)


DRIVER_CASES = [
    (T.ASCII, "abc"), (T.TEXT, "héllo"), (T.TINYINT, -5), (T.SMALLINT, 300), (T.INT, -123456),
    (T.BIGINT, 2**40), (T.COUNTER, -7), (T.VARINT, 0), (T.VARINT, -1), (T.VARINT, 255), (T.VARINT, -256),
    (T.VARINT, 2**200 + 12345), (T.FLOAT, 1.5), (T.DOUBLE, -2.25), (T.DECIMAL, Decimal("-1.23")),
    (T.DECIMAL, Decimal("12345678901234567890.0001")), (T.DECIMAL, Decimal("1E+5")), (T.BOOLEAN, True),
    (T.UUID, V4), (T.TIMEUUID, V1), (T.TIMESTAMP, datetime.datetime(2011, 2, 3, 4, 5, 6, 789000)),
    (T.TIMESTAMP, datetime.datetime(1950, 6, 1, 12, 0)), (T.DATE, datetime.date(2011, 2, 3)),
    (T.DATE, datetime.date(1, 1, 1)), (T.TIME, datetime.time(4, 5, 6, 123456)),
    (T.DURATION, Duration(1, 2, 3)), (T.DURATION, Duration(-1, -2, -300_000_000_000)),
    (T.DURATION, Duration(0, 0, 2**62)), (T.BLOB, b"\x00\xff"),
    (T.INET, ipaddress.ip_address("10.1.2.3")), (T.INET, ipaddress.ip_address("fe80::1")),
    (ListType(T.TEXT), ["b", "a"]), (SetType(T.INT), [-1, 2, 10]), (MapType(T.TEXT, T.BIGINT), {"a": 1, "b": -2}),
    (parse_type("frozen<map<int, frozen<list<text>>>>"), {1: ["x", "y"], 2: []}),
    (TupleType((T.INT, T.TEXT, T.DOUBLE)), (1, None, 2.5)),
]


def _for_driver(t, v):
    if t == T.DURATION:
        return driver_util.Duration(v.months, v.days, v.nanoseconds)
    if t == T.INET:
        return str(v)
    return v


@pytest.mark.parametrize("t, value", DRIVER_CASES, ids=[f"{t.cql_name}-{i}" for i, (t, _) in enumerate(DRIVER_CASES)])
def test_bytes_equal_the_drivers(t, value):
    driver = _driver_type(t)
    expected = driver.serialize(_for_driver(t, value), 4)
    ours_value = set(value) if isinstance(t, SetType) else value
    assert serialize(t, ours_value) == expected
    assert deserialize(t, expected) == ours_value


def test_udt_bytes_equal_the_drivers():
    driver = cqltypes.UserType.make_udt_class("ks", "address", ["street", "zip", "tags"],
                                             [cqltypes.UTF8Type, cqltypes.Int32Type,
                                              cqltypes.SetType.apply_parameters([cqltypes.UTF8Type])])
    value = udt_class(ADDRESS)("Main", 5, {"b", "a"})
    expected = driver.serialize(("Main", 5, ["a", "b"]), 4)
    assert serialize(ADDRESS, value) == expected
    assert deserialize(ADDRESS, expected) == value


def test_driver_reads_our_bytes():
    cases = [(T.DATE, datetime.date(2011, 2, 3)), (T.TIME, datetime.time(1, 2, 3, 4)),
             (T.TIMESTAMP, datetime.datetime(2020, 1, 2, 3, 4, 5, 6000)), (T.DECIMAL, Decimal("-0.5"))]
    for t, value in cases:
        read = _driver_type(t).deserialize(serialize(t, value), 4)
        if t == T.DATE:
            read = read.date()
        elif t == T.TIME:
            read = read.time()
        assert read == value


# --- layout details ----------------------------------------------------------------------------------

def test_layouts():
    assert serialize(T.DATE, datetime.date(1970, 1, 1)) == b"\x80\x00\x00\x00"
    assert serialize(T.DATE, 0) == b"\x80\x00\x00\x00"
    assert serialize(T.TIME, 1) == b"\x00" * 7 + b"\x01"
    assert serialize(T.TIMESTAMP, datetime.datetime(1970, 1, 1, 0, 0, 0, 1999)) == (1).to_bytes(8, "big")
    assert serialize(T.DECIMAL, Decimal("-1.23")) == b"\x00\x00\x00\x02\x85"
    assert serialize(T.DECIMAL, Decimal("1E+3")) == b"\xff\xff\xff\xfd\x01"
    assert serialize(T.DURATION, Duration(1, 2, 3)) == b"\x02\x04\x06"
    assert serialize(ListType(T.INT), [1]) == b"\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01"
    assert serialize(TupleType((T.INT, T.INT)), (None, 1)) == b"\xff\xff\xff\xff\x00\x00\x00\x04\x00\x00\x00\x01"


def test_aware_datetimes_are_converted_to_utc():
    tz = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2011, 2, 3, 6, 5, tzinfo=tz)
    assert deserialize(T.TIMESTAMP, serialize(T.TIMESTAMP, aware)) == datetime.datetime(2011, 2, 3, 4, 5)


def test_sub_millisecond_timestamps_round_down():
    value = datetime.datetime(1969, 12, 31, 23, 59, 59, 999999)
    assert deserialize(T.TIMESTAMP, serialize(T.TIMESTAMP, value)) == datetime.datetime(1969, 12, 31, 23, 59, 59, 999000)


def test_sets_and_maps_are_written_in_cassandra_order_without_duplicates():
    assert deserialize(ListType(T.INT), serialize(SetType(T.INT), [3, -1, 3, 2])) == [-1, 2, 3]
    data = serialize(SetType(T.DECIMAL), [Decimal("1.0"), Decimal("1.00"), Decimal("0.5")])
    assert len(deserialize(SetType(T.DECIMAL), data)) == 2          # 1.0 == 1.00 for Cassandra
    m = deserialize(MapType(T.INT, T.TEXT), serialize(MapType(T.INT, T.TEXT), {5: "a", -5: "b", 0: "c"}))
    assert list(m) == [-5, 0, 5]
    pairs = deserialize(parse_type("map<frozen<list<int>>, int>"),
                        serialize(parse_type("map<frozen<list<int>>, int>"), [([2], 1), ([1, 5], 2), ([1], 3)]))
    assert pairs == [([1], 3), ([1, 5], 2), ([2], 1)]


def test_missing_trailing_udt_fields_read_as_null():
    data = serialize(TupleType((T.TEXT,)), ("x",))
    assert deserialize(ADDRESS, data) == udt_class(ADDRESS)("x", None, None)


def test_udt_class_is_a_namedtuple():
    value = deserialize(ADDRESS, serialize(ADDRESS, {"street": "x", "zip": 1}))
    assert type(value).__name__ == "address"
    assert value.street == "x" and value.zip == 1 and value.tags is None
    odd = UserType("ks", "my type", ("select", "a b", "ok"), (T.INT, T.INT, T.INT))
    assert tuple(deserialize(odd, serialize(odd, (1, 2, 3)))) == (1, 2, 3)


def test_empty_values():
    for t in (T.INT, T.BIGINT, T.UUID, T.TIMESTAMP, T.DOUBLE, T.DECIMAL, T.VARINT, T.INET, T.BOOLEAN,
              ListType(T.INT), ADDRESS):
        assert deserialize(t, b"") is None
    assert deserialize(T.TEXT, b"") == "" and deserialize(T.BLOB, b"") == b""


# --- refusals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("t, value", [
    (T.INT, 2**31), (T.INT, -2**31 - 1), (T.TINYINT, 128), (T.SMALLINT, -32769), (T.BIGINT, 2**63),
    (T.INT, "1"), (T.INT, 1.0), (T.INT, True), (T.TEXT, 5), (T.TEXT, b"x"), (T.ASCII, "é"),
    (T.TEXT, "\ud800"), (T.BOOLEAN, 1), (T.UUID, "9b2c6f4e-34c1-4c8e-a1b7-0a3e6b8d9f10"),
    (T.TIMEUUID, V4), (T.FLOAT, 1e300), (T.FLOAT, "1.5"), (T.DOUBLE, 10**400), (T.DECIMAL, Decimal("NaN")),
    (T.DECIMAL, math.inf), (T.DECIMAL, "1"), (T.TIMESTAMP, 2**63), (T.TIMESTAMP, "2011-02-03"),
    (T.DATE, 2**31), (T.DATE, "2011-02-03"), (T.TIME, -1), (T.TIME, 86_400_000_000_000),
    (T.DURATION, Duration(1, -1, 0)), (T.DURATION, Duration(2**31, 0, 0)), (T.DURATION, 5),
    (T.BLOB, "00"), (T.INET, "not an address"), (T.INET, 12),
    (ListType(T.INT), [1, None]), (ListType(T.INT), "12"), (ListType(T.INT), {1}), (SetType(T.INT), [None]),
    (SetType(T.INT), "ab"), (MapType(T.INT, T.INT), {1: None}), (MapType(T.INT, T.INT), [1, 2]),
    (TupleType((T.INT,)), (1, 2)), (TupleType((T.INT,)), 1), (ADDRESS, {"nosuchfield": 1}),
    (ADDRESS, ("a", 1, set(), "extra")), (ADDRESS, {"zip": "x"}),
])
def test_serialize_refuses(t, value):
    with pytest.raises(InvalidRequest):
        serialize(t, value)


def test_refusal_message_names_the_type():
    with pytest.raises(InvalidRequest, match="out of range for type int"):
        serialize(T.INT, 2**31)
    with pytest.raises(InvalidRequest, match="for type int"):
        serialize(T.INT, "1")


@pytest.mark.parametrize("t, data", [
    (T.INT, b"\x00\x00\x01"), (T.BIGINT, b"\x00" * 9), (T.DOUBLE, b"\x00" * 4), (T.FLOAT, b"\x00" * 8),
    (T.UUID, b"\x00" * 15), (T.TIMEUUID, V4.bytes), (T.DATE, b"\x00" * 8), (T.TIME, b"\xff" * 8),
    (T.TIME, (86_400_000_000_000).to_bytes(8, "big")), (T.INET, b"\x01\x02\x03"), (T.BOOLEAN, b"\x00\x00"),
    (T.DECIMAL, b"\x00\x00\x00"), (T.DECIMAL, b"\x00\x00\x00\x01"), (T.TEXT, b"\xff\xfe"), (T.ASCII, b"\xc3\xa9"),
    (T.DURATION, b"\x02\x04"), (T.DURATION, b"\x02\x04\x06\x08"), (T.DURATION, b"\x02\x03\x06"),
    (T.DURATION, b"\xff"),
    (ListType(T.INT), b"\x00\x00\x00"), (ListType(T.INT), b"\x7f\xff\xff\xff"),
    (ListType(T.INT), b"\x00\x00\x00\x02\x00\x00\x00\x04\x00\x00\x00\x01"),
    (ListType(T.INT), b"\x00\x00\x00\x01\x7f\xff\xff\xff\x00"),
    (ListType(T.INT), b"\x00\x00\x00\x01\xff\xff\xff\xff"),
    (ListType(T.INT), b"\xff\xff\xff\xfe"), (ListType(T.INT), serialize(ListType(T.INT), [1]) + b"x"),
    (MapType(T.INT, T.INT), b"\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01"),
    (TupleType((T.INT,)), b"\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01"),
    (TupleType((T.INT,)), b"\x00\x00\x00\x09\x00"), (TupleType((T.INT,)), b"\x00\x00"),
])
def test_deserialize_refuses_malformed_bytes(t, data):
    with pytest.raises(InvalidRequest):
        deserialize(t, data)


def test_huge_declared_count_is_refused_without_allocating():
    with pytest.raises(InvalidRequest):
        deserialize(ListType(T.BLOB), b"\x7f\xff\xff\xff" + b"\x00\x00\x00\x00" * 4)


# --- vints ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, size", [(0, 1), (127, 1), (128, 2), (2**14 - 1, 2), (2**14, 3), (2**56 - 1, 8),
                                         (2**56, 9), (2**64 - 1, 9)])
def test_unsigned_vint(value, size):
    out = bytearray()
    write_unsigned_vint(out, value)
    assert len(out) == size
    assert read_unsigned_vint(bytes(out) + b"junk", 0) == (value, size)


def test_duration_vints_match_cassandra():
    # zigzag(-1)=1, zigzag(-2)=3, zigzag(-3e11)=599999999999 in a 6-byte vint (from the driver)
    assert encode_duration(Duration(-1, -2, -300_000_000_000)) == b"\x01\x03\xf8\x8b\xb2\xc9o\xff"
    assert decode_duration(b"\x01\x03\xf8\x8b\xb2\xc9o\xff") == Duration(-1, -2, -300_000_000_000)
