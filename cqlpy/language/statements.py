"""Cutting scripts and shell input into statements without parsing them.

This is a lexical split: it needs no valid CQL, only the lexical structure.  A ``;`` ends a statement
unless it is inside a string (``'...'`` with ``''`` escapes, or ``$$...$$``), a quoted name, a comment
(``--``, ``//`` to end of line, ``/* ... */``), or a ``BEGIN [UNLOGGED | COUNTER] BATCH`` that has not
reached ``APPLY BATCH`` yet.  Statement texts start at their first token (leading whitespace and
comments dropped) and end before their ``;`` (trailing whitespace dropped).

``is_complete(text)`` answers the shell's question "should Enter run this?":

* True when the text ends with a ``;`` that terminates a statement (only whitespace or comments may
  follow it): ``SELECT * FROM t;`` or ``BEGIN BATCH ...; APPLY BATCH;``;
* True when there is nothing to run: an empty or whitespace-only text, or only complete comments
  (so the shell shows a fresh prompt instead of a continuation prompt);
* False otherwise: a statement without its ``;`` (including a batch whose inner ``;`` are not the
  end), or an unterminated string, quoted name, ``$$`` body or ``/*`` comment.
"""
from __future__ import annotations

import re
from typing import NamedTuple

_TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<string>'[^']*+(?:''[^']*+)*+')
    | (?P<quoted>"[^"]*+(?:""[^"]*+)*+")
    | (?P<dollar>\$\$.*?\$\$)
    | (?P<line_comment>(?:--|//)[^\n]*)
    | (?P<block_comment>/\*.*?\*/)
    | (?P<open>'|"|\$\$|/\*)
    | (?P<semicolon>;)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


_BATCH_OPENINGS = (["begin", "batch"], ["begin", "unlogged", "batch"], ["begin", "counter", "batch"])


class ScriptStatement(NamedTuple):
    """One statement of a script: its text (without ``;``), the 1-based line and column of its first
    character, its [start, end) offsets in the script, and whether a ``;`` terminated it."""

    text: str
    line: int
    column: int
    start: int
    end: int
    terminated: bool


class _Scan(NamedTuple):
    statements: list[ScriptStatement]
    open: bool              # the text ends inside a string, quoted name, $$ body or block comment


def _scan(text: str) -> _Scan:
    statements: list[ScriptStatement] = []
    first = None            # offset of the current statement's first token
    words: list[str] = []   # the current statement's first words (up to four), lower case
    in_batch = False        # inside BEGIN ... BATCH, before APPLY BATCH
    previous_word = ""      # the word just before, for APPLY BATCH
    line, line_start, scanned = 1, 0, 0

    def position(offset: int) -> tuple[int, int]:
        nonlocal line, line_start, scanned
        newlines = text.count("\n", scanned, offset)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", scanned, offset) + 1
        scanned = offset
        return line, offset - line_start + 1

    def finish(end: int, terminated: bool) -> None:
        body = text[first:end].rstrip()
        at_line, at_column = position(first)
        statements.append(ScriptStatement(body, at_line, at_column, first, first + len(body), terminated))

    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("space", "line_comment", "block_comment"):
            continue
        if kind == "open":
            if first is None:
                first = match.start()
            finish(len(text), False)
            return _Scan(statements, True)
        if kind == "semicolon" and not in_batch:
            if first is not None:
                finish(match.start(), True)
            first, words, previous_word = None, [], ""
            continue
        if first is None:
            first = match.start()
        if kind == "word":
            word = match.group().lower()
            if len(words) < 4:
                words.append(word)
                if words[1 if words[0] == "explain" else 0:] in _BATCH_OPENINGS:
                    in_batch = True
            if in_batch and word == "batch" and previous_word == "apply":
                in_batch = False
            previous_word = word
        else:
            previous_word = ""
    if first is not None:
        finish(len(text), False)
    return _Scan(statements, False)


def split_script(text: str) -> list[ScriptStatement]:
    """Every statement of a script with its position (see ScriptStatement); the last one may lack its
    ``;`` (``terminated`` False)."""
    return _scan(text).statements


def split_statements(text: str) -> list[str]:
    """The statements of a script as texts without their ``;``, in order."""
    return [statement.text for statement in _scan(text).statements]


def split_statements_with_lines(text: str) -> list[tuple[str, int]]:
    """(statement text, 1-based line of its first character) for every statement of a script."""
    return [(statement.text, statement.line) for statement in _scan(text).statements]


def is_complete(text: str) -> bool:
    """Whether shell input is ready to run (see the module documentation)."""
    scan = _scan(text)
    if scan.open:
        return False
    return not scan.statements or scan.statements[-1].terminated
