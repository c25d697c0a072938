"""The special commands (cqlsh's, with its messages), registered in special.py's registry.

COPY lives in copy.py and HELP in help.py; every handler returns an Output.
"""
from __future__ import annotations

import os
from typing import Any

import cqlpy
from cqlpy.errors import CQLError

from .options import CQLSH_COMPAT_VERSION, FORMATS
from .output import NOTHING, Output, message
from .render import columnize
from .special import special_command

LEVELS = ("ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL",
          "LOCAL_SERIAL", "LOCAL_ONE", "NODE_LOCAL")
SERIAL_LEVELS = ("SERIAL", "LOCAL_SERIAL")


def _shell_error(text: str) -> Exception:
    from .runner import ShellError
    return ShellError(text)


def _improper(command: str, argument: str) -> Exception:
    return _shell_error(f"Improper {command} command.")


def _switch(name: str, current: bool, argument: str) -> tuple[bool, str]:
    """cqlsh's on_off_switch: (new value, message)."""
    state = "ON" if current else "OFF"
    if not argument:
        return current, f"{name} is {state}"
    wanted = argument.upper()
    if wanted not in ("ON", "OFF"):
        raise _improper(name, argument)
    if wanted == state:
        return current, f"{name} is already {state}"
    return wanted == "ON", f"{name} set to {wanted}"


def unquote(text: str) -> str:
    """A special command's quoted argument ('file' or "file") without its quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


# --- CQL passed to the session ------------------------------------------------------------------------

@special_command("DESCRIBE", aliases=("DESC",),
                 syntax="DESCRIBE [KEYSPACES | KEYSPACE ks | TABLES | TABLE [ks.]t | TYPES | TYPE t | "
                        "INDEX i | CLUSTER | [FULL] SCHEMA | name]",
                 help="""Prints the schema as CQL that runs again (answered by the database's DESCRIBE
statement).  DESCRIBE KEYSPACES and DESCRIBE TABLES list names; DESCRIBE <name> finds a keyspace,
then a table.""")
def describe(shell: Any, argument: str) -> Output:
    words = argument.split()
    what = words[0].lower() if words else ""
    if what == "only" and len(words) > 1:
        what = words[1].lower()
    text = "DESCRIBE " + argument if argument else "DESCRIBE KEYSPACE"
    if not argument and shell.keyspace is None:
        raise _shell_error("Not in any keyspace.")
    try:
        result = shell.session.execute(text)
    except CQLError as error:          # cqlsh prints DESCRIBE errors as the bare message
        raise _shell_error(str(error).split("\n")[0]) from None
    rows = list(getattr(result, "current_rows", None) or list(result))
    while getattr(result, "has_more_pages", False) and getattr(result, "paging_state", None):
        result = shell.session.execute(text, paging_state=result.paging_state)
        rows.extend(getattr(result, "current_rows", None) or [])
    names = list(getattr(result, "column_names", None) or [])
    records = [dict(zip(names, row)) for row in rows]
    width = shell.render_options().width
    if what == "keyspaces":
        return message("\n" + columnize([str(r.get("name")) for r in records], width) + "\n")
    if what in ("tables", "columnfamilies", "types", "functions", "aggregates"):
        return message(_describe_list(records, shell.keyspace, width))
    if what == "cluster":
        parts = []
        for r in records:
            parts.append(f"\nCluster: {r.get('cluster')}\nPartitioner: {r.get('partitioner')}\n"
                         f"Snitch: {r.get('snitch')}\n")
            ownership = r.get("range_ownership")
            if ownership:
                parts.append("Range ownership:\n" + "".join(
                    f" {token:>39}  [{', '.join(hosts)}]\n" for token, hosts in dict(ownership).items()) + "\n")
        return message("".join(parts))
    return message("".join(f"\n{r.get('create_statement')}\n" for r in records))


def _describe_list(records: list[dict], keyspace: str | None, width: int) -> str:
    out: list[str] = []
    groups: dict[str, list[str]] = {}
    for r in records:
        groups.setdefault(str(r.get("keyspace_name")), []).append(str(r.get("name")))
    for ks, names in groups.items():
        out.append("\n")
        if keyspace is None:
            out.append(f"Keyspace {ks}\n---------{'-' * len(ks)}\n")
        out.append(columnize(names, width))
    if groups:
        out.append("\n")
    return "".join(out)


@special_command("USE", syntax="USE <keyspace>;", semicolon=True,
                 help="Makes <keyspace> the current keyspace: unqualified table names refer to it.")
def use(shell: Any, argument: str) -> Output:
    output = shell.execute_cql(f"USE {argument}")
    shell.schema_changed()
    return output


@special_command("EXPLAIN", syntax="EXPLAIN <statement>;", semicolon=True,
                 help="Shows the plan of a statement (partitions, slices, index or filtering, "
                      "SSTables) without running it.")
def explain(shell: Any, argument: str) -> Output:
    return shell.execute_cql(f"EXPLAIN {argument}", footer=True)


# --- settings -------------------------------------------------------------------------------------------

@special_command("CONSISTENCY", syntax="CONSISTENCY [level]", arguments=(LEVELS,),
                 help="Shows or sets the consistency level of later requests (default ONE).")
def consistency(shell: Any, argument: str) -> Output:
    if not argument:
        return message(f"Current consistency level is {shell.state.consistency}.")
    level = argument.upper()
    if level not in LEVELS:
        raise _improper("CONSISTENCY", argument)
    shell.state.consistency = level
    return message(f"Consistency level set to {level}.")


@special_command("SERIAL CONSISTENCY", syntax="SERIAL CONSISTENCY [SERIAL | LOCAL_SERIAL]",
                 arguments=(SERIAL_LEVELS,),
                 help="Shows or sets the serial consistency level of conditional writes (default SERIAL).")
def serial_consistency(shell: Any, argument: str) -> Output:
    if not argument:
        return message(f"Current serial consistency level is {shell.state.serial_consistency}.")
    level = argument.upper()
    if level not in SERIAL_LEVELS:
        raise _improper("SERIAL CONSISTENCY", argument)
    shell.state.serial_consistency = level
    return message(f"Serial consistency level set to {level}.")


@special_command("EXPAND", syntax="EXPAND [ON | OFF | AUTO]", arguments=(("ON", "OFF", "AUTO"),),
                 help="""Vertical output: one `@ Row N` block per row.  AUTO switches to it when a table
