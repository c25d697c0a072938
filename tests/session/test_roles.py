"""Roles on the embedded database: system_auth tables, role statements, permissions, persistence."""
from pathlib import Path

import pytest

import cqlpy
from cqlpy import errors as E
from cqlpy.session import passwords, roles
from cqlpy.planner.roles import RoleOptions
from cqlpy.session.roles import RoleManager


@pytest.fixture
def session(tmp_path):
    with cqlpy.connect(str(tmp_path / "db")) as s:
        yield s


def rows(session, query):
    return [tuple(r) for r in session.execute(query)]


def error(session, query, cls=E.InvalidRequest):
    with pytest.raises(cls) as info:
        session.execute(query)
    return info.value


# --- passwords --------------------------------------------------------------------------------------

def test_password_hashes_are_salted_scrypt_and_checked():
    one, two = passwords.hash_password("s3cret"), passwords.hash_password("s3cret")
    assert one != two and one.startswith("$scrypt$16384$8$1$") and "s3cret" not in one
    assert passwords.check_password("s3cret", one) and passwords.check_password("s3cret", two)
    assert not passwords.check_password("s3cret!", one)
    assert not passwords.check_password("s3cret", None)
    n, r, p, salt, digest = passwords.parse_hash(one)
    assert (n, r, p, len(salt), len(digest)) == (16384, 8, 1, 16, 32)


@pytest.mark.parametrize("text", [
    "", "cassandra", "$2a$10$abcdefghijklmnopqrstuv", "$scrypt$16384$8$1$c2FsdHNhbHQ$",
    "$scrypt$1073741824$8$1$c2FsdHNhbHQ$" + "A" * 43,          # absurd cost: refused, not run
    "$scrypt$1000$8$1$c2FsdHNhbHQ$" + "A" * 43,                # n not a power of two
    "$scrypt$16384$8$1$!!!!$" + "A" * 43,
])
def test_malformed_or_dangerous_hashes_are_refused(text):
    assert passwords.parse_hash(text) is None
    assert not passwords.check_password("x", text)


# --- the tables and the default superuser -----------------------------------------------------------

