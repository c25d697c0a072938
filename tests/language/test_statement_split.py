"""Lexical statement splitting for scripts and the shell: split_statements, split_script,
split_statements_with_lines, is_complete."""
import pytest

import cqlpy
from cqlpy.language.statements import split_script, split_statements, split_statements_with_lines


def test_split_simple_script():
    assert split_statements("USE ks; SELECT * FROM t;\nINSERT INTO t (k) VALUES (1)") == [
        "USE ks", "SELECT * FROM t", "INSERT INTO t (k) VALUES (1)"]


def test_split_drops_empty_statements_and_leading_comments():
    text = "-- header\n;;\n/* block */ SELECT 1 FROM t ; ; // trailing\n"
    assert split_statements(text) == ["SELECT 1 FROM t"]


def test_split_keeps_comments_inside_a_statement():
    assert split_statements("SELECT a -- first\n, b FROM t;") == ["SELECT a -- first\n, b FROM t"]


@pytest.mark.parametrize("text, expected", [
    ("INSERT INTO t (v) VALUES ('a;b'); SELECT 1 FROM t", ["INSERT INTO t (v) VALUES ('a;b')", "SELECT 1 FROM t"]),
    ("INSERT INTO t (v) VALUES ('it''s;'); X", ["INSERT INTO t (v) VALUES ('it''s;')", "X"]),
    ('SELECT "a;b" FROM t; X', ['SELECT "a;b" FROM t', "X"]),
    ("SELECT $$a;'b$$ FROM t; X", ["SELECT $$a;'b$$ FROM t", "X"]),
    ("SELECT 1 -- ; not here\nFROM t; X", ["SELECT 1 -- ; not here\nFROM t", "X"]),
    ("SELECT 1 // ; not here\nFROM t; X", ["SELECT 1 // ; not here\nFROM t", "X"]),
    ("SELECT 1 /* ; */ FROM t; X", ["SELECT 1 /* ; */ FROM t", "X"]),
])
def test_split_respects_strings_names_and_comments(text, expected):
    assert split_statements(text) == expected


def test_split_keeps_a_batch_whole():
    text = ("BEGIN BATCH\n  INSERT INTO t (k) VALUES (1);\n  UPDATE t SET v = 2 WHERE k = 1;\nAPPLY BATCH;\n"
            "begin unlogged batch insert into t (k) values (2); apply batch;\n"
            "EXPLAIN BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH;\n"
            "SELECT * FROM t")
    parts = split_statements(text)
    assert len(parts) == 4
    assert parts[0].startswith("BEGIN BATCH") and parts[0].endswith("APPLY BATCH")
    assert [type(cqlpy.parse_one(p)).__name__ for p in parts] == ["Batch", "Batch", "Explain", "Select"]


def test_only_a_real_batch_opening_holds_semicolons_back():
    assert split_statements("BEGIN; SELECT 1 FROM t; begin counter; x") == [
        "BEGIN", "SELECT 1 FROM t", "begin counter", "x"]
    assert split_statements("BEGIN BATCH APPLY BATCH; BEGIN BATCH; x; APPLY BATCH") == [
        "BEGIN BATCH APPLY BATCH", "BEGIN BATCH; x; APPLY BATCH"]


def test_split_does_not_need_valid_cql():
    assert split_statements("this is ; not cql ; at all (") == ["this is", "not cql", "at all ("]


def test_split_returns_an_unterminated_last_statement():
    assert split_statements("SELECT 1 FROM t; SELECT 2") == ["SELECT 1 FROM t", "SELECT 2"]
    assert split_statements("SELECT 'open") == ["SELECT 'open"]


def test_line_numbers_are_recoverable():
    text = "USE ks;\n\n-- comment\nSELECT *\n  FROM t;\n  INSERT INTO t (k)\n VALUES (1); DROP TABLE t"
    assert split_statements_with_lines(text) == [
        ("USE ks", 1), ("SELECT *\n  FROM t", 4), ("INSERT INTO t (k)\n VALUES (1)", 6), ("DROP TABLE t", 7)]
    parts = split_script(text)
    assert [(p.line, p.column) for p in parts] == [(1, 1), (4, 1), (6, 3), (7, 14)]
    assert all(text[p.start:p.end] == p.text for p in parts)
    assert [p.terminated for p in parts] == [True, True, True, False]


def test_split_matches_the_parser_on_the_identity_fixture():
    from cql_fixtures import identity_cases
    texts = [case.text for case in identity_cases()]
    assert split_statements(";\n".join(texts) + ";") == texts


@pytest.mark.parametrize("text", [
    "", "   ", "\n\n", "-- just a comment", "/* closed */", "// note\n",
    "SELECT * FROM t;", "SELECT * FROM t;   ", "SELECT * FROM t; -- trailing comment",
    "SELECT * FROM t;\n", "USE ks; SELECT * FROM t;",
    "INSERT INTO t (v) VALUES ('a;b');",
    "BEGIN BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH;",
    "BEGIN BATCH\nINSERT INTO t (k) VALUES (1);\nUPDATE t SET v = 1 WHERE k = 1;\nAPPLY BATCH;",
    "SELECT $$;$$ FROM t;", ";",
])
def test_complete(text):
    assert cqlpy.is_complete(text)


@pytest.mark.parametrize("text", [
    "SELECT * FROM t", "SELECT * FROM t -- no semicolon yet", "USE ks; SELECT * FROM t",
    "INSERT INTO t (v) VALUES ('a;", "SELECT 'open; string;", 'SELECT "open name;', "SELECT $$ body;",
    "SELECT * /* open comment;", "SELECT * /* open */ /* again;",
    "BEGIN BATCH INSERT INTO t (k) VALUES (1);",
    "BEGIN BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH",
    "BEGIN UNLOGGED BATCH\nINSERT INTO t (k) VALUES (1);\nAPPLY",
    "SELECT 1 FROM t; BEGIN BATCH",
])
def test_incomplete(text):
    assert not cqlpy.is_complete(text)


def test_is_complete_for_shell_input_growing_line_by_line():
    lines = ["BEGIN BATCH", "  INSERT INTO t (k) VALUES (1);", "  UPDATE t SET v = 1 WHERE k = 1;",
             "APPLY BATCH;"]
    buffer = ""
    states = []
    for line in lines:
        buffer += line + "\n"
        states.append(cqlpy.is_complete(buffer))
    assert states == [False, False, False, True]
