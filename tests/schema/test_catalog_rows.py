"""Catalog <-> system_schema rows: Cassandra's row layout, round trips, the system keyspaces."""
import datetime
import uuid

from cqlpy.schema import types as T
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef
from cqlpy.schema.system_tables import (
    SCHEMA_TABLES, schema_digest, system_keyspaces, system_table, system_table_id,
)

SIMPLE = {"class": "SimpleStrategy", "replication_factor": 1}


def _rich_catalog() -> Catalog:
    c = Catalog()
    c.create_keyspace("ks", SIMPLE, durable_writes=False)
    c.create_keyspace("nts", {"class": "NetworkTopologyStrategy", "dc1": 3})
    c.create_type("ks", "addr", [("street", T.TEXT), ("zip", T.INT)])
    addr = c.user_type("ks", "addr")
    c.create_type("ks", "person", [("name", T.TEXT), ("home", addr.freeze()),
                                   ("tags", T.SetType(T.TEXT).freeze())])
    person = c.user_type("ks", "person")
    c.create_table("ks", "t", [
        ColumnDef("k1", T.INT), ColumnDef("k2", T.TEXT), ColumnDef("c1", T.TIMEUUID),
        ColumnDef("c2", T.ListType(T.INT).freeze()), ColumnDef("s", T.TEXT, static=True),
        ColumnDef("m", T.MapType(T.TEXT, T.ListType(T.INT).freeze())),
        ColumnDef("p", person), ColumnDef("fp", person.freeze()),
        ColumnDef("tup", T.TupleType((T.INT, T.TEXT))), ColumnDef("Quoted Name", T.BLOB),
        ColumnDef("gone", T.INT),
    ], ["k1", "k2"], ["c1", "c2"], [("c1", "desc"), ("c2", "asc")],
        {"comment": "rich", "compaction": {"class": "LeveledCompactionStrategy"},
         "default_time_to_live": 60, "extensions": {"e": b"\x00\x01"}})
    c.alter_table("ks", "t", drop=["gone"], drop_timestamp=1_700_000_000_123_000)
    c.create_index("ks", "t", None, "m", "keys")
    c.create_index("ks", "t", "by_s", "s")
    c.create_table("ks", "counts", [ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER)], ["k"])
    c.alter_keyspace("system_auth", {"class": "SimpleStrategy", "replication_factor": 3})
    return c


def test_rows_round_trip():
    c = _rich_catalog()
    rows = c.all_schema_rows()
    loaded = Catalog.from_rows(rows)
    assert dict(loaded.keyspaces) == dict(c.keyspaces)
    assert loaded.schema_version == c.schema_version
    assert loaded.all_schema_rows() == rows


def test_round_trip_only_user_keyspaces():
    c = _rich_catalog()
    loaded = Catalog.from_rows(c.all_schema_rows(include_system=False))
    assert loaded.keyspace("ks") == c.keyspace("ks")
    assert loaded.keyspace("system_auth").replication["replication_factor"] == "1"


def test_row_layout_is_cassandras():
    c = _rich_catalog()
    rows = c.schema_rows("ks")
    assert set(rows) == set(SCHEMA_TABLES)
    assert rows["keyspaces"] == [{"keyspace_name": "ks", "durable_writes": False,
                                  "replication": {"class": "org.apache.cassandra.locator.SimpleStrategy",
                                                  "replication_factor": "1"}}]
    cols = {(r["table_name"], r["column_name"]): r for r in rows["columns"]}
    assert cols[("t", "c1")] == {"keyspace_name": "ks", "table_name": "t", "column_name": "c1",
                                 "clustering_order": "desc", "column_name_bytes": b"c1",
                                 "kind": "clustering", "position": 0, "type": "timeuuid"}
    assert cols[("t", "k2")]["kind"] == "partition_key" and cols[("t", "k2")]["position"] == 1
    assert cols[("t", "s")]["kind"] == "static" and cols[("t", "s")]["position"] == -1
    assert cols[("t", "m")]["type"] == "map<text, frozen<list<int>>>"
    assert cols[("t", "m")]["clustering_order"] == "none"
    assert cols[("t", "p")]["type"] == "person"
    assert cols[("t", "fp")]["type"] == "frozen<person>"
    assert cols[("t", "tup")]["type"] == "frozen<tuple<int, text>>"
    assert cols[("t", "Quoted Name")]["column_name_bytes"] == b"Quoted Name"
    table = [r for r in rows["tables"] if r["table_name"] == "t"][0]
    assert table["flags"] == {"compound"} and table["comment"] == "rich"
    assert table["compaction"]["class"] == "org.apache.cassandra.db.compaction.LeveledCompactionStrategy"
    assert isinstance(table["id"], uuid.UUID)
    counts = [r for r in rows["tables"] if r["table_name"] == "counts"][0]
    assert counts["flags"] == {"compound", "counter"}
    assert rows["dropped_columns"] == [{"keyspace_name": "ks", "table_name": "t", "column_name": "gone",
                                        "dropped_time": datetime.datetime(2023, 11, 14, 22, 13, 20, 123000),
                                        "kind": "regular", "type": "int"}]
    assert sorted((r["index_name"], r["kind"], r["options"]["target"]) for r in rows["indexes"]) == [
        ("by_s", "COMPOSITES", "s"), ("t_m_idx", "COMPOSITES", "keys(m)")]
    types = {r["type_name"]: r for r in rows["types"]}
    assert types["person"]["field_names"] == ["name", "home", "tags"]
    assert types["person"]["field_types"] == ["text", "frozen<addr>", "frozen<set<text>>"]
    # rows come in primary-key order
    assert [r["column_name"] for r in rows["columns"] if r["table_name"] == "t"] == \
        sorted(r["column_name"] for r in rows["columns"] if r["table_name"] == "t")


