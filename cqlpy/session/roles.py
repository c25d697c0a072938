"""The role manager (Cassandra's CassandraRoleManager) over system_auth, and the execution of role plans.

Roles live in two ordinary engine tables, with Cassandra's schema (cqlpy.schema.system_tables)::

    system_auth.roles         role text PK, can_login boolean, is_superuser boolean,
                              member_of set<text> (the roles granted to it), salted_hash text
    system_auth.role_members  role text, member text, PRIMARY KEY (role, member): who was granted it

so ``SELECT`` reads them and the commit log / SSTables keep them like any data.  A password is
stored only as a salted hash (cqlpy.session.passwords); the clear text never reaches the engine.

``RoleManager.of(database)`` is the one manager of a data folder.  On first use it creates the
default superuser ``cassandra`` / ``cassandra`` (superuser, login) when no role exists at all, as
Cassandra's setupDefaultRole: once the folder holds roles, a restart changes nothing, so an altered
password stays altered and a dropped ``cassandra`` stays dropped while another role exists.

On a ring node (``RingDatabase``) system_auth is a replicated keyspace like Cassandra's
(SimpleStrategy RF 1 until ALTER KEYSPACE system_auth changes it): role reads and writes go through
the ring engine (cqlpy/cluster/ring_engine.py) at CassandraRoleManager's levels -- QUORUM for the
role ``cassandra``, LOCAL_ONE for any other -- and listing roles is a range read of the live nodes.
The default role is not created when the manager opens but by ``setup_on_ring``, which cqlpy/node.py
runs once the node has joined the ring (after a settle delay, retried until it succeeds), as
Cassandra's scheduled setup task: it checks ``cassandra`` at ONE, then QUORUM, then any role, and
only if none exists writes ``cassandra`` at QUORUM with write timestamp 0.  Two nodes that race
write two rows with the same timestamp 0, which the replicas reconcile the same way (equal
timestamps: the greater value wins), so the cluster ends with one hash; any later ALTER wins over 0.

Who may do what (``execute(plan, ctx)``; the performer is the session's ``login_role``, set by the
protocol server after a SASL login):

* no login (the embedded database, or a server without authentication): everything is allowed, as
  for Cassandra's internal client state;
* a superuser (a role with is_superuser, or granted such a role): everything, except dropping its
  own role and changing the superuser status of a role it holds;
* any other role, as under CassandraAuthorizer with no permission granted: ALTER of its own
  PASSWORD, LIST ROLES of the roles it holds; anything else is Unauthorized (0x2100) with
  Cassandra's message ("User alice has no CREATE permission on <all roles> or any of its parents").

Result shapes are Cassandra 4/5's: LIST ROLES -> role, super, login, options, datacenters ('ALL');
LIST USERS -> name, super, datacenters, only roles that can log in; a list with no role is a Void
result.  Checks run in Cassandra's order: permissions first, then existence and cycles.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable

from cqlpy.errors import AuthenticationFailed, InvalidRequest, Unauthorized
from cqlpy.planner import roles as plans
from cqlpy.planner.roles import RoleOptions, RolePlan
from cqlpy.schema.system_tables import SYSTEM_AUTH, system_table
from cqlpy.schema.types import parse_type

from . import passwords
from .request_options import using_consistency
from .results import Column, ResultSet
from .rowcodec import RowCodec

log = logging.getLogger("cqlpy.roles")

DEFAULT_SUPERUSER_NAME = "cassandra"
DEFAULT_SUPERUSER_PASSWORD = "cassandra"
DEFAULT_ROLE_TIMESTAMP = 0               # Cassandra's CREATE_DEFAULT_ROLE ... USING TIMESTAMP 0
# consistency levels as the native protocol's codes (what the ring engine reads per request)
ONE, QUORUM, LOCAL_ONE = 0x0001, 0x0004, 0x000A
ALL_DATACENTERS = "ALL"                  # what DCPermissions.all() prints in LIST ROLES / USERS

_TEXT, _BOOLEAN, _OPTIONS = parse_type("text"), parse_type("boolean"), parse_type("map<text, text>")
LIST_ROLES_COLUMNS = [Column(SYSTEM_AUTH, "roles", "role", _TEXT),
                      Column(SYSTEM_AUTH, "roles", "super", _BOOLEAN),
                      Column(SYSTEM_AUTH, "roles", "login", _BOOLEAN),
                      Column(SYSTEM_AUTH, "roles", "options", _OPTIONS),
                      Column(SYSTEM_AUTH, "roles", "datacenters", _TEXT)]
LIST_USERS_COLUMNS = [Column(SYSTEM_AUTH, "users", "name", _TEXT),
                      Column(SYSTEM_AUTH, "users", "super", _BOOLEAN),
                      Column(SYSTEM_AUTH, "users", "datacenters", _TEXT)]


@dataclass(frozen=True)
class Role:
    """One row of system_auth.roles."""

    name: str
    is_superuser: bool = False
    can_login: bool = False
    member_of: frozenset[str] = frozenset()
    salted_hash: str | None = None


class RoleManager:
    """Roles of one data folder (see the module documentation); thread-safe."""

    _create_lock = threading.Lock()

    def __init__(self, engine: Any, timestamps: Any = None, clock: Any = time.time, *,
                 ring: bool = False) -> None:
        self.engine = engine
        self.ring = ring                 # system_auth replicated through a ring engine
        self.clock = clock
        self.timestamps = timestamps
        self.roles = RowCodec(system_table(SYSTEM_AUTH, "roles"))
        self.members = RowCodec(system_table(SYSTEM_AUTH, "role_members"))
        self.lock = threading.RLock()

    @classmethod
    def of(cls, database: Any) -> "RoleManager":
        """The manager of ``database`` (created on first use; a single node creates the default
        superuser then).  A wrapper of the Database (a ring node's RingDatabase, a lone server's
        CheckedDatabase) names it ``local_database``, where the manager is kept; one that
        ``replicates_system_auth`` gives a manager over its ring engine, whose default role comes
        from ``setup_on_ring``; otherwise roles use the plain local engine."""
        local = getattr(database, "local_database", database)
        manager = getattr(local, "role_manager", None)
        if manager is None:
            with cls._create_lock:
                manager = getattr(local, "role_manager", None)
                if manager is None:
                    ring = getattr(database, "replicates_system_auth", False)
                    engine = database.engine if ring else local.engine
                    manager = cls(engine, getattr(local, "timestamps", None),
                                  getattr(local, "clock", time.time), ring=ring)
                    if not ring:
                        manager.setup()
                    local.role_manager = manager
        return manager

    # --- storage ---------------------------------------------------------------------------------

    def _now(self) -> tuple[int, int]:
        """(write timestamp µs, now s): the database's server timestamps, never a client's."""
        now = self.clock()
        micros = int(now * 1_000_000)
        ts = self.timestamps.next(micros) if self.timestamps is not None else micros
        return ts, int(now)

    def _at(self, name: str | None, level: int | None = None) -> Any:
        """The consistency of role reads/writes for ``name`` (CassandraRoleManager's
        consistencyForRole: QUORUM for the default superuser, LOCAL_ONE otherwise); the
        single-node engine ignores it."""
        if level is None:
            level = QUORUM if name == DEFAULT_SUPERUSER_NAME else LOCAL_ONE
        return using_consistency(level)

    def get(self, name: str, level: int | None = None) -> Role | None:
        with self._at(name, level):
            partition = self.engine.read(self.roles.table_id, self.roles.partition_key_bytes([name]),
                                         now=int(self.clock()))
        rows = self.roles.decode_partition(partition) if partition is not None else []
        return _role(rows[0]) if rows else None

    def all_roles(self) -> list[Role]:
        found = []
        with self._at(None):             # a range read: the ring asks every live node
            for partition in self.engine.scan(self.roles.table_id, now=int(self.clock())):
                found.extend(_role(row) for row in self.roles.decode_partition(partition))
        return sorted(found, key=lambda r: r.name)

    def members_of(self, name: str) -> list[str]:
        """The roles ``name`` was granted to (system_auth.role_members)."""
        with self._at(name):
            partition = self.engine.read(self.members.table_id,
                                         self.members.partition_key_bytes([name]),
                                         now=int(self.clock()))
        rows = self.members.decode_partition(partition) if partition is not None else []
        return [row["member"] for row in rows]

    def exists(self, name: str) -> bool:
        return self.get(name) is not None

    def setup(self) -> None:
        """Create the default superuser when the folder has no role at all."""
        with self.lock:
            if self.get(DEFAULT_SUPERUSER_NAME) is not None or self.all_roles():
                return
            self.create(DEFAULT_SUPERUSER_NAME, RoleOptions(password=DEFAULT_SUPERUSER_PASSWORD,
                                                            login=True, superuser=True))
            log.info("Created default superuser role '%s'", DEFAULT_SUPERUSER_NAME)

    def has_existing_roles(self) -> bool:
        """Cassandra's hasExistingRoles: ``cassandra`` at ONE, at QUORUM, then any role."""
        return (self.get(DEFAULT_SUPERUSER_NAME, ONE) is not None
                or self.get(DEFAULT_SUPERUSER_NAME, QUORUM) is not None
                or bool(self.all_roles()))

    def setup_on_ring(self) -> bool:
        """Create the default superuser cluster-wide when no role exists (see the module
        documentation); True when it wrote it.  Raises (Unavailable, timeouts) when the ring cannot
        answer yet: the caller retries."""
        with self.lock:
            if self.has_existing_roles():
                return False
            self.create(DEFAULT_SUPERUSER_NAME, RoleOptions(password=DEFAULT_SUPERUSER_PASSWORD,
                                                            login=True, superuser=True),
                        timestamp=DEFAULT_ROLE_TIMESTAMP, level=QUORUM)
            log.info("Created default superuser role '%s'", DEFAULT_SUPERUSER_NAME)
            return True

    def create(self, name: str, options: RoleOptions, *, timestamp: int | None = None,
               level: int | None = None) -> None:
        salted = _salted_hash(options)
        ts, now = self._now()
        if timestamp is not None:
            ts = timestamp
        row: dict[str, Any] = {"role": name, "is_superuser": bool(options.superuser),
                               "can_login": bool(options.login)}
        if salted is not None:
            row["salted_hash"] = salted
        with self._at(name, level):
            self.engine.apply([self.roles.insert(row, timestamp=ts, now=now)])

    def alter(self, name: str, options: RoleOptions) -> None:
        salted = _salted_hash(options)
        ts, now = self._now()
        write = self.roles.write([name], [], timestamp=ts, now=now)
        if options.login is not None:
            write.set("can_login", options.login)
        if options.superuser is not None:
            write.set("is_superuser", options.superuser)
        if salted is not None:
            write.set("salted_hash", salted)
        with self._at(name):
            self.engine.apply([write.update])

    def drop(self, name: str) -> None:
        """Delete the role, take it out of its members' member_of and out of role_members."""
        role = self.get(name)
        ts, now = self._now()
        updates = [self.roles.delete_partition([name], timestamp=ts, now=now)]
        for member in self.members_of(name):
            updates.append(self.roles.write([member], [], timestamp=ts, now=now)
                           .discard("member_of", [name]).update)
        updates.append(self.members.delete_partition([name], timestamp=ts, now=now))
        for granted in (role.member_of if role is not None else ()):
            updates.append(self.members.delete_row([granted], [name], timestamp=ts, now=now))
        with self._at(name):
            self.engine.apply(updates)

    def grant(self, role: str, grantee: str) -> None:
        if role in self.roles_of(grantee, recursive=True):
            raise InvalidRequest(f"{grantee} is a member of {role}")
        if grantee in self.roles_of(role, recursive=True):
            raise InvalidRequest(f"{role} is a member of {grantee}")
        ts, now = self._now()
        with self._at(grantee):
            self.engine.apply([
                self.roles.write([grantee], [], timestamp=ts, now=now)
                .append("member_of", {role}).update,
                self.members.insert({"role": role, "member": grantee}, timestamp=ts, now=now)])

    def revoke(self, role: str, revokee: str) -> None:
        if role not in self.roles_of(revokee, recursive=False):
            raise InvalidRequest(f"{revokee} is not a member of {role}")
        ts, now = self._now()
        with self._at(revokee):
            self.engine.apply([
                self.roles.write([revokee], [], timestamp=ts, now=now)
                .discard("member_of", [role]).update,
                self.members.delete_row([role], [revokee], timestamp=ts, now=now)])

    # --- questions ---------------------------------------------------------------------------------

    def roles_of(self, name: str, recursive: bool = True) -> set[str]:
        """``name`` and the roles granted to it (directly, or through other roles too); empty when
        the role does not exist.  A role granted to a role that no longer exists is skipped."""
        role = self.get(name)
        if role is None:
            return set()
        found = {name}
        pending = list(role.member_of)
        while pending:
            other = pending.pop()
            if other in found:
                continue
            granted = self.get(other)
            if granted is None:
                continue
            found.add(other)
            if recursive:
                pending.extend(granted.member_of)
        return found

    def has_superuser_status(self, name: str) -> bool:
        """Whether ``name`` or any role granted to it is a superuser (Cassandra's Roles)."""
        return any(r.is_superuser for r in map(self.get, self.roles_of(name)) if r is not None)

    def authenticate(self, user: str, password: str) -> str:
        """``user`` when the password matches its salted hash and it may log in; otherwise
        AuthenticationFailed (0x0100) with Cassandra's message."""
        role = self.get(user)
        if not passwords.check_password(password, role.salted_hash if role is not None else None):
            raise AuthenticationFailed(f"Provided username {user} and/or password are incorrect")
        assert role is not None
        if not role.can_login:
            raise AuthenticationFailed(f"{user} is not permitted to log in")
        return user


