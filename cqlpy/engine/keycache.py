"""The key cache: an LRU of (SSTable identity, partition key) -> index entry, shared by SSTables.

A hit gives the partition's Data position, length and row-index samples at once, so the read
skips the Summary search and the Index block read (Cassandra's key cache, notes A4).  Entries are
immutable (SSTables are), so the only invalidation is dropping an SSTable's entries when it is
deleted (compaction, truncate, drop).  Thread-safe.
"""
from __future__ import annotations

import threading
from collections import OrderedDict


class KeyCache:
    """LRU mapping with hit/miss counters; ``capacity`` counts entries."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._map: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, sstable, key: bytes):
        """The cached entry of ``key`` in ``sstable`` (any hashable identity), or None."""
        k = (sstable, key)
        m = self._map
        entry = m.get(k)                # one C call: atomic under the GIL, no lock needed
        if entry is None:
            self.misses += 1
            return None
        with self._lock:
            if k in m:                  # (an invalidate or eviction may have raced us)
                m.move_to_end(k)
        self.hits += 1
        return entry

    def put(self, sstable, key: bytes, entry) -> None:
        if self.capacity <= 0:
            return
        k = (sstable, key)
        with self._lock:
            m = self._map
            m[k] = entry
            m.move_to_end(k)
            while len(m) > self.capacity:
                m.popitem(last=False)

    def invalidate(self, sstable) -> int:
        """Drop every entry of ``sstable``; returns how many."""
        with self._lock:
            doomed = [k for k in self._map if k[0] == sstable]
            for k in doomed:
                del self._map[k]
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._map.clear()

    def __len__(self) -> int:
        return len(self._map)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def stats(self) -> dict:
        return {"size": len(self._map), "capacity": self.capacity, "hits": self.hits,
                "misses": self.misses, "hit_rate": self.hit_rate}
