"""The TraceRequest of a QUERY / EXECUTE / BATCH frame that asked for tracing (header flag 0x02).

What Cassandra records of the request in ``system_traces.sessions``: who asked, the coordinator,
the request type and its parameters (query text with passwords masked, consistency levels, page
size); cqlpy.session.tracing stores them with the statement's events.
"""
from __future__ import annotations

from typing import Any

from cqlpy.session.tracing import BATCH, PREPARED_QUERY, QUERY, TraceRequest, obfuscate_passwords

from .frame import Consistency


def wire_request(message: Any, client: Any, coordinator: Any) -> TraceRequest:
    """The TraceRequest of a QUERY / EXECUTE / BATCH frame with the tracing flag."""
    kind = type(message).__name__
    request = {"Query": QUERY, "Execute": PREPARED_QUERY, "Batch": BATCH}.get(kind, QUERY)
    parameters: dict[str, str] = {}
    params = getattr(message, "params", message)
    consistency = getattr(params, "consistency", None)
    if consistency is not None:
        try:
            parameters["consistency_level"] = Consistency(consistency).name
        except ValueError:
            parameters["consistency_level"] = str(consistency)
    page_size = getattr(params, "page_size", None)
    if page_size is not None and page_size > 0:
        parameters["page_size"] = str(page_size)
    serial = getattr(params, "serial_consistency", None)
    if serial is not None:
        try:
            parameters["serial_consistency_level"] = Consistency(serial).name
        except ValueError:
            pass
    if kind == "Query":
        parameters["query"] = obfuscate_passwords(message.query)
    return TraceRequest(_host(client), _host(coordinator), request, parameters)


def _host(address: Any) -> str | None:
    if isinstance(address, (tuple, list)) and address:
        address = address[0]
    return str(address) if address else None
