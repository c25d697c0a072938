"""COPY: tables to CSV files and back, with cqlsh's syntax and option names.

    COPY [ks.]table [(col, ...)] TO ('file' | STDOUT) [WITH opt = value [AND ...]]
    COPY [ks.]table [(col, ...)] FROM ('file' | STDIN) [WITH opt = value [AND ...]]

Values round-trip exactly (values.csv_value / csv_parse): floats in full precision unless
FLOATPRECISION / DOUBLEPRECISION are given, an empty text is written ``""`` and null as the NULL
string (default empty), so the two stay apart.  Rows that cannot be parsed or inserted are reported
on stderr and appended to ERRFILE (default ``import_<ks>_<table>.err``); the import goes on until
MAXPARSEERRORS / MAXINSERTERRORS.  Options cqlsh uses to tune its worker processes (NUMPROCESSES,
INGESTRATE, REPORTFREQUENCY, ...) are accepted and have no effect.

Speed: COPY FROM prepares its INSERT once, and an UNLOGGED BATCH of MAXBATCHSIZE (default 20) such
INSERTs once; each field is read by a function compiled for its column type (csv_read); rows go in
one batch request at a time (one round trip over the wire), and a batch the database refuses is
retried row by row so only the bad rows are rejected.  COPY TO formats the common types directly.
The progress bar only exists on a terminal.
"""
from __future__ import annotations

import datetime
import gc
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TextIO

from cqlpy.errors import CQLError
from cqlpy.schema.types import NativeType, quote_identifier

from .csv_read import field_reader
from .output import NOTHING, Output, message
from .special import special_command
from .values import csv_value

COMMON_OPTIONS = {"DELIMITER", "QUOTE", "ESCAPE", "HEADER", "NULL", "NULLVAL", "DATETIMEFORMAT",
                  "MAXATTEMPTS", "REPORTFREQUENCY", "DECIMALSEP", "THOUSANDSSEP", "BOOLSTYLE",
                  "NUMPROCESSES", "CONFIGFILE", "RATEFILE"}
FROM_OPTIONS = {"CHUNKSIZE", "INGESTRATE", "MAXBATCHSIZE", "MINBATCHSIZE", "MAXROWS", "SKIPROWS",
                "SKIPCOLS", "MAXPARSEERRORS", "MAXINSERTERRORS", "ERRFILE", "PREPAREDSTATEMENTS", "TTL"}
TO_OPTIONS = {"ENCODING", "PAGESIZE", "PAGETIMEOUT", "BEGINTOKEN", "ENDTOKEN", "MAXOUTPUTSIZE",
              "MAXREQUESTS", "FLOATPRECISION", "DOUBLEPRECISION", "MAXROWS"}


@dataclass
class CopyCommand:
    keyspace: str | None
    table: str
    columns: list[str] | None
    direction: str                  # "to" | "from"
    target: str                     # a file name, or STDIN / STDOUT
    options: dict[str, str] = field(default_factory=dict)


class CopyError(Exception):
    pass


