"""The scalar function registry: CQL's native functions by name, with argument and return types.

A function is looked up by its (case-folded) name and chosen among its overloads by the types of its
arguments, as Cassandra's FunctionResolver does.  Implementations take and return canonical Python
values (see cqlpy.schema.codec); a null argument gives a null result unless the function says
otherwise.  Both Cassandra 4's camelCase names (folded: ``totimestamp``) and 5.0's snake_case names
(``to_timestamp``) are registered.  Aggregates and selection-only functions (``token``, ``cast``,
``writetime``, ``ttl``) are not here: they belong to the SELECT planner.
"""
from __future__ import annotations

import os
import random
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any, Callable

from cqlpy.errors import InvalidRequest
from cqlpy.schema import codec
from cqlpy.schema import types as T
from cqlpy.schema.types import CQLType, NativeType
from cqlpy.schema.values import (
    date_from_days,
    datetime_from_millis,
    days_from_date,
    millis_from_datetime,
    time_from_nanos,
)

UUID_EPOCH_OFFSET = 0x01B21DD213814000
"""100-ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01."""


@dataclass(frozen=True, slots=True)
class Function:
    """One overload of a native function."""

    name: str
    arg_types: tuple[CQLType, ...]
    return_type: CQLType
    impl: Callable[..., Any]
    deterministic: bool = True
    called_on_null_input: bool = False

    def signature(self) -> str:
        return f"system.{self.name}({', '.join(t.cql_name for t in self.arg_types)})"

    def call(self, args: list[Any], now_micros: int) -> Any:
        if not self.called_on_null_input and any(a is None for a in args):
            return None
        if self.deterministic:
            return self.impl(*args)
        return self.impl(now_micros, *args)


_REGISTRY: dict[str, list[Function]] = {}


def register(name: str, arg_types: tuple[CQLType, ...], return_type: CQLType,
             impl: Callable[..., Any], *, deterministic: bool = True, aliases: tuple[str, ...] = ()) -> None:
    """Add an overload under ``name`` and its aliases."""
    for n in (name, *aliases):
        _REGISTRY.setdefault(n, []).append(
            Function(n, arg_types, return_type, impl, deterministic))


def overloads(name: str) -> list[Function]:
    """Every overload of ``name`` (folded), or [] when no such function exists."""
    return _REGISTRY.get(name, [])


def exists(name: str) -> bool:
    return name in _REGISTRY


def resolve(name: str, arg_types: list[CQLType | None]) -> Function:
    """The overload of ``name`` for arguments of these types (None = a literal or marker of unknown
    type, which any parameter type may receive).  InvalidRequest when none or several fit."""
    candidates = _REGISTRY.get(name)
    if not candidates:
        raise InvalidRequest(f"Unknown function '{name}'")
    arity = [f for f in candidates if len(f.arg_types) == len(arg_types)]
    if not arity:
        raise InvalidRequest(f"Invalid number of arguments in call to function {name}: "
                             f"{len(candidates[0].arg_types)} required but {len(arg_types)} provided")
    exact = [f for f in arity if all(a is None or _accepts(p, a) for p, a in zip(f.arg_types, arg_types))]
    if len(exact) == 1:
        return exact[0]
    if not exact:
        given = ", ".join("?" if a is None else a.cql_name for a in arg_types)
        raise InvalidRequest(f"Invalid call to function {name}: no overload accepts ({given}); "
                             f"candidates are {', '.join(f.signature() for f in arity)}")
    # Prefer overloads whose parameter types equal the known argument types.
    best = [f for f in exact if all(a is None or p == a for p, a in zip(f.arg_types, arg_types))]
    if len(best) == 1 or (best and all(a is None for a in arg_types)):
        return best[0]
    raise InvalidRequest(f"Ambiguous call to function {name}: use type casts to choose between "
                         f"{', '.join(f.signature() for f in exact)}")


