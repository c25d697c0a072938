"""Read-side units: paging states, ResultSet/Row behaviour, aggregate arithmetic, JSON rendering."""
import datetime
import ipaddress
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest

from cqlpy.errors import ProtocolError
from cqlpy.planner.selection import AggregateNode, ColumnNode, Output, Selection
from cqlpy.planner.terms import EvalContext
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata
from cqlpy.session import paging
from cqlpy.session.aggregates import Aggregator
from cqlpy.planner.json_output import json_object, to_json
from cqlpy.session.results import ResultSet, clean_column_name, make_rows


# --- paging states ---------------------------------------------------------------------------------

@pytest.mark.parametrize("state", [
    paging.Position(b"\x00\x00\x00\x01", b"\x03\x80\x00\x00\x02", False, 7, 2, 3),
    paging.Position(b"key", b"", True, None, 1, 0),
    paging.Offset(12),
    paging.Offset(0, 5),
])
def test_paging_state_round_trip(state):
    assert paging.decode(paging.encode(state)) == state


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x02\x01", b"\x01\x01\x00\x05ab", b"\x01\x09" + b"\x00" * 20,
                                  paging.encode(paging.Offset(3)) + b"x"])
def test_bad_paging_state_is_a_protocol_error(data):
    with pytest.raises(ProtocolError, match="paging state"):
        paging.decode(data)


# --- results ---------------------------------------------------------------------------------------

def spec(name, t=T.INT):
    return SimpleNamespace(keyspace="ks", table="t", name=name, type=t)


def test_row_names_are_cleaned_like_the_driver():
    assert clean_column_name("system.max(e)") == "system_max_e"
    assert clean_column_name("[applied]") == "applied"
    assert clean_column_name("writetime(v)") == "writetime_v"
    rows = make_rows(["k", "count", "class", "_x"], [(1, 2, 3, 4)])
    assert rows[0].k == 1 and rows[0].count == 2 and rows[0][2] == 3 and rows[0].x == 4
    assert rows[0]._fields[2] == "field_2_"


def test_result_set_pages():
    pages = {b"p2": ([(3,), (4,)], b"p3"), b"p3": ([(5,)], None)}

    def fetch(state):
        rows, nxt = pages[state]
        return ResultSet([spec("k")], make_rows(["k"], rows), paging_state=nxt, fetch_page=fetch)

    rs = ResultSet([spec("k")], make_rows(["k"], [(1,), (2,)]), paging_state=b"p2", fetch_page=fetch)
    assert rs.column_names == ["k"] and rs.column_types == [T.INT]
    assert rs.has_more_pages and rs.paging_state == b"p2"
    assert [r.k for r in rs.current_rows] == [1, 2]
    assert rs.one().k == 1
    assert [r.k for r in rs] == [1, 2, 3, 4, 5]
    assert not rs.has_more_pages

    rs = ResultSet([spec("k")], make_rows(["k"], [(1,), (2,)]), paging_state=b"p2", fetch_page=fetch)
    rs.fetch_next_page()
    assert [r.k for r in rs.current_rows] == [3, 4] and rs.paging_state == b"p3"
    assert [r.k for r in rs.all()] == [3, 4, 5]

    rs = ResultSet([spec("k")], make_rows(["k"], [(1,), (2,)]), paging_state=b"p2", fetch_page=fetch)
    assert rs[4].k == 5 and rs == make_rows(["k"], [(1,), (2,), (3,), (4,), (5,)])


def test_empty_and_void_results():
    rs = ResultSet([spec("k")], [])
    assert rs.one() is None and rs.all() == [] and not rs
    void = ResultSet.void()
    assert void.column_names is None and void.all() == []


def test_was_applied():
    rs = ResultSet([spec("[applied]", T.BOOLEAN), spec("v")], make_rows(["[applied]", "v"], [(False, 2)]))
    assert rs.was_applied is False and rs.one().applied is False


# --- aggregates ------------------------------------------------------------------------------------

