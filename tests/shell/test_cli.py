"""The real program in a subprocess: -e, -f, piped stdin, exit statuses, connection errors."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cqlpy

needs_db = pytest.mark.skipif(not hasattr(cqlpy, "connect"), reason="cqlpy.connect() does not exist yet")


def run(args, tmp_path: Path, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(tmp_path), "CQLPY_DATA": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "cqlpy_shell", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=tmp_path)


def test_an_unreachable_host_is_a_clear_connection_error(tmp_path):
    import socket
    with socket.socket() as probe:            # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(["127.0.0.1", str(port)], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"Connection error: ('Unable to connect to any servers', {{'127.0.0.1:{port}':")
    assert "Traceback" not in result.stderr


def test_unreadable_file(tmp_path):
    result = run(["-f", "missing.cql"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Can't open 'missing.cql': ")


def test_version(tmp_path):
    result = run(["--version"], tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("cqlpy ")


@needs_db
def test_execute_and_piped_stdin(tmp_path):
    setup = run(["-e", "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                       "'replication_factor': 1}"], tmp_path)
    assert setup.returncode == 0, setup.stderr
    piped = run([], tmp_path, stdin="USE ks;\nCREATE TABLE t (k int PRIMARY KEY, v text);\n"
                                    "INSERT INTO t (k, v) VALUES (1, 'a');\nSELECT * FROM t;\n"
                                    "SELECT * FROM nope;\nEXPAND ON\nSELECT * FROM t;\n")
    assert piped.returncode == 2
    assert piped.stdout == ("\n k | v\n---+---\n 1 | a\n\n(1 rows)\nEXPAND set to ON\n\n@ Row 1\n---+---\n"
                            " k | 1\n v | a\n\n\n(1 rows)\n")
    assert piped.stderr == ('<stdin>:6:InvalidRequest: Error from server: code=2200 [Invalid query] '
                            'message="table nope does not exist"\n')
    keyspace = run(["-k", "ks", "-e", "SELECT v FROM t"], tmp_path)
    assert keyspace.returncode == 0 and "(1 rows)" in keyspace.stdout
    formatted = run(["-k", "ks", "--format", "json", "-e", "SELECT * FROM t"], tmp_path)
    assert formatted.stdout == '[\n{"k": 1, "v": "a"}\n]\n'


@needs_db
def test_script_file_errors_name_file_and_line(tmp_path):
    script = tmp_path / "s.cql"
    script.write_text("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
                      "\n"
                      "SELECT *\n  FROM ks.missing;\n"
                      "SHOW VERSION\n")
    result = run(["-f", "s.cql"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("s.cql:5:InvalidRequest:")      # lines 3-4, numbered as cqlsh does
    assert result.stdout.startswith("[cqlpy ")


def test_a_host_is_served_by_the_network_client(tmp_path):
    server_mod = pytest.importorskip("cqlpy.protocol.server")
    backend_mod = pytest.importorskip("cqlpy.protocol.backend")
    import io
    from cqlpy_shell.main import main
    backend = backend_mod.SessionBackend.open_path(str(tmp_path / "server"))
    try:
        with server_mod.ServerThread(backend, server_mod.ServerOptions(port=0)) as server:
            host, port = server.address
            out, err = io.StringIO(), io.StringIO()
            script = ("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n"
                      "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c));\n"
                      + "".join(f"INSERT INTO ks.t (k, c, v) VALUES (1, {i}, 'v{i}');\n" for i in range(3))
                      + "PAGING 2\nSELECT * FROM ks.t;\nSELECT * FROM ks.nope;\n")
            code = main([host, str(port)], stdin=io.StringIO(script), stdout=out, stderr=err,
                        environ={"HOME": str(tmp_path)})
    finally:
        backend.close()
    assert code == 2
    assert out.getvalue() == ("Page size: 2\n\n k | c | v\n---+---+----\n 1 | 0 | v0\n 1 | 1 | v1\n 1 | 2 | v2\n"
                              "\n(3 rows)\n")
    assert err.getvalue().startswith("<stdin>:9:InvalidRequest: Error from server: code=2200")  # line 8, as cqlsh
