"""The command line and cqlshrc: ``cqlpy [options] [host [port]]`` with cqlsh's flags.

``parse_args(argv, environ)`` returns Options (pure: no terminal, no files but the cqlshrc it is told
to read).  Precedence, as cqlsh: command-line flag > cqlshrc > built-in default.  The cqlshrc is
cqlsh's INI file (``~/.cassandra/cqlshrc``): sections [authentication], [ui], [connection], [copy],
[copy-to], [copy-from], [copy:ks.table], [history] are read; a [cqlpy] section adds cqlpy's own
settings (``data``, ``format``, ``expand``, ``page_size``).
"""
from __future__ import annotations

import argparse
import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

SHELL_NAME = "cqlpy"
CQLSH_COMPAT_VERSION = "6.2.2"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_PAGE_SIZE = 100
FORMATS = ("table", "expand", "csv", "json")


@dataclass
class Options:
    host: str | None = None
    port: int | None = None
    data: str | None = None
    execute: str | None = None
    file: str | None = None
    keyspace: str | None = None
    username: str | None = None
    password: str | None = None
    cqlshrc: str | None = None
    color: bool | None = None           # None: decide from the terminal
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    encoding: str = "utf-8"
    tty: bool = False                   # -t: behave as if on a terminal
    format: str = "table"
    expand: str = "OFF"
    expand_set: bool = False            # expand chosen by --format or the cqlshrc
    page_size: int = DEFAULT_PAGE_SIZE
    disable_history: bool = False
    history_file: str | None = None
    float_precision: int = 5
    double_precision: int = 5
    copy_options: dict[str, dict[str, str]] = field(default_factory=dict)   # section -> options
    warnings: list[str] = field(default_factory=list)


class UsageError(Exception):
    """Bad command line: the message is printed with the usage, exit status 2 (argparse's)."""


def build_parser() -> argparse.ArgumentParser:
    from cqlpy import __version__ as CQLPY_VERSION     # imported when the program runs, not on import
    parser = argparse.ArgumentParser(
        prog=SHELL_NAME, usage=f"{SHELL_NAME} [options] [host [port]]",
        description="CQL shell for cqlpy: with no host it opens the embedded database in --data DIR.",
        epilog="Connects to the embedded database in $CQLPY_DATA (or the user's data folder) unless a "
               "host is given.")
    parser.add_argument("host", nargs="?", help="a CQL server to connect to (needs the network client)")
    parser.add_argument("port", nargs="?", help="its native-protocol port (default 9042)")
    parser.add_argument("-v", "--version", action="version",
                        version=f"{SHELL_NAME} {CQLPY_VERSION} (cqlsh {CQLSH_COMPAT_VERSION} compatible)")
    parser.add_argument("-C", "--color", action="store_true", dest="color", default=None,
                        help="always use colour output")
    parser.add_argument("--no-color", action="store_false", dest="color", help="never use colour output")
    parser.add_argument("-u", "--username", help="authenticate as user")
    parser.add_argument("-p", "--password", help="authenticate using password")
    parser.add_argument("-k", "--keyspace", help="start in this keyspace")
    parser.add_argument("-f", "--file", help="execute commands from FILE, then exit")
    parser.add_argument("-e", "--execute", help="execute the statement and quit")
    parser.add_argument("--cqlshrc", help="an alternative cqlshrc file")
    parser.add_argument("--data", help="the embedded database's folder (default $CQLPY_DATA, else "
                                       "~/.local/share/cqlpy)")
    parser.add_argument("--format", choices=FORMATS, help="output format (default table)")
    parser.add_argument("--encoding", help="output encoding (default utf-8)")
    parser.add_argument("--connect-timeout", type=float, dest="connect_timeout",
                        help=f"connection timeout in seconds (default {DEFAULT_CONNECT_TIMEOUT:g})")
    parser.add_argument("--request-timeout", type=float, dest="request_timeout",
                        help=f"request timeout in seconds (default {DEFAULT_REQUEST_TIMEOUT:g})")
    parser.add_argument("-t", "--tty", action="store_true", help="force tty mode (prompts, paging)")
    parser.add_argument("--disable-history", action="store_true", help="do not save the history")
    return parser


def default_data_dir(environ: Mapping[str, str]) -> str:
    """$CQLPY_DATA, else $XDG_DATA_HOME/cqlpy, else ~/.local/share/cqlpy."""
    if environ.get("CQLPY_DATA"):
        return environ["CQLPY_DATA"]
    base = environ.get("XDG_DATA_HOME") or os.path.join(environ.get("HOME") or str(Path.home()),
                                                        ".local", "share")
    return os.path.join(base, "cqlpy")


def default_cqlshrc(environ: Mapping[str, str]) -> str:
    return os.path.join(environ.get("HOME") or str(Path.home()), ".cassandra", "cqlshrc")


