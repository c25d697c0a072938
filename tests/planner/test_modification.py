"""Planning INSERT / UPDATE / DELETE / BATCH: plan shapes and every refusal with its error class."""
from __future__ import annotations

import pytest

import cqlpy
from cqlpy import errors
from cqlpy.planner.batch import BatchPlan, plan_batch
from cqlpy.planner.modification import ModificationPlan, plan_modification
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef
from cqlpy.schema import types as T


@pytest.fixture(scope="module")
def catalog():
    cat = Catalog()
    cat.create_keyspace("ks", {"class": "SimpleStrategy", "replication_factor": "1"})
    cat.create_table("ks", "t", [ColumnDef("k", T.INT), ColumnDef("c", T.INT),
                                 ColumnDef("d", T.INT), ColumnDef("v", T.INT),
                                 ColumnDef("st", T.INT, static=True),
                                 ColumnDef("l", T.ListType(T.INT)),
                                 ColumnDef("fl", T.ListType(T.INT, frozen=True))],
                     partition_key=["k"], clustering=["c", "d"])
    cat.create_table("ks", "p", [ColumnDef("a", T.INT), ColumnDef("b", T.INT),
                                 ColumnDef("v", T.INT)], partition_key=["a", "b"])
    cat.create_table("ks", "cnt", [ColumnDef("k", T.INT), ColumnDef("n", T.COUNTER)],
                     partition_key=["k"])
    return cat


def plan(catalog, text):
    stmt = cqlpy.parse_one(text)
    if isinstance(stmt, cqlpy.language.ast.Batch):
        return plan_batch(stmt, catalog, "ks")
    return plan_modification(stmt, catalog, "ks")


def test_plan_shapes(catalog):
    p = plan(catalog, "INSERT INTO t (k, c, d, v) VALUES (?, ?, 1, ?) USING TTL ?")
    assert isinstance(p, ModificationPlan) and p.kind == "insert"
    assert [r.name for r in p.markers.receivers] == ["k", "c", "v", "[ttl]"]
    p = plan(catalog, "UPDATE t USING TIMESTAMP ? SET v = ? WHERE k = ? AND c = ? AND d IN ?")
    assert p.kind == "update" and p.where.clustering_is_full_eq
    assert [r.name for r in p.markers.receivers] == ["[timestamp]", "v", "k", "c", "in(d)"]
    p = plan(catalog, "INSERT INTO t (k, st) VALUES (1, 2)")
    assert p.static_only and p.clustering == ()
    p = plan(catalog, "UPDATE t SET st = 1 WHERE k = 1")
    assert p.static_only
    p = plan(catalog, "DELETE FROM t WHERE k = 1 AND c > 1")
    assert p.kind == "delete" and not p.operations
    b = plan(catalog, "BEGIN BATCH INSERT INTO t (k, c, d) VALUES (?, 1, 1); "
                      "DELETE FROM p WHERE a = ? AND b = ? APPLY BATCH")
    assert isinstance(b, BatchPlan) and b.kind == "batch" and len(b.statements) == 2
    assert [r.name for r in b.markers.receivers] == ["k", "a", "b"]
    assert plan(catalog, "UPDATE cnt SET n = n + 1 WHERE k = 1").is_counter


