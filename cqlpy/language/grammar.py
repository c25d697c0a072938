"""Finds grammar/cql.lark (shipped in the wheel as cqlpy._grammar) and derives the keyword tables
from it, so that the grammar file stays the single source of truth for syntax."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

GRAMMAR_FILE = "cql.lark"

_DECLARATION = re.compile(r"^%declare\s+(.*)$", re.MULTILINE)
_RULE_START = re.compile(r"^[?!]?([a-z_][a-z0-9_]*)(?:\.\d+)?\s*:", re.MULTILINE)
_SYMBOL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\b")


@lru_cache(maxsize=None)
def grammar_text() -> str:
    """The text of cql.lark: from the installed cqlpy._grammar package, else from the source tree."""
    try:
        from importlib.resources import files
        return (files("cqlpy._grammar") / GRAMMAR_FILE).read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, OSError, TypeError):
        pass
    source = Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_FILE
    return source.read_text(encoding="utf-8")


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("//", 1)[0] if not line.lstrip().startswith("/") else ""
                     for line in text.splitlines())


@lru_cache(maxsize=None)
def keyword_terminals() -> dict[str, str]:
    """Keyword terminal name -> keyword text, e.g. ``{'K_SELECT': 'select', ...}`` (the grammar
    declares K_<WORD> for the case-insensitive word <word>)."""
    names = " ".join(_DECLARATION.findall(grammar_text())).split()
    return {name: name[2:].lower() for name in names if name.startswith("K_")}


@lru_cache(maxsize=None)
def _rule_bodies() -> dict[str, str]:
    text = _strip_comments(grammar_text())
    starts = list(_RULE_START.finditer(text))
    bodies: dict[str, str] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.end():end]
        # a rule ends where the next terminal definition (an upper-case name at column 0) begins
        body = re.split(r"^[A-Z_][A-Z0-9_.]*\s*:", body, maxsplit=1, flags=re.MULTILINE)[0]
        bodies[match.group(1)] = bodies.get(match.group(1), "") + body
    return bodies


@lru_cache(maxsize=None)
def keywords_of(rule: str) -> frozenset[str]:
    """Texts of the keywords a rule accepts as a single token, following inlined sub-rules, e.g.
    ``keywords_of('unreserved_keyword')``."""
    bodies = _rule_bodies()
    terminals = keyword_terminals()
    found: set[str] = set()
    seen: set[str] = set()
    pending = [rule]
    while pending:
        name = pending.pop()
        if name in seen or name not in bodies:
            continue
        seen.add(name)
        for symbol in _SYMBOL.findall(bodies[name]):
            if symbol in terminals:
                found.add(terminals[symbol])
            elif symbol in bodies:
                pending.append(symbol)
    return frozenset(found)


@lru_cache(maxsize=None)
def reserved_keywords() -> frozenset[str]:
    """Keywords that cannot be unquoted identifiers (lower case)."""
    return frozenset(keyword_terminals().values()) - keywords_of("unreserved_keyword")


@lru_cache(maxsize=None)
def unreserved_keywords() -> frozenset[str]:
    return keywords_of("unreserved_keyword")
