"""The Session API: connect, USE, the statement cache, parameters, timestamps, system.local, close."""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import uuid

import pytest

import cqlpy
from cqlpy import errors
from cqlpy.language import ast
from cqlpy.planner.terms import UNSET, Markers, Receiver
from cqlpy.schema.types import parse_type
from cqlpy.schema.values import Duration
from cqlpy.session.params import bind_values, encode_literal, format_percent, uses_percent_style

KS = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"


@pytest.fixture
def session(tmp_path):
    s = cqlpy.connect(str(tmp_path / "data"))
    yield s
    s.close()


def test_connect_use_and_keyspace_argument(tmp_path):
    path = str(tmp_path / "data")
    with cqlpy.connect(path) as s:
        assert s.keyspace is None
        s.execute(KS)
        rs = s.execute("USE ks")
        assert s.keyspace == "ks" and rs.keyspace == "ks"
        s.execute("CREATE TABLE t (k int PRIMARY KEY)")
        assert s.catalog.get_table("ks", "t") is not None
    assert s.is_shutdown
    with pytest.raises(errors.InvalidRequest, match="closed"):
        s.execute("USE ks")
    with cqlpy.connect(path, keyspace="ks") as s:
        assert s.keyspace == "ks"
        assert s.catalog.get_table("ks", "t") is not None
    with pytest.raises(errors.InvalidRequest, match="does not exist"):
        cqlpy.connect(path, keyspace="nope")
    with cqlpy.connect(path) as s:           # a failed connect released the folder
        s.set_keyspace("ks")
        assert s.keyspace == "ks"


def test_second_connect_to_same_folder_is_refused(tmp_path):
    path = str(tmp_path / "data")
    with cqlpy.connect(path):
        with pytest.raises(errors.DataFolderLocked):
            cqlpy.connect(path)


def test_engine_options_pass_through(tmp_path):
    with cqlpy.connect(str(tmp_path / "d"), commitlog_sync="batch", memtable_flush_bytes=1 << 20,
                       compaction=False) as s:
        assert s.engine.options.commitlog_sync == "batch"
        assert s.engine.options.memtable_flush_bytes == 1 << 20
    with pytest.raises(TypeError):
        cqlpy.connect(str(tmp_path / "e"), no_such_option=1)


def test_statement_cache_counts_hits_and_misses(session):
    session.execute(KS)
    before = session.cache_stats()
    for _ in range(3):
        session.execute("DESCRIBE KEYSPACES")
    after = session.cache_stats()
    assert after["misses"] - before["misses"] == 1
    assert after["hits"] - before["hits"] == 2
    # the key includes the keyspace: after USE the same text is planned again
    session.execute("USE ks")
    session.execute("DESCRIBE KEYSPACES")
    assert session.cache_stats()["misses"] - after["misses"] == 2     # USE ks, then DESCRIBE
    # a schema change invalidates cached plans
    hits = session.cache_stats()["hits"]
    session.execute("CREATE TABLE t (k int PRIMARY KEY)")
    session.execute("DESCRIBE KEYSPACES")
    assert session.cache_stats()["hits"] == hits
    assert 0 < session.cache_stats()["hit_rate"] < 1


def test_syntax_errors_are_cql_errors(session):
    with pytest.raises(errors.SyntaxException):
        session.execute("SELEC * FROM t")
    with pytest.raises(errors.SyntaxException):
        session.execute("USE ks; USE ks")
    with pytest.raises(TypeError):
        session.execute(42)


def test_role_statements_run_on_the_embedded_database(session):
    session.execute("CREATE ROLE bob")            # more in tests/session/test_roles.py
    with pytest.raises(errors.InvalidRequest, match="bob already exists"):
        session.execute("CREATE ROLE bob")


def test_prepare_ddl_and_metadata(session):
    session.execute(KS)
    ps = session.prepare("CREATE TABLE ks.t (k int PRIMARY KEY)")
    assert ps.column_metadata == [] and ps.routing_key_indexes is None
    assert len(ps.query_id) == 16
    session.execute(ps)
    assert session.catalog.get_table("ks", "t") is not None
    with pytest.raises(errors.AlreadyExists):
        session.execute(ps.bind(()))