is wider than the terminal.""")
def expand(shell: Any, argument: str) -> Output:
    current = shell.state.expand
    if not argument:
        return message(f"EXPAND is {current}")
    wanted = argument.upper()
    if wanted not in ("ON", "OFF", "AUTO"):
        raise _improper("EXPAND", argument)
    if wanted == current:
        return message(f"EXPAND is already {current}")
    shell.state.expand = wanted
    if shell.state.format == "expand" and wanted != "ON":
        shell.state.format = "table"
    return message(f"EXPAND set to {wanted}")


@special_command("PAGING", syntax="PAGING [ON | OFF | <page size>]", arguments=(("ON", "OFF", "<page size>"),),
                 help="Shows or sets paging: in a terminal a key shows the next page (default 100 rows).")
def paging(shell: Any, argument: str) -> Output:
    state = shell.state
    lines = []
    if argument.isdigit():
        if int(argument) <= 0:
            raise _improper("PAGING", argument)
        state.paging, state.page_size = True, int(argument)
    else:
        state.paging, text = _switch("PAGING", state.paging, argument)
        lines.append(text)
    if state.paging:
        lines.append(f"Page size: {state.page_size}")
    else:
        state.page_size = shell.options.page_size
    return message("\n".join(lines))


@special_command("TRACING", syntax="TRACING [ON | OFF]", arguments=(("ON", "OFF"),),
                 help="Traces later requests and prints the trace after each result (shell/tracing.py): "
                      "the session, each step with its time and thread, and Request complete.")
def tracing(shell: Any, argument: str) -> Output:
    shell.state.tracing, text = _switch("TRACING", shell.state.tracing, argument)
    return message(text)


@special_command("TIMING", syntax="TIMING [ON | OFF]", arguments=(("ON", "OFF"),),
                 help="Prints how long each statement took (`Time: 0.003s`).")
def timing(shell: Any, argument: str) -> Output:
    shell.state.timing, text = _switch("TIMING", shell.state.timing, argument)
    return message(text)


@special_command("OUTPUT", syntax="OUTPUT [table | expand | csv | json]", arguments=(FORMATS,),
                 help="Shows or sets the output format of results (as --format).")
def output_format(shell: Any, argument: str) -> Output:
    if not argument:
        return message(f"OUTPUT is {shell.state.format}")
    wanted = argument.lower()
    if wanted not in FORMATS:
        raise _improper("OUTPUT", argument)
    shell.state.format = wanted
    if wanted == "expand":
        shell.state.expand = "ON"
    elif shell.state.expand == "ON":
        shell.state.expand = "OFF"
    return message(f"OUTPUT set to {wanted}")


# --- files ----------------------------------------------------------------------------------------------

def _file_completer(args: list[str], prefix: str, catalog: Any) -> list:
    from .completion import Suggestion
    if args:
        return [Suggestion("OFF", "value")] if not args[0].startswith("'") else []
    return [Suggestion("", "hint", "'<file>'")]


@special_command("SOURCE", syntax="SOURCE '<file>'", completer=_file_completer,
                 help="Runs the statements of a file, without prompts; errors do not stop it.")
def source(shell: Any, argument: str) -> Output:
    if not argument:
        raise _shell_error("SOURCE needs a file name: SOURCE 'file.cql'")
    shell.run_file(unquote(argument))          # its errors are reported as they happen
    return NOTHING


@special_command("CAPTURE", syntax="CAPTURE ['<file>' | OFF]", completer=_file_completer,
                 help="Appends query results (not errors) to a file, without colour; CAPTURE OFF stops.")
def capture(shell: Any, argument: str) -> Output:
    if not argument:
        if shell.capture is not None:
            return message(f"Currently capturing query output to {shell.capture_path!r}.")
        return message("Currently not capturing query output.")
    if argument.upper() == "OFF":
        if shell.capture is None:
            raise _shell_error("Not currently capturing output.")
        shell.capture.close()
        shell.capture, shell.capture_path = None, None
        return NOTHING
    if shell.capture is not None:
        raise _shell_error(f"Already capturing output to {shell.capture_path}. Use CAPTURE OFF to disable.")
    path = os.path.expanduser(unquote(argument))
    try:
        shell.capture = open(path, "a", encoding="utf-8")
    except OSError as error:
        raise _shell_error(f"Could not open {path!r} for append: {error}") from None
    shell.capture_path = path
    return message(f"Now capturing query output to {path!r}.")


# --- information ----------------------------------------------------------------------------------------

def version_line(shell: Any) -> str:
    release, cql = "unknown", "3.4.7"
    try:
        row = shell.session.execute("SELECT release_version, cql_version FROM system.local").one()
        if row is not None:
            release, cql = row[0], row[1]
    except Exception:       # noqa: BLE001 - the banner must not fail
        pass
    return f"[cqlpy {cqlpy.__version__} | cqlsh {CQLSH_COMPAT_VERSION} compatible | Cassandra {release} | " \
           f"CQL spec {cql} | Native protocol v4]"


def host_line(shell: Any) -> str:
    cluster = "Test Cluster"
    try:
        row = shell.session.execute("SELECT cluster_name FROM system.local").one()
        if row is not None and row[0]:
            cluster = row[0]
    except Exception:       # noqa: BLE001
        pass
    return f"Connected to {cluster} at {shell.host}"


@special_command("SHOW", syntax="SHOW VERSION | HOST", arguments=(("VERSION", "HOST"),),
                 help="SHOW VERSION prints the versions; SHOW HOST where the shell is connected.")
def show(shell: Any, argument: str) -> Output:
    what = argument.upper()
    if what == "VERSION":
        return message(version_line(shell))
    if what == "HOST":
        return message(host_line(shell))
    raise _improper("SHOW", argument)


@special_command("HISTORY", syntax="HISTORY [n]", arguments=(("<number of entries>",),),
                 help="Prints the last n statements of the history (default 50), oldest first.")
def history(shell: Any, argument: str) -> Output:
    if argument and not argument.isdigit():
        raise _improper("HISTORY", argument)
    count = int(argument) if argument else 50
    entries = list(getattr(shell, "history_entries", lambda: [])())
    return message("\n".join(entries[-count:]) if count and entries else "")


@special_command("CLEAR", aliases=("CLS",), syntax="CLEAR", help="Clears the terminal.")
def clear(shell: Any, argument: str) -> Output:
    if shell.tty:
        shell.write("\033[2J\033[H")
    return NOTHING


@special_command("EXIT", aliases=("QUIT",), syntax="EXIT", help="Leaves the shell (also Ctrl-D).")
def exit_(shell: Any, argument: str) -> Output:
    from .runner import ExitShell
    raise ExitShell()

