"""Schema metadata: table options, column groups, SELECT * order, index targets."""
import uuid

import pytest

from cqlpy.errors import ConfigurationException, InvalidRequest, SyntaxException
from cqlpy.schema import types as T
from cqlpy.schema.model import (
    ColumnMetadata, IndexMetadata, KeyspaceMetadata, TableMetadata, TableOptions, index_target,
    is_valid_name, quote_name,
)


def _table(*columns, options=None, indexes=()):
    return TableMetadata("ks", "t", uuid.uuid4(), tuple(columns), options or TableOptions(),
                         indexes)


def test_default_options_are_cassandras():
    row = TableOptions().as_row()
    assert row["compaction"] == {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32", "min_threshold": "4"}
    assert row["compression"] == {"chunk_length_in_kb": "16",
                                  "class": "org.apache.cassandra.io.compress.LZ4Compressor"}
    assert row["caching"] == {"keys": "ALL", "rows_per_partition": "NONE"}
    assert row["gc_grace_seconds"] == 864000
    assert row["bloom_filter_fp_chance"] == 0.01
    assert row["crc_check_chance"] == 1.0
    assert row["speculative_retry"] == "99p"
    assert row["additional_write_policy"] == "99p"
    assert row["read_repair"] == "BLOCKING"
    assert row["min_index_interval"] == 128 and row["max_index_interval"] == 2048
    assert row["default_time_to_live"] == 0 and row["memtable_flush_period_in_ms"] == 0
    assert row["comment"] == "" and row["cdc"] is False and row["extensions"] == {}


def test_options_normalize_class_names_and_values():
    opts = TableOptions().with_properties({
        "compaction": {"class": "LeveledCompactionStrategy", "sstable_size_in_mb": 160},
        "compression": {"class": "ZstdCompressor", "chunk_length_in_kb": 64},
        "comment": "hello", "gc_grace_seconds": "10", "speculative_retry": "95PERCENTILE",
        "caching": {"keys": "none", "rows_per_partition": "10"}, "cdc": "true",
    })
    assert opts.compaction == {"class": "org.apache.cassandra.db.compaction.LeveledCompactionStrategy",
                               "max_threshold": "32", "min_threshold": "4",
                               "sstable_size_in_mb": "160"}
    assert opts.compression == {"chunk_length_in_kb": "64",
                                "class": "org.apache.cassandra.io.compress.ZstdCompressor"}
    assert opts.comment == "hello" and opts.gc_grace_seconds == 10
    assert opts.speculative_retry == "95p"
    assert opts.caching == {"keys": "NONE", "rows_per_partition": "10"}
    assert opts.cdc is True


def test_compression_disabled():
    opts = TableOptions().with_properties({"compression": {"enabled": False}})
    assert opts.compression == {"enabled": "false"}


def test_option_refusals():
    with pytest.raises(SyntaxException):
        TableOptions().with_properties({"nonsense": 1})
    with pytest.raises(SyntaxException):
        TableOptions().with_properties({"gc_grace_seconds": "abc"})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"bloom_filter_fp_chance": 1.1})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"gc_grace_seconds": -1})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"default_time_to_live": 630720001})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"compaction": {"class": "NoSuchStrategy"}})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"compaction": {"min_threshold": 2}})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"compression": {"class": "LZ4Compressor",
                                                        "chunk_length_in_kb": 3}})
    with pytest.raises(ConfigurationException):
        TableOptions().with_properties({"crc_check_chance": 2})


def test_options_row_round_trip():
    opts = TableOptions().with_properties({"comment": "c", "default_time_to_live": 5,
                                           "extensions": {"x": b"\x01"}})
    assert TableOptions.from_row(opts.as_row()) == opts


def test_select_star_order_and_groups():
    t = _table(
        ColumnMetadata("zz", T.INT),
        ColumnMetadata("c2", T.INT, "clustering", 1, "desc"),
        ColumnMetadata("aa", T.TEXT),
        ColumnMetadata("k2", T.INT, "partition_key", 1),
        ColumnMetadata("ss", T.INT, "static"),
        ColumnMetadata("c1", T.INT, "clustering", 0, "asc"),
        ColumnMetadata("k1", T.INT, "partition_key", 0),
        ColumnMetadata("B", T.INT),
    )
    assert [c.name for c in t.select_star_order()] == ["k1", "k2", "c1", "c2", "ss", "B", "aa", "zz"]
    assert [c.name for c in t.partition_key] == ["k1", "k2"]
    assert [c.name for c in t.clustering] == ["c1", "c2"]
    assert [c.name for c in t.static_columns] == ["ss"]
    assert [c.name for c in t.regular_columns] == ["B", "aa", "zz"]
    assert [c.name for c in t.primary_key_columns] == ["k1", "k2", "c1", "c2"]
    assert t.column("c2").is_reversed and not t.column("c1").is_reversed
    assert t.has_static and not t.is_counter
    assert t.flags == frozenset({"compound"})
    assert t.table_id == t.id.bytes


def test_unknown_column():
    t = _table(ColumnMetadata("k", T.INT, "partition_key", 0))
    with pytest.raises(InvalidRequest, match="Undefined column name x"):
        t.column("x")
    assert t.get_column("x") is None


def test_counter_table_flags():
    t = _table(ColumnMetadata("k", T.INT, "partition_key", 0), ColumnMetadata("n", T.COUNTER))
    assert t.is_counter and t.flags == frozenset({"compound", "counter"})


def test_column_facts():
    c = ColumnMetadata("m", T.MapType(T.TEXT, T.INT))
    assert c.is_multi_cell and c.type_name == "map<text, int>"
    f = ColumnMetadata("f", T.MapType(T.TEXT, T.INT).freeze())
    assert not f.is_multi_cell and f.type_name == "frozen<map<text, int>>"
    assert ColumnMetadata("Odd Name", T.INT).column_name_bytes == b"Odd Name"


def test_index_targets():
    assert index_target("v", "simple") == "v"
    assert index_target("m", "keys") == "keys(m)"
    assert index_target("MyCol", "values") == 'values("MyCol")'
    i = IndexMetadata("i", "t", "COMPOSITES", {"target": 'entries("MyCol")'})
    assert i.target == ("MyCol", "entries")
    assert IndexMetadata("j", options={"target": "v"}).target == ("v", "simple")


def test_names():
    assert is_valid_name("abc_1") and not is_valid_name("a-b") and not is_valid_name("x" * 49)
    assert not is_valid_name("")
    assert quote_name("abc") == "abc" and quote_name("Abc") == '"Abc"'
    assert quote_name("select") == '"select"'


def test_keyspace_helpers():
    t = _table(ColumnMetadata("k", T.INT, "partition_key", 0),
               indexes=(IndexMetadata("i", options={"target": "k"}),))
    ks = KeyspaceMetadata("ks", {"class": "org.apache.cassandra.locator.SimpleStrategy",
                                 "replication_factor": "1"}).with_table(t)
    assert ks.strategy_name == "SimpleStrategy"
    assert ks.indexes()["i"][0] is t
    assert ks.without_table("t").tables == {}


def test_speculative_retry_forms():
    def retry(text):
        return TableOptions().with_properties({"speculative_retry": text}).speculative_retry

    assert retry("99PERCENTILE") == "99p" and retry("99.9p") == "99.9p"
    assert retry("50ms") == "50ms" and retry("always") == "ALWAYS" and retry("NONE") == "NEVER"
    assert retry("min(99percentile, 50ms)") == "MIN(99p,50ms)"
    with pytest.raises(ConfigurationException):
        retry("sometimes")