def test_server_timestamps_are_unique_and_increasing(tmp_path):
    fixed = [1_700_000_000.0]
    with cqlpy.connect(str(tmp_path / "d"), clock=lambda: fixed[0]) as s:
        stamps = [s._server_timestamp(int(fixed[0] * 1_000_000)) for _ in range(5)]
        assert stamps == sorted(set(stamps)) and stamps[0] == 1_700_000_000_000_000
        fixed[0] -= 10                       # the clock going back never repeats a timestamp
        assert s._server_timestamp(int(fixed[0] * 1_000_000)) == stamps[-1] + 1


def test_server_timestamps_after_restart_stay_above_stored_ones(tmp_path):
    path, fixed = str(tmp_path / "d"), [1_700_000_000.0]
    with cqlpy.connect(path, clock=lambda: fixed[0]) as s:
        s.execute(KS)
        s.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
        s.execute("INSERT INTO ks.t (k, v) VALUES (1, 'zz')")
        s.execute("INSERT INTO ks.t (k, v) VALUES (2, 'zz')")
        s.flush()                                       # k = 1 in an SSTable, k = 2 in the log
        s.execute("INSERT INTO ks.t (k, v) VALUES (2, 'zzz')")
        newest = s.execute("SELECT writetime(v) FROM ks.t WHERE k = 2").one()[0]
        version = s.catalog.schema_version
    for still_or_back in (0, -10):                      # a clock standing still, then going back
        fixed[0] += still_or_back
        with cqlpy.connect(path, clock=lambda: fixed[0], keyspace="ks") as s:
            s.execute("UPDATE t SET v = 'a' WHERE k IN (1, 2)")
            assert s.execute("SELECT v FROM t").all() == [("a",), ("a",)]
            assert s.execute("SELECT writetime(v) FROM t WHERE k = 1").one()[0] > newest
            newest = s.execute("SELECT writetime(v) FROM t WHERE k = 1").one()[0]
            s.execute("DELETE FROM t WHERE k = 1")
            assert s.execute("SELECT k FROM t").all() == [(2,)]
            s.execute("INSERT INTO t (k, v) VALUES (1, 'zz')")
            s.execute("ALTER TABLE t WITH comment = 'x" + str(still_or_back) + "'")
            assert s.database.system_views.stored_local()["schema_version"] == \
                s.catalog.schema_version != version
            version = s.catalog.schema_version
    # a client timestamp far ahead of the clock does not drag later server timestamps along
    with cqlpy.connect(path, clock=lambda: fixed[0], keyspace="ks") as s:
        s.execute("INSERT INTO t (k, v) VALUES (3, 'future') USING TIMESTAMP 9999999999999999")
    with cqlpy.connect(path, clock=lambda: fixed[0], keyspace="ks") as s:
        s.execute("INSERT INTO t (k, v) VALUES (3, 'now')")
        s.execute("INSERT INTO t (k, v) VALUES (4, 'now')")
        assert s.execute("SELECT v FROM t WHERE k = 3").one() == ("future",)
        assert s.execute("SELECT writetime(v) FROM t WHERE k = 4").one()[0] < 2_000_000_000_000_000


def test_set_native_address_and_commit_listener_removal(tmp_path):
    with cqlpy.connect(str(tmp_path / "d")) as s:
        views = s.database.system_views
        views.set_native_address("10.1.2.3", 19042)
        row = views.stored_local()
        assert (row["rpc_address"], row["rpc_port"]) == (ipaddress.ip_address("10.1.2.3"), 19042)
        views.set_native_address("0.0.0.0", 9043)        # a wildcard is no address to dial
        row = views.stored_local()
        assert (row["rpc_address"], row["rpc_port"]) == (ipaddress.ip_address("10.1.2.3"), 9043)
        seen = []
        s.catalog.add_commit_listener(seen.append)
        s.execute(KS)
        s.catalog.remove_commit_listener(seen.append)
        s.catalog.remove_commit_listener(seen.append)    # unknown: ignored
        s.execute("DROP KEYSPACE ks")
        assert [c.change_type for c in seen] == ["CREATED"]
        views.close()                                    # system.local stops following the schema
        version = views.stored_local()["schema_version"]
        s.execute(KS)
        assert views.stored_local()["schema_version"] == version != s.catalog.schema_version


