"""Tracing over the wire: the request flag 0x02, the tracing id before the response body, and the real
clients (cassandra-driver's get_query_trace, cqlsh's TRACING ON, cqlpy's own client) reading the trace."""
from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from cqlpy.protocol import client as cqlpy_client
from cqlpy.protocol import framing as F
from cqlpy.protocol import messages as M
from cqlpy.protocol.frame import HEADER_SIZE, Consistency, Flag, parse_header
from cqlpy.protocol.results import RowsResult
from cqlpy.protocol.server import ServerOptions, ServerThread

from .wire import WireClient


@pytest.fixture(scope="module")
def server(backend):
    with ServerThread(backend, ServerOptions(port=0)) as s:
        c = cqlpy_client.connect(*s.address)
        c.execute("CREATE KEYSPACE tr WITH replication = {'class': 'SimpleStrategy', "
                  "'replication_factor': 1}")
        c.execute("CREATE TABLE tr.t (k int, c int, v text, PRIMARY KEY (k, c))")
        c.execute("INSERT INTO tr.t (k, c, v) VALUES (1, 1, 'one')")
        c.close()
        yield s


def raw_exchange(server, msg, traced: bool):
    """Send ``msg`` (tracing flag set or not) and return the response header and raw body."""
    w = WireClient(server.address)
    try:
        w.startup()
        frame = bytearray(F.encode_message(msg, 5))
        if traced:
            frame[1] |= Flag.TRACING
        w.send_raw(bytes(frame))
        header = parse_header(w._read(HEADER_SIZE))
        body = w._read(header.length)
        return header, body
    finally:
        w.close()


def test_the_response_to_a_traced_request_carries_the_session_id_before_the_body(server):
    query = M.Query("SELECT v FROM tr.t WHERE k = 1", M.QueryParameters(Consistency.ONE))
    header, body = raw_exchange(server, query, traced=True)
    assert header.flags & Flag.TRACING and header.stream == 5
    session_id = uuid.UUID(bytes=body[:16])
    assert session_id.version == 1
    env = F.decode_message(header, body)
    assert env.tracing_id == session_id and isinstance(env.message, RowsResult)
    assert env.message.rows == [[b"one"]]
    # the trace is stored before the response is sent: readable at once
    c = cqlpy_client.connect(*server.address)
    try:
        row = c.execute(f"SELECT request, duration, parameters FROM system_traces.sessions "
                        f"WHERE session_id = {session_id}").one()
        assert row.request == "Execute CQL3 query" and row.duration > 0
        assert row.parameters == {"consistency_level": "ONE", "query": "SELECT v FROM tr.t WHERE k = 1"}
    finally:
        c.close()


def test_an_untraced_request_gets_no_tracing_id(server):
    query = M.Query("SELECT v FROM tr.t WHERE k = 1", M.QueryParameters(Consistency.ONE))
    header, body = raw_exchange(server, query, traced=False)
    assert not header.flags & Flag.TRACING
    assert F.decode_message(header, body).tracing_id is None


def test_cqlpy_client_trace(server):
    c = cqlpy_client.connect(*server.address)
    try:
        rs = c.execute("INSERT INTO tr.t (k, c, v) VALUES (2, 1, 'two')", trace=True)
        trace = rs.get_query_trace()
        steps = [e.description for e in trace.events]
        assert steps.index("Appending to commitlog") < steps.index("Adding to t memtable")
        assert all(e.thread_name.startswith("cqlpy-request") for e in trace.events)
        assert c.execute("SELECT v FROM tr.t WHERE k = 2").get_query_trace() is None
    finally:
        c.close()


def test_cassandra_driver_get_query_trace(server):
    pytest.importorskip("cassandra")
    from cassandra.cluster import Cluster
    host, port = server.address
    cluster = Cluster([host], port=port, protocol_version=4, connect_timeout=5)
    try:
        s = cluster.connect()
        rs = s.execute("SELECT * FROM tr.t WHERE k = 1", trace=True)
        assert [r.v for r in rs] == ["one"]
        trace = rs.get_query_trace(max_wait_sec=10)
        assert trace.request_type == "Execute CQL3 query"
        assert trace.coordinator == host and trace.client == "127.0.0.1"
        assert trace.parameters["query"] == "SELECT * FROM tr.t WHERE k = 1"
        steps = [e.description for e in trace.events]
        assert "Executing single-partition query on t" in steps
        assert "Read 1 live rows and 0 tombstone cells" in steps
        assert trace.duration.total_seconds() > 0
        ps = s.prepare("SELECT v FROM tr.t WHERE k = ?")
        trace = s.execute(ps, (1,), trace=True).get_query_trace(max_wait_sec=10)
        assert trace.request_type == "Execute CQL3 prepared query"
        assert trace.parameters["query"] == "SELECT v FROM tr.t WHERE k = ?"
        assert not any(d.startswith("Parsing") for d in (e.description for e in trace.events))
        from cassandra.query import BatchStatement
        batch = BatchStatement()
        batch.add("INSERT INTO tr.t (k, c, v) VALUES (%s, %s, %s)", (3, 1, "three"))
        batch.add(s.prepare("INSERT INTO tr.t (k, c, v) VALUES (?, ?, ?)"), (3, 2, "four"))
        trace = s.execute(batch, trace=True).get_query_trace(max_wait_sec=10)
        assert trace.request_type == "Execute batch of CQL3 queries"
        assert trace.parameters["consistency_level"] == "LOCAL_ONE"
        steps = [e.description for e in trace.events]
        assert steps.count("Appending to commitlog") == 1 and "Adding to t memtable" in steps
    finally:
        cluster.shutdown()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cqlsh") is None, reason="cqlsh is not installed")
def test_cqlsh_tracing_on_prints_the_trace(server):
    host, port = server.address
    out = subprocess.run(["cqlsh", host, str(port), "--protocol-version=4", "-e",
                          "TRACING ON; SELECT v FROM tr.t WHERE k = 1; TRACING OFF; "
                          "SELECT v FROM tr.t WHERE k = 1;"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Tracing session: ") == 1
    lines = out.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith(" activity "))
    assert [c.strip() for c in lines[head].split("|")] == ["activity", "timestamp", "source",
                                                           "source_elapsed", "client"]
    assert lines[head + 1].startswith("---") and "-+-" in lines[head + 1]
    assert lines[head + 2].strip().startswith("Execute CQL3 query |")
    assert any("Executing single-partition query on t [cqlpy-request" in line for line in lines)
    assert any(line.strip().startswith("Request complete |") for line in lines)
