"""Walking an AST: every node below a node, and the bind markers of a statement in index order."""
from __future__ import annotations

from dataclasses import fields
from typing import Iterator

from .base import Node
from .terms import BindMarker


def iter_nodes(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, depth first, children in field order (iterative, so any
    depth the parser accepts is fine)."""
    pending: list = [node]
    while pending:
        value = pending.pop()
        if isinstance(value, Node):
            yield value
            children = [getattr(value, f.name) for f in fields(value) if f.name != "span"]
            pending.extend(reversed(children))
        elif isinstance(value, tuple):
            pending.extend(reversed(value))


def bind_markers(node: Node) -> list[BindMarker]:
    """The bind markers of a statement sorted by index: what a prepared statement's variables are."""
    return sorted((n for n in iter_nodes(node) if isinstance(n, BindMarker)), key=lambda m: m.index)