REFUSALS = [
    # INSERT
    ("INSERT INTO t (k, c, v) VALUES (1, 1, 1)", "clustering keys are missing: d"),
    ("INSERT INTO t (c, d, v) VALUES (1, 1, 1)", "partition key parts are missing: k"),
    ("INSERT INTO t (k, c, st) VALUES (1, 1, 1)", "clustering keys are missing: d"),
    ("INSERT INTO p (a, v) VALUES (1, 1)", "partition key parts are missing: b"),
    ("INSERT INTO t (k, c, d) VALUES (1, 1)", "Unmatched column names/values"),
    ("INSERT INTO t (k, c, d, v, v) VALUES (1, 1, 1, 1, 1)", "duplicates"),
    ("INSERT INTO t (k, c, d, zz) VALUES (1, 1, 1, 1)", "Undefined column name zz"),
    ("INSERT INTO t (k, c, d, v) VALUES (1, 1, 1, 'x')", "Invalid STRING constant"),
    ("INSERT INTO cnt (k, n) VALUES (1, 1)", "not allowed on counter tables"),
    ("INSERT INTO t (k, c, d) VALUES (1, 1, 1) USING TTL -1", "greater or equal to 0"),
    ("INSERT INTO t (k, c, d) VALUES (1, 1, 1) USING TTL 630720001", "too large"),
    ("INSERT INTO nope (k) VALUES (1)", "nope"),
    # UPDATE
    ("UPDATE t SET k = 1 WHERE k = 1 AND c = 1 AND d = 1", "PRIMARY KEY part k found in SET part"),
    ("UPDATE t SET v = 1 WHERE k = 1 AND c = 1", "clustering keys are missing: d"),
    ("UPDATE t SET v = 1 WHERE k = 1 AND c = 1 AND d > 1", "Slice restrictions"),
    ("UPDATE t SET v = 1 WHERE k = 1 AND c = 1 AND d = 1 AND v = 1", "Non PRIMARY KEY columns"),
    ("UPDATE t SET v = 1 WHERE token(k) = 1 AND c = 1 AND d = 1", "token function"),
    ("UPDATE t SET st = 1 WHERE k = 1 AND c = 1", "modifies only static columns"),
    ("UPDATE p SET v = 1 WHERE a = 1", "partition key parts are missing: b"),
    ("UPDATE p SET v = 1 WHERE a = 1 AND b > 1", "Only EQ and IN relation"),
    ("UPDATE t SET v = v + 1 WHERE k = 1 AND c = 1 AND d = 1", "non counter column v"),
    ("UPDATE t SET fl = fl + [1] WHERE k = 1 AND c = 1 AND d = 1", "frozen"),
    ("UPDATE cnt SET n = 5 WHERE k = 1", "Cannot set the value of counter column n"),
    ("UPDATE cnt USING TTL 5 SET n = n + 1 WHERE k = 1", "custom TTL for counter"),
    ("UPDATE cnt USING TIMESTAMP 5 SET n = n + 1 WHERE k = 1", "custom timestamp for counter"),
    ("UPDATE t SET v = 1 WHERE k = 1 AND c = 1 AND d = 1 IF k = 1", "cannot have IF conditions"),
    ("UPDATE t SET v = 1 WHERE k != 1 AND c = 1 AND d = 1", "!="),
    ("UPDATE t SET v = 1 WHERE k = 1 AND k = 2 AND c = 1 AND d = 1", "more than one relation"),
    ("UPDATE t SET l = l + [1] WHERE k = 1 AND c = 1 AND d = 1 AND l CONTAINS 1",
     "Non PRIMARY KEY"),
    # DELETE
    ("DELETE v FROM t WHERE k = 1 AND c = 1", "Range deletions are not supported"),
    ("DELETE v FROM t WHERE k = 1", "Range deletions are not supported"),
    ("DELETE c FROM t WHERE k = 1 AND c = 1 AND d = 1", "should not be a PRIMARY KEY part"),
    ("DELETE st FROM t WHERE k = 1 AND c = 1", "modifies only static columns"),
    ("DELETE FROM t WHERE k = 1 AND d = 1", 'preceding column "c" is not restricted'),
    ("DELETE FROM t WHERE k = 1 AND c > 1 AND d = 1", "non-EQ relation"),
    ("DELETE FROM t WHERE k > 1", "Only EQ and IN relation"),
    ("DELETE FROM t WHERE k = 1 AND v = 1", "Non PRIMARY KEY columns"),
    ("DELETE FROM t WHERE token(k) > 1", "token function"),
    ("DELETE FROM t WHERE k = 1 AND c > 1 AND c > 2", "More than one restriction"),
    ("DELETE FROM t WHERE k = 1 AND (c, d) = (1, 2, 3)", "Expected 2 elements"),
    ("DELETE FROM t WHERE k = 1 AND (d, c) = (1, 2)", "PRIMARY KEY order"),
    ("DELETE FROM t WHERE (k, c) = (1, 2)", "Multi-column relations"),
    ("DELETE zz FROM t WHERE k = 1 AND c = 1 AND d = 1", "Undefined column name zz"),
    ("DELETE v[1] FROM t WHERE k = 1 AND c = 1 AND d = 1", "non collection"),
    # BATCH
    ("BEGIN BATCH USING TTL 5 INSERT INTO p (a, b) VALUES (1, 1) APPLY BATCH", "Global TTL"),
    ("BEGIN BATCH USING TIMESTAMP 5 INSERT INTO p (a, b) VALUES (1, 1) USING TIMESTAMP 6 "
     "APPLY BATCH", "either on BATCH or individual statements"),
    ("BEGIN BATCH UPDATE cnt SET n = n + 1 WHERE k = 1 APPLY BATCH", "counter statement in a logged"),
    ("BEGIN COUNTER BATCH INSERT INTO p (a, b) VALUES (1, 1) APPLY BATCH", "non-counter statement"),
    ("BEGIN UNLOGGED BATCH UPDATE cnt SET n = n + 1 WHERE k = 1; "
     "INSERT INTO p (a, b) VALUES (1, 1) APPLY BATCH", "cannot exist in the same batch"),
    ("BEGIN BATCH UPDATE p SET v = 1 WHERE a = 1 AND b = 1 IF v = 1; "
     "UPDATE t SET v = 1 WHERE k = 1 AND c = 1 AND d = 1 APPLY BATCH", "multiple tables"),
]