def _accepts(param: CQLType, arg: CQLType) -> bool:
    if param == arg:
        return True
    # Integer widening as Cassandra's implicit conversions allow for native functions.
    order = ("tinyint", "smallint", "int", "bigint", "varint")
    if isinstance(param, NativeType) and isinstance(arg, NativeType):
        if param.name in order and arg.name in order:
            return order.index(arg.name) <= order.index(param.name)
        if param.name == "text" and arg.name == "ascii":
            return True
    return False


# --- time-based UUIDs ------------------------------------------------------------------------------

_clock_lock = threading.Lock()
_last_uuid_time = 0
_CLOCK_SEQ_AND_NODE = random.getrandbits(14) << 48 | int.from_bytes(os.urandom(6), "big") | 1 << 40


def timeuuid_at(micros: int, unique: bool = True) -> uuidlib.UUID:
    """A version-1 UUID whose time is ``micros`` (µs since the epoch); with ``unique``, strictly
    increasing across calls in this process, as Cassandra's ``now()`` is."""
    global _last_uuid_time
    ticks = micros * 10 + UUID_EPOCH_OFFSET
    seq_and_node = _CLOCK_SEQ_AND_NODE
    if unique:
        with _clock_lock:
            if _last_uuid_time - 10_000_000 < ticks <= _last_uuid_time:
                ticks = _last_uuid_time + 1       # same instant (within a second): step past it
            elif ticks <= _last_uuid_time:         # a time far in the past: a fresh clock sequence
                seq_and_node = random.getrandbits(14) << 48 | (_CLOCK_SEQ_AND_NODE & (1 << 48) - 1)
            _last_uuid_time = max(_last_uuid_time, ticks)
    return _make_v1(ticks, seq_and_node)


def _make_v1(ticks: int, clock_seq_and_node: int) -> uuidlib.UUID:
    time_low = ticks & 0xFFFFFFFF
    time_mid = (ticks >> 32) & 0xFFFF
    time_hi = (ticks >> 48) & 0x0FFF
    clock_seq = (clock_seq_and_node >> 48) & 0x3FFF
    node = clock_seq_and_node & 0xFFFFFFFFFFFF
    return uuidlib.UUID(fields=(time_low, time_mid, time_hi | 0x1000, 0x80 | (clock_seq >> 8),
                                clock_seq & 0xFF, node))


def timeuuid_millis(u: uuidlib.UUID) -> int:
    """The milliseconds since the epoch of a version-1 UUID."""
    if u.version != 1:
        raise InvalidRequest(f"{u} is not a time-based (version 1) UUID")
    return (u.time - UUID_EPOCH_OFFSET) // 10_000


def _min_timeuuid(ts: Any) -> uuidlib.UUID:
    # The smallest v1 UUID at that millisecond, as Cassandra's UUIDGen.minTimeUUID (signed-byte
    # ordering of clock sequence and node: 0x80 bytes are the smallest).
    ticks = _ms(ts) * 10_000 + UUID_EPOCH_OFFSET
    return _make_v1(ticks, 0x0080_8080_8080_8080 & 0x3FFF_FFFF_FFFF_FFFF)


def _max_timeuuid(ts: Any) -> uuidlib.UUID:
    ticks = _ms(ts) * 10_000 + UUID_EPOCH_OFFSET + 9_999
    return _make_v1(ticks, 0x3F7F_7F7F_7F7F_7F7F)


def _ms(ts: Any) -> int:
    return ts if isinstance(ts, int) else millis_from_datetime(ts)


def _days(d: Any) -> int:
    return d if isinstance(d, int) else days_from_date(d)


# --- the registry ----------------------------------------------------------------------------------

def _now(now_micros: int) -> uuidlib.UUID:
    return timeuuid_at(now_micros)


