"""Planning BATCH: its statements (markers numbered across them), its timestamp, and Cassandra's batch rules.

Rules (cql-semantics §1.16, §1.18, §1.15): no TTL on the batch; a timestamp on the batch or on the
statements, not both; counter statements only in COUNTER (or UNLOGGED) batches and never mixed with
non-counter ones; conditional batches stay on one partition of one table and take no timestamp.
All statements without their own timestamp share one, so ties resolve by §2.2, not by order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast
from cqlpy.schema import types as T

from .modification import ModificationPlan, plan_modification
from .terms import Markers, Receiver, Value, bind_term

LOGGED, UNLOGGED, COUNTER = ast.LOGGED, ast.UNLOGGED, ast.COUNTER


@dataclass(frozen=True)
class BatchPlan:
    """A planned BATCH: ``statements`` in order, applied as one engine write (one commit-log
    record, hence atomic); conditional batches are one compare-and-set."""

    batch_type: str
    statements: tuple[ModificationPlan, ...]
    timestamp: Value | None = None
    markers: Markers = field(default_factory=Markers, compare=False)
    kind: str = "batch"

    @property
    def is_conditional(self) -> bool:
        return any(s.is_conditional for s in self.statements)

    @property
    def is_counter(self) -> bool:
        return any(s.is_counter for s in self.statements)

    def explain(self) -> list[tuple[str, str]]:
        """(step, detail) rows for EXPLAIN: the batch, then each statement's rows, numbered."""
        rows = [("statement", f"BATCH ({self.batch_type})"),
                ("statements", str(len(self.statements))),
                ("timestamp", "USING TIMESTAMP on the batch" if self.timestamp is not None else
                 "one timestamp shared by every statement without its own")]
        if self.is_conditional:
            rows.append(("condition", "one compare-and-set on a single partition"))
        rows.append(("engine", "one engine.apply (one commit-log record): atomic"))
        for i, stmt in enumerate(self.statements, 1):
            rows.extend((f"{i}. {step}", detail) for step, detail in stmt.explain()
                        if step not in ("engine",))
        return rows


def plan_batch(stmt: ast.Batch, catalog: Any, keyspace: str | None) -> BatchPlan:
    markers = Markers()
    if stmt.ttl is not None:
        raise InvalidRequest("Global TTL on the BATCH statement is not supported.")
    plans = []
    for inner in stmt.statements:
        if not isinstance(inner, ast.Modification):
            raise InvalidRequest("Only INSERT, UPDATE and DELETE statements are allowed in a BATCH")
        plans.append(plan_modification(inner, catalog, keyspace, markers))
    ts: Value | None = None
    if stmt.timestamp is not None:
        if any(p.timestamp is not None for p in plans):
            raise InvalidRequest("Timestamp must be set either on BATCH or individual statements")
        table = plans[0].table if plans else None
        receiver = Receiver(table.keyspace if table else "", table.name if table else "",
                            "[timestamp]", T.BIGINT)
        ts = bind_term(stmt.timestamp, receiver, markers, catalog, keyspace)
    _check_counters(stmt.kind, plans, ts)
    _check_conditions(plans, ts)
    return BatchPlan(stmt.kind, tuple(plans), ts, markers)


def _check_counters(kind: str, plans: list[ModificationPlan], ts: Value | None) -> None:
    counters = [p.table.is_counter for p in plans]
    if kind == LOGGED and any(counters):
        raise InvalidRequest("Cannot include a counter statement in a logged batch")
    if kind == COUNTER and not all(counters):
        raise InvalidRequest("Cannot include non-counter statement in a counter batch")
    if kind == UNLOGGED and any(counters) and not all(counters):
        raise InvalidRequest("Counter and non-counter mutations cannot exist in the same batch")
    if any(counters) and ts is not None:
        raise InvalidRequest("Cannot provide custom timestamp for counter BATCH")


def _check_conditions(plans: list[ModificationPlan], ts: Value | None) -> None:
    if not any(p.is_conditional for p in plans):
        return
    if ts is not None:
        raise InvalidRequest("Cannot provide custom timestamp for conditional BATCH")
    tables = {(p.table.keyspace, p.table.name) for p in plans}
    if len(tables) > 1:
        raise InvalidRequest("Batch with conditions cannot span multiple tables")
    for p in plans:
        if p.timestamp is not None:
            raise InvalidRequest("Cannot provide custom timestamp for conditional updates")
        if any(g.is_in for g in p.partition):
            raise InvalidRequest("IN on the partition key is not supported with conditional "
                                 "updates")
    # Same partition: checked at execution, where the key values are known.


__all__ = ["BatchPlan", "COUNTER", "LOGGED", "UNLOGGED", "plan_batch"]
