"""RESULT messages (opcode 0x08): Void, Rows, Set_keyspace, Prepared, Schema_change.

Body: ``[int] kind`` then::

    0x0001 Void           nothing
    0x0002 Rows           <rows metadata> [int] rows_count, rows_count x columns_count x [bytes]
    0x0003 Set_keyspace   [string] keyspace
    0x0004 Prepared       [short bytes] id, <prepared metadata>, <rows metadata> of the result
    0x0005 Schema_change  [string] change_type, [string] target, [string] keyspace,
                          then [string] name for TABLE/TYPE, [string] name + [string list] argument
                          types for FUNCTION/AGGREGATE

<rows metadata>: [int] flags, [int] columns_count, [bytes] paging_state if Has_more_pages (0x0002);
nothing more if No_metadata (0x0004); else [string] keyspace [string] table once if
Global_tables_spec (0x0001), then per column ([string] keyspace [string] table unless global)
[string] name [option] type.

<prepared metadata>: [int] flags (0x0001 global), [int] bind_count, [int] pk_count,
pk_count x [short] pk_index, the global keyspace/table if flagged, then the bind column specs.

cqlpy always sends full metadata with a global table spec when every column shares one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from cqlpy.schema.types import CQLType, decode_option, encode_option

from .frame import BodyReader, BodyWriter, FrameError, Opcode
from .messages import Response, read_schema_change, write_schema_change


class ColumnSpec(NamedTuple):
    """One column of a result or one bind marker: where it comes from, its name and type."""

    keyspace: str
    table: str
    name: str
    type: CQLType


class Kind:
    VOID = 0x0001
    ROWS = 0x0002
    SET_KEYSPACE = 0x0003
    PREPARED = 0x0004
    SCHEMA_CHANGE = 0x0005


class MetaFlag:
    GLOBAL_TABLES_SPEC = 0x0001
    HAS_MORE_PAGES = 0x0002
    NO_METADATA = 0x0004


def _global_spec(columns: list[ColumnSpec]) -> tuple[str, str] | None:
    if not columns:
        return None
    first = (columns[0].keyspace, columns[0].table)
    return first if all((c.keyspace, c.table) == first for c in columns) else None


def _write_specs(w: BodyWriter, columns: list[ColumnSpec], spec: tuple[str, str] | None) -> None:
    if spec is not None:
        w.write_string(spec[0])
        w.write_string(spec[1])
    for c in columns:
        if spec is None:
            w.write_string(c.keyspace)
            w.write_string(c.table)
        w.write_string(c.name)
        w.write_raw(encode_option(c.type, 4))


def _read_specs(r: BodyReader, count: int, is_global: bool) -> list[ColumnSpec]:
    if count * 2 > r.remaining:
        raise FrameError(f"Metadata claims {count} columns but only {r.remaining} bytes remain")
    ks = table = ""
    if is_global:
        ks, table = r.read_string(), r.read_string()
    out = []
    for _ in range(count):
        if not is_global:
            ks, table = r.read_string(), r.read_string()
        name = r.read_string()
        t, r.pos = decode_option(r.data, r.pos)
        out.append(ColumnSpec(ks, table, name, t))
    return out


def write_rows_metadata(w: BodyWriter, columns: list[ColumnSpec] | None, paging_state: bytes | None = None,
                        no_metadata: bool = False) -> None:
    flags = 0
    spec = _global_spec(columns or [])
    if paging_state is not None:
        flags |= MetaFlag.HAS_MORE_PAGES
    if no_metadata or columns is None:
        flags |= MetaFlag.NO_METADATA
    elif spec is not None:
        flags |= MetaFlag.GLOBAL_TABLES_SPEC
    w.write_int(flags)
    w.write_int(len(columns or []))
    if paging_state is not None:
        w.write_bytes(paging_state)
    if not flags & MetaFlag.NO_METADATA:
        _write_specs(w, columns or [], spec)


def read_rows_metadata(r: BodyReader) -> tuple[list[ColumnSpec] | None, int, bytes | None]:
    """(columns or None for No_metadata, columns_count, paging_state)."""
    flags = r.read_int()
    count = r.read_int()
    if count < 0:
        raise FrameError(f"Invalid column count {count}")
    paging_state = r.read_bytes() if flags & MetaFlag.HAS_MORE_PAGES else None
    if flags & MetaFlag.NO_METADATA:
        return None, count, paging_state
    return _read_specs(r, count, bool(flags & MetaFlag.GLOBAL_TABLES_SPEC)), count, paging_state


class Result(Response):
    """Base of the RESULT kinds; ``decode_body`` dispatches on the kind."""

    opcode: ClassVar[Opcode] = Opcode.RESULT
    kind: ClassVar[int] = 0

    def encode_body(self, w: BodyWriter) -> None:
        w.write_int(self.kind)
        self.encode_kind(w)

    def encode_kind(self, w: BodyWriter) -> None:
        pass

    @classmethod
    def decode_body(cls, r: BodyReader) -> "Result":
        kind = r.read_int()
        sub = RESULT_KINDS.get(kind)
        if sub is None:
            raise FrameError(f"Unknown RESULT kind 0x{kind:04x}")
        return sub.decode_kind(r)

    @classmethod
    def decode_kind(cls, r: BodyReader) -> "Result":
        return cls()


@dataclass
class VoidResult(Result):
    kind: ClassVar[int] = Kind.VOID


@dataclass
class RowsResult(Result):
    """Rows: ``columns`` (None when the peer sent No_metadata), ``rows`` of raw [bytes] cells."""

    kind: ClassVar[int] = Kind.ROWS
    columns: list[ColumnSpec] | None = None
    rows: list[list[bytes | None]] = field(default_factory=list)
    paging_state: bytes | None = None
    no_metadata: bool = False

    def encode_kind(self, w: BodyWriter) -> None:
        write_rows_metadata(w, self.columns, self.paging_state, self.no_metadata)
        w.write_int(len(self.rows))
        for row in self.rows:
            for cell in row:
                w.write_bytes(cell)

    @classmethod
    def decode_kind(cls, r: BodyReader) -> "RowsResult":
        columns, count, paging_state = read_rows_metadata(r)
        n = r.read_int()
        if n < 0 or n * count * 4 > r.remaining:
            raise FrameError(f"Rows claims {n} rows of {count} columns but only {r.remaining} bytes remain")
        rows = [[r.read_bytes() for _ in range(count)] for _ in range(n)]
        return cls(columns, rows, paging_state, columns is None)


@dataclass
class SetKeyspaceResult(Result):
    kind: ClassVar[int] = Kind.SET_KEYSPACE
    keyspace: str = ""

    def encode_kind(self, w: BodyWriter) -> None:
        w.write_string(self.keyspace)

    @classmethod
    def decode_kind(cls, r: BodyReader) -> "SetKeyspaceResult":
        return cls(r.read_string())


@dataclass
class PreparedResult(Result):
    """Prepared: the statement id, bind markers (with the partition-key marker indexes the driver
    routes by), and the result columns (None: the statement returns no rows)."""

    kind: ClassVar[int] = Kind.PREPARED
    query_id: bytes = b""
    bind_columns: list[ColumnSpec] = field(default_factory=list)
    pk_indexes: list[int] = field(default_factory=list)
    result_columns: list[ColumnSpec] | None = None

    def encode_kind(self, w: BodyWriter) -> None:
        w.write_short_bytes(self.query_id)
        spec = _global_spec(self.bind_columns)
        w.write_int(1 if spec is not None else 0)
        w.write_int(len(self.bind_columns))
        w.write_int(len(self.pk_indexes))
        for i in self.pk_indexes:
            w.write_short(i)
        _write_specs(w, self.bind_columns, spec)
        write_rows_metadata(w, self.result_columns)

    @classmethod
    def decode_kind(cls, r: BodyReader) -> "PreparedResult":
        query_id = r.read_short_bytes()
        flags, count, pk_count = r.read_int(), r.read_int(), r.read_int()
        if count < 0 or pk_count < 0 or pk_count * 2 > r.remaining:
            raise FrameError("Invalid prepared metadata counts")
        pk_indexes = [r.read_short() for _ in range(pk_count)]
        binds = _read_specs(r, count, bool(flags & MetaFlag.GLOBAL_TABLES_SPEC))
        result_columns, _, _ = read_rows_metadata(r)
        return cls(query_id, binds, pk_indexes, result_columns)


@dataclass
class SchemaChangeResult(Result):
    kind: ClassVar[int] = Kind.SCHEMA_CHANGE
    change_type: str = "CREATED"
    target: str = "KEYSPACE"
    keyspace: str = ""
    name: str | None = None
    argument_types: tuple[str, ...] = ()

    def encode_kind(self, w: BodyWriter) -> None:
        write_schema_change(w, self.change_type, self.target, self.keyspace, self.name,
                            self.argument_types)

    @classmethod
    def decode_kind(cls, r: BodyReader) -> "SchemaChangeResult":
        return cls(**read_schema_change(r))

    @classmethod
    def of(cls, change: Any) -> "SchemaChangeResult":
        """From a catalog SchemaChange (or anything with the same attributes)."""
        return cls(change.change_type, change.target, change.keyspace, getattr(change, "name", None),
                   tuple(getattr(change, "argument_types", ()) or ()))


RESULT_KINDS: dict[int, type[Result]] = {k.kind: k for k in (
    VoidResult, RowsResult, SetKeyspaceResult, PreparedResult, SchemaChangeResult)}
