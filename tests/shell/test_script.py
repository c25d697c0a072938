"""Cutting input into statements: CQL ends at ';', special commands at the end of their line."""
from __future__ import annotations

import cqlpy

from cqlpy_shell.script import execution_lines, input_complete, line_count, split_input
from cqlpy_shell.special import find_command, starts_special


def pieces(text):
    return [(p.text, p.line, p.terminated, p.special) for p in split_input(text)]


def test_cql_and_special_commands_mixed():
    text = "EXPAND ON\nSELECT * FROM t;\nCONSISTENCY QUORUM\nSELECT 'a;b'\n  FROM t;"
    assert pieces(text) == [("EXPAND ON", 1, True, True), ("SELECT * FROM t", 2, True, False),
                            ("CONSISTENCY QUORUM", 3, True, True), ("SELECT 'a;b'\n  FROM t", 4, True, False)]


def test_special_command_with_semicolon_and_several_per_line():
    assert pieces("paging off; select * from t;") == [("paging off", 1, True, True),
                                                      ("select * from t", 1, True, False)]


def test_use_and_explain_are_cql_and_need_a_semicolon():
    assert pieces("USE ks\n") == [("USE ks", 1, False, False)]
    assert pieces("USE ks;") == [("USE ks", 1, True, False)]
    assert not input_complete("USE ks")


def test_batch_and_dollar_strings_and_comments():
    text = ("BEGIN BATCH\n INSERT INTO t (k) VALUES (1);\n INSERT INTO t (k) VALUES (2);\nAPPLY BATCH;\n"
            "-- a comment; with a semicolon\nINSERT INTO t (k, v) VALUES (3, $$x;y$$);")
    got = pieces(text)
    assert len(got) == 2 and got[0][0].startswith("BEGIN BATCH") and got[0][0].endswith("APPLY BATCH")
    assert got[1] == ("INSERT INTO t (k, v) VALUES (3, $$x;y$$)", 6, True, False)


def test_input_complete():
    assert input_complete("")
    assert input_complete("   ")
    assert input_complete("-- just a comment")
    assert input_complete("SELECT * FROM t;")
    assert not input_complete("SELECT * FROM t")
    assert not input_complete("SELECT 'abc;")
    assert not input_complete("BEGIN BATCH INSERT INTO t (k) VALUES (1);")
    assert input_complete("BEGIN BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH;")
    assert input_complete("EXPAND ON")
    assert input_complete("help")
    assert input_complete("SELECT 1 FROM t; EXPAND")
    assert not input_complete("/* open comment")
    assert input_complete("INSERT INTO t (k, v) VALUES (1, $$a;b$$);")
    assert not input_complete("INSERT INTO t (k, v) VALUES (1, $$a;b")


def test_agrees_with_cqlpy_is_complete_for_cql():
    for text in ["SELECT * FROM t;", "SELECT", "SELECT ';' FROM t", "x; y;", "BEGIN BATCH APPLY BATCH;"]:
        assert input_complete(text) == cqlpy.is_complete(text)


def test_find_command():
    command, argument = find_command("serial consistency local_serial;")
    assert command.name == "SERIAL CONSISTENCY" and argument == "local_serial"
    command, argument = find_command("DESC TABLE t")
    assert command.name == "DESCRIBE" and argument == "TABLE t"
    assert find_command("SELECT * FROM t") is None
    assert find_command("EXPANDED") is None
    assert find_command("? copy")[0].name == "HELP"
    assert starts_special("USE ks") is None and starts_special("EXPAND") is not None


# Each expected line below is what the real cqlsh 6.2 printed for the same script run with -f
# against a cqlpy-server (tests/shell/test_cqlsh_compat.py checks whole golden scripts that way).
CQLSH_NUMBERED = (
    "-- comment line 1\n"
    "SELECT * FROM\n  nosuch.t\n  WHERE k = 1;\n"        # lines 2-4 -> 5
    "SELECT * FROM nosuch.u;\n"                            # line 5 -> 6
    "\n"
    "SELECT *\nFROM nosuch.v; SELECT * FROM nosuch.w;\n"  # both completed on line 8 -> 9, 9
    "CONSISTENCY BOGUS\n"                                  # special command, line 9 -> 10
    "/* a\nb */ SELECT * FROM nosuch.x; SELECT *\n"        # lines 10-11: waits for line 12 -> 13
    "FROM nosuch.y;\n"                                     # line 12 -> 13
    "SELECT * FROM nosuch.z"                                # line 13, no ';': incomplete -> 14
)


def test_error_lines_are_the_ones_cqlsh_prints():
    pieces = split_input(CQLSH_NUMBERED)
    assert [(p.line, p.end_line) for p in pieces] == [(2, 4), (5, 5), (7, 8), (8, 8), (9, 9), (11, 11),
                                                      (11, 12), (13, 13)]
    assert line_count(CQLSH_NUMBERED) == 13
    assert execution_lines(pieces, 13) == [5, 6, 9, 9, 10, 13, 13, 14]
    assert execution_lines(split_input("SELECT 1;\n\n"), 2) == [2]
    assert line_count("a\n") == 1 and line_count("") == 0


def test_script_errors_carry_cqlsh_line_numbers(tmp_path):
    import io
    from cqlpy_shell.runner import Shell
    session = cqlpy.connect(str(tmp_path / "db"))
    try:
        shell = Shell(session, stdout=io.StringIO(), stderr=io.StringIO())
        assert not shell.run_text(CQLSH_NUMBERED, "t.cql")
        lines = [line.split(":")[1] for line in shell.stderr.getvalue().splitlines() if line.startswith("t.cql:")]
        assert lines == ["5", "6", "9", "9", "10", "13", "13", "14"]
        shell.stderr.truncate(0)
        shell.stderr.seek(0)
        shell.run_text("SELECT * FROM nosuch.a;\nSELECT * FROM nosuch.b;", "<stdin>", one_line=True)
        assert [line[:9] for line in shell.stderr.getvalue().splitlines()] == ["<stdin>:1"] * 2
    finally:
        session.close()