def read_cqlshrc(path: str) -> configparser.ConfigParser:
    """The cqlshrc at ``path`` (empty when missing); interpolation off, as cqlsh reads it."""
    config = configparser.ConfigParser(interpolation=None)
    if path and os.path.exists(path):
        config.read(path, encoding="utf-8")
    return config


def _get(config: configparser.ConfigParser, section: str, key: str) -> str | None:
    if config.has_option(section, key):
        return config.get(section, key)
    return None


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "yes", "true", "on")


def parse_args(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> Options:
    """Options from the command line, the cqlshrc and the environment (argparse exits on --help,
    --version and usage errors, as cqlsh)."""
    environ = os.environ if environ is None else environ
    ns = build_parser().parse_args(list(argv))
    options = Options()
    rc_path = ns.cqlshrc or default_cqlshrc(environ)
    options.cqlshrc = rc_path
    config = read_cqlshrc(rc_path)
    apply_cqlshrc(options, config)

    if ns.host is not None:
        options.host = ns.host
    if ns.port is not None:
        try:
            options.port = int(ns.port)
        except ValueError:
            raise UsageError(f"port must be a number, not {ns.port!r}") from None
    for name in ("username", "password", "keyspace", "file", "execute", "encoding", "format",
                 "connect_timeout", "request_timeout"):
        value = getattr(ns, name)
        if value is not None:
            setattr(options, name, value)
    if ns.color is not None:
        options.color = ns.color
    if ns.tty:
        options.tty = True
    if ns.disable_history:
        options.disable_history = True
    options.data = ns.data or _get(config, "cqlpy", "data") or default_data_dir(environ)
    if options.execute is not None and not options.execute.rstrip().endswith(";"):
        options.execute = options.execute.rstrip() + ";"
    options.history_file = environ.get("CQL_HISTORY") or os.path.join(
        environ.get("HOME") or str(Path.home()), ".cassandra", "cqlpy_history")
    if options.format == "expand":
        options.expand = "ON"
        options.expand_set = True
    return options


def apply_cqlshrc(options: Options, config: configparser.ConfigParser) -> None:
    """Copy the cqlshrc settings cqlpy understands into ``options``."""
    for key in ("username", "password", "keyspace"):
        value = _get(config, "authentication", key)
        if value:
            setattr(options, key, value)
    if _get(config, "authentication", "password"):
        options.warnings.append("Notice: Credentials in the cqlshrc file are deprecated and will be "
                                "ignored in the future.")
    color = _get(config, "ui", "color")
    if color is not None:
        options.color = _bool(color)
    encoding = _get(config, "ui", "encoding")
    if encoding:
        options.encoding = encoding
    for key in ("float_precision", "double_precision"):
        value = _get(config, "ui", key)
        if value and value.strip().isdigit():
            setattr(options, key, int(value))
    tty = _get(config, "ui", "tty")
    if tty is not None and _bool(tty):
        options.tty = True
    # [connection] hostname/port are not read: without a host argument cqlpy opens the embedded
    # database (a cqlshrc written for cqlsh names 127.0.0.1, which would hide it).
    for key, attr in (("timeout", "connect_timeout"), ("request_timeout", "request_timeout")):
        value = _get(config, "connection", key)
        if value:
            try:
                setattr(options, attr, float(value))
            except ValueError:
                options.warnings.append(f"Ignoring [connection] {key} = {value!r}: not a number")
    disabled = _get(config, "history", "disabled")
    if disabled is not None and _bool(disabled):
        options.disable_history = True
    fmt = _get(config, "cqlpy", "format")
    if fmt in FORMATS:
        options.format = fmt
    expand = _get(config, "cqlpy", "expand")
    if expand and expand.upper() in ("ON", "OFF", "AUTO"):
        options.expand = expand.upper()
        options.expand_set = True
    page = _get(config, "cqlpy", "page_size")
    if page and page.strip().isdigit():
        options.page_size = int(page)
    for section in config.sections():
        if section in ("copy", "copy-to", "copy-from") or section.startswith("copy:"):
            options.copy_options[section] = {k.upper(): v for k, v in config.items(section)}


def copy_defaults(options: Options, keyspace: str, table: str, direction: str) -> dict[str, str]:
    """COPY options from the cqlshrc for one table and direction: [copy], then [copy-to] or
    [copy-from], then [copy:ks.table] and [copy-to:ks.table] (later sections win), as cqlsh."""
    merged: dict[str, str] = {}
    specific = f"{keyspace}.{table}"
    for section in ("copy", f"copy-{direction}", f"copy:{specific}", f"copy-{direction}:{specific}"):
        merged.update(options.copy_options.get(section, {}))
    return merged
