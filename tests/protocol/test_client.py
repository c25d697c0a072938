"""cqlpy's own protocol client: the embedded Session's API over TCP, against a cqlpy server."""
import datetime
import uuid

import pytest

from cqlpy import errors as E
from cqlpy.protocol.auth import PasswordAuthenticator
from cqlpy.protocol.client import connect
from cqlpy.protocol.messages import Event
from cqlpy.protocol.server import ServerOptions, ServerThread
from cqlpy.session.session import UNSET, Session


@pytest.fixture(scope="module")
def server(backend):
    with ServerThread(backend, ServerOptions(port=0, compression=("lz4",))) as s:
        yield s


@pytest.fixture(scope="module")
def session(server):
    host, port = server.address
    with connect(host, port) as s:
        s.execute("CREATE KEYSPACE cl WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        s.execute("CREATE TABLE cl.t (k int, c int, v text, m map<text, int>, u uuid, ts timestamp, "
                  "PRIMARY KEY (k, c))")
        yield s


def test_schema_change_and_keyspace(session):
    rs = session.execute("CREATE TABLE cl.other (a int PRIMARY KEY)")
    assert (rs.schema_change.change_type, rs.schema_change.target, rs.schema_change.name) == \
        ("CREATED", "TABLE", "other")
    session.set_keyspace("cl")
    assert session.keyspace == "cl"
    assert session.execute("SELECT * FROM other").all() == []


def test_values_in_every_style(session):
    u = uuid.uuid4()
    ts = datetime.datetime(2024, 5, 6, 7, 8, 9)
    session.execute("INSERT INTO cl.t (k, c, v, m, u, ts) VALUES (?, ?, ?, ?, ?, ?)",
                    (1, 1, "a", {"x": 1}, u, ts))
    session.execute("INSERT INTO cl.t (k, c, v) VALUES (%s, %s, %s)", (1, 2, "it's"))
    session.execute("INSERT INTO cl.t (k, c, v) VALUES (:k, :c, :v)", {"k": 1, "c": 3, "v": "named"})
    ps = session.prepare("INSERT INTO cl.t (k, c, v) VALUES (?, ?, ?)")
    assert ps.routing_key_indexes == [0] and [c.name for c in ps.column_metadata] == ["k", "c", "v"]
    session.execute(ps, (1, 4, "prepared"))
    session.execute(ps.bind((1, 1, UNSET)))          # unset: v keeps its value
    rows = session.execute("SELECT c, v FROM cl.t WHERE k = ?", [1]).all()
    assert [(r.c, r.v) for r in rows] == [(1, "a"), (2, "it's"), (3, "named"), (4, "prepared")]
    row = session.execute("SELECT m, u, ts FROM cl.t WHERE k = 1 AND c = 1").one()
    assert row.m == {"x": 1} and row.u == u and row.ts == ts


def test_same_answers_as_the_embedded_session(session, backend):
    local = Session(backend.database)
    for q in ["SELECT * FROM cl.t WHERE k = 1", "SELECT k, c, v FROM cl.t", "SELECT count(*) FROM cl.t",
              "SELECT key, cluster_name FROM system.local"]:
        remote_rs, local_rs = session.execute(q), local.execute(q)
        assert remote_rs.column_names == local_rs.column_names
        assert remote_rs.all() == local_rs.all()


def test_paging_is_transparent(session):
    ps = session.prepare("INSERT INTO cl.t (k, c, v) VALUES (?, ?, ?)")
    for i in range(10):
        session.execute(ps, (9, i, str(i)))
    rs = session.execute("SELECT c FROM cl.t WHERE k = 9", fetch_size=4)
    assert len(rs.current_rows) == 4 and rs.has_more_pages
    assert [r.c for r in rs] == list(range(10))
    first = session.execute("SELECT c FROM cl.t WHERE k = ?", (9,), fetch_size=6)
    rest = session.execute("SELECT c FROM cl.t WHERE k = ?", (9,), fetch_size=6,
                           paging_state=first.paging_state)
    assert [r.c for r in first.current_rows] + [r.c for r in rest.current_rows] == list(range(10))


def test_errors_are_cqlpy_errors(session):
    with pytest.raises(E.InvalidRequest):
        session.execute("SELECT * FROM cl.nope")
    with pytest.raises(E.SyntaxException):
        session.execute("SELEC 1")
    with pytest.raises(E.AlreadyExists) as info:
        session.execute("CREATE TABLE cl.t (a int PRIMARY KEY)")
    assert (info.value.keyspace, info.value.table) == ("cl", "t")
    assert session.execute("SELECT key FROM system.local").one().key == "local"


def test_unprepared_is_prepared_again(session, backend):
    ps = session.prepare("SELECT v FROM cl.t WHERE k = ? AND c = ?")
    backend.prepared.clear()
    assert session.execute(ps, (1, 4)).one().v == "prepared"


def test_events_and_compression(server):
    host, port = server.address
    events = []
    with connect(host, port, compression="lz4") as watcher, connect(host, port) as ddl:
        watcher.register(["SCHEMA_CHANGE"], events.append)
        ddl.execute("CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        watcher.execute("SELECT key FROM system.local")      # events arrive with the next response
        assert Event("SCHEMA_CHANGE", "CREATED", "KEYSPACE", "ev") in events
        assert watcher._conn.compressor is not None


def test_authentication(backend):
    opts = ServerOptions(port=0, authenticator=PasswordAuthenticator({"u": "p"}))
    with ServerThread(backend, opts) as srv:
        host, port = srv.address
        with connect(host, port, username="u", password="p") as s:
            assert s.execute("SELECT key FROM system.local").one().key == "local"
        with pytest.raises(E.AuthenticationFailed):
            connect(host, port, username="u", password="wrong")
        with pytest.raises(E.AuthenticationFailed):
            connect(host, port)
