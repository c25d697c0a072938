"""Binding AST terms to typed values: literals checked against their receiver, bind markers, functions.

Planning turns every term of a statement into a ``Value`` for a ``Receiver`` (the column, or the
pseudo-column such as ``[limit]``, that the value is for).  Literals are checked and converted at
plan time, with Cassandra's assignability rules (``Invalid STRING constant (abc) for "v" of type
int``); bind markers record their receiver, which is the prepared statement's bind metadata; calls
of non-deterministic functions (``now()``) are evaluated per execution.  ``Value.evaluate(ctx)``
gives the canonical Python value (see cqlpy.schema.codec), None for null, or UNSET.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from cqlpy.errors import InvalidRequest
from cqlpy.language import ast
from cqlpy.schema import types as T
from cqlpy.schema.literals import coerce, is_assignable, literal_value
from cqlpy.schema.types import CQLType, ListType, MapType, NativeType, SetType, TupleType, UserType

from . import functions as F


class _Unset:
    """The unset bind value (protocol v4): the column is not written, the option is not given."""

    _instance: "_Unset | None" = None

    def __new__(cls) -> "_Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class Receiver:
    """What a value is assigned to: a column, or a pseudo-column like ``[limit]``, ``[ttl]``,
    ``[timestamp]``, ``partition key token``, ``in(c)``, ``key(m)``, ``value(m)``."""

    keyspace: str
    table: str
    name: str
    type: CQLType

    def derived(self, name: str, type: CQLType) -> "Receiver":
        return Receiver(self.keyspace, self.table, name, type)


@dataclass(slots=True)
class EvalContext:
    """What one execution supplies: the bound values by marker index (already coerced to their
    receivers' types by the session, or UNSET) and the statement's time in µs."""

    params: Sequence[Any] = ()
    now_micros: int = field(default_factory=F.current_micros)


class Markers:
    """The bind markers of one statement, in index order, with their receivers."""

    def __init__(self) -> None:
        self.receivers: list[Receiver | None] = []
        self.names: list[str | None] = []

    def add(self, marker: ast.BindMarker, receiver: Receiver) -> None:
        while len(self.receivers) <= marker.index:
            self.receivers.append(None)
            self.names.append(None)
        self.receivers[marker.index] = receiver
        self.names[marker.index] = marker.name

    def __len__(self) -> int:
        return len(self.receivers)


# --- values ----------------------------------------------------------------------------------------

class Value:
    """A bound term.  ``type`` is the receiver's type (or the value's own, for function results)."""

    __slots__ = ("type", "is_constant")

    def evaluate(self, ctx: EvalContext) -> Any:
        raise NotImplementedError


class Literal(Value):
    """A value known at plan time."""

    __slots__ = ("value",)

    def __init__(self, value: Any, type: CQLType) -> None:
        self.value, self.type, self.is_constant = value, type, True

    def evaluate(self, ctx: EvalContext) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"


class Marker(Value):
    """A bind marker: the value comes from the execution's params."""

    __slots__ = ("index", "name", "receiver")

    def __init__(self, index: int, name: str | None, receiver: Receiver) -> None:
        self.index, self.name, self.receiver, self.type = index, name, receiver, receiver.type
        self.is_constant = False

    def evaluate(self, ctx: EvalContext) -> Any:
        try:
            return ctx.params[self.index]
        except IndexError:
            raise InvalidRequest(f"No value bound for marker {self.index} "
                                 f"({self.receiver.name})") from None

    def __repr__(self) -> str:
        return f"Marker({self.index}, {self.receiver.name})"


class FunctionValue(Value):
    """A scalar function call; evaluated per execution unless its arguments and it are constant."""

    __slots__ = ("function", "args", "receiver")

    def __init__(self, function: F.Function, args: tuple[Value, ...], receiver: Receiver) -> None:
        self.function, self.args, self.type, self.receiver = function, args, function.return_type, receiver
        self.is_constant = function.deterministic and all(a.is_constant for a in args)

    def evaluate(self, ctx: EvalContext) -> Any:
        args = [a.evaluate(ctx) for a in self.args]
        if any(a is UNSET for a in args):
            raise InvalidRequest(f"Invalid unset value for argument in call to function "
                                 f"{self.function.name}")
        return self.function.call(args, ctx.now_micros)


