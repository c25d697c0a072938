"""Highlighting from the grammar's tokens, and history entries (one per statement, no passwords)."""
from __future__ import annotations

from cqlpy_shell.highlight import error_span, highlight
from cqlpy_shell.repl import history_entries, prompt_text, toolbar_text
from cqlpy_shell.runner import Shell


def styles(text):
    return [(style, value) for style, value in highlight(text) if style]


def test_fragments_cover_the_text():
    for text in ["SELECT * FROM t WHERE k = 'a''b' -- c\n AND x = 1.5e3;", "CONSISTENCY ONE 'open",
                 "/* open comment", "x = $$a;b$$ AND \"Quoted\"\"Name\" = 0xff", "€ ~ @"]:
        assert "".join(value for _, value in highlight(text)) == text


def test_token_classes():
    got = styles("SELECT name FROM t WHERE k = 'x' AND n = 12 -- note")
    assert ("class:keyword", "SELECT") in got and ("class:keyword", "WHERE") in got
    assert ("class:name", "name") in got and ("class:string", "'x'") in got
    assert ("class:number", "12") in got and ("class:comment", "-- note") in got
    assert ("class:keyword", "EXPAND") in styles("EXPAND ON")
    assert ("class:string", "'unterminated") in styles("SELECT 'unterminated")


def test_error_span():
    assert error_span("SELECT * frm t;") == (1, 10)
    assert error_span("SELECT * FROM t;") is None


def test_history_entries():
    assert history_entries("SELECT 1 FROM t; EXPAND ON\nSELECT 2\n FROM t;") == \
        ["SELECT 1 FROM t;", "EXPAND ON", "SELECT 2\n FROM t;"]
    assert history_entries("CREATE ROLE r WITH PASSWORD = 'x'; USE ks;") == ["USE ks;"]
    assert history_entries("ALTER USER u WITH password 'x';") == []


def test_prompt_and_toolbar():
    shell = Shell(None)
    assert prompt_text(shell) == "cqlpy> "
    text = toolbar_text(shell)
    for part in ("keyspace: -", "consistency: ONE", "paging: ON (100)", "expand: OFF", "tracing: OFF"):
        assert part in text


def test_the_offending_token_of_a_complete_statement_is_marked():
    from prompt_toolkit.document import Document
    from cqlpy_shell.highlight import lexer
    get_line = lexer().lex_document(Document("SELECT *\n  frm t;"))
    assert ("class:name class:error", "frm") in get_line(1)
    clean = lexer().lex_document(Document("SELECT * FROM t;"))
    assert not any("error" in style for style, _ in clean(0))
    typing = lexer().lex_document(Document("SELECT * frm t"))       # not complete yet: no mark
    assert not any("error" in style for style, _ in typing(0))
