"""Aggregation: folding rows into one output row per group, with Cassandra's arithmetic.

``Aggregator(selection, ctx)`` walks the selection's expression trees (cqlpy.planner.selection):
an aggregate call gets an accumulator, a plain expression takes the value of the group's first row
(Cassandra's rule for columns selected next to aggregates), and a function of aggregates is applied
to their results.  Arithmetic as Cassandra's AggregateFcts (notes §3.3):

* ``count`` -> bigint; ``count(x)`` skips nulls.  ``min``/``max`` -> the argument's type, null
  when no non-null input.
* ``sum`` -> the argument's type, 0 on no input; tinyint/smallint/int/bigint/counter keep the
  running sum in the input's width and wrap on overflow (Java arithmetic); varint and decimal are
  exact; float/double use Cassandra's compensated (Kahan) double sum.
* ``avg`` -> the argument's type, 0 on no input; integer types divide truncating toward zero (the
  sum itself never overflows); decimal is a running average rounded half-even at each step (at
  the largest scale seen), as Cassandra computes it.
"""
from __future__ import annotations

import decimal
import math
from decimal import Decimal
from typing import Any, Mapping

from cqlpy.planner.restrictions import sort_key
from cqlpy.planner.selection import AggregateNode, Node, Selection
from cqlpy.planner.terms import EvalContext
from cqlpy.schema.types import CQLType
from cqlpy.schema.values import round_to_float32

_WIDTH = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _wrap(n: int, bits: int) -> int:
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >> (bits - 1) else n


def _type_name(t: CQLType) -> str:
    return getattr(t, "name", "")


# --- accumulators --------------------------------------------------------------------------------

class _Folder:
    """Accumulates rows for one expression."""

    def add(self, row: Mapping[Any, Any]) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError


class _FirstRow(_Folder):
    __slots__ = ("node", "ctx", "row")

    def __init__(self, node: Node, ctx: EvalContext) -> None:
        self.node, self.ctx, self.row = node, ctx, None

    def add(self, row):
        if self.row is None:
            self.row = row

    def result(self):
        return None if self.row is None else self.node.eval(self.row, self.ctx)


class _Apply(_Folder):
    """A scalar expression over aggregates: its children fold, then it applies to their results."""

    __slots__ = ("node", "ctx", "children")

    def __init__(self, node: Node, ctx: EvalContext) -> None:
        self.node, self.ctx = node, ctx
        self.children = [folder(c, ctx) for c in node.children]

    def add(self, row):
        for c in self.children:
            c.add(row)

    def result(self):
        return self.node.apply([c.result() for c in self.children], self.ctx)  # type: ignore[attr-defined]


class _Count(_Folder):
    __slots__ = ("arg", "ctx", "n")

    def __init__(self, arg: Node | None, ctx: EvalContext) -> None:
        self.arg, self.ctx, self.n = arg, ctx, 0

    def add(self, row):
        if self.arg is None or self.arg.eval(row, self.ctx) is not None:
            self.n += 1

    def result(self):
        return self.n


class _MinMax(_Folder):
    __slots__ = ("arg", "ctx", "type", "best", "key", "want_max")

    def __init__(self, arg: Node, ctx: EvalContext, want_max: bool) -> None:
        self.arg, self.ctx, self.type, self.want_max = arg, ctx, arg.type, want_max
        self.best = self.key = None

    def add(self, row):
        v = self.arg.eval(row, self.ctx)
        if v is None:
            return
        k = sort_key(self.type, v)
        if self.key is None or (k > self.key if self.want_max else k < self.key):
            self.best, self.key = v, k

    def result(self):
        return self.best


