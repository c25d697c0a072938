"""The SELECT clause: selectors bound to typed expression trees, with Cassandra's result column names.

``bind_selection(select, table, markers, ...)`` turns each selector of a SELECT into a ``Node``
tree and gives the result metadata (keyspace, table, name, type per column) drivers need.  Names
follow Cassandra (notes §1.11): the column name, the alias, ``count`` for ``count(*)``/``count(1)``,
``system.max(v)`` for other functions, ``writetime(v)``, ``ttl(v)``, ``cast(v as text)``.

A node evaluates against one decoded row: a mapping of column name -> Python value, plus
``(kind, column)`` -> writetime/ttl values for the ``cell_requests`` the executor is asked to
fill.  Aggregates (count, min, max, sum, avg) are typed here; their arithmetic lives with the
executor (cqlpy.session.aggregates), which walks the same trees.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from cqlpy.errors import InvalidRequest, SyntaxException
from cqlpy.language import ast
from cqlpy.schema import keycodec
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata
from cqlpy.schema.types import CQLType

from . import functions as F
from .casts import NUMERIC, cast_function
from .json_output import to_json
from .terms import UNSET, EvalContext, Markers, Receiver, Value, bind_term, schema_type

AGGREGATES = ("count", "min", "max", "sum", "avg")
CELL_FUNCTIONS = ("writetime", "maxwritetime", "ttl")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One result column as the protocol's rows metadata describes it."""

    keyspace: str
    table: str
    name: str
    type: CQLType


# --- expression nodes ------------------------------------------------------------------------------

class Node:
    """A selector expression.  ``name``: its text in Cassandra's result column names."""

    __slots__ = ("type", "name")
    is_aggregate = False           # an aggregate call
    has_aggregate = False          # an aggregate somewhere in the tree

    def eval(self, row: Mapping[Any, Any], ctx: EvalContext) -> Any:
        raise NotImplementedError

    @property
    def children(self) -> tuple["Node", ...]:
        return ()


class ColumnNode(Node):
    __slots__ = ("column",)

    def __init__(self, column: ColumnMetadata) -> None:
        self.column, self.type, self.name = column, column.type, column.name

    def eval(self, row, ctx):
        return row.get(self.column.name)


class CellNode(Node):
    """``writetime(c)``, ``maxwritetime(c)`` or ``ttl(c)``: filled by the executor as row[(kind, c)]."""

    __slots__ = ("kind", "column", "key")

    def __init__(self, kind: str, column: ColumnMetadata) -> None:
        self.kind, self.column, self.key = kind, column, (kind, column.name)
        base = T.INT if kind == "ttl" else T.BIGINT
        self.type = T.ListType(base) if column.type.is_multi_cell and kind != "maxwritetime" else base
        self.name = f"{kind}({column.name})"

    def eval(self, row, ctx):
        return row.get(self.key)


class TermNode(Node):
    """A term in the selection (a type-hinted literal, a marker, a function of terms)."""

    __slots__ = ("value",)

    def __init__(self, value: Value, name: str) -> None:
        self.value, self.type, self.name = value, value.type, name

    def eval(self, row, ctx):
        v = self.value.evaluate(ctx)
        return None if v is UNSET else v


class FunctionNode(Node):
    __slots__ = ("function", "args", "has_aggregate")

    def __init__(self, function: F.Function, args: tuple[Node, ...], name: str) -> None:
        self.function, self.args, self.type = function, args, function.return_type
        self.name = name
        self.has_aggregate = any(a.has_aggregate for a in args)

    @property
    def children(self):
        return self.args

    def eval(self, row, ctx):
        return self.function.call([a.eval(row, ctx) for a in self.args], ctx.now_micros)

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        return self.function.call(args, ctx.now_micros)


class TokenNode(Node):
    """``token(k1, ...)``: the partitioner's token of the serialized argument values."""

    __slots__ = ("args", "types", "has_aggregate")

    def __init__(self, args: tuple[Node, ...], name: str) -> None:
        self.args, self.types, self.type, self.name = args, [a.type for a in args], T.BIGINT, name
        self.has_aggregate = any(a.has_aggregate for a in args)

    @property
    def children(self):
        return self.args

    def eval(self, row, ctx):
        return self.apply([a.eval(row, ctx) for a in self.args], ctx)

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        if any(a is None for a in args):
            return None
        return F.partition_token(keycodec.encode_partition_key(self.types, args))