@pytest.mark.parametrize("text, message", REFUSALS)
def test_refusals_are_invalid_request(catalog, text, message):
    with pytest.raises(errors.InvalidRequest) as info:
        plan(catalog, text)
    assert message.lower() in str(info.value).lower()


@pytest.mark.parametrize("text", [
    "DELETE FROM t USING TTL 5 WHERE k = 1",
    "UPDATE t SET v = 1, v = 2 WHERE k = 1 AND c = 1 AND d = 1",
    "UPDATE t SET v = d + 1 WHERE k = 1 AND c = 1 AND d = 1",
    "INSERT INTO t (k, c, d) VALUES (1, 1, 1) IF EXISTS",
    "BEGIN BATCH SELECT * FROM t APPLY BATCH",
    "BEGIN BATCH TRUNCATE t APPLY BATCH",
])
def test_syntax_refusals(catalog, text):
    with pytest.raises(errors.SyntaxException):
        plan(catalog, text)


def test_system_keyspace_writes_are_unauthorized(catalog):
    with pytest.raises(errors.Unauthorized):
        plan_modification(cqlpy.parse_one("INSERT INTO system.local (key) VALUES ('a')"), catalog, None)


def test_explain_rows(catalog):
    rows = dict(plan(catalog, "DELETE FROM t WHERE k = 1 AND c > 1").explain())
    assert rows["writes"] == "range tombstone over the clustering slice"
    assert rows["engine"].startswith("one engine.apply")
    rows = dict(plan(catalog, "DELETE FROM t WHERE k = 1").explain())
    assert rows["writes"] == "partition tombstone"
    rows = dict(plan(catalog, "UPDATE t SET l[0] = 1 WHERE k = 1 AND c = 1 AND d = 1").explain())
    assert "read before write" in rows and rows["writes"] == "cells only (no row marker)"
    rows = dict(plan(catalog, "INSERT INTO t (k, c, d) VALUES (1, 1, 1) IF NOT EXISTS").explain())
    assert "compare-and-set" in rows["condition"]
    b = plan(catalog, "BEGIN UNLOGGED BATCH INSERT INTO p (a, b) VALUES (1, 1) APPLY BATCH")
    assert dict(b.explain())["1. statement"] == "INSERT"
