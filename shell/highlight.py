"""Syntax highlighting from the grammar's own terminals (grammar/cql.lark), as a pure function and as a
prompt_toolkit Lexer.

``highlight(text) -> [(style class, text)]`` covers every character of ``text`` (nothing is lost,
so the fragments re-join to the input); unknown characters and unterminated strings keep going as
plain or string text, since the user is still typing.  Keywords come from the grammar's K_ terminals
plus the special-command names; the first syntax error of a complete statement can be underlined
(``error_span``).
"""
from __future__ import annotations

import re
from functools import lru_cache

from cqlpy.language.grammar import keyword_terminals

from .grammar_facts import grammar_facts
from .special import commands

_CLASSES = {
    "STRING_LITERAL": "class:string", "INTEGER": "class:number", "FLOAT": "class:number",
    "UUID": "class:number", "HEXNUMBER": "class:number", "DURATION": "class:number",
    "QUOTED_NAME": "class:name", "IDENT": "class:name",
}


@lru_cache(maxsize=None)
def _scanner() -> re.Pattern:
    """One regex with a group per grammar terminal (highest priority first), plus comments, space and
    the unfinished forms (an open string, quoted name or comment) a user is in the middle of."""
    facts = grammar_facts()
    parts = [("COMMENT", r"(?:--|//)[^\n]*|/\*[\s\S]*?(?:\*/|\Z)"), ("SPACE", r"\s+"),
             ("OPEN_STRING", r"'(?:[^']|'')*\Z|\$\$[\s\S]*\Z"), ("OPEN_NAME", r'"(?:[^"]|"")*\Z')]
    terminals = sorted((t for t in facts.lark.terminals if t.name not in ("WHITESPACE", "LINE_COMMENT",
                                                                          "BLOCK_COMMENT")),
                       key=lambda t: (-t.priority, -t.pattern.max_width if hasattr(t.pattern, "max_width") else 0))
    for terminal in terminals:
        parts.append((terminal.name, terminal.pattern.to_regexp()))
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in parts))


@lru_cache(maxsize=None)
def _keywords() -> frozenset[str]:
    words = set(keyword_terminals().values())
    for command in commands():
        words.update(part.lower() for part in command.name.split())
        words.update(alias.lower() for alias in command.aliases)
    return frozenset(words)


def highlight(text: str) -> list[tuple[str, str]]:
    """(style class, text) fragments covering ``text``."""
    scanner = _scanner()
    keywords = _keywords()
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = scanner.match(text, pos)
        if match is None or match.end() == pos:
            out.append(("", text[pos]))
            pos += 1
            continue
        kind, value = match.lastgroup, match.group()
        if kind == "IDENT" and value.lower() in keywords:
            style = "class:keyword"
        elif kind in ("COMMENT",):
            style = "class:comment"
        elif kind in ("OPEN_STRING",):
            style = "class:string"
        elif kind in ("OPEN_NAME",):
            style = "class:name"
        elif kind == "SPACE":
            style = ""
        else:
            style = _CLASSES.get(kind, "class:operator")
        out.append((style, value))
        pos = match.end()
    return out


def error_span(text: str) -> tuple[int, int] | None:
    """(line, column), 1-based, of the first syntax error in complete CQL ``text``, or None."""
    import cqlpy
    from cqlpy.errors import CQLError
    try:
        cqlpy.parse(text)
    except CQLError as error:
        line, column = getattr(error, "line", None), getattr(error, "column", None)
        if line and column:
            return line, column
    except Exception:       # noqa: BLE001 - highlighting never fails
        return None
    return None


def _complete_cql_error(text: str) -> tuple[int, int] | None:
    """The error position of input that is ready to run and is only CQL (special commands have
    their own syntax)."""
    from .script import split_input
    import cqlpy
    if not text.strip() or not cqlpy.is_complete(text):
        return None
    pieces = split_input(text)
    if not pieces or any(p.special for p in pieces):
        return None
    return error_span(text)


def mark_error(fragments: list[tuple[str, str]], column: int) -> list[tuple[str, str]]:
    """One line's fragments with the token at 1-based ``column`` marked ``class:error``."""
    out: list[tuple[str, str]] = []
    position = 1
    for style, value in fragments:
        end = position + len(value)
        if position <= column < end:
            split = column - position
            if value[:split]:
                out.append((style, value[:split]))
            out.append(((style + " class:error").strip(), value[split:]))
        else:
            out.append((style, value))
        position = end
    return out


def lexer():
    """A prompt_toolkit Lexer over ``highlight``."""
    from prompt_toolkit.lexers import Lexer

    class CqlLexer(Lexer):
        def lex_document(self, document):
            lines: list[list[tuple[str, str]]] = [[]]
            for style, value in highlight(document.text):
                pieces = value.split("\n")
                for i, piece in enumerate(pieces):
                    if i:
                        lines.append([])
                    if piece:
                        lines[-1].append((style, piece))

            span = _complete_cql_error(document.text)
            if span is not None and span[0] - 1 < len(lines):
                lines[span[0] - 1] = mark_error(lines[span[0] - 1], span[1])

            def get_line(number: int):
                return lines[number] if number < len(lines) else []
            return get_line

    return CqlLexer()


STYLE = {
    "keyword": "bold ansiblue", "string": "ansiyellow", "number": "ansigreen", "name": "",
    "comment": "italic ansibrightblack", "operator": "", "bottom-toolbar": "noreverse bg:ansiblack ansiwhite",
    "continuation": "ansibrightblack", "error": "underline ansired",
}
