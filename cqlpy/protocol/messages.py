"""Native protocol v4 messages: one class per opcode, each with its body encoder and decoder.

Server and client share these classes: the server decodes requests and encodes responses, the
client does the reverse, with the same code.  ERROR bodies live in error_messages.py, RESULT bodies
(Void, Rows, Set_keyspace, Prepared, Schema_change) in results.py; framing.py puts any message in
a frame and takes it out again.

Bodies (``>>`` client to server, ``<<`` server to client)::

    >> STARTUP        [string map] options: CQL_VERSION (required), COMPRESSION, DRIVER_NAME, ...
    >> OPTIONS        (empty)                          << SUPPORTED [string multimap]
    >> QUERY          [long string] query, <query parameters>
    >> PREPARE        [long string] query
    >> EXECUTE        [short bytes] id, <query parameters>
    >> BATCH          [byte] type, [short] n, n x ([byte] kind, [long string] query | [short bytes] id,
                      [short] n values, [value]...), [consistency], [byte] flags,
                      [consistency] serial (0x10), [long] timestamp (0x20)
    >> REGISTER       [string list] event types
    >> AUTH_RESPONSE  [bytes] token
    << ERROR          [int] code, [string] message, code-specific fields (ErrorMessage)
    << READY          (empty)        << AUTHENTICATE [string] authenticator class
    << EVENT          [string] type + payload      << AUTH_CHALLENGE / AUTH_SUCCESS [bytes] token

<query parameters> = [consistency][byte flags] then, in order, the fields whose flag is set:
0x01 values ([short] n + n x [value], each preceded by a [string] name when 0x40 is set),
0x02 skip_metadata (no field), 0x04 [int] page_size, 0x08 [bytes] paging_state,
0x10 [consistency] serial_consistency, 0x20 [long] default timestamp (µs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .frame import BodyReader, BodyWriter, Consistency, FrameError, Opcode


class Message:
    """A protocol message; subclasses set ``opcode`` and implement the body both ways."""

    opcode: ClassVar[Opcode]
    is_request: ClassVar[bool] = True

    def encode_body(self, w: BodyWriter) -> None:
        """Append this message's body (nothing, for the empty messages)."""

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Message":
        return cls()


# --- query parameters -------------------------------------------------------------------------------

class QueryFlag:
    VALUES = 0x01
    SKIP_METADATA = 0x02
    PAGE_SIZE = 0x04
    PAGING_STATE = 0x08
    SERIAL_CONSISTENCY = 0x10
    DEFAULT_TIMESTAMP = 0x20
    NAMES_FOR_VALUES = 0x40
    ALL = 0x7F


