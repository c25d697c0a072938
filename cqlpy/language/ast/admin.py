"""USE, TRUNCATE, DESCRIBE, EXPLAIN, and role/user management statements."""
from __future__ import annotations


from .base import Property, QualifiedName, Statement
from .nodeclass import node_class

# Describe.target values.
DESCRIBE_TARGETS = (
    "CLUSTER", "SCHEMA", "FULL SCHEMA", "KEYSPACES", "KEYSPACE", "ONLY KEYSPACE", "TABLES", "TABLE",
    "INDEX", "MATERIALIZED VIEW", "TYPES", "TYPE", "FUNCTIONS", "FUNCTION", "AGGREGATES", "AGGREGATE",
    "NAME",
)


@node_class
class Use(Statement):
    keyspace: str


@node_class
class Truncate(Statement):
    table: QualifiedName


@node_class
class Describe(Statement):
    """``DESCRIBE | DESC`` in the forms Cassandra 4.0+ answers on the server.  ``target`` is one of
    DESCRIBE_TARGETS ('NAME' for a bare ``DESCRIBE [ks.]name``); ``name`` is the object named, if any
    (for KEYSPACE, ``name.name`` is the keyspace and ``name.keyspace`` is None)."""

    target: str
    name: QualifiedName | None = None
    with_internals: bool = False


@node_class
class Explain(Statement):
    """``EXPLAIN statement`` (a cqlpy extension): show the plan instead of running it."""

    statement: Statement


@node_class
class CreateRole(Statement):
    """``CREATE ROLE [IF NOT EXISTS] r [WITH option [AND option]]``; ``options`` are Properties named
    password, hashed_password, login, superuser or options (a map)."""

    name: str
    options: tuple[Property, ...] = ()
    if_not_exists: bool = False


@node_class
class AlterRole(Statement):
    name: str
    options: tuple[Property, ...] = ()
    if_exists: bool = False


@node_class
class DropRole(Statement):
    name: str
    if_exists: bool = False


@node_class
class ListRoles(Statement):
    """``LIST ROLES [OF r] [NORECURSIVE]``."""

    of: str | None = None
    recursive: bool = True


@node_class
class GrantRole(Statement):
    """``GRANT role TO grantee``: ``grantee`` becomes a member of ``role``."""

    role: str
    grantee: str


@node_class
class RevokeRole(Statement):
    """``REVOKE role FROM revokee``."""

    role: str
    revokee: str


@node_class
class CreateUser(Statement):
    """Legacy ``CREATE USER [IF NOT EXISTS] name [WITH PASSWORD 'p'] [SUPERUSER | NOSUPERUSER]``; the
    name keeps its case as written.  ``superuser`` is None when neither keyword is given."""

    name: str
    password: str | None = None
    superuser: bool | None = None
    if_not_exists: bool = False


@node_class
class AlterUser(Statement):
    name: str
    password: str | None = None
    superuser: bool | None = None
    if_exists: bool = False


@node_class
class DropUser(Statement):
    name: str
    if_exists: bool = False


@node_class
class ListUsers(Statement):
    pass
