"""CQL types: the model, the names Cassandra prints for them, their wire options and a type-string parser.

A type is an immutable value (a frozen dataclass): types compare and hash by what they are, so
``parse_type("map<text, int>") == MapType(TEXT, INT)``.  Every type knows

* ``cql_name``     -- the string Cassandra prints (``map<text, frozen<list<int>>>``, ``frozen<address>``),
                      which is also what ``system_schema.columns.type`` stores;
* ``class_name``   -- the ``org.apache.cassandra.db.marshal`` class string (with parameters);
* ``option_id``    -- the native-protocol ``[option]`` id (``encode_option`` writes the whole option);
* ``is_collection``, ``is_multi_cell`` (stored one cell per element), ``is_frozen``,
  ``is_comparable`` (duration and anything holding one is not) and ``can_be_key``.

Cassandra's rules for nesting (``Non-frozen collections are not allowed inside collections``,
``Durations are not allowed inside sets``, ...) are applied by ``parse_type`` as
``CQL3Type.Raw.prepare`` applies them, and ``freeze()`` freezes inner types as ``frozen<...>`` does.
"""
from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Union

from cqlpy.errors import InvalidRequest, ProtocolError, SyntaxException

MARSHAL = "org.apache.cassandra.db.marshal."

# --- identifiers ---------------------------------------------------------------------------------

# Cassandra's reserved_keywords.txt (4.0-5.0): these can only be used as identifiers when quoted.
RESERVED_KEYWORDS = frozenset("""
    ADD ALLOW ALTER AND APPLY ASC AUTHORIZE BATCH BEGIN BY COLUMNFAMILY CREATE DEFAULT DELETE DESC
    DESCRIBE DROP ENTRIES EXECUTE FROM FULL GRANT IF IN INDEX INFINITY INSERT INTO IS KEYSPACE LIMIT
    MATERIALIZED MBEAN MBEANS MODIFY NAN NORECURSIVE NOT NULL OF ON OR ORDER PRIMARY RENAME REPLACE
    REVOKE SCHEMA SELECT SET TABLE TO TOKEN TRUNCATE UNLOGGED UNSET UPDATE USE USING VIEW WHERE WITH
""".split())

_UNQUOTED_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")


def quote_identifier(name: str) -> str:
    """``name`` as CQL text: bare when it may be written bare, else double-quoted (ColumnIdentifier.maybeQuote)."""
    if _UNQUOTED_IDENTIFIER.match(name) and name.upper() not in RESERVED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


# --- the model -----------------------------------------------------------------------------------