def test_default_superuser_and_list_roles_shape(session):
    rs = session.execute("LIST ROLES")
    assert rs.column_names == ["role", "super", "login", "options", "datacenters"]
    assert [tuple(r) for r in rs] == [("cassandra", True, True, {}, "ALL")]
    (row,) = session.execute("SELECT * FROM system_auth.roles")
    assert (row.role, row.can_login, row.is_superuser, row.member_of) == ("cassandra", True, True, None)
    assert passwords.check_password("cassandra", row.salted_hash)
    tables = {r.table_name for r in session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'system_auth'")}
    assert {"roles", "role_members"} <= tables


def test_create_alter_drop(session):
    session.execute("CREATE ROLE alice WITH PASSWORD = 'pw1' AND LOGIN = true")
    session.execute("CREATE ROLE IF NOT EXISTS alice WITH SUPERUSER = true")       # a no-op
    session.execute("CREATE ROLE 'Mixed Case'")
    assert rows(session, "LIST ROLES") == [("Mixed Case", False, False, {}, "ALL"),
                                           ("alice", False, True, {}, "ALL"),
                                           ("cassandra", True, True, {}, "ALL")]
    manager = RoleManager.of(session.database)
    assert manager.authenticate("alice", "pw1") == "alice"
    session.execute("ALTER ROLE alice WITH PASSWORD = 'pw2' AND SUPERUSER = true")
    assert manager.authenticate("alice", "pw2") == "alice"
    with pytest.raises(E.AuthenticationFailed, match="Provided username alice and/or password are incorrect"):
        manager.authenticate("alice", "pw1")
    assert rows(session, "LIST ROLES OF alice") == [("alice", True, True, {}, "ALL")]
    session.execute("DROP ROLE alice")
    session.execute("DROP ROLE IF EXISTS alice")
    session.execute("ALTER ROLE IF EXISTS alice WITH LOGIN = false")
    assert [r[0] for r in rows(session, "LIST ROLES")] == ["Mixed Case", "cassandra"]


@pytest.mark.parametrize("query, message", [
    ("CREATE ROLE cassandra", "cassandra already exists"),
    ("ALTER ROLE nobody WITH LOGIN = true", "nobody doesn't exist"),
    ("DROP ROLE nobody", "nobody doesn't exist"),
    ("GRANT nobody TO cassandra", "nobody doesn't exist"),
    ("REVOKE cassandra FROM nobody", "nobody doesn't exist"),
    ("LIST ROLES OF nobody", "<role nobody> doesn't exist"),
    ("ALTER ROLE cassandra", "ALTER [ROLE|USER] can't be empty"),
    ("CREATE ROLE ''", "Role name can't be an empty string"),
    ("CREATE ROLE r WITH OPTIONS = {'a': 'b'}",
     "org.apache.cassandra.auth.CassandraRoleManager doesn't support OPTIONS"),
    ("CREATE ROLE r WITH PASSWORD = 'a' AND HASHED PASSWORD = 'b'",
     "Options 'password' and 'hashed password' are mutually exclusive"),
    ("CREATE ROLE r WITH HASHED PASSWORD = '$2a$10$notours'", "Invalid hashed password value"),
])
def test_invalid_requests(session, query, message):
    e = error(session, query)
    assert e.code == 0x2200 and message in str(e)


def test_hashed_password(session):
    session.execute(f"CREATE ROLE h WITH HASHED PASSWORD = '{passwords.hash_password('given')}' "
                    "AND LOGIN = true")
    assert RoleManager.of(session.database).authenticate("h", "given") == "h"


def test_grant_revoke_and_recursive_listing(session):
    for name in ("alice", "dev", "ops", "admin"):
        session.execute(f"CREATE ROLE {name}")
    session.execute("GRANT dev TO alice")
    session.execute("GRANT ops TO dev")
    session.execute("GRANT admin TO ops")
    assert [r[0] for r in rows(session, "LIST ROLES OF alice")] == ["admin", "alice", "dev", "ops"]
    assert [r[0] for r in rows(session, "LIST ROLES OF alice NORECURSIVE")] == ["alice", "dev"]
    assert rows(session, "SELECT role, member FROM system_auth.role_members WHERE role = 'dev'") == [
        ("dev", "alice")]
    assert "alice is a member of dev" in str(error(session, "GRANT dev TO alice"))
    assert "alice is a member of admin" in str(error(session, "GRANT alice TO admin"))
    assert "dev is not a member of alice" in str(error(session, "REVOKE alice FROM dev"))
    session.execute("REVOKE dev FROM alice")
    assert [r[0] for r in rows(session, "LIST ROLES OF alice")] == ["alice"]
    # dropping a role takes it out of its members' member_of and out of role_members
    session.execute("DROP ROLE ops")
    assert rows(session, "SELECT member_of FROM system_auth.roles WHERE role = 'dev'") == [(None,)]
    assert rows(session, "SELECT * FROM system_auth.role_members") == []


def test_legacy_users(session):
    session.execute("CREATE USER 'Bob' WITH PASSWORD 'pw' SUPERUSER")
    session.execute("CREATE USER carol WITH PASSWORD 'pw'")
    session.execute("CREATE ROLE nologin")
    rs = session.execute("LIST USERS")
    assert rs.column_names == ["name", "super", "datacenters"]
    assert [tuple(r) for r in rs] == [("Bob", True, "ALL"), ("carol", False, "ALL"),
                                      ("cassandra", True, "ALL")]
    session.execute("ALTER USER carol SUPERUSER")
    session.execute("CREATE USER dave")
    session.execute("GRANT carol TO dave")          # inherited superuser status shows in LIST USERS
    assert rows(session, "LIST ROLES OF carol")[0][:3] == ("carol", True, True)
    assert ("dave", True, "ALL") in rows(session, "LIST USERS")
    assert rows(session, "LIST ROLES OF dave NORECURSIVE")[1][:3] == ("dave", False, True)
    session.execute("DROP USER 'Bob'")
    session.execute("DROP USER IF EXISTS 'Bob'")
    assert "Bob doesn't exist" in str(error(session, "DROP USER 'Bob'"))


# --- what a logged-in role may do ---------------------------------------------------------------------

def test_permissions_of_a_logged_in_role(session):
    session.execute("CREATE ROLE alice WITH PASSWORD = 'pw' AND LOGIN = true")
    session.execute("CREATE ROLE bob WITH LOGIN = true")
    session.execute("CREATE ROLE staff")
    session.execute("GRANT staff TO alice")
    roles.login(session, "alice")
    cases = [
        ("CREATE ROLE x", "User alice has no CREATE permission on <all roles> or any of its parents"),
        ("CREATE ROLE x WITH SUPERUSER = true", "User alice has no CREATE permission on <all roles>"),
        ("ALTER ROLE bob WITH PASSWORD = 'x'", "User alice has no ALTER permission on <role bob>"),
        ("ALTER ROLE alice WITH LOGIN = false", "You aren't allowed to alter LOGIN"),
        ("ALTER ROLE alice WITH SUPERUSER = true",
         "You aren't allowed to alter your own superuser status or that of a role granted to you"),
        ("ALTER ROLE bob WITH SUPERUSER = true", "Only superusers are allowed to alter superuser status"),
        ("DROP ROLE bob", "User alice has no DROP permission on <role bob> or any of its parents"),
        ("GRANT staff TO bob", "User alice has no AUTHORIZE permission on <role staff>"),
        ("LIST ROLES OF bob", "You are not authorized to view roles granted to bob"),
    ]
    for query, message in cases:
        e = error(session, query, E.Unauthorized)
        assert e.code == 0x2100 and message in str(e), query
    session.execute("ALTER ROLE alice WITH PASSWORD = 'mine'")          # its own password: allowed
    assert RoleManager.of(session.database).authenticate("alice", "mine") == "alice"
    assert [r[0] for r in rows(session, "LIST ROLES")] == ["alice", "staff"]   # only its own
    assert [r[0] for r in rows(session, "LIST ROLES OF staff")] == ["staff"]


def test_a_superuser_may_not_drop_itself_or_change_its_own_status(session):
    roles.login(session, "cassandra")
    assert "Cannot DROP primary role for current login" in str(error(session, "DROP ROLE cassandra"))
    e = error(session, "ALTER ROLE cassandra WITH SUPERUSER = false", E.Unauthorized)
    assert "your own superuser status" in str(e)
    session.execute("CREATE ROLE boss WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = 'b'")
    roles.login(session, "boss")
    session.execute("DROP ROLE cassandra")
    assert [r[0] for r in rows(session, "LIST ROLES")] == ["boss"]


# --- persistence ----------------------------------------------------------------------------------------

def test_roles_survive_a_restart_and_the_default_is_not_recreated(tmp_path):
    path = str(tmp_path / "db")
    with cqlpy.connect(path) as s:
        s.execute("CREATE ROLE boss WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = 'b'")
        s.execute("ALTER ROLE cassandra WITH PASSWORD = 'changed'")
    with cqlpy.connect(path) as s:
        manager = RoleManager.of(s.database)
        assert manager.authenticate("cassandra", "changed") == "cassandra"
        with pytest.raises(E.AuthenticationFailed):
            manager.authenticate("cassandra", "cassandra")
        s.execute("DROP ROLE cassandra")
        s.flush()
    with cqlpy.connect(path) as s:                # not recreated: another role exists
        assert [r[0] for r in rows(s, "LIST ROLES")] == ["boss"]
        assert RoleManager.of(s.database).authenticate("boss", "b") == "boss"


def test_data_files_hold_no_plaintext_password(tmp_path):
    path = tmp_path / "db"
    secret, control = "Zq8-plaintext-password-7Kx", "Zq8-ordinary-value-7Kx"
    with cqlpy.connect(str(path)) as s:
        s.execute("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                  "'replication_factor': 1}")
        s.execute("CREATE TABLE ks.t (k text PRIMARY KEY)")
        s.execute(f"INSERT INTO ks.t (k) VALUES ('{control}')")
        s.execute(f"CREATE ROLE alice WITH PASSWORD = '{secret}' AND LOGIN = true")
        s.execute(f"ALTER ROLE cassandra WITH PASSWORD = '{secret}'")
    blobs = b"".join(p.read_bytes() for p in Path(path).rglob("*") if p.is_file())
    assert control.encode() in blobs              # the scan does see what is written in clear
    assert secret.encode() not in blobs
    with cqlpy.connect(str(path)) as s:
        assert RoleManager.of(s.database).authenticate("alice", secret) == "alice"


def test_login_refusals(session):
    session.execute("CREATE ROLE quiet WITH PASSWORD = 'pw' AND LOGIN = false")
    manager = RoleManager.of(session.database)
    with pytest.raises(E.AuthenticationFailed, match="^quiet is not permitted to log in$"):
        manager.authenticate("quiet", "pw")
    with pytest.raises(E.AuthenticationFailed, match="Provided username nobody and/or password are incorrect"):
        manager.authenticate("nobody", "pw")
    session.execute("CREATE ROLE nopass WITH LOGIN = true")
    with pytest.raises(E.AuthenticationFailed, match="Provided username nopass"):
        manager.authenticate("nopass", "")


class _LevelRecorder:
    """A ring engine stand-in over a real local engine: records the consistency level (the
    request option the ring engine reads) of every read, write and range read."""

    def __init__(self, local):
        self.local, self.calls = local, []

    def _note(self, kind):
        from cqlpy.session.request_options import consistency_level
        self.calls.append((kind, consistency_level.get()))

    def read(self, *a, **kw):
        self._note("read")
        return self.local.read(*a, **kw)

    def apply(self, updates):
        self._note("apply")
        self.local.apply(updates)

    def scan(self, *a, **kw):
        self._note("scan")
        return self.local.scan(*a, **kw)


def test_a_ring_node_routes_roles_through_the_ring_at_cassandras_levels(tmp_path):
    from cqlpy.node_ring import RingDatabase
    from cqlpy.session import roles as R
    with cqlpy.connect(str(tmp_path / "ring-node")) as s:
        recorder = _LevelRecorder(s.database.engine)
        ring_view = RingDatabase(s.database, engine=recorder)    # sessions' view on a ring node
        manager = RoleManager.of(ring_view)
        assert manager.engine is recorder and manager.ring
        assert RoleManager.of(s.database) is manager              # one manager per data folder
        assert recorder.calls == []                               # no default role at open
        assert manager.setup_on_ring() is True
        # Cassandra's hasExistingRoles: cassandra at ONE, at QUORUM, any role; then QUORUM write
        assert recorder.calls == [("read", R.ONE), ("read", R.QUORUM), ("scan", R.LOCAL_ONE),
                                  ("apply", R.QUORUM)]
        cell_ts = s.execute("SELECT writetime(salted_hash) FROM system_auth.roles "
                            "WHERE role = 'cassandra'").one()[0]
        assert cell_ts == R.DEFAULT_ROLE_TIMESTAMP                # any later ALTER wins over it
        assert manager.setup_on_ring() is False                   # roles exist: nothing written
        assert manager.authenticate("cassandra", "cassandra") == "cassandra"
        recorder.calls.clear()
        manager.create("alice", RoleOptions(password="pw", login=True))
        assert manager.authenticate("alice", "pw") == "alice"
        assert recorder.calls == [("apply", R.LOCAL_ONE), ("read", R.LOCAL_ONE)]
        recorder.calls.clear()
        manager.alter("cassandra", RoleOptions(password="new"))   # beats the timestamp-0 row
        assert manager.authenticate("cassandra", "new") == "cassandra"
        assert recorder.calls == [("apply", R.QUORUM), ("read", R.QUORUM)]
