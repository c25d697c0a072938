"""Fast decoding of engine rows for one SELECT plan: only the columns the query needs, per-type decoders.

A ``RowDecoder`` is built once per plan (and cached on it): for every column the query reads it
holds a decoder from the engine's cell to the Python value (a direct one for the common native
types, else ``RowCodec.decode_value``), and it memoizes clustering-bytes -> values (the same
clusterings recur across partitions).  ``dict_row`` gives the row mapping that filters, aggregates
and selectors use; ``tuple_row`` gives the output tuple directly when the selection is plain
columns and nothing filters (the point-read and partition-read fast path).
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Sequence

from cqlpy.engine.rows import Cell
from cqlpy.schema import codec
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata
from cqlpy.session.rowcodec import RowCodec

_DOUBLE = struct.Struct(">d")
_CACHE_LIMIT = 50_000


def _fixed_int(width: int) -> Callable[[bytes], Any]:
    def dec(b: bytes) -> Any:
        if len(b) == width:
            return int.from_bytes(b, "big", signed=True)
        return None if not b else _fallback_int(width, b)
    return dec


def _fallback_int(width: int, b: bytes) -> Any:
    return codec.deserialize({1: T.TINYINT, 2: T.SMALLINT, 4: T.INT, 8: T.BIGINT}[width], b)


def _text(b: bytes) -> str:
    return b.decode("utf-8")


def _double(b: bytes) -> Any:
    return _DOUBLE.unpack(b)[0] if len(b) == 8 else codec.deserialize(T.DOUBLE, b)


def _boolean(b: bytes) -> Any:
    return b[0] != 0 if len(b) == 1 else codec.deserialize(T.BOOLEAN, b)


_FAST: dict[str, Callable[[bytes], Any]] = {
    "text": _text, "varchar": _text, "int": _fixed_int(4), "bigint": _fixed_int(8),
    "smallint": _fixed_int(2), "tinyint": _fixed_int(1), "counter": _fixed_int(8),
    "double": _double, "boolean": _boolean, "blob": bytes,
}


def cell_decoder(col: ColumnMetadata, rc: RowCodec) -> Callable[[Any], Any]:
    """cell (or ComplexColumn, or None) -> Python value, for one column."""
    t = col.type
    fast = _FAST.get(t.name) if isinstance(t, T.NativeType) else None
    if col.is_multi_cell or rc.table.dropped(col.name) is not None or fast is None:
        if col.is_multi_cell or rc.table.dropped(col.name) is not None:
            return lambda data, col=col: rc.decode_value(col, data)
        deserialize = codec.deserialize

        def generic(data: Any) -> Any:
            if data is None:
                return None
            v = data.value if data.__class__ is Cell else None
            if v is None:
                return rc.decode_value(col, data) if data.__class__ is not Cell else None
            return deserialize(t, v)
        return generic

    def decode(data: Any) -> Any:
        if data is None:
            return None
        if data.__class__ is not Cell:
            return rc.decode_value(col, data)
        v = data.value
        return None if v is None else fast(v)
    decode.fast = fast          # type: ignore[attr-defined]  # for RowDecoder's compiled loop
    return decode


class RowDecoder:
    """Decodes the columns ``columns`` (None: every column) of a table's engine rows."""

    def __init__(self, rc: RowCodec, columns: Sequence[ColumnMetadata] | None,
                 output: Sequence[str] | None = None) -> None:
        self.rc = rc
        table = rc.table
        self.columns = list(table.columns) if columns is None else list(columns)
        self.ck_names = [c.name for c in table.clustering]
        self.needs_ck = any(c.is_clustering for c in self.columns)
        self._ck_cache: dict[bytes, dict] = {}
        self.regular = [(c.name, cell_decoder(c, rc)) for c in self.columns if c.is_regular]
        self.static = [(c.name, cell_decoder(c, rc)) for c in self.columns if c.is_static]
        self.pk = [c.name for c in self.columns if c.is_partition_key]
        self.ck = [c.name for c in self.columns if c.is_clustering]
        self.order = [c.name for c in self.columns]
        # the direct tuple path: (kind, name, decoder) in output order
        self.output = None
        if output is not None:
            kinds = {c.name: c for c in table.columns}
            plan = []
            for name in output:
                c = kinds[name]
                kind = ("pk" if c.is_partition_key else "ck" if c.is_clustering else
                        "static" if c.is_static else "regular")
                plan.append((kind, name, cell_decoder(c, rc) if kind == "regular" else None))
            self.output = plan
        self._tuple_rows: Callable | None = None

    def clustering(self, data: bytes) -> dict:
        cache = self._ck_cache
        values = cache.get(data)
        if values is None:
            values = self.rc.decode_clustering(data)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[data] = values
        return values

    def static_values(self, static: Any) -> dict:
        """The partition's static column values (decoded once per partition)."""
        if static is None:
            return {name: None for name, _ in self.static}
        cols = static.columns
        return {name: dec(cols.get(name)) for name, dec in self.static}

    def dict_row(self, pk: dict, statics: dict, row: Any) -> dict:
        out: dict = {}
        for name in self.pk:
            out[name] = pk[name]
        if self.ck:
            ck = self.clustering(row.clustering) if row is not None else {}
            for name in self.ck:
                out[name] = ck.get(name)
        out.update(statics)
        if row is None:
            for name, _ in self.regular:
                out[name] = None
        else:
            cols = row.columns
            for name, dec in self.regular:
                out[name] = dec(cols.get(name))
        return out

    def tuple_row(self, pk: dict, statics: dict, row: Any) -> tuple:
        ck = self.clustering(row.clustering) if row is not None and self.needs_ck else {}
        cols = row.columns if row is not None else {}
        out = []
        for kind, name, dec in self.output:              # type: ignore[union-attr]
            if kind == "regular":
                out.append(dec(cols.get(name)) if row is not None else None)
            elif kind == "pk":
                out.append(pk[name])
            elif kind == "ck":
                out.append(ck.get(name))
            else:
                out.append(statics[name])
        return tuple(out)

    def tuple_rows(self, pk: dict, statics: dict, rows: Sequence[Any]) -> list[tuple]:
        """``[tuple_row(pk, statics, r) for r in rows]`` (rows not None), in one compiled loop."""
        fn = self._tuple_rows
        if fn is None:
            fn = self._tuple_rows = self._compile_tuple_rows()
        return fn(pk, statics, rows)

    def _compile_tuple_rows(self) -> Callable:
        """Generate the comprehension for this plan's output (as namedtuple and dataclasses do):
        one tuple display per row, the clustering decoded once per row through the cache."""
        env: dict[str, Any] = {"_ck_get": self._ck_cache.get, "_ck": self.clustering,
                               "_Cell": Cell}
        exprs = []
        ck_bound = False
        for i, (kind, name, dec) in enumerate(self.output):      # type: ignore[union-attr]
            if kind == "regular":
                env[f"_d{i}"] = dec
                fast = getattr(dec, "fast", None)
                if fast is None:
                    exprs.append(f"_d{i}(r.columns.get({name!r}))")
                    continue
                # a live cell of a native type decodes inline; anything else goes through dec
                env[f"_f{i}"] = fast
                value = "_v.value.decode('utf-8')" if fast is _text else f"_f{i}(_v.value)"
                exprs.append(f"({value} if (_v := r.columns.get({name!r})).__class__ is _Cell "
                             f"and _v.value is not None else _d{i}(_v))")
            elif kind == "pk":
                exprs.append(f"pk[{name!r}]")
            elif kind == "static":
                exprs.append(f"statics[{name!r}]")
            elif not self.needs_ck:
                exprs.append("None")
            elif not ck_bound:
                exprs.append(f"(c := (_ck_get(r.clustering) or _ck(r.clustering))).get({name!r})")
                ck_bound = True
            else:
                exprs.append(f"c.get({name!r})")
        src = (f"def tuple_rows(pk, statics, rows):\n"
               f"    return [({', '.join(exprs)}{',' if len(exprs) == 1 else ''}) for r in rows]\n")
        exec(src, env)
        return env["tuple_rows"]


__all__ = ["RowDecoder", "cell_decoder"]
