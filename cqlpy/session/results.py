"""Query results as cassandra-driver gives them: ResultSet (pages, iteration, one/all) and Row tuples.

A ``ResultSet`` holds the current page's rows, the result metadata (``column_names``,
``column_types`` and ``column_specs``: keyspace, table, name, type per column, what the native
protocol's rows metadata carries) and, for a paged query, the opaque ``paging_state`` of the next
page plus a callback that fetches it.  Iterating walks every page, fetching as it goes, exactly as
the driver's ResultSet does; ``current_rows`` is the page at hand; ``all()`` the remaining rows.

Rows are named tuples built like the driver's ``named_tuple_factory``: column names are cleaned
into identifiers (``system.max(e)`` -> ``system_max_e``, ``[applied]`` -> ``applied``), and names
that still are not valid fields become ``field_<i>_``; ``column_names`` keeps the real names.

Statements that build their rows from plain tuples (DESCRIBE, LIST ROLES, an LWT's answer) make
their one-page result with ``ResultSet.of(columns, rows)`` from ``Column`` specs; a statement
without rows answers ``ResultSet.void()``, carrying ``schema_change`` (what a DDL changed) or
``keyspace`` (what USE set) when it has one.
"""
from __future__ import annotations

import keyword
import re
from collections import namedtuple
from functools import lru_cache, partial
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

_NON_ALPHA = re.compile("[^a-zA-Z0-9]")
_START_BADCHAR = re.compile("^[^a-zA-Z0-9]*")
_END_BADCHAR = re.compile("[^a-zA-Z0-9_]*$")


def clean_column_name(name: str) -> str:
    """The driver's cleaning of a column name into a field name."""
    return _NON_ALPHA.sub("_", _START_BADCHAR.sub("", _END_BADCHAR.sub("", name)))


def _positional_fields(names: Sequence[str]) -> list[str]:
    out = list(names)
    for i, name in enumerate(names):
        if (not name or not all(c.isalnum() or c == "_" for c in name) or keyword.iskeyword(name)
                or name[0].isdigit() or name.startswith("_")):
            out[i] = f"field_{i}_"
    if len(out) != len(set(out)):
        seen: set[str] = set()
        for i in range(len(out)):
            while out[i] in seen:
                out[i] = f"{out[i]}_"
            seen.add(out[i])
    return out


@lru_cache(maxsize=1024)
def row_class(column_names: tuple[str, ...]) -> type:
    """The named-tuple class of rows with these column names (cached per name list)."""
    cleaned = [clean_column_name(n) for n in column_names]
    try:
        return namedtuple("Row", cleaned)
    except (ValueError, TypeError):
        return namedtuple("Row", _positional_fields(cleaned))


