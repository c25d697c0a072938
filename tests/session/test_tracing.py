"""Query tracing on the embedded Session: the steps a statement really took, stored in system_traces."""
from __future__ import annotations

import ipaddress
import uuid
from datetime import timedelta

import pytest

import cqlpy
from cqlpy.errors import InvalidRequest, SyntaxException
from cqlpy.session import tracing


@pytest.fixture
def session(tmp_path):
    s = cqlpy.connect(str(tmp_path / "db"))
    s.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute("USE ks")
    s.execute("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))")
    yield s
    s.close()


def activities(trace) -> list[str]:
    return [e.description for e in trace.events]


def sessions_count(session) -> int:
    return len(list(session.execute("SELECT session_id FROM system_traces.sessions")))


def test_a_traced_read_reports_memtable_sstables_bloom_filter_and_tombstones(session):
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'a')")
    session.flush()                                          # SSTable 1 holds k=1
    session.execute("INSERT INTO t (k, c, v) VALUES (2, 1, 'b')")
    session.flush()                                          # SSTable 2 holds only k=2
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 2, 'c')")
    session.execute("DELETE v FROM t WHERE k = 1 AND c = 2")  # a cell tombstone in the memtable
    rs = session.execute("SELECT * FROM t WHERE k = 1", trace=True)
    assert [tuple(r) for r in rs] == [(1, 1, "a"), (1, 2, None)]
    trace = rs.get_query_trace()
    steps = activities(trace)
    for expected in ("Parsing SELECT * FROM t WHERE k = 1", "Preparing statement",
                     "Executing single-partition query on t", "Acquiring sstable references",
                     "Read partition from memtable (1 rows)",
                     "Skipped 0/2 non-slice-intersecting sstables, included 0 due to tombstones",
                     "Merged data from memtables and 1 sstables",
                     "Read 2 live rows and 1 tombstone cells"):
        assert expected in steps, (expected, steps)
    skipped = [s for s in steps if s.startswith("Bloom filter allows skipping sstable")]
    assert len(skipped) == 1
    assert steps.index("Parsing SELECT * FROM t WHERE k = 1") < steps.index("Executing single-partition query on t")
    elapsed = [e.source_elapsed for e in trace.events]
    assert elapsed == sorted(elapsed) and all(isinstance(e, timedelta) for e in elapsed)
    assert trace.duration >= elapsed[-1]
    assert [e.datetime for e in trace.events] == sorted(e.datetime for e in trace.events)


def test_session_row_and_driver_shaped_trace(session):
    rs = session.execute("SELECT * FROM t WHERE k = 7", trace=True)
    assert isinstance(rs.trace_id, uuid.UUID) and rs.trace_id.version == 1
    trace = rs.get_query_trace()
    assert trace.trace_id == rs.trace_id
    assert trace.request_type == "Execute CQL3 query"
    assert trace.parameters == {"query": "SELECT * FROM t WHERE k = 7"}
    assert trace.coordinator == ipaddress.ip_address("127.0.0.1") and trace.client is not None
    assert trace.duration > timedelta(0) and trace.started_at is not None
    assert {e.thread_name for e in trace.events} == {"MainThread"}
    assert all(e.source == trace.coordinator for e in trace.events)
    assert "Partition not found" in activities(trace)
    row = session.execute(f"SELECT command, duration, request FROM system_traces.sessions "
                          f"WHERE session_id = {rs.trace_id}").one()
    assert row.command == "QUERY" and row.duration == trace.duration // timedelta(microseconds=1)
    events = list(session.execute(f"SELECT activity, source_elapsed, thread FROM system_traces.events "
                                  f"WHERE session_id = {rs.trace_id}"))
    assert [e.activity for e in events] == activities(trace)


def test_traces_live_24_hours(session):
    rs = session.execute("SELECT * FROM t WHERE k = 1", trace=True)
    ttl = session.execute(f"SELECT ttl(duration) FROM system_traces.sessions "
                          f"WHERE session_id = {rs.trace_id}").one()[0]
    assert 86_000 < ttl <= 86_400
    ttls = {r[0] for r in session.execute(f"SELECT ttl(activity) FROM system_traces.events "
                                          f"WHERE session_id = {rs.trace_id}")}
    assert ttls and all(86_000 < t <= 86_400 for t in ttls)


def test_a_traced_write_appends_to_the_commitlog_then_the_memtable(session):
    rs = session.execute("INSERT INTO t (k, c, v) VALUES (3, 3, 'x')", trace=True)
    steps = activities(rs.get_query_trace())
    assert steps.index("Appending to commitlog") < steps.index("Adding to t memtable")
    assert session.execute("SELECT v FROM t WHERE k = 3 AND c = 3").one().v == "x"


