"""The shell's engine: runs statements (special commands or CQL), prints their Output, reports errors.

``Shell`` holds the session and the settings special commands change (consistency, paging, expand,
tracing, timing, output format, capture).  ``run_text`` runs a script (``-e``, ``-f``, stdin,
SOURCE, a paste) statement by statement: an error is reported and the run goes on.  Without a
terminal errors read ``file.cql:LINE:ErrorClass: message`` (``<stdin>:LINE:``), as cqlsh prints them;
``failed`` remembers that one did, for exit status 2.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from cqlpy.errors import AlreadyExists, CQLError, SyntaxException

from .catalog import EMPTY, Catalog, load_catalog
from .options import DEFAULT_PAGE_SIZE, Options
from .output import Column, Output, RenderOptions
from .render import PageRenderer, RED, RESET
from .script import execution_lines, line_count, split_input
from .special import find_command
from .tracing import trace_output, traced

ERROR_SUMMARIES = {
    0x0000: "Server error", 0x000A: "Protocol error", 0x0100: "Bad credentials",
    0x1000: "Unavailable exception", 0x1001: "Coordinator node overloaded",
    0x1002: "Coordinator node is bootstrapping", 0x1003: "Error during truncate",
    0x1100: "Coordinator node timed out waiting for replica nodes' responses",
    0x1200: "Coordinator node timed out waiting for replica nodes' responses",
    0x1300: "Replica(s) failed to execute read", 0x1400: "User Defined Function failure",
    0x1500: "Replica(s) failed to execute write", 0x2000: "Syntax error in CQL query",
    0x2100: "Unauthorized", 0x2200: "Invalid query",
    0x2300: "Query invalid because of configuration issue", 0x2400: "Item already exists",
    0x2500: "Matching prepared statement not found on this node",
}
CONSISTENCY_LEVELS = ("ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM",
                      "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE", "NODE_LOCAL")
FOOTER_VERBS = ("select", "list", "explain")
SCHEMA_VERBS = ("create", "alter", "drop", "use")


class ShellError(Exception):
    """A local error (bad special-command arguments, a file that cannot be read): printed as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ExitShell(Exception):
    """EXIT / QUIT."""


def format_error(error: BaseException) -> str:
    """An error as cqlsh prints it: ``Class: Error from server: code=2200 [Invalid query] message="..."``
    for database errors (syntax errors keep their source line and caret below), the message alone
    for local errors."""
    if isinstance(error, ShellError):
        return error.message
    if isinstance(error, AlreadyExists):
        keyspace, table = getattr(error, "keyspace", ""), getattr(error, "table", "")
        what = f"Table '{keyspace}.{table}'" if table else f"Keyspace '{keyspace}'"
        return f"AlreadyExists: {what} already exists"
    if isinstance(error, SyntaxException):
        return f"SyntaxException: {error}"            # as cqlsh prints it: the message and its caret
    if isinstance(error, CQLError):
        text = str(error)
        first, _, context = text.partition("\n")
        summary = ERROR_SUMMARIES.get(error.code, "Error")
        message = f'{type(error).__name__}: Error from server: code={error.code:04x} [{summary}] ' \
                  f'message="{first}"'
        return message + ("\n" + context if context else "")
    return f"{type(error).__name__}: {error}"


@dataclass
class ShellState:
    consistency: str = "ONE"
    serial_consistency: str = "SERIAL"
    paging: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    expand: str = "OFF"              # OFF | ON | AUTO
    tracing: bool = False
    timing: bool = False
    format: str = "table"            # table | expand | csv | json