class CompositeValue(Value):
    """A collection, tuple or user-type literal whose items may need evaluation."""

    __slots__ = ("kind", "items", "receiver")

    def __init__(self, kind: str, items: tuple, type: CQLType, receiver: Receiver) -> None:
        self.kind, self.items, self.type, self.receiver = kind, items, type, receiver
        flat = [x for it in items for x in (it if kind == "map" else (it,))]
        self.is_constant = all(v.is_constant for v in flat)

    def evaluate(self, ctx: EvalContext) -> Any:
        if self.kind == "map":
            raw: Any = [(k.evaluate(ctx), v.evaluate(ctx)) for k, v in self.items]
            flat = [x for pair in raw for x in pair]
        else:
            raw = [v.evaluate(ctx) for v in self.items]
            flat = raw
        if any(x is UNSET for x in flat):
            raise InvalidRequest(f"Invalid unset value in a literal for {self.receiver.name}")
        if self.kind in ("list", "set", "map") and any(x is None for x in flat):
            raise InvalidRequest("null is not supported inside collections")
        if self.kind == "udt":
            assert isinstance(self.type, UserType)
            raw = dict(zip(self.type.field_names, raw))
        return coerce(self.type, raw)


def constant(value: Any, type: CQLType) -> Literal:
    return Literal(value, type)


# --- binding ---------------------------------------------------------------------------------------

def bind_term(term: Any, receiver: Receiver, markers: Markers, catalog: Any = None,
              keyspace: str | None = None) -> Value:
    """The Value of AST ``term`` assigned to ``receiver``.  Raises InvalidRequest when the term
    cannot be assigned (wrong literal kind, wrong collection shape, unknown function ...)."""
    binder = _Binder(markers, catalog, keyspace or receiver.keyspace)
    value = binder.bind(term, receiver)
    if value.is_constant and not isinstance(value, Literal):
        value = Literal(value.evaluate(EvalContext()), value.type)
    return value


def schema_type(ast_type: ast.CQLType, catalog: Any, keyspace: str) -> CQLType:
    """The schema type for a type written in CQL (user types resolved in ``keyspace``)."""
    if catalog is not None:
        return catalog.parse_type(keyspace, ast_type)
    return T.parse_type(ast_type.to_cql())