def agg(kind, t, values):
    col = ColumnMetadata("x", t)
    node = AggregateNode(kind, ColumnNode(col), T.BIGINT if kind == "count" else t, kind)
    a = Aggregator(Selection(None, [Output(kind, node)], False), EvalContext(()))
    for v in values:
        a.add({"x": v})
    return a.result()[0]


@pytest.mark.parametrize("kind, t, values, expected", [
    ("sum", T.INT, [2147483647, 1], -2147483648),
    ("sum", T.SMALLINT, [32767, 1], -32768),
    ("sum", T.TINYINT, [127, 1], -128),
    ("sum", T.BIGINT, [9223372036854775807, 1], -9223372036854775808),
    ("sum", T.VARINT, [9223372036854775807, 1], 9223372036854775808),
    ("sum", T.INT, [], 0),
    ("sum", T.DECIMAL, [Decimal("1.10"), Decimal("2.2")], Decimal("3.30")),
    ("sum", T.DOUBLE, [0.1] * 10, 1.0),
    ("sum", T.FLOAT, [1.5, 2.25], 3.75),
    ("avg", T.INT, [1, 2, 3, 5], 2),
    ("avg", T.INT, [-1, -2], -1),
    ("avg", T.INT, [2147483647, 2147483647], 2147483647),
    ("avg", T.BIGINT, [9223372036854775807, 9223372036854775807], 9223372036854775807),
    ("avg", T.INT, [], 0),
    ("avg", T.DOUBLE, [1.0, 2.0], 1.5),
    ("avg", T.DOUBLE, [], 0.0),
    ("avg", T.DECIMAL, [Decimal(1), Decimal(2)], Decimal(1)),
    ("avg", T.DECIMAL, [Decimal("1.0"), Decimal("2.0")], Decimal("1.5")),
    ("avg", T.DECIMAL, [], Decimal(0)),
    ("min", T.TEXT, ["b", "a", None, "c"], "a"),
    ("max", T.INT, [-1, 5, None, 3], 5),
    ("max", T.INT, [], None),
    ("max", T.UUID, [uuid.UUID(int=1), uuid.UUID(int=2)], uuid.UUID(int=2)),
    ("count", T.INT, [1, None, 3], 2),
])
def test_aggregate_arithmetic(kind, t, values, expected):
    got = agg(kind, t, values)
    assert got == expected and type(got) is type(expected)


# --- JSON ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("t, value, text", [
    (T.INT, 1, "1"), (T.TEXT, 'a"b', '"a\\"b"'), (T.BOOLEAN, True, "true"), (T.DOUBLE, 1.0, "1.0"),
    (T.FLOAT, float("nan"), '"NaN"'), (T.DECIMAL, Decimal("1.50"), "1.50"), (T.BLOB, b"\x01\x02", '"0x0102"'),
    (T.TIMESTAMP, datetime.datetime(2011, 2, 3, 4, 5, 6, 789000), '"2011-02-03 04:05:06.789Z"'),
    (T.DATE, datetime.date(2011, 2, 3), '"2011-02-03"'), (T.TIME, datetime.time(1, 2, 3), '"01:02:03.000000000"'),
    (T.INET, ipaddress.ip_address("10.0.0.1"), '"10.0.0.1"'),
    (T.ListType(T.INT), [2, 1], "[2, 1]"), (T.SetType(T.TEXT), {"b", "a"}, '["a", "b"]'),
    (T.MapType(T.INT, T.TEXT), {2: "x", 1: "y"}, '{"1": "y", "2": "x"}'),
    (T.MapType(T.TEXT, T.INT), {"k": 1}, '{"k": 1}'),
    (T.TupleType((T.INT, T.TEXT)), (1, None), '[1, null]'),
    (T.INT, None, "null"),
])
def test_json_values(t, value, text):
    assert to_json(t, value) == text


def test_json_object_quotes_case_sensitive_names():
    assert json_object(["k", "Mixed"], [T.INT, T.INT], [1, 2]) == '{"k": 1, "\\"Mixed\\"": 2}'