def test_system_local_row(tmp_path):
    path = str(tmp_path / "data")
    with cqlpy.connect(path) as s:
        views = s.database.system_views
        row = views.stored_local()
        assert row["cluster_name"] == "Test Cluster"
        assert row["partitioner"] == "org.apache.cassandra.dht.Murmur3Partitioner"
        assert row["data_center"] == "datacenter1" and row["rack"] == "rack1"
        assert row["release_version"] == "5.0.0" and row["cql_version"] == "3.4.7"
        assert row["rpc_address"] == ipaddress.ip_address("127.0.0.1")
        assert len(row["tokens"]) == 16
        assert row["schema_version"] == s.catalog.schema_version
        host, tokens, version = row["host_id"], row["tokens"], row["schema_version"]
        s.execute(KS)
        row = views.stored_local()
        assert row["schema_version"] == s.catalog.schema_version != version
        version = row["schema_version"]
    with cqlpy.connect(path) as s:
        row = s.database.system_views.stored_local()
        assert row["host_id"] == host and row["tokens"] == tokens
        assert row["schema_version"] == version


def test_execute_async_and_simple_statement(session):
    future = session.execute_async(KS)
    assert future.result() is not None
    future = session.execute_async(KS)
    with pytest.raises(errors.AlreadyExists):
        future.result()
    rs = session.execute(cqlpy.SimpleStatement("DESCRIBE KEYSPACES", fetch_size=10))
    assert "ks" in [r.name for r in rs]


def test_flush_and_compact(session):
    session.execute(KS)
    session.execute("CREATE TABLE ks.t (k int PRIMARY KEY)")
    session.flush()
    session.flush("ks", "t")
    session.compact()
    session.compact("ks", "t")
    with pytest.raises(errors.InvalidRequest):
        session.flush("ks", "nope")
    assert "statement_cache" in session.stats()


# --- parameters --------------------------------------------------------------------------------

def _markers(*specs):
    markers = Markers()
    for i, (name, type_text, marker_name) in enumerate(specs):
        markers.add(ast.BindMarker(i, marker_name), Receiver("ks", "t", name, parse_type(type_text)))
    return markers


def test_bind_values_by_position_and_name():
    m = _markers(("k", "int", None), ("v", "text", None), ("ts", "timestamp", "when"))
    when = datetime.datetime(2020, 1, 2, 3, 4, 5)
    assert bind_values(m, (1, "a", when)) == [1, "a", when]
    assert bind_values(m, {"k": 1, "v": "a", "when": when}) == [1, "a", when]
    assert bind_values(m, {"k": 1}) == [1, UNSET, UNSET]            # missing names are unset
    assert bind_values(m, [1, None, UNSET]) == [1, None, UNSET]
    assert bind_values(m, (1,), prepared=True) == [1, UNSET, UNSET]
    with pytest.raises(errors.InvalidRequest, match="3 markers"):
        bind_values(m, (1, "a"))
    with pytest.raises(errors.InvalidRequest, match="3 markers"):
        bind_values(m, (1, "a", when, 4), prepared=True)
    with pytest.raises(errors.InvalidRequest, match="Invalid value for k"):
        bind_values(m, ("x", "a", when))
    with pytest.raises(errors.InvalidRequest):
        bind_values(m, "abc")


def test_percent_style_detection():
    assert uses_percent_style("SELECT * FROM t WHERE k = %s")
    assert uses_percent_style("SELECT * FROM t WHERE k = %(key)s")
    assert not uses_percent_style("SELECT * FROM t WHERE k = '%s'")
    assert not uses_percent_style("SELECT * FROM t WHERE k = ? -- %s")
    assert not uses_percent_style("SELECT * FROM t WHERE k = :k")


def test_percent_formatting_matches_cassandra_driver():
    encoder = pytest.importorskip("cassandra.encoder").Encoder()
    values = [None, True, "it's", b"\xca\xfe", 1.5, float("inf"), float("nan"), 3, 2**70, -0.0, 1e20,
              uuid.UUID("12345678-1234-5678-1234-567812345678"),
              datetime.datetime(1970, 1, 1, 0, 0, 1, 500000), datetime.date(2020, 1, 2),
              datetime.time(1, 2, 3, 4), ipaddress.ip_address("::1"), [1, "a"], {3}, {"a": 1},
              (1, "x"), frozenset([1])]
    for value in values:
        assert encode_literal(value) == encoder.cql_encode_all_types(value), value


