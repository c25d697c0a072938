"""Lightweight transactions: IF NOT EXISTS / IF EXISTS / IF conditions and Cassandra's [applied] shapes."""
from __future__ import annotations

import pytest

from cqlpy import errors

from .write_support import Clock, applied, open_session, rows


@pytest.fixture
def s(tmp_path):
    session = open_session(str(tmp_path / "data"), Clock())
    session.execute("CREATE TABLE t (k int, c int, v1 int, v2 text, st int static, m map<text, int>, "
                    "l list<int>, PRIMARY KEY (k, c))")
    yield session
    session.close()


def test_insert_if_not_exists(s):
    rs = s.execute("INSERT INTO t (k, c, v1, v2) VALUES (0, 2, 2, 'foo') IF NOT EXISTS")
    assert rs.column_names == ["[applied]"] and applied(rs) == [(True,)]
    rs = s.execute("INSERT INTO t (k, c, v1) VALUES (0, 2, 5) IF NOT EXISTS")
    assert rs.column_names == ["[applied]", "k", "c", "st", "l", "m", "v1", "v2"]
    assert applied(rs) == [(False, 0, 2, None, None, None, 2, "foo")]
    assert rows(s, "t") == [(0, 2, None, None, None, 2, "foo")]


def test_update_if_condition_shapes(s):
    s.execute("INSERT INTO t (k, c, v1, v2) VALUES (1, 1, 2, 'x')")
    rs = s.execute("UPDATE t SET v1 = 3 WHERE k = 1 AND c = 1 IF v1 = 4")
    assert rs.column_names == ["[applied]", "v1"] and applied(rs) == [(False, 2)]
    rs = s.execute("UPDATE t SET v1 = 3 WHERE k = 1 AND c = 1 IF v2 = 'x' AND v1 = 2 AND v2 = 'x'")
    assert applied(rs) == [(True,)]
    rs = s.execute("UPDATE t SET v1 = 4 WHERE k = 1 AND c = 1 IF v2 = 'y' AND v1 > 1")
    assert rs.column_names == ["[applied]", "v2", "v1"] and applied(rs) == [(False, "x", 3)]
    # missing row: only [applied]
    rs = s.execute("UPDATE t SET v1 = 4 WHERE k = 1 AND c = 9 IF v1 = 1")
    assert rs.column_names == ["[applied]"] and applied(rs) == [(False,)]
    # null compares: a missing row / cell is null
    assert applied(s.execute("UPDATE t SET v1 = 4 WHERE k = 1 AND c = 8 IF v1 = null")) == [(True,)]
    assert rows(s, "t") == [(1, 1, None, None, None, 3, "x"), (1, 8, None, None, None, 4, None)]


def test_if_exists(s):
    rs = s.execute("UPDATE t SET v1 = 1 WHERE k = 2 AND c = 1 IF EXISTS")
    assert applied(rs) == [(False,)]
    s.execute("INSERT INTO t (k, c) VALUES (2, 1)")
    assert applied(s.execute("UPDATE t SET v1 = 1 WHERE k = 2 AND c = 1 IF EXISTS")) == [(True,)]
    assert applied(s.execute("DELETE FROM t WHERE k = 2 AND c = 1 IF EXISTS")) == [(True,)]
    assert applied(s.execute("DELETE FROM t WHERE k = 2 AND c = 1 IF EXISTS")) == [(False,)]
    assert rows(s, "t") == []


