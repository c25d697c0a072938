"""What every AST-builder callback shares: the per-parse state, source spans, and the registry that
maps grammar rule names to callbacks.

The parser keeps every token (``keep_all_tokens``) so that a callback can see where its rule started
and ended.  ``@rule`` callbacks receive the span and their meaningful children only: keyword and
punctuation tokens are dropped, identifiers arrive as plain ``str`` (the ident rules turn their token
into a NAME token whose ``value`` is the folded name).  ``@leaf`` callbacks receive the raw children
(tokens) and turn them into values.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from lark import Token

from ...errors import SyntaxException
from ..ast import Span
from ..diagnostics import syntax_error

NAME = "NAME"               # token type of a folded identifier produced by the ident rules
MAX_NESTING = 100           # brackets and type parameters deeper than this are a syntax error

CALLBACKS: dict[str, Callable[[list], Any]] = {}


class ParseState(threading.local):
    """Per-thread state of the parse in progress: its text, the next bind-marker index, and the
    bracket depth."""

    def __init__(self) -> None:
        self.text = ""
        self.markers = 0
        self.depth = 0


STATE = ParseState()


def begin(text: str) -> None:
    STATE.text = text
    STATE.markers = 0
    STATE.depth = 0


def next_marker_index() -> int:
    index = STATE.markers
    STATE.markers = index + 1
    return index


def end_statement() -> None:
    """Called between the statements of a script: bind markers are numbered per statement.  (The
    parser has reduced every rule of a statement before it shifts the ``;`` that ends it, and reduces
    the separator before any marker of the next statement.)"""
    STATE.markers = 0


def fail(message: str, span: Span | None) -> SyntaxException:
    """A SyntaxException at ``span`` of the text being parsed."""
    if span is None:
        return SyntaxException(message)
    return syntax_error(message, STATE.text, span.line, span.column)


def open_bracket(token: Token) -> Token:
    """Lexer callback for ( [ {: refuses nesting deeper than MAX_NESTING (deep ASTs would overflow
    the stack of the printer, of equality and of the planner)."""
    depth = STATE.depth + 1
    STATE.depth = depth
    if depth > MAX_NESTING:
        raise syntax_error(f"too deeply nested (more than {MAX_NESTING} levels of brackets)",
                           STATE.text, token.line, token.column)
    return token


def close_bracket(token: Token) -> Token:
    STATE.depth -= 1
    return token


# --- spans ---------------------------------------------------------------------------------------

def _start(child: Any):
    cls = child.__class__
    if cls is Token:
        return (child.line, child.column, child.start_pos)
    if cls is tuple:
        for item in child:
            found = _start(item)
            if found is not None:
                return found
        return None
    return getattr(child, "span", None) if cls is not str and child is not None else None


def _end(child: Any):
    cls = child.__class__
    if cls is Token:
        return child.end_pos
    if cls is tuple:
        for item in reversed(child):
            found = _end(item)
            if found is not None:
                return found
        return None
    span = getattr(child, "span", None) if cls is not str and child is not None else None
    return None if span is None else span.end


def span_of(children: list, _token=Token, _new=tuple.__new__, _span=Span) -> Span | None:
    """The span from the first to the last positioned child (fast path: a token at either end)."""
    if not children:
        return None
    first = children[0]
    if first.__class__ is _token:
        line, column, start = first.line, first.column, first.start_pos
    else:
        for child in children:
            found = _start(child)
            if found is not None:
                break
        else:
            return None
        line, column, start = found[0], found[1], found[2]
    last = children[-1]
    if last.__class__ is _token:
        return _new(_span, (line, column, start, last.end_pos))
    for child in reversed(children):
        end = _end(child)
        if end is not None:
            return _new(_span, (line, column, start, end))
    return None


def token_span(first: Token, last: Token | None = None) -> Span:
    last = first if last is None else last
    return tuple.__new__(Span, (first.line, first.column, first.start_pos, last.end_pos))


# --- registration --------------------------------------------------------------------------------

def rule(*names: str, spans: bool = True):
    """Register ``fn(span, *children)`` as the callback of the rules or aliases ``names`` (default:
    the function's name).  ``spans=False`` is for rules whose result carries no span (sequences,
    flags): their callback receives None instead, which saves the computation."""
    def register(fn):
        def callback(children: list, _fn=fn, _token=Token, _name=NAME, _new=tuple.__new__, _span=Span):
            # Hot path (one call per reduction): keep meaningful children, compute the span inline.
            args = []
            for child in children:
                if child.__class__ is _token:
                    if child.type == _name:
                        args.append(child.value)
                else:
                    args.append(child)
            if children and children[0].__class__ is _token and children[-1].__class__ is _token:
                first, last = children[0], children[-1]
                span = _new(_span, (first.line, first.column, first.start_pos, last.end_pos))
            else:
                span = span_of(children)
            return _fn(span, *args)

        def callback_without_span(children: list, _fn=fn, _token=Token, _name=NAME):
            args = []
            for child in children:
                if child.__class__ is _token:
                    if child.type == _name:
                        args.append(child.value)
                else:
                    args.append(child)
            return _fn(None, *args)

        for name in names or (fn.__name__,):
            CALLBACKS[name] = callback if spans else callback_without_span
        return fn
    return register


def leaf(*names: str):
    """Register ``fn(children)`` (raw tokens) as the callback of the rules or aliases ``names``."""
    def register(fn):
        for name in names or (fn.__name__,):
            CALLBACKS[name] = fn
        return fn
    return register
