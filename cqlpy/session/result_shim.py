"""Result sets for the statements that build their rows from plain tuples (DDL, USE, DESCRIBE, writes).

``ResultSet(columns, rows, **attrs)`` is the read engineer's cqlpy.session.results.ResultSet (same
reading API: iteration over pages, one(), all(), column_names, current_rows, paging_state,
was_applied), built from ``Column`` specs and value tuples; extra attributes such as
``schema_change`` (what a DDL changed) or ``keyspace`` (what USE set) are kept on it.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from . import results as _results
from .results import clean_column_name, make_rows  # noqa: F401  (re-exported)


class Column(NamedTuple):
    """One result column: keyspace, table, name (the real CQL name) and CQL type."""

    keyspace: str
    table: str
    name: str
    type: Any


class ResultSet(_results.ResultSet):
    """A one-page ResultSet from column specs and value tuples."""

    def __init__(self, columns: Sequence[Any] = (), rows: Sequence[Sequence[Any]] = (), **attrs: Any) -> None:
        columns = list(columns)
        built = make_rows([c.name for c in columns], rows) if columns else []
        super().__init__(columns, built)
        self.schema_change = attrs.pop("schema_change", None)
        self.keyspace = attrs.pop("keyspace", None)
        for key, value in attrs.items():
            setattr(self, key, value)

    @property
    def columns(self) -> list:
        return self.column_specs


def void_result(**attrs: Any) -> ResultSet:
    """The answer of a statement without rows (DDL, USE, a write)."""
    return ResultSet((), (), **attrs)
