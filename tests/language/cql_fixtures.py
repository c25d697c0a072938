"""Loads the language fixture files (tests/fixtures/language/*.cql) for the parser tests."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "language"


class Case(NamedTuple):
    line: int           # line of the input in the fixture file
    text: str           # the input ("\n" sequences already turned into line breaks for errors.cql)
    expected: str       # canonical text (normalize.cql) or expected error (errors.cql); "" otherwise


def _lines(name: str):
    """(line number, line) without comment lines ("--...") and empty lines ("" exactly: an input made
    of spaces is kept)."""
    for number, line in enumerate((FIXTURES / name).read_text(encoding="utf-8").splitlines(), 1):
        if line and not line.startswith("--"):
            yield number, line


def identity_cases() -> list[Case]:
    """identity.cql: one canonical statement per line."""
    return [Case(n, line, "") for n, line in _lines("identity.cql") if line.strip()]


def _pairs(name: str, marker: str, unescape: bool) -> list[Case]:
    cases, pending = [], None
    for number, line in _lines(name):
        if line.startswith(marker):
            assert pending is not None, f"{name}:{number}: {marker!r} line without an input line"
            text = pending[1].replace("\\n", "\n") if unescape else pending[1]
            cases.append(Case(pending[0], text, line[len(marker):]))
            pending = None
        else:
            assert pending is None, f"{name}:{pending[0]}: input without a {marker!r} line"
            pending = (number, line)
    assert pending is None, f"{name}: last input has no {marker!r} line"
    return cases


def normalize_cases() -> list[Case]:
    """normalize.cql: a non-canonical input line, then "=> canonical"."""
    return _pairs("normalize.cql", "=> ", unescape=False)


def error_cases() -> list[Case]:
    """errors.cql: a broken input line ("\\n" for line breaks), then "!! Class [line:col] message"."""
    return _pairs("errors.cql", "!! ", unescape=True)
