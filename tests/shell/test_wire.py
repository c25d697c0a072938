"""The shell over the native protocol, against a real ``cqlpy-server`` process: CONSISTENCY reaches
the coordinator, PAGING pages with the server's paging state, COPY round-trips through prepared
batches and rejects a bad line into ERRFILE.

The server is a one-node ring (it seeds itself): a ring enforces consistency levels, so with
replication factor 2 and one live node, QUORUM writes fail with Unavailable and ONE writes succeed.
"""
from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import pytest

import cqlpy
from cqlpy_shell.runner import Shell

sys.path.insert(0, str(Path(__file__).parent))
import copydata  # noqa: E402
from server_processes import ServerProcess  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("shell-wire") / "data", ring=True)
    try:
        with cqlpy.connect(host=process.host, port=process.port) as session:
            session.execute("CREATE KEYSPACE w WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 2}")
            session.execute("CREATE KEYSPACE one WITH replication = "
                            "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        yield process
    finally:
        process.stop()


@pytest.fixture
def shell(server):
    session = cqlpy.connect(host=server.host, port=server.port)
    yield Shell(session, stdout=io.StringIO(), stderr=io.StringIO(), host=f"{server.host}:{server.port}")
    session.close()


def test_consistency_is_sent_with_each_request(shell):
    shell.run_text("CREATE TABLE IF NOT EXISTS w.c (k int PRIMARY KEY, v text);")
    assert not shell.run_text("CONSISTENCY QUORUM\nINSERT INTO w.c (k, v) VALUES (1, 'quorum');\n", "c.cql")
    assert shell.stdout.getvalue().splitlines()[-1] == "Consistency level set to QUORUM."
    assert shell.stderr.getvalue() == ('c.cql:3:Unavailable: Error from server: code=1000 [Unavailable exception] '
                                       'message="Cannot achieve consistency level QUORUM"\n')
    shell.failed = False
    assert shell.run_text("CONSISTENCY ONE\nINSERT INTO w.c (k, v) VALUES (2, 'one');\n"
                          "SELECT k, v FROM w.c WHERE k = 2;\nCONSISTENCY\n", "c.cql")
    printed = shell.stdout.getvalue()
    assert "Consistency level set to ONE." in printed and " 2 | one" in printed
    assert printed.rstrip().endswith("Current consistency level is ONE.")


def test_paging_pages_with_the_servers_paging_state(shell):
    shell.run_text("CREATE TABLE IF NOT EXISTS one.p (k int, c int, PRIMARY KEY (k, c));")
    shell.run_text("".join(f"INSERT INTO one.p (k, c) VALUES (1, {c});" for c in range(10)))
    pages = []
    shell.tty = True                           # a terminal: one ---MORE--- between pages
    shell.more = lambda: pages.append(shell.stdout.getvalue().count("\n")) or True
    assert shell.run_text("PAGING 3\nSELECT c FROM one.p WHERE k = 1;\n")
    printed = shell.stdout.getvalue()
    assert "Page size: 3" in printed
    assert len(pages) == 3                     # 10 rows in pages of 3: 4 pages, 3 prompts
    assert printed.count(" c\n---\n") == 4       # in a terminal each page has its header, as in cqlsh
    assert [int(line) for line in printed.splitlines() if line.strip().isdigit()] == list(range(10))
    assert printed.rstrip().endswith("(10 rows)")
    pages.clear()
    shell.stdout = io.StringIO()
    assert shell.run_text("PAGING OFF\nSELECT c FROM one.p WHERE k = 1;\n")
    printed = shell.stdout.getvalue()
    assert pages == [] and printed.startswith("PAGING set to OFF\n") and printed.count(" c\n---\n") == 1
    assert printed.rstrip().endswith("(10 rows)")


def _normalized(rows):
    def norm(v):
        if isinstance(v, float):
            return "nan" if math.isnan(v) else (v, math.copysign(1.0, v))
        return v
    return {r[0]: tuple(norm(v) for v in r) for r in rows}


def test_copy_round_trip_and_errfile_over_the_wire(shell, tmp_path):
    session = shell.session
    session.execute("USE one")
    session.execute(copydata.TYPE_DDL)
    session.execute(copydata.create_table("src"))
    session.execute(copydata.create_table("dst"))
    copydata.insert_rows(session, "src", 700)
    path = tmp_path / "src.csv"
    assert shell.run_text(f"COPY src TO '{path}' WITH HEADER = true;"), shell.stderr.getvalue()
    bad_line = path.read_text(encoding="utf-8").count("\n") + 1     # records may span lines
    with open(path, "a", encoding="utf-8") as f:
        f.write("99999,x,not-a-bigint" + ",," * 11 + "\n")    # 25 fields, a bad bigint
    errfile = tmp_path / "bad.err"
    assert not shell.run_text(f"COPY dst FROM '{path}' WITH HEADER = true AND MAXBATCHSIZE = 7 "
                              f"AND ERRFILE = '{errfile}';", "copy.cql")
    assert "700 rows imported from 1 files" in shell.stdout.getvalue()
    assert errfile.read_text() == "99999,x,not-a-bigint" + ",," * 11 + "\n"
    assert shell.stderr.getvalue().startswith(
        f"{path}:{bad_line}:Failed to import 1 rows: ParseError - Invalid value 'not-a-bigint' for type bigint")
    assert _normalized(copydata.all_rows(session, "SELECT * FROM dst")) == \
        _normalized(copydata.all_rows(session, "SELECT * FROM src"))
