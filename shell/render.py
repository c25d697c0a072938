"""Results as text: pure functions from (columns, rows, RenderOptions) to the text the shell prints.

Without a terminal the layout is cqlsh's, byte for byte (cqlshlib ``print_result``)::

    <blank>
     k | c | v              header: names left-justified, joined by ' | ', right-stripped
    ---+---+------          rule: '-' + '-+-'.join('-' * width) + '-'
     1 | 1 | val1           cells right-justified
    <blank>
    (2 rows)

Later pages print no header (the widths are those of each page); an empty result prints the header,
the rule and a blank line.  EXPAND prints ``@ Row N`` blocks.  With a terminal, tables are drawn by
rich with cqlsh's colours (header by key role, values by type) and numbers right-aligned.
``csv`` and ``json`` formats print no footer and no colour (as CASSANDRA-19985's --mode).
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from rich.cells import cell_len

from .output import CLUSTERING, PARTITION_KEY, REGULAR, STATIC, Column, Output, RenderOptions
from .values import display_value, json_value, type_family, csv_value

# cqlsh's ANSI colours (cqlshlib/displaying.py)
RED, GREEN, YELLOW, BLUE = "\033[0;1;31m", "\033[0;1;32m", "\033[0;1;33m", "\033[0;1;34m"
MAGENTA, CYAN, WHITE, DARK_MAGENTA = "\033[0;1;35m", "\033[0;1;36m", "\033[0;1;37m", "\033[0;35m"
RESET = "\033[0m"

HEADER_COLORS = {PARTITION_KEY: RED, CLUSTERING: CYAN, STATIC: WHITE, REGULAR: MAGENTA, None: MAGENTA}
RICH_HEADER_STYLES = {PARTITION_KEY: "bold red", CLUSTERING: "bold cyan", STATIC: "bold white",
                      REGULAR: "bold magenta", None: "bold magenta"}
VALUE_COLORS = {"text": YELLOW, "number": GREEN, "time": GREEN, "other": GREEN, "collection": BLUE,
                "blob": DARK_MAGENTA, "null": RED}
RICH_VALUE_STYLES = {"text": "yellow", "number": "green", "time": "green", "other": "green",
                     "collection": "blue", "blob": "magenta", "null": "red"}


def paint(text: str, color: str | None, enabled: bool) -> str:
    return f"{color}{text}{RESET}" if enabled and color else text


def value_family(column: Column, value: Any) -> str:
    return "null" if value is None else type_family(column.type)


def format_cells(columns: Sequence[Column], rows: Sequence[Sequence[Any]],
                 options: RenderOptions) -> list[list[str]]:
    """Every cell as cqlsh displays it (no colour)."""
    return [[display_value(col.type, value, options) for col, value in zip(columns, row)] for row in rows]


# --- cqlsh's table ----------------------------------------------------------------------------------

def table_lines(columns: Sequence[Column], rows: Sequence[Sequence[Any]], options: RenderOptions,
                with_header: bool = True) -> list[str]:
    """One page in cqlsh's table layout (print_formatted_result), without the leading blank line."""
    names = [c.name for c in columns]
    cells = format_cells(columns, rows, options)
    widths = [cell_len(n) for n in names]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], cell_len(text))
    lines: list[str] = []
    color = options.color
    if with_header:
        header = " | ".join(paint(n, HEADER_COLORS.get(c.role), color) + " " * (w - cell_len(n))
                            for n, c, w in zip(names, columns, widths))
        lines.append(" " + header.rstrip())
        lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    if not rows:
        lines.append("")
        return lines
    for row, raw in zip(cells, rows):
        line = " | ".join(" " * (w - cell_len(text)) + paint(text, VALUE_COLORS[value_family(c, v)], color)
                          for text, c, v, w in zip(row, columns, raw, widths))
        lines.append(" " + line)
    if options.tty:
        lines.append("")
    return lines


def table_width(columns: Sequence[Column], rows: Sequence[Sequence[Any]], options: RenderOptions) -> int:
    """How wide cqlsh's table layout of these rows is, in terminal cells."""
    widths = [cell_len(c.name) for c in columns]
    for row in format_cells(columns, rows, options):
        for i, text in enumerate(row):
            widths[i] = max(widths[i], cell_len(text))
    return sum(widths) + 3 * max(len(widths) - 1, 0) + 2


def vertical_lines(columns: Sequence[Column], rows: Sequence[Sequence[Any]], options: RenderOptions,
                   row_offset: int = 0) -> list[str]:
    """One page as EXPAND ON prints it: an ``@ Row N`` block per row."""
    names = [c.name for c in columns]
    cells = format_cells(columns, rows, options)
    name_width = max((cell_len(n) for n in names), default=0)
    value_width = max((cell_len(t) for row in cells for t in row), default=0)
    lines: list[str] = []
    color = options.color
    for i, (row, raw) in enumerate(zip(cells, rows)):
        lines.append(f"@ Row {row_offset + i + 1}")
        lines.append("-" + "-+-".join(["-" * name_width, "-" * value_width]) + "-")
        for name, col, text, value in zip(names, columns, row, raw):
            padded = paint(name, HEADER_COLORS.get(col.role), color) + " " * (name_width - cell_len(name))
            lines.append(" " + padded + " | " + paint(text, VALUE_COLORS[value_family(col, value)], color))
        lines.append("")
    return lines


