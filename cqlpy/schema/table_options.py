"""Table options: the ``WITH`` properties of CREATE/ALTER TABLE, parsed, validated and normalized.

``TableOptions`` holds every option with Cassandra's default; ``with_properties`` applies a
statement's properties (each parsed by its entry in ``_OPTION_PARSERS``: unknown name or a value of
the wrong kind -> SyntaxException, out of range -> ConfigurationException, Cassandra's messages),
and ``as_row``/``from_row`` are its ``system_schema.tables`` columns.  Values are normalized as
Cassandra reports them: compaction and compression classes by full Java name, option maps with
string values, speculative_retry spelled ``99p``/``10ms``/``NEVER``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from cqlpy.errors import ConfigurationException, SyntaxException

COMPACTION_PACKAGE = "org.apache.cassandra.db.compaction."
COMPRESSION_PACKAGE = "org.apache.cassandra.io.compress."
STCS = COMPACTION_PACKAGE + "SizeTieredCompactionStrategy"
_KNOWN_COMPACTIONS = ("SizeTieredCompactionStrategy", "LeveledCompactionStrategy",
                      "TimeWindowCompactionStrategy", "UnifiedCompactionStrategy")
_KNOWN_COMPRESSORS = ("LZ4Compressor", "SnappyCompressor", "DeflateCompressor", "ZstdCompressor",
                      "NoopCompressor")
MAX_TTL = 630_720_000
"""Twenty years: the largest TTL (and default_time_to_live) Cassandra accepts."""


def _default_compaction() -> dict[str, str]:
    return {"class": STCS, "max_threshold": "32", "min_threshold": "4"}


def _default_compression() -> dict[str, str]:
    return {"chunk_length_in_kb": "16", "class": COMPRESSION_PACKAGE + "LZ4Compressor"}


def _default_caching() -> dict[str, str]:
    return {"keys": "ALL", "rows_per_partition": "NONE"}


@dataclass(frozen=True)
class TableOptions:
    """The ``WITH`` options of a table, with Cassandra's defaults and normalized values."""

    comment: str = ""
    gc_grace_seconds: int = 864000
    default_time_to_live: int = 0
    bloom_filter_fp_chance: float = 0.01
    caching: dict[str, str] = field(default_factory=_default_caching)
    compaction: dict[str, str] = field(default_factory=_default_compaction)
    compression: dict[str, str] = field(default_factory=_default_compression)
    crc_check_chance: float = 1.0
    min_index_interval: int = 128
    max_index_interval: int = 2048
    memtable_flush_period_in_ms: int = 0
    speculative_retry: str = "99p"
    additional_write_policy: str = "99p"
    read_repair: str = "BLOCKING"
    cdc: bool = False
    extensions: dict[str, bytes] = field(default_factory=dict)
    allow_auto_snapshot: bool = True
    incremental_backups: bool = True
    memtable: str = "default"

    def with_properties(self, props: Mapping[str, Any]) -> "TableOptions":
        """A copy with the ``WITH`` properties of a CREATE/ALTER TABLE applied and validated.

        Names are lower-case CQL property names; values are the Python values of the literals
        (str, int, float, bool, dict).  Unknown property -> SyntaxException; bad value ->
        SyntaxException (not a number) or ConfigurationException (out of range), as Cassandra does.
        """
        changes: dict[str, Any] = {}
        for name, value in props.items():
            key = name.lower()
            if key not in _OPTION_PARSERS:
                raise SyntaxException(f"Unknown property '{name}'")
            changes[key] = _OPTION_PARSERS[key](key, value)
        result = replace(self, **changes)
        result.validate()
        return result

    def validate(self) -> None:
        if not (6.71e-05 < self.bloom_filter_fp_chance <= 1.0):
            raise ConfigurationException(
                "bloom_filter_fp_chance must be larger than 6.71E-5 and less than or equal to 1.0"
                f" (got {self.bloom_filter_fp_chance})")
        if not 0.0 <= self.crc_check_chance <= 1.0:
            raise ConfigurationException(
                "crc_check_chance must be larger than or equal to 0 and smaller than or equal to"
                f" 1.0 (got {self.crc_check_chance})")
        for name in ("gc_grace_seconds", "default_time_to_live", "memtable_flush_period_in_ms"):
            if getattr(self, name) < 0:
                raise ConfigurationException(
                    f"{name} must be greater than or equal to 0 (got {getattr(self, name)})")
        if self.default_time_to_live > MAX_TTL:
            raise ConfigurationException(
                f"default_time_to_live must be less than or equal to {MAX_TTL}"
                f" (got {self.default_time_to_live})")
        if self.min_index_interval < 1:
            raise ConfigurationException(
                f"min_index_interval must be greater than or equal to 1 (got {self.min_index_interval})")
        if self.max_index_interval < self.min_index_interval:
            raise ConfigurationException(
                "max_index_interval must be greater than or equal to min_index_interval"
                f" (got {self.max_index_interval})")

    def as_row(self) -> dict[str, Any]:
        """The option columns of a ``system_schema.tables`` row."""
        return {
            "additional_write_policy": self.additional_write_policy,
            "allow_auto_snapshot": self.allow_auto_snapshot,
            "bloom_filter_fp_chance": self.bloom_filter_fp_chance,
            "caching": dict(self.caching),
            "cdc": self.cdc,
            "comment": self.comment,
            "compaction": dict(self.compaction),
            "compression": dict(self.compression),
            "crc_check_chance": self.crc_check_chance,
            "dclocal_read_repair_chance": 0.0,
            "default_time_to_live": self.default_time_to_live,
            "extensions": dict(self.extensions),
            "gc_grace_seconds": self.gc_grace_seconds,
            "incremental_backups": self.incremental_backups,
            "max_index_interval": self.max_index_interval,
            "memtable": self.memtable,
            "memtable_flush_period_in_ms": self.memtable_flush_period_in_ms,
            "min_index_interval": self.min_index_interval,
            "read_repair": self.read_repair,
            "read_repair_chance": 0.0,
            "speculative_retry": self.speculative_retry,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "TableOptions":
        """Inverse of ``as_row`` (missing or null columns keep their defaults)."""
        base = cls()
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            v = row.get(name)
            if v is None:
                continue
            if isinstance(getattr(base, name), dict):
                v = dict(v)
            values[name] = v
        return cls(**values)


def _as_text(key: str, value: Any) -> str:
    if isinstance(value, (dict, list, set, tuple, frozenset)):
        raise SyntaxException(f"Invalid value for property '{key}'")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):                # a hex constant in a map: its text, as written
        return "0x" + value.hex()
    return str(value)


