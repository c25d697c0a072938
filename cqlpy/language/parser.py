"""Text → AST: a Lark LALR(1) parser over grammar/cql.lark, built once per process.

``parse(text)`` returns every statement of a script; ``parse_one(text)`` exactly one statement (a
trailing ``;`` is optional).  Any text either parses or raises a CQLError: SyntaxException for text
that is not CQL (with 1-based line and column), InvalidRequest for the few semantic errors Cassandra
raises while parsing (two PRIMARY KEY definitions, duplicate columns...).
"""
from __future__ import annotations

import threading

from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedInput

from ..errors import CQLError, SyntaxException
from .ast import Statement
from .builder import TRANSFORMER, begin, close_bracket, open_bracket
from .diagnostics import from_lark
from .grammar import grammar_text, keyword_terminals
from .parser_cache import load_or_build

_OPENING = ("LPAR", "LSQB", "LBRACE")
_CLOSING = ("RPAR", "RSQB", "RBRACE")


_KEYWORDS = {text: name for name, text in keyword_terminals().items()}


def _retype_keyword(token: Token, _keywords=_KEYWORDS) -> Token:
    """Lexer callback for IDENT: a word that is a keyword becomes that keyword's terminal."""
    kind = _keywords.get(token.value.lower())
    if kind is not None:
        token.type = kind
    return token


_lark: Lark | None = None
_lock = threading.Lock()


def _runtime_options() -> dict:
    """The options that are code, not grammar: given again when the analysed grammar is loaded."""
    return dict(transformer=TRANSFORMER,
                lexer_callbacks={"IDENT": _retype_keyword,
                                 **{name: open_bracket for name in _OPENING},
                                 **{name: close_bracket for name in _CLOSING}})


def build_parser(**options) -> Lark:
    """A new Lark parser for cql.lark with cqlpy's AST builder (``options`` override Lark's, for tests)."""
    settings = dict(parser="lalr", lexer="basic", start=["script", "single"], keep_all_tokens=True,
                    maybe_placeholders=True, **_runtime_options())
    settings.update(options)
    return Lark(grammar_text(), **settings)


def lark_parser() -> Lark:
    """The process-wide parser, built on first use."""
    global _lark
    if _lark is None:
        with _lock:
            if _lark is None:
                _lark = load_or_build(grammar_text(), build_parser, **_runtime_options())
    return _lark


def parse(text: str) -> list[Statement]:
    """Every statement of ``text`` (separated by ``;``), in order; [] for a text without statements."""
    return _parse(text, "script")


def parse_one(text: str) -> Statement:
    """The single statement of ``text``; SyntaxException if there is none or more than one."""
    return _parse(text, "single")


def _parse(text: str, start: str):
    if not isinstance(text, str):
        raise TypeError(f"CQL text must be a str, not {type(text).__name__}")
    parser = lark_parser()
    begin(text)
    try:
        return parser.parse(text, start=start)
    except CQLError:
        raise
    except UnexpectedInput as error:
        raise from_lark(error, text) from None
    except RecursionError:
        raise SyntaxException("statement too deeply nested") from None
    except LarkError as error:
        raise SyntaxException(f"syntax error: {error}") from None
    except Exception as error:          # a bug in the builder must still surface as a CQL error
        raise SyntaxException(f"internal parser error ({type(error).__name__}: {error})") from error
    finally:
        begin("")                       # do not keep the text alive until the next parse
