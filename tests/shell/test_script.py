"""Cutting input into statements: CQL ends at ';', special commands at the end of their line."""
from __future__ import annotations

import cqlpy

from cqlpy_shell.script import input_complete, split_input
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