_TOKEN = re.compile(r"""\s*(?:(?P<string>'(?:[^']|'')*')|(?P<quoted>"(?:[^"]|"")*")|(?P<word>[A-Za-z0-9_\-+.\\/:~*]+)
                       |(?P<punct>[(),=]))""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip().rstrip(";")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise CopyError(f"Improper COPY command (problem at '{text[pos:pos + 20]}').")
        pos = match.end()
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
    return out


def _name(kind: str, text: str) -> str:
    if kind == "quoted":
        return text[1:-1].replace('""', '"')
    return text.lower()


def _value(kind: str, text: str) -> str:
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "quoted":
        return text[1:-1].replace('""', '"')
    return text


def parse_copy(argument: str) -> CopyCommand:
    """The parts of a COPY command (the text after COPY); CopyError when it is malformed."""
    tokens = _tokens(argument)
    pos = 0

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise CopyError("Improper COPY command.")
        pos += 1
        return tokens[pos - 1]

    kind, text = take()
    keyspace, table = None, None
    if kind in ("word", "quoted") and "." in text and kind == "word":
        keyspace, table = (part.lower() for part in text.split(".", 1))
    else:
        table = _name(kind, text)
        if pos < len(tokens) and tokens[pos][1] == ".":
            pos += 1
            keyspace, table = table, _name(*take())
    columns = None
    if pos < len(tokens) and tokens[pos][1] == "(":
        pos += 1
        columns = []
        while True:
            k, t = take()
            if t == ")":
                break
            if t == ",":
                continue
            columns.append(_name(k, t))
    kind, direction = take()
    direction = direction.lower()
    if direction not in ("to", "from"):
        raise CopyError(f"Improper COPY command (problem at '{direction}'): expected TO or FROM.")
    kind, target = take()
    if kind == "word" and target.upper() in ("STDIN", "STDOUT"):
        target = target.upper()
    else:
        target = _value(kind, target)
    options: dict[str, str] = {}
    if pos < len(tokens):
        kind, word = take()
        if word.upper() != "WITH":
            raise CopyError(f"Improper COPY command (problem at '{word}').")
        while pos < len(tokens):
            k, name = take()
            if name.upper() == "AND":
                continue
            k2, eq = take()
            if eq != "=":
                raise CopyError(f"Improper COPY command (problem at '{eq}').")
            options[name.upper()] = _value(*take())
    allowed = COMMON_OPTIONS | (FROM_OPTIONS if direction == "from" else TO_OPTIONS)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise CopyError(f"Unrecognized COPY {direction.upper()} options: {', '.join(o.lower() for o in unknown)}")
    return CopyCommand(keyspace, table, columns, direction, target, options)


# --- CSV text ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dialect:
    delimiter: str = ","
    quote: str = '"'
    escape: str = "\\"
    null: str = ""

    @staticmethod
    def of(options: dict[str, str]) -> "Dialect":
        return Dialect(options.get("DELIMITER", ","), options.get("QUOTE", '"'), options.get("ESCAPE", "\\"),
                       options.get("NULL", options.get("NULLVAL", "")))


def encode_field(text: str | None, dialect: Dialect, is_text: bool = False) -> str:
    """One CSV field: null as the NULL string; quoted when it holds the delimiter, a quote, a line
    break or the escape, when it is empty text, or when it would read as the NULL string."""
    if text is None:
        return dialect.null
    q, esc = dialect.quote, dialect.escape
    escaping = bool(esc) and esc != q and esc in text
    if (not text and is_text) or text == dialect.null or dialect.delimiter in text or q in text or \
            "\n" in text or "\r" in text or escaping:
        if escaping:
            text = text.replace(esc, esc + esc)
        return q + text.replace(q, q + q) + q
    return text


def record_pattern(dialect: Dialect) -> re.Pattern:
    q, d = re.escape(dialect.quote), re.escape(dialect.delimiter)
    esc = re.escape(dialect.escape) if dialect.escape and dialect.escape != dialect.quote else None
    inner = f"(?:[^{q}]|{q}{q})*" if esc is None else f"(?:[^{q}{esc}]|{q}{q}|{esc}.)*"
    return re.compile(f"(?:{q}({inner}){q}|([^{d}{q}\\r\\n]*))({d}|\\r?\\n|$)", re.DOTALL)


def read_records(text: str, dialect: Dialect) -> Iterator[tuple[int, str, list[tuple[str, bool]] | None]]:
    """(line number, raw text, [(field, was quoted)]) for each record; fields None for a record that
    is not valid CSV (an unbalanced quote), whose raw text runs to the end of its line."""
    pattern = record_pattern(dialect)
    q, esc = dialect.quote, dialect.escape
    if esc and esc != q:
        unescape = re.compile(f"{re.escape(q)}{re.escape(q)}|{re.escape(esc)}(.)", re.DOTALL)
    else:
        unescape = re.compile(f"{re.escape(q)}{re.escape(q)}()", re.DOTALL)

    def _unescaped(match: re.Match) -> str:
        return match.group(1) if match.group(1) else q
    pos, line, length = 0, 1, len(text)
    while pos < length:
        start, start_line = pos, line
        fields: list[tuple[str, bool]] | None = []
        while True:
            match = pattern.match(text, pos)
            if match is None:
                end = text.find("\n", pos)
                end = length if end < 0 else end + 1
                fields = None
                pos = end
                break
            quoted, plain, separator = match.groups()
            if quoted is not None:
                value = unescape.sub(_unescaped, quoted) if (q in quoted or (esc and esc in quoted)) else quoted
                fields.append((value, True))
            else:
                fields.append((plain, False))
            pos = match.end()
            if separator != dialect.delimiter or pos >= length:
                break
        raw = text[start:pos]
        line += raw.count("\n")
        raw = raw.rstrip("\r\n")
        if fields is not None and len(fields) == 1 and fields[0] == ("", False):
            continue                      # an empty line
        yield start_line, raw, fields


# --- COPY TO ----------------------------------------------------------------------------------------

def _describe_interval(seconds: float) -> str:
    return f"{seconds:.3f} seconds"


def _copy_target(shell: Any, command: CopyCommand) -> tuple[str, list[str], list[Any]]:
    """(keyspace, column names, CQL types) a COPY reads or writes: every column in SELECT *
    order, or the ones the command names; CopyError when no keyspace is given or in use."""
    keyspace = command.keyspace or shell.keyspace
    if keyspace is None:
        raise CopyError("Not in any keyspace.")
    qualified = f"{quote_identifier(keyspace)}.{quote_identifier(command.table)}"
    wanted = command.columns
    select = ", ".join(quote_identifier(c) for c in wanted) if wanted else "*"
    result = shell.session.execute(f"SELECT {select} FROM {qualified} LIMIT 1")
    names = list(result.column_names)
    types = list(getattr(result, "column_types", None) or [None] * len(names))
    return keyspace, names, types


def _header(opts: dict[str, str]) -> bool:
    return opts.get("HEADER", "false").lower() in ("true", "yes", "1", "on")


def copy_to(shell: Any, command: CopyCommand) -> Output:
    keyspace, names, types = _copy_target(shell, command)
    opts = command.options
    dialect = Dialect.of(opts)
    header = _header(opts)
    page_size = int(opts.get("PAGESIZE", "1000"))
    max_rows = int(opts.get("MAXROWS", "-1"))
    fp = int(opts["FLOATPRECISION"]) if "FLOATPRECISION" in opts else None
    dp = int(opts["DOUBLEPRECISION"]) if "DOUBLEPRECISION" in opts else None
    writers = [_field_writer(t, dialect, fp, dp, opts.get("DATETIMEFORMAT")) for t in types]
    started = time.perf_counter()
    to_stdout = command.target == "STDOUT"
    out: TextIO
    if to_stdout:
        out = shell.stdout
    else:
        try:
            out = open(os.path.expanduser(command.target), "w", encoding=opts.get("ENCODING", "utf-8"),
                       newline="")
        except OSError as error:
            raise CopyError(f"Can't open {command.target!r} for writing: {error}") from None
    if not to_stdout:
        shell.write(f"\nStarting copy of {keyspace}.{command.table} with columns [{', '.join(names)}].\n")
    count = 0
    qualified = f"{quote_identifier(keyspace)}.{quote_identifier(command.table)}"
    query = f"SELECT {', '.join(quote_identifier(n) for n in names)} FROM {qualified}"
    progress = _Progress(shell, "exported", None)
    delimiter = dialect.delimiter
    try:
        if header:
            out.write(dialect.delimiter.join(encode_field(n, dialect) for n in names) + "\n")
        result = shell.session.execute(query, fetch_size=page_size)
        while True:
            lines = []
            for row in getattr(result, "current_rows", None) or []:
                if 0 <= max_rows <= count:
                    break
                lines.append(delimiter.join([write(v) for write, v in zip(writers, row)]))
                count += 1
            if lines:
                out.write("\n".join(lines) + "\n")
            progress.update(count)
            if 0 <= max_rows <= count or not getattr(result, "has_more_pages", False) or \
                    getattr(result, "paging_state", None) is None:
                break
            result = shell.session.execute(query, fetch_size=page_size, paging_state=result.paging_state)
    finally:
        progress.close()
        if not to_stdout:
            out.close()
    elapsed = time.perf_counter() - started
    if to_stdout:
        return NOTHING
    return message(f"\n{count} rows exported to 1 files in {_describe_interval(elapsed)}.")


# --- COPY FROM --------------------------------------------------------------------------------------

def _encoder(t: Any, fp: int | None, dp: int | None, datetime_format: str | None) -> Callable[[Any], str]:
    """value -> CSV text for one non-null cell of a column (DATETIMEFORMAT, when given, formats
    timestamps with strftime in UTC).  The common native types skip the generic formatter."""
    name = t.name if isinstance(t, NativeType) else None
    if datetime_format and name == "timestamp":
        def timestamp(v: Any) -> str:
            if isinstance(v, datetime.datetime):
                return v.replace(tzinfo=datetime.timezone.utc).strftime(datetime_format)
            return csv_value(t, v)
        return timestamp
    if name in ("text", "varchar", "ascii"):
        return str
    if name in ("int", "bigint", "smallint", "tinyint", "counter"):
        return str
    if name in ("uuid", "timeuuid"):
        return str
    if name == "boolean":
        return lambda v: "true" if v else "false"                      # noqa: E731
    if name == "blob":
        return lambda v: "0x" + v.hex()                                 # noqa: E731
    return lambda v: csv_value(t, v, fp, dp)                            # noqa: E731


def _field_writer(t: Any, dialect: Dialect, fp: int | None, dp: int | None,
                  datetime_format: str | None) -> Callable[[Any], str]:
    """cell -> finished CSV field (the NULL string for None; quoted only when encode_field would)."""
    encode = _encoder(t, fp, dp, datetime_format)
    is_text = isinstance(t, NativeType) and t.name in ("text", "ascii", "varchar")
    specials = "".join(dict.fromkeys(dialect.delimiter + dialect.quote + (dialect.escape or "") + "\r\n"))
    special = re.compile("[" + re.escape(specials) + "]").search
    null = dialect.null

    def write(v: Any) -> str:
        if v is None:
            return null
        text = encode(v)
        if special(text) is not None or text == null or (is_text and not text):
            return encode_field(text, dialect, is_text)
        return text
    return write


class _Progress:
    """A rich progress display on a terminal's stderr; silent otherwise."""

    def __init__(self, shell: Any, verb: str, total: int | None) -> None:
        self.progress = None
        if not (shell.tty and getattr(shell.stderr, "isatty", lambda: False)()):
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        columns = [TextColumn(f"[progress.description]{{task.fields[rows]}} rows {verb}"),
                   BarColumn(), TimeElapsedColumn()]
        self.progress = Progress(*columns, console=Console(file=shell.stderr), transient=True)
        self.task = self.progress.add_task("copy", total=total, rows=0)
        self.progress.start()

    def update(self, rows: int, completed: int | None = None) -> None:
        if self.progress is not None:
            self.progress.update(self.task, rows=rows, **({"completed": completed} if completed else {}))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _read_stdin(shell: Any) -> str:
    shell.write("[Use \\. on a line by itself to end input]\n")
    lines = []
    for line in sys.stdin:
        if line.rstrip("\r\n") == "\\.":
            break
        lines.append(line)
    return "".join(lines)


def _primary_key_columns(session: Any, keyspace: str, table: str) -> set[str]:
    """The table's partition key and clustering column names (from system_schema, which the
    embedded database and every server have)."""
    result = session.execute("SELECT column_name, kind FROM system_schema.columns "
                             "WHERE keyspace_name = %s AND table_name = %s", (keyspace, table))
    return {row[0] for row in result if row[1] in ("partition_key", "clustering")}


def copy_from(shell: Any, command: CopyCommand) -> Output:
    keyspace, names, types = _copy_target(shell, command)
    opts = command.options
    dialect = Dialect.of(opts)
    header = _header(opts)
    max_rows = int(opts.get("MAXROWS", "-1"))
    skip_rows = int(opts.get("SKIPROWS", "0"))
    skip_cols = {c.strip().lower() for c in opts.get("SKIPCOLS", "").split(",") if c.strip()}
    max_parse_errors = int(opts.get("MAXPARSEERRORS", "-1"))
    max_insert_errors = int(opts.get("MAXINSERTERRORS", "1000"))
    batch_size = max(1, int(opts.get("MAXBATCHSIZE", "20")))
    ttl = int(opts.get("TTL", "-1"))
    boolstyle = tuple(opts["BOOLSTYLE"].split(",", 1)) if "BOOLSTYLE" in opts else None
    err_path = opts.get("ERRFILE") or f"import_{keyspace}_{command.table}.err"

    if command.target == "STDIN":
        text, files = _read_stdin(shell), 1
    else:
        path = os.path.expanduser(command.target)
        try:
            with open(path, encoding=opts.get("ENCODING", "utf-8"), newline="") as f:
                text = f.read()
        except OSError as error:
            raise CopyError(f"Can't open {command.target!r} for reading: {error}") from None
        files = 1
    shell.write(f"\nStarting copy of {keyspace}.{command.table} with columns [{', '.join(names)}].\n")
    file_columns = names
    records = read_records(text, dialect)
    if header:
        first = next(records, None)
        if first is not None and first[2] is not None and command.columns is None:
            file_columns = [f for f, _ in first[2]]
    kept = [i for i, n in enumerate(file_columns) if n not in skip_cols]
    insert_names = [file_columns[i] for i in kept]
    type_of = dict(zip(names, types))
    missing = [n for n in insert_names if n not in type_of]
    if missing:
        raise CopyError(f"Invalid column name {missing[0]}")
    readers = [field_reader(type_of[n], n, boolstyle, opts.get("DATETIMEFORMAT")) for n in insert_names]
    width = len(file_columns)
    all_kept = kept == list(range(width))
    null = dialect.null
    key_columns = _primary_key_columns(shell.session, keyspace, command.table)
    key_fields = [(i, n) for i, n in enumerate(insert_names) if n in key_columns]
    qualified = f"{quote_identifier(keyspace)}.{quote_identifier(command.table)}"
    insert = (f"INSERT INTO {qualified} ({', '.join(quote_identifier(n) for n in insert_names)}) "
              f"VALUES ({', '.join('?' for _ in insert_names)})" + (f" USING TTL {ttl}" if ttl > 0 else ""))
    session = shell.session
    prepared = session.prepare(insert)                       # planned once: rows only bind values
    batch = session.prepare(f"BEGIN UNLOGGED BATCH {'; '.join([insert] * batch_size)}; APPLY BATCH") \
        if batch_size > 1 else prepared
    execute = session.execute
    errfile: TextIO | None = None
    imported = skipped = parse_errors = insert_errors = seen = consumed = 0
    started = time.perf_counter()
    progress = _Progress(shell, "imported", len(text) or None)
    source = command.target
    pending: list[tuple[int, str, list]] = []               # (line, raw, values) not yet written

    class _Stop(Exception):
        pass

    def reject(line: int, raw: str, kind: str, reason: str) -> None:
        nonlocal errfile
        shell.error(f"Failed to import 1 rows: {kind} - {reason},  given up without retries",
                    source, line)
        if errfile is None:
            errfile = open(err_path, "a", encoding="utf-8")
        errfile.write(raw + "\n")

    def write(rows: list[tuple[int, str, list]]) -> None:
        """One batch of rows in one request; when it fails, row by row, to reject only the bad ones."""
        nonlocal imported, insert_errors
        if len(rows) == batch_size and batch_size > 1:
            try:
                execute(batch, [v for _, _, values in rows for v in values])
                imported += len(rows)
                return
            except CQLError:
                pass
        for line, raw, values in rows:
            try:
                execute(prepared, values)
            except CQLError as error:
                insert_errors += 1
                reject(line, raw, type(error).__name__, str(error).split("\n")[0])
                if 0 <= max_insert_errors < insert_errors:
                    shell.error(f"Exceeded maximum number of insert errors {max_insert_errors}", source, line)
                    raise _Stop() from None
                continue
            imported += 1

    collecting = gc.isenabled()
    if collecting:      # millions of short-lived acyclic objects: the cycle collector only costs time
        gc.disable()
    try:
        for line, raw, fields in records:
            seen += 1
            consumed += len(raw) + 1
            if seen <= skip_rows:
                skipped += 1
                continue
            if 0 <= max_rows <= imported + len(pending):
                break
            try:
                if fields is None:
                    raise ValueError("the record is not valid CSV (unbalanced quote)")
                if len(fields) != width:
                    raise ValueError(f"Invalid row length {len(fields)} should be {width}")
                if not all_kept:
                    fields = [fields[i] for i in kept]
                values = [None if (v == null and not quoted) else read(v)
                          for read, (v, quoted) in zip(readers, fields)]
                for i, name in key_fields:
                    if values[i] is None:
                        raise ValueError(f"Cannot insert null value for primary key column '{name}'."
                                         + (" If you want to insert empty strings, consider using the "
                                            "WITH NULL=<marker> option for COPY." if null == "" else ""))
            except (ValueError, CQLError, TypeError, ArithmeticError, KeyError) as error:
                parse_errors += 1
                reject(line, raw, "ParseError", str(error).split("\n")[0])
                if 0 <= max_parse_errors < parse_errors:
                    shell.error(f"Exceeded maximum number of parse errors {max_parse_errors}", source, line)
                    break
                continue
            pending.append((line, raw, values))
            if len(pending) >= batch_size:
                write(pending)
                pending = []
                if progress.progress is not None and imported % 5000 < batch_size:
                    progress.update(imported, consumed)
        if pending:
            write(pending)
    except _Stop:
        pass
    finally:
        if collecting:
            gc.enable()
        progress.close()
        if errfile is not None:
            errfile.close()
    elapsed = time.perf_counter() - started
    return message(f"\n{imported} rows imported from {files} files in {_describe_interval(elapsed)} "
                   f"({skipped} skipped).")


def _copy_completer(args: list[str], prefix: str, catalog: Any) -> list:
    from .completion import Suggestion
    words = [a.upper() for a in args]
    if not args:
        return [Suggestion(quote_identifier(t), "table") for t in sorted(catalog.tables.get(catalog.keyspace or "", {}))] + \
               [Suggestion(quote_identifier(ks) + ".", "keyspace") for ks in catalog.keyspaces]
    if "TO" not in words and "FROM" not in words:
        table = catalog.table(None, args[0].lower()) if "." not in args[0] else \
            catalog.table(*args[0].lower().split(".", 1))
        if "(" in args and ")" not in args and table is not None:
            return [Suggestion(quote_identifier(c.name), "column") for c in table.columns]
        return [Suggestion("TO", "keyword"), Suggestion("FROM", "keyword"), Suggestion("(", "punctuation")]
    direction = "TO" if "TO" in words else "FROM"
    after = words[words.index(direction) + 1:]
    if not after:
        return [Suggestion("STDOUT" if direction == "TO" else "STDIN", "keyword"), Suggestion("", "hint", "'<file>'")]
    if len(after) == 1:
        return [Suggestion("WITH", "keyword")]
    if after[-1] in ("WITH", "AND"):
        allowed = COMMON_OPTIONS | (FROM_OPTIONS if direction == "FROM" else TO_OPTIONS)
        return [Suggestion(o, "keyword") for o in sorted(allowed)]
    if after[-1] != "=" and after[-2] == "=":
        return [Suggestion("AND", "keyword")]
    return []


@special_command("COPY", completer=_copy_completer,
                 syntax="COPY [ks.]table [(col, ...)] TO ('file' | STDOUT) | FROM ('file' | STDIN) "
                        "[WITH option = value [AND ...]]",
                 help="""Exports a table to CSV, or imports CSV into a table.  Options (cqlsh's): HEADER,
DELIMITER, QUOTE, ESCAPE, NULL, DATETIMEFORMAT, MAXROWS, SKIPROWS, SKIPCOLS, CHUNKSIZE, MAXBATCHSIZE,
MAXPARSEERRORS, MAXINSERTERRORS, ERRFILE, TTL, PAGESIZE, FLOATPRECISION, DOUBLEPRECISION, ENCODING.
Bad rows go to ERRFILE (default import_<ks>_<table>.err) and the import goes on.""")
def copy(shell: Any, argument: str) -> Output:
    from .options import copy_defaults
    from .runner import ShellError
    try:
        command = parse_copy(argument)
        keyspace = command.keyspace or shell.keyspace or ""
        defaults = copy_defaults(shell.options, keyspace, command.table, command.direction)
        command.options = {**defaults, **command.options}
        if command.direction == "to":
            return copy_to(shell, command)
        return copy_from(shell, command)
    except CopyError as error:
        raise ShellError(str(error)) from None


__all__ = ["CopyCommand", "Dialect", "parse_copy", "read_records", "encode_field", "copy_to", "copy_from"]
