"""The CQL language layer: text ⇄ AST.

``parse``/``parse_one`` turn CQL text into AST nodes (cqlpy.language.ast), ``Node.to_cql()`` turns
them back into canonical CQL, ``split_statements``/``is_complete`` cut scripts and shell input into
statements without parsing them.  Imports only lark and cqlpy.errors, so it can be embedded alone.
"""
from . import ast
from .parser import parse, parse_one
from .printer import to_cql
from .statements import (ScriptStatement, is_complete, split_script, split_statements,
                         split_statements_with_lines)

__all__ = ["ScriptStatement", "ast", "is_complete", "parse", "parse_one", "split_script", "split_statements",
           "split_statements_with_lines", "to_cql"]
