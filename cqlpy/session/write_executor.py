"""Running INSERT / UPDATE / DELETE / BATCH / TRUNCATE plans: engine mutations, counters, LWT, indexes.

One statement (or one batch) becomes one ``engine.apply`` call (one commit-log record: atomic), built
with the table's RowCodec.  Timestamps: ``USING TIMESTAMP`` (statement or batch), else the
execution's timestamp (client or server, from ExecutionContext).  TTL: ``USING TTL`` (null = none,
unset = the default), else the table's ``default_time_to_live``.  Operations that need the current
value (list set-by-index / remove-by-value / delete-by-index, counters) read it under a
per-partition lock, which also covers secondary-index maintenance (old entries are read and
retired in the same apply) and compare-and-set (IF ...), so a single node behaves like Cassandra's
Paxos: read, check, write, with no other writer of the partition in between.

Counters are stored as plain bigint cells written read-modify-write (current + delta, at a
timestamp above the current cell's); increments of one counter inside a batch add up.  Conditional
statements and batches go to cqlpy.session.lwt (compare-and-set under the same lock).
"""
from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any, Iterable, Sequence

from cqlpy.engine.rows import NO_EXPIRY, Cell, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice
from cqlpy.errors import InvalidRequest
from cqlpy.planner.batch import BatchPlan
from cqlpy.planner.json_input import parse_json_row
from cqlpy.planner.modification import DELETE, INSERT, ModificationPlan, Operation, TruncatePlan, \
    check_ttl
from cqlpy.planner.terms import UNSET
from cqlpy.schema import codec as value_codec
from cqlpy.schema import types as T
from cqlpy.schema.model import ColumnMetadata, TableMetadata

from .results import ResultSet
from .rowcodec import RowCodec, RowWrite, row_codec

MAX_KEY_LENGTH = 65535
_INT64 = 1 << 64
_STRIPES = 256


# --- per-partition locks ----------------------------------------------------------------------------

class PartitionLocks:
    """Striped re-entrant locks by (table id, partition key); taken in stripe order."""

    def __init__(self) -> None:
        self._locks = [threading.RLock() for _ in range(_STRIPES)]

    def hold(self, keys: Iterable[tuple[bytes, bytes]]) -> "_Held":
        stripes = sorted({hash(k) % _STRIPES for k in keys})
        return _Held([self._locks[i] for i in stripes])


class _Held:
    def __init__(self, locks: list) -> None:
        self.locks = locks

    def __enter__(self) -> None:
        for lock in self.locks:
            lock.acquire()

    def __exit__(self, *exc: Any) -> None:
        for lock in reversed(self.locks):
            lock.release()


_LOCKS: "weakref.WeakKeyDictionary[Any, PartitionLocks]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def partition_locks(engine: Any) -> PartitionLocks:
    """The lock table of one engine (shared by every session on it)."""
    with _LOCKS_GUARD:
        locks = _LOCKS.get(engine)
        if locks is None:
            locks = _LOCKS[engine] = PartitionLocks()
        return locks


# --- entry points (called by cqlpy.session.executor) -------------------------------------------------

def execute_modification(plan: ModificationPlan, ctx: Any) -> ResultSet:
    fast = _fast_insert(plan)
    if fast is not None:
        ctx.engine.apply([fast(ctx)])
        return ResultSet.void()
    if plan.is_conditional:
        from .lwt import compare_and_set
        return compare_and_set(ctx, [plan], None, batch=False)
    writer = _Writer(ctx)
    writer.add(plan, None)
    writer.commit()
    return ResultSet.void()


def execute_batch(plan: BatchPlan, ctx: Any) -> ResultSet:
    ts = _timestamp(plan.timestamp, ctx) if plan.timestamp is not None else None
    if plan.is_conditional:
        from .lwt import compare_and_set
        return compare_and_set(ctx, list(plan.statements), ts, batch=True)
    writer = _Writer(ctx)
    for stmt in plan.statements:
        writer.add(stmt, ts)
    from .request_options import using_batch_type
    with using_batch_type(plan.batch_type):          # a ring logs a LOGGED batch (batchlog.py)
        writer.commit()
    return ResultSet.void()


def execute_truncate(plan: TruncatePlan, ctx: Any) -> ResultSet:
    table = ctx.catalog.table(plan.table.keyspace, plan.table.name)
    ctx.engine.truncate(table.table_id)
    if ctx.indexes is not None:
        ctx.indexes.truncate(table)
    return ResultSet.void()


