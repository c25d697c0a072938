"""DESCRIBE: every form, Cassandra's layout, and output that replays into an empty database."""
from __future__ import annotations

import pytest

import cqlpy
from cqlpy import errors

SCHEMA = [
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE KEYSPACE \"Other\" WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 3} "
    "AND durable_writes = false",
    "USE ks",
    "CREATE TYPE address (street text, \"Zip\" int)",
    "CREATE TYPE person (name text, home frozen<address>, tags set<text>)",
    "CREATE TYPE aaa_uses_person (p frozen<person>)",
    "CREATE TABLE t (a int, b int, c int, d text static, m map<text, frozen<list<int>>>, "
    "p frozen<person>, \"Quoted\" int, PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) "
    "AND comment = 'it''s' AND default_time_to_live = 100 AND gc_grace_seconds = 0 "
    "AND compaction = {'class': 'LeveledCompactionStrategy', 'sstable_size_in_mb': 10} "
    "AND compression = {'enabled': false} AND caching = {'keys': 'NONE', 'rows_per_partition': 'ALL'}",
    "CREATE TABLE u (k int PRIMARY KEY, v text, w int, \"select\" int)",
    "CREATE TABLE c (k text, c1 int, c2 timeuuid, n counter, PRIMARY KEY (k, c1, c2)) "
    "WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)",
    "CREATE INDEX ON u (v)",
    "CREATE INDEX mi ON t (keys(m))",
    "CREATE INDEX \"Weird_Index\" ON t (values(m))",
    "CREATE CUSTOM INDEX sai_d ON t (d) USING 'StorageAttachedIndex' WITH OPTIONS = {'case_sensitive': 'false'}",
    "ALTER TABLE u DROP w",
    "CREATE TABLE \"Other\".x (k int PRIMARY KEY)",
]


@pytest.fixture
def session(tmp_path):
    s = cqlpy.connect(str(tmp_path / "a"))
    for statement in SCHEMA:
        s.execute(statement)
    yield s
    s.close()


def describe_text(session, query: str) -> str:
    return "\n".join(r.create_statement for r in session.execute(query))


def replay(text: str, path) -> cqlpy.Session:
    s = cqlpy.connect(str(path))
    for statement in cqlpy.split_statements(text):
        s.execute(statement)
    return s


@pytest.mark.parametrize("query", ["DESCRIBE SCHEMA", "DESCRIBE SCHEMA WITH INTERNALS"])
def test_schema_replays_and_describes_the_same(session, tmp_path, query):
    text = describe_text(session, query)
    with replay(text, tmp_path / "b") as copy:
        assert describe_text(copy, query) == text
        if "INTERNALS" in query:            # the ids came along too
            assert copy.catalog.table("ks", "t").id == session.catalog.table("ks", "t").id
            assert copy.catalog.table("ks", "u").dropped_columns[0].name == "w"


def test_full_schema_comments_out_system_keyspaces(session, tmp_path):
    text = describe_text(session, "DESCRIBE FULL SCHEMA")
    assert "CREATE KEYSPACE system_schema" in text and "Warning: system_schema is a system keyspace" in text
    with replay(text, tmp_path / "b") as copy:
        assert describe_text(copy, "DESCRIBE SCHEMA") == describe_text(session, "DESCRIBE SCHEMA")


def test_keyspace_order_types_before_tables(session):
    rows = session.execute("DESCRIBE KEYSPACE ks").all()
    assert [(r.type, r.name) for r in rows] == [
        ("keyspace", "ks"), ("type", "address"), ("type", "person"), ("type", "aaa_uses_person"),
        ("table", "c"), ("table", "t"), ("index", "Weird_Index"), ("index", "mi"), ("index", "sai_d"),
        ("table", "u"), ("index", "u_v_idx"),
    ]
    assert session.execute("DESCRIBE KEYSPACE ks").column_names == \
        ["keyspace_name", "type", "name", "create_statement"]
    assert len(session.execute("DESCRIBE ONLY KEYSPACE ks").all()) == 1
    assert len(session.execute("DESCRIBE KEYSPACE").all()) == 11        # the current keyspace


