"""Keys: partition-key bytes (tokens equal Cassandra's), order-preserving clustering and cell-path bytes."""
import datetime
import ipaddress
import math
import uuid
from decimal import Decimal

import pytest
from cassandra.metadata import Murmur3Token

from cqlpy.errors import InvalidRequest, ServerError
from cqlpy.schema import keycodec as K
from cqlpy.schema import types as T
from cqlpy.schema.types import ListType, MapType, SetType, TupleType, UserType, parse_type
from cqlpy.schema.values import Duration, udt_class


def ordered(t, values):
    """The values sorted by their encoding."""
    return sorted(values, key=lambda v: K.encode_value(t, v))


def uuid_of(version, msb_rest=0, lsb=0):
    msb = (msb_rest & ~(0xF << 12)) | (version << 12)
    return uuid.UUID(int=(msb << 64) | lsb)


def v1(timestamp, lsb=0):
    """A version-1 uuid with the given 60-bit timestamp."""
    msb = ((timestamp & 0xFFFFFFFF) << 32) | (((timestamp >> 32) & 0xFFFF) << 16) | 0x1000 | (timestamp >> 48)
    return uuid.UUID(int=(msb << 64) | lsb)


# --- Cassandra's comparators, case by case ------------------------------------------------------------

@pytest.mark.parametrize("t, values", [
    (T.INT, [-2**31, -1, 0, 1, 2**31 - 1]),
    (T.TINYINT, [-128, -1, 0, 127]),
    (T.BIGINT, [-2**63, -1, 0, 2**63 - 1]),
    (T.VARINT, [-2**1100, -(10**300), -256, -255, -129, -128, -1, 0, 1, 127, 128, 255, 256, 10**300, 2**1100]),
    (T.DECIMAL, [Decimal("-1E+400"), Decimal("-100"), Decimal("-1.5"), Decimal("-1.05"), Decimal("-1"),
                 Decimal("-0.001"), Decimal("0"), Decimal("1E-400"), Decimal("0.0999"), Decimal("0.1"),
                 Decimal("0.101"), Decimal("1"), Decimal("1.05"), Decimal("1.5"), Decimal("10"), Decimal("1E+400")]),
    (T.DOUBLE, [-math.inf, -1e308, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1.0, math.inf, math.nan]),
    (T.FLOAT, [-math.inf, -1.5, -0.0, 0.0, 1.5, 3.4028234663852886e38, math.inf, math.nan]),
    (T.TEXT, ["", "\x00", "\x00\x00", "\x01", "A", "a", "a\x00", "ab", "b", "é", "✓", "𝄞"]),
    (T.BLOB, [b"", b"\x00", b"\x00\x00", b"\x00\xff", b"\x01", b"\xff", b"\xff\x00", b"\xff\xff"]),
    (T.BOOLEAN, [False, True]),
    (T.INET, [ipaddress.ip_address("::"), ipaddress.ip_address("::1"), ipaddress.ip_address("1.2.3.4"),
              ipaddress.ip_address("1.2.3.4:0:0:0:0:0:0".replace("1.2.3.4", "102:304")),
              ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("255.255.255.255")]),
    (T.DATE, [-2**31, datetime.date(1, 1, 1), datetime.date(1969, 12, 31), datetime.date(1970, 1, 1),
              datetime.date(9999, 12, 31), 2**31 - 1]),
    (T.TIMESTAMP, [-2**63, datetime.datetime(1, 1, 1), datetime.datetime(1969, 12, 31, 23, 59, 59, 999000),
                   datetime.datetime(1970, 1, 1), datetime.datetime(2020, 1, 1), 2**63 - 1]),
    (T.TIME, [datetime.time(0, 0), 1, datetime.time(0, 0, 0, 1), datetime.time(23, 59, 59, 999999),
              86_399_999_999_999]),
    # uuid: by version, then (version 1) by timestamp, else unsigned msb; then unsigned lsb
    (T.UUID, [uuid_of(0), uuid_of(1, 0, 0), v1(5, 2**64 - 1), v1(6, 0), v1(2**59), uuid_of(2, 0),
              uuid_of(4, 0, 0), uuid_of(4, 0, 2**63), uuid_of(4, 0, 2**64 - 1), uuid_of(4, 1 << 63, 0)]),
    # timeuuid: by timestamp, then the lsb compared as signed bytes
    (T.TIMEUUID, [v1(0, 0x8000000000000000), v1(0, 0xFF00000000000000), v1(0, 0x00FF000000000000), v1(0, 0),
                  v1(0, 0x7F00000000000000), v1(1, 0x8000000000000000), v1(2**60 - 1, 0)]),
    (ListType(T.INT, True), [[], [-1], [-1, 5], [0], [0, 0], [0, 1], [1]]),
    (SetType(T.TEXT, True), [set(), {"a"}, {"a", "b"}, {"b"}]),
    (MapType(T.INT, T.TEXT, True), [{}, {1: "a"}, {1: "a", 2: ""}, {1: "b"}, {2: ""}]),
    (TupleType((T.INT, T.TEXT)), [(None, None), (None, "a"), (0, None), (0, ""), (0, "a"), (1, None)]),
    (TupleType((ListType(T.INT, True), T.INT)), [([], 5), ([1], None), ([1], 0), ([1, 0], None)]),
])
def test_order_matches_cassandra(t, values):
    encoded = [K.encode_value(t, v) for v in values]
    assert encoded == sorted(encoded), [K.decode_value(t, e) for e in sorted(encoded)]
    assert len(set(encoded)) == len(encoded)