def test_percent_formatting_as_the_driver_encodes():
    assert format_percent("INSERT INTO t (a, b) VALUES (%s, %s)", (1, "it's")) == \
        "INSERT INTO t (a, b) VALUES (1, 'it''s')"
    assert format_percent("x = %(a)s", {"a": None}) == "x = NULL"
    assert encode_literal(b"\xca\xfe") == "0xcafe"
    assert encode_literal([1, 2]) == "[1, 2]"
    assert encode_literal({"a": 1}) == "{'a': 1}"
    assert encode_literal((1, "x")) == "[1, 'x']"           # as the driver: tuples are lists
    assert encode_literal({3}) == "{3}"
    assert encode_literal(True) == "True"
    assert encode_literal(float("inf")) == "Infinity" and encode_literal(float("nan")) == "NaN"
    assert encode_literal(1.5) == "1.5" and encode_literal(decimal.Decimal("1.10")) == "1.10"
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert encode_literal(u) == str(u)
    assert encode_literal(datetime.datetime(1970, 1, 1, 0, 0, 1, 500000)) == "1500"
    assert encode_literal(datetime.date(2020, 1, 2)) == "'2020-01-02'"
    assert encode_literal(datetime.time(1, 2, 3)) == "'01:02:03'"
    assert encode_literal(ipaddress.ip_address("::1")) == "'::1'"
    assert encode_literal(Duration(1, 2, 3)) == "1mo2d3ns"
    with pytest.raises(errors.InvalidRequest):
        format_percent("x = %s, y = %s", (1,))


# --- with reads and writes ---------------------------------------------------------------------

@pytest.fixture
def table(session):
    session.execute(KS)
    session.execute("USE ks")
    session.execute("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))")
    return session


def test_prepared_metadata_and_replanning_after_alter(table):
    s = table
    ps = s.prepare("SELECT * FROM t WHERE k = ? AND c = ?")
    assert [c.name for c in ps.column_metadata] == ["k", "c"]
    assert [c.table_name for c in ps.column_metadata] == ["t", "t"]
    assert ps.routing_key_indexes == [0]
    assert [c.name for c in ps.result_metadata] == ["k", "c", "v"]
    ins = s.prepare("INSERT INTO t (c, v, k) VALUES (?, ?, ?)")
    assert ins.routing_key_indexes == [2] and ins.result_metadata is None
    s.execute(ins, (1, "a", 7))
    assert s.execute(ps, (7, 1)).one() == (7, 1, "a")
    s.execute("ALTER TABLE t ADD w int")
    row = s.execute(ps, (7, 1)).one()
    assert row == (7, 1, "a", None) and row._fields == ("k", "c", "v", "w")
    assert [c.name for c in ps.result_metadata] == ["k", "c", "v", "w"]
    s.execute("DROP TABLE t")
    with pytest.raises(errors.InvalidRequest):
        s.execute(ps, (7, 1))


def test_parameter_styles_through_execute(table):
    s = table
    s.execute("INSERT INTO t (k, c, v) VALUES (?, ?, ?)", (1, 1, "q"))
    s.execute("INSERT INTO t (k, c, v) VALUES (:k, :c, :v)", {"k": 1, "c": 2, "v": "named"})
    s.execute("INSERT INTO t (k, c, v) VALUES (%s, %s, %s)", (1, 3, "it's"))
    s.execute("INSERT INTO t (k, c, v) VALUES (%(k)s, %(c)s, %(v)s)", {"k": 1, "c": 4, "v": None})
    s.execute(s.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)").bind((1, 5, "bound")))
    rows = s.execute("SELECT c, v FROM t WHERE k = %s", [1]).all()
    assert rows == [(1, "q"), (2, "named"), (3, "it's"), (4, None), (5, "bound")]
    with pytest.raises(errors.InvalidRequest):
        s.execute("SELECT c FROM t WHERE k = ?", ("x",))