def use_vertical(columns: Sequence[Column], rows: Sequence[Sequence[Any]], options: RenderOptions) -> bool:
    """EXPAND ON, or EXPAND AUTO with a table wider than the terminal."""
    if options.format == "expand" or options.expand == "ON":
        return bool(rows)
    if options.expand == "AUTO" and rows:
        return table_width(columns, rows, options) > options.width
    return False


# --- csv and json -----------------------------------------------------------------------------------

def csv_lines(columns: Sequence[Column], rows: Sequence[Sequence[Any]], with_header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if with_header:
        writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else csv_value(c.type, v) for c, v in zip(columns, row)])
    return out.getvalue()


def json_rows(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Each row as one compact JSON object (column order kept)."""
    return [json.dumps({c.name: json_value(c.type, v) for c, v in zip(columns, row)}, ensure_ascii=False)
            for row in rows]


# --- rich (terminal) ------------------------------------------------------------------------------

def rich_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]], options: RenderOptions) -> str:
    """One page drawn by rich with cqlsh's colours: header by key role, values by type."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.MINIMAL, show_edge=False, pad_edge=True, header_style="", expand=False)
    families = [type_family(c.type) for c in columns]
    for col, family in zip(columns, families):
        table.add_column(Text(col.name, style=RICH_HEADER_STYLES.get(col.role, "bold magenta")),
                         justify="right" if family == "number" else "left", no_wrap=True)
    for row in rows:
        table.add_row(*[Text(display_value(c.type, v, options),
                             style=RICH_VALUE_STYLES["null" if v is None else f] if options.color else "")
                        for c, f, v in zip(columns, families, row)])
    buffer = io.StringIO()
    # never fold cells: a table wider than the terminal is printed whole (the terminal wraps its
    # lines, as with cqlsh); EXPAND AUTO is the way to get narrow output
    width = max(options.width, table_width(columns, rows, options) + 2, 20)
    console = Console(file=buffer, width=width, force_terminal=options.color,
                      color_system="standard" if options.color else None, highlight=False,
                      soft_wrap=False, legacy_windows=False)
    console.print(table)
    return buffer.getvalue()


# --- whole results ----------------------------------------------------------------------------------

class PageRenderer:
    """Renders the pages of one result in order, keeping what spans pages (row count, first page,
    csv header, json brackets).  ``page(output)`` returns the text for one page; ``finish()`` the
    text after the last page (blank line, ``(N rows)`` footer, closing bracket)."""

    def __init__(self, options: RenderOptions, footer: bool = True) -> None:
        self.options = options
        self.footer = footer
        self.rows = 0
        self.first = True
        self.columns: Sequence[Column] = ()

    def page(self, output: Output) -> str:
        opts = self.options
        first, self.first = self.first, False
        self.columns = output.columns
        if not output.rows and not first:
            return ""
        offset = self.rows
        self.rows += len(output.rows)
        if opts.format == "csv":
            return csv_lines(output.columns, output.rows, with_header=first)
        if opts.format == "json":
            lines = json_rows(output.columns, output.rows)
            body = ",\n".join(lines)
            text = ("[\n" if first else (",\n" if lines and offset else "")) + body
            return text
        lead = "\n" if first else ""
        if use_vertical(output.columns, output.rows, opts):
            return lead + "\n".join(vertical_lines(output.columns, output.rows, opts, offset)) + "\n"
        if opts.tty and opts.color:
            return lead + rich_table(output.columns, output.rows, opts) + "\n"
        with_header = first or opts.tty
        return lead + "\n".join(table_lines(output.columns, output.rows, opts, with_header)) + "\n"

    def finish(self) -> str:
        opts = self.options
        if opts.format == "csv":
            return ""
        if opts.format == "json":
            return ("\n" if self.rows else "") + "]\n"
        tail = "" if opts.tty else "\n"
        if not self.footer:
            return ""
        return tail + f"({self.rows} rows)\n"


def render(output: Output, options: RenderOptions) -> str:
    """All of an Output as text: its message, then every page of its rows (fetching them)."""
    parts: list[str] = []
    if output.message:
        parts.append(output.message if output.message.endswith("\n") else output.message + "\n")
    if output.has_rows:
        renderer = PageRenderer(options, footer=output.footer)
        for page in output.pages():
            parts.append(renderer.page(page))
        parts.append(renderer.finish())
    return "".join(parts)


def columnize(names: Sequence[str], width: int = 80) -> str:
    """Names in as many columns as fit in ``width``, two spaces apart (Python's cmd.Cmd.columnize,
    which cqlsh uses for DESCRIBE KEYSPACES / TABLES)."""
    if not names:
        return "<empty>\n"
    size = len(names)
    if size == 1:
        return f"{names[0]}\n"
    for nrows in range(1, size):
        ncols = (size + nrows - 1) // nrows
        colwidths, total = [], -2
        for col in range(ncols):
            colwidth = max((len(names[i]) for i in range(col * nrows, min(size, (col + 1) * nrows))), default=0)
            colwidths.append(colwidth)
            total += colwidth + 2
            if total > width:
                break
        if total <= width:
            break
    else:
        nrows, ncols, colwidths = size, 1, [0]
    lines = []
    for row in range(nrows):
        texts = [names[row + nrows * col] if row + nrows * col < size else "" for col in range(ncols)]
        while texts and not texts[-1]:
            del texts[-1]
        lines.append("  ".join(t.ljust(colwidths[c]) for c, t in enumerate(texts)))
    return "\n".join(lines) + "\n"
