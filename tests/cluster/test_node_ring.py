"""The ring glue of cqlpy-server: options, seeds, schema rows on the wire, RingEngine's routing."""
import asyncio

from cqlpy.cluster.messaging import decode_value, encode_value
from cqlpy.cluster.ring_engine import RingEngine
from cqlpy.node import parse_args
from cqlpy.node_ring import _from_wire, _to_wire, seed_endpoint
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef
from cqlpy.schema.system_tables import keyspace_rows, rows_to_keyspaces, schema_digest, system_table
from cqlpy.schema.types import parse_type


def _catalog() -> Catalog:
    catalog = Catalog()
    catalog.create_keyspace("ks", {"class": "SimpleStrategy", "replication_factor": "3"})
    catalog.create_table("ks", "t", [ColumnDef("k", parse_type("int")), ColumnDef("v", parse_type("set<text>"))],
                         partition_key=["k"], clustering=[])
    return catalog


def test_without_seeds_a_node_is_single():
    config, _ = parse_args(["--data", "d"])
    assert config.ring is None


def test_ring_options_from_flags():
    config, _ = parse_args(["--data", "d", "--listen", "127.0.0.2", "--seeds", "127.0.0.1, 127.0.0.3:7005",
                            "--storage-port", "7010", "--dc", "dc2", "--rack", "r9", "--num-tokens", "8"])
    ring = config.ring
    assert ring.seeds == ("127.0.0.1", "127.0.0.3:7005")
    assert (ring.storage_port, ring.dc, ring.rack, ring.num_tokens) == (7010, "dc2", "r9", 8)
    assert seed_endpoint("127.0.0.1", 7010).port == 7010
    assert seed_endpoint("127.0.0.3:7005", 7010).port == 7005


def test_schema_rows_survive_the_wire():
    catalog = _catalog()
    rows = keyspace_rows(catalog.keyspace("ks"))
    back = _from_wire(decode_value(encode_value(_to_wire(rows))))
    ks = rows_to_keyspaces(back)["ks"]
    assert schema_digest({"ks": ks}) == schema_digest({"ks": catalog.keyspace("ks")})
    assert ks.tables["t"].id == catalog.keyspace("ks").tables["t"].id


def test_ring_engine_keeps_system_tables_local():
    catalog = _catalog()
    loop = asyncio.new_event_loop()
    try:
        engine = RingEngine(object(), catalog, lambda: None, loop)
        assert engine.replication(system_table("system", "local").id.bytes) is None
        assert engine.replication(system_table("system_schema", "tables").id.bytes) is None
        assert engine.replication(b"\x00" * 16) is None
        table = catalog.keyspace("ks").tables["t"]
        assert engine.replication(table.id.bytes)["replication_factor"] == "3"
    finally:
        loop.close()
