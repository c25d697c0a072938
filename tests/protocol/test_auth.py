"""Authentication: SASL PLAIN without sockets, then logins against system_auth.roles with the real
cassandra-driver, cqlsh, cqlpy's shell, and a cqlpy-server process that restarts."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from cqlpy.errors import AuthenticationFailed
from cqlpy.protocol.auth import (
    AllowAllAuthenticator,
    PasswordAuthenticator,
    authenticator_named,
)
from cqlpy.protocol.server import ServerOptions, ServerThread
from server_processes import ServerProcess

# --- the negotiator, without sockets --------------------------------------------------------------------


def test_plain_accepts_the_right_password_only():
    auth = PasswordAuthenticator({"alice": "s3cret"})
    n = auth.new_negotiator()
    assert n.evaluate(b"\x00alice\x00s3cret") is None and n.user == "alice"
    assert auth.new_negotiator().evaluate(b"authz\x00alice\x00s3cret") is None
    for token in (b"\x00alice\x00wrong", b"\x00bob\x00s3cret", b"\x00\x00", b"alice:s3cret", None,
                  b"\x00alice\x00s3cret\x00more", b"\x00\xff\x00x"):
        with pytest.raises(AuthenticationFailed):
            auth.new_negotiator().evaluate(token)


def test_default_superuser_and_custom_check():
    assert PasswordAuthenticator().new_negotiator().evaluate(b"\x00cassandra\x00cassandra") is None
    auth = PasswordAuthenticator(check=lambda u, p: p == u[::-1])
    assert auth.new_negotiator().evaluate(b"\x00abc\x00cba") is None


def test_names():
    assert isinstance(authenticator_named("allow_all"), AllowAllAuthenticator)
    assert not authenticator_named("AllowAllAuthenticator").requires_authentication
    p = authenticator_named("org.apache.cassandra.auth.PasswordAuthenticator")
    assert p.requires_authentication and p.class_name == "org.apache.cassandra.auth.PasswordAuthenticator"
    with pytest.raises(ValueError):
        authenticator_named("kerberos")


def test_plain_against_the_stored_roles(backend):
    auth = authenticator_named("password", backend.role_manager())
    n = auth.new_negotiator()
    assert n.evaluate(b"\x00cassandra\x00cassandra") is None and n.user == "cassandra"
    with pytest.raises(AuthenticationFailed, match="^Provided username cassandra and/or password "
                                                   "are incorrect$"):
        auth.new_negotiator().evaluate(b"\x00cassandra\x00wrong")
    with pytest.raises(AuthenticationFailed, match="Provided username ghost and/or"):
        auth.new_negotiator().evaluate(b"\x00ghost\x00cassandra")


# --- the real cassandra-driver, cqlsh and cqlpy shell over a server checking system_auth ---------------

cassandra = pytest.importorskip("cassandra")
from cassandra import Unauthorized  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable  # noqa: E402
from cassandra.policies import RoundRobinPolicy  # noqa: E402


def cluster(host, port, user, password):
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    return Cluster([host], port=port, protocol_version=4, connect_timeout=10,
                   control_connection_timeout=10, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                   auth_provider=PlainTextAuthProvider(user, password))


def login(host, port, user, password):
    c = cluster(host, port, user, password)
    return c, c.connect()


@pytest.fixture(scope="module")
def auth_server(backend):
    opts = ServerOptions(port=0, authenticator=authenticator_named("password", backend.role_manager()))
    with ServerThread(backend, opts) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(auth_server):
    c, s = login(*auth_server.address, "cassandra", "cassandra")
    yield s
    c.shutdown()


def test_driver_logs_in_with_a_role_created_over_cql(auth_server, admin):
    admin.execute("CREATE ROLE IF NOT EXISTS alice WITH PASSWORD = 'alice-pw' AND LOGIN = true")
    c, s = login(*auth_server.address, "alice", "alice-pw")
    try:
        assert s.execute("SELECT key FROM system.local").one().key == "local"
    finally:
        c.shutdown()
    bad = cluster(*auth_server.address, "alice", "wrong")
    with pytest.raises(NoHostAvailable) as info:
        bad.connect()
    bad.shutdown()
    (error,) = info.value.errors.values()
    assert isinstance(error, cassandra.AuthenticationFailed)
    assert "Provided username alice and/or password are incorrect" in str(error)


def test_a_role_without_login_is_refused(auth_server, admin):
    admin.execute("CREATE ROLE IF NOT EXISTS quiet WITH PASSWORD = 'pw' AND LOGIN = false")
    bad = cluster(*auth_server.address, "quiet", "pw")
    with pytest.raises(NoHostAvailable) as info:
        bad.connect()
    bad.shutdown()
    assert "quiet is not permitted to log in" in str(info.value)


def test_a_non_superuser_session_is_checked(auth_server, admin):
    admin.execute("CREATE ROLE IF NOT EXISTS bob WITH PASSWORD = 'bob-pw' AND LOGIN = true")
    admin.execute("CREATE ROLE IF NOT EXISTS readers")
    admin.execute("GRANT readers TO bob")
    c, s = login(*auth_server.address, "bob", "bob-pw")
    try:
        with pytest.raises(Unauthorized, match="User bob has no CREATE permission on <all roles>"):
            s.execute("CREATE ROLE mallory")
        with pytest.raises(Unauthorized, match="User bob has no ALTER permission on <role cassandra>"):
            s.execute("ALTER ROLE cassandra WITH PASSWORD = 'owned'")
        assert [r.role for r in s.execute("LIST ROLES")] == ["bob", "readers"]
        s.execute("ALTER ROLE bob WITH PASSWORD = 'bob-pw2'")       # its own password
    finally:
        c.shutdown()
    c, s = login(*auth_server.address, "bob", "bob-pw2")
    c.shutdown()
    rows = {r.role: r for r in admin.execute("LIST ROLES")}
    assert {"cassandra", "bob", "readers"} <= set(rows)
    assert (rows["cassandra"].super, rows["cassandra"].login, rows["cassandra"].datacenters) == (
        True, True, "ALL")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cqlsh") is None, reason="cqlsh is not installed")
def test_cqlsh_logs_in_and_lists_roles(auth_server, admin):
    admin.execute("CREATE ROLE IF NOT EXISTS carol WITH PASSWORD = 'carol-pw' AND LOGIN = true "
                  "AND SUPERUSER = true")
    host, port = auth_server.address
    out = subprocess.run(["cqlsh", host, str(port), "-u", "carol", "-p", "carol-pw",
                          "--protocol-version=4", "-e", "LIST ROLES;"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [line.split("|") for line in out.stdout.splitlines() if "|" in line]
    assert [c.strip() for c in lines[0]] == ["role", "super", "login", "options", "datacenters"]
    assert ["carol", "True", "True", "{}", "ALL"] in [[c.strip() for c in line] for line in lines]
    assert re.search(r"\(\d+ rows\)", out.stdout)
    bad = subprocess.run(["cqlsh", host, str(port), "-u", "carol", "-p", "nope",
                          "--protocol-version=4", "-e", "LIST ROLES;"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert "Provided username carol and/or password are incorrect" in bad.stdout + bad.stderr


@pytest.mark.slow
def test_cqlpy_shell_logs_in(auth_server, admin, tmp_path):
    admin.execute("CREATE ROLE IF NOT EXISTS dave WITH PASSWORD = 'dave-pw' AND LOGIN = true")
    host, port = auth_server.address
    env = {**os.environ, "HOME": str(tmp_path)}

    def shell(*args):
        return subprocess.run([sys.executable, "-m", "cqlpy_shell", *args], capture_output=True,
                              text=True, env=env, timeout=60, cwd=tmp_path)

    ok = shell("-u", "dave", "-p", "dave-pw", host, str(port), "-e", "LIST ROLES OF dave")
    assert ok.returncode == 0, ok.stderr
    assert re.search(r"^ *dave \| *False \| *True \|", ok.stdout, re.M), ok.stdout
    bad = shell("-u", "dave", "-p", "nope", host, str(port), "-e", "LIST ROLES")
    assert bad.returncode == 1
    assert "Provided username dave and/or password are incorrect" in bad.stderr


# --- a cqlpy-server process: the default superuser on first start, roles across a restart -------------

def password_server(data, log_path):
    return ServerProcess(data, "--authenticator", "password", log_path=log_path)


@pytest.mark.slow
def test_roles_survive_a_server_restart(tmp_path):
    data = tmp_path / "data"
    server = password_server(data, tmp_path / "first.log")
    try:
        c, s = login("127.0.0.1", server.port, "cassandra", "cassandra")
        s.execute("CREATE ROLE erin WITH PASSWORD = 'erin-pw' AND LOGIN = true AND SUPERUSER = true")
        s.execute("ALTER ROLE cassandra WITH PASSWORD = 'rotated'")
        c.shutdown()
    finally:
        server.stop()
    assert server.proc.returncode == 0
    assert "Created default superuser role 'cassandra'" in (tmp_path / "first.log").read_text()
    server = password_server(data, tmp_path / "second.log")
    try:
        assert "Created default superuser" not in (tmp_path / "second.log").read_text()
        c, s = login("127.0.0.1", server.port, "erin", "erin-pw")
        assert [r.role for r in s.execute("LIST ROLES")] == ["cassandra", "erin"]
        c.shutdown()
        old = cluster("127.0.0.1", server.port, "cassandra", "cassandra")   # not reset by a restart
        with pytest.raises(NoHostAvailable, match="incorrect"):
            old.connect()
        old.shutdown()
        c, s = login("127.0.0.1", server.port, "cassandra", "rotated")
        c.shutdown()
    finally:
        server.stop()


def test_a_login_does_not_stall_other_connections(backend):
    """The password check runs on a worker thread: while one connection's AUTH_RESPONSE is being
    checked (made slow here), another connection's queries are answered."""
    import threading
    import time
    from cqlpy.protocol import client as cqlpy_client
    started, finished = threading.Event(), threading.Event()

    def check(user, password):
        if user == "slow":
            started.set()
            time.sleep(1.5)
            finished.set()
        return password == "pw"

    opts = ServerOptions(port=0, workers=2, authenticator=PasswordAuthenticator(check=check))
    with ServerThread(backend, opts) as srv:
        host, port = srv.address
        other = cqlpy_client.connect(host, port, username="fast", password="pw")
        logins: list = []
        slow = threading.Thread(target=lambda: logins.append(
            cqlpy_client.connect(host, port, username="slow", password="pw")))
        slow.start()
        try:
            assert started.wait(10), "the slow login never reached the check"
            t0 = time.monotonic()
            assert other.execute("SELECT key FROM system.local").one().key == "local"
            elapsed = time.monotonic() - t0
            assert not finished.is_set() and elapsed < 1.0, elapsed
        finally:
            slow.join(20)
            other.close()
            for session in logins:
                session.close()
        assert finished.is_set() and len(logins) == 1     # the slow login itself succeeded