class UnaryNode(Node):
    """A selector over one argument: ``arg`` is evaluated, then ``apply([value], ctx)``."""

    __slots__ = ()

    @property
    def children(self):
        return (self.arg,)

    def eval(self, row, ctx):
        return self.apply([self.arg.eval(row, ctx)], ctx)

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        raise NotImplementedError


class CastNode(UnaryNode):
    __slots__ = ("arg", "convert", "has_aggregate")

    def __init__(self, arg: Node, target: CQLType, name: str) -> None:
        self.arg, self.type, self.name = arg, target, name
        self.convert = cast_function(arg.type, target)
        self.has_aggregate = arg.has_aggregate

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        return None if args[0] is None else self.convert(args[0])


class ElementNode(UnaryNode):
    """``m[key]`` (map value) or ``s[elem]`` (the element if the set has it)."""

    __slots__ = ("arg", "key", "has_aggregate")

    def __init__(self, arg: Node, key: Value, name: str) -> None:
        t = arg.type
        self.arg, self.key, self.name = arg, key, name
        self.type = t.value if isinstance(t, T.MapType) else t.element        # type: ignore[union-attr]
        self.has_aggregate = arg.has_aggregate

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        coll, k = args[0], self.key.evaluate(ctx)
        if coll is None or k is None or k is UNSET:
            return None
        t = self.arg.type
        kt = t.key if isinstance(t, T.MapType) else t.element                  # type: ignore[union-attr]
        want = keycodec.sort_key(kt, k)
        items = coll.items() if isinstance(coll, dict) else (
            coll if isinstance(t, T.MapType) else ((e, e) for e in coll))
        for a, b in items:
            if keycodec.sort_key(kt, a) == want:
                return b
        return None


class SliceNode(UnaryNode):
    """``m[a..b]`` / ``s[a..b]``: the entries (elements) whose key is within the bounds, inclusive;
    a missing bound is open.  The result has the collection's type; an empty result is null."""

    __slots__ = ("arg", "start", "end", "has_aggregate")

    def __init__(self, arg: Node, start: Value | None, end: Value | None, name: str) -> None:
        self.arg, self.start, self.end, self.type, self.name = arg, start, end, arg.type, name
        self.has_aggregate = arg.has_aggregate

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        coll = args[0]
        if coll is None:
            return None
        t = self.arg.type
        kt = t.key if isinstance(t, T.MapType) else t.element                  # type: ignore[union-attr]
        lo = hi = None
        if self.start is not None:
            v = self.start.evaluate(ctx)
            lo = None if v is None or v is UNSET else keycodec.sort_key(kt, v)
        if self.end is not None:
            v = self.end.evaluate(ctx)
            hi = None if v is None or v is UNSET else keycodec.sort_key(kt, v)

        def inside(k: Any) -> bool:
            sk = keycodec.sort_key(kt, k)
            return (lo is None or sk >= lo) and (hi is None or sk <= hi)
        if isinstance(t, T.MapType):
            pairs = coll.items() if isinstance(coll, dict) else coll
            kept = [(k, v) for k, v in pairs if inside(k)]
            if not kept:
                return None
            return dict(kept) if isinstance(coll, dict) else kept
        kept_items = [e for e in coll if inside(e)]
        if not kept_items:
            return None
        return set(kept_items) if isinstance(coll, (set, frozenset)) else kept_items


class FieldNode(UnaryNode):
    __slots__ = ("arg", "index", "has_aggregate")

    def __init__(self, arg: Node, field: str, name: str) -> None:
        t = arg.type
        if not isinstance(t, T.UserType):
            raise InvalidRequest(f"Invalid field selection: {arg.name} of type {t.cql_name} is not a "
                                 "user type")
        if field not in t.field_names:
            raise InvalidRequest(f"{t.name} has no field {field}")
        self.arg, self.index, self.name = arg, t.field_names.index(field), name
        self.type = t.field_types[self.index]
        self.has_aggregate = arg.has_aggregate

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        v = args[0]
        return None if v is None or self.index >= len(v) else v[self.index]


