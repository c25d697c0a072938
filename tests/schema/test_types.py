"""The CQL type model: names as Cassandra prints them, nesting rules, marshal classes, wire options."""
import pytest
from cassandra import cqltypes

from cqlpy.errors import InvalidRequest, ProtocolError, SyntaxException
from cqlpy.schema import types as T
from cqlpy.schema.types import (
    ListType, MapType, SetType, TupleType, UserType, decode_option, encode_option, parse_type,
    quote_identifier,
)

ADDRESS = UserType("ks", "address", ("street", "zip"), (T.TEXT, T.INT))
WEIRD = UserType("ks", "My Type", ("a b", "select"), (T.INT, T.TEXT))
USER_TYPES = {"address": ADDRESS, "My Type": WEIRD}

# (text to parse, the name Cassandra prints for it)
NAMES = [
    ("int", "int"), ("varchar", "text"), ("TEXT", "text"), ("  bigint ", "bigint"),
    ("list<int>", "list<int>"),
    ("map<text, frozen<list<int>>>", "map<text, frozen<list<int>>>"),
    ("map<text,frozen<list<int>>>", "map<text, frozen<list<int>>>"),
    ("frozen<map<text, list<int>>>", "frozen<map<text, frozen<list<int>>>>"),
    ("frozen<list<frozen<set<int>>>>", "frozen<list<frozen<set<int>>>>"),
    ("tuple<int, text>", "frozen<tuple<int, text>>"),
    ("frozen<tuple<int, text>>", "frozen<tuple<int, text>>"),
    ("tuple<int, list<text>>", "frozen<tuple<int, frozen<list<text>>>>"),
    ("list<tuple<int, int>>", "list<frozen<tuple<int, int>>>"),
    ("address", "address"), ("frozen<address>", "frozen<address>"),
    ("ks.address", "address"),
    ("list<frozen<address>>", "list<frozen<address>>"),
    ('frozen<"My Type">', 'frozen<"My Type">'),
    ("set<frozen<map<int, frozen<address>>>>", "set<frozen<map<int, frozen<address>>>>"),
    ("map<timeuuid, duration>", "map<timeuuid, duration>"),
]


@pytest.mark.parametrize("text, name", NAMES)
def test_parse_and_print(text, name):
    t = parse_type(text, USER_TYPES)
    assert t.cql_name == name == str(t)
    assert parse_type(name, USER_TYPES) == t          # the printed name parses back


def test_lookup_callable_gets_keyspace():
    seen = []

    def lookup(keyspace, name):
        seen.append((keyspace, name))
        return ADDRESS
    parse_type('ks."address"', lookup)
    parse_type("Address", lookup)
    assert seen == [("ks", "address"), (None, "address")]


@pytest.mark.parametrize("text, error, message", [
    ("list<list<int>>", InvalidRequest, "Non-frozen collections are not allowed inside collections: list<list<int>>"),
    ("map<int, set<int>>", InvalidRequest, "Non-frozen collections are not allowed inside collections"),
    ("list<address>", InvalidRequest, "Non-frozen UDTs are not allowed inside collections: list<address>"),
    ("list<counter>", InvalidRequest, "Counters are not allowed inside collections"),
    ("set<duration>", InvalidRequest, "Durations are not allowed inside sets: set<duration>"),
    ("map<duration, int>", InvalidRequest, "Durations are not allowed as map keys"),
    ("frozen<int>", InvalidRequest, "frozen<> is only allowed on collections, tuples, and user-defined types"),
    ("nosuchtype", InvalidRequest, "Unknown type nosuchtype"),
    ("other.thing", InvalidRequest, "Unknown type other.thing"),
    ("vector<float, 3>", InvalidRequest, "vector"),
    ("list<int", SyntaxException, "unexpected end"),
    ("map<int>", SyntaxException, "map takes 2"),
    ("list<int>>", SyntaxException, "unexpected"),
    ("list<>", SyntaxException, ""),
    ("", SyntaxException, ""),
    ("int int", SyntaxException, ""),
    ("list<int;>", SyntaxException, ""),
])
def test_parse_errors(text, error, message):
    with pytest.raises(error) as info:
        parse_type(text, USER_TYPES)
    assert message in str(info.value)


@pytest.mark.parametrize("text, collection, multi_cell, comparable, key", [
    ("int", False, False, True, True),
    ("duration", False, False, False, False),
    ("counter", False, False, True, False),
    ("list<int>", True, True, True, False),
    ("frozen<list<int>>", True, False, True, True),
    ("frozen<list<duration>>", True, False, False, False),
    ("map<text, int>", True, True, True, False),
    ("tuple<int, duration>", False, False, False, False),
    ("tuple<int, text>", False, False, True, True),
    ("address", False, True, True, False),
    ("frozen<address>", False, False, True, True),
])
def test_properties(text, collection, multi_cell, comparable, key):
    t = parse_type(text, USER_TYPES)
    assert (t.is_collection, t.is_multi_cell, t.is_comparable, t.can_be_key) == \
        (collection, multi_cell, comparable, key)