# --- the common case: a plain INSERT of scalar values -------------------------------------------------

_NO_FAST = object()


def _fast_insert(plan: ModificationPlan) -> Any:
    """A compiled builder for a plain INSERT (no IF, no JSON, no index, only non-collection regular
    columns), cached on the plan; None when the general path is needed."""
    fast = plan.__dict__.get("_fast")
    if fast is None:
        fast = _compile_insert(plan) or _NO_FAST
        object.__setattr__(plan, "_fast", fast)
    return None if fast is _NO_FAST else fast


def _compile_insert(plan: ModificationPlan) -> Any:
    table = plan.table
    if (plan.kind != INSERT or plan.is_conditional or plan.json is not None or table.indexes
            or plan.static_only
            or any(op.kind != "set" or not op.column.is_regular or op.column.is_multi_cell
                   for op in plan.operations)):
        return None
    codec = row_codec(table)
    table_id = codec.table_id
    keys = [(g.columns[0], g.items[0]) for g in plan.partition]
    clustering = [(g.columns[0], g.items[0]) for g in plan.clustering]
    ops = [(op.column.name, op.column.type, op.value) for op in plan.operations]
    serialize = value_codec.serialize
    has_clustering = bool(table.clustering)

    def build(ctx: Any) -> PartitionUpdate:
        ev = ctx.eval
        pk = []
        for col, value in keys:
            v = value.evaluate(ev)
            if v is None or v is UNSET:
                _check_component(col, v)
            pk.append(v)
        key = codec.partition_key_bytes(pk)
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"Key length of {len(key)} is longer than maximum of "
                                 f"{MAX_KEY_LENGTH}")
        if has_clustering:
            ck_values = []
            for col, value in clustering:
                v = value.evaluate(ev)
                if v is None or v is UNSET:
                    _check_component(col, v)
                ck_values.append(v)
            ck = codec.clustering_bytes(ck_values)
        else:
            ck = b""
        ts = _timestamp(plan.timestamp, ctx) if plan.timestamp is not None else ctx.timestamp
        ttl = _ttl(plan, ctx)
        now = ctx.now
        expiry = now + ttl if ttl else NO_EXPIRY
        cells = {}
        for name, t, value in ops:
            v = value.evaluate(ev)
            if v is UNSET:
                continue
            cells[name] = (Cell(None, ts, 0, now) if v is None
                           else Cell(serialize(t, v), ts, ttl, expiry))
        row = Row(ck, Cell(b"", ts, ttl, expiry), None, cells)
        return PartitionUpdate(table_id, key, rows={ck: row})

    return build


# --- evaluation helpers -------------------------------------------------------------------------------

def _timestamp(value: Any, ctx: Any) -> int:
    ts = value.evaluate(ctx.eval)
    if ts is UNSET:
        return ctx.timestamp
    if ts is None:
        raise InvalidRequest("Invalid null value of timestamp")
    return int(ts)


def _ttl(plan: ModificationPlan, ctx: Any) -> int:
    """USING TTL (null: none; unset: the default), else the table's default_time_to_live."""
    ttl = plan.table.options.default_time_to_live
    if plan.ttl is not None:
        given = plan.ttl.evaluate(ctx.eval)
        if given is not UNSET:
            ttl = 0 if given is None else int(given)
    if ttl:
        check_ttl(ttl, ctx.now, plan.table)
    return ttl


def _check_component(col: ColumnMetadata, v: Any) -> None:
    if v is UNSET:
        raise InvalidRequest(f"Invalid unset value for column {col.name}")
    if v is None:
        raise InvalidRequest(f"Invalid null value in condition for column {col.name}")


def _group_tuples(group: Any, ctx: Any) -> list[tuple]:
    """The value tuples one KeyGroup gives (IN lists de-duplicated, first occurrence kept)."""
    cols = group.columns
    if group.list_marker is not None:
        items = group.list_marker.evaluate(ctx.eval)
        if items is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {cols[0].name}")
        if items is None:
            raise InvalidRequest(f"Invalid null value for IN restriction on {cols[0].name}")
    else:
        items = [v.evaluate(ctx.eval) for v in group.items]
    out: list[tuple] = []
    for item in items:
        if len(cols) == 1:
            t = (item,)
        else:
            if item is UNSET or item is None:
                _check_component(cols[0], item)
            t = tuple(item)
            if len(t) != len(cols):
                raise InvalidRequest(f"Expected {len(cols)} elements in value tuple, but got "
                                     f"{len(t)}")
        for c, v in zip(cols, t):
            _check_component(c, v)
        out.append(t)
    return out