@dataclass
class QueryParameters:
    """The options of a QUERY or EXECUTE; ``values`` are raw [value]s (bytes, None, NOT_SET)."""

    consistency: int = Consistency.ONE
    values: list[Any] | None = None
    names: list[str] | None = None
    skip_metadata: bool = False
    page_size: int | None = None
    paging_state: bytes | None = None
    serial_consistency: int | None = None
    timestamp: int | None = None

    def encode(self, w: BodyWriter) -> None:
        flags = 0
        if self.values is not None:
            flags |= QueryFlag.VALUES
            if self.names is not None:
                flags |= QueryFlag.NAMES_FOR_VALUES
        if self.skip_metadata:
            flags |= QueryFlag.SKIP_METADATA
        if self.page_size is not None:
            flags |= QueryFlag.PAGE_SIZE
        if self.paging_state is not None:
            flags |= QueryFlag.PAGING_STATE
        if self.serial_consistency is not None:
            flags |= QueryFlag.SERIAL_CONSISTENCY
        if self.timestamp is not None:
            flags |= QueryFlag.DEFAULT_TIMESTAMP
        w.write_consistency(self.consistency)
        w.write_byte(flags)
        if self.values is not None:
            w.write_short(len(self.values))
            for i, value in enumerate(self.values):
                if self.names is not None:
                    w.write_string(self.names[i])
                w.write_value(value)
        if self.page_size is not None:
            w.write_int(self.page_size)
        if self.paging_state is not None:
            w.write_bytes(self.paging_state)
        if self.serial_consistency is not None:
            w.write_consistency(self.serial_consistency)
        if self.timestamp is not None:
            w.write_long(self.timestamp)

    @classmethod
    def decode(cls, r: BodyReader) -> "QueryParameters":
        p = cls(consistency=r.read_consistency())
        flags = r.read_byte()
        if flags & ~QueryFlag.ALL:
            raise FrameError(f"Unknown query flags 0x{flags & ~QueryFlag.ALL:02x}")
        if flags & QueryFlag.VALUES:
            n = r.read_short()
            if n * 4 > r.remaining:
                raise FrameError(f"Query claims {n} values but only {r.remaining} bytes remain")
            named = bool(flags & QueryFlag.NAMES_FOR_VALUES)
            p.values, p.names = [], ([] if named else None)
            for _ in range(n):
                if named:
                    p.names.append(r.read_string())  # type: ignore[union-attr]
                p.values.append(r.read_value())
        elif flags & QueryFlag.NAMES_FOR_VALUES:
            raise FrameError("Query flag 0x40 (names for values) without 0x01 (values)")
        p.skip_metadata = bool(flags & QueryFlag.SKIP_METADATA)
        if flags & QueryFlag.PAGE_SIZE:
            p.page_size = r.read_int()
        if flags & QueryFlag.PAGING_STATE:
            p.paging_state = r.read_bytes()
        if flags & QueryFlag.SERIAL_CONSISTENCY:
            p.serial_consistency = r.read_consistency()
        if flags & QueryFlag.DEFAULT_TIMESTAMP:
            p.timestamp = r.read_long()
        return p


# --- requests ---------------------------------------------------------------------------------------

@dataclass
class Startup(Message):
    opcode: ClassVar[Opcode] = Opcode.STARTUP
    options: dict[str, str] = field(default_factory=lambda: {"CQL_VERSION": "3.4.7"})

    def encode_body(self, w: BodyWriter) -> None:
        w.write_string_map(self.options)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Startup":
        return cls(r.read_string_map())


@dataclass
class Options(Message):
    opcode: ClassVar[Opcode] = Opcode.OPTIONS


@dataclass
class Query(Message):
    opcode: ClassVar[Opcode] = Opcode.QUERY
    query: str = ""
    params: QueryParameters = field(default_factory=QueryParameters)

    def encode_body(self, w: BodyWriter) -> None:
        w.write_long_string(self.query)
        self.params.encode(w)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Query":
        query = r.read_long_string()
        return cls(query, QueryParameters.decode(r))


@dataclass
class Prepare(Message):
    opcode: ClassVar[Opcode] = Opcode.PREPARE
    query: str = ""

    def encode_body(self, w: BodyWriter) -> None:
        w.write_long_string(self.query)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Prepare":
        return cls(r.read_long_string())


@dataclass
class Execute(Message):
    opcode: ClassVar[Opcode] = Opcode.EXECUTE
    query_id: bytes = b""
    params: QueryParameters = field(default_factory=QueryParameters)

    def encode_body(self, w: BodyWriter) -> None:
        w.write_short_bytes(self.query_id)
        self.params.encode(w)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Execute":
        query_id = r.read_short_bytes()
        return cls(query_id, QueryParameters.decode(r))


class BatchType:
    LOGGED = 0
    UNLOGGED = 1
    COUNTER = 2
    NAMES = {0: "LOGGED", 1: "UNLOGGED", 2: "COUNTER"}


@dataclass
class BatchStatement:
    """One statement of a BATCH: CQL text (kind 0) or a prepared id (kind 1), and its values."""

    query: str | None = None
    query_id: bytes | None = None
    values: list[Any] = field(default_factory=list)

    @property
    def kind(self) -> int:
        return 0 if self.query_id is None else 1


