"""The interactive shell: a prompt_toolkit prompt wired to the Shell.

* Prompt ``cqlpy> `` / ``cqlpy:ks> ``; Enter runs the input only when it is complete
  (script.input_complete: the grammar's statement end, or a special command's line); otherwise it
  adds a line.  Alt-Enter runs at once.  A paste of several statements runs them in order.
* History: one entry per statement, never one that holds a password; Ctrl-R searches it; ghost-text
  suggestions come from it.  Ctrl-C drops the current input, Ctrl-D (on an empty line) exits.
* Completion (completion.complete over the catalog snapshot, reloaded after DDL), highlighting
  (highlight.py), and a bottom toolbar with keyspace, consistency, paging, expand, tracing.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.styles import Style

from .completion import complete
from .highlight import STYLE, lexer
from .runner import ExitShell, Shell
from .script import input_complete, split_input

CONTINUATION_HINT = ("Statements are terminated with a ';'.  You can press CTRL-C to cancel an "
                     "incomplete statement.")
_SECRET = re.compile(r"\bPASSWORD\b|^\s*LOGIN\b", re.IGNORECASE)


def history_entries(text: str) -> list[str]:
    """The history entries for one accepted input: one per statement (CQL with its ``;``), leaving
    out any statement that holds a password."""
    entries = []
    for piece in split_input(text):
        if _SECRET.search(piece.text):
            continue
        entries.append(piece.text if piece.special else piece.text + ";")
    return entries


class StatementHistory(History):
    """Wraps a prompt_toolkit History, storing each statement of an input as its own entry."""

    def __init__(self, inner: History) -> None:
        super().__init__()
        self.inner = inner

    def load_history_strings(self) -> Iterable[str]:
        return self.inner.load_history_strings()

    def store_string(self, string: str) -> None:
        self.inner.store_string(string)

    def append_string(self, string: str) -> None:
        for entry in history_entries(string):
            self._loaded_strings.insert(0, entry)
            self.store_string(entry)


class ShellCompleter(Completer):
    """prompt_toolkit adapter over the pure ``complete`` function."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def get_completions(self, document, complete_event):
        try:
            suggestions = complete(document.text, document.cursor_position, self.shell.catalog())
        except Exception:           # noqa: BLE001 - completion never breaks typing
            return
        word = re.search(r'(?:"(?:[^"]|"")*|[A-Za-z0-9_]*)\Z', document.text_before_cursor).group()
        for s in suggestions:
            if s.kind == "hint":
                yield Completion("", 0, display=s.display, display_meta="hint")
            else:
                replace = len(word) if s.replace is None else s.replace
                yield Completion(s.text, -replace, display=s.label, display_meta=s.kind)


def prompt_text(shell: Shell) -> str:
    keyspace = shell.keyspace
    return f"cqlpy:{keyspace}> " if keyspace else "cqlpy> "


def toolbar_text(shell: Shell) -> str:
    state = shell.state
    paging = f"ON ({state.page_size})" if state.paging else "OFF"
    return (f" keyspace: {shell.keyspace or '-'} | consistency: {state.consistency} | paging: {paging} | "
            f"expand: {state.expand} | tracing: {'ON' if state.tracing else 'OFF'} | output: {state.format}"
            + (f" | capturing to {shell.capture_path}" if shell.capture_path else ""))


def key_bindings(shell: Shell) -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter")
    def _(event):
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion is not None:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if input_complete(buffer.text):
            buffer.validate_and_handle()
            return
        buffer.insert_text("\n")
        if buffer.text.endswith("\n\n\n\n"):
            from prompt_toolkit.application import run_in_terminal
            run_in_terminal(lambda: print(CONTINUATION_HINT))

    @bindings.add("escape", "enter")
    def _(event):
        event.current_buffer.validate_and_handle()

    return bindings


def make_session(shell: Shell) -> PromptSession:
    options = shell.options
    inner: History
    if options.disable_history or not options.history_file:
        inner = InMemoryHistory()
    else:
        import os
        os.makedirs(os.path.dirname(options.history_file) or ".", exist_ok=True)
        inner = FileHistory(options.history_file)
    return PromptSession(
        multiline=True, history=StatementHistory(inner), auto_suggest=AutoSuggestFromHistory(),
        completer=ShellCompleter(shell), complete_while_typing=False, lexer=lexer(),
        style=Style.from_dict(STYLE), key_bindings=key_bindings(shell), enable_history_search=False,
        bottom_toolbar=lambda: toolbar_text(shell), include_default_pygments_style=False,
        prompt_continuation=lambda width, line_number, soft_wrap: " " * max(width - 4, 0) + "... ",
        search_ignore_case=True, color_depth=None if shell.color else ColorDepth.MONOCHROME)


def banner(shell: Shell) -> str:
    from .commands import host_line, version_line
    return f"{host_line(shell)}\n{version_line(shell)}\nUse HELP for help.\n"


def run_repl(shell: Shell, session: Any = None) -> None:
    """Read, run, print until EXIT or Ctrl-D."""
    session = session or make_session(shell)
    shell.history_entries = lambda: list(session.history.get_strings())
    shell.write(banner(shell))
    # build the grammar tables while the user reads the banner
    import threading
    from .grammar_facts import grammar_facts
    threading.Thread(target=grammar_facts, daemon=True).start()
    while True:
        try:
            text = session.prompt(lambda: prompt_text(shell))
        except KeyboardInterrupt:
            continue
        except EOFError:
            shell.write("\n")
            return
        try:
            for piece in split_input(text):
                if not piece.terminated:
                    continue
                shell.run_statement(piece.text)
        except ExitShell:
            return
