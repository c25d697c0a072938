"""Secondary indexes: build at CREATE INDEX, maintenance on every write (overwrite, delete, TTL), lookup."""
from __future__ import annotations

import os

import pytest

from cqlpy.session.indexes import index_lookup, index_table_id, index_table_ids
from cqlpy.session.rowcodec import row_codec

from .write_support import Clock, open_session, table


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def s(tmp_path, clock):
    session = open_session(str(tmp_path / "data"), clock)
    session.execute("CREATE TABLE t (k int, c int, v text, st int static, l list<int>, "
                    "m map<text, int>, fs frozen<set<int>>, PRIMARY KEY (k, c))")
    yield session
    session.close()


def look(s, index, value, name="t"):
    """[(k, c)] of the index entries for ``value`` (c None for a static-column index)."""
    t = table(s, name)
    codec = row_codec(t)
    out = []
    for key, ck in index_lookup(s._database.engine, t, index, value, now=int(s._database.clock())):
        k = codec.decode_partition_key(key)["k"]
        c = None if ck is None else codec.decode_clustering(ck).get("c")
        out.append((k, c))
    return out


def test_build_over_existing_rows_then_maintain(s):
    for k in range(3):
        for c in range(2):
            s.execute(f"INSERT INTO t (k, c, v) VALUES ({k}, {c}, 'a')")
    s.execute("CREATE INDEX vi ON t (v)")
    # token order of int keys: 1, 0, 2
    assert look(s, "vi", "a") == [(1, 0), (1, 1), (0, 0), (0, 1), (2, 0), (2, 1)]
    s.execute("UPDATE t SET v = 'b' WHERE k = 0 AND c = 0")
    s.execute("DELETE v FROM t WHERE k = 1 AND c = 0")
    s.execute("DELETE FROM t WHERE k = 2 AND c = 1")
    s.execute("DELETE FROM t WHERE k = 1 AND c > 0")
    assert look(s, "vi", "a") == [(0, 1), (2, 0)]
    assert look(s, "vi", "b") == [(0, 0)]
    s.execute("DELETE FROM t WHERE k = 0")
    assert look(s, "vi", "a") == [(2, 0)] and look(s, "vi", "b") == []
    s.execute("INSERT INTO t (k, c, v) VALUES (0, 0, 'b')")     # re-insert after delete
    assert look(s, "vi", "b") == [(0, 0)]


def test_same_value_rewritten_and_old_timestamp_writes(s):
    s.execute("CREATE INDEX vi ON t (v)")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TIMESTAMP 100")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TIMESTAMP 200")
    assert look(s, "vi", "a") == [(1, 1)]
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'z') USING TIMESTAMP 150")   # loses
    assert look(s, "vi", "a") == [(1, 1)] and look(s, "vi", "z") == []
    s.execute("DELETE FROM t USING TIMESTAMP 300 WHERE k = 1 AND c = 1")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TIMESTAMP 250")   # shadowed
    assert look(s, "vi", "a") == []


def test_ttl_expires_entries(s, clock):
    s.execute("CREATE INDEX vi ON t (v)")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TTL 10")
    s.execute("INSERT INTO t (k, c, v) VALUES (1, 2, 'a')")
    clock.advance(11)
    assert look(s, "vi", "a") == [(1, 2)]


def test_batch_and_lwt_maintain_indexes(s):
    s.execute("CREATE INDEX vi ON t (v)")
    s.execute("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 'a'); "
              "INSERT INTO t (k, c, v) VALUES (2, 1, 'a'); UPDATE t SET v = 'b' WHERE k = 2 AND c = 1 "
              "APPLY BATCH")
    assert look(s, "vi", "a") == [(1, 1)] and look(s, "vi", "b") == [(2, 1)]
    s.execute("UPDATE t SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'a'")
    assert look(s, "vi", "a") == [] and look(s, "vi", "c") == [(1, 1)]


def test_collection_indexes(s):
    s.execute("CREATE INDEX li ON t (l)")
    s.execute("CREATE INDEX mk ON t (keys(m))")
    s.execute("CREATE INDEX mv ON t (values(m))")
    s.execute("CREATE INDEX me ON t (entries(m))")
    s.execute("CREATE INDEX ff ON t (full(fs))")
    s.execute("INSERT INTO t (k, c, l, m, fs) VALUES (1, 1, [5, 6, 5], {'a': 1, 'b': 2}, {7})")
    assert look(s, "li", 5) == [(1, 1)] and look(s, "li", 6) == [(1, 1)]
    assert look(s, "mk", "a") == [(1, 1)] and look(s, "mv", 2) == [(1, 1)]
    assert look(s, "me", ("b", 2)) == [(1, 1)] and look(s, "me", ("b", 1)) == []
    assert look(s, "ff", {7}) == [(1, 1)]
    s.execute("UPDATE t SET l = l - [5], m = m - {'a'} WHERE k = 1 AND c = 1")
    assert look(s, "li", 5) == [] and look(s, "li", 6) == [(1, 1)]
    assert look(s, "mk", "a") == [] and look(s, "mv", 1) == []
    s.execute("UPDATE t SET m['b'] = 3 WHERE k = 1 AND c = 1")
    assert look(s, "me", ("b", 2)) == [] and look(s, "me", ("b", 3)) == [(1, 1)]
    s.execute("UPDATE t SET l = [9] WHERE k = 1 AND c = 1")
    assert look(s, "li", 6) == [] and look(s, "li", 9) == [(1, 1)]