def _as_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise SyntaxException(f"Invalid integer value {value} for '{key}'")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SyntaxException(f"Invalid integer value {value} for '{key}'") from None


def _as_float(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise SyntaxException(f"Invalid double value {value} for '{key}'")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SyntaxException(f"Invalid double value {value} for '{key}'") from None


def bool_option(key: str, value: Any) -> bool:
    """A boolean property value (a bool, or the text true/false in any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "false"):
        return text == "true"
    raise SyntaxException(f"Invalid boolean value {value} for '{key}'")


def _as_map(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise SyntaxException(f"Invalid value for property '{key}'. It should be a map.")
    return {str(k): _as_text(key, v) for k, v in value.items()}


def _class_name(value: str, package: str, known: Iterable[str]) -> str:
    if "." in value:
        return value
    if value in known:
        return package + value
    raise ConfigurationException(f"Unable to find class {package}{value}")


def _compaction(key: str, value: Any) -> dict[str, str]:
    given = _as_map(key, value)
    if "class" not in given:
        raise ConfigurationException("Missing sub-option 'class' for the 'compaction' option.")
    result = {"class": _class_name(given.pop("class"), COMPACTION_PACKAGE, _KNOWN_COMPACTIONS)}
    result["max_threshold"] = given.pop("max_threshold", "32")
    result["min_threshold"] = given.pop("min_threshold", "4")
    for name in ("max_threshold", "min_threshold"):
        if not result[name].lstrip("-").isdigit():
            raise ConfigurationException(f"{result[name]} is not a parsable int (base10) for {name}")
    result.update(given)
    return dict(sorted(result.items()))


def _compression(key: str, value: Any) -> dict[str, str]:
    given = _as_map(key, value)
    if given.get("enabled", "true").lower() == "false":
        return {"enabled": "false"}
    given.pop("enabled", None)
    if "sstable_compression" in given:          # pre-3.0 spelling
        given.setdefault("class", given.pop("sstable_compression"))
    if "chunk_length_kb" in given:
        given.setdefault("chunk_length_in_kb", given.pop("chunk_length_kb"))
    if "class" not in given:
        raise ConfigurationException("Missing sub-option 'class' for the 'compression' option.")
    result = {"class": _class_name(given.pop("class"), COMPRESSION_PACKAGE, _KNOWN_COMPRESSORS),
              "chunk_length_in_kb": given.pop("chunk_length_in_kb", "16")}
    chunk = result["chunk_length_in_kb"]
    if not chunk.isdigit() or int(chunk) <= 0 or int(chunk) & (int(chunk) - 1):
        raise ConfigurationException(f"chunk_length_in_kb must be a power of 2 (got {chunk})")
    result.update(given)
    return dict(sorted(result.items()))


def _caching(key: str, value: Any) -> dict[str, str]:
    given = _as_map(key, value)
    keys = given.pop("keys", "ALL").upper()
    rows = given.pop("rows_per_partition", "NONE").upper()
    if given:
        raise ConfigurationException(f"Invalid caching sub-options {sorted(given)}: only 'keys' and"
                                     " 'rows_per_partition' are allowed")
    if keys not in ("ALL", "NONE"):
        raise ConfigurationException(f"Invalid value '{keys}' for caching sub-option 'keys':"
                                     " only 'ALL' and 'NONE' are allowed")
    if rows not in ("ALL", "NONE") and not rows.isdigit():
        raise ConfigurationException(f"Invalid value '{rows}' for caching sub-option"
                                     " 'rows_per_partition': only 'ALL', 'NONE' or a positive"
                                     " integer are allowed")
    return {"keys": keys, "rows_per_partition": rows}


def _retry(key: str, value: Any) -> str:
    text = _as_text(key, value).strip()
    upper = text.upper().replace(" ", "")
    m = re.fullmatch(r"(MIN|MAX)\((.+),(.+)\)", upper)
    if m:
        return f"{m.group(1)}({_retry(key, m.group(2))},{_retry(key, m.group(3))})"
    if upper in ("ALWAYS", "NEVER", "NONE"):
        return "NEVER" if upper == "NONE" else upper
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(PERCENTILE|P)", upper)
    if m:
        return m.group(1) + "p"
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*MS", upper)
    if m:
        return m.group(1) + "ms"
    raise ConfigurationException(f"Invalid value {text} for option '{key}'")


def _read_repair(key: str, value: Any) -> str:
    text = _as_text(key, value).upper()
    if text not in ("BLOCKING", "NONE"):
        raise ConfigurationException(f"Invalid value {text} for option '{key}'")
    return text


def _extensions(key: str, value: Any) -> dict[str, bytes]:
    if not isinstance(value, Mapping):
        raise SyntaxException(f"Invalid value for property '{key}'. It should be a map.")
    return {str(k): v if isinstance(v, bytes) else str(v).encode() for k, v in value.items()}


def _ignored_double(key: str, value: Any) -> float:
    return _as_float(key, value)


_OPTION_PARSERS = {
    "comment": _as_text,
    "gc_grace_seconds": _as_int,
    "default_time_to_live": _as_int,
    "bloom_filter_fp_chance": _as_float,
    "caching": _caching,
    "compaction": _compaction,
    "compression": _compression,
    "crc_check_chance": _as_float,
    "min_index_interval": _as_int,
    "max_index_interval": _as_int,
    "memtable_flush_period_in_ms": _as_int,
    "speculative_retry": _retry,
    "additional_write_policy": _retry,
    "read_repair": _read_repair,
    "cdc": bool_option,
    "extensions": _extensions,
    "allow_auto_snapshot": bool_option,
    "incremental_backups": bool_option,
    "memtable": _as_text,
}
TABLE_PROPERTIES = frozenset(_OPTION_PARSERS)
"""Property names a CREATE/ALTER TABLE ... WITH accepts (besides CLUSTERING ORDER / COMPACT STORAGE)."""
