"""Cutting shell input (typed, pasted, -e, -f, stdin, SOURCE) into the statements to run, in order.

CQL statements end at ``;`` as cqlpy.language cuts them (strings, comments, ``$$`` bodies and
``BEGIN BATCH ... APPLY BATCH`` respected).  A statement that starts with a special command (EXPAND,
CONSISTENCY, ...) ends at the end of its line or at a ``;``, as in cqlsh; USE and EXPLAIN are CQL
and end at ``;``.  Each piece keeps the 1-based line it starts on, for ``file:LINE:`` messages.
"""
from __future__ import annotations

from typing import NamedTuple

from cqlpy.language.statements import split_script

from .special import starts_special


class Piece(NamedTuple):
    text: str            # without the terminating ';'
    line: int            # 1-based line of its first character
    terminated: bool     # ended by ';' (CQL) or by its newline (special command)
    special: bool        # starts with a special command


def split_input(text: str, first_line: int = 1) -> list[Piece]:
    """The statements of ``text`` in order (see the module documentation)."""
    pieces: list[Piece] = []
    for statement in split_script(text):
        line = statement.line + first_line - 1
        if starts_special(statement.text) is not None:
            body = statement.text
            newline = body.find("\n")
            if newline < 0:
                pieces.append(Piece(body.rstrip(), line, True, True))
                continue
            pieces.append(Piece(body[:newline].rstrip(), line, True, True))
            rest_offset = statement.start + newline + 1
            rest = text[rest_offset:statement.end]
            if statement.terminated:
                rest += ";"
            inner_line = line + 1
            for inner in split_input(rest, inner_line):
                pieces.append(inner)
            continue
        pieces.append(Piece(statement.text, line, statement.terminated, False))
    return pieces


def input_complete(text: str) -> bool:
    """Whether Enter should run ``text``: it holds nothing to run, or its last statement is complete
    (a CQL statement with its ``;``, or a special command, which ends at the end of the line)."""
    import cqlpy
    if cqlpy.is_complete(text):
        return True
    pieces = split_input(text)
    if not pieces:
        return True
    last = pieces[-1]
    return last.special
