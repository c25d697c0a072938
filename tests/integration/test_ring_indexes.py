"""Secondary indexes on a ring of three ``cqlpy-server`` processes (RF 2): every replica indexes its
own data, index queries from any node return exactly the matching rows (updates, deletes, paging,
LIMIT, filtering), a DROP INDEX reaches every node.  Every process is stopped in a ``finally``."""
import time

import pytest

from server_processes import (NodeProcess, driver_cluster, free_ports, loopback_binds, shut_down,
                              start_ring, until)

cassandra = pytest.importorskip("cassandra")
from cassandra import ConsistencyLevel, InvalidRequest  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

pytestmark = pytest.mark.slow

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
CITIES = ("paris", "lyon", "nice")


def _ids(session, query, *args, fetch_size=None):
    rows = session.execute(SimpleStatement(query, fetch_size=fetch_size), args)
    return [r[0] for r in rows]


@pytest.mark.skipif(not all(loopback_binds(a) for a in ADDRESSES),
                    reason="127.0.0.2/127.0.0.3 do not bind here")
def test_ring_secondary_indexes(tmp_path):
    started = time.monotonic()
    native, storage = free_ports(ADDRESSES, 2)
    nodes = [NodeProcess(tmp_path, a, native, storage, seeds=ADDRESSES[0]) for a in ADDRESSES]
    clusters = []
    try:
        start_ring(nodes)
        sessions = []                                # one session pinned to each node, QUORUM
        for node in nodes:
            c = driver_cluster(node.address, native, ConsistencyLevel.QUORUM, only=node.address)
            clusters.append(c)
            sessions.append(c.connect())
        s0 = sessions[0]
        s0.execute("CREATE KEYSPACE ks WITH replication = "
                   "{'class': 'SimpleStrategy', 'replication_factor': 2}")
        s0.execute("CREATE TABLE ks.users (id int PRIMARY KEY, city text, age int)")
        s0.execute("CREATE TABLE ks.events (p int, c int, tag text, PRIMARY KEY (p, c))")
        until(lambda: all(_known(s, "ks", "events") for s in sessions), 15, "the tables everywhere")

        expected: dict[str, set[int]] = {c: set() for c in CITIES}
        for i in range(30):                          # before the index: each node builds its own
            city = CITIES[i % 3]
            sessions[i % 3].execute("INSERT INTO ks.users (id, city, age) VALUES (%s, %s, %s)",
                                    (i, city, 20 + i))
            expected[city].add(i)
        sessions[1].execute("CREATE INDEX users_city ON ks.users (city)")
        sessions[2].execute("CREATE INDEX events_tag ON ks.events (tag)")
        for i in range(30, 60):                      # after: the replicas maintain it
            city = CITIES[i % 3]
            sessions[(i + 1) % 3].execute(
                "INSERT INTO ks.users (id, city, age) VALUES (%s, %s, %s)", (i, city, 20 + i))
            expected[city].add(i)

        def all_answer(query, want, *args):
            def check():
                try:
                    return all(sorted(_ids(s, query, *args)) == sorted(want) for s in sessions)
                except InvalidRequest:
                    return False                     # a node that has not built the index yet
            return until(check, 20, f"{query} {args} -> {sorted(want)} on every node")

        for city in CITIES:                          # every node, exactly the matching rows
            all_answer("SELECT id FROM ks.users WHERE city = %s", expected[city], city)
        for s in sessions:
            for city in CITIES:
                got = _ids(s, "SELECT id FROM ks.users WHERE city = %s", city)
                assert len(got) == len(set(got)) == len(expected[city])

        # UPDATE of the indexed value: the old value's query drops the row, the new one has it
        sessions[2].execute("UPDATE ks.users SET city = 'lyon' WHERE id = 0")
        expected["paris"].discard(0)
        expected["lyon"].add(0)
        for s in sessions:
            for city in ("paris", "lyon"):
                got = _ids(s, "SELECT id FROM ks.users WHERE city = %s", city)
                assert sorted(got) == sorted(expected[city])
        # DELETE of the row, and of the indexed cell only
        sessions[1].execute("DELETE FROM ks.users WHERE id = 3")
        sessions[0].execute("DELETE city FROM ks.users WHERE id = 6")
        expected["paris"] -= {3, 6}
        for s in sessions:
            got = _ids(s, "SELECT id FROM ks.users WHERE city = 'paris'")
            assert sorted(got) == sorted(expected["paris"])
            assert s.execute("SELECT id, city FROM ks.users WHERE id = 6").one().city is None

        # restrictions the embedded index queries support: filtering, key + index, count, LIMIT
        older = {i for i in expected["nice"] if 20 + i > 50}
        for s in sessions:
            assert sorted(_ids(s, "SELECT id FROM ks.users WHERE city = 'nice' AND age > 50 "
                                  "ALLOW FILTERING")) == sorted(older)
            assert _ids(s, "SELECT id FROM ks.users WHERE id = 2 AND city = 'nice'") == [2]
            assert _ids(s, "SELECT id FROM ks.users WHERE id = 2 AND city = 'lyon'") == []
            assert s.execute("SELECT count(*) FROM ks.users WHERE city = 'lyon'").one()[0] == \
                len(expected["lyon"])
        whole = _ids(s0, "SELECT id FROM ks.users WHERE city = 'lyon'")
        for s in sessions:                           # one order (token order) from every node
            assert _ids(s, "SELECT id FROM ks.users WHERE city = 'lyon'") == whole
            assert _ids(s, "SELECT id FROM ks.users WHERE city = 'lyon' LIMIT 4") == whole[:4]

        # many matches: several batches per node, and driver paging with a small fetch_size
        insert = s0.prepare("INSERT INTO ks.users (id, city, age) VALUES (?, 'oslo', ?)")
        for i in range(1000, 1300):
            s0.execute(insert, (i, i % 90))
        oslo = set(range(1000, 1300))
        for s in sessions:
            got = _ids(s, "SELECT id FROM ks.users WHERE city = 'oslo'", fetch_size=7)
            assert len(got) == 300 and set(got) == oslo          # every row once
            assert _ids(s, "SELECT id FROM ks.users WHERE city = 'oslo'", fetch_size=1000) == got
            assert _ids(s, "SELECT id FROM ks.users WHERE city = 'oslo' LIMIT 150",
                        fetch_size=40) == got[:150]

        # clustering rows: pages that stop inside a partition resume after the last row
        want = set()
        for p in range(12):
            for c in range(6):
                tag = "hot" if (p + c) % 2 == 0 else "cold"
                sessions[(p + c) % 3].execute("INSERT INTO ks.events (p, c, tag) VALUES (%s, %s, %s)",
                                              (p, c, tag))
                if tag == "hot":
                    want.add((p, c))
        for s in sessions:
            rows = list(s.execute(SimpleStatement("SELECT p, c FROM ks.events WHERE tag = 'hot'",
                                                  fetch_size=4)))
            assert len(rows) == len(want) and {(r.p, r.c) for r in rows} == want
        sessions[0].execute("DELETE FROM ks.events WHERE p = 4")                  # a partition
        sessions[2].execute("DELETE FROM ks.events WHERE p = 5 AND c > 2")       # a range
        want = {(p, c) for p, c in want if p != 4 and not (p == 5 and c > 2)}
        for s in sessions:
            rows = s.execute("SELECT p, c FROM ks.events WHERE tag = 'hot'")
            assert sorted((r.p, r.c) for r in rows) == sorted(want)

        # DROP INDEX reaches every node: index queries need ALLOW FILTERING again
        sessions[2].execute("DROP INDEX ks.users_city")

        def refused(s):
            try:
                s.execute("SELECT id FROM ks.users WHERE city = 'oslo'")
            except InvalidRequest as exc:
                return "ALLOW FILTERING" in str(exc)
            return False

        def dropped():
            return all(refused(s) for s in sessions)
        until(dropped, 15, "DROP INDEX on every node")

        def hidden_tables_gone():                    # each node dropped its local index table
            return not any(d.name.startswith("users.users_city")
                           for node in nodes for d in (node.data / "data" / "ks").iterdir())
        until(hidden_tables_gone, 15, "the index tables of users_city to leave every node")
        assert all(any(d.name.startswith("events.events_tag") for d in (n.data / "data" / "ks").iterdir())
                   for n in nodes)
        for node in nodes:                           # no node kept an error in its log
            assert "Traceback" not in node.text()
    finally:
        shut_down(clusters, nodes)
    assert time.monotonic() - started < 60


def _known(session, keyspace, table):
    return session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s "
                           "AND table_name = %s", (keyspace, table)).one() is not None