def _role(row: dict[str, Any]) -> Role:
    return Role(row["role"], bool(row.get("is_superuser")), bool(row.get("can_login")),
                frozenset(row.get("member_of") or ()), row.get("salted_hash"))


def _salted_hash(options: RoleOptions) -> str | None:
    if options.password is not None:
        return passwords.hash_password(options.password)
    if options.hashed_password is not None:
        if not passwords.is_valid_hash(options.hashed_password):
            raise InvalidRequest("Invalid hashed password value. Please use a hash in cqlpy's "
                                 "'$scrypt$n$r$p$salt$hash' format")
        return options.hashed_password
    return None


# --- the logged-in role ------------------------------------------------------------------------------

def login(session: Any, role: str | None) -> None:
    """Make ``role`` the role ``session`` acts as (the protocol server, after a SASL login)."""
    session.login_role = role


def logged_in_role(session: Any) -> str | None:
    return getattr(session, "login_role", None)


# --- executing role plans ----------------------------------------------------------------------------

class _Performer:
    """The role running a statement: None for no login (allowed everything)."""

    def __init__(self, manager: RoleManager, name: str | None) -> None:
        self.manager = manager
        self.name = name
        self.is_super = name is None or manager.has_superuser_status(name)

    def roles(self) -> set[str]:
        return set() if self.name is None else self.manager.roles_of(self.name)

    def require(self, permission: str, resource: str) -> None:
        if not self.is_super:
            raise Unauthorized(f"User {self.name} has no {permission} permission on {resource} "
                               "or any of its parents")


