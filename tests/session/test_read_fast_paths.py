"""The single-partition read fast path (compiled tuple rows, inline native decoders) gives the same
rows as the general path, for every native type it inlines, nulls, deleted and expiring cells."""
from __future__ import annotations

import pytest

import cqlpy

KS = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"


@pytest.fixture
def session(tmp_path):
    s = cqlpy.connect(str(tmp_path / "data"))
    s.execute(KS)
    s.execute("USE ks")
    s.execute("CREATE TABLE t (k text, c int, a text, b int, d double, f boolean, g blob, "
              "l list<int>, PRIMARY KEY (k, c))")
    yield s
    s.close()


def _rows(session, cql, *params):
    return [tuple(r) for r in session.execute(cql, params).all()]


@pytest.mark.parametrize("flush", [False, True])
def test_partition_and_point_reads_decode_every_column(session, flush):
    ins = session.prepare("INSERT INTO t (k, c, a, b, d, f, g, l) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    session.execute(ins, ("p", 1, "é", 7, 1.5, True, b"\x00\x01", [1, 2]))
    session.execute(ins, ("p", 2, None, None, None, None, None, None))
    session.execute("INSERT INTO t (k, c, a) VALUES ('p', 3, 'x') USING TTL 1000")
    session.execute("INSERT INTO t (k, c, a, b) VALUES ('p', 4, 'y', 1)")
    session.execute("DELETE b FROM t WHERE k = 'p' AND c = 4")
    if flush:
        session.flush()                                  # read the rows back from an SSTable
    expected = [
        ("p", 1, "é", 7, 1.5, True, b"\x00\x01", [1, 2]),
        ("p", 2, None, None, None, None, None, None),
        ("p", 3, "x", None, None, None, None, None),
        ("p", 4, "y", None, None, None, None, None),
    ]
    got = _rows(session, "SELECT k, c, a, b, d, f, g, l FROM t WHERE k = ?", "p")
    assert got == expected
    assert _rows(session, "SELECT c, a, k FROM t WHERE k = ? ORDER BY c DESC", "p") == \
        [(r[1], r[2], r[0]) for r in reversed(expected)]
    for row in expected:
        assert _rows(session, "SELECT k, c, a, b, d, f, g, l FROM t WHERE k = ? AND c = ?",
                     "p", row[1]) == [row]
    assert _rows(session, "SELECT a FROM t WHERE k = ? AND c = ?", "p", 9) == []
    assert _rows(session, "SELECT a FROM t WHERE k = ?", "absent") == []
