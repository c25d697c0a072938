"""Python representations of CQL values: Duration, UDT named tuples, and calendar arithmetic.

The Python value of each type is what cassandra-driver returns, with a few plain-Python choices
(the codec and ``coerce`` produce exactly these; see codec.py for the full table):

* ``duration``  -> :class:`Duration` (months, days, nanoseconds);
* a user type   -> a ``collections.namedtuple`` named after the type, fields in declaration order
                   (``udt_class``); field names that are not Python identifiers become ``_0``, ``_1``...;
* ``timestamp`` -> naive UTC ``datetime``, ``date`` -> ``datetime.date``, ``time`` -> ``datetime.time``,
  each with an ``int`` fallback (ms / days since the epoch / ns) where Python cannot represent the
  value.  The helpers below convert between these and the stored numbers, exactly (no floats).
"""
from __future__ import annotations

import datetime
import keyword
import math
import re
import struct
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache

from cqlpy.schema.types import UserType

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

NANOS_PER_MICRO = 1_000
NANOS_PER_MILLI = 1_000_000
NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MINUTE = 60 * NANOS_PER_SECOND
NANOS_PER_HOUR = 60 * NANOS_PER_MINUTE
NANOS_PER_DAY = 24 * NANOS_PER_HOUR
MILLIS_PER_DAY = 86_400_000

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)
DATE_EPOCH_OFFSET = 1 << 31     # a date is stored as uint32 days with 1970-01-01 at 2^31


@dataclass(frozen=True, slots=True)
class Duration:
    """A CQL duration: months, days and nanoseconds, kept apart because months and days vary in length.

    All three are >= 0, or all <= 0 (Cassandra's rule; ``coerce`` checks it).  Equality is
    field-wise: 1mo is not 30d.  Values with the same attributes from cassandra-driver
    (``cassandra.util.Duration``) are accepted wherever a Duration is.
    """

    months: int = 0
    days: int = 0
    nanoseconds: int = 0


# --- floats ------------------------------------------------------------------------------------------

FLOAT32_MAX = 3.4028234663852886e38
_FLOAT32_OVERFLOW = 2.0**128 - 2.0**103          # from here on, round-to-nearest gives infinity


def round_to_float32(x: float) -> float:
    """The float32 nearest to ``x`` (as Java's ``(float) x``): beyond the largest float, infinity."""
    if abs(x) >= _FLOAT32_OVERFLOW:
        return math.copysign(math.inf, x)
    if abs(x) > FLOAT32_MAX:
        return math.copysign(FLOAT32_MAX, x)
    return struct.unpack(">f", struct.pack(">f", x))[0]


# --- user types ----------------------------------------------------------------------------------

def udt_class(t: UserType) -> type:
    """The namedtuple class for values of ``t`` (one class per keyspace, name and field list)."""
    return _udt_class(t.keyspace, t.name, t.field_names)


@lru_cache(maxsize=1024)
def _udt_class(keyspace: str, name: str, field_names: tuple[str, ...]) -> type:
    cls = namedtuple(_python_name(name), field_names, rename=True)   # type: ignore[misc]
    cls.__module__ = __name__
    cls.__qualname__ = f"{cls.__name__}"
    cls._cql_keyspace = keyspace       # where it came from (underscored: cannot clash with a field)
    cls._cql_name = name
    return cls


def _python_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name)
    if not cleaned or cleaned[0].isdigit() or keyword.iskeyword(cleaned) or cleaned.startswith("_"):
        cleaned = "udt_" + cleaned
    return cleaned


# --- calendar arithmetic (proleptic Gregorian, any year) -------------------------------------------

def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date; works for years Python cannot hold."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """Inverse of days_from_civil: (year, month, day)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def is_valid_civil(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return day <= (29 if leap else 28)
    return day <= (30 if month in (4, 6, 9, 11) else 31)


_MIN_DATE_DAYS = (datetime.date.min - EPOCH_DATE).days
_MAX_DATE_DAYS = (datetime.date.max - EPOCH_DATE).days


def date_from_days(days: int) -> datetime.date | int:
    """A ``date`` for ``days`` since the epoch, or ``days`` itself outside years 1..9999."""
    if _MIN_DATE_DAYS <= days <= _MAX_DATE_DAYS:
        return EPOCH_DATE + datetime.timedelta(days=days)
    return days


def days_from_date(d: datetime.date) -> int:
    return (d - EPOCH_DATE).days if not isinstance(d, datetime.datetime) else (d.date() - EPOCH_DATE).days


_MIN_DATETIME_MS = (_MIN_DATE_DAYS) * MILLIS_PER_DAY
_MAX_DATETIME_MS = (_MAX_DATE_DAYS + 1) * MILLIS_PER_DAY - 1


def datetime_from_millis(ms: int) -> datetime.datetime | int:
    """A naive UTC ``datetime`` for ``ms`` since the epoch, or ``ms`` itself outside years 1..9999."""
    if _MIN_DATETIME_MS <= ms <= _MAX_DATETIME_MS:
        return EPOCH + datetime.timedelta(milliseconds=ms)
    return ms


def millis_from_datetime(dt: datetime.datetime) -> int:
    """Milliseconds since the epoch, rounding down (Cassandra keeps milliseconds); aware -> UTC."""
    if dt.tzinfo is not None and dt.utcoffset() is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    else:
        dt = dt.replace(tzinfo=None)
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def time_from_nanos(ns: int) -> datetime.time:
    """``datetime.time`` for ``ns`` since midnight; nanoseconds below a microsecond are dropped."""
    seconds, rest = divmod(ns, NANOS_PER_SECOND)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return datetime.time(hours, minutes, seconds, rest // NANOS_PER_MICRO)


def nanos_from_time(t: datetime.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * NANOS_PER_SECOND + t.microsecond * NANOS_PER_MICRO
