"""Role and (legacy) user statements as plans: CREATE/ALTER/DROP ROLE|USER, LIST ROLES|USERS, GRANT/REVOKE role.

Planning turns each statement into one ``RolePlan``: an ``action`` and its arguments, the legacy
USER forms mapped onto roles as Cassandra does (``CREATE USER u`` is ``CREATE ROLE u WITH LOGIN =
true``; SUPERUSER / NOSUPERUSER set the superuser option; a user name keeps its case).  What the
statement alone can tell is checked here, with Cassandra's messages (InvalidRequest 0x2200):

    OPTIONS = {...}                 CassandraRoleManager supports no custom options
    PASSWORD and HASHED PASSWORD    mutually exclusive
    ALTER ROLE r                    with no option: "ALTER [ROLE|USER] can't be empty"
    CREATE ROLE ''                  "Role name can't be an empty string"

Everything else is the executor's (cqlpy.session.roles): what needs the stored roles or the
logged-in role (existence, membership cycles, permissions), and hashing the password given (or
checking that a HASHED PASSWORD is a hash it can verify).  Plans hold no bind markers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast

from .terms import Markers

ROLE_STATEMENTS = (ast.CreateRole, ast.AlterRole, ast.DropRole, ast.ListRoles, ast.CreateUser,
                   ast.AlterUser, ast.DropUser, ast.ListUsers, ast.GrantRole, ast.RevokeRole)

ROLE_MANAGER_CLASS = "org.apache.cassandra.auth.CassandraRoleManager"

# RolePlan.action values
CREATE, ALTER, DROP, LIST_ROLES, LIST_USERS, GRANT, REVOKE = (
    "create", "alter", "drop", "list_roles", "list_users", "grant", "revoke")


@dataclass(frozen=True)
class RoleOptions:
    """The options of CREATE/ALTER: None where not given.  ``password`` is the clear text given
    (hashed when the statement runs), ``hashed_password`` a stored-hash text given as is."""

    password: str | None = None
    hashed_password: str | None = None
    login: bool | None = None
    superuser: bool | None = None

    def is_empty(self) -> bool:
        return (self.password is None and self.hashed_password is None and self.login is None
                and self.superuser is None)

    def names(self) -> list[str]:
        """Cassandra's option names (IRoleManager.Option) of the options given."""
        given = [("PASSWORD", self.password), ("HASHED_PASSWORD", self.hashed_password),
                 ("LOGIN", self.login), ("SUPERUSER", self.superuser)]
        return [name for name, value in given if value is not None]

    def __repr__(self) -> str:      # never shows a password
        shown = {k: v for k, v in (("login", self.login), ("superuser", self.superuser))
                 if v is not None}
        if self.password is not None or self.hashed_password is not None:
            shown["password"] = "***"
        return f"RoleOptions({shown})"


@dataclass(frozen=True)
class RolePlan:
    """One role statement, ready to run (see the module documentation)."""

    action: str
    name: str | None = None                 # the role acted on (CREATE/ALTER/DROP; LIST ... OF)
    grantee: str | None = None              # GRANT name TO grantee / REVOKE name FROM grantee
    options: RoleOptions = field(default_factory=RoleOptions)
    if_exists: bool = False                 # DROP/ALTER ... IF EXISTS
    if_not_exists: bool = False             # CREATE ... IF NOT EXISTS
    recursive: bool = True                  # LIST ROLES ... [NORECURSIVE]
    kind: str = "role"
    markers: Markers = field(default_factory=Markers)


def plan_role(statement: ast.Statement) -> RolePlan:
    """The plan of one role or user statement."""
    s = statement
    if isinstance(s, ast.CreateRole):
        _check_name(s.name)
        return RolePlan(CREATE, s.name, options=role_options(s.options), if_not_exists=s.if_not_exists)
    if isinstance(s, ast.AlterRole):
        return RolePlan(ALTER, s.name, options=_alter_options(role_options(s.options)),
                        if_exists=s.if_exists)
    if isinstance(s, ast.DropRole):
        return RolePlan(DROP, s.name, if_exists=s.if_exists)
    if isinstance(s, ast.ListRoles):
        return RolePlan(LIST_ROLES, s.of, recursive=s.recursive)
    if isinstance(s, ast.GrantRole):
        return RolePlan(GRANT, s.role, s.grantee)
    if isinstance(s, ast.RevokeRole):
        return RolePlan(REVOKE, s.role, s.revokee)
    if isinstance(s, ast.CreateUser):
        _check_name(s.name)
        return RolePlan(CREATE, s.name, options=RoleOptions(password=s.password, login=True,
                                                            superuser=s.superuser),
                        if_not_exists=s.if_not_exists)
    if isinstance(s, ast.AlterUser):
        return RolePlan(ALTER, s.name, options=_alter_options(
            RoleOptions(password=s.password, superuser=s.superuser)), if_exists=s.if_exists)
    if isinstance(s, ast.DropUser):
        return RolePlan(DROP, s.name, if_exists=s.if_exists)
    if isinstance(s, ast.ListUsers):
        return RolePlan(LIST_USERS)
    raise InvalidRequest(f"Unsupported statement: {type(s).__name__}")


def role_options(properties: tuple[ast.Property, ...]) -> RoleOptions:
    """RoleOptions from the ``WITH`` properties (the builder has refused duplicates)."""
    values: dict[str, Any] = {}
    for prop in properties:
        if prop.name == "options":
            raise InvalidRequest(f"{ROLE_MANAGER_CLASS} doesn't support OPTIONS")
        value = prop.value
        text = getattr(value, "text", None)
        kind = getattr(value, "kind", None)
        if prop.name in ("login", "superuser"):
            if kind != "boolean":
                raise InvalidRequest(f"Invalid value for property '{prop.name.upper()}'. "
                                     "It must be a boolean")
            values[prop.name] = text == "true"
        else:
            if kind != "string":
                raise InvalidRequest(f"Invalid value for property '{prop.name.upper()}'. "
                                     "It must be a string")
            values[prop.name] = text
    options = RoleOptions(**values)
    if options.password is not None and options.hashed_password is not None:
        raise InvalidRequest("Options 'password' and 'hashed password' are mutually exclusive")
    return options


def _alter_options(options: RoleOptions) -> RoleOptions:
    if options.is_empty():
        raise InvalidRequest("ALTER [ROLE|USER] can't be empty")
    return options


def _check_name(name: str) -> None:
    if not name:
        raise InvalidRequest("Role name can't be an empty string")
