"""Per-request options that travel beside a statement rather than inside it.

``consistency_level`` is the consistency level (the native protocol's numeric code, or None) of the
statement being executed on this thread.  The protocol backend sets it around each QUERY / EXECUTE /
BATCH; an embedded, single-node database never reads it; a ring backend (cqlpy.cluster.ring_engine)
reads it on every write and read it routes, so the session's executors need no new parameter.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

consistency_level: contextvars.ContextVar[Any] = contextvars.ContextVar("cqlpy_consistency_level",
                                                                        default=None)


@contextlib.contextmanager
def using_consistency(level: Any) -> Iterator[None]:
    """Run the body with ``level`` as the current statement's consistency level."""
    token = consistency_level.set(level)
    try:
        yield
    finally:
        consistency_level.reset(token)
