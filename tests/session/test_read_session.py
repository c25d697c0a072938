"""The read executor through cqlpy.connect(): result metadata, paging states, storage changes."""
import pytest

import cqlpy
from cqlpy.errors import InvalidRequest, ProtocolError
from cqlpy.schema import types as T


@pytest.fixture()
def s(tmp_path):
    session = cqlpy.connect(str(tmp_path))
    session.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("USE ks")
    session.execute("CREATE TABLE t (k int, c int, v text, l list<int>, PRIMARY KEY (k, c))")
    ins = session.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)")
    for k in range(4):
        for c in range(10):
            session.execute(ins, (k, c, f"{k}-{c}"))
    yield session
    session.close()


def test_result_metadata(s):
    rs = s.execute("SELECT k, max(c) AS top, writetime(v) FROM t WHERE k = 1")
    assert rs.column_names == ["k", "top", "writetime(v)"]
    assert rs.column_types == [T.INT, T.INT, T.BIGINT]
    assert [(c.keyspace, c.table) for c in rs.column_specs] == [("ks", "t")] * 3
    row = rs.one()
    assert row.k == 1 and row.top == 9 and row.writetime_v > 0


def test_paging_state_resumes_exactly_and_is_reusable(s):
    first = s.execute("SELECT k, c FROM t", fetch_size=7)
    state = first.paging_state
    assert state is not None and len(first.current_rows) == 7
    a = s.execute("SELECT k, c FROM t", fetch_size=7, paging_state=state).current_rows
    b = s.execute("SELECT k, c FROM t", fetch_size=7, paging_state=state).current_rows
    assert a == b and a[0] != first.current_rows[-1]
    everything = s.execute("SELECT k, c FROM t").all()
    assert first.current_rows + a == everything[:14]


def test_paging_survives_flush_and_compaction_between_pages(s):
    rs = s.execute("SELECT k, c, v FROM t WHERE k IN (0, 1, 2)", fetch_size=4)
    got = list(rs.current_rows)
    state = rs.paging_state
    s.flush()
    s.execute("INSERT INTO t (k, c, v) VALUES (0, 100, 'late')")
    s.compact()
    while state is not None:
        page = s.execute("SELECT k, c, v FROM t WHERE k IN (0, 1, 2)", fetch_size=4, paging_state=state)
        got.extend(page.current_rows)
        state = page.paging_state
    assert [(r.k, r.c) for r in got] == [(k, c) for k in range(3) for c in list(range(10)) + ([100] if k == 0 else [])]


def test_iteration_fetches_pages(s):
    rs = s.execute("SELECT c FROM t WHERE k = 2 ORDER BY c DESC", fetch_size=3)
    assert [r.c for r in rs] == list(range(9, -1, -1))


def test_a_garbage_paging_state_is_refused(s):
    with pytest.raises(ProtocolError):
        s.execute("SELECT * FROM t", fetch_size=2, paging_state=b"\xff\x00garbage")


def test_in_with_order_by_and_paging(s):
    with pytest.raises(InvalidRequest, match="Cannot page queries with both ORDER BY and a IN"):
        s.execute("SELECT * FROM t WHERE k IN (1, 2) ORDER BY c DESC", fetch_size=5)
    rows = s.execute("SELECT k, c FROM t WHERE k IN (1, 2) ORDER BY c DESC").all()
    assert [(r.k, r.c) for r in rows[:4]] == [(1, 9), (2, 9), (1, 8), (2, 8)]


def test_collection_writetime_and_ttl_lists(s):
    s.execute("UPDATE t USING TIMESTAMP 42 SET l = [1, 2] WHERE k = 9 AND c = 0")
    row = s.execute("SELECT l, writetime(l), maxwritetime(l), ttl(l) FROM t WHERE k = 9").one()
    assert row.l == [1, 2] and row[1] == [42, 42] and row[2] == 42 and row[3] == [None, None]


def test_explain_is_a_result(s):
    rs = s.execute("EXPLAIN SELECT * FROM t WHERE k = 1 AND c >= 3")
    assert rs.column_names == ["step", "detail"]
    steps = dict((r.step, r.detail) for r in rs)
    assert steps["partitions"] == "single partition: k = 1"
    assert steps["clustering"] == "1 slice: c >= 3"
    assert "sstables" in steps


def test_static_only_partitions(s):
    s.execute("CREATE TABLE st (k int, c int, s int STATIC, v int, PRIMARY KEY (k, c))")
    s.execute("INSERT INTO st (k, s) VALUES (1, 5)")
    assert s.execute("SELECT * FROM st").all() == [(1, None, 5, None)]
    assert s.execute("SELECT * FROM st WHERE k = 1 AND c = 1").all() == []
    assert s.execute("SELECT count(*) FROM st WHERE k = 1").one().count == 1
    s.execute("INSERT INTO st (k, c, v) VALUES (1, 2, 3)")
    assert s.execute("SELECT * FROM st").all() == [(1, 2, 5, 3)]


def test_prepared_select_reuses_its_plan(s):
    ps = s.prepare("SELECT v FROM t WHERE k = ? AND c IN ?")
    assert s.execute(ps, (1, [3, 1])).all() == [("1-1",), ("1-3",)]
    assert s.execute(ps, (2, [5])).all() == [("2-5",)]
    assert s.execute(ps, (3, [])).all() == []


def test_read_executor_api_directly(s):
    from cqlpy.planner.select import plan_select
    from cqlpy.planner.terms import EvalContext
    from cqlpy.session.read_executor import ReadExecutor
    db = s._database
    plan = plan_select(cqlpy.parse_one("SELECT c, v FROM t WHERE k = ? AND c < 5"), db.catalog, "ks")
    ex = ReadExecutor(db.engine)
    rs = ex.execute(plan, EvalContext([3]), fetch_size=2)
    assert [r.c for r in rs.current_rows] == [0, 1] and rs.has_more_pages
    assert [r.c for r in rs] == [0, 1, 2, 3, 4]
    rows, state = ex.rows(plan, EvalContext([3]))
    assert len(rows) == 5 and state is None
