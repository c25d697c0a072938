"""The real cassandra-driver's SchemaParserV4 reads the catalog's system_schema rows as Cassandra's."""
import pytest

from cqlpy.schema import types as T
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef

metadata = pytest.importorskip("cassandra.metadata")


def _driver_keyspaces(rows):
    class Parser(metadata.SchemaParserV4):
        def _query_all(self):
            for name in ("keyspaces", "tables", "columns", "triggers", "types", "functions",
                         "aggregates", "indexes", "views"):
                setattr(self, name + "_result", rows[name])
            self.virtual_keyspaces_result = []
            self.virtual_tables_result = []
            self.virtual_columns_result = []
            self._aggregate_results()

    return {ks.name: ks for ks in Parser(None, 1).get_all_keyspaces()}


@pytest.fixture
def catalog():
    c = Catalog()
    c.create_keyspace("ks", {"class": "SimpleStrategy", "replication_factor": 2})
    c.create_type("ks", "addr", [("street", T.TEXT), ("zip", T.INT)])
    addr = c.user_type("ks", "addr")
    c.create_table("ks", "t", [
        ColumnDef("k1", T.INT), ColumnDef("k2", T.TEXT), ColumnDef("c1", T.TIMEUUID),
        ColumnDef("c2", T.INT), ColumnDef("s", T.TEXT, static=True),
        ColumnDef("m", T.MapType(T.TEXT, T.INT)), ColumnDef("a", addr.freeze()),
        ColumnDef("Quoted", T.BLOB)], ["k1", "k2"], ["c1", "c2"], [("c1", "desc")],
        {"comment": "hi", "gc_grace_seconds": 10})
    c.create_index("ks", "t", None, "m", "keys")
    c.create_table("ks", "counts", [ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER)], ["k"])
    return c


def test_driver_builds_the_same_schema(catalog):
    keyspaces = _driver_keyspaces(catalog.all_schema_rows())
    assert {"ks", "system", "system_schema", "system_auth", "system_traces"} <= set(keyspaces)
    ks = keyspaces["ks"]
    assert ks.replication_strategy.replication_factor == 2
    t = ks.tables["t"]
    assert [c.name for c in t.partition_key] == ["k1", "k2"]
    assert [c.name for c in t.clustering_key] == ["c1", "c2"]
    assert [c.is_reversed for c in t.clustering_key] == [True, False]
    assert t.columns["s"].is_static and t.columns["m"].cql_type == "map<text, int>"
    assert t.columns["a"].cql_type == "frozen<addr>"
    assert t.options["comment"] == "hi" and t.options["gc_grace_seconds"] == 10
    assert t.is_cql_compatible
    assert list(t.indexes) == ["t_m_idx"] and t.indexes["t_m_idx"].index_options == {"target": "keys(m)"}
    assert ks.user_types["addr"].field_names == ["street", "zip"]
    assert list(ks.tables["counts"].columns) == ["k", "n"]
    text = ks.export_as_string()
    assert "PRIMARY KEY ((k1, k2), c1, c2)" in text
    assert "CLUSTERING ORDER BY (c1 DESC, c2 ASC)" in text
    assert "CREATE INDEX t_m_idx ON ks.t (keys(m));" in text


def test_driver_knows_every_system_table(catalog):
    keyspaces = _driver_keyspaces(catalog.all_schema_rows())
    for name, ks in catalog.keyspaces.items():
        assert set(keyspaces[name].tables) == set(ks.tables)
        for tname, table in ks.tables.items():
            driver_table = keyspaces[name].tables[tname]
            assert set(driver_table.columns) == {c.name for c in table.columns}
            assert [c.name for c in driver_table.primary_key] == \
                [c.name for c in table.primary_key_columns]
    local = keyspaces["system"].tables["local"]
    assert [c.name for c in local.partition_key] == ["key"]
    assert local.columns["tokens"].cql_type == "set<text>"
    peers_v2 = keyspaces["system"].tables["peers_v2"]
    assert [c.name for c in peers_v2.clustering_key] == ["peer_port"]
