"""Helpers for the write tests: a session with a settable clock, and raw reads that bypass SELECT."""
from __future__ import annotations

from typing import Any

import cqlpy
from cqlpy.session.rowcodec import row_codec

KS = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
START = 1_700_000_000.0


class Clock:
    """A clock that moves only when told (seconds since the epoch)."""

    def __init__(self, t: float = START) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def open_session(path: str, clock: Clock | None = None) -> Any:
    s = cqlpy.connect(path, clock=clock or Clock())
    if s.catalog.get_keyspace("ks") is None:
        s.execute(KS)
    s.execute("USE ks")
    return s


def table(s: Any, name: str) -> Any:
    return s._database.catalog.table("ks", name)


def rows(s: Any, name: str) -> list[tuple]:
    """Every CQL row of ks.<name> (SELECT * order, partitions in token order), read from the engine."""
    db = s._database
    t = table(s, name)
    codec = row_codec(t)
    out: list[tuple] = []
    for p in db.engine.scan(t.table_id, now=int(db.clock())):
        out.extend(tuple(r.values()) for r in codec.decode_partition(p))
    return out


def raw_row(s: Any, name: str, pk: list, ck: list | None = None) -> Any:
    """The engine Row (live cells) at a primary key, or None."""
    db = s._database
    t = table(s, name)
    codec = row_codec(t)
    part = db.engine.read(t.table_id, codec.partition_key_bytes(pk), now=int(db.clock()))
    if part is None:
        return None
    if ck is None:
        return part.static_row if t.clustering else (part.rows[0] if part.rows else None)
    want = codec.clustering_bytes(ck)
    return next((r for r in part.rows if r.clustering == want), None)


def applied(rs: Any) -> list[tuple]:
    return [tuple(r) for r in rs]