def test_condition_operators(s):
    s.execute("INSERT INTO t (k, c, v1, v2, m, l) VALUES (3, 1, 5, 'b', {'a': 1}, [7, 8])")
    ok = [
        "v1 IN (1, 5)", "v1 != 4", "v1 >= 5", "v1 < 6", "v2 > 'a'", "m['a'] = 1", "m['z'] = null",
        "l[1] = 8", "m = {'a': 1}", "v1 IN ?", "m CONTAINS 1", "m CONTAINS KEY 'a'",
        "l CONTAINS 7",
    ]
    for cond in ok:
        params = ([5, 6],) if "?" in cond else ()
        rs = s.execute(f"UPDATE t SET v1 = 5 WHERE k = 3 AND c = 1 IF {cond}", params)
        assert applied(rs) == [(True,)], cond
    for cond in ["v1 IN (1, 2)", "v1 > 5", "m['a'] = 2", "l[5] = 1", "m = {'a': 2}", "v2 < 'a'"]:
        rs = s.execute(f"UPDATE t SET v1 = 5 WHERE k = 3 AND c = 1 IF {cond}")
        assert applied(rs)[0][0] is False, cond
    with pytest.raises(errors.InvalidRequest, match="null"):
        s.execute("UPDATE t SET v1 = 5 WHERE k = 3 AND c = 1 IF v1 > null")


def test_static_conditions_without_clustering(s):
    s.execute("INSERT INTO t (k, c, v1, st) VALUES (4, 1, 1, 10)")
    rs = s.execute("UPDATE t SET st = 11 WHERE k = 4 IF st = 9")
    assert rs.column_names == ["[applied]", "st"] and applied(rs) == [(False, 10)]
    assert applied(s.execute("UPDATE t SET st = 11 WHERE k = 4 IF st = 10")) == [(True,)]
    assert applied(s.execute("INSERT INTO t (k, st) VALUES (5, 1) IF NOT EXISTS")) == [(True,)]
    rs = s.execute("INSERT INTO t (k, st) VALUES (5, 2) IF NOT EXISTS")
    assert applied(rs)[0][0] is False
    assert applied(s.execute("DELETE st FROM t WHERE k = 5 IF st = 1")) == [(True,)]


def test_conditional_batch(s):
    s.execute("INSERT INTO t (k, c, v1) VALUES (6, 1, 1)")
    s.execute("INSERT INTO t (k, c, v1) VALUES (6, 2, 2)")
    rs = s.execute("BEGIN BATCH UPDATE t SET v1 = 10 WHERE k = 6 AND c = 1 IF v1 = 1; "
                   "UPDATE t SET v1 = 20 WHERE k = 6 AND c = 2 IF v1 = 3; APPLY BATCH")
    assert rs.column_names == ["[applied]", "k", "c", "v1"]
    assert applied(rs) == [(False, 6, 1, 1), (False, 6, 2, 2)]
    rs = s.execute("BEGIN BATCH UPDATE t SET v1 = 10 WHERE k = 6 AND c = 1 IF v1 = 1; "
                   "INSERT INTO t (k, c, v1) VALUES (6, 3, 3); APPLY BATCH")
    assert applied(rs) == [(True,)]
    assert [r[5] for r in rows(s, "t")] == [10, 2, 3]
    with pytest.raises(errors.InvalidRequest, match="multiple partitions"):
        s.execute("BEGIN BATCH UPDATE t SET v1 = 1 WHERE k = 6 AND c = 1 IF v1 = 1; "
                  "UPDATE t SET v1 = 1 WHERE k = 7 AND c = 1 APPLY BATCH")


def test_lwt_wins_over_earlier_timestamps(s):
    s.execute("INSERT INTO t (k, c, v1) VALUES (8, 1, 1) USING TIMESTAMP 99999999999999999")
    assert applied(s.execute("UPDATE t SET v1 = 2 WHERE k = 8 AND c = 1 IF v1 = 1")) == [(True,)]
    assert rows(s, "t")[0][5] == 2


