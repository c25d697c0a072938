"""Compatibility with the real cqlsh 6.2.2: the golden scripts that use only cqlsh's features run
through ``cqlsh HOST PORT -f`` against cqlpy's protocol server must print exactly what cqlpy's shell
prints (its .out file), and report the same errors.

stderr must match byte for byte, line numbers included: cqlpy numbers an error as cqlsh does, with
the line after the one that completed the statement (cqlpy_shell.script.execution_lines).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import cqlpy

SCRIPTS = Path(__file__).parent / "scripts"
COMPATIBLE = ["basics", "cas", "describe", "errors", "expand", "incomplete", "paging", "types"]

pytestmark = [
    pytest.mark.skipif(shutil.which("cqlsh") is None, reason="cqlsh is not installed"),
    pytest.mark.skipif(not hasattr(cqlpy, "connect"), reason="cqlpy.connect() does not exist yet"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """start(name) -> (host, port) of a fresh cqlpy protocol server (one database per script)."""
    server_mod = pytest.importorskip("cqlpy.protocol.server")
    backend_mod = pytest.importorskip("cqlpy.protocol.backend")
    root = tmp_path_factory.mktemp("cqlsh_compat")
    running = []

    def start(name: str) -> tuple[str, int]:
        backend = backend_mod.SessionBackend.open_path(str(root / name))
        thread = server_mod.ServerThread(backend, server_mod.ServerOptions(port=0)).start()
        running.append((thread, backend))
        return thread.address

    yield start, root
    for thread, backend in running:
        thread.stop()
        backend.close()


@pytest.mark.parametrize("name", COMPATIBLE)
def test_cqlsh_prints_the_same(name, server):
    start, root = server
    host, port = start(name)
    env = {**os.environ, "HOME": str(root)}
    result = subprocess.run(["cqlsh", host, str(port), "-f", f"{name}.cql"], capture_output=True, text=True,
                            env=env, timeout=120, cwd=SCRIPTS)
    expected_out = (SCRIPTS / f"{name}.out").read_text()
    err_file = SCRIPTS / f"{name}.err"
    expected_err = err_file.read_text() if err_file.exists() else ""
    assert result.stdout == expected_out
    assert result.stderr == expected_err
    rc_file = SCRIPTS / f"{name}.rc"
    assert result.returncode == (int(rc_file.read_text()) if rc_file.exists() else 0)
