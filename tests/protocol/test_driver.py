"""The real cassandra-driver (3.30) against a cqlpy server over the embedded database, in-process."""
import logging
import time

import pytest

cassandra = pytest.importorskip("cassandra")
from cassandra import AlreadyExists, InvalidRequest  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable  # noqa: E402
from cassandra.policies import RoundRobinPolicy  # noqa: E402
from cassandra.protocol import SyntaxException  # noqa: E402
from cassandra.query import BatchStatement, SimpleStatement  # noqa: E402

from cqlpy.protocol.auth import PasswordAuthenticator  # noqa: E402
from cqlpy.protocol.server import ServerOptions, ServerThread  # noqa: E402

KS = "demo"


@pytest.fixture(scope="module")
def server(backend):
    with ServerThread(backend, ServerOptions(port=0, compression=("lz4",))) as s:
        yield s


def cluster(server, **kw):
    """A driver Cluster for ``server``: protocol v4 unless told otherwise (None: the default walk)."""
    host, port = server.address
    kw.setdefault("protocol_version", 4)
    if kw["protocol_version"] is None:
        del kw["protocol_version"]
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    return Cluster([host], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                   connect_timeout=5, control_connection_timeout=5, **kw)


@pytest.fixture(scope="module")
def session(server):
    c = cluster(server)
    s = c.connect()
    s.execute(f"CREATE KEYSPACE IF NOT EXISTS {KS} WITH replication = "
              "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute(f"CREATE TABLE IF NOT EXISTS {KS}.t (k int, c int, v text, PRIMARY KEY (k, c))")
    yield s
    c.shutdown()


def test_connect_reads_system_tables_and_metadata(session):
    c = session.cluster
    assert c.protocol_version == 4
    assert {"system", "system_schema", KS} <= set(c.metadata.keyspaces)
    table = c.metadata.keyspaces[KS].tables["t"]
    assert [col.name for col in table.partition_key] == ["k"]
    assert [col.name for col in table.clustering_key] == ["c"]
    assert c.metadata.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner"
    assert c.metadata.token_map is not None
    local = session.execute("SELECT cql_version FROM system.local").one()
    assert c.control_connection._connection.cql_version == local.cql_version


def test_ddl_reaches_schema_agreement_quickly(session):
    start = time.monotonic()
    rs = session.execute("CREATE KEYSPACE agree_ks WITH replication = "
                         "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    assert rs.response_future.is_schema_agreed is True
    assert time.monotonic() - start < 1.0
    assert "agree_ks" in session.cluster.metadata.keyspaces
    rs = session.execute("CREATE TABLE agree_ks.x (a text PRIMARY KEY, b int)")
    assert rs.response_future.is_schema_agreed is True
    assert "x" in session.cluster.metadata.keyspaces["agree_ks"].tables
    session.execute("DROP KEYSPACE agree_ks")
    assert "agree_ks" not in session.cluster.metadata.keyspaces


def test_errors_map_to_driver_exceptions(session):
    with pytest.raises(AlreadyExists) as info:
        session.execute(f"CREATE TABLE {KS}.t (k int PRIMARY KEY)")
    assert info.value.keyspace == KS and info.value.table == "t"
    with pytest.raises(InvalidRequest):
        session.execute(f"SELECT * FROM {KS}.no_such_table")
    with pytest.raises(SyntaxException):
        session.execute("SELEC * FROM x")


def test_prepared_insert_and_select(session):
    ins = session.prepare(f"INSERT INTO {KS}.t (k, c, v) VALUES (?, ?, ?)")
    assert ins.routing_key_indexes == [0]
    assert [c.name for c in ins.column_metadata] == ["k", "c", "v"]
    for i in range(5):
        session.execute(ins, (2, i, f"v{i}"))
    sel = session.prepare(f"SELECT * FROM {KS}.t WHERE k = ?")
    assert sel.routing_key_indexes == [0]
    rows = list(session.execute(sel, (2,)))
    assert [(r.k, r.c, r.v) for r in rows] == [(2, i, f"v{i}") for i in range(5)]
    # a value left unset writes nothing; null deletes
    session.execute(ins.bind({"k": 2, "c": 0}))
    assert session.execute(sel, (2,)).one().v == "v0"
    session.execute(ins, (2, 0, None))
    assert session.execute(sel, (2,)).one().v is None


def test_unknown_prepared_id_is_reprepared(session, backend):
    sel = session.prepare(f"SELECT v FROM {KS}.t WHERE k = ? AND c = ?")
    session.execute(f"INSERT INTO {KS}.t (k, c, v) VALUES (3, 1, 'x')")
    backend.prepared.clear()                    # as after a server restart
    assert session.execute(sel, (3, 1)).one().v == "x"


def test_paging_with_fetch_size(session):
    ins = session.prepare(f"INSERT INTO {KS}.t (k, c, v) VALUES (?, ?, ?)")
    for i in range(7):
        session.execute(ins, (1, i, str(i)))
    rs = session.execute(SimpleStatement(f"SELECT * FROM {KS}.t WHERE k = 1", fetch_size=3))
    assert len(rs.current_rows) == 3 and rs.has_more_pages
    assert [r.c for r in rs] == list(range(7))
    sel = session.prepare(f"SELECT * FROM {KS}.t WHERE k = ?")
    sel.fetch_size = 2
    rs = session.execute(sel, (1,))
    assert len(rs.current_rows) == 2 and rs.has_more_pages
    assert len(list(rs)) == 7
    # resuming from a saved paging state
    first = session.execute(SimpleStatement(f"SELECT c FROM {KS}.t WHERE k = 1", fetch_size=4))
    rest = session.execute(SimpleStatement(f"SELECT c FROM {KS}.t WHERE k = 1", fetch_size=4),
                           paging_state=first.paging_state)
    assert [r.c for r in first.current_rows] + [r.c for r in rest.current_rows] == list(range(7))


def test_batch_of_prepared_and_simple_statements(session):
    ins = session.prepare(f"INSERT INTO {KS}.t (k, c, v) VALUES (?, ?, ?)")
    batch = BatchStatement()
    batch.add(ins, (4, 1, "a"))
    batch.add(SimpleStatement(f"INSERT INTO {KS}.t (k, c, v) VALUES (4, 2, 'b')"))
    batch.add(SimpleStatement(f"INSERT INTO {KS}.t (k, c, v) VALUES (%s, %s, %s)"), (4, 3, "c"))
    session.execute(batch)
    rows = session.execute(f"SELECT c, v FROM {KS}.t WHERE k = 4")
    assert [(r.c, r.v) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


def test_use_keyspace_and_client_timestamps(session):
    c = session.cluster
    s2 = c.connect(KS)
    s2.execute("INSERT INTO t (k, c, v) VALUES (5, 1, 'old') USING TIMESTAMP 2000")
    s2.execute("INSERT INTO t (k, c, v) VALUES (5, 1, 'new')")     # the driver's timestamp: now
    assert s2.execute("SELECT v FROM t WHERE k = 5").one().v == "new"
    s2.execute("INSERT INTO t (k, c, v) VALUES (5, 2, 'x') USING TIMESTAMP 1000")
    assert s2.execute("SELECT writetime(v) AS w FROM t WHERE k = 5 AND c = 2").one().w == 1000
    s2.shutdown()


def test_default_connect_steps_down_to_v4(server, caplog):
    caplog.set_level(logging.WARNING, logger="cassandra.cluster")
    c = cluster(server, protocol_version=None)
    try:
        s = c.connect()
        assert c.protocol_version == 4
        assert s.execute("SELECT release_version FROM system.local").one() is not None
        assert "Downgrading core protocol version from 5 to 4" in caplog.text
    finally:
        c.shutdown()


def test_lz4_compression_with_the_driver(server):
    c = cluster(server, compression="lz4")
    try:
        s = c.connect()
        rows = s.execute(f"SELECT * FROM {KS}.t WHERE k = 1")
        assert len(rows.current_rows) == 7
        assert c.control_connection._connection.compressor is not None
    finally:
        c.shutdown()


def test_password_authentication_with_the_driver(backend):
    opts = ServerOptions(port=0, authenticator=PasswordAuthenticator())
    with ServerThread(backend, opts) as srv:
        c = cluster(srv, auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
        try:
            assert c.connect().execute("SELECT key FROM system.local").one().key == "local"
        finally:
            c.shutdown()
        bad = cluster(srv, auth_provider=PlainTextAuthProvider("cassandra", "nope"))
        with pytest.raises(NoHostAvailable) as info:
            bad.connect()
        assert "Bad credentials" in str(info.value) or "incorrect" in str(info.value)
        bad.shutdown()


def test_schema_events_refresh_another_clients_metadata(session, server):
    watcher = cluster(server, schema_event_refresh_window=0.05)
    try:
        watcher.connect()
        session.execute(f"CREATE TABLE {KS}.evented (a int PRIMARY KEY)")
        deadline = time.monotonic() + 5
        while "evented" not in watcher.metadata.keyspaces[KS].tables and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "evented" in watcher.metadata.keyspaces[KS].tables
    finally:
        watcher.shutdown()
