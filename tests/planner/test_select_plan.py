"""SELECT planning (cqlpy.planner.select / selection / casts): plan shape, names, statement rules."""
import datetime
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from select_helpers import catalog_with  # noqa: E402

import cqlpy  # noqa: E402
from cqlpy.errors import InvalidRequest, SyntaxException  # noqa: E402
from cqlpy.planner.casts import cast_function, to_text  # noqa: E402
from cqlpy.planner.explain import explain_rows  # noqa: E402
from cqlpy.planner.select import plan_select  # noqa: E402
from cqlpy.planner.terms import EvalContext  # noqa: E402
from cqlpy.schema import types as T  # noqa: E402

CAT = catalog_with(
    "CREATE TABLE t (k int, c int, d int, v text, w int, s int STATIC, PRIMARY KEY (k, c, d))",
    "CREATE TABLE td (k int, c int, d int, PRIMARY KEY (k, c, d)) WITH CLUSTERING ORDER BY (c DESC, d ASC)",
    "CREATE TABLE n (k int PRIMARY KEY, i int, f float, dec decimal, txt text, m map<int, text>, "
    "l list<int>)",
    "CREATE TABLE ti (k int, c int, v int, PRIMARY KEY (k, c))",
    "CREATE INDEX ON ti (v)",
)


def plan(cql):
    return plan_select(cqlpy.parse_one(cql), CAT, "ks")


def refused(cql, text=None, cls=InvalidRequest):
    with pytest.raises(cls) as e:
        plan(cql)
    if text:
        assert text.lower() in str(e.value).lower(), str(e.value)


# --- result metadata -------------------------------------------------------------------------------

def test_wildcard_columns_in_select_star_order():
    p = plan("SELECT * FROM t")
    assert p.column_names == ["k", "c", "d", "s", "v", "w"]
    assert [s.type for s in p.specs][:3] == [T.INT, T.INT, T.INT]
    assert all(s.keyspace == "ks" and s.table == "t" for s in p.specs)


@pytest.mark.parametrize("selector, name, type_", [
    ("count(*)", "count", T.BIGINT),
    ("count(1)", "count", T.BIGINT),
    ("count(v)", "system.count(v)", T.BIGINT),
    ("max(w)", "system.max(w)", T.INT),
    ("min(v)", "system.min(v)", T.TEXT),
    ("sum(w)", "system.sum(w)", T.INT),
    ("avg(w)", "system.avg(w)", T.INT),
    ("writetime(v)", "writetime(v)", T.BIGINT),
    ("ttl(v)", "ttl(v)", T.INT),
    ("token(k)", "system.token(k)", T.BIGINT),
    ("CAST(w AS text)", "cast(w as text)", T.TEXT),
    ("intAsBlob(w)", "system.intasblob(w)", T.BLOB),
    ("w AS total", "total", T.INT),
    ("avg(CAST(w AS double))", "system.avg(cast(w as double))", T.DOUBLE),
])
def test_result_column_names_and_types(selector, name, type_):
    p = plan(f"SELECT {selector} FROM t")
    assert p.column_names == [name]
    assert p.specs[0].type == type_


def test_json_has_one_text_column():
    p = plan("SELECT JSON k, v FROM t")
    assert p.column_names == ["[json]"] and p.specs[0].type == T.TEXT and p.json


def test_collection_element_selection():
    p = plan("SELECT m[1] FROM n")
    assert p.column_names == ["m[1]"] and p.specs[0].type == T.TEXT


@pytest.mark.parametrize("cql, text, cls", [
    ("SELECT max(count(*)) FROM t", "aggregate functions cannot be used", InvalidRequest),
    ("SELECT sum(v) FROM t", "sum", InvalidRequest),
    ("SELECT count(2) FROM t", "COUNT(1)", SyntaxException),
    ("SELECT writetime(k) FROM t", "PRIMARY KEY part k", InvalidRequest),
    ("SELECT ttl(c) FROM t", "PRIMARY KEY part c", InvalidRequest),
    ("SELECT nope FROM t", "Undefined column name nope", InvalidRequest),
    ("SELECT frob(v) FROM t", "Unknown function", InvalidRequest),
    ("SELECT CAST(v AS int) FROM t", "cannot be cast", InvalidRequest),
    ("SELECT l[0] FROM n", "only allowed on sets and maps", InvalidRequest),
    ("SELECT token(v) FROM t", "token", InvalidRequest),
    ("SELECT k, 1 FROM t", "Cannot infer type", InvalidRequest),
])
def test_selection_refusals(cql, text, cls):
    refused(cql, text, cls)


