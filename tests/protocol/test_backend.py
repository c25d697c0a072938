"""Frames against the real embedded database (SessionBackend): every query flag, batches, errors."""
import pytest

from wire import WireClient

from cqlpy.protocol import messages as M
from cqlpy.protocol import results as R
from cqlpy.protocol.backend import SessionBackend
from cqlpy.protocol.frame import NOT_SET, Consistency
from cqlpy.protocol.server import ServerOptions, ServerThread

I1, I2, I3 = (i.to_bytes(4, "big") for i in (1, 2, 3))


@pytest.fixture(scope="module")
def client(backend):
    with ServerThread(backend, ServerOptions(port=0)) as server:
        c = WireClient(server.address)
        c.startup()
        for q in ["CREATE KEYSPACE wk WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
                  "CREATE TABLE wk.t (k int, c int, v text, PRIMARY KEY (k, c))"]:
            assert isinstance(c.request(M.Query(q)), R.SchemaChangeResult)
        yield c
        c.close()


def rows(client, query, **params):
    result = client.request(M.Query(query, M.QueryParameters(**params)))
    assert isinstance(result, R.RowsResult), result
    return result


def test_positional_and_named_values(client):
    q = M.Query("INSERT INTO wk.t (k, c, v) VALUES (?, ?, ?)", M.QueryParameters(values=[I1, I1, b"a"]))
    assert client.request(q) == R.VoidResult()
    q = M.Query("INSERT INTO wk.t (k, c, v) VALUES (:k, :c, :v)",
                M.QueryParameters(values=[b"b", I1, I2], names=["v", "k", "c"]))
    assert client.request(q) == R.VoidResult()
    # not set: v keeps its value; null: v is deleted
    client.request(M.Query("INSERT INTO wk.t (k, c, v) VALUES (?, ?, ?)",
                           M.QueryParameters(values=[I1, I1, NOT_SET])))
    client.request(M.Query("INSERT INTO wk.t (k, c, v) VALUES (?, ?, ?)",
                           M.QueryParameters(values=[I1, I2, None])))
    r = rows(client, "SELECT c, v FROM wk.t WHERE k = ?", values=[I1])
    assert [(c.keyspace, c.table, c.name, str(c.type)) for c in r.columns] == \
        [("wk", "t", "c", "int"), ("wk", "t", "v", "text")]
    assert r.rows == [[I1, b"a"], [I2, None]]


def test_wrong_number_of_values(client):
    err = client.request(M.Query("SELECT * FROM wk.t WHERE k = ?", M.QueryParameters(values=[I1, I2])))
    assert err.code == 0x2200 and "markers" in err.message


def test_timestamp_serial_consistency_and_paging_flags(client):
    ins = M.Query("INSERT INTO wk.t (k, c, v) VALUES (2, ?, 'x')",
                  M.QueryParameters(Consistency.LOCAL_ONE, values=[I1], serial_consistency=Consistency.SERIAL,
                                    timestamp=123456))
    assert client.request(ins) == R.VoidResult()
    r = rows(client, "SELECT writetime(v) FROM wk.t WHERE k = 2 AND c = 1")
    assert r.rows == [[(123456).to_bytes(8, "big")]]
    for c in (I2, I3):
        client.request(M.Query("INSERT INTO wk.t (k, c, v) VALUES (2, ?, 'y')", M.QueryParameters(values=[c])))
    first = rows(client, "SELECT c FROM wk.t WHERE k = 2", page_size=2)
    assert first.rows == [[I1], [I2]] and first.paging_state
    rest = rows(client, "SELECT c FROM wk.t WHERE k = 2", page_size=2, paging_state=first.paging_state)
    assert rest.rows == [[I3]] and rest.paging_state is None


def test_prepare_execute_and_batch(client):
    prepared = client.request(M.Prepare("INSERT INTO wk.t (k, c, v) VALUES (?, ?, ?)"))
    assert isinstance(prepared, R.PreparedResult) and prepared.pk_indexes == [0]
    assert [c.name for c in prepared.bind_columns] == ["k", "c", "v"] and prepared.result_columns is None
    again = client.request(M.Prepare("INSERT INTO wk.t (k, c, v) VALUES (?, ?, ?)"))
    assert again.query_id == prepared.query_id                      # stable ids
    batch = M.Batch(0, [M.BatchStatement(query_id=prepared.query_id, values=[I3, I1, b"p"]),
                        M.BatchStatement("INSERT INTO wk.t (k, c, v) VALUES (3, ?, ?)", values=[I2, b"q"]),
                        M.BatchStatement("INSERT INTO wk.t (k, c, v) VALUES (3, 3, 'r')")],
                    Consistency.ONE, timestamp=777)
    assert client.request(batch) == R.VoidResult()
    sel = client.request(M.Prepare("SELECT c, v, writetime(v) FROM wk.t WHERE k = ?"))
    assert [c.name for c in sel.result_columns] == ["c", "v", "writetime(v)"]
    r = client.request(M.Execute(sel.query_id, M.QueryParameters(values=[I3])))
    assert r.rows == [[I1, b"p", (777).to_bytes(8, "big")], [I2, b"q", (777).to_bytes(8, "big")],
                      [I3, b"r", (777).to_bytes(8, "big")]]


def test_use_and_schema_change(client):
    assert client.request(M.Query('USE "wk"')) == R.SetKeyspaceResult("wk")
    assert isinstance(client.request(M.Query("SELECT * FROM t WHERE k = 1")), R.RowsResult)
    change = client.request(M.Query("CREATE TABLE t2 (a int PRIMARY KEY)"))
    assert change == R.SchemaChangeResult("CREATED", "TABLE", "wk", "t2")
    err = client.request(M.Query("CREATE TABLE t2 (a int PRIMARY KEY)"))
    assert err.code == 0x2400 and err.fields == {"keyspace": "wk", "table": "t2"}
    err = client.request(M.Query("SELECT * FROM nope"))
    assert err.code == 0x2200


def test_a_stopped_server_stops_listening_to_the_schema(tmp_path):
    backend = SessionBackend.open_path(str(tmp_path / "data"))
    try:
        catalog = backend.database.catalog
        before = list(catalog._committed)
        with ServerThread(backend, ServerOptions(port=0)):
            assert len(catalog._committed) == len(before) + 1
        assert catalog._committed == before           # the database outlives the server
        seen = []
        backend.add_schema_listener(seen.append)
        backend.database.catalog.create_keyspace("k1", {"class": "SimpleStrategy",
                                                        "replication_factor": 1})
        backend.remove_schema_listener(seen.append)
        backend.database.catalog.drop_keyspace("k1")
        assert [r.change_type for r in seen] == ["CREATED"]
    finally:
        backend.close()
