"""The ``cqlpy`` program: parse options, connect, then run -e, -f, piped stdin, or the interactive REPL.

Exit status as cqlsh: 0; 2 when a statement failed without a terminal; 1 when the database or server
cannot be reached (or the -f file cannot be read).

Startup matters for ``cqlpy -e``: the cycle collector is off while the program imports and connects
(those objects live as long as the process: ``gc.freeze`` then keeps later collections off them),
and a run without a terminal ends, once everything is closed and flushed, with ``os._exit``, which
skips the interpreter's teardown of every module and object (about a third of a ``-e`` run).
"""
from __future__ import annotations

import gc
import os
import sys
from typing import Sequence

from .options import Options, UsageError, parse_args

EXIT_OK, EXIT_UNREACHABLE, EXIT_FAILED = 0, 1, 2


def connect(options: Options):
    """A session on the server at ``options.host``, else on the embedded database in ``options.data``."""
    if options.host is not None:
        return connect_server(options)
    import cqlpy
    os.makedirs(options.data, exist_ok=True)
    try:
        return cqlpy.connect(options.data)
    except Exception as error:          # noqa: BLE001 - any failure to open is a connection error
        raise ConnectionError(f"('Unable to open the embedded database in {options.data}', "
                              f"{type(error).__name__}('{error}'))") from error


def connect_server(options: Options):
    """A session on the CQL server at host:port through cqlpy's native-protocol client."""
    import cqlpy
    port = options.port or 9042
    address = f"{options.host}:{port}"
    try:
        return cqlpy.connect(host=options.host, port=port, username=options.username,
                             password=options.password, timeout=options.connect_timeout)
    except Exception as error:          # noqa: BLE001 - refused, unreachable, bad credentials...
        raise ConnectionError(f"('Unable to connect to any servers', {{'{address}': {error!r}}})") from error


def main(argv: Sequence[str] | None = None, *, stdin=None, stdout=None, stderr=None,
         environ=None) -> int:
    """Run the program; the exit status.  Run as the program itself (``argv`` None) without a
    terminal, the process ends here (see the module documentation)."""
    program = argv is None
    collecting = gc.isenabled()
    gc.disable()
    try:
        code, interactive = _main(argv, stdin, stdout, stderr, environ, program, collecting)
    finally:
        if collecting and not gc.isenabled():
            gc.enable()
    if program and not interactive:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return code


def _main(argv, stdin, stdout, stderr, environ, program: bool, collecting: bool) -> tuple[int, bool]:
    stdin = stdin or sys.stdin
    if stdout is None:
        stdout = sys.stdout
        encoding_stdout = True
    else:
        encoding_stdout = False
    stderr = stderr or sys.stderr
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv, environ)
    except UsageError as error:
        stderr.write(f"cqlpy: error: {error}\n")
        return EXIT_FAILED, False
    if encoding_stdout and options.encoding and hasattr(stdout, "reconfigure"):
        try:
            stdout.reconfigure(encoding=options.encoding, errors="replace")
        except (LookupError, ValueError):
            stderr.write(f"cqlpy: unknown encoding {options.encoding!r}; using {stdout.encoding}\n")
    batch = options.execute is not None or options.file is not None
    stdin_tty = _isatty(stdin)
    interactive = not batch and (stdin_tty or options.tty)
    tty = interactive or (options.tty and not batch)
    color = options.color if options.color is not None else (tty and _isatty(stdout))
    if options.file is not None and options.color is None:
        color = False

    script_text = None
    if options.file is not None:
        try:
            with open(os.path.expanduser(options.file), "rb") as f:
                data = f.read()
        except OSError as error:
            stderr.write(f"Can't open {options.file!r}: {error}\n")
            return EXIT_UNREACHABLE, False
        from .runner import decode_script
        script_text = decode_script(data, options.encoding)

    try:
        session = connect(options)
    except ConnectionError as error:
        stderr.write(f"Connection error: {error}\n")
        return EXIT_UNREACHABLE, False
    except KeyboardInterrupt:
        stderr.write("\nConnection aborted.\n")
        return EXIT_UNREACHABLE, False

    from .runner import ExitShell, Shell
    if interactive and not options.expand_set:
        options.expand = "AUTO"          # in a terminal, tables too wide for it turn vertical
    host = options.host or f"embedded:{options.data}"
    shell = Shell(session, options, stdout=stdout, stderr=stderr, tty=tty, color=color, host=host)
    if collecting:
        if program:
            gc.freeze()                  # the program's modules and tables: never garbage
        gc.enable()
    for warning in options.warnings:
        stderr.write(warning + "\n")
    try:
        if options.keyspace:
            shell.run_statement(f'USE "{options.keyspace}"', "<stdin>", 1)
        if options.execute is not None:
            shell.run_text(options.execute, "<stdin>", one_line=True)
        elif script_text is not None:
            shell.run_text(script_text, options.file)
        elif not interactive:
            shell.run_text(stdin.read(), "<stdin>")
        else:
            from .repl import run_repl
            run_repl(shell)
    except ExitShell:
        pass
    except KeyboardInterrupt:
        stderr.write("\n")
    finally:
        if shell.capture is not None:
            shell.capture.close()
        try:
            session.close()
        except Exception:           # noqa: BLE001
            pass
    if shell.failed and not interactive:
        return EXIT_FAILED, interactive
    return EXIT_OK, interactive


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
