"""RowCodec: keys (tokens, clustering order, slices), writes at the cell level, decoding."""
import datetime
import decimal
import ipaddress
import itertools
import uuid

import pytest

from cqlpy.engine.murmur3 import token
from cqlpy.engine.rows import NO_EXPIRY, Cell, ComplexColumn, DeletionTime, live_row
from cqlpy.errors import InvalidRequest
from cqlpy.schema import types as T
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef
from cqlpy.schema.values import Duration
from cqlpy.session.rowcodec import RowCodec, list_paths

TS, NOW = 1_700_000_000_000_000, 1_700_000_000


def _table(columns, pk, ck=(), order=(), name="t", catalog=None):
    c = catalog or Catalog()
    if c.get_keyspace("ks") is None:
        c.create_keyspace("ks", {"class": "SimpleStrategy", "replication_factor": 1})
    c.create_table("ks", name, columns, pk, ck, order)
    return c.table("ks", name)


@pytest.fixture
def wide():
    return RowCodec(_table([ColumnDef("k", T.INT), ColumnDef("c", T.INT), ColumnDef("d", T.TEXT),
                            ColumnDef("s", T.TEXT, static=True), ColumnDef("v", T.INT),
                            ColumnDef("l", T.ListType(T.INT)), ColumnDef("st", T.SetType(T.TEXT)),
                            ColumnDef("m", T.MapType(T.TEXT, T.INT))],
                           ["k"], ["c", "d"], [("c", "desc")]))


# --- keys ---------------------------------------------------------------------------------------

def test_partition_keys_give_cassandras_tokens():
    single = RowCodec(_table([ColumnDef("k", T.INT)], ["k"]))
    assert single.partition_key_bytes([1]) == b"\x00\x00\x00\x01"
    assert single.token([1]) == -4069959284402364209
    assert single.token({"k": 3}) == 9010454139840013625
    assert single.decode_partition_key(single.partition_key_bytes([7])) == {"k": 7}
    composite = RowCodec(_table([ColumnDef("a", T.INT), ColumnDef("b", T.INT)], ["a", "b"]))
    assert composite.partition_key_bytes([1, 2]) == b"\x00\x04\x00\x00\x00\x01\x00\x00\x04\x00\x00\x00\x02\x00"
    assert composite.token([1, 2]) == 4881097376275569167
    assert token(composite.partition_key_bytes([2, 2])) == -3974863545882308264
    assert composite.decode_partition_key(composite.partition_key_bytes([2, 1])) == {"a": 2, "b": 1}
    text = RowCodec(_table([ColumnDef("k", T.TEXT)], ["k"]))
    assert text.token(["a"]) == -8839064797231613815
    with pytest.raises(InvalidRequest):
        single.partition_key_bytes([None])


def test_clustering_order_asc_and_desc(wide):
    values = [(c, d) for c in (-5, 0, 3, 100) for d in ("", "a", "ab", "b")]
    encoded = sorted(values, key=lambda v: wide.clustering_bytes(v))
    # c DESC, then d ASC
    assert encoded == sorted(values, key=lambda v: (-v[0], v[1]))
    for v in values:
        assert wide.decode_clustering(wide.clustering_bytes(v)) == {"c": v[0], "d": v[1]}
    assert wide.clustering_bytes({"c": 3, "d": "a"}).startswith(wide.clustering_prefix([3]))
    assert wide.clustering_prefix({"c": 3}) == wide.clustering_prefix([3])


def test_prefix_slice(wide):
    s = wide.prefix_slice([3])
    assert s.contains(wide.clustering_bytes([3, "zzz"])) and s.contains(wide.clustering_bytes([3, ""]))
    assert not s.contains(wide.clustering_bytes([4, "a"]))
    assert not s.contains(wide.clustering_bytes([2, "a"]))
    assert wide.prefix_slice([]).contains(wide.clustering_bytes([1, "x"]))


OPS = {">": (True, False), ">=": (True, True), "<": (False, False), "<=": (False, True)}


