"""The planner's front door: one parsed statement + the catalog + the session keyspace -> a plan.

``plan(statement, catalog, keyspace)`` dispatches on the statement's class:

    Select                      -> select.plan_select(statement, catalog, keyspace)      (read engineer)
    Insert/InsertJson/Update/Delete -> modification.plan_modification(statement, catalog, keyspace)
    Batch                       -> batch.plan_batch(statement, catalog, keyspace)         (write engineer)
    Truncate                    -> modification.plan_truncate(statement, catalog, keyspace)
    CREATE/ALTER/DROP ...       -> ddl.plan_ddl                                           (here)
    Use                         -> ddl.plan_use
    Describe                    -> DescribePlan (the session's describe module answers it)
    Explain                     -> ExplainPlan(inner plan); explain.explain_rows(plan) gives the rows
    role/user statements, GRANT/REVOKE role -> roles.plan_role (RolePlan; cqlpy.session.roles runs it)

Every plan is immutable and reusable (the session caches it per statement text and keyspace and
executes it many times); every plan has ``kind`` (a short string the executor dispatches on) and
``markers`` (planner.terms.Markers: the receivers of its bind markers, in index order).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlpy.errors import InvalidRequest, SyntaxException
from cqlpy.language import ast

from . import ddl, roles
from .terms import Markers

@dataclass(frozen=True)
class DescribePlan:
    """``DESCRIBE ...``: answered from the catalog when executed (it reflects the schema then)."""

    statement: ast.Describe
    keyspace: str | None
    kind: str = "describe"
    markers: Markers = field(default_factory=Markers)


@dataclass(frozen=True)
class ExplainPlan:
    """``EXPLAIN statement``: the inner statement's plan, shown instead of run."""

    statement: ast.Explain
    inner: Any
    kind: str = "explain"

    @property
    def markers(self) -> Markers:
        return getattr(self.inner, "markers", None) or Markers()


def plan(statement: ast.Statement, catalog: Any, keyspace: str | None) -> Any:
    """The plan of one statement (see the module documentation)."""
    if isinstance(statement, ast.Select):
        from . import select
        return select.plan_select(statement, catalog, keyspace)
    if isinstance(statement, (ast.Insert, ast.InsertJson, ast.Update, ast.Delete)):
        from . import modification
        return modification.plan_modification(statement, catalog, keyspace)
    if isinstance(statement, ast.Batch):
        from . import batch
        return batch.plan_batch(statement, catalog, keyspace)
    if isinstance(statement, ast.Truncate):
        from . import modification
        return modification.plan_truncate(statement, catalog, keyspace)
    if isinstance(statement, ddl.DDL_STATEMENTS):
        return ddl.plan_ddl(statement, catalog, keyspace)
    if isinstance(statement, ast.Use):
        return ddl.plan_use(statement)
    if isinstance(statement, ast.Describe):
        return DescribePlan(statement, keyspace)
    if isinstance(statement, ast.Explain):
        if isinstance(statement.statement, ast.Explain):
            raise SyntaxException("EXPLAIN cannot explain an EXPLAIN")
        return ExplainPlan(statement, plan(statement.statement, catalog, keyspace))
    if isinstance(statement, roles.ROLE_STATEMENTS):
        return roles.plan_role(statement)
    raise InvalidRequest(f"Unsupported statement: {type(statement).__name__}")


def routing_key_indexes(plan_: Any, catalog: Any) -> list[int] | None:
    """Positions of the bind markers that give the partition-key columns, in key order (the
    prepared statement's routing key indexes, as the protocol reports them); None when some
    partition-key column is not given by a plain marker."""
    own = getattr(plan_, "partition_key_marker_indexes", None)
    if callable(own):
        return own()
    markers = getattr(plan_, "markers", None)
    table = getattr(plan_, "table", None)
    if markers is None or table is None or isinstance(plan_, (ddl.DdlPlan, ddl.UsePlan)):
        return None
    if isinstance(table, str):
        table = catalog.get_table(getattr(plan_, "keyspace", None), table) if catalog else None
        if table is None:
            return None
    positions: list[int] = []
    for column in table.partition_key:
        found = None
        for i, r in enumerate(markers.receivers):
            if r is not None and r.name == column.name and r.table == table.name:
                found = i
                break
        if found is None:
            return None
        positions.append(found)
    return positions
