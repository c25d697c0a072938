"""Catalog DDL: every operation, Cassandra's refusals and their error classes, schema versions."""
import uuid

import pytest

from cqlpy.errors import (
    AlreadyExists, ConfigurationException, InvalidRequest, SyntaxException, Unauthorized,
)
from cqlpy.schema import types as T
from cqlpy.schema.catalog import (
    Catalog, SchemaChange, normalize_replication, parse_keyspace_properties,
)
from cqlpy.schema.model import ColumnDef

SIMPLE = {"class": "SimpleStrategy", "replication_factor": 1}


@pytest.fixture
def cat():
    c = Catalog()
    c.create_keyspace("ks", SIMPLE)
    return c


def _kv(cat, name="t", **kw):
    return cat.create_table("ks", name, [ColumnDef("k", T.INT), ColumnDef("v", T.TEXT)], ["k"], **kw)


# --- keyspaces ----------------------------------------------------------------------------------

def test_create_keyspace_normalizes_replication():
    c = Catalog()
    change = c.create_keyspace("ks", {"class": "SimpleStrategy", "replication_factor": 3})
    assert change == SchemaChange("CREATED", "KEYSPACE", "ks")
    ks = c.keyspace("ks")
    assert ks.replication == {"class": "org.apache.cassandra.locator.SimpleStrategy",
                              "replication_factor": "3"}
    assert ks.durable_writes is True


def test_network_topology_strategy():
    repl = normalize_replication("ks", {"class": "NetworkTopologyStrategy", "dc1": 3, "dc2": "2"})
    assert repl == {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
                    "dc1": "3", "dc2": "2"}
    expanded = normalize_replication("ks", {"class": "NetworkTopologyStrategy",
                                            "replication_factor": 2}, ["dc1", "dc2"])
    assert expanded == {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
                        "dc1": "2", "dc2": "2"}


@pytest.mark.parametrize("repl", [
    {"replication_factor": 1},                                       # no class
    {"class": "NoSuchStrategy", "replication_factor": 1},
    {"class": "SimpleStrategy"},                                     # no rf
    {"class": "SimpleStrategy", "replication_factor": "abc"},
    {"class": "SimpleStrategy", "replication_factor": -1},
    {"class": "SimpleStrategy", "replication_factor": 1, "dc1": 1},
    {"class": "LocalStrategy"},
    {"class": "NetworkTopologyStrategy", "dc1": "x"},
])
def test_bad_replication_is_configuration_exception(repl):
    with pytest.raises(ConfigurationException):
        Catalog().create_keyspace("ks", repl)


def test_keyspace_exists(cat):
    with pytest.raises(AlreadyExists) as e:
        cat.create_keyspace("ks", SIMPLE)
    assert e.value.keyspace == "ks" and e.value.table == ""
    version = cat.schema_version
    assert cat.create_keyspace("ks", SIMPLE, if_not_exists=True) is None
    assert cat.schema_version == version


def test_keyspace_refusals():
    c = Catalog()
    with pytest.raises(InvalidRequest):
        c.create_keyspace("bad-name", SIMPLE)
    with pytest.raises(InvalidRequest):
        c.create_keyspace("x" * 49, SIMPLE)
    with pytest.raises(InvalidRequest, match="replication"):
        c.create_keyspace("ks", None)


def test_keyspace_properties():
    assert parse_keyspace_properties({"replication": SIMPLE, "durable_writes": False}) == (SIMPLE, False)
    with pytest.raises(SyntaxException):
        parse_keyspace_properties({"nope": 1})
    with pytest.raises(SyntaxException):
        parse_keyspace_properties({"durable_writes": "maybe"})


def test_alter_keyspace(cat):
    v = cat.schema_version
    change = cat.alter_keyspace("ks", {"class": "NetworkTopologyStrategy", "datacenter1": 2},
                                durable_writes=False)
    assert change == SchemaChange("UPDATED", "KEYSPACE", "ks")
    ks = cat.keyspace("ks")
    assert ks.strategy_name == "NetworkTopologyStrategy" and ks.durable_writes is False
    assert cat.schema_version != v
    with pytest.raises(InvalidRequest):
        cat.alter_keyspace("nope", SIMPLE)
    assert cat.alter_keyspace("nope", SIMPLE, if_exists=True) is None
    with pytest.raises(ConfigurationException):
        cat.alter_keyspace("ks", {"class": "SimpleStrategy"})