class ToJsonNode(UnaryNode):
    """``toJson(x)``: the JSON text of a value, as SELECT JSON renders it."""

    __slots__ = ("arg", "has_aggregate")

    def __init__(self, arg: Node, name: str) -> None:
        self.arg, self.type, self.name = arg, T.TEXT, name
        self.has_aggregate = arg.has_aggregate

    def apply(self, args: list[Any], ctx: EvalContext) -> Any:
        return to_json(self.arg.type, args[0])


class AggregateNode(Node):
    """``count(*)`` (``arg`` None), ``count(x)``, ``min``, ``max``, ``sum``, ``avg``."""

    __slots__ = ("kind", "arg")
    is_aggregate = True
    has_aggregate = True

    def __init__(self, kind: str, arg: Node | None, type: CQLType, name: str) -> None:
        self.kind, self.arg, self.type, self.name = kind, arg, type, name

    @property
    def children(self):
        return (self.arg,) if self.arg is not None else ()

    def eval(self, row, ctx):
        raise InvalidRequest("aggregate evaluated as a scalar")      # the executor aggregates


# --- the selection ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Output:
    """One result column: its name (alias or Cassandra's), expression and type."""

    name: str
    node: Node

    @property
    def type(self) -> CQLType:
        return self.node.type


class Selection:
    """The bound SELECT clause of one statement."""

    def __init__(self, table: TableMetadata, outputs: list[Output], wildcard: bool) -> None:
        self.table = table
        self.outputs = outputs
        self.wildcard = wildcard
        self.is_aggregate = any(o.node.has_aggregate for o in outputs)
        nodes = [n for o in outputs for n in _walk(o.node)]
        self.cell_requests = sorted({n.key for n in nodes if isinstance(n, CellNode)})
        self.columns = sorted({n.column.name for n in nodes if isinstance(n, (ColumnNode, CellNode))})
        self.simple = all(isinstance(o.node, ColumnNode) for o in outputs)
        self._names = [o.node.column.name for o in outputs] if self.simple else []  # type: ignore[attr-defined]

    @property
    def column_names(self) -> list[str]:
        return [o.name for o in self.outputs]

    def specs(self) -> list[ColumnSpec]:
        return [ColumnSpec(self.table.keyspace, self.table.name, o.name, o.type) for o in self.outputs]

    @property
    def selects_only_static(self) -> bool:
        """Only partition-key and static columns, at least one static (Cassandra's rule)."""
        if self.wildcard:
            return False
        cols = [self.table.column(c) for c in self.columns]
        return any(c.is_static for c in cols) and all(c.is_static or c.is_partition_key for c in cols)

    def project(self, row: Mapping[Any, Any], ctx: EvalContext) -> tuple:
        """One output row (non-aggregate queries)."""
        if self.simple:
            return tuple(row.get(n) for n in self._names)
        return tuple(o.node.eval(row, ctx) for o in self.outputs)


def _walk(node: Node):
    yield node
    for c in node.children:
        yield from _walk(c)


def bind_selection(select: ast.Select, table: TableMetadata, markers: Markers, catalog: Any = None,
                   keyspace: str | None = None) -> Selection:
    """The Selection of ``select`` on ``table`` (InvalidRequest / SyntaxException as Cassandra)."""
    if not select.selectors:
        outputs = [Output(c.name, ColumnNode(c)) for c in table.select_star_order()]
        return Selection(table, outputs, wildcard=True)
    binder = _SelectionBinder(table, markers, catalog, keyspace or table.keyspace)
    outputs = []
    for sel in select.selectors:
        node = binder.node(sel.expression)
        outputs.append(Output(sel.alias if sel.alias is not None else node.name, node))
    return Selection(table, outputs, wildcard=False)