def test_table_layout(session):
    text = describe_text(session, "DESCRIBE TABLE c")
    assert text.startswith(
        "CREATE TABLE ks.c (\n    k text,\n    c1 int,\n    c2 timeuuid,\n    n counter,\n"
        "    PRIMARY KEY (k, c1, c2)\n) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)\n"
        "    AND additional_write_policy = '99p'\n")
    assert text.endswith("    AND speculative_retry = '99p';")
    text = describe_text(session, "DESCRIBE TABLE u")
    assert text.startswith('CREATE TABLE ks.u (\n    k int PRIMARY KEY,\n    "select" int,\n    v text\n) WITH ')
    assert text.endswith("CREATE INDEX u_v_idx ON ks.u (v);")
    internals = describe_text(session, "DESCRIBE TABLE u WITH INTERNALS")
    assert "    w int\n" in internals and ") WITH ID = " in internals
    assert "\nALTER TABLE ks.u DROP w USING TIMESTAMP " in internals
    t = describe_text(session, "DESCRIBE TABLE ks.t")
    assert "PRIMARY KEY ((a, b), c)" in t and "    d text static,\n" in t
    assert "AND comment = 'it''s'" in t and "AND default_time_to_live = 100" in t
    assert "CREATE INDEX \"Weird_Index\" ON ks.t (values(m));" in t
    assert ("CREATE CUSTOM INDEX sai_d ON ks.t (d) USING "
            "'org.apache.cassandra.index.sai.StorageAttachedIndex' WITH OPTIONS = {'case_sensitive': 'false'};") in t


def test_listings(session):
    assert [r.name for r in session.execute("DESCRIBE TABLES")] == ["c", "t", "u"]
    assert session.execute("DESCRIBE TABLES").column_names == ["keyspace_name", "type", "name"]
    assert [r.name for r in session.execute("DESCRIBE TYPES")] == ["aaa_uses_person", "address", "person"]
    assert session.execute("DESCRIBE FUNCTIONS").all() == []
    assert session.execute("DESCRIBE AGGREGATES").all() == []
    names = [r.name for r in session.execute("DESCRIBE KEYSPACES")]
    assert names == sorted(names) and "Other" in names and "system" in names
    session.execute("USE system_schema")
    assert "tables" in [r.name for r in session.execute("DESCRIBE TABLES")]


def test_single_elements_and_names(session):
    assert session.execute("DESCRIBE TYPE address").one().create_statement == \
        'CREATE TYPE ks.address (\n    street text,\n    "Zip" int\n);'
    assert session.execute("DESCRIBE INDEX mi").one().create_statement == "CREATE INDEX mi ON ks.t (keys(m));"
    assert session.execute("DESCRIBE ks").one().type == "keyspace"
    assert session.execute("DESCRIBE u").one().type == "table"
    assert session.execute("DESCRIBE \"Other\".x").one().name == "x"
    assert session.execute("DESCRIBE mi").one().type == "index"
    assert session.execute("DESCRIBE address").one().type == "type"
    cluster = session.execute("DESCRIBE CLUSTER").one()
    assert cluster.cluster == "Test Cluster" and cluster.partitioner.endswith("Murmur3Partitioner")


@pytest.mark.parametrize("query, message", [
    ("DESCRIBE KEYSPACE nope", "not found"),
    ("DESCRIBE TABLE nope", "Table 'nope' not found in keyspace 'ks'"),
    ("DESCRIBE TABLE nope.t", "not found"),
    ("DESCRIBE INDEX nope", "not found"),
    ("DESCRIBE TYPE nope", "not found"),
    ("DESCRIBE MATERIALIZED VIEW nope", "not found"),
    ("DESCRIBE FUNCTION nope", "not found"),
    ("DESCRIBE nope", "not found"),
])
def test_describe_errors(session, query, message):
    with pytest.raises(errors.InvalidRequest, match=message):
        session.execute(query)


def test_describe_without_keyspace(tmp_path):
    with cqlpy.connect(str(tmp_path / "x")) as s:
        with pytest.raises(errors.InvalidRequest, match="No keyspace specified"):
            s.execute("DESCRIBE TABLE t")
        with pytest.raises(errors.InvalidRequest, match="No keyspace specified"):
            s.execute("DESCRIBE KEYSPACE")
        assert s.execute("DESCRIBE SCHEMA").all() == []
        assert "range_ownership" not in s.execute("DESCRIBE CLUSTER").column_names


def test_describe_is_the_same_after_a_restart(tmp_path):
    path = str(tmp_path / "r")
    with cqlpy.connect(path) as s:
        for statement in SCHEMA:
            s.execute(statement)
        before = describe_text(s, "DESCRIBE FULL SCHEMA WITH INTERNALS")
    with cqlpy.connect(path) as s:
        assert describe_text(s, "DESCRIBE FULL SCHEMA WITH INTERNALS") == before
