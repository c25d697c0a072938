"""Per-request options that travel beside a statement rather than inside it.

``consistency_level`` is the consistency level (the native protocol's numeric code, or None) of the
statement being executed on this thread.  The protocol backend sets it around each QUERY / EXECUTE /
BATCH; an embedded, single-node database never reads it; a ring backend (cqlpy.cluster.ring_engine)
reads it on every write and read it routes, so the session's executors need no new parameter.
``batch_type`` is set the same way by write_executor around a BATCH's engine write.
``serial_consistency_level`` is the request's serial consistency (SERIAL / LOCAL_SERIAL code, or None
for SERIAL): the Paxos rounds of a conditional write on a ring use it (cqlpy.cluster.paxos).
``check_serial_read(partitions)`` is Cassandra's refusal of a SERIAL / LOCAL_SERIAL read of more
than one partition (the read executor calls it with the number of partitions a query names).
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

from cqlpy.errors import InvalidRequest

consistency_level: contextvars.ContextVar[Any] = contextvars.ContextVar("cqlpy_consistency_level",
                                                                        default=None)
serial_consistency_level: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "cqlpy_serial_consistency_level", default=None)
batch_type: contextvars.ContextVar[str | None] = contextvars.ContextVar("cqlpy_batch_type",
                                                                        default=None)
"""LOGGED / UNLOGGED / COUNTER while a BATCH applies its mutations (a ring logs LOGGED ones)."""


SERIAL_CODES = (0x0008, 0x0009)       # SERIAL, LOCAL_SERIAL: the native protocol's [consistency]


def check_serial_read(partitions: int) -> None:
    """InvalidRequest when the current request reads ``partitions`` > 1 at a serial level."""
    if partitions > 1 and _is_serial(consistency_level.get()):
        raise InvalidRequest("SERIAL/LOCAL_SERIAL consistency may only be requested for one "
                             "partition at a time")


def _is_serial(level: Any) -> bool:
    if level is None:
        return False
    if isinstance(level, str):
        return level.strip().upper() in ("SERIAL", "LOCAL_SERIAL")
    try:
        return int(level) in SERIAL_CODES
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def using_consistency(level: Any, serial: Any = None) -> Iterator[None]:
    """Run the body with ``level`` (and ``serial``) as the current statement's consistency levels."""
    token = consistency_level.set(level)
    serial_token = serial_consistency_level.set(serial)
    try:
        yield
    finally:
        serial_consistency_level.reset(serial_token)
        consistency_level.reset(token)


@contextlib.contextmanager
def using_batch_type(kind: str | None) -> Iterator[None]:
    """Run the body as the engine write of a BATCH of ``kind`` (LOGGED, UNLOGGED, COUNTER)."""
    token = batch_type.set(kind)
    try:
        yield
    finally:
        batch_type.reset(token)