def test_client_timestamps_and_server_timestamps(table):
    s = table
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'new')", timestamp=2000)
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'old')", timestamp=1000)
    assert s.execute("SELECT v, writetime(v) FROM t WHERE k = 1").one() == ("new", 2000)
    # statements in one session never share a server timestamp, even on a frozen clock
    for i in range(3):
        s.execute("UPDATE t SET v = ? WHERE k = 2 AND c = 1", (str(i),))
    assert s.execute("SELECT v FROM t WHERE k = 2").one().v == "2"


def test_paging_through_the_session(table):
    s = table
    ps = s.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)")
    for c in range(7):
        s.execute(ps, (1, c, str(c)))
    rs = s.execute("SELECT c FROM t WHERE k = 1", fetch_size=3)
    assert [r.c for r in rs.current_rows] == [0, 1, 2] and rs.has_more_pages
    nxt = s.execute("SELECT c FROM t WHERE k = 1", fetch_size=3, paging_state=rs.paging_state)
    assert [r.c for r in nxt.current_rows] == [3, 4, 5]
    assert [r.c for r in s.execute("SELECT c FROM t WHERE k = 1", fetch_size=3)] == list(range(7))
    statement = cqlpy.SimpleStatement("SELECT c FROM t WHERE k = 1", fetch_size=2)
    assert len(s.execute(statement).current_rows) == 2


def test_system_tables_answer_select(table):
    s = table
    local = s.execute("SELECT * FROM system.local").one()
    assert local.key == "local" and local.schema_version == s.catalog.schema_version
    assert s.execute("SELECT * FROM system.peers").all() == []
    names = [r.table_name for r in s.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'ks'")]
    assert names == ["t"]
    cols = {r.column_name: r.kind for r in s.execute(
        "SELECT column_name, kind FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'")}
    assert cols == {"k": "partition_key", "c": "clustering", "v": "regular"}
    with pytest.raises(errors.Unauthorized):
        s.execute("INSERT INTO system.local (key) VALUES ('x')")


def test_explain_runs_through_the_session(table):
    rows = table.execute("EXPLAIN SELECT * FROM t WHERE k = 1").all()
    assert rows[0] == ("statement", "SELECT")
    assert table.execute("EXPLAIN SELECT * FROM t WHERE k = 1").column_names == ["step", "detail"]


def test_explain_of_a_write_shows_the_write_plan(table):
    def steps(text):
        return dict(table.execute(text).all())

    insert = steps("EXPLAIN INSERT INTO t (k, c, v) VALUES (1, 1, 'x') IF NOT EXISTS")
    assert insert["statement"] == "INSERT" and insert["partitions"] == "single partition"
    assert "compare-and-set" in insert["condition"] and "writes" in insert
    update = steps("EXPLAIN UPDATE t USING TTL 5 SET v = 'y' WHERE k IN (1, 2) AND c = 1")
    assert update["where"] == "k IN (1, 2) AND c = 1"
    assert update["partitions"].startswith("several partitions") and update["ttl"] == "USING TTL"
    delete = steps("EXPLAIN DELETE FROM t WHERE k = 1")
    assert delete["statement"] == "DELETE" and "engine" in delete
    batch = steps("EXPLAIN BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'x'); "
                  "DELETE FROM t WHERE k = 2 AND c = 1; APPLY BATCH")
    assert batch["statements"] == "2" and batch["1. statement"] == "INSERT"
    assert batch["2. statement"] == "DELETE"
    assert table.execute("SELECT * FROM t").all() == []          # EXPLAIN wrote nothing


def test_concurrent_writers_share_a_session(table):
    import threading
    s = table
    ps = s.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)")

    def work(k):
        for c in range(50):
            s.execute(ps, (k, c, "x"))
            s.execute("UPDATE t SET v = ? WHERE k = ? AND c = ?", ("y", k, c))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.execute("SELECT count(*) FROM t").one().count == 400
    assert {r.v for r in s.execute("SELECT v FROM t")} == {"y"}


def test_unexpected_internal_errors_become_server_errors(table, monkeypatch):
    from cqlpy.session import executor

    def broken(plan, ctx):
        raise KeyError("boom")
    monkeypatch.setitem(executor._DISPATCH, "select", broken)
    with pytest.raises(errors.ServerError, match="KeyError"):
        table.execute("SELECT * FROM t")