def make_rows(column_names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list:
    """Plain value tuples -> Row named tuples."""
    cls = row_class(tuple(column_names))
    rows = rows if isinstance(rows, list) else list(rows)
    if rows and set(map(len, rows)) != {len(cls._fields)}:
        return [cls._make(r) for r in rows]        # raises _make's TypeError
    # the lengths are right: build the rows without a Python call per row
    return list(map(partial(tuple.__new__, cls), rows))


class Column(NamedTuple):
    """One result column: keyspace, table, name (the real CQL name) and CQL type."""

    keyspace: str
    table: str
    name: str
    type: Any


class ResultSet:
    """The result of one statement (one page of it, and the way to the others).

    ``column_specs``: list of objects with ``keyspace``, ``table``, ``name``, ``type``;
    ``fetch_page``: called with the paging state, returns the next page's ResultSet.
    """

    def __init__(self, column_specs: Sequence[Any] = (), rows: Sequence[Any] = (), *,
                 paging_state: bytes | None = None,
                 fetch_page: Callable[[bytes], "ResultSet"] | None = None,
                 warnings_: Sequence[str] = ()) -> None:
        self.column_specs = list(column_specs)
        self.column_names = [s.name for s in self.column_specs] if self.column_specs else None
        self.column_types = [s.type for s in self.column_specs] if self.column_specs else None
        self._current_rows: list = list(rows)
        self._paging_state = paging_state
        self._fetch_page = fetch_page
        self._page_iter: Iterator | None = None
        self._list_mode = False
        self.warnings = list(warnings_)

    trace_id = None              # the tracing session id of a traced statement (tracing.py)
    trace_session: Any = None    # the session that can read that trace back
    schema_change: Any = None    # what a DDL statement changed (schema/catalog.py's SchemaChange)
    keyspace: str | None = None  # the keyspace a USE statement set

    def get_query_trace(self, max_wait_sec: float | None = None) -> Any:
        """The statement's QueryTrace from system_traces (as cassandra-driver's); None if untraced."""
        if self.trace_id is None:
            return None
        from cqlpy.session.tracing import query_trace
        return query_trace(self.trace_session, self.trace_id, max_wait_sec)

    @classmethod
    def void(cls, *, schema_change: Any = None, keyspace: str | None = None) -> "ResultSet":
        """The empty result of a statement that returns no rows (INSERT, DDL, USE...)."""
        rs = cls()
        if schema_change is not None:
            rs.schema_change = schema_change
        if keyspace is not None:
            rs.keyspace = keyspace
        return rs

    @classmethod
    def of(cls, columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> "ResultSet":
        """A one-page result from column specs (``Column``) and plain value tuples."""
        columns = list(columns)
        return cls(columns, make_rows([c.name for c in columns], rows) if columns else [])

    # --- paging ----------------------------------------------------------------------------------

    @property
    def has_more_pages(self) -> bool:
        return self._paging_state is not None

    @property
    def paging_state(self) -> bytes | None:
        """The opaque state that resumes the query after this page; None on the last page."""
        return self._paging_state

    @property
    def current_rows(self) -> list:
        return self._current_rows or []

    def fetch_next_page(self) -> None:
        """Load the next page into ``current_rows`` (empty when there is none)."""
        if self._paging_state is not None and self._fetch_page is not None:
            nxt = self._fetch_page(self._paging_state)
            self._current_rows = nxt._current_rows
            self._paging_state = nxt._paging_state
            if nxt._fetch_page is not None:
                self._fetch_page = nxt._fetch_page
        else:
            self._current_rows = []
            self._paging_state = None

    # --- rows ------------------------------------------------------------------------------------

    def one(self) -> Any:
        """The first row of the current page, or None."""
        return self._current_rows[0] if self._current_rows else None

    def all(self) -> list:
        """Every remaining row (all pages)."""
        if not self._list_mode and self._paging_state is None:
            # the last page: what iterating to the end gives, without a __next__ call per row
            rows = list(self._current_rows)
            self._page_iter = iter(())
            self._current_rows = []
            return rows
        return list(self)

    def __iter__(self) -> Iterator:
        if self._list_mode:
            return iter(self._current_rows)
        self._page_iter = iter(self._current_rows)
        return self

    def __next__(self) -> Any:
        assert self._page_iter is not None
        while True:
            try:
                return next(self._page_iter)
            except StopIteration:
                if not self.has_more_pages:
                    if not self._list_mode:
                        self._current_rows = []
                    raise
            self.fetch_next_page()
            self._page_iter = iter(self._current_rows)

    next = __next__

    def _enter_list_mode(self, operator: str) -> None:
        if self._list_mode:
            return
        if self._page_iter is not None:
            raise RuntimeError(f"Cannot use {operator} when results have been iterated.")
        rows = list(self)
        self._current_rows = rows
        self._page_iter = None
        self._list_mode = True

    def __getitem__(self, i: int) -> Any:
        self._enter_list_mode("index operator")
        return self._current_rows[i]

    def __eq__(self, other: object) -> bool:
        self._enter_list_mode("equality operator")
        return self._current_rows == other

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(self._current_rows)

    @property
    def was_applied(self) -> bool:
        """For a conditional statement: whether it was applied (the ``[applied]`` column)."""
        if not self.column_names or self.column_names[0] != "[applied]":
            raise RuntimeError("Not a conditional (LWT) result")
        if len(self.current_rows) < 1:
            raise RuntimeError("LWT result should have at least one row")
        return bool(self.current_rows[0][0])

    def __repr__(self) -> str:
        more = ", more pages" if self.has_more_pages else ""
        return f"<ResultSet {len(self._current_rows)} rows{more} columns={self.column_names}>"

