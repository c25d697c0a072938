"""Write execution: what INSERT / UPDATE / DELETE / BATCH / TRUNCATE leave visible (read back raw)."""
from __future__ import annotations

import pytest

from cqlpy import errors
from cqlpy.planner.terms import UNSET

from .write_support import Clock, open_session, raw_row, rows


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def s(tmp_path, clock):
    session = open_session(str(tmp_path / "data"), clock)
    yield session
    session.close()


# --- row existence (notes §2.4) ---------------------------------------------------------------------

def test_insert_writes_marker_update_does_not(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO r (k) VALUES (1)")
    s.execute("UPDATE r SET v = 1 WHERE k = 2")
    assert rows(s, "r") == [(1, None), (2, 1)]
    s.execute("UPDATE r SET v = null WHERE k = 2")
    s.execute("UPDATE r SET v = null WHERE k = 1")
    assert rows(s, "r") == [(1, None)]


def test_delete_then_update_brings_row_back_without_marker(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO r (k, v) VALUES (1, 1)")
    s.execute("DELETE FROM r WHERE k = 1")
    s.execute("UPDATE r SET v = 2 WHERE k = 1")
    assert rows(s, "r") == [(1, 2)]
    s.execute("DELETE v FROM r WHERE k = 1")
    assert rows(s, "r") == []


def test_insert_null_writes_tombstone_and_unset_writes_nothing(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, a int, b int)")
    s.execute("INSERT INTO r (k, a, b) VALUES (1, 1, 1)")
    s.execute("INSERT INTO r (k, a, b) VALUES (?, ?, ?)", (1, None, UNSET))
    assert rows(s, "r") == [(1, None, 1)]


def test_timestamps_decide_not_order(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO r (k, v) VALUES (1, 1) USING TIMESTAMP 100")
    s.execute("DELETE FROM r USING TIMESTAMP 200 WHERE k = 1")
    s.execute("INSERT INTO r (k, v) VALUES (1, 2) USING TIMESTAMP 150")
    assert rows(s, "r") == []
    s.execute("INSERT INTO r (k, v) VALUES (1, 3) USING TIMESTAMP 200")
    assert rows(s, "r") == []                  # deletion covers <=
    s.execute("INSERT INTO r (k, v) VALUES (1, 4) USING TIMESTAMP 201")
    assert rows(s, "r") == [(1, 4)]
    assert raw_row(s, "r", [1]).columns["v"].timestamp == 201


def test_client_timestamp_and_server_timestamps_increase(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO r (k, v) VALUES (1, 1)", timestamp=42)
    assert raw_row(s, "r", [1]).columns["v"].timestamp == 42
    s.execute("INSERT INTO r (k, v) VALUES (2, 1)")
    s.execute("INSERT INTO r (k, v) VALUES (2, 2)")   # same clock: the session makes ts unique
    assert rows(s, "r") == [(1, 1), (2, 2)]


# --- TTL ----------------------------------------------------------------------------------------------

def test_ttl_expiry_of_insert_and_update(s, clock):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, a int, b int)")
    s.execute("INSERT INTO r (k, a) VALUES (1, 1) USING TTL 10")
    s.execute("UPDATE r SET b = 2 WHERE k = 1")
    s.execute("INSERT INTO r (k, a) VALUES (2, 1) USING TTL 10")
    cell = raw_row(s, "r", [1]).columns["a"]
    assert cell.ttl == 10 and cell.local_deletion_time == int(clock()) + 10
    clock.advance(10)
    assert rows(s, "r") == [(1, None, 2)]     # k=2 expired entirely; k=1 kept by b


def test_default_time_to_live_and_ttl_zero(s, clock):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int) WITH default_time_to_live = 5")
    s.execute("INSERT INTO r (k, v) VALUES (1, 1)")
    s.execute("INSERT INTO r (k, v) VALUES (2, 1) USING TTL 0")
    s.execute("INSERT INTO r (k, v) VALUES (3, 1) USING TTL ?", (None,))
    s.execute("INSERT INTO r (k, v) VALUES (4, 1) USING TTL ?", (UNSET,))
    clock.advance(6)
    assert sorted(rows(s, "r")) == [(2, 1), (3, 1)]


@pytest.mark.parametrize("ttl, text", [(-1, "greater or equal to 0"), (630720001, "too large")])
def test_ttl_limits(s, ttl, text):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    with pytest.raises(errors.InvalidRequest, match=text):
        s.execute(f"INSERT INTO r (k, v) VALUES (1, 1) USING TTL {ttl}")
    with pytest.raises(errors.InvalidRequest, match=text):
        s.execute("INSERT INTO r (k, v) VALUES (1, 1) USING TTL ?", (ttl,))


def test_ttl_past_2038_is_rejected(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    with pytest.raises(errors.InvalidRequest, match="2038"):
        s.execute("INSERT INTO r (k, v) VALUES (1, 1) USING TTL 630000000")


def test_null_timestamp_is_refused(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    with pytest.raises(errors.InvalidRequest, match="null value of timestamp"):
        s.execute("INSERT INTO r (k, v) VALUES (1, 1) USING TIMESTAMP ?", (None,))


# --- keys -----------------------------------------------------------------------------------------------

def test_update_with_in_writes_every_combination_and_in_empty_nothing(s):
    s.execute("CREATE TABLE r (k int, c int, v int, PRIMARY KEY (k, c))")
    s.execute("UPDATE r SET v = 1 WHERE k IN (1, 2) AND c IN (3, 4)")
    assert sorted(rows(s, "r")) == [(1, 3, 1), (1, 4, 1), (2, 3, 1), (2, 4, 1)]
    s.execute("UPDATE r SET v = 2 WHERE k IN () AND c = 1")
    s.execute("UPDATE r SET v = 2 WHERE k IN ? AND c = 9", ([],))
    assert len(rows(s, "r")) == 4


def test_null_and_unset_keys(s):
    s.execute("CREATE TABLE r (k int, c int, v int, PRIMARY KEY (k, c))")
    with pytest.raises(errors.InvalidRequest, match="null value"):
        s.execute("INSERT INTO r (k, c, v) VALUES (?, 1, 1)", (None,))
    with pytest.raises(errors.InvalidRequest, match="unset value"):
        s.execute("UPDATE r SET v = 1 WHERE k = ? AND c = 1", (UNSET,))
    with pytest.raises(errors.InvalidRequest, match="null value"):
        s.execute("DELETE FROM r WHERE k = 1 AND c = ?", (None,))


def test_key_too_long(s):
    s.execute("CREATE TABLE r (k text PRIMARY KEY, v int)")
    with pytest.raises(errors.InvalidRequest, match="65535"):
        s.execute("INSERT INTO r (k, v) VALUES (?, 1)", ("x" * 70000,))


# --- deletes ------------------------------------------------------------------------------------------

def test_delete_shapes(s):
    s.execute("CREATE TABLE r (k int, c int, d int, v int, st int static, PRIMARY KEY (k, c, d))")
    for c in range(3):
        for d in range(3):
            s.execute(f"INSERT INTO r (k, c, d, v, st) VALUES (1, {c}, {d}, 0, 9)")
    s.execute("DELETE FROM r WHERE k = 1 AND c = 0 AND d = 0")          # row
    s.execute("DELETE FROM r WHERE k = 1 AND c = 1")                    # prefix range
    s.execute("DELETE FROM r WHERE k = 1 AND c = 2 AND d >= 1")         # slice
    assert rows(s, "r") == [(1, 0, 1, 9, 0), (1, 0, 2, 9, 0), (1, 2, 0, 9, 0)]
    s.execute("DELETE FROM r WHERE k = 1 AND (c, d) > (0, 1)")          # tuple slice
    assert rows(s, "r") == [(1, 0, 1, 9, 0)]
    s.execute("DELETE FROM r WHERE k = 1 AND c > 5 AND c < 1")          # empty slice: no-op
    s.execute("DELETE FROM r WHERE k = 1")                              # partition, statics too
    assert rows(s, "r") == []


def test_row_delete_keeps_static_and_static_only_partition_shows(s):
    s.execute("CREATE TABLE r (k int, c int, v int, st int static, PRIMARY KEY (k, c))")
    s.execute("INSERT INTO r (k, c, v, st) VALUES (1, 1, 1, 5)")
    s.execute("DELETE FROM r WHERE k = 1 AND c = 1")
    assert rows(s, "r") == [(1, None, 5, None)]
    s.execute("DELETE st FROM r WHERE k = 1")
    assert rows(s, "r") == []


def test_delete_desc_clustering_slice(s):
    s.execute("CREATE TABLE r (k int, c int, v int, PRIMARY KEY (k, c)) "
              "WITH CLUSTERING ORDER BY (c DESC)")
    for c in range(5):
        s.execute(f"INSERT INTO r (k, c, v) VALUES (1, {c}, {c})")
    s.execute("DELETE FROM r WHERE k = 1 AND c >= 3")
    s.execute("DELETE FROM r WHERE k = 1 AND c < 1")
    assert rows(s, "r") == [(1, 2, 2), (1, 1, 1)]


# --- batches --------------------------------------------------------------------------------------------

def test_batch_shares_timestamp_tombstone_and_greater_value_win(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("BEGIN BATCH INSERT INTO r (k, v) VALUES (1, 1); DELETE FROM r WHERE k = 1; "
              "APPLY BATCH")
    assert rows(s, "r") == []
    s.execute("BEGIN BATCH UPDATE r SET v = 5 WHERE k = 2; UPDATE r SET v = 3 WHERE k = 2 "
              "APPLY BATCH")
    s.execute("BEGIN BATCH UPDATE r SET v = 3 WHERE k = 3; UPDATE r SET v = 5 WHERE k = 3 "
              "APPLY BATCH")
    assert sorted(rows(s, "r")) == [(2, 5), (3, 5)]
    s.execute("BEGIN BATCH USING TIMESTAMP 10 INSERT INTO r (k, v) VALUES (4, 1); APPLY BATCH")
    assert raw_row(s, "r", [4]).columns["v"].timestamp == 10
    s.execute("BEGIN UNLOGGED BATCH INSERT INTO r (k, v) VALUES (5, 1) USING TIMESTAMP 7; "
              "INSERT INTO r (k, v) VALUES (6, 1) APPLY BATCH")
    assert raw_row(s, "r", [5]).columns["v"].timestamp == 7
    s.execute("BEGIN BATCH APPLY BATCH")


def test_batch_is_one_engine_write(s, monkeypatch):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("CREATE TABLE r2 (k int PRIMARY KEY, v int)")
    calls = []
    engine = s._database.engine
    real = engine.apply
    monkeypatch.setattr(engine, "apply", lambda updates: (calls.append(len(updates)),
                                                          real(updates)))
    s.execute("BEGIN BATCH INSERT INTO r (k, v) VALUES (1, 1); INSERT INTO r (k, v) VALUES (2, 1); "
              "INSERT INTO r2 (k, v) VALUES (1, 1); UPDATE r SET v = 2 WHERE k = 1 APPLY BATCH")
    assert calls == [3]


def test_batch_with_markers(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    ps = s.prepare("BEGIN BATCH INSERT INTO r (k, v) VALUES (?, ?); "
                   "UPDATE r SET v = ? WHERE k = ? APPLY BATCH")
    s.execute(ps, (1, 10, 20, 2))
    assert rows(s, "r") == [(1, 10), (2, 20)]


# --- counters -------------------------------------------------------------------------------------------

def test_counters(s):
    s.execute("CREATE TABLE c (k int PRIMARY KEY, a counter, b counter)")
    s.execute("UPDATE c SET a = a + 5, b = b - 1 WHERE k = 1")
    s.execute("UPDATE c SET a = a - 2 WHERE k = 1")
    s.execute("UPDATE c SET a = a -1 WHERE k = 1")
    s.execute("BEGIN COUNTER BATCH UPDATE c SET a = a + 1 WHERE k = 1; "
              "UPDATE c SET a = a + 1 WHERE k = 1 APPLY BATCH")
    s.execute("UPDATE c SET a = a + ? WHERE k IN (1, 2)", (10,))
    assert rows(s, "c") == [(1, 14, -1), (2, 10, None)]
    with pytest.raises(errors.InvalidRequest, match="null value for counter"):
        s.execute("UPDATE c SET a = a + ? WHERE k = 1", (None,))
    s.execute("UPDATE c SET a = a + ? WHERE k = 1", (UNSET,))
    s.execute("DELETE a FROM c WHERE k = 2")
    assert rows(s, "c") == [(1, 14, -1)]


def test_counter_concurrent_increments_do_not_lose_updates(s):
    import threading
    s.execute("CREATE TABLE c (k int PRIMARY KEY, n counter)")
    ps = s.prepare("UPDATE c SET n = n + 1 WHERE k = 1")

    def work():
        for _ in range(100):
            s.execute(ps)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rows(s, "c") == [(1, 400)]


# --- static columns ------------------------------------------------------------------------------

def test_static_writes(s):
    s.execute("CREATE TABLE r (k int, c int, v int, st int static, PRIMARY KEY (k, c))")
    s.execute("INSERT INTO r (k, st) VALUES (1, 7)")
    assert rows(s, "r") == [(1, None, 7, None)]
    s.execute("INSERT INTO r (k, c, v) VALUES (1, 1, 1)")
    s.execute("UPDATE r SET st = 8 WHERE k = 1")
    s.execute("UPDATE r SET st = 9, v = 2 WHERE k = 1 AND c = 2")
    assert rows(s, "r") == [(1, 1, 9, 1), (1, 2, 9, 2)]


# --- truncate -------------------------------------------------------------------------------------

def test_truncate_then_old_timestamp_write_is_visible(s):
    s.execute("CREATE TABLE r (k int PRIMARY KEY, v int)")
    s.execute("INSERT INTO r (k, v) VALUES (1, 1)")
    s.execute("DELETE FROM r USING TIMESTAMP 1000 WHERE k = 2")
    s.flush()
    s.execute("INSERT INTO r (k, v) VALUES (3, 1)")
    s.execute("TRUNCATE r")
    assert rows(s, "r") == []
    s.execute("INSERT INTO r (k, v) VALUES (2, 1) USING TIMESTAMP 5")
    assert rows(s, "r") == [(2, 1)]


def test_system_keyspaces_are_not_writable(s):
    with pytest.raises(errors.Unauthorized):
        s.execute("INSERT INTO system.local (key) VALUES ('x')")
    with pytest.raises(errors.Unauthorized):
        s.execute("DELETE FROM system_schema.keyspaces WHERE keyspace_name = 'ks'")


def test_writes_survive_restart(tmp_path, clock):
    path = str(tmp_path / "data")
    s = open_session(path, clock)
    s.execute("CREATE TABLE r (k int, c int, l list<int>, PRIMARY KEY (k, c))")
    s.execute("INSERT INTO r (k, c, l) VALUES (1, 1, [1, 2])")
    s.execute("UPDATE r SET l = l + [3] WHERE k = 1 AND c = 1")
    s.execute("DELETE FROM r WHERE k = 1 AND c > 1")
    s.close()
    clock.advance(1)                 # a frozen clock would hand out the same timestamps again
    s = open_session(path, clock)
    assert rows(s, "r") == [(1, 1, [1, 2, 3])]
    s.execute("UPDATE r SET l[0] = 9 WHERE k = 1 AND c = 1")
    assert rows(s, "r") == [(1, 1, [9, 2, 3])]
    s.close()
