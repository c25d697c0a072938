"""Collection and UDT writes: overwrite, append/prepend, add/remove, element and field operations, JSON."""
from __future__ import annotations

import pytest

from cqlpy import errors

from .write_support import Clock, open_session, raw_row, rows


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def s(tmp_path, clock):
    session = open_session(str(tmp_path / "data"), clock)
    session.execute("CREATE TYPE addr (street text, zip int)")
    session.execute("CREATE TABLE c (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>, "
                    "u addr, fl frozen<list<int>>, fu frozen<addr>)")
    yield session
    session.close()


def col(s, name, k=1):
    names = ["k", "fl", "fu", "l", "m", "s", "u"]
    found = [r for r in rows(s, "c") if r[0] == k]
    return found[0][names.index(name)] if found else None


def test_list_operations(s):
    s.execute("INSERT INTO c (k, l) VALUES (1, [1, 2, 3])")
    s.execute("UPDATE c SET l = l + [4, 5] WHERE k = 1")
    s.execute("UPDATE c SET l = [0] + l WHERE k = 1")
    s.execute("UPDATE c SET l = [-2, -1] + l WHERE k = 1")
    assert col(s, "l") == [-2, -1, 0, 1, 2, 3, 4, 5]
    s.execute("UPDATE c SET l[2] = 10 WHERE k = 1")
    s.execute("UPDATE c SET l = l - [1, 2, 99] WHERE k = 1")
    s.execute("DELETE l[0] FROM c WHERE k = 1")
    assert col(s, "l") == [-1, 10, 3, 4, 5]
    s.execute("UPDATE c SET l[1] = null WHERE k = 1")
    assert col(s, "l") == [-1, 3, 4, 5]
    with pytest.raises(errors.InvalidRequest, match="out of bound"):
        s.execute("UPDATE c SET l[10] = 1 WHERE k = 1")
    with pytest.raises(errors.InvalidRequest, match="out of bound"):
        s.execute("DELETE l[4] FROM c WHERE k = 1")
    with pytest.raises(errors.InvalidRequest, match="null"):
        s.execute("UPDATE c SET l[0] = 1 WHERE k = 2")
    s.execute("UPDATE c SET l = [7, 7] WHERE k = 1")
    assert col(s, "l") == [7, 7]
    s.execute("UPDATE c SET l = l - [7] WHERE k = 1")
    assert col(s, "l") is None


def test_overwrite_is_tombstone_at_ts_minus_one(s):
    s.execute("UPDATE c USING TIMESTAMP 100 SET l = [1], m = {'a': 1} WHERE k = 1")
    row = raw_row(s, "c", [1])
    s.execute("UPDATE c USING TIMESTAMP 100 SET l = l + [2] WHERE k = 1")
    assert col(s, "l") == [1, 2]                # both at ts 100: the deletion is at 99
    s.execute("UPDATE c USING TIMESTAMP 200 SET m = {'b': 2} WHERE k = 1")
    assert col(s, "m") == {"b": 2}
    assert row is not None


def test_set_and_map_operations(s):
    s.execute("INSERT INTO c (k, s, m) VALUES (1, {'a', 'b'}, {'x': 1, 'y': 2})")
    s.execute("UPDATE c SET s = s + {'c'}, s = s - {'a'} WHERE k = 1")
    s.execute("UPDATE c SET m = m + {'z': 3}, m['x'] = 10 WHERE k = 1")
    s.execute("UPDATE c SET m = m - {'y'} WHERE k = 1")
    s.execute("DELETE m['z'], s['b'] FROM c WHERE k = 1")
    assert col(s, "s") == {"c"}
    assert col(s, "m") == {"x": 10}
    s.execute("UPDATE c SET m['x'] = null WHERE k = 1")
    assert col(s, "m") is None
    s.execute("UPDATE c SET s = {} WHERE k = 1")
    assert col(s, "s") is None
    with pytest.raises(errors.InvalidRequest, match="null"):
        s.execute("UPDATE c SET s = {'a', null} WHERE k = 1")