# --- statement rules -------------------------------------------------------------------------------

def test_order_by_reverses():
    assert plan("SELECT * FROM t WHERE k = 1 ORDER BY c DESC").reversed
    assert plan("SELECT * FROM t WHERE k = 1 ORDER BY c DESC, d DESC").reversed
    assert not plan("SELECT * FROM t WHERE k = 1 ORDER BY c ASC").reversed
    assert plan("SELECT * FROM td WHERE k = 1 ORDER BY c ASC, d DESC").reversed
    assert not plan("SELECT * FROM td WHERE k = 1 ORDER BY c DESC").reversed


def test_order_by_with_in_sorts_after_the_reads():
    p = plan("SELECT * FROM t WHERE k IN (1, 2) ORDER BY c DESC")
    assert p.post_sort and p.reversed and p.is_aggregate is False


def test_order_by_may_skip_eq_columns_only():
    assert plan("SELECT * FROM t WHERE k = 1 AND c = 2 ORDER BY d DESC").reversed
    refused("SELECT * FROM t WHERE k = 1 AND c IN (1, 2) ORDER BY d DESC", "declared order")
    refused("SELECT * FROM t WHERE k = 1 ORDER BY d DESC", "declared order")


@pytest.mark.parametrize("cql, text", [
    ("SELECT * FROM t ORDER BY c", "partition key is restricted by an EQ or an IN"),
    ("SELECT * FROM t WHERE k = 1 ORDER BY v", "clustered columns"),
    ("SELECT * FROM t WHERE k = 1 ORDER BY c ASC, d DESC", "Unsupported order by relation"),
    ("SELECT * FROM ti WHERE v = 1 ORDER BY c", "2ndary indexes"),
    ("SELECT DISTINCT k, c FROM t", "(not c)"),
    ("SELECT DISTINCT s FROM t", "missing k"),
    ("SELECT DISTINCT k FROM t WHERE k = 1 AND c = 1", "partition key and/or static columns"),
    ("SELECT DISTINCT k FROM t PER PARTITION LIMIT 1", "DISTINCT"),
    ("SELECT count(*) FROM t PER PARTITION LIMIT 1", "aggregate queries"),
    ("SELECT * FROM t LIMIT 0", "strictly positive"),
    ("SELECT * FROM t PER PARTITION LIMIT -2", "strictly positive"),
    ("SELECT count(*) FROM t GROUP BY v", "columns of the PRIMARY KEY"),
    ("SELECT count(*) FROM t GROUP BY c", "declared order"),
    ("SELECT count(*) FROM t GROUP BY k, d", "declared order"),
    ("SELECT * FROM nosuch", None),
])
def test_statement_refusals(cql, text):
    refused(cql, text)


def test_no_keyspace():
    with pytest.raises(InvalidRequest, match="No keyspace has been specified"):
        plan_select(cqlpy.parse_one("SELECT * FROM t"), CAT, None)


def test_distinct_with_full_key_may_select_part_of_it():
    assert plan("SELECT DISTINCT s FROM t WHERE k = 1").distinct


def test_group_by_prefix():
    assert plan("SELECT count(*) FROM t GROUP BY k").group_by_clustering == 0
    assert plan("SELECT count(*) FROM t GROUP BY k, c").group_by_clustering == 1
    assert plan("SELECT count(*) FROM t WHERE k = 1 AND c = 2 GROUP BY d").group_by_clustering == 2


def test_limits_bound_per_execution():
    p = plan("SELECT * FROM t LIMIT ? ")
    assert p.markers.receivers[0].name == "[limit]"
    assert p.limits(EvalContext([5])) == (5, None)
    with pytest.raises(InvalidRequest, match="strictly positive"):
        p.limits(EvalContext([0]))
    p = plan("SELECT * FROM t PER PARTITION LIMIT ? LIMIT ?")
    assert [r.name for r in p.markers.receivers] == ["[per_partition_limit]", "[limit]"]