def test_dropped_column_of_user_type_is_recorded_as_tuple():
    c = Catalog()
    c.create_keyspace("ks", SIMPLE)
    c.create_type("ks", "u", [("a", T.INT), ("b", T.TEXT)])
    c.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("v", c.user_type("ks", "u").freeze())],
                   ["k"])
    c.alter_table("ks", "t", drop=["v"])
    row = c.schema_rows("ks")["dropped_columns"][0]
    assert row["type"] == "frozen<tuple<int, text>>"
    c.drop_type("ks", "u")
    assert Catalog.from_rows(c.all_schema_rows()).keyspace("ks") == c.keyspace("ks")


def test_system_tables_have_cassandras_ids():
    assert system_table("system", "local").id == uuid.UUID("7ad54392-bcdd-35a6-8417-4e047860b377")
    assert system_table("system_schema", "keyspaces").id == \
        uuid.UUID("abac5682-dea6-31c5-b535-b3d6cffd0fb6")
    assert system_table("system_schema", "columns").id == \
        uuid.UUID("24101c25-a2ae-3af7-87c1-b40ee1aca33f")
    assert system_table_id("system", "peers_v2") == system_table("system", "peers_v2").id


def test_empty_schema_version_is_cassandras():
    assert schema_digest({}) == uuid.UUID("59adb24e-f3cd-3e02-97f0-5b395827453f")


def test_system_keyspaces_describe_themselves():
    c = Catalog()
    rows = c.all_schema_rows()
    keyspaces = {r["keyspace_name"]: r for r in rows["keyspaces"]}
    assert {"system", "system_schema", "system_auth", "system_traces"} <= set(keyspaces)
    assert keyspaces["system"]["replication"] == {"class": "org.apache.cassandra.locator.LocalStrategy"}
    tables = {(r["keyspace_name"], r["table_name"]) for r in rows["tables"]}
    for ks in system_keyspaces().values():
        for name, table in ks.tables.items():
            assert (ks.name, name) in tables
            described = {r["column_name"] for r in rows["columns"]
                         if (r["keyspace_name"], r["table_name"]) == (ks.name, name)}
            assert described == {col.name for col in table.columns}
    assert all(r["flags"] == {"compound"} for r in rows["tables"])
    local = {r["column_name"]: r for r in rows["columns"]
             if (r["keyspace_name"], r["table_name"]) == ("system", "local")}
    assert local["key"]["kind"] == "partition_key"
    assert local["tokens"]["type"] == "set<text>"
    assert local["truncated_at"]["type"] == "map<uuid, blob>"
    assert set(local) >= {"cluster_name", "release_version", "cql_version", "partitioner",
                          "schema_version", "host_id", "data_center", "rack", "rpc_address"}
    peers_v2 = {r["column_name"]: r for r in rows["columns"]
                if (r["keyspace_name"], r["table_name"]) == ("system", "peers_v2")}
    assert peers_v2["peer_port"]["kind"] == "clustering"
    roles = system_table("system_auth", "roles")
    assert [c.name for c in roles.columns] == ["role", "can_login", "is_superuser", "member_of",
                                               "salted_hash"]
    schema_tables = {r["table_name"] for r in rows["tables"] if r["keyspace_name"] == "system_schema"}
    assert schema_tables == set(SCHEMA_TABLES)


def test_user_types_load_in_dependency_order():
    c = Catalog()
    c.create_keyspace("ks", SIMPLE)
    c.create_type("ks", "zz", [("a", T.INT)])
    c.create_type("ks", "aa", [("z", c.user_type("ks", "zz").freeze())])
    c.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("v", c.user_type("ks", "aa"))], ["k"])
    loaded = Catalog.from_rows(c.all_schema_rows())
    assert loaded.keyspace("ks") == c.keyspace("ks")