@pytest.mark.parametrize("desc", [False, True])
def test_slices_match_value_semantics(desc):
    codec = RowCodec(_table([ColumnDef("k", T.INT), ColumnDef("c", T.INT), ColumnDef("d", T.INT)],
                            ["k"], ["c", "d"], [("c", "desc"), ("d", "desc")] if desc else []))
    rows = list(itertools.product(range(4), range(4)))
    keys = {r: codec.clustering_bytes(r) for r in rows}
    cmp = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b}
    # single column slices on c, and on d after an EQ prefix on c
    for op, (is_lower, inc) in OPS.items():
        for v in range(-1, 5):
            bound = ([v], inc)
            s = codec.slice((), bound if is_lower else None, None if is_lower else bound)
            assert {r for r in rows if s.contains(keys[r])} == {r for r in rows if cmp[op](r[0], v)}
            s = codec.slice([2], bound if is_lower else None, None if is_lower else bound)
            assert {r for r in rows if s.contains(keys[r])} == \
                {r for r in rows if r[0] == 2 and cmp[op](r[1], v)}
    # two bounds, and tuple bounds (c, d) > (1, 2)
    s = codec.slice((), ([1], False), ([3], True))
    assert {r for r in rows if s.contains(keys[r])} == {r for r in rows if 1 < r[0] <= 3}
    for op, (is_lower, inc) in OPS.items():
        bound = ([1, 2], inc)
        s = codec.slice((), bound if is_lower else None, None if is_lower else bound)
        assert {r for r in rows if s.contains(keys[r])} == {r for r in rows if cmp[op](r, (1, 2))}
    s = codec.slice((), ([1, 2], False), ([3], False))
    assert {r for r in rows if s.contains(keys[r])} == {r for r in rows if (1, 2) < r and r[0] < 3}


def test_mixed_order_tuple_slice_refused(wide):
    with pytest.raises(InvalidRequest):
        wide.slice((), ([1, "a"], True))


# --- writes at the cell level -------------------------------------------------------------------

def test_insert_writes_marker_cells_tombstones_and_static(wide):
    u = wide.insert({"k": 1, "c": 2, "d": "x", "v": None, "s": "stat"}, timestamp=TS, now=NOW)
    assert u.table_id == wide.table.id.bytes and u.key == wide.partition_key_bytes([1])
    row = u.rows[wide.clustering_bytes([2, "x"])]
    assert row.marker == Cell(b"", TS, 0, NO_EXPIRY)
    assert row.columns["v"] == Cell(None, TS, 0, NOW)                      # null -> tombstone
    assert u.static_row.columns["s"].value == b"stat"
    assert u.static_row.marker is None


def test_insert_with_ttl(wide):
    u = wide.insert({"k": 1, "c": 2, "d": "x", "v": 5}, timestamp=TS, now=NOW, ttl=100)
    row = u.rows[wide.clustering_bytes([2, "x"])]
    assert row.marker == Cell(b"", TS, 100, NOW + 100)
    assert row.columns["v"] == Cell(b"\x00\x00\x00\x05", TS, 100, NOW + 100)


def test_insert_static_only_and_missing_clustering(wide):
    u = wide.insert({"k": 1, "s": "x"}, timestamp=TS, now=NOW)
    assert not u.rows and u.static_row.columns["s"].value == b"x"
    with pytest.raises(InvalidRequest, match="clustering"):
        wide.insert({"k": 1, "c": 1, "v": 3}, timestamp=TS, now=NOW)
    with pytest.raises(InvalidRequest):
        wide.insert({"k": 1, "v": 3}, timestamp=TS, now=NOW)


def test_update_writes_no_marker(wide):
    u = wide.write([1], [2, "x"], timestamp=TS, now=NOW).set("v", 3).update
    row = u.rows[wide.clustering_bytes([2, "x"])]
    assert row.marker is None and row.columns["v"].value == b"\x00\x00\x00\x03"
    with pytest.raises(InvalidRequest, match="PRIMARY KEY"):
        wide.write([1], [2, "x"], timestamp=TS, now=NOW).set("c", 3)
    with pytest.raises(InvalidRequest, match="clustering"):
        wide.write([1], None, timestamp=TS, now=NOW).set("v", 3)
    u = wide.write([1], None, timestamp=TS, now=NOW).set("s", "y").update   # static only
    assert u.static_row.columns["s"].value == b"y" and not u.rows


def test_collection_overwrite_deletes_at_ts_minus_one(wide):
    w = wide.write([1], [2, "x"], timestamp=TS, now=NOW)
    w.set("l", [10, 20, 30]).set("st", {"b", "a"}).set("m", {"x": 1, "y": 2})
    row = w.update.rows[wide.clustering_bytes([2, "x"])]
    for name in ("l", "st", "m"):
        data = row.columns[name]
        assert isinstance(data, ComplexColumn)
        assert data.deletion == DeletionTime(TS - 1, NOW)
    lst = row.columns["l"]
    assert [c.value for _, c in sorted(lst.cells.items())] == [b"\x00\x00\x00\x0a", b"\x00\x00\x00\x14",
                                                               b"\x00\x00\x00\x1e"]
    assert all(len(p) == 17 for p in lst.cells)            # timeuuid paths (tagged)
    st = row.columns["st"]
    assert all(c.value == b"" for c in st.cells.values()) and len(st.cells) == 2
    assert wide.decode_value(wide.table.column("st"), st) == {"a", "b"}
    assert wide.decode_value(wide.table.column("m"), row.columns["m"]) == {"x": 1, "y": 2}
    # null overwrite: only the deletion
    w = wide.write([1], [2, "x"], timestamp=TS, now=NOW).set("m", None)
    data = w.update.rows[wide.clustering_bytes([2, "x"])].columns["m"]
    assert data.deletion == DeletionTime(TS - 1, NOW) and not data.cells