def test_equal_values_encode_equal():
    assert K.encode_value(T.DECIMAL, Decimal("1.0")) == K.encode_value(T.DECIMAL, Decimal("1.00")) == \
        K.encode_value(T.DECIMAL, Decimal("1"))
    assert K.encode_value(T.DOUBLE, math.nan) == K.encode_value(T.DOUBLE, -math.nan)
    assert K.encode_value(SetType(T.INT, True), {2, 1}) == K.encode_value(ListType(T.INT, True), [1, 2])
    assert K.encode_value(MapType(T.INT, T.INT, True), {2: 0, 1: 0}) == K.encode_value(MapType(T.INT, T.INT, True), {1: 0, 2: 0})


def test_decimal_clustering_comes_back_with_the_smallest_scale():
    for given, back in [("1.50", "1.5"), ("1E+2", "100"), ("100", "100"), ("-0.10", "-0.1"), ("0.000", "0"),
                        ("1E+100", "1E+100"), ("123.456000", "123.456")]:
        value = K.decode_value(T.DECIMAL, K.encode_value(T.DECIMAL, Decimal(given)))
        assert str(value) == back


def test_decode_round_trip_of_special_values():
    assert math.copysign(1, K.decode_value(T.DOUBLE, K.encode_value(T.DOUBLE, -0.0))) == -1
    assert math.isnan(K.decode_value(T.FLOAT, K.encode_value(T.FLOAT, math.nan)))
    assert K.decode_value(T.TEXT, K.encode_value(T.TEXT, "a\x00\x00b")) == "a\x00\x00b"
    assert K.decode_value(T.TIME, K.encode_value(T.TIME, 5)) == 5
    address = UserType("ks", "address", ("street", "zip"), (T.TEXT, T.INT), True)
    value = udt_class(address)("x", None)
    assert K.decode_value(address, K.encode_value(address, value)) == value


def test_udt_that_gained_a_field_keeps_its_keys():
    old = UserType("ks", "a", ("x",), (T.INT,), True)
    new = UserType("ks", "a", ("x", "y"), (T.INT, T.TEXT), True)
    data = K.encode_value(old, (1,))
    assert K.encode_value(new, (1, None)) == data
    assert K.decode_value(new, data) == (1, None)


# --- clustering keys ----------------------------------------------------------------------------------

TYPES = [T.INT, T.TEXT, T.TIMESTAMP]


def test_clustering_round_trip_and_prefixes():
    orders = ["asc", "DESC", "asc"]
    row = (5, "abc", datetime.datetime(2020, 1, 2))
    full = K.encode_clustering(TYPES, orders, row)
    assert K.decode_clustering(TYPES, orders, full) == row
    for n in range(4):
        prefix = K.encode_prefix(TYPES, orders, row[:n])
        assert full.startswith(prefix)
        assert K.decode_clustering(TYPES, orders, prefix) == row[:n]


def test_desc_reverses_one_column():
    orders = ["asc", "desc", "asc"]
    rows = [(1, "b", 0), (1, "a", 5), (1, "a", 6), (1, "", 0), (2, "z", 0)]
    encoded = [K.encode_clustering(TYPES[:2] + [T.INT], orders, r) for r in rows]
    assert encoded == sorted(encoded)


def test_prefix_end_bounds_a_slice():
    orders = ["asc", "desc", "asc"]
    types = [T.INT, T.TEXT, T.INT]
    rows = [(c1, c2, c3) for c1 in (1, 2, 3) for c2 in ("", "a", "ab", "b") for c3 in (-1, 0, 7)]
    for r in rows:
        prefix = K.encode_prefix(types, orders, r[:2])
        end = K.prefix_end(prefix)
        inside = [x for x in rows if x[:2] == r[:2]]
        for x in rows:
            key = K.encode_clustering(types, orders, x)
            assert (prefix <= key < end) == (x in inside)


def test_prefix_end():
    assert K.prefix_end(b"ab") == b"ac"
    assert K.prefix_end(b"a\xff\xff") == b"b"
    assert K.prefix_end(b"\xff\xff") is None
    assert K.prefix_end(b"") is None


