"""Engine-wide and per-table options (EngineOptions, TableOptions), with their JSON form on disk.

A table's options live beside its SSTables in ``<table dir>/options.json`` so that a reopened engine
knows each table's gc_grace_seconds, compaction, compression and bloom filter settings, and the
commit-log position up to which the table was truncated (replay must not resurrect truncated data).

options.json (UTF-8 JSON object, written to a temp name, fsynced, renamed into place)::

    {"keyspace": str, "table": str, "gc_grace_seconds": int,
     "compaction": {"class": str, "min_threshold": int, "max_threshold": int, "bucket_low": float,
                    "bucket_high": float, "min_sstable_size": int, "enabled": bool},
     "compression": {"enabled": bool, "chunk_length": int},
     "bloom_filter_fp_chance": float,
     "truncated_at": [segment_id, offset] | null,    (replay skips records up to here)
     "truncated_generation": int,   (SSTables of this generation or lower were truncated away:
                                     deleted at open if a crash kept them)
     "has_static": bool}      (a static row was ever written: clustering skipping must not apply)
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

OPTIONS_FILE = "options.json"

DEFAULT_COMPACTION: dict[str, Any] = {
    "class": "SizeTieredCompactionStrategy",
    "min_threshold": 4,
    "max_threshold": 32,
    "bucket_low": 0.5,
    "bucket_high": 1.5,
    "min_sstable_size": 50 * 1024 * 1024,
    "enabled": True,
}


def _default_compression():
    from .compression import CompressionParams
    return CompressionParams()


@dataclass(frozen=True)
class TableOptions:
    """What a table may tune (Cassandra's table options that concern storage)."""

    gc_grace_seconds: int = 864000
    compaction: dict = field(default_factory=lambda: dict(DEFAULT_COMPACTION))
    compression: Any = field(default_factory=_default_compression)
    bloom_filter_fp_chance: float = 0.01

    def compaction_option(self, name: str) -> Any:
        """One compaction setting, falling back to the size-tiered default."""
        return self.compaction.get(name, DEFAULT_COMPACTION.get(name))

    def with_changes(self, **changes) -> "TableOptions":
        return replace(self, **changes)

    def to_json(self) -> dict:
        comp = self.compression
        return {
            "gc_grace_seconds": self.gc_grace_seconds,
            "compaction": {**DEFAULT_COMPACTION, **self.compaction},
            "compression": {"enabled": bool(getattr(comp, "enabled", True)),
                            "chunk_length": int(getattr(comp, "chunk_length", 16384))},
            "bloom_filter_fp_chance": self.bloom_filter_fp_chance,
        }

    @classmethod
    def from_json(cls, obj: dict) -> "TableOptions":
        from .compression import CompressionParams
        c = obj.get("compression") or {}
        compression = CompressionParams(chunk_length=int(c.get("chunk_length", 16384)),
                                        enabled=bool(c.get("enabled", True)))
        return cls(gc_grace_seconds=int(obj.get("gc_grace_seconds", 864000)),
                   compaction={**DEFAULT_COMPACTION, **(obj.get("compaction") or {})},
                   compression=compression,
                   bloom_filter_fp_chance=float(obj.get("bloom_filter_fp_chance", 0.01)))


@dataclass(frozen=True)
class EngineOptions:
    """Options fixed when an Engine opens (see ``Engine.open``)."""

    commitlog_sync: str = "periodic"
    commitlog_sync_period_ms: int = 1000
    commitlog_segment_size: int = 32 * 1024 * 1024
    memtable_flush_bytes: int = 64 * 1024 * 1024
    max_pending_flushes: int = 4          # writers wait when this many memtables await flushing
    compaction: bool = True               # background compaction thread
    key_cache_capacity: int = 100_000     # entries, shared by every SSTable
    chunk_cache_bytes: int = 64 * 1024 * 1024   # decompressed Data chunks, shared
    clock: Callable[[], float] = time.time   # seconds since the epoch (TTL expiry, gc_grace)


def encode_table_meta(keyspace: str, table: str, options: TableOptions,
                      truncated_at: tuple[int, int] | None, has_static: bool = False,
                      truncated_generation: int = 0) -> bytes:
    obj = {"keyspace": keyspace, "table": table, **options.to_json(),
           "truncated_at": list(truncated_at) if truncated_at is not None else None,
           "truncated_generation": truncated_generation, "has_static": has_static}
    return json.dumps(obj, sort_keys=True, indent=1).encode()


def decode_table_meta(data: bytes) -> tuple[str | None, str | None, TableOptions,
                                             tuple[int, int] | None, bool, int]:
    """(keyspace, table, options, truncated_at, has_static, truncated_generation).

    ValueError for bytes that are not such a JSON object."""
    obj = json.loads(data.decode("utf-8"))
    if not isinstance(obj, dict):
        raise ValueError("options.json is not an object")
    t = obj.get("truncated_at")
    return (obj.get("keyspace"), obj.get("table"), TableOptions.from_json(obj),
            tuple(t) if t else None, bool(obj.get("has_static", False)),
            int(obj.get("truncated_generation", 0)))
