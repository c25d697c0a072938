"""WHERE-clause classification (cqlpy.planner.restrictions): Cassandra's restriction rules."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from select_helpers import catalog_with  # noqa: E402

import cqlpy  # noqa: E402
from cqlpy.errors import InvalidRequest  # noqa: E402
from cqlpy.planner.restrictions import (  # noqa: E402
    DELETE, SELECT, UPDATE, ClusteringSlice, classify,
)
from cqlpy.planner.terms import EvalContext, Markers  # noqa: E402

CAT = catalog_with(
    "CREATE TABLE t (k int, c int, d int, v text, w int, s int STATIC, PRIMARY KEY (k, c, d))",
    "CREATE TABLE t2 (a int, b int, c int, d int, v int, PRIMARY KEY ((a, b), c, d))",
    "CREATE TABLE tc (k int PRIMARY KEY, l list<int>, st set<text>, m map<text, int>, "
    "fl frozen<list<int>>, du duration)",
    "CREATE TABLE ti (k int, c int, v int, w int, m map<int, int>, PRIMARY KEY (k, c))",
    "CREATE INDEX ON ti (v)",
    "CREATE INDEX ON ti (keys(m))",
    "CREATE TABLE td (k int, c int, d int, v int, PRIMARY KEY (k, c, d)) "
    "WITH CLUSTERING ORDER BY (c DESC, d ASC)",
)


def where_of(cql, statement=SELECT, **kw):
    st = cqlpy.parse_one(cql)
    table = CAT.table("ks", st.table.name)
    markers = Markers()
    af = getattr(st, "allow_filtering", False)
    return classify(table, st.where, markers, statement=statement, allow_filtering=af, catalog=CAT,
                    keyspace="ks", **kw)


def refused(cql, text=None, statement=SELECT, **kw):
    with pytest.raises(InvalidRequest) as e:
        where_of(cql, statement, **kw)
    if text:
        assert text.lower() in str(e.value).lower(), str(e.value)
    return str(e.value)


CTX = EvalContext(())


# --- partition key ----------------------------------------------------------------------------------

def test_full_partition_key_eq_is_a_lookup():
    w = where_of("SELECT * FROM t WHERE k = 1")
    assert w.is_partition_lookup and w.is_single_partition and not w.is_key_range
    assert w.partition_keys(CTX) == [(1,)]
    assert w.filters == []


def test_in_on_partition_key_sorted_by_value_and_deduplicated():
    w = where_of("SELECT * FROM t WHERE k IN (3, 1, 2, 1)")
    assert w.partition_keys(CTX) == [(1,), (2,), (3,)]
    assert not w.is_single_partition


def test_in_on_several_components_is_a_cartesian_product():
    w = where_of("SELECT * FROM t2 WHERE a IN (2, 1) AND b IN (5, 4)")
    assert w.partition_keys(CTX) == [(1, 4), (1, 5), (2, 4), (2, 5)]


def test_empty_in_gives_no_partition():
    assert where_of("SELECT * FROM t WHERE k IN ()").partition_keys(CTX) == []


def test_no_partition_restriction_is_a_range():
    w = where_of("SELECT * FROM t")
    assert w.is_key_range and not w.is_partition_lookup


def test_partial_partition_key_needs_allow_filtering():
    refused("SELECT * FROM t2 WHERE a = 1", "ALLOW FILTERING")
    w = where_of("SELECT * FROM t2 WHERE a = 1 ALLOW FILTERING")
    assert w.is_key_range and [r.text for r in w.filters] == ["a = 1"]


def test_slice_on_partition_key_needs_allow_filtering():
    refused("SELECT * FROM t WHERE k > 1", "ALLOW FILTERING")
    assert where_of("SELECT * FROM t WHERE k > 1 ALLOW FILTERING").is_key_range


def test_in_on_partition_key_with_filtering_is_refused():
    refused("SELECT * FROM t2 WHERE a IN (1, 2) ALLOW FILTERING", "IN restrictions are not supported")


def test_null_in_key_is_refused_at_execution():
    w = where_of("SELECT * FROM t WHERE k = ?")
    with pytest.raises(InvalidRequest, match="null value"):
        w.partition_keys(EvalContext([None]))


# --- token ------------------------------------------------------------------------------------------

def test_token_range_bounds():
    w = where_of("SELECT * FROM t WHERE token(k) > 10 AND token(k) <= 20")
    assert w.is_key_range and w.token_range(CTX) == (10, False, 20, True)


def test_token_ranges_never_wrap():
    assert where_of("SELECT * FROM t WHERE token(k) > 20 AND token(k) < 10").token_range(CTX) is None
    assert where_of("SELECT * FROM t WHERE token(k) > 5 AND token(k) < 5").token_range(CTX) is None


def test_token_of_literal():
    w = where_of("SELECT * FROM t WHERE token(k) >= token(1)")
    assert w.token_range(CTX) == (-4069959284402364209, True, None, True)


@pytest.mark.parametrize("cql, text", [
    ("SELECT * FROM t2 WHERE token(a) > 1", "all partition key components"),
    ("SELECT * FROM t2 WHERE token(b, a) > 1", "partition key order"),
    ("SELECT * FROM t WHERE token(c) > 1", "partition key"),
    ("SELECT * FROM t WHERE token(k) != 1", "!="),
    ("SELECT * FROM t WHERE token(k) > 1 AND token(k) > 2", "start bound"),
])
def test_token_refusals(cql, text):
    refused(cql, text)


def test_clustering_with_token_range_needs_filtering():
    refused("SELECT * FROM t WHERE token(k) > 1 AND c = 1", "ALLOW FILTERING")


def test_token_with_modifications_is_refused():
    refused("DELETE FROM t WHERE token(k) > 1", "token function", statement=DELETE)


# --- clustering ------------------------------------------------------------------------------------

def test_clustering_prefix_and_slice():
    w = where_of("SELECT * FROM t WHERE k = 1 AND c = 2 AND d > 3")
    assert w.clustering_slices(CTX) == [ClusteringSlice((2,), ((3,), False), None)]
    assert w.filters == []


def test_clustering_in_sorted_and_deduplicated():
    w = where_of("SELECT * FROM t WHERE k = 1 AND c IN (3, 1, 3) AND d >= 2")
    assert w.clustering_slices(CTX) == [ClusteringSlice((1,), ((2,), True)),
                                        ClusteringSlice((3,), ((2,), True))]


def test_clustering_in_follows_desc_order():
    w = where_of("SELECT * FROM td WHERE k = 1 AND c IN (1, 3, 2)")
    assert [s.prefix for s in w.clustering_slices(CTX)] == [(3,), (2,), (1,)]


def test_several_clustering_in_combine():
    w = where_of("SELECT * FROM t WHERE k = 1 AND c IN (1, 2) AND d IN (4, 3)")
    assert w.clustering_keys(CTX) == [(1, 3), (1, 4), (2, 3), (2, 4)]


def test_clustering_gap_is_refused():
    refused("SELECT * FROM t WHERE k = 1 AND d = 1", 'PRIMARY KEY column "d" cannot be restricted as '
                                                     'preceding column "c" is not restricted')


def test_clustering_after_slice_is_refused():
    refused("SELECT * FROM t WHERE k = 1 AND c > 1 AND d = 1", "non-EQ relation")
    refused("SELECT * FROM t WHERE k = 1 AND d = 1 AND c > 1", "non-EQ relation")


def test_allow_filtering_relaxes_clustering_rules():
    w = where_of("SELECT * FROM t WHERE k = 1 AND d = 1 ALLOW FILTERING")
    assert w.clustering_slices(CTX) == [ClusteringSlice(())]
    assert [r.text for r in w.filters] == ["d = 1"]
    w = where_of("SELECT * FROM t WHERE k = 1 AND c > 1 AND d = 1 ALLOW FILTERING")
    assert w.clustering_slices(CTX) == [ClusteringSlice((), ((1,), False))]
    assert [r.text for r in w.filters] == ["d = 1"]


def test_clustering_without_partition_key_needs_filtering():
    refused("SELECT * FROM t WHERE c = 1", "ALLOW FILTERING")
    w = where_of("SELECT * FROM t WHERE c = 1 ALLOW FILTERING")
    assert w.is_key_range and [r.text for r in w.filters] == ["c = 1"]


@pytest.mark.parametrize("cql, text", [
    ("SELECT * FROM t WHERE k = 1 AND c = 1 AND c = 2", "includes an Equal"),
    ("SELECT * FROM t WHERE k = 1 AND c IN (1) AND c = 2", "includes a IN"),
    ("SELECT * FROM t WHERE k = 1 AND c > 1 AND c = 2", "both an equality and an inequality"),
    ("SELECT * FROM t WHERE k = 1 AND c > 1 AND c >= 2", "start bound"),
    ("SELECT * FROM t WHERE k = 1 AND c < 1 AND c <= 2", "end bound"),
    ("SELECT * FROM t WHERE k = 1 AND k = 2", "includes an Equal"),
])
def test_several_relations_on_one_column(cql, text):
    refused(cql, text)


def test_empty_clustering_range_is_legal():
    w = where_of("SELECT * FROM t WHERE k = 1 AND c > 5 AND c < 1")
    assert w.clustering_slices(CTX) == [ClusteringSlice((), ((5,), False), ((1,), False))]


# --- tuple relations --------------------------------------------------------------------------------

def test_tuple_slice():
    w = where_of("SELECT * FROM t WHERE k = 1 AND (c, d) > (1, 2)")
    assert w.clustering_slices(CTX) == [ClusteringSlice((), ((1, 2), False))]


def test_tuple_bounds_of_different_lengths():
    w = where_of("SELECT * FROM t WHERE k = 1 AND (c, d) > (1, 2) AND (c) < (3)")
    assert w.clustering_slices(CTX) == [ClusteringSlice((), ((1, 2), False), ((3,), False))]


def test_tuple_in():
    w = where_of("SELECT * FROM t WHERE k = 1 AND (c, d) IN ((3, 4), (1, 2))")
    assert w.clustering_keys(CTX) == [(1, 2), (3, 4)]


def test_single_in_then_tuple_slice():
    w = where_of("SELECT * FROM t2 WHERE a = 1 AND b = 1 AND c IN (1, 2) AND (d) > (0)")
    assert len(w.clustering_slices(CTX)) == 2


@pytest.mark.parametrize("cql, text", [
    ("SELECT * FROM t WHERE (k, c) = (1, 2)", "only be applied to clustering columns"),
    ("SELECT * FROM t WHERE k = 1 AND (d, c) = (1, 2)", "PRIMARY KEY order"),
    ("SELECT * FROM t WHERE k = 1 AND (c, d) = (1, 2, 3)", "Expected 2 elements"),
    ("SELECT * FROM t WHERE k = 1 AND (c, d) > (1, 2) AND (d) < (3)", "non-EQ relation"),
    ("SELECT * FROM t WHERE k = 1 AND c > 1 AND (c, d) < (3, 1)", "tuple notation"),
    ("SELECT * FROM t WHERE k = 1 AND c = 1 AND (c, d) = (1, 2)", "includes an Equal"),
    ("SELECT * FROM t WHERE k = 1 AND (c, d) != (1, 2)", "!="),
    ("SELECT * FROM t WHERE k = 1 AND d = 1 AND (c, d) = (1, 2)", "includes an Equal"),
])
def test_tuple_refusals(cql, text):
    refused(cql, text)


def test_tuple_slice_over_mixed_order_is_filtered():
    w = where_of("SELECT * FROM td WHERE k = 1 AND (c, d) > (1, 2)")
    assert w.clustering_slices(CTX) == [ClusteringSlice((), ((1,), True))]
    assert [r.text for r in w.filters] == ["(c, d) > (1, 2)"]
    pred = w.row_filter(CTX)
    assert pred({"c": 1, "d": 3}) and pred({"c": 2, "d": 0}) and not pred({"c": 1, "d": 2})


# --- non-key columns, indexes ---------------------------------------------------------------------

def test_regular_column_needs_allow_filtering_even_with_full_key():
    refused("SELECT * FROM t WHERE k = 1 AND v = 'a'", "ALLOW FILTERING")
    w = where_of("SELECT * FROM t WHERE k = 1 AND v = 'a' ALLOW FILTERING")
    assert [r.text for r in w.filters] == ["v = 'a'"]
    pred = w.row_filter(CTX)
    assert pred({"v": "a"}) and not pred({"v": "b"}) and not pred({"v": None})


def test_static_column_needs_allow_filtering():
    refused("SELECT * FROM t WHERE k = 1 AND s = 1", "ALLOW FILTERING")


def test_indexed_column_needs_no_allow_filtering():
    w = where_of("SELECT * FROM ti WHERE v = 1")
    assert w.index is not None and w.index[0].name == "ti_v_idx" and w.is_key_range


def test_index_does_not_serve_slices():
    refused("SELECT * FROM ti WHERE v > 1", "ALLOW FILTERING")


def test_index_plus_other_filter_needs_allow_filtering():
    refused("SELECT * FROM ti WHERE v = 1 AND w = 2", "ALLOW FILTERING")
    assert where_of("SELECT * FROM ti WHERE v = 1 AND w = 2 ALLOW FILTERING").index is not None


def test_index_with_partition_key_eq_is_fine():
    w = where_of("SELECT * FROM ti WHERE k = 1 AND v = 1")
    assert w.is_partition_lookup and not w.is_key_range


def test_index_with_clustering_and_no_partition_key_needs_filtering():
    refused("SELECT * FROM ti WHERE c = 1 AND v = 1", "ALLOW FILTERING")


def test_index_with_in_on_partition_key_is_refused():
    refused("SELECT * FROM ti WHERE k IN (1, 2) AND v = 1", "IN clause for the PRIMARY KEY")


def test_contains_key_uses_keys_index():
    w = where_of("SELECT * FROM ti WHERE m CONTAINS KEY 1")
    assert w.index[0].name == "ti_m_idx"
    refused("SELECT * FROM ti WHERE m CONTAINS 1", "ALLOW FILTERING")


@pytest.mark.parametrize("cql, text", [
    ("SELECT * FROM tc WHERE k = 1 AND l = [1] ALLOW FILTERING", "cannot be restricted by a '=' relation"),
    ("SELECT * FROM tc WHERE k = 1 AND st > {'a'} ALLOW FILTERING", "cannot be restricted by a '>'"),
    ("SELECT * FROM tc WHERE k = 1 AND k CONTAINS 1", "non-collection"),
    ("SELECT * FROM tc WHERE k = 1 AND l CONTAINS KEY 1 ALLOW FILTERING", "non-map"),
    ("SELECT * FROM tc WHERE k = 1 AND v = 1", "Undefined column name v"),
    ("SELECT * FROM tc WHERE k = 1 AND du > 1h ALLOW FILTERING", "duration"),
    ("SELECT * FROM t WHERE k = 1 AND v != 'a' ALLOW FILTERING", "!="),
    ("SELECT * FROM t WHERE k = 1 AND v IS NOT NULL", "Unsupported restriction"),
    ("SELECT * FROM t WHERE k = 1 AND v LIKE 'a%' ALLOW FILTERING", "LIKE"),
    ("SELECT * FROM t WHERE k = 1 AND v IN ('a', 'b') ALLOW FILTERING", "IN restrictions"),
    ("SELECT * FROM t WHERE k = 'a'", "Invalid STRING constant"),
])
def test_non_key_refusals(cql, text):
    refused(cql, text)


def test_collection_filters():
    w = where_of("SELECT * FROM tc WHERE l CONTAINS 2 AND m CONTAINS KEY 'x' AND m['y'] = 3 "
                 "AND fl = [1, 2] ALLOW FILTERING")
    pred = w.row_filter(CTX)
    good = {"l": [1, 2], "m": {"x": 1, "y": 3}, "fl": [1, 2]}
    assert pred(good)
    assert not pred({**good, "l": [1]})
    assert not pred({**good, "m": {"y": 3}})
    assert not pred({**good, "m": {"x": 1, "y": 4}})
    assert not pred({**good, "fl": None})


def test_selecting_only_statics_forbids_clustering_restrictions():
    refused("SELECT s FROM t WHERE k = 1 AND c = 1", "only static columns", selects_only_static=True)


# --- markers ---------------------------------------------------------------------------------------

def test_markers_get_receivers():
    st = cqlpy.parse_one("SELECT * FROM t WHERE k IN ? AND c = ? AND (d) > (?) AND token(k) > ?")
    markers = Markers()
    classify(CAT.table("ks", "t"), st.where, markers, catalog=CAT, keyspace="ks", allow_filtering=True)
    assert [r.name for r in markers.receivers] == ["in(k)", "c", "d", "partition key token"]
    assert markers.receivers[0].type.cql_name == "list<int>"


def test_markers_evaluated_per_execution():
    w = where_of("SELECT * FROM t WHERE k IN ? AND c = ? AND d < ?")
    ctx = EvalContext([[2, 1], 5, 9])
    assert w.partition_keys(ctx) == [(1,), (2,)]
    assert w.clustering_slices(ctx) == [ClusteringSlice((5,), None, ((9,), False))]


# --- UPDATE / DELETE -------------------------------------------------------------------------------

@pytest.mark.parametrize("cql, statement, text", [
    ("UPDATE t2 SET v = 1 WHERE a = 1 AND c = 1 AND d = 1", UPDATE, "Some partition key parts are missing: b"),
    ("UPDATE t SET v = 'a' WHERE k > 1 AND c = 1 AND d = 1", UPDATE, "Only EQ and IN relation"),
    ("UPDATE t SET v = 'a' WHERE k = 1 AND c = 1", UPDATE, "Some clustering keys are missing: d"),
    ("UPDATE t SET v = 'a' WHERE k = 1 AND c = 1 AND d > 1", UPDATE, "Slice restrictions"),
    ("UPDATE t SET v = 'a' WHERE k = 1 AND c = 1 AND d = 1 AND w = 1", UPDATE, "Non PRIMARY KEY"),
    ("DELETE FROM t WHERE k = 1 AND d = 1", DELETE, "preceding column"),
    ("DELETE FROM t WHERE k = 1 AND c > 1 AND d = 1", DELETE, "non-EQ relation"),
    ("DELETE FROM t WHERE k = 1 AND v = 'a'", DELETE, "Non PRIMARY KEY columns found in where clause: v"),
])
def test_modification_refusals(cql, statement, text):
    refused(cql, text, statement=statement)


def test_update_of_statics_only_refuses_clustering():
    refused("UPDATE t SET s = 1 WHERE k = 1 AND c = 1", "modifies only static", statement=UPDATE,
            static_only=True)
    w = where_of("UPDATE t SET s = 1 WHERE k = 1", statement=UPDATE, static_only=True)
    assert w.partition_keys(CTX) == [(1,)] and w.clustering == []


def test_update_keys():
    w = where_of("UPDATE t SET v = 'a' WHERE k IN (1, 2) AND c = 1 AND d IN (3, 2)", statement=UPDATE)
    assert w.partition_keys(CTX) == [(1,), (2,)]
    assert w.clustering_keys(CTX) == [(1, 2), (1, 3)]
    assert w.clustering_is_full_eq


def test_delete_range():
    w = where_of("DELETE FROM t WHERE k = 1 AND c = 1 AND d > 2", statement=DELETE)
    assert w.clustering_slices(CTX) == [ClusteringSlice((1,), ((2,), False))]
    assert not w.clustering_is_full_eq
    w = where_of("DELETE FROM t WHERE k = 1 AND c IN (2, 1)", statement=DELETE)
    assert w.clustering_slices(CTX) == [ClusteringSlice((1,)), ClusteringSlice((2,))]
    assert w.missing_clustering == ["d"]
