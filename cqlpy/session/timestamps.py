"""Server-side write timestamps: one increasing source per open database, seeded from the disk.

A statement without a client timestamp is written at ``max(clock µs, previous + 1)``: unique and
increasing for every session of the database, even when the clock stands still or steps back.
At open the "previous" is the newest timestamp already stored (``engine.max_timestamp``: SSTable
Statistics and replayed memtables), so a write after a restart always wins over the server
timestamped writes made before it, whatever the clock did meanwhile.

A client may write far in the future (``USING TIMESTAMP``, ``execute(..., timestamp=)``); such a
timestamp must not drag every later server timestamp along (Cassandra lets it win until the clock
catches up).  So the seed ignores data newer than ``SEED_HORIZON_SECONDS`` past the clock at open:
an SSTable or memtable partition with a newer timestamp does not count.
"""
from __future__ import annotations

import threading
from typing import Any

SEED_HORIZON_SECONDS = 24 * 3600


class ServerTimestamps:
    """Hands out server write timestamps (µs); thread-safe."""

    def __init__(self, last: int = 0) -> None:
        self._lock = threading.Lock()
        self.last = last

    @classmethod
    def seeded(cls, engine: Any, now_micros: int) -> "ServerTimestamps":
        """A source whose first timestamp is above every stored one (within the horizon)."""
        newest = engine.max_timestamp(limit=now_micros + SEED_HORIZON_SECONDS * 1_000_000)
        return cls(max(newest or 0, 0))

    def next(self, now_micros: int) -> int:
        """``now_micros``, or one above the previous timestamp if the clock has not passed it."""
        with self._lock:
            ts = now_micros if now_micros > self.last else self.last + 1
            self.last = ts
            return ts