def _product(groups: Sequence[Any], ctx: Any) -> list[tuple]:
    if not groups:
        return [()]
    parts = [_group_tuples(g, ctx) for g in groups]
    return [tuple(v for t in combo for v in t) for combo in itertools.product(*parts)]


def _partition_keys(plan: ModificationPlan, codec: RowCodec, ctx: Any) -> list[tuple[bytes, tuple]]:
    """(key bytes, key values) of every partition the plan writes (de-duplicated)."""
    tuples = (plan.where.partition_keys(ctx.eval) if plan.where is not None
              else _product(plan.partition, ctx))
    seen: dict[bytes, tuple] = {}
    for values in tuples:
        key = codec.partition_key_bytes(list(values))
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"Key length of {len(key)} is longer than maximum of "
                                 f"{MAX_KEY_LENGTH}")
        seen.setdefault(key, values)
    return list(seen.items())


def _clustering_keys(plan: ModificationPlan, ctx: Any) -> list[tuple]:
    """Full clustering value tuples of the rows an INSERT/UPDATE (or column DELETE) writes."""
    if plan.where is None:
        return _product(plan.clustering, ctx)
    if not plan.where.restricted_clustering:
        return [()]
    return plan.where.clustering_keys(ctx.eval)


# --- building mutations --------------------------------------------------------------------------------

