"""Cutting shell input (typed, pasted, -e, -f, stdin, SOURCE) into the statements to run, in order.

CQL statements end at ``;`` as cqlpy.language cuts them (strings, comments, ``$$`` bodies and
``BEGIN BATCH ... APPLY BATCH`` respected).  A statement that starts with a special command (EXPAND,
CONSISTENCY, ...) ends at the end of its line or at a ``;``, as in cqlsh; USE and EXPLAIN are CQL
and end at ``;``.  Each piece keeps the 1-based lines it starts and ends on.

``execution_lines`` gives the line cqlsh names in ``file.cql:LINE:`` messages.  cqlsh reads a script
line by line, counting lines read from 1 up (so the counter is one past the line just read), and
runs what it has buffered once the buffer ends with a complete statement; every statement of that
buffer is reported with the counter at that moment: the line after the one that completed the
buffer.  A statement spanning lines 2-4 is reported as line 5, two statements completed on line 7
as line 8 each, and an incomplete statement at the end of the file as the line after the last one.
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
    end_line: int = 0    # 1-based line of its terminator (';' or the special command's newline)


def split_input(text: str, first_line: int = 1) -> list[Piece]:
    """The statements of ``text`` in order (see the module documentation)."""
    pieces: list[Piece] = []
    for statement in split_script(text):
        line = statement.line + first_line - 1
        if starts_special(statement.text) is not None:
            body = statement.text
            newline = body.find("\n")
            if newline < 0:
                pieces.append(Piece(body.rstrip(), line, True, True, line))
                continue
            pieces.append(Piece(body[:newline].rstrip(), line, True, True, line))
            rest_offset = statement.start + newline + 1
            rest = text[rest_offset:statement.end]
            if statement.terminated:
                rest += ";"
            inner_line = line + 1
            for inner in split_input(rest, inner_line):
                pieces.append(inner)
            continue
        pieces.append(Piece(statement.text, line, statement.terminated, False,
                            _end_line(text, statement, line)))
    return pieces


def _end_line(text: str, statement, line: int) -> int:
    """The line of a statement's terminating ';' (its last line when it has none)."""
    end = statement.end
    if statement.terminated:
        end = text.find(";", end)              # only white space lies between the body and its ';'
        end = statement.end if end < 0 else end
    return line + text.count("\n", statement.start, end)


def line_count(text: str) -> int:
    """How many lines a line-by-line reader reads from ``text`` (a last line without its newline
    counts)."""
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def execution_lines(pieces: list[Piece], total_lines: int) -> list[int]:
    """For each piece, the line cqlsh reports its errors on (see the module documentation); for an
    unterminated last piece, the line after the last one (``total_lines + 1``)."""
    lines = []
    for i, piece in enumerate(pieces):
        if not piece.terminated:
            lines.append(total_lines + 1)
            continue
        completed = piece.end_line
        j = i + 1
        while j < len(pieces) and pieces[j].line <= completed:
            if not pieces[j].terminated:
                completed = total_lines
                break
            completed = max(completed, pieces[j].end_line)
            j += 1
        lines.append(completed + 1)
    return lines


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