class _Binder:
    def __init__(self, markers: Markers, catalog: Any, keyspace: str) -> None:
        self.markers, self.catalog, self.keyspace = markers, catalog, keyspace

    def bind(self, term: Any, r: Receiver) -> Value:
        if isinstance(term, ast.Constant):
            return Literal(literal_value(term.kind, term.text, r.name, r.type), r.type)
        if isinstance(term, ast.BindMarker):
            self.markers.add(term, r)
            return Marker(term.index, term.name, r)
        if isinstance(term, ast.TypeHint):
            return self._type_hint(term, r)
        if isinstance(term, ast.FunctionCall):
            return self._call(term, r)
        if isinstance(term, ast.Cast):
            raise InvalidRequest("CAST is only supported in the selection clause of a SELECT")
        if isinstance(term, ast.ListLiteral):
            return self._list(term, r)
        if isinstance(term, ast.SetLiteral):
            return self._set(term, r)
        if isinstance(term, ast.MapLiteral):
            return self._map(term, r)
        if isinstance(term, ast.TupleLiteral):
            return self._tuple(term, r)
        if isinstance(term, ast.UserTypeLiteral):
            return self._udt(term, r)
        raise InvalidRequest(f"Invalid value {_text(term)} for {r.name}")

    def _composite(self, kind: str, items: tuple, r: Receiver) -> Value:
        return CompositeValue(kind, items, r.type, r)

    def _list(self, term: ast.ListLiteral, r: Receiver) -> Value:
        t = r.type
        if isinstance(t, SetType) and not term.items:
            return self._set(ast.SetLiteral(()), r)
        if not isinstance(t, ListType):
            raise InvalidRequest(f"Invalid list literal for {r.name} of type {t.cql_name}")
        er = r.derived(f"value({r.name})", t.element)
        return self._composite("list", tuple(self.bind(i, er) for i in term.items), r)

    def _set(self, term: ast.SetLiteral, r: Receiver) -> Value:
        t = r.type
        if isinstance(t, MapType) and not term.items:
            return self._composite("map", (), r)
        if isinstance(t, UserType) and not term.items:
            return self._composite("udt", (), r)
        if not isinstance(t, SetType):
            raise InvalidRequest(f"Invalid set literal for {r.name} of type {t.cql_name}")
        er = r.derived(f"value({r.name})", t.element)
        return self._composite("set", tuple(self.bind(i, er) for i in term.items), r)

    def _map(self, term: ast.MapLiteral, r: Receiver) -> Value:
        t = r.type
        if isinstance(t, UserType):
            fields = []
            for k, v in term.entries:
                if not (isinstance(k, ast.Constant) and k.kind == "string") and not isinstance(k, str):
                    raise InvalidRequest(f"Invalid user type literal for {r.name}")
                fields.append((k if isinstance(k, str) else k.text, v))
            return self._udt(ast.UserTypeLiteral(tuple(fields)), r)
        if not isinstance(t, MapType):
            raise InvalidRequest(f"Invalid map literal for {r.name} of type {t.cql_name}")
        kr = r.derived(f"key({r.name})", t.key)
        vr = r.derived(f"value({r.name})", t.value)
        items = tuple((self.bind(k, kr), self.bind(v, vr)) for k, v in term.entries)
        return self._composite("map", items, r)

    def _tuple(self, term: ast.TupleLiteral, r: Receiver) -> Value:
        t = r.type
        if not isinstance(t, TupleType):
            if len(term.items) == 1:      # a parenthesised term
                return self.bind(term.items[0], r)
            raise InvalidRequest(f"Invalid tuple literal for {r.name}: type {t.cql_name} is not a tuple")
        if len(term.items) > len(t.elements):
            raise InvalidRequest(f"Invalid tuple literal for {r.name}: too many elements. Type "
                                 f"{t.cql_name} expects {len(t.elements)} but got {len(term.items)}")
        items = tuple(self.bind(i, r.derived(f"{r.name}[{n}]", et))
                      for n, (i, et) in enumerate(zip(term.items, t.elements)))
        items += tuple(Literal(None, et) for et in t.elements[len(items):])
        return self._composite("tuple", items, r)

    def _udt(self, term: ast.UserTypeLiteral, r: Receiver) -> Value:
        t = r.type
        if not isinstance(t, UserType):
            raise InvalidRequest(f"Invalid user type literal for {r.name} of type {t.cql_name}")
        given = dict(term.fields)
        unknown = [f for f in given if f not in t.field_names]
        if unknown:
            raise InvalidRequest(f"Unknown field '{unknown[0]}' in value of user defined type {t.name}")
        items = tuple(self.bind(given[f], r.derived(f"{r.name}.{f}", ft)) if f in given else Literal(None, ft)
                      for f, ft in zip(t.field_names, t.field_types))
        return self._composite("udt", items, r)

    def _type_hint(self, term: ast.TypeHint, r: Receiver) -> Value:
        hinted = schema_type(term.type, self.catalog, self.keyspace)
        if not _hint_assignable(hinted, r.type):
            raise InvalidRequest(f"Cannot assign value {_text(term)} of type {hinted.cql_name} "
                                 f"to {r.name} of type {r.type.cql_name}")
        return self.bind(term.term, r.derived(r.name, hinted))

    def _call(self, term: ast.FunctionCall, r: Receiver) -> Value:
        name = term.name
        if term.keyspace not in (None, "system"):
            raise InvalidRequest(f"Unknown function '{term.keyspace}.{name}'")
        if name == "token":
            raise InvalidRequest("The token function is only supported on partition key columns "
                                 "in the WHERE clause and in the selection of a SELECT")
        if not F.exists(name):
            raise InvalidRequest(f"Unknown function '{name}'")
        arg_types = [self._guess_type(a) for a in term.args]
        fn = F.resolve(name, arg_types)
        if not _returns_into(fn.return_type, r.type):
            raise InvalidRequest(f"Type error: cannot assign result of function system.{name} "
                                 f"(type {fn.return_type.cql_name}) to {r.name} (type {r.type.cql_name})")
        args = tuple(self.bind(a, r.derived(f"arg{i}({name})", pt))
                     for i, (a, pt) in enumerate(zip(term.args, fn.arg_types)))
        return FunctionValue(fn, args, r)

    def _guess_type(self, term: Any) -> CQLType | None:
        if isinstance(term, ast.FunctionCall) and F.exists(term.name):
            options = {f.return_type for f in F.overloads(term.name)}
            return options.pop() if len(options) == 1 else None
        if isinstance(term, ast.TypeHint):
            return schema_type(term.type, self.catalog, self.keyspace)
        if isinstance(term, ast.Constant):
            return {"hex": T.BLOB, "boolean": T.BOOLEAN, "duration": T.DURATION}.get(term.kind)
        return None


def _returns_into(result: CQLType, receiver: CQLType) -> bool:
    if result == receiver:
        return True
    if isinstance(result, NativeType) and isinstance(receiver, NativeType):
        pairs = {("ascii", "text"), ("timeuuid", "uuid"), ("int", "bigint"), ("int", "varint"),
                 ("bigint", "varint"), ("smallint", "int"), ("tinyint", "int"), ("float", "double")}
        return (result.name, receiver.name) in pairs
    return False


def _hint_assignable(hinted: CQLType, receiver: CQLType) -> bool:
    """``(hinted) term`` may be given for ``receiver`` (``(ascii)'x'`` into text, not the reverse)."""
    return hinted == receiver or _returns_into(hinted, receiver)


def _text(term: Any) -> str:
    try:
        return term.to_cql()
    except Exception:  # noqa: BLE001 - only for messages
        return repr(term)


def is_literal_assignable(term: Any, t: CQLType) -> bool:
    """Whether a constant term could be assigned to type ``t`` (for overload/receiver guessing)."""
    return isinstance(term, ast.Constant) and is_assignable(term.kind, t)
