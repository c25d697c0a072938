"""TRACING ON|OFF in the shell: cqlsh's trace table after each result, on the embedded database and over
the wire, the toolbar's tracing state, and no trace for reads of system_traces."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest

import cqlpy
from cqlpy.protocol import client as cqlpy_client
from cqlpy.protocol.backend import SessionBackend
from cqlpy.protocol.server import ServerOptions, ServerThread

from cqlpy_shell.repl import toolbar_text
from cqlpy_shell.runner import Shell
from cqlpy_shell.tracing import NAMES, traced

SETUP = ("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
         "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))",
         "INSERT INTO ks.t (k, c, v) VALUES (1, 1, 'one')")


@pytest.fixture
def shell(tmp_path):
    session = cqlpy.connect(str(tmp_path / "db"))
    for statement in SETUP:
        session.execute(statement)
    session.flush()
    yield Shell(session, stdout=io.StringIO(), stderr=io.StringIO())
    session.close()


def trace_tables(text: str) -> list[list[str]]:
    """Each printed trace as its lines, from the header line to the last row."""
    lines = text.splitlines()
    tables = []
    for i, line in enumerate(lines):
        if line.startswith("Tracing session: "):
            assert lines[i - 1] == "" and lines[i + 1] == ""
            end = i + 2
            while end < len(lines) and lines[end]:
                end += 1
            tables.append(lines[i + 2:end])
    return tables


def check_layout(table: list[str]) -> list[list[str]]:
    """cqlsh's layout: left-aligned headers, a dashed rule, right-aligned values, columns lined up."""
    header, rule, *rows = table
    assert [h.strip() for h in header.split("|")] == list(NAMES)
    assert rule.startswith("-") and rule.count("-+-") == 4
    bars = [i for i, ch in enumerate(rule) if ch == "+"]
    cells = []
    for row in rows:
        assert [i for i, ch in enumerate(row) if ch == "|"][-4:] == bars, row
        cells.append([c.strip() for c in row.rsplit("|", 4)])
    assert cells[0][0] == "Execute CQL3 query" and cells[0][3] == "0"
    assert cells[-1][0] == "Request complete"
    elapsed = [int(c[3]) for c in cells[1:-1]]
    assert elapsed == sorted(elapsed) and int(cells[-1][3]) >= elapsed[-1]
    return cells


def test_tracing_on_prints_each_statements_trace_after_its_result(shell):
    shell.run_text("TRACING ON\nSELECT v FROM ks.t WHERE k = 1;\nINSERT INTO ks.t (k, c, v) VALUES (2, 1, 'two');\n"
                   "TRACING OFF\nSELECT v FROM ks.t WHERE k = 2;\n")
    out = shell.stdout.getvalue()
    assert shell.stderr.getvalue() == ""
    assert out.startswith("TRACING set to ON\n\n v\n-----\n one\n\n(1 rows)\n\nTracing session: ")
    first, second = trace_tables(out)
    read = check_layout(first)
    activities = [c[0] for c in read]
    assert "Executing single-partition query on t [MainThread]" in activities
    assert "Merged data from memtables and 1 sstables [MainThread]" in activities
    assert any(a.startswith("Read 1 live rows and 0 tombstone cells") for a in activities)
    assert {c[2] for c in read} == {"127.0.0.1"}
    write = [c[0] for c in check_layout(second)]
    assert write.index("Appending to commitlog [MainThread]") < write.index("Adding to t memtable [MainThread]")
    assert out.count("Tracing session: ") == 2                         # none after TRACING OFF
    assert out.endswith("TRACING set to OFF\n\n v\n-----\n two\n\n(1 rows)\n")


def test_reading_system_traces_is_not_traced(shell):
    shell.run_text("TRACING ON\nSELECT session_id FROM system_traces.sessions;\nTRACING OFF\n"
                   "USE system_traces;\nTRACING ON\nSELECT session_id FROM events;\n")
    assert "Tracing session: " not in shell.stdout.getvalue().split("TRACING set to ON", 1)[1]
    assert not traced("select * from \"system_traces\".sessions", None)
    assert not traced("SELECT * FROM events", "system_traces")
    assert traced("SELECT * FROM ks.t", "system_traces") and traced("INSERT INTO t (k) VALUES (1)", None)


def test_the_toolbar_shows_the_tracing_state(shell):
    assert "tracing: OFF" in toolbar_text(shell)
    shell.run_text("TRACING ON\n")
    assert "tracing: ON" in toolbar_text(shell)


def test_tracing_over_the_wire(tmp_path):
    backend = SessionBackend.open_path(str(tmp_path / "server"))
    try:
        with ServerThread(backend, ServerOptions(port=0)) as server:
            session = cqlpy_client.connect(*server.address)
            for statement in SETUP:
                session.execute(statement)
            shell = Shell(session, stdout=io.StringIO(), stderr=io.StringIO(),
                          host=f"{server.address[0]}:{server.address[1]}")
            shell.run_text("TRACING ON\nSELECT v FROM ks.t WHERE k = 1;\n")
            session.close()
    finally:
        backend.close()
    (table,) = trace_tables(shell.stdout.getvalue())
    activities = [c[0] for c in check_layout(table)]
    assert any(a.startswith("Executing single-partition query on t [cqlpy-request") for a in activities)


@pytest.mark.slow
def test_the_cqlpy_program_traces_on_the_embedded_database(tmp_path):
    script = tmp_path / "trace.cql"
    script.write_text(";\n".join(SETUP) + ";\nTRACING ON\nSELECT * FROM ks.t WHERE k = 1;\n")
    out = subprocess.run([sys.executable, "-m", "cqlpy_shell", "--data", str(tmp_path / "db"), "-f",
                          str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    (table,) = trace_tables(out.stdout)
    check_layout(table)