def test_freeze_freezes_inner_types():
    t = MapType(T.TEXT, ListType(T.INT, True))
    assert t.freeze() == MapType(T.TEXT, ListType(T.INT, True), True)
    assert ADDRESS.freeze().is_frozen and not ADDRESS.is_frozen
    assert T.INT.freeze() is T.INT


def test_native_facts():
    assert len(T.NATIVE_TYPES) == 21                   # 20 types + the varchar alias
    assert T.NATIVE_TYPES["varchar"] is T.TEXT or T.NATIVE_TYPES["varchar"] == T.TEXT
    assert (T.INT.option_id, T.TEXT.option_id, T.DATE.option_id, T.TINYINT.option_id) == (9, 0x0D, 0x11, 0x14)
    assert T.INT.class_name == "org.apache.cassandra.db.marshal.Int32Type"
    assert T.VARINT.class_name == "org.apache.cassandra.db.marshal.IntegerType"
    assert T.DATE.class_name == "org.apache.cassandra.db.marshal.SimpleDateType"


@pytest.mark.parametrize("text", [t for t, _ in NAMES if "address" not in t and "Type" not in t])
def test_class_names_are_what_the_driver_parses(text):
    # (The driver cannot parse UserType(...) strings; those are checked by hand below.)
    t = parse_type(text, USER_TYPES)
    driver_type = cqltypes.lookup_casstype(t.class_name)
    assert driver_type.cass_parameterized_type(full=True).replace(", ", ",") == t.class_name


def test_class_name_details():
    assert parse_type("frozen<list<int>>").class_name == \
        "org.apache.cassandra.db.marshal.FrozenType(org.apache.cassandra.db.marshal.ListType(" \
        "org.apache.cassandra.db.marshal.Int32Type))"
    assert ADDRESS.class_name == (
        "org.apache.cassandra.db.marshal.UserType(ks,61646472657373,"
        "737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
        "7a6970:org.apache.cassandra.db.marshal.Int32Type)")


@pytest.mark.parametrize("name, quoted", [
    ("abc", "abc"), ("a_1", "a_1"), ("Abc", '"Abc"'), ("1a", '"1a"'), ("select", '"select"'),
    ("key", "key"), ('we"ird', '"we""ird"'), ("", '""'), ("a b", '"a b"'),
])
def test_quote_identifier(name, quoted):
    assert quote_identifier(name) == quoted


@pytest.mark.parametrize("text", [t for t, _ in NAMES] + ["duration", "blob", "tuple<frozen<address>, int>"])
def test_option_round_trip(text):
    t = parse_type(text, USER_TYPES)
    data = encode_option(t)
    back, end = decode_option(data + b"tail")
    assert end == len(data)
    # The wire does not carry frozen-ness: compare what it does carry.
    assert encode_option(back) == data


def test_option_bytes():
    assert encode_option(T.INT) == b"\x00\x09"
    assert encode_option(ListType(T.TEXT)) == b"\x00\x20\x00\x0d"
    assert encode_option(MapType(T.TEXT, T.BIGINT)) == b"\x00\x21\x00\x0d\x00\x02"
    assert encode_option(TupleType((T.INT, T.UUID))) == b"\x00\x31\x00\x02\x00\x09\x00\x0c"
    assert encode_option(ADDRESS) == (b"\x00\x30\x00\x02ks\x00\x07address\x00\x02"
                                      b"\x00\x06street\x00\x0d\x00\x03zip\x00\x09")
    duration = b"org.apache.cassandra.db.marshal.DurationType"
    assert encode_option(T.DURATION) == b"\x00\x00" + len(duration).to_bytes(2, "big") + duration
    assert encode_option(T.DURATION, protocol_version=5) == b"\x00\x15"
    assert decode_option(b"\x00\x0a") == (T.TEXT, 2)      # legacy varchar id


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x20", b"\x00\x99", b"\x00\x00\x00\x05abc",
                                  b"\x00\x00\x00\x03foo", b"\x00\x30\x00\x02k", b"\x00\x31\x00\x05\x00\x09"])
def test_bad_options(data):
    with pytest.raises(ProtocolError):
        decode_option(data)


def test_types_hash_and_compare_by_value():
    assert parse_type("map<text, int>") == MapType(T.TEXT, T.INT)
    assert hash(parse_type("list<int>")) == hash(ListType(T.INT))
    assert SetType(T.INT) != SetType(T.INT, True)
    assert T.python_value_is_hashable(TupleType((T.INT, T.TEXT)))
    assert not T.python_value_is_hashable(TupleType((T.INT, ListType(T.INT, True))))
