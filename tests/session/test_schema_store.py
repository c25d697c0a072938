"""SchemaStore on the real engine: persistence across restarts, engine tables following DDL."""
import os
import uuid

import pytest

from cqlpy.engine import Engine
from cqlpy.schema import types as T
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef
from cqlpy.schema.system_tables import SCHEMA_TABLES, system_keyspaces
from cqlpy.session.rowcodec import RowCodec
from cqlpy.session.schema_store import SchemaStore, engine_table_options

SIMPLE = {"class": "SimpleStrategy", "replication_factor": 1}


def _open(path, **kw):
    engine = Engine.open(str(path), compaction=False)
    return engine, SchemaStore.open(engine, **kw)


def _build_schema(cat: Catalog) -> None:
    cat.create_keyspace("ks", SIMPLE)
    cat.create_keyspace("ks2", {"class": "NetworkTopologyStrategy", "dc1": 2}, durable_writes=False)
    cat.create_type("ks", "addr", [("street", T.TEXT), ("zip", T.INT)])
    addr = cat.user_type("ks", "addr")
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("c", T.TEXT),
                                 ColumnDef("s", T.INT, static=True), ColumnDef("a", addr),
                                 ColumnDef("m", T.MapType(T.TEXT, T.INT)), ColumnDef("gone", T.INT)],
                     ["k"], ["c"], [("c", "desc")], {"comment": "persisted", "gc_grace_seconds": 7})
    cat.create_index("ks", "t", "m_keys", "m", "keys")
    cat.alter_table("ks", "t", drop=["gone"])
    cat.create_table("ks2", "counts", [ColumnDef("k", T.TEXT), ColumnDef("n", T.COUNTER)], ["k"])
    cat.alter_keyspace("system_auth", {"class": "SimpleStrategy", "replication_factor": 2})


def test_fresh_open_creates_system_tables(tmp_path):
    engine, store = _open(tmp_path)
    try:
        tables = {(ks, name) for ks, name, _ in engine.tables()}
        for ks in system_keyspaces().values():
            for name, table in ks.tables.items():
                assert (ks.name, name) in tables
        ids = {tid for _, _, tid in engine.tables()}
        assert system_keyspaces()["system"].tables["local"].id.bytes in ids
        # the engine's system_schema tables describe the system keyspaces
        stored = store.read_rows()
        described = {(r["keyspace_name"], r["table_name"]) for r in stored["tables"]}
        assert ("system", "local") in described and ("system_schema", "columns") in described
    finally:
        engine.close()


def test_restart_gives_equal_catalog_and_version(tmp_path):
    engine, store = _open(tmp_path)
    _build_schema(store.catalog)
    keyspaces, version = dict(store.catalog.keyspaces), store.catalog.schema_version
    table = store.catalog.table("ks", "t")
    codec = RowCodec(table)
    engine.apply([codec.insert({"k": 1, "c": "x", "s": 5, "m": {"a": 1}}, timestamp=10, now=1)])
    engine.close()

    engine, store = _open(tmp_path)
    try:
        assert dict(store.catalog.keyspaces) == keyspaces
        assert store.catalog.schema_version == version
        assert store.catalog.keyspace("system_auth").replication["replication_factor"] == "2"
        partition = engine.read(table.id.bytes, codec.partition_key_bytes([1]))
        assert codec.decode_partition(partition) == [
            {"k": 1, "c": "x", "s": 5, "a": None, "m": {"a": 1}}]
        assert engine_table_options(table.options).gc_grace_seconds == 7
    finally:
        engine.close()


def test_stored_rows_equal_catalog_rows(tmp_path):
    engine, store = _open(tmp_path)
    try:
        _build_schema(store.catalog)
        stored = store.read_rows()
        expected = store.catalog.all_schema_rows()
        for name in SCHEMA_TABLES:
            clean = [{k: v for k, v in r.items() if v is not None} for r in stored[name]]
            want = [{k: v for k, v in r.items() if v is not None} for r in expected[name]]
            key = lambda r: repr(sorted((k, repr(v)) for k, v in r.items() if k.endswith("_name")))
            assert sorted(clean, key=key) == sorted(want, key=key), name
    finally:
        engine.close()