@dataclass
class Batch(Message):
    opcode: ClassVar[Opcode] = Opcode.BATCH
    batch_type: int = BatchType.LOGGED
    statements: list[BatchStatement] = field(default_factory=list)
    consistency: int = Consistency.ONE
    serial_consistency: int | None = None
    timestamp: int | None = None

    def encode_body(self, w: BodyWriter) -> None:
        w.write_byte(self.batch_type)
        w.write_short(len(self.statements))
        for st in self.statements:
            w.write_byte(st.kind)
            if st.query_id is None:
                w.write_long_string(st.query or "")
            else:
                w.write_short_bytes(st.query_id)
            w.write_short(len(st.values))
            for v in st.values:
                w.write_value(v)
        w.write_consistency(self.consistency)
        flags = (QueryFlag.SERIAL_CONSISTENCY if self.serial_consistency is not None else 0) | \
                (QueryFlag.DEFAULT_TIMESTAMP if self.timestamp is not None else 0)
        w.write_byte(flags)
        if self.serial_consistency is not None:
            w.write_consistency(self.serial_consistency)
        if self.timestamp is not None:
            w.write_long(self.timestamp)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Batch":
        batch_type = r.read_byte()
        if batch_type not in BatchType.NAMES:
            raise FrameError(f"Unknown BATCH type {batch_type}")
        n = r.read_short()
        if n * 3 > r.remaining:
            raise FrameError(f"BATCH claims {n} statements but only {r.remaining} bytes remain")
        statements = []
        for _ in range(n):
            kind = r.read_byte()
            if kind == 0:
                st = BatchStatement(query=r.read_long_string())
            elif kind == 1:
                st = BatchStatement(query_id=r.read_short_bytes())
            else:
                raise FrameError(f"Unknown BATCH statement kind {kind}")
            count = r.read_short()
            if count * 4 > r.remaining:
                raise FrameError(f"BATCH statement claims {count} values but only {r.remaining} bytes remain")
            st.values = [r.read_value() for _ in range(count)]
            statements.append(st)
        batch = cls(batch_type, statements, r.read_consistency())
        flags = r.read_byte()
        if flags & QueryFlag.NAMES_FOR_VALUES:
            raise FrameError("Named values in BATCH are not supported by protocol v4")
        if flags & ~(QueryFlag.SERIAL_CONSISTENCY | QueryFlag.DEFAULT_TIMESTAMP):
            raise FrameError(f"Unknown BATCH flags 0x{flags:02x}")
        if flags & QueryFlag.SERIAL_CONSISTENCY:
            batch.serial_consistency = r.read_consistency()
        if flags & QueryFlag.DEFAULT_TIMESTAMP:
            batch.timestamp = r.read_long()
        return batch


EVENT_TYPES = ("TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE")


@dataclass
class Register(Message):
    opcode: ClassVar[Opcode] = Opcode.REGISTER
    events: list[str] = field(default_factory=lambda: list(EVENT_TYPES))

    def encode_body(self, w: BodyWriter) -> None:
        w.write_string_list(self.events)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Register":
        return cls(r.read_string_list())


@dataclass
class AuthResponse(Message):
    opcode: ClassVar[Opcode] = Opcode.AUTH_RESPONSE
    token: bytes | None = None

    def encode_body(self, w: BodyWriter) -> None:
        w.write_bytes(self.token)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "AuthResponse":
        return cls(r.read_bytes())


# --- responses --------------------------------------------------------------------------------------

class Response(Message):
    is_request: ClassVar[bool] = False
    warnings: list[str] | None = None          # sent with the WARNING flag when not empty


@dataclass
class Ready(Response):
    opcode: ClassVar[Opcode] = Opcode.READY