def test_schema_version_changes_with_every_ddl_only(table):
    s = table
    versions = [s.catalog.schema_version]
    for statement in ["CREATE TABLE u (k int PRIMARY KEY)", "ALTER TABLE u ADD v int",
                      "CREATE INDEX ON u (v)", "CREATE TYPE ty (a int)", "DROP INDEX u_v_idx",
                      "ALTER TABLE u WITH comment = 'x'", "DROP TABLE u", "DROP TYPE ty"]:
        s.execute(statement)
        versions.append(s.catalog.schema_version)
    # every DDL changes the version; it is a digest of the schema, so the final state (the same
    # schema as at the start) has the starting version again, as in Cassandra
    assert all(a != b for a, b in zip(versions, versions[1:]))
    assert versions[-1] == versions[0]
    for no_op in [KS.replace("KEYSPACE", "KEYSPACE IF NOT EXISTS"), "DROP TABLE IF EXISTS u",
                  "CREATE TABLE IF NOT EXISTS t (k int PRIMARY KEY)", "DROP INDEX IF EXISTS nope"]:
        assert s.execute(no_op).schema_change is None
        assert s.catalog.schema_version == versions[-1]
    change = s.execute("CREATE TABLE u2 (k int PRIMARY KEY)").schema_change
    assert (change.change_type, change.target, change.keyspace, change.name) == ("CREATED", "TABLE", "ks", "u2")


def test_drop_removes_data_from_disk(table, tmp_path):
    import os
    s = table
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'x')")
    s.flush()
    data_dir = os.path.join(s.database.path, "data", "ks")
    assert any(name.startswith("t-") for name in os.listdir(data_dir))
    s.execute("DROP TABLE t")
    assert not any(name.startswith("t-") for name in os.listdir(data_dir))
    s.execute("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))")
    assert s.execute("SELECT * FROM t").all() == []
    s.execute("DROP KEYSPACE ks")
    assert not os.path.exists(data_dir) or not os.listdir(data_dir)


def test_cassandra_driver_value_types_bind(table):
    util = pytest.importorskip("cassandra.util")
    query = pytest.importorskip("cassandra.query")
    s = table
    s.execute("CREATE TABLE d (k int PRIMARY KEY, s set<int>, m map<text, int>, dt date, tm time, v text)")
    ps = s.prepare("INSERT INTO d (k, s, m, dt, tm, v) VALUES (?, ?, ?, ?, ?, ?)")
    s.execute(ps, (1, util.SortedSet([3, 1]), util.OrderedMapSerializedKey(None, 0), util.Date(5),
                   util.Time(1000), "x"))
    s.execute(ps, (1, None, None, None, None, query.UNSET_VALUE))
    row = s.execute("SELECT s, dt, tm, v FROM d WHERE k = 1").one()
    assert row == (None, None, None, "x")
    s.execute(ps, (2, util.SortedSet([3, 1]), {"a": 1}, util.Date(5), util.Time(1000), None))
    row = s.execute("SELECT s, m, dt, tm FROM d WHERE k = 2").one()
    assert row == ({1, 3}, {"a": 1}, datetime.date(1970, 1, 6), datetime.time(0, 0, 0, 1))


def test_routing_key_indexes_follow_the_partition_key_order(table):
    s = table
    s.execute("CREATE TABLE comp (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))")
    assert s.prepare("SELECT * FROM comp WHERE b = ? AND a = ?").routing_key_indexes == [1, 0]
    assert s.prepare("SELECT * FROM comp WHERE c = ? AND b = ? AND a = ?").routing_key_indexes == [2, 1]
    assert s.prepare("INSERT INTO comp (v, c, b, a) VALUES (?, ?, ?, ?)").routing_key_indexes == [3, 2]
    assert s.prepare("UPDATE comp SET v = ? WHERE a = ? AND b = ? AND c = ?").routing_key_indexes == [1, 2]
    assert s.prepare("SELECT * FROM comp WHERE a = 1 AND b = ?").routing_key_indexes is None
    assert s.prepare("SELECT * FROM comp").routing_key_indexes is None