def test_drop_keyspace(cat):
    _kv(cat)
    assert cat.drop_keyspace("ks") == SchemaChange("DROPPED", "KEYSPACE", "ks")
    assert cat.get_keyspace("ks") is None
    with pytest.raises(InvalidRequest, match="doesn't exist"):
        cat.drop_keyspace("ks")
    assert cat.drop_keyspace("ks", if_exists=True) is None


def test_system_keyspaces_are_protected(cat):
    with pytest.raises(Unauthorized):
        cat.drop_keyspace("system")
    with pytest.raises(Unauthorized):
        cat.drop_keyspace("system_auth")
    with pytest.raises(Unauthorized):
        cat.alter_keyspace("system_schema", SIMPLE)
    with pytest.raises(Unauthorized):
        cat.create_table("system", "x", [ColumnDef("k", T.INT)], ["k"])
    with pytest.raises(Unauthorized):
        cat.drop_table("system", "local")
    with pytest.raises(Unauthorized):
        cat.drop_table("system_auth", "roles")
    with pytest.raises(Unauthorized):
        cat.alter_table("system", "local", add=[ColumnDef("x", T.INT)])
    with pytest.raises(Unauthorized):
        cat.create_index("system_auth", "roles", None, "can_login")
    with pytest.raises(Unauthorized):
        cat.create_type("system", "u", [("a", T.INT)])
    # replication of a replicated system keyspace may change
    cat.alter_keyspace("system_auth", {"class": "SimpleStrategy", "replication_factor": 3})
    assert cat.keyspace("system_auth").replication["replication_factor"] == "3"
    with pytest.raises(AlreadyExists):
        cat.create_keyspace("system", SIMPLE)


# --- tables -------------------------------------------------------------------------------------

def test_create_table(cat):
    change = cat.create_table(
        "ks", "t",
        [ColumnDef("k1", T.INT), ColumnDef("k2", T.TEXT), ColumnDef("c1", T.INT),
         ColumnDef("c2", T.TIMEUUID), ColumnDef("s", T.TEXT, static=True),
         ColumnDef("v", T.ListType(T.INT))],
        ["k1", "k2"], ["c1", "c2"], [("c1", "desc")], {"comment": "hi", "gc_grace_seconds": 5})
    assert change == SchemaChange("CREATED", "TABLE", "ks", "t")
    t = cat.table("ks", "t")
    assert [c.name for c in t.columns] == ["k1", "k2", "c1", "c2", "s", "v"]
    assert [(c.kind, c.position, c.clustering_order) for c in t.columns] == [
        ("partition_key", 0, "none"), ("partition_key", 1, "none"), ("clustering", 0, "desc"),
        ("clustering", 1, "asc"), ("static", -1, "none"), ("regular", -1, "none")]
    assert t.options.comment == "hi" and t.options.gc_grace_seconds == 5
    assert isinstance(t.id, uuid.UUID)
    assert cat.table_by_id(t.id) is t and cat.table_by_id(t.id.bytes) is t


def test_create_table_with_id(cat):
    tid = uuid.UUID("5a1c395e-b41f-11e5-9f22-ba0be0483c18")
    _kv(cat, options={"id": str(tid)})
    assert cat.table("ks", "t").id == tid
    with pytest.raises(InvalidRequest):
        _kv(cat, name="t2", table_id=tid)


def test_table_exists(cat):
    _kv(cat)
    with pytest.raises(AlreadyExists) as e:
        _kv(cat)
    assert (e.value.keyspace, e.value.table) == ("ks", "t")
    assert _kv(cat, if_not_exists=True) is None


def test_unknown_keyspace_and_table(cat):
    with pytest.raises(InvalidRequest):
        cat.create_table("nope", "t", [ColumnDef("k", T.INT)], ["k"])
    with pytest.raises(InvalidRequest, match="table nope does not exist"):
        cat.table("ks", "nope")
    with pytest.raises(InvalidRequest):
        cat.table("nope", "t")
    with pytest.raises(InvalidRequest):
        cat.keyspace("nope")
    with pytest.raises(InvalidRequest):
        cat.drop_table("ks", "nope")
    assert cat.drop_table("ks", "nope", if_exists=True) is None
    assert cat.drop_table("nope", "nope", if_exists=True) is None


