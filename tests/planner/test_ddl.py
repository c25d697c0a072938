"""Schema-statement planning: keyspace resolution, the catalog operation, and what it leaves to do."""
from __future__ import annotations

import pytest

from cqlpy import errors, parse_one
from cqlpy.planner import planner
from cqlpy.planner.ddl import DdlPlan, UsePlan, plan_ddl
from cqlpy.schema.catalog import Catalog

KS = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"


def run(catalog, text, keyspace=None):
    plan = planner.plan(parse_one(text), catalog, keyspace)
    return plan.apply(catalog) if isinstance(plan, DdlPlan) else plan


@pytest.fixture
def catalog():
    c = Catalog()
    run(c, KS)
    return c


def test_keyspace_resolution(catalog):
    plan = planner.plan(parse_one("CREATE TABLE t (k int PRIMARY KEY)"), catalog, "ks")
    assert isinstance(plan, DdlPlan) and plan.keyspace == "ks" and len(plan.markers) == 0
    assert planner.plan(parse_one("CREATE TABLE other.t (k int PRIMARY KEY)"), catalog, "ks").keyspace == "other"
    with pytest.raises(errors.InvalidRequest, match="No keyspace has been specified"):
        planner.plan(parse_one("CREATE TABLE t (k int PRIMARY KEY)"), catalog, None)
    assert planner.plan(parse_one("DROP KEYSPACE x"), catalog, "ks").keyspace == "x"


def test_plans_are_reusable_and_check_at_execution(catalog):
    plan = plan_ddl(parse_one("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY)"), catalog, None)
    assert plan.apply(catalog).change is not None
    assert plan.apply(catalog).change is None                # exists now: a no-op
    use = planner.plan(parse_one("USE nope"), catalog, None)
    assert isinstance(use, UsePlan)
    with pytest.raises(errors.InvalidRequest, match="does not exist"):
        use.check(catalog)
    run(catalog, "CREATE KEYSPACE nope WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    assert use.check(catalog) == "nope"


def test_index_outcomes(catalog):
    run(catalog, "CREATE TABLE ks.t (k int PRIMARY KEY, v int, w int)")
    outcome = run(catalog, "CREATE INDEX ON ks.t (v)")
    assert [(t.name, i.name) for t, i in outcome.created_indexes] == [("t", "t_v_idx")]
    run(catalog, "CREATE INDEX wi ON ks.t (w)")
    assert run(catalog, "CREATE INDEX IF NOT EXISTS wi ON ks.t (w)").created_indexes == []
    outcome = run(catalog, "DROP INDEX ks.wi")
    assert [i.name for _, i in outcome.dropped_indexes] == ["wi"]
    outcome = run(catalog, "DROP TABLE ks.t")
    assert [i.name for _, i in outcome.dropped_indexes] == ["t_v_idx"]
    run(catalog, "CREATE TABLE ks.u (k int PRIMARY KEY, v int)")
    run(catalog, "CREATE INDEX ON ks.u (v)")
    assert [i.name for _, i in run(catalog, "DROP KEYSPACE ks").dropped_indexes] == ["u_v_idx"]


@pytest.mark.parametrize("text, error", [
    ("CREATE INDEX ON ks.t (v, w)", errors.InvalidRequest),
    ("CREATE CUSTOM INDEX ON ks.t (v)", errors.InvalidRequest),
    ("CREATE INDEX ON ks.t (v) WITH options = {'a': 'b'}", errors.InvalidRequest),
    ("CREATE TABLE ks.x (k int PRIMARY KEY) WITH COMPACT STORAGE", errors.InvalidRequest),
    ("CREATE TABLE ks.x (k int PRIMARY KEY) WITH comment = 'a' AND comment = 'b'", errors.SyntaxException),
    ("ALTER TYPE ks.nope ALTER a TYPE int", errors.InvalidRequest),
    ("ALTER TABLE ks.t RENAME k TO a AND k TO b", errors.InvalidRequest),
    ("CREATE ROLE r WITH OPTIONS = {'a': 'b'}", errors.InvalidRequest),
    ("ALTER ROLE r", errors.InvalidRequest),
])
def test_refusals(catalog, text, error):
    run(catalog, "CREATE TABLE ks.t (k int PRIMARY KEY, v int, w int)")
    with pytest.raises(error):
        run(catalog, text)