class _Kahan:
    """Cassandra's compensated double sum (FloatSumAggregate / FloatAvgAggregate)."""

    __slots__ = ("sum", "compensation", "simple", "big")

    def __init__(self) -> None:
        self.sum = self.compensation = self.simple = 0.0
        self.big: Decimal | None = None           # after an overflow to infinity (avg only)

    def add(self, d: float, track_overflow: bool) -> None:
        if self.big is not None:
            self.big = _EXACT.add(self.big, Decimal(repr(d)))
            return
        self.simple += d
        prev = self.sum
        tmp = d - self.compensation
        rounded = self.sum + tmp
        self.compensation = rounded - self.sum - tmp
        self.sum = rounded
        if track_overflow and math.isinf(self.sum) and not math.isinf(d):
            self.big = _EXACT.add(Decimal(repr(prev)), Decimal(repr(d)))

    def total(self) -> float:
        tmp = self.sum + self.compensation
        return self.simple if math.isnan(tmp) and math.isinf(self.simple) else tmp


class _Sum(_Folder):
    """sum() and avg() as Cassandra's AggregateFcts compute them (see the module docstring)."""

    __slots__ = ("arg", "ctx", "kind", "total", "kahan", "count", "avg")

    def __init__(self, arg: Node, ctx: EvalContext, avg: bool) -> None:
        self.arg, self.ctx, self.avg = arg, ctx, avg
        self.kind = _type_name(arg.type)
        self.total: Any = Decimal(0) if self.kind == "decimal" else 0
        self.kahan = _Kahan()
        self.count = 0

    def add(self, row):
        v = self.arg.eval(row, self.ctx)
        if v is None:
            return
        self.count += 1
        k = self.kind
        if k in ("float", "double"):
            self.kahan.add(float(v), self.avg)
        elif k == "decimal":
            if self.avg:        # a running average, rounded half-even at each step
                diff = _EXACT.subtract(v, self.total)
                self.total = _EXACT.add(self.total, _divide_half_even(diff, self.count))
            else:
                self.total = _EXACT.add(self.total, v)
        elif k in _WIDTH and not self.avg:
            self.total = _wrap(self.total + int(v), _WIDTH[k])
        else:
            self.total += int(v)            # avg of integers: the sum never overflows

    def result(self):
        k = self.kind
        if k in ("float", "double"):
            if not self.avg:
                value = self.kahan.total()
            elif self.count == 0:
                value = 0.0
            elif self.kahan.big is not None:
                value = float(decimal.Context(prec=60).divide(self.kahan.big, Decimal(self.count)))
            else:
                value = self.kahan.total() / self.count
            return round_to_float32(value) if k == "float" else value
        if not self.avg or k == "decimal":
            return self.total
        if self.count == 0:
            return 0
        q = abs(self.total) // self.count
        return q if self.total >= 0 else -q


def _divide_half_even(d: Decimal, n: int) -> Decimal:
    """Java's ``d.divide(BigDecimal.valueOf(n), RoundingMode.HALF_EVEN)``: the quotient at d's
    scale, rounded half-even."""
    sign, digits, exp = d.as_tuple()
    m = int("".join(map(str, digits)) or "0")
    q, r = divmod(m, n)
    if 2 * r > n or (2 * r == n and q % 2 == 1):
        q += 1
    return Decimal((sign if q else 0, tuple(int(x) for x in str(q)), exp))


def folder(node: Node, ctx: EvalContext) -> _Folder:
    """The accumulator for one expression of an aggregate query."""
    if isinstance(node, AggregateNode):
        if node.kind == "count":
            return _Count(node.arg, ctx)
        assert node.arg is not None
        if node.kind in ("min", "max"):
            return _MinMax(node.arg, ctx, node.kind == "max")
        return _Sum(node.arg, ctx, node.kind == "avg")
    if node.has_aggregate:
        return _Apply(node, ctx)
    return _FirstRow(node, ctx)


class Aggregator:
    """Folds the rows of one group into one output row (a tuple in selection order)."""

    __slots__ = ("folders", "rows")

    def __init__(self, selection: Selection, ctx: EvalContext) -> None:
        self.folders = [folder(o.node, ctx) for o in selection.outputs]
        self.rows = 0

    def add(self, row: Mapping[Any, Any]) -> None:
        self.rows += 1
        for f in self.folders:
            f.add(row)

    def result(self) -> tuple:
        return tuple(f.result() for f in self.folders)


__all__ = ["Aggregator", "folder"]