@pytest.mark.parametrize("columns,pk,ck,order,message", [
    ([ColumnDef("k", T.INT), ColumnDef("k", T.INT)], ["k"], [], [], "Duplicate column"),
    ([ColumnDef("k", T.INT)], [], [], [], "No PRIMARY KEY"),
    ([ColumnDef("k", T.INT)], ["x"], [], [], "Unknown definition x"),
    ([ColumnDef("k", T.INT)], ["k", "k"], [], [], "Duplicate"),
    ([ColumnDef("k", T.ListType(T.INT))], ["k"], [], [], "non-frozen collection"),
    ([ColumnDef("k", T.COUNTER)], ["k"], [], [], "counter type"),
    ([ColumnDef("k", T.DURATION)], ["k"], [], [], "duration type"),
    ([ColumnDef("k", T.INT), ColumnDef("c", T.INT, static=True)], ["k", "c"], [], [], "Static"),
    ([ColumnDef("k", T.INT), ColumnDef("s", T.INT, static=True)], ["k"], [], [], "Static columns"),
    ([ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER), ColumnDef("v", T.INT)], ["k"], [], [],
     "Cannot mix counter"),
    ([ColumnDef("k", T.INT), ColumnDef("c", T.INT), ColumnDef("v", T.INT)], ["k"], ["c"],
     [("v", "asc")], "Only clustering key columns"),
    ([ColumnDef("k", T.INT), ColumnDef("c1", T.INT), ColumnDef("c2", T.INT)], ["k"], ["c1", "c2"],
     [("c2", "asc"), ("c1", "asc")], "CLUSTERING ORDER"),
    ([ColumnDef("k", T.INT), ColumnDef("c1", T.INT), ColumnDef("c2", T.INT)], ["k"], ["c1", "c2"],
     [("c2", "desc")], "Missing CLUSTERING ORDER for column c1"),
    ([ColumnDef("k", T.INT), ColumnDef("c", T.INT)], ["k"], ["c"], [("c", "asc"), ("c", "asc")],
     "Duplicate column 'c'"),
])
def test_create_table_refusals(cat, columns, pk, ck, order, message):
    with pytest.raises(InvalidRequest, match=message):
        cat.create_table("ks", "t", columns, pk, ck, order)


def test_counter_table(cat):
    cat.create_table("ks", "c", [ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER)], ["k"])
    assert cat.table("ks", "c").is_counter
    with pytest.raises(InvalidRequest):
        cat.create_table("ks", "c2", [ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER)], ["k"],
                         options={"default_time_to_live": 5})
    with pytest.raises(ConfigurationException):
        cat.alter_table("ks", "c", add=[ColumnDef("v", T.INT)])
    _kv(cat)
    with pytest.raises(ConfigurationException):
        cat.alter_table("ks", "t", add=[ColumnDef("n", T.COUNTER)])
    with pytest.raises(InvalidRequest):
        cat.alter_table("ks", "c", options={"default_time_to_live": 5})


def test_bad_table_option_classes(cat):
    with pytest.raises(SyntaxException):
        _kv(cat, options={"unknown_option": 1})
    with pytest.raises(ConfigurationException):
        _kv(cat, options={"bloom_filter_fp_chance": 1.1})
    with pytest.raises(InvalidRequest):
        cat.create_table("ks", "bad-name", [ColumnDef("k", T.INT)], ["k"])


def test_alter_table_add_drop_rename_options(cat):
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("c", T.INT),
                                 ColumnDef("v", T.TEXT)], ["k"], ["c"])
    v0 = cat.schema_version
    assert cat.alter_table("ks", "t", add=[ColumnDef("w", T.INT), ColumnDef("s", T.INT, True)]) == \
        SchemaChange("UPDATED", "TABLE", "ks", "t")
    t = cat.table("ks", "t")
    assert [c.name for c in t.columns] == ["k", "c", "s", "v", "w"]
    assert cat.schema_version != v0
    with pytest.raises(InvalidRequest, match="already exists"):
        cat.alter_table("ks", "t", add=[ColumnDef("v", T.INT)])
    cat.alter_table("ks", "t", drop=["v"], drop_timestamp=1_000_000_000)
    t = cat.table("ks", "t")
    assert not t.has_column("v")
    assert t.dropped("v").dropped_time == 1_000_000_000 and t.dropped("v").type == T.TEXT
    with pytest.raises(InvalidRequest, match="PRIMARY KEY"):
        cat.alter_table("ks", "t", drop=["c"])
    with pytest.raises(InvalidRequest, match="was not found"):
        cat.alter_table("ks", "t", drop=["nope"])
    with pytest.raises(InvalidRequest, match="incompatible"):
        cat.alter_table("ks", "t", add=[ColumnDef("v", T.INT)])
    cat.alter_table("ks", "t", add=[ColumnDef("v", T.TEXT)])         # same type: allowed
    cat.alter_table("ks", "t", rename={"c": "cc"})
    assert cat.table("ks", "t").clustering[0].name == "cc"
    with pytest.raises(InvalidRequest, match="non PRIMARY KEY"):
        cat.alter_table("ks", "t", rename={"w": "ww"})
    with pytest.raises(InvalidRequest):
        cat.alter_table("ks", "t", rename={"cc": "w"})
    cat.alter_table("ks", "t", options={"comment": "x", "gc_grace_seconds": 1})
    assert cat.table("ks", "t").options.comment == "x"
    with pytest.raises(InvalidRequest):
        cat.alter_table("ks", "nope", add=[ColumnDef("x", T.INT)])
    assert cat.alter_table("ks", "nope", add=[ColumnDef("x", T.INT)], if_exists=True) is None