@dataclass
class Authenticate(Response):
    opcode: ClassVar[Opcode] = Opcode.AUTHENTICATE
    authenticator: str = "org.apache.cassandra.auth.PasswordAuthenticator"

    def encode_body(self, w: BodyWriter) -> None:
        w.write_string(self.authenticator)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Authenticate":
        return cls(r.read_string())


@dataclass
class Supported(Response):
    opcode: ClassVar[Opcode] = Opcode.SUPPORTED
    options: dict[str, list[str]] = field(default_factory=dict)

    def encode_body(self, w: BodyWriter) -> None:
        w.write_string_multimap(self.options)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Supported":
        return cls(r.read_string_multimap())


@dataclass
class AuthChallenge(Response):
    opcode: ClassVar[Opcode] = Opcode.AUTH_CHALLENGE
    token: bytes | None = None

    def encode_body(self, w: BodyWriter) -> None:
        w.write_bytes(self.token)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "AuthChallenge":
        return cls(r.read_bytes())


@dataclass
class AuthSuccess(Response):
    opcode: ClassVar[Opcode] = Opcode.AUTH_SUCCESS
    token: bytes | None = None

    def encode_body(self, w: BodyWriter) -> None:
        w.write_bytes(self.token)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "AuthSuccess":
        return cls(r.read_bytes())


# --- events -----------------------------------------------------------------------------------------

def write_schema_change(w: BodyWriter, change_type: str, target: str, keyspace: str,
                        name: str | None, argument_types: tuple[str, ...] | list[str]) -> None:
    """The Schema_change payload shared by the RESULT kind and the SCHEMA_CHANGE event."""
    w.write_string(change_type)
    w.write_string(target)
    w.write_string(keyspace)
    if target in ("TABLE", "TYPE"):
        w.write_string(name or "")
    elif target in ("FUNCTION", "AGGREGATE"):
        w.write_string(name or "")
        w.write_string_list(list(argument_types))


def read_schema_change(r: BodyReader) -> dict[str, Any]:
    change_type, target, keyspace = r.read_string(), r.read_string(), r.read_string()
    out: dict[str, Any] = {"change_type": change_type, "target": target, "keyspace": keyspace,
                           "name": None, "argument_types": ()}
    if target in ("TABLE", "TYPE"):
        out["name"] = r.read_string()
    elif target in ("FUNCTION", "AGGREGATE"):
        out["name"] = r.read_string()
        out["argument_types"] = tuple(r.read_string_list())
    elif target != "KEYSPACE":
        raise FrameError(f"Unknown schema change target {target!r}")
    return out


@dataclass
class Event(Response):
    """EVENT (stream -1).  SCHEMA_CHANGE: change_type/target/keyspace/name/argument_types;
    TOPOLOGY_CHANGE (NEW_NODE, REMOVED_NODE, MOVED_NODE) and STATUS_CHANGE (UP, DOWN): change_type
    and the node's client ``address`` and native ``port``."""

    opcode: ClassVar[Opcode] = Opcode.EVENT
    event_type: str = "SCHEMA_CHANGE"
    change_type: str = ""
    target: str = ""
    keyspace: str = ""
    name: str | None = None
    argument_types: tuple[str, ...] = ()
    address: str = ""
    port: int = 0

    def encode_body(self, w: BodyWriter) -> None:
        w.write_string(self.event_type)
        if self.event_type == "SCHEMA_CHANGE":
            write_schema_change(w, self.change_type, self.target, self.keyspace, self.name,
                                self.argument_types)
        else:
            w.write_string(self.change_type)
            w.write_inet(self.address, self.port)

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Event":
        event_type = r.read_string()
        if event_type == "SCHEMA_CHANGE":
            return cls(event_type, **read_schema_change(r))
        if event_type in ("TOPOLOGY_CHANGE", "STATUS_CHANGE"):
            change = r.read_string()
            address, port = r.read_inet()
            return cls(event_type, change, address=address, port=port)
        raise FrameError(f"Unknown event type {event_type!r}")
