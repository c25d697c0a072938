"""AST-builder callbacks for scripts and statements as a whole, USE, TRUNCATE, EXPLAIN, DESCRIBE, and
roles and users."""
from __future__ import annotations

from typing import NamedTuple

from ..ast import (AlterRole, AlterUser, Constant, CreateRole, CreateUser, Describe, DropRole, DropUser,
                   Explain, GrantRole, ListRoles, ListUsers, Property, QualifiedName, RevokeRole, Span,
                   Truncate, Use)
from .core import end_statement, rule
from .schema import check_unique_properties


# --- scripts -------------------------------------------------------------------------------------

@rule(spans=False)
def script(span, *statements):
    return [statement for statement in statements if statement is not None]   # None: separators


@rule(spans=False)
def single(span, statement):
    return statement


@rule(spans=False)
def statement_separator(span):
    end_statement()          # bind markers are numbered per statement


@rule()
def explain_statement(span, statement):
    return Explain(statement, span=span)


@rule()
def use_statement(span, keyspace):
    return Use(keyspace, span=span)


@rule()
def truncate_statement(span, table):
    return Truncate(table, span=span)


# --- DESCRIBE ------------------------------------------------------------------------------------

class _DescribeTarget(NamedTuple):
    kind: str
    name: QualifiedName | None
    span: Span | None


@rule()
def describe_statement(span, target, with_internals):
    return Describe(target.kind, target.name, bool(with_internals), span=span)


def _describe(kind):
    def build(span, name=None):
        return _DescribeTarget(kind, name, span)
    return build


for _alias, _kind in [
        ("describe_cluster", "CLUSTER"), ("describe_schema", "SCHEMA"),
        ("describe_full_schema", "FULL SCHEMA"), ("describe_keyspaces", "KEYSPACES"),
        ("describe_tables", "TABLES"), ("describe_table", "TABLE"), ("describe_index", "INDEX"),
        ("describe_materialized_view", "MATERIALIZED VIEW"), ("describe_types", "TYPES"),
        ("describe_type", "TYPE"), ("describe_functions", "FUNCTIONS"), ("describe_function", "FUNCTION"),
        ("describe_aggregates", "AGGREGATES"), ("describe_aggregate", "AGGREGATE")]:
    rule(_alias)(_describe(_kind))


@rule()
def describe_keyspace(span, name=None):
    return _DescribeTarget("KEYSPACE", None if name is None else QualifiedName(None, name, span=span), span)


@rule()
def describe_only_keyspace(span, name=None):
    return _DescribeTarget("ONLY KEYSPACE", None if name is None else QualifiedName(None, name, span=span),
                           span)


@rule()
def describe_generic(span, *names):
    keyspace = names[0] if len(names) == 2 else None
    return _DescribeTarget("NAME", QualifiedName(keyspace, names[-1], span=span), span)


# --- roles and users -----------------------------------------------------------------------------

@rule()
def role_name(span, name):
    return name.text if isinstance(name, Constant) else name


@rule()
def create_role_statement(span, if_not_exists, name, options):
    return CreateRole(name, options or (), bool(if_not_exists), span=span)


@rule()
def alter_role_statement(span, if_exists, name, options):
    return AlterRole(name, options or (), bool(if_exists), span=span)


@rule()
def drop_role_statement(span, if_exists, name):
    return DropRole(name, bool(if_exists), span=span)


@rule()
def list_roles_statement(span, of, no_recursive):
    return ListRoles(of, not no_recursive, span=span)


@rule()
def grant_role_statement(span, role, grantee):
    return GrantRole(role, grantee, span=span)


@rule()
def revoke_role_statement(span, role, revokee):
    return RevokeRole(role, revokee, span=span)


@rule()
def role_options(span, *options):
    return check_unique_properties(options)


def _role_option(name):
    def build(span, value):
        return Property(name, value, span=span)
    return build


rule("password_option")(_role_option("password"))
rule("hashed_password_option")(_role_option("hashed_password"))
rule("login_option")(_role_option("login"))
rule("superuser_option")(_role_option("superuser"))
rule("custom_options_option")(_role_option("options"))


@rule()
def create_user_statement(span, if_not_exists, name, password, superuser):
    return CreateUser(name, password, superuser, bool(if_not_exists), span=span)


@rule()
def alter_user_statement(span, if_exists, name, password, superuser):
    return AlterUser(name, password, superuser, bool(if_exists), span=span)


@rule()
def drop_user_statement(span, if_exists, name):
    return DropUser(name, bool(if_exists), span=span)


@rule()
def list_users_statement(span):
    return ListUsers(span=span)


@rule()
def user_password(span, password):
    return password.text