def test_static_column_needs_clustering_on_alter(cat):
    _kv(cat)
    with pytest.raises(InvalidRequest, match="Static columns"):
        cat.alter_table("ks", "t", add=[ColumnDef("s", T.INT, static=True)])


def test_drop_table(cat):
    _kv(cat)
    cat.create_index("ks", "t", "vi", "v")
    assert cat.drop_table("ks", "t") == SchemaChange("DROPPED", "TABLE", "ks", "t")
    assert cat.get_table("ks", "t") is None
    assert cat.find_index("ks", "vi") is None


# --- user types ---------------------------------------------------------------------------------

def test_user_types(cat):
    assert cat.create_type("ks", "addr", [("street", T.TEXT), ("zip", T.INT)]) == \
        SchemaChange("CREATED", "TYPE", "ks", "addr")
    addr = cat.user_type("ks", "addr")
    assert addr.field_names == ("street", "zip") and addr.keyspace == "ks"
    with pytest.raises(InvalidRequest, match="already exists"):
        cat.create_type("ks", "addr", [("a", T.INT)])
    assert cat.create_type("ks", "addr", [("a", T.INT)], if_not_exists=True) is None
    with pytest.raises(InvalidRequest, match="Duplicate field"):
        cat.create_type("ks", "u2", [("a", T.INT), ("a", T.INT)])
    with pytest.raises(InvalidRequest):
        cat.create_type("ks", "u3", [("a", T.COUNTER)])
    cat.create_type("ks", "person", [("name", T.TEXT), ("home", addr.freeze())])
    assert cat.parse_type("ks", "frozen<person>").field_types[1] == addr.freeze()
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("a", addr)], ["k"])
    with pytest.raises(InvalidRequest, match="still used by user type person"):
        cat.drop_type("ks", "addr")
    cat.drop_type("ks", "person")
    with pytest.raises(InvalidRequest, match="still used by table ks.t"):
        cat.drop_type("ks", "addr")
    cat.drop_table("ks", "t")
    assert cat.drop_type("ks", "addr") == SchemaChange("DROPPED", "TYPE", "ks", "addr")
    with pytest.raises(InvalidRequest):
        cat.drop_type("ks", "addr")
    assert cat.drop_type("ks", "addr", if_exists=True) is None
    with pytest.raises(InvalidRequest, match="Unknown type"):
        cat.parse_type("ks", "frozen<addr>")


def test_user_type_from_another_keyspace(cat):
    cat.create_keyspace("other", SIMPLE)
    cat.create_type("other", "u", [("a", T.INT)])
    u = cat.user_type("other", "u")
    with pytest.raises(InvalidRequest):
        cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("u", u)], ["k"])
    with pytest.raises(InvalidRequest):
        cat.parse_type("ks", "frozen<other.u>")


def test_alter_type_updates_tables(cat):
    cat.create_type("ks", "addr", [("street", T.TEXT)])
    addr = cat.user_type("ks", "addr")
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("a", addr.freeze())], ["k"])
    assert cat.alter_type("ks", "addr", add=[("zip", T.INT)]) == \
        SchemaChange("UPDATED", "TYPE", "ks", "addr")
    assert cat.table("ks", "t").column("a").type.field_names == ("street", "zip")
    cat.alter_type("ks", "addr", rename={"zip": "postcode"})
    assert cat.user_type("ks", "addr").field_names == ("street", "postcode")
    with pytest.raises(InvalidRequest):
        cat.alter_type("ks", "addr", add=[("street", T.INT)])
    with pytest.raises(InvalidRequest):
        cat.alter_type("ks", "nope", add=[("x", T.INT)])