def _text(term: Any) -> str:
    try:
        return term.to_cql()
    except Exception:  # noqa: BLE001 - only for names
        return repr(term)


class _SelectionBinder:
    def __init__(self, table: TableMetadata, markers: Markers, catalog: Any, keyspace: str) -> None:
        self.table, self.markers, self.catalog, self.keyspace = table, markers, catalog, keyspace

    def receiver(self, name: str, t: CQLType) -> Receiver:
        return Receiver(self.table.keyspace, self.table.name, name, t)

    def node(self, e: Any, inside_aggregate: bool = False) -> Node:
        if isinstance(e, ast.ColumnRef):
            return ColumnNode(self.table.column(e.name))
        if isinstance(e, ast.CountRows):
            return self.aggregate("count", None, "count", inside_aggregate)
        if isinstance(e, ast.WritetimeOrTTL):
            col = self.table.column(e.column)
            if col.is_primary_key:
                raise InvalidRequest(f"Cannot use selection function {e.kind} on PRIMARY KEY part "
                                     f"{col.name}")
            if col.is_counter:
                raise InvalidRequest(f"Cannot use selection function {e.kind} on counter column "
                                     f"{col.name}")
            return CellNode(e.kind, col)
        if isinstance(e, ast.FunctionCall):
            return self.call(e, inside_aggregate)
        if isinstance(e, ast.Cast):
            arg = self.node(e.term, inside_aggregate)
            target = schema_type(e.type, self.catalog, self.keyspace)
            return CastNode(arg, target, f"cast({arg.name} as {target.cql_name})")
        if isinstance(e, ast.ElementSelection):
            arg = self.node(e.expression, inside_aggregate)
            t = arg.type
            if not isinstance(t, (T.MapType, T.SetType)):
                raise InvalidRequest(f"Invalid element selection: {arg.name} is of type {t.cql_name} "
                                     "but element selection is only allowed on sets and maps")
            kt = t.key if isinstance(t, T.MapType) else t.element
            key = bind_term(e.key, self.receiver(f"key({arg.name})", kt), self.markers, self.catalog,
                            self.keyspace)
            return ElementNode(arg, key, f"{arg.name}[{_text(e.key)}]")
        if isinstance(e, ast.FieldSelection):
            arg = self.node(e.expression, inside_aggregate)
            return FieldNode(arg, e.field, f"{arg.name}.{e.field}")
        if isinstance(e, ast.SliceSelection):
            arg = self.node(e.expression, inside_aggregate)
            t = arg.type
            if not isinstance(t, (T.MapType, T.SetType)):
                raise InvalidRequest(f"Invalid slice selection: {arg.name} is of type {t.cql_name} "
                                     "but slice selection is only allowed on sets and maps")
            kt = t.key if isinstance(t, T.MapType) else t.element
            bounds = [None if b is None else bind_term(b, self.receiver(f"key({arg.name})", kt),
                                                       self.markers, self.catalog, self.keyspace)
                      for b in (e.start, e.end)]
            text = f"{arg.name}[{'' if e.start is None else _text(e.start)}.." \
                   f"{'' if e.end is None else _text(e.end)}]"
            return SliceNode(arg, bounds[0], bounds[1], text)
        if isinstance(e, ast.TypeHint):
            t = schema_type(e.type, self.catalog, self.keyspace)
            value = bind_term(e.term, self.receiver(_text(e), t), self.markers, self.catalog, self.keyspace)
            return TermNode(value, _text(e))
        if isinstance(e, ast.Constant):
            raise InvalidRequest(f"Cannot infer type for term {_text(e)} in selection clause (try "
                                 "using a cast to force a type)")
        if isinstance(e, ast.BindMarker):
            raise InvalidRequest("Cannot infer type for a bind marker in selection clause (try using "
                                 "a type hint: (int) ?)")
        raise InvalidRequest(f"Unsupported selector: {_text(e)}")

    def call(self, e: ast.FunctionCall, inside_aggregate: bool) -> Node:
        name = e.name
        if e.keyspace not in (None, "system"):
            raise InvalidRequest(f"Unknown function '{e.keyspace}.{name}'")
        if name == "count" and len(e.args) == 1 and isinstance(e.args[0], ast.Constant):
            arg = e.args[0]
            if arg.kind == "integer" and arg.text == "1":
                return self.aggregate("count", None, "count", inside_aggregate)
            raise SyntaxException(f"Only COUNT(1) is supported, got COUNT({arg.text})")
        if name in AGGREGATES:
            if len(e.args) != 1:
                raise InvalidRequest(f"Invalid number of arguments in call to function {name}: 1 "
                                     f"required but {len(e.args)} provided")
            if inside_aggregate:
                raise InvalidRequest("aggregate functions cannot be used as arguments of aggregate "
                                     "functions")
            arg = self.node(e.args[0], inside_aggregate=True)
            return self.aggregate(name, arg, f"system.{name}({arg.name})", inside_aggregate)
        if name == "token":
            args = tuple(self.node(a, inside_aggregate) for a in e.args)
            pk = self.table.partition_key
            if len(args) != len(pk):
                raise InvalidRequest(f"Invalid number of arguments in call to function token: "
                                     f"{len(pk)} required but {len(args)} provided")
            for i, (a, c) in enumerate(zip(args, pk)):
                if a.type != c.type:
                    raise InvalidRequest(f"Type error: {a.name} cannot be passed as argument {i} of "
                                         f"function system.token of type {c.type.cql_name}")
            return TokenNode(args, f"system.token({', '.join(a.name for a in args)})")
        if name in ("tojson", "to_json"):
            if len(e.args) != 1:
                raise InvalidRequest(f"toJson() takes exactly 1 argument, {len(e.args)} given")
            arg = self.node(e.args[0], inside_aggregate)
            return ToJsonNode(arg, f"system.{name}({arg.name})")
        if not F.exists(name):
            raise InvalidRequest(f"Unknown function '{name}'")
        nodes: list[Node | None] = []
        for a in e.args:
            if isinstance(a, (ast.Constant, ast.BindMarker, ast.ListLiteral, ast.SetLiteral,
                              ast.MapLiteral, ast.TupleLiteral, ast.UserTypeLiteral)):
                nodes.append(None)                 # typed by the chosen overload
            else:
                nodes.append(self.node(a, inside_aggregate))
        fn = F.resolve(name, [n.type if n is not None else None for n in nodes])
        args: list[Node] = []
        for i, (a, n, pt) in enumerate(zip(e.args, nodes, fn.arg_types)):
            if n is None:
                v = bind_term(a, self.receiver(f"arg{i}({name})", pt), self.markers, self.catalog,
                              self.keyspace)
                n = TermNode(v, _text(a))
            args.append(n)
        return FunctionNode(fn, tuple(args), f"system.{name}({', '.join(a.name for a in args)})")

    def aggregate(self, kind: str, arg: Node | None, name: str, inside_aggregate: bool) -> Node:
        if inside_aggregate:
            raise InvalidRequest("aggregate functions cannot be used as arguments of aggregate functions")
        if arg is None or kind == "count":
            return AggregateNode(kind, arg, T.BIGINT, name)
        t = arg.type
        if kind in ("sum", "avg"):
            tn = getattr(t, "name", None)
            if not isinstance(t, T.NativeType) or tn not in NUMERIC:
                raise InvalidRequest(f"Invalid call to function {kind}, none of its type signatures "
                                     f"match (the argument {arg.name} is of type {t.cql_name}; {kind} "
                                     "takes tinyint, smallint, int, bigint, varint, float, double, "
                                     "decimal or counter)")
        elif not t.is_comparable:
            raise InvalidRequest(f"Invalid call to function {kind}, none of its type signatures match "
                                 f"(values of type {t.cql_name} cannot be compared)")
        return AggregateNode(kind, arg, t, name)


__all__ = [
    "AGGREGATES", "ColumnSpec", "Node", "ColumnNode", "CellNode", "TermNode", "FunctionNode",
    "TokenNode", "CastNode", "ElementNode", "SliceNode", "FieldNode", "ToJsonNode", "AggregateNode", "Output",
    "Selection",
    "bind_selection",
]