def test_append_prepend_discard_put_delete(wide):
    col = wide.table.column
    w = wide.write([1], [0, ""], timestamp=TS, now=NOW)
    w.append("l", [3, 4]).prepend("l", [1, 2]).append("st", {"z"}).append("m", {"a": 1})
    row = w.update.rows[wide.clustering_bytes([0, ""])]
    assert row.columns["l"].deletion is None                 # append: no deletion
    assert wide.decode_value(col("l"), row.columns["l"]) == [1, 2, 3, 4]
    w2 = wide.write([1], [0, ""], timestamp=TS + 1, now=NOW)
    w2.append("l", [5]).prepend("l", [0])
    merged = row.merge(w2.update.rows[wide.clustering_bytes([0, ""])])
    assert wide.decode_value(col("l"), merged.columns["l"]) == [0, 1, 2, 3, 4, 5]
    w3 = wide.write([1], [0, ""], timestamp=TS + 2, now=NOW)
    w3.discard("st", ["z"]).put("m", "b", 2).discard("m", ["a"])
    merged = merged.merge(w3.update.rows[wide.clustering_bytes([0, ""])])
    live = live_row(merged, None, NOW)
    assert wide.decode_value(col("st"), live.columns.get("st")) is None    # empty set reads null
    assert wide.decode_value(col("m"), live.columns["m"]) == {"b": 2}
    w4 = wide.write([1], [0, ""], timestamp=TS + 3, now=NOW).delete("l").delete("v")
    row4 = w4.update.rows[wide.clustering_bytes([0, ""])]
    assert row4.columns["l"].deletion == DeletionTime(TS + 3, NOW)
    assert row4.columns["v"] == Cell(None, TS + 3, 0, NOW)
    merged = merged.merge(row4)
    assert "l" not in live_row(merged, None, NOW).columns
    with pytest.raises(InvalidRequest):
        wide.write([1], [0, ""], timestamp=TS, now=NOW).append("v", 1)


def test_list_paths_are_ordered():
    a = list_paths(3)
    b = list_paths(2)
    assert a == sorted(a) and a[-1] < b[0]
    p1 = list_paths(2, prepend=True)
    p2 = list_paths(2, prepend=True)
    assert p1 == sorted(p1) and p2[-1] < p1[0] < a[0]


def test_list_set_and_delete_by_path(wide):
    w = wide.write([1], [0, ""], timestamp=TS, now=NOW).set("l", [1, 2, 3])
    cells = w.update.rows[wide.clustering_bytes([0, ""])].columns["l"].cells
    paths = sorted(cells)
    w2 = wide.write([1], [0, ""], timestamp=TS + 1, now=NOW)
    w2.set_paths("l", [(paths[1], 20)]).delete_paths("l", [paths[0]])
    merged = w.update.rows[wide.clustering_bytes([0, ""])].merge(
        w2.update.rows[wide.clustering_bytes([0, ""])])
    assert wide.decode_value(wide.table.column("l"), live_row(merged, None, NOW).columns["l"]) == [20, 3]


def test_user_type_fields():
    cat = Catalog()
    cat.create_keyspace("ks", {"class": "SimpleStrategy", "replication_factor": 1})
    cat.create_type("ks", "addr", [("street", T.TEXT), ("zip", T.INT)])
    addr = cat.user_type("ks", "addr")
    codec = RowCodec(_table([ColumnDef("k", T.INT), ColumnDef("a", addr), ColumnDef("f", addr.freeze())],
                            ["k"], catalog=cat))
    w = codec.write([1], [], timestamp=TS, now=NOW).set("a", {"street": "main", "zip": None})
    w.set("f", {"street": "x", "zip": 1})
    row = w.update.rows[b""]
    value = codec.decode_value(codec.table.column("a"), row.columns["a"])
    assert (value.street, value.zip) == ("main", None)
    assert tuple(codec.decode_value(codec.table.column("f"), row.columns["f"])) == ("x", 1)
    w2 = codec.write([1], [], timestamp=TS + 1, now=NOW).put("a", "zip", 5)
    merged = row.merge(w2.update.rows[b""])
    assert tuple(codec.decode_value(codec.table.column("a"), merged.columns["a"])) == ("main", 5)