# --- indexes ------------------------------------------------------------------------------------

def test_indexes(cat):
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("k2", T.INT), ColumnDef("c", T.INT),
                                 ColumnDef("v", T.INT), ColumnDef("m", T.MapType(T.TEXT, T.INT)),
                                 ColumnDef("l", T.ListType(T.INT)),
                                 ColumnDef("f", T.ListType(T.INT).freeze()),
                                 ColumnDef("d", T.DURATION)], ["k", "k2"], ["c"])
    assert cat.create_index("ks", "t", None, "v") == SchemaChange("UPDATED", "TABLE", "ks", "t")
    table, index = cat.find_index("ks", "t_v_idx")
    assert index.options == {"target": "v"} and index.kind == "COMPOSITES"
    cat.create_index("ks", "t", "mk", "m", "keys")
    cat.create_index("ks", "t", "me", "m", "entries")
    cat.create_index("ks", "t", None, "l")                       # simple on a list = values(l)
    assert cat.find_index("ks", "t_l_idx")[1].options == {"target": "values(l)"}
    cat.create_index("ks", "t", "ff", "f", "full")
    cat.create_index("ks", "t", "kk", "k2")                      # a component of the partition key
    cat.create_index("ks", "t", "cc", "c")
    assert {i.name for i in cat.table("ks", "t").indexes} == {"t_v_idx", "mk", "me", "t_l_idx", "ff",
                                                             "kk", "cc"}
    with pytest.raises(InvalidRequest, match="already exists"):
        cat.create_index("ks", "t", "mk", "v")
    assert cat.create_index("ks", "t", "mk", "v", if_not_exists=True) is None
    with pytest.raises(InvalidRequest, match="duplicate"):
        cat.create_index("ks", "t", "v2", "v")
    with pytest.raises(InvalidRequest, match="doesn't exist"):
        cat.create_index("ks", "t", None, "nope")
    with pytest.raises(InvalidRequest, match="non-map"):
        cat.create_index("ks", "t", None, "l", "keys")
    with pytest.raises(InvalidRequest):
        cat.create_index("ks", "t", None, "f", "values")
    with pytest.raises(InvalidRequest):
        cat.create_index("ks", "t", None, "l", "full")
    with pytest.raises(InvalidRequest):
        cat.create_index("ks", "t", None, "d")
    with pytest.raises(InvalidRequest, match="dependent secondary indexes"):
        cat.alter_table("ks", "t", drop=["v"])
    assert cat.drop_index("ks", "t_v_idx") == SchemaChange("UPDATED", "TABLE", "ks", "t")
    with pytest.raises(InvalidRequest, match="could not be found"):
        cat.drop_index("ks", "t_v_idx")
    assert cat.drop_index("ks", "t_v_idx", if_exists=True) is None
    cat.alter_table("ks", "t", drop=["v"])


def test_index_refusals(cat):
    _kv(cat)
    with pytest.raises(InvalidRequest, match="only partition key"):
        cat.create_index("ks", "t", None, "k")
    cat.create_table("ks", "c", [ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER)], ["k"])
    with pytest.raises(InvalidRequest, match="counter"):
        cat.create_index("ks", "c", None, "n")


def test_custom_index(cat):
    _kv(cat)
    cat.create_index("ks", "t", "sai_v", "v", custom_class="sai")
    index = cat.find_index("ks", "sai_v")[1]
    assert index.kind == "CUSTOM"
    assert index.options == {"class_name": "org.apache.cassandra.index.sai.StorageAttachedIndex",
                             "target": "v"}


# --- versions and listeners ---------------------------------------------------------------------

def test_schema_version_tracks_content():
    a, b = Catalog(), Catalog()
    assert a.schema_version == b.schema_version
    tid = uuid.uuid4()
    for c in (a, b):
        c.create_keyspace("ks", SIMPLE)
        c.create_table("ks", "t", [ColumnDef("k", T.INT)], ["k"], table_id=tid)
    assert a.schema_version == b.schema_version
    v = a.schema_version
    a.alter_table("ks", "t", options={"comment": "x"})
    assert a.schema_version != v
    a.alter_table("ks", "t", options={"comment": ""})
    assert a.schema_version == v