def test_static_and_key_component_indexes(s):
    s.execute("CREATE INDEX si ON t (st)")
    s.execute("CREATE INDEX ci ON t (c)")
    s.execute("INSERT INTO t (k, c, st) VALUES (1, 1, 7)")
    s.execute("INSERT INTO t (k, c) VALUES (1, 2)")
    assert look(s, "si", 7) == [(1, None)]
    assert look(s, "ci", 2) == [(1, 2)]
    s.execute("UPDATE t SET st = 8 WHERE k = 1")
    assert look(s, "si", 7) == [] and look(s, "si", 8) == [(1, None)]
    s.execute("DELETE FROM t WHERE k = 1 AND c = 2")
    assert look(s, "ci", 2) == [] and look(s, "ci", 1) == [(1, 1)]
    s.execute("CREATE TABLE p (a int, b int, v int, PRIMARY KEY ((a, b)))")
    s.execute("INSERT INTO p (a, b, v) VALUES (1, 2, 3)")
    s.execute("CREATE INDEX pb ON p (b)")
    t = table(s, "p")
    got = list(index_lookup(s._database.engine, t, "pb", 2))
    assert [row_codec(t).decode_partition_key(k) for k, _ in got] == [{"a": 1, "b": 2}]


def test_drop_truncate_and_restart(tmp_path, clock):
    path = str(tmp_path / "data")
    s = open_session(path, clock)
    s.execute("CREATE TABLE t (k int PRIMARY KEY, v text)")
    s.execute("CREATE INDEX vi ON t (v)")
    s.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
    engine = s._database.engine
    tid = index_table_id(table(s, "t"), "vi")
    assert tid in index_table_ids(s._database.catalog)
    assert any(t == tid for _k, _n, t in engine.tables())
    s.close()
    clock.advance(1)
    s = open_session(path, clock)
    t = table(s, "t")
    assert [k for k, _ in index_lookup(s._database.engine, t, "vi", "a")] == [b"\x00\x00\x00\x01"]
    s.execute("TRUNCATE t")
    assert list(index_lookup(s._database.engine, t, "vi", "a")) == []
    s.execute("INSERT INTO t (k, v) VALUES (2, 'a')")
    s.execute("DROP INDEX vi")
    assert not any(t == tid for _k, _n, t in s._database.engine.tables())
    s.execute("CREATE INDEX vi ON t (v)")
    assert len(list(index_lookup(s._database.engine, table(s, "t"), "vi", "a"))) == 1
    s.execute("DROP TABLE t")
    assert not any(t == tid for _k, _n, t in s._database.engine.tables())
    s.close()


def test_index_tables_survive_restart_without_rebuild(tmp_path, clock, monkeypatch):
    import glob

    from cqlpy.session.indexes import IndexManager
    path = str(tmp_path / "data")
    s = open_session(path, clock)
    s.execute("CREATE TABLE t (k int PRIMARY KEY, v text)")
    for k in range(20):
        s.execute("INSERT INTO t (k, v) VALUES (%s, %s)", (k, "even" if k % 2 == 0 else "odd"))
    s.execute("CREATE INDEX vi ON t (v)")
    tid = index_table_id(table(s, "t"), "vi")
    s.flush()
    (folder,) = glob.glob(f"{path}/data/ks/*-{tid.hex()}")
    files = sorted(name for name in os.listdir(folder) if name.endswith("-Data.db"))
    assert files
    s.close()

    builds = []
    real_build = IndexManager.build
    monkeypatch.setattr(IndexManager, "build",
                        lambda self, t, i, **kw: builds.append(i.name) or real_build(self, t, i, **kw))
    clock.advance(1)
    s = open_session(path, clock)
    assert builds == []                                      # kept, not rebuilt
    assert sorted(name for name in os.listdir(folder) if name.endswith("-Data.db")) == files
    assert s._database.engine.stats(tid)["sstable_count"] == len(files)
    assert sorted(r.k for r in s.execute("SELECT k FROM t WHERE v = 'odd'")) == list(range(1, 20, 2))
    # a crash between DROP INDEX's schema write and the removal of its table: gone at the next open
    s._database.catalog.drop_index("ks", "vi")
    assert any(t == tid for _k, _n, t in s._database.engine.tables())
    s.close()
    s = open_session(path, clock)
    assert not any(t == tid for _k, _n, t in s._database.engine.tables())
    assert not os.path.exists(folder)
    assert builds == []
    s.close()