@pytest.mark.parametrize("stmt, text", [
    ("UPDATE t SET v1 = 1 WHERE k = 1 AND c = 1 IF k = 1", "PRIMARY KEY column 'k'"),
    ("UPDATE t USING TIMESTAMP 5 SET v1 = 1 WHERE k = 1 AND c = 1 IF v1 = 1", "custom timestamp"),
    ("INSERT INTO t (k, c) VALUES (1, 1) IF NOT EXISTS USING TIMESTAMP 5", "custom timestamp"),
    ("UPDATE t SET v1 = 1 WHERE k IN (1, 2) AND c = 1 IF v1 = 1", "IN on the partition key"),
    ("UPDATE t SET v1 = 1 WHERE k = 1 AND c IN (1, 2) IF v1 = 1", "IN on the clustering key"),
    ("DELETE FROM t WHERE k = 1 AND c > 1 IF v1 = 1", "restrict all PRIMARY KEY"),
    ("DELETE v1 FROM t WHERE k = 1 IF st = 1", "in order to delete non static columns"),
    ("UPDATE t SET v1 = 1 WHERE k = 1 AND c = 1 IF nope = 1", "Undefined column"),
    ("BEGIN BATCH USING TIMESTAMP 1 UPDATE t SET v1 = 1 WHERE k = 1 AND c = 1 IF v1 = 1 "
     "APPLY BATCH", "custom timestamp"),
])
def test_conditional_refusals(s, stmt, text):
    with pytest.raises(errors.InvalidRequest, match=text):
        s.execute(stmt)


def test_counter_table_refuses_conditions(s):
    s.execute("CREATE TABLE cnt (k int PRIMARY KEY, n counter)")
    with pytest.raises(errors.InvalidRequest, match="counter tables"):
        s.execute("UPDATE cnt SET n = n + 1 WHERE k = 1 IF n = 1")
    with pytest.raises(errors.InvalidRequest, match="counter tables"):
        s.execute("UPDATE cnt SET n = n + 1 WHERE k = 1 IF EXISTS")


def test_duration_conditions_compare_by_equality_only(s):
    s.execute("CREATE TABLE du (k int PRIMARY KEY, d duration, dm map<text, duration>)")
    s.execute("INSERT INTO du (k, d, dm) VALUES (1, 1h30m, {'a': 2d})")
    rs = s.execute("UPDATE du SET d = 2h WHERE k = 1 IF d = 1h30m AND dm['a'] = 2d AND dm = {'a': 2d}")
    assert applied(rs) == [(True,)]
    assert applied(s.execute("UPDATE du SET d = 3h WHERE k = 1 IF d IN (2h, 5h)")) == [(True,)]
    with pytest.raises(errors.InvalidRequest, match="durations"):
        s.execute("UPDATE du SET d = 2h WHERE k = 1 IF d > 1h")


def test_udt_and_frozen_conditions(s):
    s.execute("CREATE TYPE addr (street text, zip int)")
    s.execute("CREATE TABLE ut (k int PRIMARY KEY, a addr, fa frozen<addr>, l list<int>, st set<int>)")
    s.execute("INSERT INTO ut (k, a, fa, l) VALUES (1, {street: 'x', zip: 1}, {street: 'y'}, [1, 2])")
    cond = "a.zip = 1 AND l = [1, 2] AND st = {} AND fa = {street: 'y'} AND fa.zip = null AND l > [1]"
    assert applied(s.execute(f"UPDATE ut SET l = [3] WHERE k = 1 IF {cond}")) == [(True,)]
    rs = s.execute("UPDATE ut SET l = [4] WHERE k = 1 IF a.zip > 1")
    assert rs.column_names == ["[applied]", "a"] and applied(rs) == [(False, ("x", 1))]
    with pytest.raises(errors.InvalidRequest, match="Slice conditions"):
        s.execute("UPDATE ut SET l = [4] WHERE k = 1 IF a < {street: 'x', zip: 1}")


def test_concurrent_if_not_exists_applies_once(s):
    import threading
    s.execute("CREATE TABLE once (k int PRIMARY KEY, who int)")
    results = []

    def work(i):
        for k in range(20):
            rs = s.execute("INSERT INTO once (k, who) VALUES (%s, %s) IF NOT EXISTS", (k, i))
            results.append((k, rs.one()[0]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = sorted(k for k, ok in results if ok)
    assert won == list(range(20))