def test_clustering_refusals():
    with pytest.raises(InvalidRequest):
        K.encode_clustering([T.INT], ["asc"], (None,))
    with pytest.raises(InvalidRequest):
        K.encode_clustering([T.INT, T.INT], ["asc", "asc"], (1,))
    with pytest.raises(InvalidRequest):
        K.encode_clustering([T.DURATION], ["asc"], (Duration(1, 0, 0),))
    with pytest.raises(InvalidRequest):
        K.encode_clustering([T.INT], ["asc"], ("x",))
    with pytest.raises(InvalidRequest):
        K.encode_clustering([T.TIMEUUID], ["asc"], (uuid_of(4),))
    with pytest.raises(InvalidRequest):
        K.encode_clustering([ListType(T.INT, True)], ["asc"], ([1, None],))


@pytest.mark.parametrize("data", [b"", b"\x03", b"\x03\x80\x00", b"\x04\x80\x00\x00\x00", b"\x03abc",
                                  b"\x03a\x00\x01", b"\x03\x80\x00\x00\x00\x03"])
def test_malformed_clustering_bytes(data):
    types = [T.INT] if not data.startswith(b"\x03a") else [T.TEXT]
    with pytest.raises(ServerError):
        if data == b"":
            K.decode_value(T.INT, data)
        else:
            K.decode_clustering(types, ["asc"], data)


# --- cell paths ------------------------------------------------------------------------------------

def test_cell_paths_order_like_cassandra():
    lst = ListType(T.INT)
    ids = [v1(1, 0x80 << 56), v1(1, 0), v1(2, 0)]
    assert [K.encode_cell_path(lst, i) for i in ids] == sorted(K.encode_cell_path(lst, i) for i in ids)
    assert K.decode_cell_path(lst, K.encode_cell_path(lst, ids[0])) == ids[0]
    s = SetType(T.TEXT)
    assert ordered(T.TEXT, ["b", "", "a"]) == ["", "a", "b"]
    assert K.decode_cell_path(s, K.encode_cell_path(s, "x")) == "x"
    m = MapType(T.INT, T.TEXT)
    assert K.encode_cell_path(m, -1) < K.encode_cell_path(m, 0) < K.encode_cell_path(m, 1)
    udt = UserType("ks", "a", ("x", "y"), (T.INT, T.INT))
    assert K.encode_cell_path(udt, "y") == b"\x00\x01" == K.encode_cell_path(udt, 1)
    assert K.decode_cell_path(udt, b"\x00\x00") == "x"
    with pytest.raises(InvalidRequest):
        K.encode_cell_path(udt, "z")
    with pytest.raises(InvalidRequest):
        K.encode_cell_path(T.INT, 1)


# --- partition keys ----------------------------------------------------------------------------------

@pytest.mark.parametrize("types, values, token", [
    ([T.INT], (0,), -3485513579396041028), ([T.INT], (1,), -4069959284402364209),
    ([T.INT], (10,), -6715243485458697746), ([T.INT], (-1,), 7297452126230313552),
    ([T.INT, T.INT], (1, 1), 5765203080415074583), ([T.INT, T.INT], (1, 2), 4881097376275569167),
    ([T.INT, T.INT], (2, 1), 1222388547083740924), ([T.INT, T.INT], (2, 2), -3974863545882308264),
    ([T.TEXT], ("a",), -8839064797231613815),
])
def test_partition_key_tokens_equal_cassandras(types, values, token):
    key = K.encode_partition_key(types, values)
    assert Murmur3Token.hash_fn(key) == token
    assert K.decode_partition_key(types, key) == values


def test_partition_key_layout():
    assert K.encode_partition_key([T.INT], (1,)) == b"\x00\x00\x00\x01"
    assert K.encode_partition_key([T.TEXT, T.INT], ("ab", 1)) == b"\x00\x02ab\x00\x00\x04\x00\x00\x00\x01\x00"
    assert K.split_partition_key(2, b"\x00\x00\x00\x00\x01x\x00") == [b"", b"x"]
    assert K.encode_partition_key([parse_type("frozen<set<int>>")], ({2, 1},)) == \
        K.encode_partition_key([parse_type("frozen<set<int>>")], ([1, 2, 2],))


def test_partition_key_refusals():
    with pytest.raises(InvalidRequest, match="Key may not be empty"):
        K.encode_partition_key([T.TEXT], ("",))
    with pytest.raises(InvalidRequest):
        K.encode_partition_key([T.INT], (None,))
    with pytest.raises(InvalidRequest, match="65535"):
        K.encode_partition_key([T.BLOB, T.INT], (b"x" * 70000, 1))
    for bad in (b"\x00", b"\x00\x05ab\x00", b"\x00\x01a\x01\x00\x01b\x00", b"\x00\x01a\x00\x00\x01b\x00junk"):
        with pytest.raises(ServerError):
            K.split_partition_key(2, bad)
