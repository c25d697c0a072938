"""Binding terms to receivers: Cassandra's assignability, markers, functions in terms."""
import datetime
import uuid

import pytest

import cqlpy
from cqlpy.errors import InvalidRequest
from cqlpy.planner import functions as F
from cqlpy.planner.terms import UNSET, EvalContext, Literal, Markers, Receiver, bind_term
from cqlpy.schema import types as T


def values_of(cql):
    return cqlpy.parse_one(cql).values


def bind(cql_value, t, markers=None):
    term = values_of(f"INSERT INTO t (a) VALUES ({cql_value})")[0]
    return bind_term(term, Receiver("ks", "t", "a", t), markers if markers is not None else Markers())


@pytest.mark.parametrize("text, t, expected", [
    ("1", T.INT, 1),
    ("-5", T.BIGINT, -5),
    ("1", T.DOUBLE, 1.0),
    ("'abc'", T.TEXT, "abc"),
    ("'2011-02-03 04:05:00+0000'", T.TIMESTAMP, datetime.datetime(2011, 2, 3, 4, 5)),
    ("[1, 2, 3]", T.ListType(T.INT), [1, 2, 3]),
    ("{1, 2}", T.SetType(T.INT), {1, 2}),
    ("{}", T.MapType(T.TEXT, T.INT), {}),
    ("{}", T.SetType(T.INT), set()),
    ("{'a': 1}", T.MapType(T.TEXT, T.INT), {"a": 1}),
    ("(1, 'x')", T.TupleType((T.INT, T.TEXT)), (1, "x")),
    ("(int) 3", T.BIGINT, 3),
    ("blobAsInt(0x00000007)", T.INT, 7),
    ("null", T.INT, None),
])
def test_literals_bind_to_canonical_values(text, t, expected):
    value = bind(text, t)
    assert isinstance(value, Literal)
    assert value.evaluate(EvalContext()) == expected


@pytest.mark.parametrize("text, t, message", [
    ("'x'", T.INT, 'Invalid STRING constant (x) for "a" of type int'),
    ("1.5", T.INT, "Invalid FLOAT constant"),
    ("5", T.TEXT, "Invalid INTEGER constant"),
    ("[1, 'a']", T.ListType(T.INT), 'for "value(a)" of type int'),
    ("{'x': 1}", T.SetType(T.INT), "Invalid map literal"),
    ("(1, 2, 3)", T.TupleType((T.INT, T.INT)), "too many elements"),
    ("foo(1)", T.INT, "Unknown function 'foo'"),
    ("now()", T.INT, "cannot assign result of function system.now"),
    ("(text) 'x'", T.ASCII, "Cannot assign"),
    ("2147483648", T.INT, ""),
])
def test_unassignable_terms_are_invalid_requests(text, t, message):
    with pytest.raises(InvalidRequest) as e:
        bind(text, t)
    assert message in str(e.value)


def test_markers_record_receivers_in_index_order():
    st = cqlpy.parse_one("INSERT INTO t (a, b, c) VALUES (?, 1, :named)")
    m = Markers()
    types = [T.INT, T.INT, T.TEXT]
    vals = [bind_term(v, Receiver("ks", "t", n, ty), m) for v, n, ty in zip(st.values, "abc", types)]
    assert [r.name for r in m.receivers] == ["a", "c"]
    assert m.names == [None, "named"]
    assert vals[0].evaluate(EvalContext([42, "z"])) == 42
    assert vals[2].evaluate(EvalContext([42, "z"])) == "z"
    assert vals[0].evaluate(EvalContext([UNSET, "z"])) is UNSET


def test_now_is_evaluated_per_execution_and_unique():
    value = bind("now()", T.TIMEUUID)
    assert not value.is_constant
    a, b = value.evaluate(EvalContext()), value.evaluate(EvalContext())
    assert a != b and a.version == 1 and b.version == 1
    assert F.timeuuid_millis(b) >= F.timeuuid_millis(a)


def test_to_timestamp_of_now_uses_the_statement_time():
    value = bind("toTimestamp(now())", T.TIMESTAMP)
    ctx = EvalContext(now_micros=1_299_038_700_000_000)
    assert value.evaluate(ctx) == datetime.datetime(2011, 3, 2, 4, 5)


def test_min_and_max_timeuuid_bracket_the_millisecond():
    lo = F.resolve("mintimeuuid", [T.TIMESTAMP]).call([1000], 0)
    hi = F.resolve("maxtimeuuid", [T.TIMESTAMP]).call([1000], 0)
    inside = F.timeuuid_at(1000 * 1000 + 500, unique=False)
    assert F.timeuuid_millis(lo) == F.timeuuid_millis(hi) == F.timeuuid_millis(inside) == 1000
    assert lo.time <= inside.time <= hi.time


def test_function_overloads_resolve_by_argument_type():
    assert F.resolve("totimestamp", [T.DATE]).arg_types == (T.DATE,)
    assert F.resolve("to_timestamp", [T.TIMEUUID]).arg_types == (T.TIMEUUID,)
    with pytest.raises(InvalidRequest):
        F.resolve("totimestamp", [T.INT])
    with pytest.raises(InvalidRequest):
        F.resolve("uuid", [T.INT])
    assert isinstance(F.resolve("uuid", []).call([], 0), uuid.UUID)