class Shell:
    """One shell session over a cqlpy Session (or anything with the same execute API)."""

    def __init__(self, session: Any, options: Options | None = None, *, stdout: TextIO | None = None,
                 stderr: TextIO | None = None, tty: bool = False, color: bool = False,
                 host: str = "embedded", width: Callable[[], int] | None = None) -> None:
        self.session = session
        self.options = options or Options()
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.tty = tty
        self.color = color
        self.host = host
        self.state = ShellState(page_size=self.options.page_size, expand=self.options.expand,
                                format=self.options.format)
        self.failed = False
        self.errors = 0
        self.capture: TextIO | None = None
        self.capture_path: str | None = None
        self._catalog: Catalog | None = None
        self._width = width or (lambda: shutil.get_terminal_size((80, 24)).columns)
        self.more: Callable[[], bool] = self._ask_more
        self.source_depth = 0
        self._accepted: frozenset[str] | None = None
        self.history_entries: Callable[[], list[str]] = lambda: []    # the REPL sets it

    # --- state ------------------------------------------------------------------------------------

    @property
    def keyspace(self) -> str | None:
        return getattr(self.session, "keyspace", None)

    def catalog(self) -> Catalog:
        """The schema snapshot (reloaded after a schema change)."""
        if self._catalog is None:
            self._catalog = load_catalog(self.session) if self.session is not None else EMPTY
        if self._catalog.keyspace != self.keyspace:
            self._catalog = self._catalog.with_keyspace(self.keyspace)
        return self._catalog

    def schema_changed(self) -> None:
        self._catalog = None

    def render_options(self, for_terminal: bool = True) -> RenderOptions:
        tty = self.tty and for_terminal
        return RenderOptions(format=self.state.format, expand=self.state.expand,
                             color=self.color and for_terminal, tty=tty, width=self._width() if tty else 80,
                             float_precision=self.options.float_precision,
                             double_precision=self.options.double_precision)

    # --- executing --------------------------------------------------------------------------------

    def execute(self, text: str) -> Output:
        """Run one statement: a special command from the registry, else CQL for the session."""
        found = find_command(text)
        if found is not None:
            command, argument = found
            return command.handler(self, argument)
        return self.execute_cql(text)

    def execute_cql(self, text: str, *, footer: bool | None = None) -> Output:
        if self.session is None:
            raise ShellError("Not connected to a database.")
        verb = text.lstrip().split(None, 1)[0].lower() if text.strip() else ""
        fetch_size = self.state.page_size if self.state.paging else None
        kwargs: dict[str, Any] = {"fetch_size": fetch_size}
        accepted = self._execute_parameters()
        if "consistency_level" in accepted:
            kwargs["consistency_level"] = self.state.consistency
        if "serial_consistency_level" in accepted:
            kwargs["serial_consistency_level"] = self.state.serial_consistency
        if "timeout" in accepted and self.options.request_timeout:
            kwargs["timeout"] = self.options.request_timeout
        if self.state.tracing and "trace" in accepted and traced(text, getattr(self.session, "keyspace", None)):
            kwargs["trace"] = True
        statement = text if text.rstrip().endswith(";") else text + ";"      # sent with its ';', as cqlsh
        try:
            result = self.session.execute(statement, **kwargs)
        finally:
            if verb in SCHEMA_VERBS:
                self.schema_changed()
        if getattr(result, "schema_change", None) is not None:
            self.schema_changed()
        if footer is None:
            footer = verb in FOOTER_VERBS
        output = self.output_of(result, statement, fetch_size, footer)
        if kwargs.get("trace"):
            output.trace = Output(message=trace_output(result, tty=self.tty, color=self.color))
        return output

    def _execute_parameters(self) -> frozenset[str]:
        """The keyword arguments the session's execute() takes (the embedded session and the network
        client differ a little)."""
        if self._accepted is None:
            import inspect
            try:
                parameters = inspect.signature(self.session.execute).parameters
                names = set(parameters)
                if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
                    names |= {"consistency_level", "serial_consistency_level", "timeout", "trace"}
            except (TypeError, ValueError):
                names = set()
            self._accepted = frozenset(names)
        return self._accepted

    def output_of(self, result: Any, text: str, fetch_size: int | None, footer: bool) -> Output:
        """A session ResultSet as an Output whose next_page continues from its paging state."""
        names = list(getattr(result, "column_names", None) or [])
        if not names:
            return Output(is_query=True)
        types = list(getattr(result, "column_types", None) or [None] * len(names))
        roles = self._roles(result, names) if self.color else [None] * len(names)
        columns = tuple(Column(n, t, r) for n, t, r in zip(names, types, roles))
        rows = getattr(result, "current_rows", None)
        if rows is None:
            rows = list(result)
        next_page = None
        state = getattr(result, "paging_state", None)
        if getattr(result, "has_more_pages", False):
            if state is not None:
                next_page = lambda: self.output_of(                                     # noqa: E731
                    self.session.execute(text, fetch_size=fetch_size, paging_state=state), text, fetch_size, footer)
            elif hasattr(result, "fetch_next_page"):
                next_page = lambda: (result.fetch_next_page(),                          # noqa: E731
                                     self.output_of(result, text, fetch_size, footer))[1]
        return Output(columns, list(rows), next_page=next_page, footer=footer, is_query=True,
                      warnings=tuple(getattr(result, "warnings", None) or ()))

    def _roles(self, result: Any, names: list[str]) -> list[str | None]:
        metas = getattr(result, "column_specs", None) or getattr(result, "columns", None) or []
        catalog = self.catalog()
        roles: list[str | None] = []
        for i, name in enumerate(names):
            meta = metas[i] if i < len(metas) else None
            ks = getattr(meta, "keyspace", None) or getattr(meta, "keyspace_name", None)
            table = getattr(meta, "table", None) or getattr(meta, "table_name", None)
            found = catalog.table(ks, table) if table else None
            roles.append(found.role(name) if found is not None else None)
        return roles

    def hint_for(self, error: BaseException) -> str | None:
        """A "did you mean" line for an unknown table or keyspace (terminal only: scripts keep
        cqlsh's exact error text)."""
        import difflib
        import re
        match = re.search(r"(table|keyspace) (\S+) does not exist", str(error))
        if match is None:
            return None
        kind, name = match.group(1), match.group(2).split(".")[-1].strip("'\"")
        catalog = self.catalog()
        names = catalog.keyspaces if kind == "keyspace" else sorted(
            {t for ks in ([catalog.keyspace] if catalog.keyspace else []) for t in catalog.tables.get(ks, {})})
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        return f"Did you mean {' or '.join(repr(c) for c in close)}?" if close else None

    # --- printing ---------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.stdout.write(text)

    def error(self, message: str, source: str | None = None, line: int | None = None) -> None:
        """Report an error on stderr (with ``source:line:`` outside a terminal) and remember it."""
        self.failed = True
        self.errors += 1
        if source is not None and line is not None and not self.tty:
            message = f"{source}:{line}:{message}"
        if self.color:
            message = f"{RED}{message}{RESET}"
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def show(self, output: Output) -> None:
        """Print an Output: its message, then its pages (paged in a terminal, all at once otherwise;
        query results go to the CAPTURE file while capturing)."""
        if output.message:
            self.write(output.message if output.message.endswith("\n") else output.message + "\n")
        if output.has_rows:
            capturing = self.capture is not None and output.is_query
            target = self.capture if capturing else self.stdout
            options = self.render_options(for_terminal=not capturing)
            renderer = PageRenderer(options, footer=output.footer)
            page: Output | None = _skip_empty(output)
            interactive = self.tty and not capturing and options.format in ("table", "expand")
            while page is not None:
                target.write(renderer.page(page))
                following = _skip_empty(page.next_page()) if page.next_page is not None else None
                if following is not None and interactive:
                    target.flush()
                    if not self.more():
                        break
                page = following
            target.write(renderer.finish())
            target.flush()
        for warning in output.warnings:
            self.write(f"\nWarnings :\n{warning}\n\n")
        if output.trace is not None and output.trace.message:
            self.write(output.trace.message)
        self.stdout.flush()

    def _ask_more(self) -> bool:
        """``---MORE---``: Enter or space shows the next page, q (or Ctrl-C) stops."""
        self.stdout.write("---MORE--- (Enter: next page, q: stop)")
        self.stdout.flush()
        key = read_key()
        self.stdout.write("\r" + " " * 40 + "\r")
        return key not in ("q", "Q", "\x03", "\x1b", "")

    # --- running statements and scripts -----------------------------------------------------------

    def run_statement(self, text: str, source: str | None = None, line: int | None = None) -> bool:
        """Run and print one statement; report its error.  False when it failed."""
        started = time.perf_counter()
        errors_before = self.errors
        try:
            output = self.execute(text)
            self.show(output)
        except ExitShell:
            raise
        except (CQLError, ShellError) as error:
            message = format_error(error)
            if self.tty:
                hint = self.hint_for(error)
                if hint:
                    message += "\n" + hint
            self.error(message, source, line)
            return False
        except KeyboardInterrupt:
            self.error("Interrupted.", source, line)
            return False
        except Exception as error:          # noqa: BLE001 - a bug must not end the session
            self.error(format_error(error), source, line)
            return False
        if self.state.timing:
            self.write(f"Time: {time.perf_counter() - started:.3f}s\n")
        return self.errors == errors_before

    def run_text(self, text: str, source: str = "<stdin>", first_line: int = 1, *,
                 one_line: bool = False) -> bool:
        """Run every statement of a script; False when any failed.  EXIT ends the run.  Errors name
        the line cqlsh names (script.execution_lines); with ``one_line`` (``-e``) every statement is
        on line ``first_line``, as cqlsh runs ``-e`` text as one input line."""
        ok = True
        pieces = split_input(text, first_line)
        lines = execution_lines(pieces, first_line - 1 + line_count(text))
        for piece, line in zip(pieces, lines):
            if one_line:
                line = first_line
            if not piece.terminated:
                self.error("Incomplete statement at end of file", source, line)
                ok = False
                break
            ok = self.run_statement(piece.text, source, line) and ok
        return ok

    def run_file(self, name: str) -> bool:
        """SOURCE: run a file without prompts; its errors name the file (as written) and line."""
        path = os.path.expanduser(name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as error:
            raise ShellError(f"Could not open {path!r}: {error}") from None
        text = decode_script(data, self.options.encoding)
        saved_tty = self.tty
        self.tty = False
        self.source_depth += 1
        try:
            if self.source_depth > 32:
                raise ShellError("SOURCE nested too deeply")
            return self.run_text(text, name)
        finally:
            self.source_depth -= 1
            self.tty = saved_tty


def decode_script(data: bytes, encoding: str = "utf-8") -> str:
    """Script bytes as text: a BOM decides the encoding when there is one (as cqlsh sniffs it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode(encoding or "utf-8", errors="replace")


def _skip_empty(page: Output | None) -> Output | None:
    """The first page from ``page`` on that has rows, or the last page (empty pages are skipped)."""
    while page is not None and not page.rows and page.next_page is not None:
        page = page.next_page()
    return page


def read_key() -> str:
    """One key from the terminal (a line from a non-terminal stdin); '' at end of input."""
    stream = sys.stdin
    try:
        import termios
        import tty as _tty
        fd = stream.fileno()
        if os.isatty(fd):
            saved = termios.tcgetattr(fd)
            try:
                _tty.setraw(fd)
                return os.read(fd, 1).decode(errors="replace")
            finally:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    line = stream.readline()
    if not line:
        return ""
    return line.strip()[:1] or "\n"
