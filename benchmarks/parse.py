"""Parse throughput: cqlpy.parse_one on a mix of typical statements, against a minimal LALR grammar.

The baseline is a Lark LALR grammar defined below with just enough CQL for the same statements,
producing a plain Lark Tree (no AST, no positions, no error quality), measured in the same run.  The
ratio cqlpy / baseline is what matters; the goal is >= 0.5.

    python benchmarks/parse.py [--seconds 0.3] [--rounds 11]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from lark import Lark

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cqlpy  # noqa: E402

STATEMENTS = [
    "INSERT INTO shop.users (id, name, email, age) VALUES (123e4567-e89b-12d3-a456-426614174000, "
    "'Alice', 'alice@example.com', 42) USING TTL 86400",
    "SELECT id, name, email FROM shop.users WHERE id = ? AND age > 30 LIMIT 100",
    "UPDATE shop.users SET name = 'Bob', age = 43 WHERE id = 123e4567-e89b-12d3-a456-426614174000",
    "CREATE TABLE IF NOT EXISTS shop.events (device text, day date, ts timestamp, value double, "
    "tags set<text>, PRIMARY KEY ((device, day), ts)) WITH CLUSTERING ORDER BY (ts DESC) "
    "AND default_time_to_live = 3600",
    "DELETE FROM shop.events WHERE device = 'd1' AND day = '2024-01-01' AND ts < '2024-01-01 12:00:00'",
    "BEGIN BATCH INSERT INTO shop.users (id, name) VALUES (?, ?); "
    "UPDATE shop.users SET age = 44 WHERE id = ?; APPLY BATCH",
    "SELECT * FROM shop.events WHERE device = 'd2' AND day = '2024-02-02' LIMIT 10",
    "INSERT INTO shop.events (device, day, ts, value) VALUES ('d1', '2024-01-01', 1700000000000, 21.5)",
]

MINIMAL_GRAMMAR = r"""
start: statement ";"?
?statement: select | insert | update | delete | create_table | batch
select: "SELECT"i (STAR | NAME ("," NAME)*) "FROM"i table where? limit?
insert: "INSERT"i "INTO"i table "(" NAME ("," NAME)* ")" "VALUES"i "(" value ("," value)* ")" using?
update: "UPDATE"i table using? "SET"i NAME "=" value ("," NAME "=" value)* where
delete: "DELETE"i "FROM"i table where
batch: "BEGIN"i "BATCH"i ((insert | update | delete) ";"?)* "APPLY"i "BATCH"i
create_table: "CREATE"i "TABLE"i ("IF"i "NOT"i "EXISTS"i)? table "(" column ("," column)* "," key ")" options?
column: NAME type
type: NAME ("<" type ("," type)* ">")?
key: "PRIMARY"i "KEY"i "(" pk ("," NAME)* ")"
pk: NAME | "(" NAME ("," NAME)* ")"
options: "WITH"i option ("AND"i option)*
option: "CLUSTERING"i "ORDER"i "BY"i "(" NAME DIRECTION ")" | NAME "=" value
where: "WHERE"i relation ("AND"i relation)*
relation: NAME OP value
limit: "LIMIT"i INT
using: "USING"i "TTL"i INT
?value: STRING | INT | FLOAT | UUID | MARKER
DIRECTION: /asc|desc/i
OP: "=" | "<" | ">" | "<=" | ">="
STAR: "*"
MARKER: "?"
NAME: /[a-z][a-z0-9_]*/i
table: NAME ("." NAME)?
STRING: /'[^']*(?:''[^']*)*'/
UUID.2: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i
FLOAT.1: /-?[0-9]+\.[0-9]+/
INT: /-?[0-9]+/
%ignore /\s+/
"""


def measure(parse, statements, seconds: float) -> float:
    """Statements per second of CPU time over about ``seconds`` of repeated passes (CPU time of this
    process, so other processes on the machine disturb the figure less than wall time would)."""
    done, started = 0, time.process_time()
    deadline = started + seconds
    while True:
        for statement in statements:
            parse(statement)
        done += len(statements)
        now = time.process_time()
        if now >= deadline:
            return done / (now - started)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=0.3, help="CPU time per measurement")
    options.add_argument("--rounds", type=int, default=11, help="paired measurement rounds")
    args = options.parse_args()

    started = time.perf_counter()
    cqlpy.parse_one(STATEMENTS[0])
    build = time.perf_counter() - started
    minimal = Lark(MINIMAL_GRAMMAR, parser="lalr")
    for statement in STATEMENTS:                      # both must accept the whole mix
        minimal.parse(statement)
        cqlpy.parse_one(statement)

    rounds = []
    for _ in range(args.rounds):                      # paired rounds: the machine's load hits both
        rounds.append((measure(cqlpy.parse_one, STATEMENTS, args.seconds),
                       measure(minimal.parse, STATEMENTS, args.seconds)))
    ours = statistics.median(r[0] for r in rounds)
    baseline = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(r[0] / r[1] for r in rounds)
    print(f"statements in the mix:          {len(STATEMENTS)}")
    print(f"cqlpy parser ready in:          {build * 1000:.0f} ms (first call, grammar cache included)")
    print(f"cqlpy.parse_one:                {ours:,.0f} statements/s (median of {len(rounds)} rounds)")
    print(f"minimal LALR grammar (Tree):    {baseline:,.0f} statements/s")
    print(f"ratio cqlpy / minimal:          {ratio:.2f}x  (median of per-round ratios; goal >= 0.5x)")

if __name__ == "__main__":
    main()
