"""The real cqlsh (6.2) against a cqlpy server, as a subprocess."""
import shutil
import subprocess

import pytest

from cqlpy.protocol.server import ServerOptions, ServerThread

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("cqlsh") is None, reason="cqlsh is not installed")]


@pytest.fixture(scope="module")
def server(backend):
    with ServerThread(backend, ServerOptions(port=0)) as s:
        yield s


def cqlsh(server, statements, *extra):
    host, port = server.address
    return subprocess.run(["cqlsh", host, str(port), *extra, "-e", statements],
                          capture_output=True, text=True, timeout=60)


def test_statements_describe_and_use(server):
    out = cqlsh(server, "CREATE KEYSPACE sh WITH replication = {'class': 'SimpleStrategy', "
                        "'replication_factor': 1}; CREATE TABLE sh.t (id int PRIMARY KEY, name text); "
                        "INSERT INTO sh.t (id, name) VALUES (1, 'one'); SELECT * FROM sh.t; "
                        "DESCRIBE KEYSPACES; DESCRIBE TABLE sh.t; USE sh; SELECT name FROM t WHERE id = 1;",
                "--protocol-version=4")
    assert out.returncode == 0, out.stderr
    assert "(1 rows)" in out.stdout and " one" in out.stdout
    assert "sh" in out.stdout and "CREATE TABLE sh.t (" in out.stdout
    assert "schema version mismatch" not in out.stdout + out.stderr


def test_default_protocol_walk_and_error_exit_code(server):
    out = cqlsh(server, "SELECT * FROM nosuch.t;")
    assert out.returncode == 2
    assert "InvalidRequest" in out.stderr and "code=2200" in out.stderr


def test_no_version_warning(server):
    out = cqlsh(server, "SELECT key FROM system.local;", "--protocol-version=4")
    assert out.returncode == 0
    assert "WARNING: cqlsh was built against" not in out.stdout + out.stderr


def test_password_authentication(server):
    from cqlpy.protocol.auth import PasswordAuthenticator
    opts = ServerOptions(port=0, authenticator=PasswordAuthenticator())
    with ServerThread(server.server.backend, opts) as auth_server:
        ok = cqlsh(auth_server, "SELECT key FROM system.local;", "-u", "cassandra", "-p", "cassandra",
                   "--protocol-version=4")
        assert ok.returncode == 0 and "(1 rows)" in ok.stdout, ok.stderr
        bad = cqlsh(auth_server, "SELECT key FROM system.local;", "-u", "cassandra", "-p", "nope",
                    "--protocol-version=4")
        assert bad.returncode != 0 and "Bad credentials" in bad.stderr