def execute(plan: RolePlan, ctx: Any) -> ResultSet:
    """Run one role plan for the session's logged-in role (see the module documentation)."""
    manager = RoleManager.of(ctx.database)
    with manager.lock:
        performer = _Performer(manager, logged_in_role(ctx.session))
        return _ACTIONS[plan.action](plan, manager, performer)


def _create(plan: RolePlan, manager: RoleManager, performer: _Performer) -> ResultSet:
    performer.require("CREATE", "<all roles>")
    if plan.options.superuser and not performer.is_super:
        raise Unauthorized("Only superusers can create a role with superuser status")
    if manager.exists(plan.name):
        if plan.if_not_exists:
            return ResultSet.void()
        raise InvalidRequest(f"{plan.name} already exists")
    manager.create(plan.name, plan.options)
    return ResultSet.void()


def _alter(plan: RolePlan, manager: RoleManager, performer: _Performer) -> ResultSet:
    options = plan.options
    if options.superuser is not None and plan.name in performer.roles():
        raise Unauthorized("You aren't allowed to alter your own superuser status or that of a "
                           "role granted to you")
    if options.superuser is not None and not performer.is_super:
        raise Unauthorized("Only superusers are allowed to alter superuser status")
    if not performer.is_super:
        if performer.name == plan.name:
            for option in options.names():
                if option not in ("PASSWORD", "HASHED_PASSWORD"):
                    raise Unauthorized(f"You aren't allowed to alter {option}")
        else:
            performer.require("ALTER", f"<role {plan.name}>")
    if not manager.exists(plan.name):
        if plan.if_exists:
            return ResultSet.void()
        raise InvalidRequest(f"{plan.name} doesn't exist")
    manager.alter(plan.name, options)
    return ResultSet.void()


