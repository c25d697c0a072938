"""cqlpy: a small, real Cassandra in Python — CQL, an LSM storage engine, the native protocol."""
from __future__ import annotations

from typing import Any

from .language import is_complete, parse, parse_one, split_statements

__version__ = "0.1.0"


def connect(path: str | None = None, keyspace: str | None = None, *, host: str | None = None,
            port: int = 9042, **options: Any):
    """A Session: on the embedded database in folder ``path`` (created if missing), as
    ``sqlite3.connect`` does for a file, or, with ``host``, on a CQL server over the native protocol
    (cqlpy-server or Apache Cassandra).  ``with cqlpy.connect("data") as session: ...``

    ``keyspace`` is the initial USE keyspace.  Embedded, ``options`` go to the storage engine
    (``commitlog_sync="periodic"|"batch"``, ``commitlog_sync_period_ms``, ``memtable_flush_bytes``,
    ``compaction``...) and ``clock`` replaces the wall clock (tests); remote, they are the client's
    (``username``, ``password``, ``compression``, ``timeout``)."""
    if host is not None:
        if path is not None:
            raise TypeError("connect() takes a data folder or a host, not both")
        from .protocol.client import connect as _remote
        return _remote(host, port, keyspace, **options)
    if path is None:
        raise TypeError("connect() needs a data folder (embedded) or host= (a server)")
    from .session.session import connect as _connect
    return _connect(path, keyspace, **options)


def __getattr__(name: str) -> Any:
    # the session layer is imported on first use, so ``import cqlpy`` stays light for parse-only users
    if name in ("Session", "PreparedStatement", "BoundStatement", "SimpleStatement"):
        from .session import session as _session
        return getattr(_session, name)
    if name == "UNSET_VALUE":
        from .planner.terms import UNSET
        return UNSET
    raise AttributeError(f"module 'cqlpy' has no attribute {name!r}")


__all__ = ["BoundStatement", "PreparedStatement", "Session", "SimpleStatement", "UNSET_VALUE",
           "__version__", "connect", "is_complete", "parse", "parse_one", "split_statements"]