# --- decoding -----------------------------------------------------------------------------------

ALL_TYPES = [
    ("a", T.ASCII, "abc"), ("bi", T.BIGINT, -(1 << 62)), ("bl", T.BLOB, b"\x00\xff"),
    ("bo", T.BOOLEAN, True), ("da", T.DATE, datetime.date(2024, 2, 29)),
    ("de", T.DECIMAL, decimal.Decimal("-1.25")), ("do", T.DOUBLE, 2.5), ("du", T.DURATION, Duration(1, 2, 3)),
    ("fl", T.FLOAT, 1.5), ("ine", T.INET, ipaddress.ip_address("::1")), ("i", T.INT, -7),
    ("si", T.SMALLINT, 300), ("te", T.TEXT, "héllo"), ("ti", T.TIME, datetime.time(1, 2, 3, 4)),
    ("ts", T.TIMESTAMP, datetime.datetime(2020, 1, 2, 3, 4, 5, 6000)),
    ("tu", T.TIMEUUID, uuid.UUID("5a1c395e-b41f-11e5-9f22-ba0be0483c18")),
    ("tiny", T.TINYINT, -3), ("uu", T.UUID, uuid.UUID(int=12345)), ("vi", T.VARINT, 1 << 80),
    ("fl2", T.ListType(T.INT).freeze(), [3, 1]), ("fs", T.SetType(T.INT).freeze(), {1, 2}),
    ("fm", T.MapType(T.TEXT, T.INT).freeze(), {"a": 1}), ("tup", T.TupleType((T.INT, T.TEXT)), (1, "x")),
    ("nl", T.ListType(T.TEXT), ["x", "y", "x"]), ("ns", T.SetType(T.INT), {5, -5}),
    ("nm", T.MapType(T.INT, T.ListType(T.TEXT).freeze()), {2: ["a"], 1: ["b"]}),
]


def test_every_type_round_trips():
    columns = [ColumnDef("k", T.INT)] + [ColumnDef(n, t) for n, t, _ in ALL_TYPES]
    codec = RowCodec(_table(columns, ["k"]))
    values = {"k": 1, **{n: v for n, _, v in ALL_TYPES}}
    u = codec.insert(values, timestamp=TS, now=NOW)
    decoded = codec.decode_row(u.key, u.rows[b""])
    assert decoded == values
    assert list(decoded) == [c.name for c in codec.table.select_star_order()]


@pytest.mark.parametrize("ktype,value", [(n[1], n[2]) for n in ALL_TYPES if n[1].can_be_key])
def test_key_types_round_trip(ktype, value):
    codec = RowCodec(_table([ColumnDef("k", ktype), ColumnDef("c", ktype), ColumnDef("v", T.INT)],
                            ["k"], ["c"], [("c", "desc")]))
    key = codec.partition_key_bytes([value])
    assert codec.decode_partition_key(key) == {"k": value}
    assert codec.decode_clustering(codec.clustering_bytes([value])) == {"c": value}


class _Partition:
    def __init__(self, key, static_row, rows):
        self.key, self.static_row, self.rows = key, static_row, rows


def test_decode_partition_static_only_and_rows(wide):
    u = wide.insert({"k": 1, "s": "st"}, timestamp=TS, now=NOW)
    assert wide.decode_partition(_Partition(u.key, u.static_row, [])) == [
        {"k": 1, "c": None, "d": None, "s": "st", "l": None, "m": None, "st": None, "v": None}]
    u2 = wide.insert({"k": 1, "c": 5, "d": "a", "v": 9}, timestamp=TS, now=NOW)
    rows = wide.decode_partition(_Partition(u.key, u.static_row, u2.sorted_rows()))
    assert rows == [{"k": 1, "c": 5, "d": "a", "s": "st", "l": None, "m": None, "st": None, "v": 9}]
    assert wide.decode_partition(_Partition(u.key, None, [])) == []


