"""cqlpy: a small, real Cassandra in Python — CQL, an LSM storage engine, the native protocol."""
from __future__ import annotations

__version__ = "0.1.0"