def test_reopen_does_not_rewrite_unchanged_system_rows(tmp_path):
    engine, _ = _open(tmp_path)
    engine.close()
    engine = Engine.open(str(tmp_path), compaction=False)
    applied = []
    real_apply = engine.apply
    engine.apply = lambda updates: (applied.append(updates), real_apply(updates))
    try:
        SchemaStore.open(engine)
        assert applied == []
    finally:
        engine.close()


def test_drop_table_and_keyspace_remove_data(tmp_path):
    engine, store = _open(tmp_path)
    try:
        cat = store.catalog
        _build_schema(cat)
        t = cat.table("ks", "t")
        codec = RowCodec(t)
        engine.apply([codec.insert({"k": 1, "c": "x"}, timestamp=10, now=1)])
        engine.flush()
        table_dirs = os.listdir(tmp_path / "data" / "ks")
        assert any(d.endswith(t.id.hex) for d in table_dirs)
        cat.drop_table("ks", "t")
        assert t.id.bytes not in {tid for _, _, tid in engine.tables()}
        assert not any(d.endswith(t.id.hex) for d in os.listdir(tmp_path / "data" / "ks"))
        counts = cat.table("ks2", "counts")
        cat.drop_keyspace("ks2")
        assert counts.id.bytes not in {tid for _, _, tid in engine.tables()}
        # re-creating a table of the same name starts empty (a new id)
        cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("c", T.TEXT)], ["k"], ["c"])
        t2 = cat.table("ks", "t")
        assert t2.id != t.id
        assert engine.read(t2.id.bytes, RowCodec(t2).partition_key_bytes([1])) is None
    finally:
        engine.close()
    engine, store = _open(tmp_path)
    try:
        assert store.catalog.get_keyspace("ks2") is None
        assert store.catalog.table("ks", "t").id == t2.id
    finally:
        engine.close()


def test_orphan_engine_tables_are_dropped_at_open(tmp_path):
    engine, _ = _open(tmp_path)
    orphan = uuid.uuid4()
    engine.create_table("ks", "orphan", orphan.bytes)
    engine.close()
    engine, _ = _open(tmp_path)
    try:
        assert orphan.bytes not in {tid for _, _, tid in engine.tables()}
    finally:
        engine.close()


def test_ddl_after_restart_with_clock_behind(tmp_path):
    engine, store = _open(tmp_path)
    store.catalog.create_keyspace("ks", SIMPLE)
    engine.close()
    # a clock far in the past: timestamps must still grow past the stored ones
    engine, store = _open(tmp_path, clock=lambda: 1_000.0)
    store.catalog.create_table("ks", "t", [ColumnDef("k", T.INT)], ["k"])
    store.catalog.alter_keyspace("ks", durable_writes=False)
    engine.close()
    engine, store = _open(tmp_path)
    try:
        assert store.catalog.get_table("ks", "t") is not None
        assert store.catalog.keyspace("ks").durable_writes is False
    finally:
        engine.close()


def test_option_changes_reach_the_engine(tmp_path):
    engine, store = _open(tmp_path)
    try:
        cat = store.catalog
        cat.create_keyspace("ks", SIMPLE)
        cat.create_table("ks", "t", [ColumnDef("k", T.INT)], ["k"],
                         options={"compression": {"class": "LZ4Compressor", "chunk_length_in_kb": 4}})
        t = cat.table("ks", "t")
        opts = engine_table_options(t.options)
        assert opts.compression.chunk_length == 4096
        cat.alter_table("ks", "t", options={"gc_grace_seconds": 3,
                                            "compaction": {"class": "SizeTieredCompactionStrategy",
                                                           "min_threshold": 2}})
        opts = engine_table_options(cat.table("ks", "t").options)
        assert opts.gc_grace_seconds == 3 and opts.compaction["min_threshold"] == 2
        assert opts.compaction["class"] == "SizeTieredCompactionStrategy"
        assert engine._store(t.id.bytes).options == opts
    finally:
        engine.close()


def test_failed_persistence_vetoes_the_change(tmp_path):
    engine, store = _open(tmp_path)
    try:
        cat = store.catalog
        cat.create_keyspace("ks", SIMPLE)
        real_apply = engine.apply

        def broken(updates):
            raise OSError("disk full")

        engine.apply = broken
        with pytest.raises(OSError):
            cat.create_keyspace("ks3", SIMPLE)
        assert cat.get_keyspace("ks3") is None
        engine.apply = real_apply
    finally:
        engine.close()