def test_writetime_and_ttl(wide):
    u = wide.write([1], [0, ""], timestamp=TS, now=NOW, ttl=50).set("v", 1).set("st", {"a", "b"}).update
    row = u.rows[wide.clustering_bytes([0, ""])]
    assert wide.writetime(wide.table.column("v"), row.columns["v"]) == TS
    assert wide.ttl(wide.table.column("v"), row.columns["v"], NOW + 10) == 40
    assert wide.writetime(wide.table.column("st"), row.columns["st"]) == [TS, TS]
    assert wide.ttl(wide.table.column("st"), row.columns["st"], NOW) == [50, 50]
    assert wide.writetime(wide.table.column("v"), None) is None
    u = wide.write([1], [0, ""], timestamp=TS, now=NOW).set("v", 1).update
    assert wide.ttl(wide.table.column("v"), u.rows[wide.clustering_bytes([0, ""])].columns["v"], NOW) is None


def test_dropped_column_hides_old_cells():
    cat = Catalog()
    t = _table([ColumnDef("k", T.INT), ColumnDef("v", T.INT)], ["k"], catalog=cat)
    old = RowCodec(t).insert({"k": 1, "v": 1}, timestamp=TS, now=NOW)
    cat.alter_table("ks", "t", drop=["v"], drop_timestamp=TS + 10)
    cat.alter_table("ks", "t", add=[ColumnDef("v", T.INT)])
    codec = RowCodec(cat.table("ks", "t"))
    assert codec.decode_row(old.key, old.rows[b""])["v"] is None
    new = codec.insert({"k": 1, "v": 2}, timestamp=TS + 1_000_000, now=NOW)
    assert codec.decode_row(new.key, new.rows[b""])["v"] == 2


def test_row_codec_is_cached_per_table_version():
    from cqlpy.session.rowcodec import row_codec

    cat = Catalog()
    t = _table([ColumnDef("k", T.INT), ColumnDef("v", T.INT)], ["k"], catalog=cat)
    assert row_codec(t) is row_codec(t)
    cat.alter_table("ks", "t", add=[ColumnDef("w", T.INT)])
    t2 = cat.table("ks", "t")
    assert row_codec(t2) is not row_codec(t) and row_codec(t2).table is t2


def test_collection_semantics_through_the_engine(tmp_path):
    from cqlpy.engine import Engine

    codec = RowCodec(_table([ColumnDef("k", T.INT), ColumnDef("c", T.INT), ColumnDef("s", T.INT, True),
                             ColumnDef("l", T.ListType(T.INT)), ColumnDef("m", T.MapType(T.TEXT, T.INT))],
                            ["k"], ["c"], [("c", "desc")]))
    engine = Engine.open(str(tmp_path), compaction=False)
    try:
        engine.create_table("ks", "t", codec.table_id)

        def rows():
            p = engine.read(codec.table_id, codec.partition_key_bytes([1]), now=NOW)
            return [] if p is None else codec.decode_partition(p)

        engine.apply([codec.insert({"k": 1, "c": 1, "l": [1, 2], "m": {"a": 1}, "s": 7},
                                   timestamp=TS, now=NOW)])
        engine.apply([codec.insert({"k": 1, "c": 2}, timestamp=TS, now=NOW)])
        assert rows() == [{"k": 1, "c": 2, "s": 7, "l": None, "m": None},
                          {"k": 1, "c": 1, "s": 7, "l": [1, 2], "m": {"a": 1}}]     # c DESC
        engine.apply([codec.write([1], [1], timestamp=TS + 1, now=NOW).set("l", [3]).update])
        engine.flush()
        engine.apply([codec.write([1], [1], timestamp=TS + 2, now=NOW)
                      .append("l", [4]).put("m", "b", 2).update])
        assert rows()[1]["l"] == [3, 4] and rows()[1]["m"] == {"a": 1, "b": 2}
        # an overwrite deletes at ts - 1: it hides older elements, not newer ones
        engine.apply([codec.write([1], [1], timestamp=TS + 1, now=NOW).set("m", {"z": 0}).update])
        assert rows()[1]["m"] == {"b": 2, "z": 0}
        engine.apply([codec.delete_range([1], codec.slice((), ([2], True)), timestamp=TS + 3, now=NOW)])
        assert [r["c"] for r in rows()] == [1]
        engine.apply([codec.delete_row([1], [1], timestamp=TS + 3, now=NOW)])
        assert rows() == [{"k": 1, "c": None, "s": 7, "l": None, "m": None}]   # static only
        engine.apply([codec.delete_partition([1], timestamp=TS + 3, now=NOW)])
        assert rows() == []
    finally:
        engine.close()


def test_missing_key_parts(wide):
    with pytest.raises(InvalidRequest, match="Some partition key parts are missing: k"):
        wide.insert({"c": 1, "d": "x"}, timestamp=TS, now=NOW)
    with pytest.raises(InvalidRequest, match="Some clustering keys are missing: d"):
        wide.clustering_bytes({"c": 1})