def test_plans_are_reusable():
    p = plan("SELECT v FROM t WHERE k = ? AND c IN ?")
    a = p.where.partition_keys(EvalContext([1, [2]]))
    b = p.where.partition_keys(EvalContext([3, [2]]))
    assert a == [(1,)] and b == [(3,)]


def test_explain_without_engine():
    cols, rows = explain_rows(plan("SELECT * FROM t WHERE k IN (1, 2) AND c > 1 LIMIT 3"))
    steps = dict(rows)
    assert [c[0] for c in cols] == ["step", "detail"]
    assert "2 partitions" in steps["partitions"]
    assert steps["clustering"].startswith("1 slice")
    assert steps["limit"] == "3"
    steps = dict(explain_rows(plan("SELECT * FROM t WHERE v = 'a' ALLOW FILTERING"))[1])
    assert "full scan" in steps["partitions"] and "ALLOW FILTERING" in steps["filtering"]
    steps = dict(explain_rows(plan("SELECT * FROM ti WHERE v = 1"))[1])
    assert "ti_v_idx" in steps["partitions"]


# --- casts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("src, dst, value, expected", [
    (T.INT, T.TINYINT, 300, 44),
    (T.INT, T.SMALLINT, 70000, 4464),
    (T.BIGINT, T.INT, 3000000000, -1294967296),
    (T.DOUBLE, T.INT, 1e20, 2147483647),
    (T.DOUBLE, T.INT, -2.9, -2),
    (T.DOUBLE, T.BIGINT, float("nan"), 0),
    (T.FLOAT, T.DECIMAL, 1.5, Decimal("1.5")),
    (T.DECIMAL, T.INT, Decimal("12.9"), 12),
    (T.DECIMAL, T.VARINT, Decimal("-7.5"), -7),
    (T.INT, T.TEXT, -5, "-5"),
    (T.DOUBLE, T.TEXT, 1e10, "1.0E10"),
    (T.FLOAT, T.TEXT, 0.1, "0.1"),
    (T.DOUBLE, T.TEXT, 100.0, "100.0"),
    (T.BOOLEAN, T.TEXT, False, "false"),
    (T.TIMESTAMP, T.DATE, datetime.datetime(2020, 5, 6, 23, 59), datetime.date(2020, 5, 6)),
    (T.DATE, T.TIMESTAMP, datetime.date(2020, 5, 6), datetime.datetime(2020, 5, 6)),
    (T.TIMEUUID, T.TIMESTAMP, uuid.UUID("50554d6e-29bb-11e5-b345-feff819cdc9f"),
     datetime.datetime(2015, 7, 14, 0, 0, 18, 805000)),
    (T.ASCII, T.TEXT, "a", "a"),
    (T.TEXT, T.TEXT, "a", "a"),
])
def test_casts(src, dst, value, expected):
    assert cast_function(src, dst)(value) == expected


@pytest.mark.parametrize("src, dst", [
    (T.TEXT, T.INT), (T.INT, T.BLOB), (T.INT, T.BOOLEAN), (T.BLOB, T.TEXT), (T.TEXT, T.ASCII),
    (T.UUID, T.TIMESTAMP), (T.DATE, T.TIME),
])
def test_refused_casts(src, dst):
    with pytest.raises(InvalidRequest):
        cast_function(src, dst)


def test_java_inet_text():
    import ipaddress
    assert to_text("inet", ipaddress.ip_address("::1")) == "0:0:0:0:0:0:0:1"


def test_collection_slices_and_to_json_names():
    p = plan("SELECT m[1..2], m[..3], toJson(l) FROM n")
    assert p.column_names == ["m[1..2]", "m[..3]", "system.tojson(l)"]
    assert p.specs[0].type == p.specs[1].type and p.specs[2].type == T.TEXT
    refused("SELECT l[1..2] FROM n", "slice selection is only allowed on sets and maps")