class CQLType:
    """Base of every CQL type."""

    __slots__ = ()

    is_collection: ClassVar[bool] = False

    @property
    def cql_name(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.cql_name

    @property
    def option_id(self) -> int:
        raise NotImplementedError

    @property
    def class_name(self) -> str:
        """The marshal class string, as Cassandra's ``AbstractType.toString()`` prints it."""
        return self.marshal_name(ignore_freezing=False)

    def marshal_name(self, ignore_freezing: bool) -> str:
        raise NotImplementedError

    @property
    def subtypes(self) -> tuple[CQLType, ...]:
        return ()

    @property
    def is_frozen(self) -> bool:
        """A frozen value is one cell; native types count as frozen."""
        return True

    @property
    def is_multi_cell(self) -> bool:
        return not self.is_frozen

    def freeze(self) -> CQLType:
        """This type as ``frozen<...>`` makes it: itself frozen, and every inner type frozen too."""
        return self

    @property
    def references_duration(self) -> bool:
        return any(t.references_duration for t in self.subtypes)

    @property
    def references_counter(self) -> bool:
        return False

    @property
    def is_comparable(self) -> bool:
        """Whether values can be ordered (clustering, slices, min/max): durations cannot."""
        return not self.references_duration

    @property
    def can_be_key(self) -> bool:
        """Whether a primary-key column may have this type."""
        return self.is_frozen and self.is_comparable and not self.references_counter

    def referenced_user_types(self) -> tuple[UserType, ...]:
        found: list[UserType] = []
        for t in self.subtypes:
            found.extend(t.referenced_user_types())
        return tuple(found)


@dataclass(frozen=True, slots=True)
class NativeType(CQLType):
    """One of Cassandra's built-in types (``int``, ``text``, ...)."""

    name: str

    @property
    def cql_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"NativeType({self.name!r})"

    @property
    def option_id(self) -> int:
        return _NATIVE_FACTS[self.name][0]

    def marshal_name(self, ignore_freezing: bool) -> str:
        return MARSHAL + _NATIVE_FACTS[self.name][1]

    @property
    def references_duration(self) -> bool:
        return self.name == "duration"

    @property
    def references_counter(self) -> bool:
        return self.name == "counter"


# name -> (protocol option id, marshal class).  Option ids are fixed by native_protocol_v4.spec.
_NATIVE_FACTS: dict[str, tuple[int, str]] = {
    "ascii": (0x0001, "AsciiType"),
    "bigint": (0x0002, "LongType"),
    "blob": (0x0003, "BytesType"),
    "boolean": (0x0004, "BooleanType"),
    "counter": (0x0005, "CounterColumnType"),
    "decimal": (0x0006, "DecimalType"),
    "double": (0x0007, "DoubleType"),
    "float": (0x0008, "FloatType"),
    "int": (0x0009, "Int32Type"),
    "timestamp": (0x000B, "TimestampType"),
    "uuid": (0x000C, "UUIDType"),
    "text": (0x000D, "UTF8Type"),
    "varint": (0x000E, "IntegerType"),
    "timeuuid": (0x000F, "TimeUUIDType"),
    "inet": (0x0010, "InetAddressType"),
    "date": (0x0011, "SimpleDateType"),
    "time": (0x0012, "TimeType"),
    "smallint": (0x0013, "ShortType"),
    "tinyint": (0x0014, "ByteType"),
    "duration": (0x0015, "DurationType"),   # v5 id; in v4 a duration travels as a custom type
}

ASCII = NativeType("ascii")
BIGINT = NativeType("bigint")
BLOB = NativeType("blob")
BOOLEAN = NativeType("boolean")
COUNTER = NativeType("counter")
DATE = NativeType("date")
DECIMAL = NativeType("decimal")
DOUBLE = NativeType("double")
DURATION = NativeType("duration")
FLOAT = NativeType("float")
INET = NativeType("inet")
INT = NativeType("int")
SMALLINT = NativeType("smallint")
TEXT = NativeType("text")
TIME = NativeType("time")
TIMESTAMP = NativeType("timestamp")
TIMEUUID = NativeType("timeuuid")
TINYINT = NativeType("tinyint")
UUID = NativeType("uuid")
VARINT = NativeType("varint")

NATIVE_TYPES: dict[str, NativeType] = {name: NativeType(name) for name in _NATIVE_FACTS}
NATIVE_TYPES["varchar"] = TEXT          # an alias: Cassandra prints it as text

INTEGER_TYPES = frozenset({TINYINT, SMALLINT, INT, BIGINT, COUNTER, VARINT})
STRING_TYPES = frozenset({ASCII, TEXT})


@dataclass(frozen=True, slots=True)
class _ElementCollection(CQLType):
    """What list<T> and set<T> share: one element type, frozen or not."""

    element: CQLType
    frozen: bool = False

    is_collection: ClassVar[bool] = True
    _keyword: ClassVar[str] = ""             # "list" / "set"
    _option: ClassVar[int] = 0               # native-protocol option id
    _marshal: ClassVar[str] = ""             # marshal class simple name

    @property
    def cql_name(self) -> str:
        return _frozen_wrap(f"{self._keyword}<{self.element.cql_name}>", self.frozen)

    @property
    def option_id(self) -> int:
        return self._option

    def marshal_name(self, ignore_freezing: bool) -> str:
        inner = self.element.marshal_name(ignore_freezing or self.frozen)
        return _frozen_class(f"{MARSHAL}{self._marshal}({inner})", self.frozen and not ignore_freezing)

    @property
    def subtypes(self) -> tuple[CQLType, ...]:
        return (self.element,)

    @property
    def is_frozen(self) -> bool:
        return self.frozen

    def freeze(self):
        return type(self)(self.element.freeze(), True)


@dataclass(frozen=True, slots=True)
class ListType(_ElementCollection):
    _keyword: ClassVar[str] = "list"
    _option: ClassVar[int] = 0x0020
    _marshal: ClassVar[str] = "ListType"


@dataclass(frozen=True, slots=True)
class SetType(_ElementCollection):
    _keyword: ClassVar[str] = "set"
    _option: ClassVar[int] = 0x0022
    _marshal: ClassVar[str] = "SetType"


@dataclass(frozen=True, slots=True)
class MapType(CQLType):
    key: CQLType
    value: CQLType
    frozen: bool = False

    is_collection: ClassVar[bool] = True

    @property
    def cql_name(self) -> str:
        return _frozen_wrap(f"map<{self.key.cql_name}, {self.value.cql_name}>", self.frozen)

    @property
    def option_id(self) -> int:
        return 0x0021

    def marshal_name(self, ignore_freezing: bool) -> str:
        inner = ignore_freezing or self.frozen
        name = f"{MARSHAL}MapType({self.key.marshal_name(inner)},{self.value.marshal_name(inner)})"
        return _frozen_class(name, self.frozen and not ignore_freezing)

    @property
    def subtypes(self) -> tuple[CQLType, ...]:
        return (self.key, self.value)

    @property
    def is_frozen(self) -> bool:
        return self.frozen

    def freeze(self) -> MapType:
        return MapType(self.key.freeze(), self.value.freeze(), True)


@dataclass(frozen=True, slots=True)
class TupleType(CQLType):
    """``tuple<...>``: always frozen, and so are the types inside it."""

    elements: tuple[CQLType, ...]

    @property
    def cql_name(self) -> str:
        return "frozen<tuple<" + ", ".join(t.cql_name for t in self.elements) + ">>"

    @property
    def option_id(self) -> int:
        return 0x0031

    def marshal_name(self, ignore_freezing: bool) -> str:
        return f"{MARSHAL}TupleType(" + ",".join(t.marshal_name(True) for t in self.elements) + ")"

    @property
    def subtypes(self) -> tuple[CQLType, ...]:
        return self.elements

    def freeze(self) -> TupleType:
        return TupleType(tuple(t.freeze() for t in self.elements))


@dataclass(frozen=True, slots=True)
class UserType(CQLType):
    """A user-defined type: ``keyspace.name`` with named fields; frozen or not, like collections."""

    keyspace: str
    name: str
    field_names: tuple[str, ...]
    field_types: tuple[CQLType, ...]
    frozen: bool = False

    @property
    def cql_name(self) -> str:
        return _frozen_wrap(quote_identifier(self.name), self.frozen)

    @property
    def option_id(self) -> int:
        return 0x0030

    def marshal_name(self, ignore_freezing: bool) -> str:
        inner = ignore_freezing or self.frozen
        params = [self.keyspace, self.name.encode().hex()]
        params += [f"{f.encode().hex()}:{t.marshal_name(inner)}"
                   for f, t in zip(self.field_names, self.field_types)]
        return _frozen_class(f"{MARSHAL}UserType(" + ",".join(params) + ")",
                             self.frozen and not ignore_freezing)

    @property
    def subtypes(self) -> tuple[CQLType, ...]:
        return self.field_types

    @property
    def is_frozen(self) -> bool:
        return self.frozen

    def freeze(self) -> UserType:
        return UserType(self.keyspace, self.name, self.field_names,
                        tuple(t.freeze() for t in self.field_types), True)

    def field_type(self, field: str) -> CQLType:
        try:
            return self.field_types[self.field_names.index(field)]
        except ValueError:
            raise InvalidRequest(f"Unknown field '{field}' in type {self.name}") from None

    def referenced_user_types(self) -> tuple[UserType, ...]:
        return (self,) + CQLType.referenced_user_types(self)


def _frozen_wrap(name: str, frozen: bool) -> str:
    return f"frozen<{name}>" if frozen else name


def _frozen_class(name: str, frozen: bool) -> str:
    return f"{MARSHAL}FrozenType({name})" if frozen else name


def python_value_is_hashable(t: CQLType) -> bool:
    """Whether the Python values of ``t`` (as the codec returns them) are hashable.

    Lists, sets and maps come back as ``list``/``set``/``dict``, which are not; a tuple or a UDT is
    hashable when all its fields are.
    """
    if isinstance(t, (ListType, SetType, MapType)):
        return False
    return all(python_value_is_hashable(s) for s in t.subtypes)


# --- parsing type strings ------------------------------------------------------------------------

UserTypeLookup = Union[Mapping[str, UserType], Callable[[Union[str, None], str], Union[UserType, None]]]
"""Either a mapping from type name to UserType (a ``ks.`` qualifier is then ignored), or
``lookup(keyspace or None, name) -> UserType | None``, which may also refuse a keyspace."""

_TOKEN = re.compile(r"""
    \s*(?:
        (?P<ident>[A-Za-z][A-Za-z0-9_]*)
      | (?P<quoted>"(?:[^"]|"")*")
      | (?P<number>\d+)
      | (?P<punct>[<>,.])
    )""", re.VERBOSE | re.ASCII)

_COLLECTIONS = {"list", "set", "map", "frozen", "tuple", "vector"}


def parse_type(text: str, user_types: UserTypeLookup | None = None) -> CQLType:
    """Parse a CQL type string (``int``, ``map<text, frozen<list<int>>>``, ``frozen<address>``).

    ``user_types`` resolves user-type names; an unknown name is an InvalidRequest
    (``Unknown type address``).  Nesting rules are Cassandra's: a collection or UDT inside a
    non-frozen collection must be ``frozen<>``, counters cannot be inside collections, durations
    cannot be set elements or map keys.  Malformed text is a SyntaxException.
    """
    tokens = _tokenize(text)
    parser = _TypeParser(text, tokens, user_types)
    result = parser.parse_type()
    if parser.pos != len(tokens):
        raise SyntaxException(f"Invalid type string '{text}': unexpected '{tokens[parser.pos][1]}'")
    return result


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise SyntaxException(f"Invalid type string '{text}' at character {pos + 1}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "ident":
            value = value.lower()
        elif kind == "quoted":
            value = value[1:-1].replace('""', '"')
        tokens.append((kind, value))
        pos = m.end()
    return tokens


class _TypeParser:
    """Recursive descent over the tokens of one type string."""

    def __init__(self, text: str, tokens: list[tuple[str, str]], user_types: UserTypeLookup | None):
        self.text, self.tokens, self.user_types, self.pos = text, tokens, user_types, 0

    def _next(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise SyntaxException(f"Invalid type string '{self.text}': unexpected end")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _expect(self, punct: str) -> None:
        kind, value = self._next()
        if kind != "punct" or value != punct:
            raise SyntaxException(f"Invalid type string '{self.text}': expected '{punct}', got '{value}'")

    def _peek_punct(self, punct: str) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos] == ("punct", punct)

    def parse_type(self, frozen: bool = False) -> CQLType:
        """One type; ``frozen`` when inside ``frozen<>`` (which freezes everything within)."""
        kind, name = self._next()
        if kind == "ident" and name in _COLLECTIONS and self._peek_punct("<"):
            self._expect("<")
            result = self._parse_parameterized(name, frozen)
            self._expect(">")
            return result
        if kind == "ident" and name in NATIVE_TYPES:
            return NATIVE_TYPES[name]
        if kind in ("ident", "quoted"):
            keyspace = None
            if self._peek_punct("."):
                self._expect(".")
                kind2, name2 = self._next()
                if kind2 not in ("ident", "quoted"):
                    raise SyntaxException(f"Invalid type string '{self.text}'")
                keyspace, name = name, name2
            udt = self._user_type(keyspace, name)
            return udt.freeze() if frozen else udt
        raise SyntaxException(f"Invalid type string '{self.text}': unexpected '{name}'")

    def _parse_parameterized(self, name: str, frozen: bool) -> CQLType:
        if name == "frozen":
            inner = self.parse_type(frozen=True)
            if isinstance(inner, NativeType):
                raise InvalidRequest("frozen<> is only allowed on collections, tuples, and "
                                     f"user-defined types (got {inner.cql_name})")
            return inner.freeze()
        if name == "vector":
            raise InvalidRequest("vector types are not supported")
        inner_frozen = frozen or name == "tuple"
        params = [self.parse_type(inner_frozen)]
        while self._peek_punct(","):
            self._expect(",")
            params.append(self.parse_type(inner_frozen))
        if name == "tuple":
            return TupleType(tuple(p.freeze() for p in params))
        expected = 2 if name == "map" else 1
        if len(params) != expected:
            raise SyntaxException(f"Invalid type string '{self.text}': {name} takes {expected} type(s)")
        if name == "list":
            result: CQLType = ListType(params[0], frozen)
        elif name == "set":
            result = SetType(params[0], frozen)
        else:
            result = MapType(params[0], params[1], frozen)
        check_collection(result)
        return result

    def _user_type(self, keyspace: str | None, name: str) -> UserType:
        found = None
        if isinstance(self.user_types, Mapping):
            found = self.user_types.get(name)
        elif self.user_types is not None:
            found = self.user_types(keyspace, name)
        if found is None:
            shown = f"{keyspace}.{name}" if keyspace else name
            raise InvalidRequest(f"Unknown type {shown}")
        return found


def check_collection(t: ListType | SetType | MapType) -> None:
    """Cassandra's rules for what a collection may hold (raises InvalidRequest)."""
    inner = t.subtypes
    for sub in inner:
        if sub.references_counter:
            raise InvalidRequest(f"Counters are not allowed inside collections: {t.cql_name}")
        if not t.frozen and sub.is_multi_cell:
            what = "UDTs" if isinstance(sub, UserType) else "collections"
            raise InvalidRequest(f"Non-frozen {what} are not allowed inside collections: {t.cql_name}")
    # Set elements and map keys are kept sorted, and durations have no order: Cassandra refuses a
    # duration there; cqlpy also refuses one nested in a frozen element or key.
    if isinstance(t, SetType) and t.element.references_duration:
        raise InvalidRequest(f"Durations are not allowed inside sets: {t.cql_name}")
    if isinstance(t, MapType) and t.key.references_duration:
        raise InvalidRequest(f"Durations are not allowed as map keys: {t.cql_name}")


# --- native-protocol [option] --------------------------------------------------------------------
#
# [option] = [short id] + extra:
#   0x0000 custom  [string] marshal class        0x0020 list   [option] element
#   0x0021 map     [option] key [option] value   0x0022 set    [option] element
#   0x0030 UDT     [string] ks [string] name [short n] n x ([string] field [option])
#   0x0031 tuple   [short n] n x [option]
# [string] = [short length][UTF-8 bytes].  In protocol v4 a duration is a custom type.

_SHORT = struct.Struct(">H")


def encode_option(t: CQLType, protocol_version: int = 4) -> bytes:
    """The native-protocol ``[option]`` describing ``t`` (as in Rows and Prepared metadata)."""
    out = bytearray()
    _write_option(out, t, protocol_version)
    return bytes(out)


def _write_string(out: bytearray, s: str) -> None:
    data = s.encode("utf-8")
    out += _SHORT.pack(len(data)) + data


def _write_option(out: bytearray, t: CQLType, version: int) -> None:
    if t == DURATION and version < 5:
        out += _SHORT.pack(0x0000)
        _write_string(out, t.class_name)
        return
    out += _SHORT.pack(t.option_id)
    if isinstance(t, (ListType, SetType)):
        _write_option(out, t.element, version)
    elif isinstance(t, MapType):
        _write_option(out, t.key, version)
        _write_option(out, t.value, version)
    elif isinstance(t, UserType):
        _write_string(out, t.keyspace)
        _write_string(out, t.name)
        out += _SHORT.pack(len(t.field_names))
        for name, ftype in zip(t.field_names, t.field_types):
            _write_string(out, name)
            _write_option(out, ftype, version)
    elif isinstance(t, TupleType):
        out += _SHORT.pack(len(t.elements))
        for e in t.elements:
            _write_option(out, e, version)


_NATIVE_BY_OPTION = {option: NATIVE_TYPES[name] for name, (option, _) in _NATIVE_FACTS.items()}
_NATIVE_BY_OPTION[0x000A] = TEXT          # legacy varchar id, still understood by drivers
_NATIVE_BY_CLASS = {MARSHAL + cls: NATIVE_TYPES[name] for name, (_, cls) in _NATIVE_FACTS.items()}


def decode_option(data: bytes, pos: int = 0) -> tuple[CQLType, int]:
    """Read one ``[option]`` at ``pos``; returns (type, position after it).  Bad input -> ProtocolError.

    Collections read from the wire are non-frozen unless nested (the protocol does not say; nested
    ones are frozen because they must be).
    """
    return _read_option(memoryview(data), pos, nested=False)


def _read_short(buf: memoryview, pos: int) -> tuple[int, int]:
    if pos + 2 > len(buf):
        raise ProtocolError("Truncated type option")
    return _SHORT.unpack_from(buf, pos)[0], pos + 2


def _read_string(buf: memoryview, pos: int) -> tuple[str, int]:
    n, pos = _read_short(buf, pos)
    if pos + n > len(buf):
        raise ProtocolError("Truncated type option")
    try:
        return bytes(buf[pos:pos + n]).decode("utf-8"), pos + n
    except UnicodeDecodeError:
        raise ProtocolError("Invalid UTF-8 in type option") from None


def _read_option(buf: memoryview, pos: int, nested: bool) -> tuple[CQLType, int]:
    option, pos = _read_short(buf, pos)
    if option in _NATIVE_BY_OPTION:
        return _NATIVE_BY_OPTION[option], pos
    if option == 0x0000:
        name, pos = _read_string(buf, pos)
        if name in _NATIVE_BY_CLASS:
            return _NATIVE_BY_CLASS[name], pos
        raise ProtocolError(f"Unsupported custom type {name}")
    if option in (0x0020, 0x0022):
        element, pos = _read_option(buf, pos, True)
        cls = ListType if option == 0x0020 else SetType
        return cls(element, nested), pos
    if option == 0x0021:
        key, pos = _read_option(buf, pos, True)
        value, pos = _read_option(buf, pos, True)
        return MapType(key, value, nested), pos
    if option == 0x0030:
        keyspace, pos = _read_string(buf, pos)
        name, pos = _read_string(buf, pos)
        n, pos = _read_short(buf, pos)
        names, types = [], []
        for _ in range(n):
            field, pos = _read_string(buf, pos)
            ftype, pos = _read_option(buf, pos, True)
            names.append(field)
            types.append(ftype)
        return UserType(keyspace, name, tuple(names), tuple(types), nested), pos
    if option == 0x0031:
        n, pos = _read_short(buf, pos)
        elements = []
        for _ in range(n):
            element, pos = _read_option(buf, pos, True)
            elements.append(element)
        return TupleType(tuple(elements)), pos
    raise ProtocolError(f"Unknown type option 0x{option:04x}")
