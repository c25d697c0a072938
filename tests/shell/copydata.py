"""Deterministic rows of every CQL type, for COPY round-trip tests and the shell benchmark."""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import random
import uuid

from cqlpy.schema.values import Duration

TYPE_DDL = "CREATE TYPE IF NOT EXISTS point (x int, y text)"
COLUMNS = [
    ("k", "int"), ("a", "ascii"), ("b", "bigint"), ("bl", "blob"), ("bo", "boolean"), ("d", "date"),
    ("de", "decimal"), ("db", "double"), ("du", "duration"), ("f", "float"), ("i", "inet"),
    ("s", "smallint"), ("t", "text"), ("ti", "time"), ("ts", "timestamp"), ("tu", "timeuuid"),
    ("tiny", "tinyint"), ("u", "uuid"), ("vi", "varint"), ("l", "list<int>"), ("m", "map<text, int>"),
    ("st", "set<text>"), ("tp", "tuple<int, text, double>"), ("p", "frozen<point>"),
    ("fl", "frozen<list<frozen<set<int>>>>"),
]
_TEXTS = ["", "plain", "comma, here", 'quote " here', "new\nline", "back\\slash", "tëxt ünïcode ✓",
          "'single'", "  padded  ", "NULL", "tab\there", "semi;colon", "\\N", '""']


def create_table(name: str) -> str:
    body = ", ".join(f"{c} {t}" for c, t in COLUMNS)
    return f"CREATE TABLE {name} ({body}, PRIMARY KEY (k))"


def _timeuuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(fields=(rng.getrandbits(32), rng.getrandbits(16), 0x1000 | rng.getrandbits(12),
                             0x80 | rng.getrandbits(6), rng.getrandbits(8), rng.getrandbits(48)))


def row(i: int, rng: random.Random) -> tuple:
    """Row ``i``: every column set (a few rows leave some null)."""
    text = _TEXTS[i % len(_TEXTS)] + (str(i) if i % 3 else "")
    values = (
        i,
        f"ascii {i}",
        rng.randint(-2**63, 2**63 - 1),
        rng.randbytes(rng.randint(0, 12)),
        bool(i % 2),
        datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(-300000, 300000)),
        decimal.Decimal(rng.randint(-10**12, 10**12)).scaleb(-rng.randint(0, 8)),
        rng.choice([rng.uniform(-1e6, 1e6), rng.random() * 1e-300, float(i) / 3, 1e308, -0.0]),
        Duration(rng.randint(0, 30), rng.randint(0, 30), rng.randint(0, 10**12)),
        rng.choice([0.1, 1.5, -2.25, 3.4028234663852886e38, 1e-45, float(i % 1000) / 7]),
        ipaddress.ip_address(rng.getrandbits(32)) if i % 2 else ipaddress.ip_address(rng.getrandbits(128)),
        rng.randint(-2**15, 2**15 - 1),
        text,
        datetime.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999)),
        datetime.datetime(2000, 1, 1) + datetime.timedelta(milliseconds=rng.randint(-10**12, 10**12)),
        _timeuuid(rng),
        rng.randint(-128, 127),
        uuid.UUID(int=rng.getrandbits(128), version=4),
        rng.randint(-10**30, 10**30),
        [rng.randint(-1000, 1000) for _ in range(rng.randint(0, 4))],
        {f"k{j}'x": rng.randint(0, 9) for j in range(rng.randint(0, 3))},
        {rng.choice(_TEXTS) + str(j) for j in range(rng.randint(0, 3))},
        (rng.randint(0, 100), rng.choice(_TEXTS), rng.uniform(-1, 1)),
        {"x": rng.randint(-5, 5), "y": rng.choice(_TEXTS)},
        [{rng.randint(0, 9) for _ in range(2)} for _ in range(rng.randint(0, 2))],
    )
    if i % 17 == 0:         # some nulls
        values = values[:1] + tuple(None if j % 2 else v for j, v in enumerate(values[1:]))
    return values


SPARSE_GROUPS = 3


def sparse_columns(i: int) -> list[int]:
    """The column indexes row ``i`` of a sparse table sets: the key and every third other column,
    rotating, so each type is in a third of the rows (the rest of the row is absent)."""
    return [0] + [j for j in range(1, len(COLUMNS)) if (j + i) % SPARSE_GROUPS == 0]


def insert_rows(session, table: str, count: int, seed: int = 5, *, sparse: bool = False) -> None:
    """Rows 0..count-1 (sparse: only sparse_columns(i) of row i are written)."""
    rng = random.Random(seed)
    groups = [list(range(len(COLUMNS)))] if not sparse else [sparse_columns(g) for g in range(SPARSE_GROUPS)]
    prepared = []
    for columns in groups:
        names = ", ".join(COLUMNS[j][0] for j in columns)
        marks = ", ".join("?" for _ in columns)
        prepared.append((session.prepare(f"INSERT INTO {table} ({names}) VALUES ({marks})"), columns))
    for i in range(count):
        statement, columns = prepared[i % len(prepared)]
        values = row(i, rng)
        session.execute(statement, [values[j] for j in columns])


def all_rows(session, query: str) -> list:
    rows = []
    result = session.execute(query, fetch_size=5000)
    rows.extend(result.current_rows)
    while result.has_more_pages:
        result = session.execute(query, fetch_size=5000, paging_state=result.paging_state)
        rows.extend(result.current_rows)
    return rows