def test_listener_sees_change_and_can_veto(cat):
    seen = []
    cat.add_listener(lambda change, before, after: seen.append((change, "t" in after["ks"].tables)))
    _kv(cat)
    assert seen == [(SchemaChange("CREATED", "TABLE", "ks", "t"), True)]

    def veto(change, before, after):
        raise RuntimeError("disk full")

    cat.add_listener(veto)
    version = cat.schema_version
    with pytest.raises(RuntimeError):
        _kv(cat, name="t2")
    assert cat.get_table("ks", "t2") is None and cat.schema_version == version


# --- conveniences for the executor ----------------------------------------------------------------

def test_property_values_from_ast():
    ast = pytest.importorskip("cqlpy.language.ast")
    from cqlpy.schema.catalog import property_values

    props = (ast.Property("replication", ast.MapLiteral((
                (ast.Constant("string", "class"), ast.Constant("string", "SimpleStrategy")),
                (ast.Constant("string", "replication_factor"), ast.Constant("integer", "3"))))),
             ast.Property("DURABLE_WRITES", ast.Constant("boolean", "false")),
             ast.Property("bloom_filter_fp_chance", ast.Constant("float", "0.1")))
    assert property_values(props) == {
        "replication": {"class": "SimpleStrategy", "replication_factor": 3},
        "durable_writes": False, "bloom_filter_fp_chance": 0.1}
    with pytest.raises(SyntaxException, match="Multiple definition"):
        property_values((ast.Property("comment", ast.Constant("string", "a")),
                         ast.Property("comment", ast.Constant("string", "b"))))


def test_parse_type_accepts_ast_types(cat):
    ast = pytest.importorskip("cqlpy.language.ast")

    cat.create_type("ks", "addr", [("street", T.TEXT)])
    node = ast.CQLType("map", (ast.CQLType("text"), ast.CQLType("addr", frozen=True)))
    assert cat.parse_type("ks", node) == T.MapType(T.TEXT, cat.user_type("ks", "addr").freeze())


def test_alter_if_column_flags(cat):
    _kv(cat)
    assert cat.alter_table("ks", "t", add=[ColumnDef("v", T.TEXT)], if_column_not_exists=True) is None
    assert cat.alter_table("ks", "t", drop=["nope"], if_column_exists=True) is None
    cat.alter_table("ks", "t", add=[ColumnDef("v", T.TEXT), ColumnDef("w", T.INT)],
                    if_column_not_exists=True)
    assert cat.table("ks", "t").has_column("w")
    cat.create_type("ks", "u", [("a", T.INT)])
    assert cat.alter_type("ks", "u", add=[("a", T.INT)], if_field_not_exists=True) is None
    assert cat.alter_type("ks", "u", rename={"zz": "b"}, if_field_exists=True) is None


def test_index_target_case(cat):
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("m", T.MapType(T.INT, T.INT))], ["k"])
    cat.create_index("ks", "t", "i", "m", "KEYS")
    cat.create_index("ks", "t", "j", "m", None)
    assert cat.find_index("ks", "i")[1].options == {"target": "keys(m)"}
    assert cat.find_index("ks", "j")[1].options == {"target": "values(m)"}


def test_refused_since_4_0(cat):
    with pytest.raises(InvalidRequest, match="Compact tables"):
        _kv(cat, compact_storage=True)
    _kv(cat)
    with pytest.raises(InvalidRequest, match="no longer supported"):
        cat.alter_column_type("ks", "t", "v")
    with pytest.raises(InvalidRequest, match="doesn't exist"):
        cat.alter_column_type("ks", "nope", "v")
    assert cat.alter_column_type("ks", "nope", "v", if_exists=True) is None


def test_commit_listener_sees_new_version(cat):
    seen = []
    cat.add_commit_listener(lambda change: seen.append((change.change_type, cat.schema_version)))
    _kv(cat)
    assert seen == [("CREATED", cat.schema_version)]
    assert _kv(cat, if_not_exists=True) is None and len(seen) == 1


def test_resolve_keyspace():
    assert Catalog.resolve_keyspace("a", "b") == "a"
    assert Catalog.resolve_keyspace(None, "b") == "b"
    with pytest.raises(InvalidRequest, match="No keyspace has been specified"):
        Catalog.resolve_keyspace(None, None)


def test_plain_index_on_frozen_collection_needs_full(cat):
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("f", T.SetType(T.INT).freeze())],
                     ["k"])
    with pytest.raises(InvalidRequest, match=r"full\(f\)"):
        cat.create_index("ks", "t", None, "f")
    cat.create_index("ks", "t", None, "f", "full")
    assert cat.find_index("ks", "t_f_idx")[1].options == {"target": "full(f)"}