def _drop(plan: RolePlan, manager: RoleManager, performer: _Performer) -> ResultSet:
    performer.require("DROP", f"<role {plan.name}>")
    if not manager.exists(plan.name):
        if plan.if_exists:
            return ResultSet.void()
        raise InvalidRequest(f"{plan.name} doesn't exist")
    if performer.name == plan.name:
        raise InvalidRequest("Cannot DROP primary role for current login")
    manager.drop(plan.name)
    return ResultSet.void()


def _grant_or_revoke(plan: RolePlan, manager: RoleManager, performer: _Performer) -> ResultSet:
    performer.require("AUTHORIZE", f"<role {plan.name}>")
    for name in (plan.name, plan.grantee):
        if not manager.exists(name):
            raise InvalidRequest(f"{name} doesn't exist")
    if plan.action == plans.GRANT:
        manager.grant(plan.name, plan.grantee)
    else:
        manager.revoke(plan.name, plan.grantee)
    return ResultSet.void()


def _listed(plan: RolePlan, manager: RoleManager, performer: _Performer) -> list[Role]:
    if plan.name is not None and not manager.exists(plan.name):
        raise InvalidRequest(f"<role {plan.name}> doesn't exist")
    if performer.is_super:
        names: Iterable[str] = ([r.name for r in manager.all_roles()] if plan.name is None
                                else manager.roles_of(plan.name, plan.recursive))
    elif plan.name is None:
        names = manager.roles_of(performer.name, plan.recursive)
    elif plan.name in performer.roles():
        names = manager.roles_of(plan.name, plan.recursive)
    else:
        raise Unauthorized(f"You are not authorized to view roles granted to {plan.name} ")
    roles = [manager.get(name) for name in sorted(names)]
    return [r for r in roles if r is not None]


def _list_roles(plan: RolePlan, manager: RoleManager, performer: _Performer) -> ResultSet:
    roles = _listed(plan, manager, performer)
    if not roles:
        return ResultSet.void()
    return ResultSet.of(LIST_ROLES_COLUMNS, [(r.name, r.is_superuser, r.can_login, {}, ALL_DATACENTERS)
                                             for r in roles])


def _list_users(plan: RolePlan, manager: RoleManager, performer: _Performer) -> ResultSet:
    roles = _listed(plan, manager, performer)
    if not roles:
        return ResultSet.void()
    return ResultSet.of(LIST_USERS_COLUMNS, [(r.name, manager.has_superuser_status(r.name),
                                              ALL_DATACENTERS) for r in roles if r.can_login])


_ACTIONS = {
    plans.CREATE: _create,
    plans.ALTER: _alter,
    plans.DROP: _drop,
    plans.GRANT: _grant_or_revoke,
    plans.REVOKE: _grant_or_revoke,
    plans.LIST_ROLES: _list_roles,
    plans.LIST_USERS: _list_users,
}
