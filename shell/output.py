"""The one shape every command answers with: an Output (rows and/or a message), so rendering, paging,
capture and timing treat CQL results and special commands alike.

An Output holds one page of rows; ``next_page`` (when set) fetches the next Output of the same
result.  ``message`` is plain text printed as is (special commands).  Columns carry their CQL type
(for value colours and alignment) and their key role in the table they come from (for header colours,
as cqlsh colours them: partition key, clustering, static, regular).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

PARTITION_KEY = "partition_key"
CLUSTERING = "clustering"
STATIC = "static"
REGULAR = "regular"


@dataclass(frozen=True)
class Column:
    """One result column: its name, its CQL type (a cqlpy.schema type, or None when unknown) and its
    key role in its table (one of the constants above, or None for computed columns)."""

    name: str
    type: Any = None
    role: str | None = None


@dataclass
class Output:
    """What a statement or a special command produced.

    * ``columns``/``rows``: a result table (one page); ``rows`` are sequences in column order.
    * ``message``: text to print (special commands); printed before the rows when both are set.
    * ``next_page``: a function returning the next page's Output, or None on the last page.
    * ``footer``: whether a table ends with ``(N rows)`` (SELECT results; not [applied] rows).
    * ``is_query``: a CQL result (CAPTURE writes these, not special-command messages).
    """

    columns: Sequence[Column] = ()
    rows: Sequence[Sequence[Any]] = ()
    message: str | None = None
    next_page: Callable[[], "Output"] | None = None
    footer: bool = True
    is_query: bool = False
    warnings: Sequence[str] = ()
    trace: "Output | None" = None
    extra: dict = field(default_factory=dict)

    @property
    def has_rows(self) -> bool:
        """Whether this Output is a table (possibly empty), not only a message."""
        return bool(self.columns)

    def pages(self):
        """This page and every later page, fetched as iteration reaches them."""
        page: Output | None = self
        while page is not None:
            yield page
            page = page.next_page() if page.next_page is not None else None


def message(text: str) -> Output:
    """A special command's answer: text only."""
    return Output(message=text)


NOTHING = Output()


@dataclass(frozen=True)
class RenderOptions:
    """How to render: ``format`` table | expand | csv | json; ``expand`` OFF | ON | AUTO (AUTO: vertical
    when a table is wider than ``width``); ``color``: ANSI colours as cqlsh uses them; ``tty``: the
    interactive layout (a blank line after each page, header on every page)."""

    format: str = "table"
    expand: str = "OFF"
    color: bool = False
    tty: bool = False
    width: int = 80
    float_precision: int = 5
    double_precision: int = 5
    null: str = "null"
