"""AST foundations: source spans, the Node base class, statements and qualified names."""
from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, NamedTuple

from .nodeclass import node_class

if TYPE_CHECKING:
    from .terms import Term


class Span(NamedTuple):
    """Where a node was written: 1-based ``line``/``column`` of its first character and the 0-based
    ``[start, end)`` character offsets of the whole node in the parsed text."""

    line: int
    column: int
    start: int
    end: int


@node_class
class Node:
    """Base of every AST node.  ``span`` is where the node came from; it never takes part in equality,
    so a parsed node equals a hand-built one."""

    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)

    def to_cql(self) -> str:
        """Canonical CQL for this node (see cqlpy.language.printer)."""
        from ..printer import to_cql
        return to_cql(self)


@node_class
class Statement(Node):
    """Base of the statement nodes; ``parse()`` returns these."""


@node_class
class QualifiedName(Node):
    """``[keyspace.]name`` of a table, index or user type; ``keyspace`` is None when not written."""

    keyspace: str | None
    name: str


@node_class
class Property(Node):
    """One ``name = value`` of a WITH clause; ``value`` is a Constant or a MapLiteral of Constants."""

    name: str
    value: Term

