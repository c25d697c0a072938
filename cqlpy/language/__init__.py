"""The CQL language layer: text ⇄ AST.

``parse``/``parse_one`` turn CQL text into AST nodes (cqlpy.language.ast), ``Node.to_cql()`` turns
them back into canonical CQL, ``split_statements``/``is_complete`` cut scripts and shell input into
statements without parsing them.  Imports only lark and cqlpy.errors, so it can be embedded alone.
"""
import sys as _sys

if "lark" not in _sys.modules and "regex" not in _sys.modules:
    # lark tries the optional third-party ``regex`` module at import (~7 ms) but cqlpy's grammar
    # needs only ``re``: hide it while lark is imported, so lark settles for ``re``.
    _sys.modules["regex"] = None            # type: ignore[assignment]
    try:
        import lark.lark                    # noqa: F401 - imports lark.utils too
    finally:
        if _sys.modules.get("regex", 0) is None:
            del _sys.modules["regex"]

from . import ast
from .parser import parse, parse_one
from .printer import to_cql
from .statements import (ScriptStatement, is_complete, split_script, split_statements,
                         split_statements_with_lines)

__all__ = ["ScriptStatement", "ast", "is_complete", "parse", "parse_one", "split_script", "split_statements",
           "split_statements_with_lines", "to_cql"]
