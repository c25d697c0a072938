"""TRACING's output: a statement's trace (from ``result.get_query_trace()``) in cqlsh's layout.

After a traced statement's result::

    <blank>
    Tracing session: 5a7b...                       (the label magenta with colour on)
    <blank>
     activity                     | timestamp                  | source    | source_elapsed | client
    ------------------------------+----------------------------+-----------+----------------+-----------
                Execute CQL3 query | 2026-11-26 16:18:18.201000 | 127.0.0.1 |              0 | 127.0.0.1
     Parsing SELECT ... [thread]   | ...                        |       ... |             12 | 127.0.0.1
     ...
                  Request complete | 2026-11-26 16:18:18.202201 | 127.0.0.1 |           1000 | 127.0.0.1
    <blank>                                       (in a terminal only, as after any cqlsh table)
    <blank>

The first row is the session (request type, start, coordinator, 0), one row per event
("<activity> [<thread>]", its instant, source, source_elapsed µs), and a last "Request complete" row
at start + duration.  Headers are left-aligned, values right-aligned, times in local time, as cqlsh
prints them.  Statements reading ``system_traces`` are not traced (``traced``), as in cqlsh.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

NAMES = ("activity", "timestamp", "source", "source_elapsed", "client")
MAGENTA, RESET = "\033[0;1;35m", "\033[0m"

_SYSTEM_TRACES = re.compile(r'\bfrom\s+"?system_traces"?\s*\.', re.IGNORECASE)


def traced(text: str, keyspace: str | None) -> bool:
    """Whether TRACING ON traces this statement: not a SELECT from system_traces (reading a
    trace must not make another one)."""
    if text.lstrip()[:6].lower() != "select":
        return True
    if _SYSTEM_TRACES.search(text):
        return False
    return not (keyspace == "system_traces" and not re.search(r"\bfrom\s+\S+\.", text, re.IGNORECASE))


def _local(value: Any) -> Any:
    """A naive UTC datetime in local time (cqlsh's datetime_from_utc_to_local)."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None) - (value.utcoffset() or timedelta(0))
    now = time.time()
    offset = datetime.fromtimestamp(now) - datetime.utcfromtimestamp(now)
    return value + offset


def _micros(td: Any) -> Any:
    if td is None:
        return "--"
    return int(td.microseconds + (td.seconds + td.days * 86400) * 1_000_000)


def trace_rows(trace: Any) -> list[list[Any]]:
    """The table's rows: the session, its events, then "Request complete" (none without events)."""
    events = list(getattr(trace, "events", None) or ())
    if not events:
        return []
    started = _local(trace.started_at)
    rows: list[list[Any]] = [[trace.request_type, str(started), trace.coordinator, 0, trace.client]]
    for e in events:
        rows.append([f"{e.description} [{e.thread_name}]", str(_local(e.datetime)), e.source,
                     _micros(e.source_elapsed), trace.client])
    if trace.duration:
        rows.append(["Request complete", str(started + trace.duration), trace.coordinator,
                     _micros(trace.duration), trace.client])
    return rows


def _text(value: Any) -> str:
    return "null" if value is None else str(value)


def render_trace(trace: Any, *, tty: bool = False, color: bool = False) -> str:
    """The trace as cqlsh prints it (see the module documentation); "" when it has no events."""
    rows = [[_text(v) for v in row] for row in trace_rows(trace)]
    if not rows:
        return ""
    widths = [len(n) for n in NAMES]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    label = f"{MAGENTA}Tracing session: {RESET}" if color else "Tracing session: "
    lines = ["", f"{label}{trace.trace_id}", ""]
    lines.append((" " + " | ".join(n.ljust(w) for n, w in zip(NAMES, widths))).rstrip())
    lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    for row in rows:
        lines.append(" " + " | ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    if tty:
        lines.append("")
    lines.append("")
    return "\n".join(lines) + "\n"


def trace_output(result: Any, *, tty: bool = False, color: bool = False, max_wait: float = 10.0) -> str:
    """The rendered trace of a traced statement's result; an explanation when it cannot be read."""
    get = getattr(result, "get_query_trace", None)
    if get is None:
        return ""
    try:
        trace = get(max_wait)
    except Exception as exc:  # noqa: BLE001 - the statement ran; only its trace is missing
        if type(exc).__name__ == "TraceUnavailable":
            return (f"Statement trace did not complete within {max_wait:g} seconds; trace data "
                    f"may be incomplete.\n")
        return f"Unable to fetch query trace: {exc}\n"
    if trace is None:
        return ""
    text = render_trace(trace, tty=tty, color=color)
    return text or f"No rows for session {trace.trace_id} found.\n"