class _Writer:
    """Collects the updates of one statement or batch, then applies them in one engine write."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.engine = ctx.engine
        self.now = ctx.now
        self.updates: dict[tuple[bytes, bytes], PartitionUpdate] = {}
        self.tables: dict[bytes, TableMetadata] = {}
        self.work: list[tuple[ModificationPlan, int, int, list]] = []
        self.lock_keys: set[tuple[bytes, bytes]] = set()
        self.counters: dict[tuple, int] = {}
        self.rows_read: dict[tuple, Any] = {}

    # phase 1: keys (cheap) -------------------------------------------------------------------------
    def add(self, plan: ModificationPlan, batch_ts: int | None) -> None:
        ctx = self.ctx
        ts = (_timestamp(plan.timestamp, ctx) if plan.timestamp is not None
              else batch_ts if batch_ts is not None else ctx.timestamp)
        ttl = _ttl(plan, ctx) if plan.kind != DELETE else 0
        table = plan.table
        codec = row_codec(table)
        if plan.json is not None:
            targets = [self._json_target(plan, codec)]
        else:
            targets = _partition_keys(plan, codec, ctx)
        self.tables[table.table_id] = table
        if plan.reads_before_write or table.indexes:
            self.lock_keys.update((table.table_id, k) for k, _v in targets)
        self.work.append((plan, ts, ttl, targets))

    def _json_target(self, plan: ModificationPlan, codec: RowCodec) -> tuple[bytes, Any]:
        assert plan.json is not None
        values = parse_json_row(plan.table, plan.json.evaluate(self.ctx.eval))
        for c in plan.table.partition_key:
            _check_component(c, values.get(c.name))
        key = codec.partition_key_bytes(values)
        return key, values

    # phase 2: under the locks ------------------------------------------------------------------------
    def commit(self) -> None:
        if self.lock_keys:
            with partition_locks(self.engine).hold(self.lock_keys):
                self._build_and_apply()
        else:
            self._build_and_apply()

    def _build_and_apply(self) -> None:
        for plan, ts, ttl, targets in self.work:
            if plan.json is not None:
                self._json(plan, ts, ttl, targets[0])
            else:
                self._plan(plan, ts, ttl, targets)
        updates = [u for u in self.updates.values() if not u.is_empty()]
        if not updates:
            return
        extra: list[PartitionUpdate] = []
        indexes = getattr(self.ctx, "indexes", None)
        if indexes is not None:
            for tid, table in self.tables.items():
                if table.indexes:
                    mine = [u for u in updates if u.table_id == tid]
                    extra.extend(indexes.updates_for(table, mine, now=self.now))
        self.engine.apply(updates + extra)

    def _merge(self, update: PartitionUpdate) -> None:
        k = (update.table_id, update.key)
        mine = self.updates.get(k)
        if mine is None:
            self.updates[k] = update
        else:
            mine.merge(update)

    def _writer(self, codec: RowCodec, key: bytes, ck: bytes | None, ts: int, ttl: int) -> RowWrite:
        return RowWrite(codec, key, ck, ts, self.now, ttl)

    def _json(self, plan: ModificationPlan, ts: int, ttl: int, target: tuple[bytes, Any]) -> None:
        key, values = target
        table = plan.table
        codec = row_codec(table)
        given_ck = [c for c in table.clustering if values.get(c.name) is not None]
        non_key = [c for c in table.non_key_columns
                   if c.name in values or not plan.json_default_unset]
        static_only = (not given_ck and bool(table.clustering)
                       and all(c.is_static for c in table.non_key_columns if c.name in values)
                       and any(c.name in values for c in table.non_key_columns))
        if static_only:
            ck = None
            non_key = [c for c in non_key if c.is_static]
        else:
            for c in table.clustering:
                _check_component(c, values.get(c.name))
            ck = codec.clustering_bytes(values) if table.clustering else b""
        w = self._writer(codec, key, ck, ts, ttl)
        if ck is not None:
            w.marker()
        for c in non_key:
            w.set(c.name, values.get(c.name))
        self._merge(w.update)

    def _plan(self, plan: ModificationPlan, ts: int, ttl: int, targets: list) -> None:
        table = plan.table
        codec = row_codec(table)
        if plan.kind == DELETE:
            self._delete(plan, codec, ts, targets)
            return
        clusterings = _clustering_keys(plan, self.ctx)
        for key, _pk in targets:
            if plan.static_only or (not table.clustering):
                cks: list[bytes | None] = [None if plan.static_only else b""]
            else:
                cks = [codec.clustering_bytes(list(v)) for v in clusterings]
            for ck in cks:
                w = self._writer(codec, key, ck, ts, ttl)
                if plan.kind == INSERT and ck is not None:
                    w.marker()
                for op in plan.operations:
                    self._operation(op, w, table, key, ck)
                self._merge(w.update)

    def _delete(self, plan: ModificationPlan, codec: RowCodec, ts: int, targets: list) -> None:
        table = plan.table
        where = plan.where
        if not targets:
            return
        if plan.operations:
            if plan.static_only or not table.clustering:
                cks: list[bytes | None] = [None if plan.static_only else b""]
            else:
                cks = [codec.clustering_bytes(list(v)) for v in _clustering_keys(plan, self.ctx)]
            for key, _pk in targets:
                for ck in cks:
                    w = self._writer(codec, key, ck, ts, 0)
                    for op in plan.operations:
                        self._operation(op, w, table, key, ck)
                    self._merge(w.update)
            return
        if not where.restricted_clustering:
            for key, _pk in targets:
                self._merge(PartitionUpdate(codec.table_id, key,
                                            deletion=DeletionTime(ts, self.now)))
            return
        if where.clustering_is_full_eq:
            cks = [codec.clustering_bytes(list(v)) for v in where.clustering_keys(self.ctx.eval)]
            for key, _pk in targets:
                u = PartitionUpdate(codec.table_id, key)
                for ck in cks:
                    u.add_row(Row(ck, deletion=DeletionTime(ts, self.now)))
                self._merge(u)
            return
        slices = []
        for cs in where.clustering_slices(self.ctx.eval):
            if cs.is_point:
                slices.append(codec.prefix_slice(list(cs.prefix)))
            else:
                slices.append(codec.slice(list(cs.prefix), cs.lower, cs.upper))
        for key, _pk in targets:
            for sl in slices:
                self._range(codec, key, sl, ts)

    def _range(self, codec: RowCodec, key: bytes, sl: Slice, ts: int) -> None:
        if sl.is_empty():
            return
        u = PartitionUpdate(codec.table_id, key)
        u.range_tombstones.append(RangeTombstone(sl, DeletionTime(ts, self.now)))
        self._merge(u)

    # --- one operation on one row --------------------------------------------------------------------
    def _operation(self, op: Operation, w: RowWrite, table: TableMetadata, key: bytes,
                   ck: bytes | None) -> None:
        ev = self.ctx.eval
        name = op.column.name
        kind = op.kind
        t = op.column.type
        if kind == "delete":
            w.delete(name)
            return
        if kind == "delete_field":
            w.put(name, op.field, None)
            return
        if kind == "delete_element":
            k = op.key.evaluate(ev)  # type: ignore[union-attr]
            if k is UNSET:
                return
            if k is None:
                raise InvalidRequest(f"Invalid null value for {name} element deletion")
            if isinstance(t, T.ListType):
                paths = self._list_paths(table, key, ck, op.column)
                if not paths:
                    raise InvalidRequest("Attempted to delete an element from a list which is null")
                if not 0 <= k < len(paths):
                    raise InvalidRequest(f"List index {k} out of bound, list has size {len(paths)}")
                w.delete_paths(name, [paths[k][0]])
            else:
                w.discard(name, [k])
            return
        value = op.value.evaluate(ev) if op.value is not None else None
        if value is UNSET:
            return
        if kind == "set":
            w.set(name, value)
        elif kind == "set_field":
            w.put(name, op.field, value)
        elif kind == "set_element":
            k = op.key.evaluate(ev)  # type: ignore[union-attr]
            if k is UNSET:
                return
            if isinstance(t, T.MapType):
                if k is None:
                    raise InvalidRequest("Invalid null map key")
                w.put(name, k, value)
                return
            if k is None:
                raise InvalidRequest(f"Invalid null value for list index of {name}")
            paths = self._list_paths(table, key, ck, op.column)
            if not paths:
                raise InvalidRequest("Attempted to set an element on a list which is null")
            if not 0 <= k < len(paths):
                raise InvalidRequest(f"List index {k} out of bound, list has size {len(paths)}")
            w.set_paths(name, [(paths[k][0], value)])
        elif kind == "append":
            if value is not None:
                w.append(name, value)
        elif kind == "prepend":
            if value is not None:
                w.prepend(name, list(value))
        elif kind == "remove":
            if value is None:
                return
            if isinstance(t, T.ListType):
                drop = {value_codec.serialize(t.element, v) for v in value}
                paths = self._list_paths(table, key, ck, op.column)
                w.delete_paths(name, [p for p, cell in paths if cell.value in drop])
            else:
                w.discard(name, list(value))
        elif kind == "increment":
            if value is None:
                raise InvalidRequest("Invalid null value for counter increment/decrement")
            self._increment(op, w, table, key, ck, int(value))
        else:
            raise InvalidRequest(f"Unsupported operation {kind} on {name}")

    def _current(self, table: TableMetadata, key: bytes, ck: bytes | None, column: ColumnMetadata):
        """The column's current data (Cell or ComplexColumn, live parts only) or None."""
        rk = (table.table_id, key, None if column.is_static else ck)
        if rk not in self.rows_read:
            if column.is_static or ck is None:
                slices = [Slice(b"\xff", True, b"\xff", False)]
            else:
                slices = [Slice(ck, True, ck, True)]
            part = self.engine.read(table.table_id, key, slices, now=self.now)
            row = None
            if part is not None:
                if column.is_static or ck is None:
                    row = part.static_row
                else:
                    row = next((r for r in part.rows if r.clustering == ck), None)
            self.rows_read[rk] = row
        row = self.rows_read[rk]
        return None if row is None else row.columns.get(column.name)

    def _list_paths(self, table: TableMetadata, key: bytes, ck: bytes | None,
                    column: ColumnMetadata) -> list:
        data = self._current(table, key, ck, column)
        if data is None or not hasattr(data, "cells"):
            return []
        return [(p, c) for p, c in sorted(data.cells.items()) if c.value is not None]

    def _increment(self, op: Operation, w: RowWrite, table: TableMetadata, key: bytes,
                   ck: bytes | None, delta: int) -> None:
        """current + delta, written at a timestamp above the current cell's (a concurrent writer
        may have taken its timestamp earlier and its lock later)."""
        col = op.column
        ckey = (table.table_id, key, None if col.is_static else ck, col.name)
        state = self.counters.get(ckey)
        if state is None:
            data = self._current(table, key, ck, col)
            state = (0, w.timestamp)
            if data is not None and getattr(data, "value", None) is not None:
                state = (value_codec.deserialize(T.COUNTER, data.value),
                         max(w.timestamp, data.timestamp + 1))
        current, ts = state
        new = current + op.sign * delta
        new = ((new + (1 << 63)) % _INT64) - (1 << 63)
        self.counters[ckey] = (new, ts)
        w._row_for(col).columns[col.name] = Cell(value_codec.serialize(T.COUNTER, new), ts)


__all__ = ["PartitionLocks", "execute_batch", "execute_modification", "execute_truncate",
           "partition_locks"]