def _current_timestamp(now_micros: int) -> Any:
    return datetime_from_millis(now_micros // 1000)


def _current_date(now_micros: int) -> Any:
    return date_from_days(now_micros // 86_400_000_000)


def _current_time(now_micros: int) -> Any:
    return time_from_nanos((now_micros % 86_400_000_000) * 1000)


def _register_time_functions() -> None:
    register("now", (), T.TIMEUUID, _now, deterministic=False,
             aliases=("currenttimeuuid", "current_timeuuid"))
    register("uuid", (), T.UUID, lambda _now: uuidlib.uuid4(), deterministic=False)
    register("currenttimestamp", (), T.TIMESTAMP, _current_timestamp, deterministic=False,
             aliases=("current_timestamp",))
    register("currentdate", (), T.DATE, _current_date, deterministic=False, aliases=("current_date",))
    register("currenttime", (), T.TIME, _current_time, deterministic=False, aliases=("current_time",))

    def ts_of_uuid(u):
        return datetime_from_millis(timeuuid_millis(u))

    register("totimestamp", (T.TIMEUUID,), T.TIMESTAMP, ts_of_uuid, aliases=("to_timestamp",))
    register("totimestamp", (T.DATE,), T.TIMESTAMP,
             lambda d: datetime_from_millis(_days(d) * 86_400_000), aliases=("to_timestamp",))
    register("todate", (T.TIMEUUID,), T.DATE,
             lambda u: date_from_days(timeuuid_millis(u) // 86_400_000), aliases=("to_date",))
    register("todate", (T.TIMESTAMP,), T.DATE,
             lambda ts: date_from_days(_ms(ts) // 86_400_000), aliases=("to_date",))
    register("tounixtimestamp", (T.TIMEUUID,), T.BIGINT, timeuuid_millis,
             aliases=("to_unix_timestamp",))
    register("tounixtimestamp", (T.TIMESTAMP,), T.BIGINT, _ms, aliases=("to_unix_timestamp",))
    register("tounixtimestamp", (T.DATE,), T.BIGINT, lambda d: _days(d) * 86_400_000,
             aliases=("to_unix_timestamp",))
    register("dateof", (T.TIMEUUID,), T.TIMESTAMP, ts_of_uuid)
    register("unixtimestampof", (T.TIMEUUID,), T.BIGINT, timeuuid_millis)
    register("mintimeuuid", (T.TIMESTAMP,), T.TIMEUUID, _min_timeuuid, aliases=("min_timeuuid",))
    register("maxtimeuuid", (T.TIMESTAMP,), T.TIMEUUID, _max_timeuuid, aliases=("max_timeuuid",))


def _register_blob_conversions() -> None:
    for name, t in T.NATIVE_TYPES.items():
        if name in ("blob", "counter") or not isinstance(t, NativeType):
            continue

        def to_blob(v, t=t):
            return codec.serialize(t, v)

        def from_blob(b, t=t, name=name):
            try:
                return codec.deserialize(t, b)
            except InvalidRequest as e:
                raise InvalidRequest(f"In call to function system.blobas{name}, value 0x{bytes(b).hex()} "
                                     f"is not a valid binary representation for type {name}: {e}") from None

        register(f"{name}asblob", (t,), T.BLOB, to_blob, aliases=(f"{name}_as_blob",))
        register(f"blobas{name}", (T.BLOB,), t, from_blob, aliases=(f"blob_as_{name}",))


_register_time_functions()
_register_blob_conversions()


def current_micros() -> int:
    """The server clock in microseconds since the epoch."""
    return time.time_ns() // 1000


# --- the partitioner's token (READ engineer) --------------------------------------------------------
# The planner may not import the engine, whose murmur3 module computes tokens; the session installs
# it here when it is imported (cqlpy.session.read_executor), so ``token(...)`` works in terms.

_token_function: Callable[[bytes], int] | None = None


def set_token_function(fn: Callable[[bytes], int]) -> None:
    """Install the partitioner's token function (serialized partition key -> signed 64-bit token)."""
    global _token_function
    _token_function = fn


def partition_token(key: bytes) -> int:
    """The token of a serialized partition key (Murmur3Partitioner)."""
    if _token_function is None:
        raise InvalidRequest("No partitioner installed: import cqlpy.session to compute tokens")
    return _token_function(key)
