"""The AST builder: turns the parser's reductions straight into AST nodes (Lark inline transformer).

``TRANSFORMER`` has one callback per grammar rule or alias; see core.py for the conventions.
"""
from __future__ import annotations

from types import SimpleNamespace

from . import admin, modifications, queries, schema, terms  # noqa: F401  (they fill CALLBACKS)
from .core import CALLBACKS, MAX_NESTING, begin, close_bracket, open_bracket

TRANSFORMER = SimpleNamespace(**CALLBACKS)

__all__ = ["CALLBACKS", "MAX_NESTING", "TRANSFORMER", "begin", "close_bracket", "open_bracket"]