def test_udt_field_operations(s):
    s.execute("INSERT INTO c (k, u, fu) VALUES (1, {street: 'main', zip: 1}, {street: 'x'})")
    s.execute("UPDATE c SET u.zip = 2 WHERE k = 1")
    assert tuple(col(s, "u")) == ("main", 2)
    assert tuple(col(s, "fu")) == ("x", None)
    s.execute("DELETE u.street FROM c WHERE k = 1")
    assert tuple(col(s, "u")) == (None, 2)
    s.execute("UPDATE c SET u = {street: 'b'} WHERE k = 1")
    assert tuple(col(s, "u")) == ("b", None)
    with pytest.raises(errors.InvalidRequest):
        s.execute("UPDATE c SET fu.zip = 2 WHERE k = 1")
    with pytest.raises(errors.InvalidRequest):
        s.execute("UPDATE c SET u.nope = 2 WHERE k = 1")


def test_frozen_collections_are_single_values(s):
    s.execute("INSERT INTO c (k, fl) VALUES (1, [3, 1])")
    assert col(s, "fl") == [3, 1]
    with pytest.raises(errors.InvalidRequest, match="frozen"):
        s.execute("UPDATE c SET fl = fl + [1] WHERE k = 1")
    with pytest.raises(errors.InvalidRequest, match="frozen"):
        s.execute("UPDATE c SET fl[0] = 1 WHERE k = 1")


def test_collection_ttl_per_element(s, clock):
    s.execute("INSERT INTO c (k, l) VALUES (1, [1])")
    s.execute("UPDATE c USING TTL 5 SET l = l + [2], s = s + {'t'} WHERE k = 1")
    assert col(s, "l") == [1, 2]
    clock.advance(5)
    assert col(s, "l") == [1] and col(s, "s") is None


def test_collection_refusals(s):
    s.execute("CREATE TABLE p (k int PRIMARY KEY, v int, st set<int>)")
    for stmt, text in [
        ("UPDATE p SET v = v + 1 WHERE k = 1", "non counter column v"),
        ("UPDATE p SET v[0] = 1 WHERE k = 1", "non collection column"),
        ("UPDATE p SET st[0] = 1 WHERE k = 1", "set column"),
        ("UPDATE p SET st = [1] + st WHERE k = 1", "non list column"),
        ("DELETE v[1] FROM p WHERE k = 1", "non collection"),
        ("UPDATE p SET st = st + [1] WHERE k = 1", "Invalid list literal"),
    ]:
        with pytest.raises(errors.InvalidRequest, match=text):
            s.execute(stmt)


def test_insert_json(s):
    s.execute("""INSERT INTO c JSON '{"k": 1, "l": [1, 2], "s": ["a"], "m": {"x": 1},
                 "u": {"street": "s", "zip": 9}, "fl": [4]}'""")
    assert rows(s, "c") == [(1, [4], None, [1, 2], {"x": 1}, {"a"}, ("s", 9))]
    s.execute("""INSERT INTO c JSON '{"k": 1, "l": [5]}' DEFAULT UNSET""")
    assert col(s, "m") == {"x": 1} and col(s, "l") == [5]
    s.execute("""INSERT INTO c JSON '{"k": 1, "l": [6]}'""")           # DEFAULT NULL
    assert rows(s, "c") == [(1, None, None, [6], None, None, None)]
    s.execute("INSERT INTO c JSON ?", ('{"k": 2, "m": {"a": "3"}}',))
    assert col(s, "m", 2) == {"a": 3}
    for doc, text in [('{"k": 1, "zz": 1}', "unrecognized column"), ('[1]', "map"),
                      ('{"k": "x"}', "Error decoding"), ('not json', "decode")]:
        with pytest.raises(errors.InvalidRequest, match=text):
            s.execute(f"INSERT INTO c JSON '{doc}'")


def test_insert_json_types(s):
    s.execute("CREATE TABLE j (k text PRIMARY KEY, b blob, ts timestamp, d decimal, f float, "
              "bo boolean, u uuid, i inet, mi map<int, text>, t tuple<int, text>)")
    s.execute("""INSERT INTO j JSON '{"k": "a", "b": "0x0102", "ts": "2011-02-03 04:05:00+0000",
                 "d": "1.50", "f": 2, "bo": "true", "u": "550e8400-e29b-41d4-a716-446655440000",
                 "i": "127.0.0.1", "mi": {"1": "x"}, "t": [1, "y"]}'""")
    r = rows(s, "j")[0]
    k, b, bo, d, f, i, mi, t, ts, u = r
    assert b == b"\x01\x02" and str(d) == "1.50" and f == 2.0 and bo is True
    assert mi == {1: "x"} and t == (1, "y") and str(i) == "127.0.0.1"
    assert str(ts) == "2011-02-03 04:05:00" and str(u).startswith("550e8400")
