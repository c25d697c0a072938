"""ERROR messages (opcode 0x00): the code, the message, and the fields each code adds.

Body: ``[int] code`` ``[string] message`` then::

    0x1000 Unavailable      [consistency] cl, [int] required, [int] alive
    0x1100 Write_timeout    [consistency] cl, [int] received, [int] blockfor, [string] writeType
    0x1200 Read_timeout     [consistency] cl, [int] received, [int] blockfor, [byte] data_present
    0x1300 Read_failure     [consistency] cl, [int] received, [int] blockfor, [int] numfailures,
                            [byte] data_present
    0x1400 Function_failure [string] keyspace, [string] function, [string list] argument types
    0x1500 Write_failure    [consistency] cl, [int] received, [int] blockfor, [int] numfailures,
                            [string] writeType
    0x2400 Already_exists   [string] keyspace, [string] table (empty for a keyspace)
    0x2500 Unprepared       [short bytes] the unknown statement id
    every other code        nothing more

The driver decodes these fields and drops the connection when they are missing or wrong, and it
knows only the writeTypes of WRITE_TYPES.  ``ErrorMessage.from_exception`` builds the body from a
cqlpy.errors exception (its class gives the code, its attributes the fields);
``to_exception`` is the client's way back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cqlpy import errors as E

from .frame import BodyReader, BodyWriter, Consistency, Opcode
from .messages import Response

WRITE_TYPES = ("SIMPLE", "BATCH", "UNLOGGED_BATCH", "COUNTER", "BATCH_LOG", "CAS", "VIEW", "CDC")


def _consistency_of(name: Any) -> int:
    if isinstance(name, int):
        return name
    try:
        return Consistency[str(name).upper()]
    except KeyError:
        return Consistency.ONE


@dataclass
class ErrorMessage(Response):
    """ERROR: ``code``, ``message`` and the code's extra fields (``fields``, by attribute name of
    the matching cqlpy.errors class).  ``from_exception`` / ``to_exception`` convert both ways."""

    opcode: ClassVar[Opcode] = Opcode.ERROR
    code: int = 0
    message: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_exception(cls, exc: BaseException) -> "ErrorMessage":
        if not isinstance(exc, E.CQLError):
            return cls(E.ServerError.code, f"{type(exc).__name__}: {exc}")
        code = type(exc).code
        f: dict[str, Any] = {}
        if code in (0x1000, 0x1100, 0x1200, 0x1300, 0x1500):
            f["consistency"] = _consistency_of(getattr(exc, "consistency", "ONE"))
        if code == 0x1000:
            f["required"], f["alive"] = int(getattr(exc, "required", 1)), int(getattr(exc, "alive", 0))
        elif code in (0x1100, 0x1200, 0x1300, 0x1500):
            f["received"], f["block_for"] = int(exc.received), int(exc.block_for)  # type: ignore[attr-defined]
            if code in (0x1300, 0x1500):
                f["failures"] = int(getattr(exc, "failures", 1))
            if code in (0x1100, 0x1500):
                wt = str(getattr(exc, "write_type", "SIMPLE"))
                f["write_type"] = wt if wt in WRITE_TYPES else "SIMPLE"
            if code in (0x1200, 0x1300):
                f["data_present"] = bool(getattr(exc, "data_present", False))
        elif code == 0x1400:
            f["keyspace"] = str(getattr(exc, "keyspace", ""))
            f["function"] = str(getattr(exc, "function", ""))
            f["arg_types"] = list(getattr(exc, "arg_types", []) or [])
        elif code == 0x2400:
            f["keyspace"], f["table"] = exc.keyspace, exc.table  # type: ignore[attr-defined]
        elif code == 0x2500:
            f["statement_id"] = bytes(getattr(exc, "statement_id", b""))
        return cls(code, exc.message or str(exc), f)

    def to_exception(self) -> E.CQLError:
        """The cqlpy.errors exception this ERROR stands for (what the client raises)."""
        cls = E.ERROR_CLASSES.get(self.code, E.ServerError)
        f, msg = dict(self.fields), self.message
        if "consistency" in f:
            f["consistency"] = Consistency(f["consistency"]).name
        try:
            if self.code == 0x2400:
                return E.AlreadyExists(f.get("keyspace", ""), f.get("table", ""), msg)
            if self.code == 0x2500:
                return E.Unprepared(msg, f.get("statement_id", b""))
            if self.code in (0x1000, 0x1100, 0x1200, 0x1300, 0x1500):
                return cls(msg, **f)  # type: ignore[call-arg]
            exc = cls(msg)
        except TypeError:
            exc = cls(msg)
        for k, v in f.items():
            setattr(exc, k, v)
        return exc

    def encode_body(self, w: BodyWriter) -> None:
        f, code = self.fields, self.code
        w.write_int(code)
        w.write_string(self.message)
        if code in (0x1000, 0x1100, 0x1200, 0x1300, 0x1500):
            w.write_consistency(f.get("consistency", Consistency.ONE))
        if code == 0x1000:
            w.write_int(f.get("required", 1))
            w.write_int(f.get("alive", 0))
        elif code in (0x1100, 0x1200, 0x1300, 0x1500):
            w.write_int(f.get("received", 0))
            w.write_int(f.get("block_for", 1))
            if code in (0x1300, 0x1500):
                w.write_int(f.get("failures", 1))
            if code in (0x1200, 0x1300):
                w.write_byte(1 if f.get("data_present") else 0)
            if code in (0x1100, 0x1500):
                w.write_string(f.get("write_type", "SIMPLE"))
        elif code == 0x1400:
            w.write_string(f.get("keyspace", ""))
            w.write_string(f.get("function", ""))
            w.write_string_list(f.get("arg_types", []))
        elif code == 0x2400:
            w.write_string(f.get("keyspace", ""))
            w.write_string(f.get("table", ""))
        elif code == 0x2500:
            w.write_short_bytes(f.get("statement_id", b""))

    @classmethod
    def decode_body(cls, r: BodyReader) -> "ErrorMessage":
        code = r.read_int()
        msg = cls(code, r.read_string())
        f = msg.fields
        if code in (0x1000, 0x1100, 0x1200, 0x1300, 0x1500):
            f["consistency"] = r.read_consistency()
        if code == 0x1000:
            f["required"], f["alive"] = r.read_int(), r.read_int()
        elif code in (0x1100, 0x1200, 0x1300, 0x1500):
            f["received"], f["block_for"] = r.read_int(), r.read_int()
            if code in (0x1300, 0x1500):
                f["failures"] = r.read_int()
            if code in (0x1200, 0x1300):
                f["data_present"] = bool(r.read_byte())
            if code in (0x1100, 0x1500):
                f["write_type"] = r.read_string()
        elif code == 0x1400:
            f["keyspace"], f["function"] = r.read_string(), r.read_string()
            f["arg_types"] = r.read_string_list()
        elif code == 0x2400:
            f["keyspace"], f["table"] = r.read_string(), r.read_string()
        elif code == 0x2500:
            f["statement_id"] = r.read_short_bytes()
        return msg


def protocol_error(message: str) -> ErrorMessage:
    return ErrorMessage(E.ProtocolError.code, message)
