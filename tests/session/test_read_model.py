"""The read path against a model: random data and random SELECTs (keys, slices, filters, ORDER BY,
limits, paging), compared with a plain-Python evaluation of Cassandra's rules."""
import random

import pytest

import cqlpy
from cqlpy.engine.murmur3 import token


def int_token(k):
    return token(k.to_bytes(4, "big", signed=True))


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    rng = random.Random(7)
    s = cqlpy.connect(str(tmp_path_factory.mktemp("model")))
    s.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute("USE ks")
    s.execute("CREATE TABLE t (k int, c int, d int, v int, s int STATIC, PRIMARY KEY (k, c, d))")
    data = {}        # k -> {"s": s, "rows": {(c, d): v}}
    for k in range(10):
        part = {"s": None, "rows": {}}
        if rng.random() < 0.5:
            part["s"] = rng.randrange(100)
            s.execute("INSERT INTO t (k, s) VALUES (%s, %s)", (k, part["s"]))
        if k % 4 != 3:
            for c in range(4):
                for d in range(3):
                    if rng.random() < 0.7:
                        v = rng.choice([None, rng.randrange(10)])
                        s.execute("INSERT INTO t (k, c, d, v) VALUES (%s, %s, %s, %s)", (k, c, d, v))
                        part["rows"][(c, d)] = v
        if part["rows"] or part["s"] is not None:
            data[k] = part
        if k == 5:
            s.flush()
    yield s, data
    s.close()


def model(data, q):
    keys = sorted(data, key=int_token) if q["pk"] is None else sorted(set(q["pk"]) & set(data))
    out = []
    for k in keys:
        part = data[k]
        rows = sorted(part["rows"].items(), reverse=q["desc"])
        got = []
        for (c, d), v in rows:
            if q["ck"] is not None and not q["ck"](c, d):
                continue
            if q["vmin"] is not None and (v is None or v <= q["vmin"]):
                continue
            got.append((k, c, d, v, part["s"]))
        if not part["rows"] and q["ck"] is None and q["vmin"] is None:
            got.append((k, None, None, None, part["s"]))
        if q["ppl"] is not None:
            got = got[:q["ppl"]]
        out.extend(got)
    if q["desc"] and q["pk"] is not None and len(q["pk"]) > 1:
        out.sort(key=lambda r: -r[1] if r[1] is not None else 0)       # stable merge, c DESC
    if q["limit"] is not None:
        out = out[:q["limit"]]
    return out


CLUSTERING = [
    (None, None),
    ("c = 1", lambda c, d: c == 1),
    ("c IN (2, 0)", lambda c, d: c in (0, 2)),
    ("c > 1", lambda c, d: c > 1),
    ("c >= 1 AND c < 3", lambda c, d: 1 <= c < 3),
    ("c = 2 AND d >= 1", lambda c, d: c == 2 and d >= 1),
    ("c IN (1, 3) AND d < 2", lambda c, d: c in (1, 3) and d < 2),
    ("(c, d) > (1, 1)", lambda c, d: (c, d) > (1, 1)),
    ("(c, d) >= (0, 2) AND (c) < (2)", lambda c, d: (c, d) >= (0, 2) and c < 2),
    ("d = 1", lambda c, d: d == 1),
]


def random_query(rng):
    pk = rng.choice([None, [rng.randrange(11)], rng.sample(range(11), rng.randrange(2, 5))])
    ck_text, ck = rng.choice(CLUSTERING)
    vmin = rng.choice([None, None, rng.randrange(8)])
    desc = pk is not None and rng.random() < 0.4 and ck_text != "d = 1"
    limit = rng.choice([None, None, rng.randrange(1, 8)])
    ppl = rng.choice([None, None, rng.randrange(1, 4)])
    fetch = rng.choice([None, 1, 2, 3, 5])
    if desc and pk is not None and len(pk) > 1 and fetch is not None and (limit is None or limit > fetch):
        fetch = None
    where = []
    if pk is not None:
        where.append(f"k = {pk[0]}" if len(pk) == 1 else f"k IN ({', '.join(map(str, pk))})")
    if ck_text:
        where.append(ck_text)
    if vmin is not None:
        where.append(f"v > {vmin}")
    cql = "SELECT k, c, d, v, s FROM t"
    if where:
        cql += " WHERE " + " AND ".join(where)
    if desc:
        cql += " ORDER BY c DESC"
    if ppl is not None:
        cql += f" PER PARTITION LIMIT {ppl}"
    if limit is not None:
        cql += f" LIMIT {limit}"
    cql += " ALLOW FILTERING"
    return cql, dict(pk=pk, ck=ck, vmin=vmin, desc=desc, limit=limit, ppl=ppl), fetch


@pytest.mark.parametrize("seed", range(12))
def test_random_selects_match_the_model(db, seed):
    s, data = db
    rng = random.Random(seed)
    for _ in range(40):
        cql, q, fetch = random_query(rng)
        expected = model(data, q)
        rs = s.execute(cql, fetch_size=fetch)
        got = [tuple(r) for r in rs]
        assert got == expected, (cql, fetch)


def test_manual_paging_with_states(db):
    s, data = db
    seen, state, pages = [], None, 0
    while True:
        rs = s.execute("SELECT k, c, d FROM t", fetch_size=4, paging_state=state)
        seen.extend(tuple(r) for r in rs.current_rows)
        pages += 1
        state = rs.paging_state
        if state is None:
            break
    assert seen == [r[:3] for r in model(data, dict(pk=None, ck=None, vmin=None, desc=False,
                                                     limit=None, ppl=None))]
    assert pages >= len(seen) // 4
