"""The Shell over a real embedded database: capture, timing, output of DDL, schema refresh for
completion, colours by key role, paging decisions."""
from __future__ import annotations

import io

import pytest

import cqlpy

from cqlpy_shell.completion import complete
from cqlpy_shell.runner import Shell

pytestmark = pytest.mark.skipif(not hasattr(cqlpy, "connect"), reason="cqlpy.connect() does not exist yet")


@pytest.fixture
def shell(tmp_path):
    session = cqlpy.connect(str(tmp_path / "db"))
    session.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("USE ks")
    session.execute("CREATE TABLE t (k int, c int, s text static, v text, PRIMARY KEY (k, c))")
    for i in range(5):
        session.execute(f"INSERT INTO t (k, c, v) VALUES (1, {i}, 'v{i}')")
    yield Shell(session, stdout=io.StringIO(), stderr=io.StringIO())
    session.close()


def test_capture_sends_query_results_to_the_file(shell, tmp_path):
    path = tmp_path / "captured.txt"
    shell.run_text(f"CAPTURE '{path}'\nSELECT v FROM t WHERE k = 1 AND c = 0;\nCONSISTENCY\nCAPTURE OFF\n"
                   "SELECT v FROM t WHERE k = 1 AND c = 1;\n")
    assert path.read_text() == "\n v\n----\n v0\n\n(1 rows)\n"
    out = shell.stdout.getvalue()
    assert out.startswith(f"Now capturing query output to '{path}'.\nCurrent consistency level is ONE.\n")
    assert "v1" in out and "v0" not in out


def test_timing(shell):
    shell.run_text("TIMING ON\nSELECT v FROM t WHERE k = 1 AND c = 0;")
    assert shell.stdout.getvalue().rstrip().splitlines()[-1].startswith("Time: ")


def test_ddl_refreshes_the_catalog_for_completion(shell):
    assert [s.text for s in complete("SELECT * FROM ne", None, shell.catalog())] == []
    shell.run_text("CREATE TABLE new_one (k int PRIMARY KEY);")
    assert [s.text for s in complete("SELECT * FROM ne", None, shell.catalog())] == ["new_one"]
    shell.run_text("USE system;")
    assert shell.catalog().keyspace == "system"


def test_colours_follow_key_roles(shell):
    shell.color = True
    shell.run_text("SELECT k, c, s, v FROM t WHERE k = 1 AND c = 0;")
    header = shell.stdout.getvalue().splitlines()[1]
    assert header == " \x1b[0;1;31mk\x1b[0m | \x1b[0;1;36mc\x1b[0m | \x1b[0;1;37ms\x1b[0m    | \x1b[0;1;35mv\x1b[0m"


def test_terminal_paging_asks_between_non_empty_pages(shell):
    shell.tty = True
    asked = []
    shell.more = lambda: asked.append(1) or len(asked) < 2       # go on once, then stop
    shell.run_text("PAGING 2\nSELECT c FROM t WHERE k = 1;")
    assert len(asked) == 2
    assert "(4 rows)" in shell.stdout.getvalue()


def test_without_a_terminal_all_pages_print_without_asking(shell):
    shell.more = lambda: pytest.fail("asked without a terminal")
    shell.run_text("PAGING 2\nSELECT c FROM t WHERE k = 1;")
    assert "(5 rows)" in shell.stdout.getvalue()


def test_ddl_and_writes_print_nothing(shell):
    shell.run_text("CREATE TABLE x (k int PRIMARY KEY); INSERT INTO x (k) VALUES (1); DROP TABLE x;")
    assert shell.stdout.getvalue() == "" and shell.stderr.getvalue() == ""


def test_use_changes_the_keyspace(shell):
    shell.run_text("USE system_schema;")
    assert shell.keyspace == "system_schema"
    assert not shell.run_text("USE nowhere;")
    assert "InvalidRequest" in shell.stderr.getvalue() and shell.keyspace == "system_schema"


def test_did_you_mean_in_a_terminal_only(shell):
    shell.run_text("SELECT * FROM tt;")
    assert "Did you mean" not in shell.stderr.getvalue()
    shell.tty = True
    shell.run_statement("SELECT * FROM tt;")
    assert shell.stderr.getvalue().rstrip().endswith("Did you mean 't'?")
