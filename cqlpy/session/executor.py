"""Running a plan: the execution context, and the dispatch of each plan kind to its executor.

``execute(plan, ctx) -> ResultSet`` sends

    SELECT plans          -> read_executor.execute_select(plan, ctx)          (read engineer)
    EXPLAIN plans         -> explain.explain_rows(plan.inner, ctx) as a result (read engineer)
    INSERT/UPDATE/DELETE  -> write_executor.execute_modification(plan, ctx)   (write engineer)
    BATCH                 -> write_executor.execute_batch(plan, ctx)
    TRUNCATE              -> write_executor.execute_truncate(plan, ctx)
    schema statements     -> here: the catalog operation, then index builds / drops
    USE                   -> here (the session switches keyspace)
    DESCRIBE              -> describe.describe(statement, catalog, keyspace)
    role statements       -> roles.execute(plan, ctx) (the role manager, system_auth)

``ExecutionContext`` is everything one execution may need: the database (engine, catalog,
indexes, clock), the bound values, the statement's timestamp and time, paging options.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from cqlpy.errors import InvalidRequest
from cqlpy.planner.ddl import DdlPlan, UsePlan
from cqlpy.planner.planner import DescribePlan, ExplainPlan
from cqlpy.planner.terms import EvalContext

from .results import Column, ResultSet


class ExecutionContext:
    """One execution of one plan.

    ``timestamp`` is the write timestamp in µs: the client's (``execute(..., timestamp=)``) or the
    session's server timestamp (unique and increasing per session); ``client_timestamp`` tells
    which.  ``now`` is the statement's time in seconds (TTL expiry, reads), from the same clock as
    ``timestamp``; ``now_micros`` the same instant in µs.  ``params`` are the bound values by marker
    index, already coerced.  ``eval`` is the planner's EvalContext for evaluating terms.
    ``trace`` is the TraceState of a traced execution (cqlpy.session.tracing), else None.
    ``refetch(paging_state)`` runs the same plan with the same values from a paging state (what
    a ResultSet calls to fetch its next page).
    """

    __slots__ = ("database", "params", "timestamp", "now", "now_micros", "keyspace",
                 "client_timestamp", "fetch_size", "paging_state", "session", "plan", "eval", "trace")

    def __init__(self, database: Any, params: Sequence[Any], timestamp: int, now: int, now_micros: int,
                 keyspace: str | None = None, client_timestamp: bool = False,
                 fetch_size: int | None = None, paging_state: bytes | None = None,
                 session: Any = None, plan: Any = None) -> None:
        self.database = database
        self.params = params
        self.timestamp = timestamp
        self.now = now
        self.now_micros = now_micros
        self.keyspace = keyspace
        self.client_timestamp = client_timestamp
        self.fetch_size = fetch_size
        self.paging_state = paging_state
        self.session = session
        self.plan = plan
        self.eval = EvalContext(params, now_micros)
        self.trace: Any = None

    @property
    def engine(self) -> Any:
        """The database's engine; while a trace is current, seen through it (tracing.py)."""
        trace = self.trace
        return self.database.engine if trace is None else trace.engine(self.database)

    @property
    def catalog(self) -> Any:
        return self.database.catalog

    @property
    def indexes(self) -> Any:
        return self.database.indexes

    @property
    def clock(self) -> Callable[[], float]:
        return self.database.clock

    def refetch(self, paging_state: bytes) -> Any:
        """The same plan and values again, resumed from ``paging_state`` (the next page)."""
        if self.session is None:
            raise InvalidRequest("This result cannot fetch further pages")
        return self.session._run(self.plan, self.params, self.keyspace, self.fetch_size, paging_state,
                                 self.timestamp if self.client_timestamp else None)


def execute(plan: Any, ctx: ExecutionContext) -> ResultSet:
    """Run ``plan`` (see the module documentation)."""
    kind = getattr(plan, "kind", None) or _KIND_BY_CLASS.get(type(plan).__name__)
    handler = _DISPATCH.get(kind)
    if handler is None:
        raise InvalidRequest(f"Cannot execute a plan of kind {kind!r}")
    return handler(plan, ctx)


# --- schema statements ------------------------------------------------------------------------------

def execute_ddl(plan: DdlPlan, ctx: ExecutionContext) -> ResultSet:
    database = ctx.database
    with database.schema_lock:
        from .keyspace_validation import check as check_replication
        warnings = check_replication(plan, database)     # replication vs the ring; warnings
        outcome = plan.apply(database.catalog)
        indexes = database.indexes
        for table, index in outcome.dropped_indexes:
            if indexes is not None:
                indexes.drop(table, index)
        for table, index in outcome.created_indexes:
            if indexes is not None:
                indexes.create(table, index, now=ctx.now)
    result = ResultSet.void(schema_change=outcome.change)
    if warnings and outcome.change is not None:
        result.warnings = list(warnings)
    return result


def execute_use(plan: UsePlan, ctx: ExecutionContext) -> ResultSet:
    keyspace = plan.check(ctx.catalog)
    if ctx.session is not None:
        ctx.session._set_keyspace(keyspace)
    return ResultSet.void(keyspace=keyspace)


def execute_role(plan: Any, ctx: ExecutionContext) -> ResultSet:
    from . import roles
    return roles.execute(plan, ctx)


def execute_describe(plan: DescribePlan, ctx: ExecutionContext) -> ResultSet:
    from . import describe
    columns, rows = describe.describe(plan.statement, ctx.catalog, ctx.keyspace)
    return ResultSet.of([Column("", "", name, t) for name, t in columns], rows)


# --- reads and writes (the read and write engineers' executors) --------------------------------------

def execute_select(plan: Any, ctx: ExecutionContext) -> ResultSet:
    return (_read_executor or _import_read_executor()).execute_select(plan, ctx)


_read_executor: Any = None


def _import_read_executor() -> Any:
    """Imported late (it imports this module) and once: not an import statement per SELECT."""
    global _read_executor
    from . import read_executor
    _read_executor = read_executor
    return read_executor


def execute_explain(plan: ExplainPlan, ctx: ExecutionContext) -> Any:
    from cqlpy.planner import explain
    return explain.explain_result(plan.inner, ctx) if hasattr(explain, "explain_result") \
        else _rows_result(explain.explain_rows(plan.inner, ctx))


def _rows_result(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2:
        columns, rows = value
        return ResultSet.of([c if isinstance(c, Column) else Column("", "", c[0], c[1]) for c in columns],
                            rows)
    return value


def execute_modification(plan: Any, ctx: ExecutionContext) -> Any:
    from . import write_executor
    return write_executor.execute_modification(plan, ctx)


def execute_batch(plan: Any, ctx: ExecutionContext) -> Any:
    from . import write_executor
    return write_executor.execute_batch(plan, ctx)


def execute_truncate(plan: Any, ctx: ExecutionContext) -> Any:
    from . import write_executor
    return write_executor.execute_truncate(plan, ctx)


_KIND_BY_CLASS = {"SelectPlan": "select", "BatchPlan": "batch", "TruncatePlan": "truncate"}

_DISPATCH: dict[str | None, Callable[[Any, ExecutionContext], Any]] = {
    "ddl": execute_ddl,
    "use": execute_use,
    "describe": execute_describe,
    "role": execute_role,
    "explain": execute_explain,
    "select": execute_select,
    "modification": execute_modification,
    "insert": execute_modification,
    "update": execute_modification,
    "delete": execute_modification,
    "batch": execute_batch,
    "truncate": execute_truncate,
}
