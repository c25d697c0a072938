"""Syntax error messages: Cassandra's wording, 1-based positions, the source line with a caret,
readable and capped expected-token lists, and robustness on deep or enormous input."""
import re
import time

import pytest

import cqlpy
from cqlpy import errors
from cqlpy.language.builder import MAX_NESTING
from cqlpy.language.diagnostics import MAX_EXPECTED


def error_of(text):
    with pytest.raises(errors.CQLError) as raised:
        cqlpy.parse(text)
    return raised.value


def test_the_example_message_exactly():
    error = error_of("SELECT * frm t")
    assert str(error) == "line 1:10 mismatched input 'frm' expecting FROM\nSELECT * frm t\n         ^"
    assert (error.line, error.column) == (1, 10)
    assert isinstance(error, errors.SyntaxException) and error.code == 0x2000


def test_unexpected_end_of_input_is_named_and_points_after_the_last_token():
    error = error_of("SELECT * FROM   ")
    assert str(error).startswith("line 1:14 unexpected end of input, expecting identifier")
    assert str(error).endswith("\nSELECT * FROM   \n             ^")


def test_position_in_a_multi_line_script():
    error = error_of("USE ks;\nSELECT *\n  FROM t\n WHERE k = = 1;")
    assert (error.line, error.column) == (4, 12)
    message, source, caret = str(error).split("\n")
    assert message.startswith("line 4:12 mismatched input '='")
    assert source == " WHERE k = = 1;" and caret == " " * 11 + "^"


BROKEN = [
    "SELECT", "SELECT *", "SELECT * FROM t WHERE", "SELECT * FROM t WHERE k", "SELECT * FROM t WHERE k IN",
    "SELECT * FROM t WHERE k IN (", "SELECT (", "SELECT a,", "SELECT count(", "INSERT", "INSERT INTO t (",
    "INSERT INTO t (k) VALUES", "INSERT INTO t (k) VALUES (", "UPDATE t SET", "UPDATE t SET m[",
    "DELETE", "DELETE FROM", "CREATE", "CREATE TABLE t (", "CREATE TABLE t (k", "CREATE TABLE t (k map<",
    "CREATE TABLE t (k int) WITH", "ALTER TABLE t", "ALTER", "DROP", "BEGIN", "BEGIN BATCH",
    "DESCRIBE", "USE", "x", "(", ")", "'", "?", "SELECT * FROM t WHERE k = {", "SELECT * FROM t WHERE k = [1,",
    "CREATE KEYSPACE k WITH replication = {", "LIST", "CREATE ROLE r WITH", "EXPLAIN",
]


@pytest.mark.parametrize("text", BROKEN)
def test_messages_never_show_parser_internals(text):
    message = str(error_of(text))
    first = message.split("\n")[0]
    assert re.match(r"line \d+:\d+ ", first), first
    for internal in ("__ANON", "K_", "$END", "LPAR", "RPAR", "LSQB", "Token(", "RULE", "IDENT",
                     "QUOTED_NAME", "STRING_LITERAL", "Traceback"):
        assert internal not in message, first
    if "one of" in first:
        listed = first.split("one of ", 1)[1].split(", ")
        assert len(listed) <= MAX_EXPECTED + 1
        assert listed[-1] == "..." or len(listed) <= MAX_EXPECTED


def test_identifier_stands_for_every_name_like_token():
    first = str(error_of("CREATE TABLE t (")).split("\n")[0]
    assert first == "line 1:17 unexpected end of input, expecting one of identifier, PRIMARY"


def test_long_lines_are_cut_around_the_error():
    text = "SELECT " + ", ".join(f"column_{i}" for i in range(100)) + " FORM t"
    message, source, caret = str(error_of(text)).split("\n")
    assert len(source) <= 110 and "FORM" in source
    assert source[len(caret) - 1:].startswith("FORM")


def test_tabs_keep_the_caret_aligned():
    message, source, caret = str(error_of("SELECT\t*\tfrm t")).split("\n")
    assert source[len(caret) - 1:].startswith("frm")


def test_unprintable_characters_are_escaped():
    error = error_of("SELECT * FROM t WHERE k = \x00")
    assert "token recognition error at: '\\x00'" in str(error)


def test_semantic_errors_raised_while_parsing_carry_positions():
    error = error_of("UPDATE t SET a = 1,\n  a = 2 WHERE k = 1")
    assert isinstance(error, errors.SyntaxException) and (error.line, error.column) == (2, 3)
    assert isinstance(error_of("CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)"), errors.InvalidRequest)


def test_nesting_up_to_the_limit_is_fine_and_beyond_is_a_syntax_error():
    deep = "(" * MAX_NESTING + "1" + ")" * MAX_NESTING
    assert cqlpy.parse_one(f"SELECT * FROM t WHERE k = {deep}")
    too_deep = "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
    error = error_of(f"SELECT * FROM t WHERE k = {too_deep}")
    assert "too deeply nested" in str(error) and error.column == 27 + MAX_NESTING


def test_deeply_nested_types_are_refused():
    ok = "frozen<list<" * (MAX_NESTING // 2 - 1) + "int" + ">>" * (MAX_NESTING // 2 - 1)
    assert cqlpy.parse_one(f"CREATE TABLE t (k int PRIMARY KEY, v {ok})")
    deep = "list<" * (MAX_NESTING + 5) + "int" + ">" * (MAX_NESTING + 5)
    assert "too deeply nested" in str(error_of(f"CREATE TABLE t (k int PRIMARY KEY, v {deep})"))


@pytest.mark.parametrize("opening, closing", [("(", ")"), ("[", "]"), ("{", "}")])
def test_pathological_nesting_never_overflows_the_stack(opening, closing):
    text = "SELECT * FROM t WHERE k = " + opening * 50_000 + closing * 50_000
    assert isinstance(error_of(text), errors.SyntaxException)


def test_enormous_inputs():
    started = time.perf_counter()
    big_string = "x" * 5_000_000
    statement = cqlpy.parse_one(f"INSERT INTO t (k, v) VALUES (1, '{big_string}')")
    assert len(statement.values[1].text) == 5_000_000
    script = "INSERT INTO t (k, v) VALUES (1, 'x');\n" * 3000
    assert len(cqlpy.parse(script)) == 3000
    error = error_of(script + "INSERT INTO t (k, v) VALUES (1, 'x'")
    assert (error.line, error.column) == (3001, 36)
    assert time.perf_counter() - started < 15