def test_sstables_outside_the_slice_are_skipped_unless_they_hold_partition_deletions(session):
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'a')")
    session.flush()
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 10, 'b')")
    session.flush()
    rs = session.execute("SELECT v FROM t WHERE k = 1 AND c >= 5", trace=True)
    assert [r.v for r in rs] == ["b"]
    steps = activities(rs.get_query_trace())
    assert "Skipped 1/2 non-slice-intersecting sstables, included 0 due to tombstones" in steps
    assert "Merged data from memtables and 1 sstables" in steps

    session.execute("DELETE FROM t USING TIMESTAMP 1 WHERE k = 1")   # older than the rows: shadows nothing
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 2, 'd')")     # same SSTable, outside the slice
    session.flush()
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 20, 'c')")
    session.flush()
    rs = session.execute("SELECT v FROM t WHERE k = 1 AND c >= 15", trace=True)
    assert [r.v for r in rs] == ["c"]
    steps = activities(rs.get_query_trace())
    assert "Skipped 2/4 non-slice-intersecting sstables, included 1 due to tombstones" in steps


def test_a_single_row_read_in_timestamp_order(session):
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'old')")
    session.flush()
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'new')")
    rs = session.execute("SELECT v FROM t WHERE k = 1 AND c = 1", trace=True)
    assert rs.one().v == "new"
    steps = activities(rs.get_query_trace())
    assert "Read row from memtable" in steps
    assert any(s.startswith("Skipped SSTable 1 and older: the row is complete") for s in steps), steps
    assert "Merged data from memtables and 0 sstables" in steps and steps[-1] == "Row found"


def test_a_scan_reports_its_range_and_rows(session):
    for k in (1, 2, 3):
        session.execute(f"INSERT INTO t (k, c, v) VALUES ({k}, 1, 'v')")
    session.flush()
    session.execute("INSERT INTO t (k, c, v) VALUES (1, 2, 'w')")
    rs = session.execute("SELECT * FROM t", trace=True)
    assert len(list(rs)) == 4
    steps = activities(rs.get_query_trace())
    assert ("Executing seq scan across 1 sstables for (min(-9223372036854775808), "
            "min(-9223372036854775808)]") in steps
    assert "Read 4 live rows from 3 partitions" in steps


def test_a_prepared_statement_is_not_parsed_again(session):
    ps = session.prepare("SELECT v FROM t WHERE k = ?")
    rs = session.execute(ps, (1,), trace=True)
    trace = rs.get_query_trace()
    assert trace.request_type == "Execute CQL3 prepared query"
    assert trace.parameters["query"] == "SELECT v FROM t WHERE k = ?"
    assert not any(s.startswith("Parsing") for s in activities(trace))
    assert "Executing single-partition query on t" in activities(trace)


def test_untraced_statements_write_no_trace(session):
    before = sessions_count(session)
    rs = session.execute("SELECT * FROM t WHERE k = 1")
    assert rs.get_query_trace() is None and rs.trace_id is None
    session.execute("INSERT INTO t (k, c, v) VALUES (5, 5, 'x')")
    assert sessions_count(session) == before


def test_a_failed_statement_is_traced_and_still_raises(session):
    before = sessions_count(session)
    with pytest.raises(SyntaxException):
        session.execute("SELEC * FROM t", trace=True)
    with pytest.raises(InvalidRequest):
        session.execute("SELECT * FROM nosuch", trace=True)
    rows = list(session.execute("SELECT request, duration FROM system_traces.sessions"))
    assert len(rows) == before + 2 and all(r.duration is not None for r in rows)


def test_time_uuids_increase_and_carry_their_instant():
    at = 4_102_444_800_000_000                      # 2100-01-01
    uuids = tracing.TimeUUIDs()
    a, b = uuids.next(at), uuids.next(at)
    assert a.version == b.version == 1 and b.time == a.time + 1     # the same instant: next tick
    assert tracing.uuid_datetime(a).isoformat() == "2100-01-01T00:00:00"
    assert uuids.next(at - 10**6).time > b.time               # never goes back


def test_system_traces_tables_are_described_as_cassandra_defines_them(session):
    columns = {(r.table_name, r.column_name): (r.kind, r.type) for r in session.execute(
        "SELECT table_name, column_name, kind, type FROM system_schema.columns "
        "WHERE keyspace_name = 'system_traces'")}
    assert columns[("sessions", "session_id")] == ("partition_key", "uuid")
    assert columns[("sessions", "parameters")] == ("regular", "map<text, text>")
    assert columns[("events", "event_id")] == ("clustering", "timeuuid")
    assert columns[("events", "source_elapsed")] == ("regular", "int")


def test_passwords_never_reach_system_traces(tmp_path):
    with cqlpy.connect(str(tmp_path / "db")) as session:
        rs = session.execute("CREATE ROLE alice WITH PASSWORD = 's3cret' AND LOGIN = true", trace=True)
        trace = rs.get_query_trace()
        texts = [trace.parameters.get("query", "")] + [e.description for e in trace.events]
        assert any("'*******'" in t for t in texts)
        assert not any("s3cret" in t for t in texts)
        rows = session.execute("SELECT parameters FROM system_traces.sessions")
        assert all("s3cret" not in str(r.parameters) for r in rows)
