"""The interactive shell in a real pseudo-terminal (pexpect): a statement typed over several lines, a
table name completed with TAB, a result paged with ---MORE---, Ctrl-C, and Ctrl-D to leave."""
from __future__ import annotations

import os
import sys
import time

import pytest

import cqlpy

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.skipif(not hasattr(cqlpy, "connect"), reason="cqlpy.connect() does not exist yet")

TIMEOUT = 20


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data"
    with cqlpy.connect(str(path)) as session:
        session.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        session.execute("CREATE TABLE ks.users_by_city (city text, id int, name text, PRIMARY KEY (city, id))")
        for i in range(5):
            session.execute(f"INSERT INTO ks.users_by_city (city, id, name) VALUES ('Oslo', {i}, 'user{i}')")
    return path


def spawn(data, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1",
           "COLUMNS": "100", "LINES": "40"}
    child = pexpect.spawn(sys.executable, ["-m", "cqlpy_shell", "--data", str(data), "-k", "ks"], env=env,
                          encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 100))
    child.expect_exact("Use HELP for help.")
    child.expect_exact("cqlpy:ks>")
    return child


def leave(child) -> None:
    """Ctrl-D on the fresh prompt (a short pause: keys typed while the previous input is still being
    accepted may go to the old prompt)."""
    time.sleep(0.3)
    child.sendcontrol("d")


def test_interactive_session(data, tmp_path):
    child = spawn(data, tmp_path)
    try:
        # a statement over several lines: Enter continues until the ';'
        child.send("SELECT name\r")
        child.expect_exact("...")
        child.send("FROM users_by_city\r")
        child.expect_exact("...")
        child.send("WHERE city = 'Oslo' AND id = 3;\r")
        child.expect_exact("user3")
        child.expect_exact("(1 rows)")
        child.expect_exact("cqlpy:ks>")

        # TAB completes the only table that starts with "users"
        child.send("SELECT count(*) FROM users")
        child.send("\t")
        child.expect_exact("_by_city")
        child.send(";\r")
        child.expect_exact("(1 rows)")
        child.expect_exact("cqlpy:ks>")

        # paging: two rows a page, Enter for more, q to stop
        child.send("PAGING 2\r")
        child.expect_exact("Page size: 2")
        child.expect_exact("cqlpy:ks>")
        child.send("SELECT id FROM users_by_city WHERE city = 'Oslo';\r")
        child.expect_exact("---MORE---")
        child.send("\r")
        child.expect_exact("---MORE---")
        child.send("q")
        child.expect_exact("(4 rows)")
        child.expect_exact("cqlpy:ks>")

        # a paste of several statements runs them in order
        child.send("\x1b[200~SELECT name FROM users_by_city WHERE city = 'Oslo' AND id = 1;\n"
                   "SELECT name FROM users_by_city\n WHERE city = 'Oslo' AND id = 2;\x1b[201~")
        child.send("\r")
        child.expect_exact("user1")
        child.expect_exact("user2")
        child.expect_exact("cqlpy:ks>")

        # Ctrl-C drops the input being typed: the next command runs alone
        child.send("SELECT nonsense")
        child.expect_exact("nonsense")
        child.sendcontrol("c")
        child.send("CONSISTENCY\r")
        child.expect_exact("Current consistency level is ONE.")
        child.expect_exact("cqlpy:ks>")

        # Ctrl-D leaves
        leave(child)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_history_has_one_entry_per_statement_and_no_passwords(data, tmp_path):
    child = spawn(data, tmp_path)
    try:
        child.send("CONSISTENCY ONE; SELECT id FROM users_by_city WHERE city = 'x';\r")
        child.expect_exact("(0 rows)")
        child.expect_exact("cqlpy:ks>")
        child.send("CREATE ROLE r WITH PASSWORD = 'secret';\r")
        child.send("CONSISTENCY\r")
        child.expect_exact("Current consistency level is ONE.")
        child.expect_exact("cqlpy:ks>")
        leave(child)
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
    history = (tmp_path / ".cassandra" / "cqlpy_history").read_text()
    assert "SELECT id FROM users_by_city WHERE city = 'x';" in history
    assert "CONSISTENCY ONE" in history
    assert "secret" not in history
