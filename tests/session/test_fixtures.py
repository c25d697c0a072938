"""Runs every tests/fixtures/db/*.cql script in a fresh database and compares each answer.

Format (full description with examples in tests/fixtures/db/README.md):

* statements end with ``;`` (cut as ``cqlpy.split_statements`` cuts them);
* the ``--`` lines after a statement are its expectation: ``-- ok``, ``-- error: Class[: text]``,
  ``-- rows:`` / ``-- rows unordered:`` followed by ``-- (python, literal)`` lines or a cqlsh-style
  table (``-- | k | v |`` header, then rows), ``-- rows: (1, 'a')`` inline, ``-- empty``,
  ``-- count: N``, ``-- columns: a, b``, ``-- pages: N``;
* directives acting where they stand: ``-- restart``, ``-- flush``, ``-- compact``, ``-- advance: S``;
* options for the statement below: ``-- fetch_size: N``, ``-- params: <python literal>``,
  ``-- prepared``, ``-- timestamp: µs`` (params may name ``UNSET_VALUE``, the driver's unset value);
* whole-file: ``-- skip: why``, ``-- xfail: why``, ``-- options: {engine options}``.

A mismatch is reported as ``file.cql:LINE: statement`` with expected and got; all mismatches of a
file are listed together.
"""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import cqlpy
from cqlpy import errors
from cqlpy.language.statements import split_script
from cqlpy.schema.values import Duration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "db"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"      # example scripts carry expectations too

EXPECTATIONS = {"ok", "error", "rows", "rows unordered", "empty", "count", "columns", "pages"}
ACTIONS = {"restart", "flush", "compact", "advance"}
OPTIONS = {"fetch_size", "params", "prepared", "timestamp"}
FILE_DIRECTIVES = {"skip", "xfail", "options"}
KNOWN = EXPECTATIONS | ACTIONS | OPTIONS | FILE_DIRECTIVES

_DIRECTIVE = re.compile(r"^(rows unordered|[a-z_]+)\s*(:\s*(.*))?$")


# --- parsing a fixture file ----------------------------------------------------------------------

@dataclass
class Step:
    """One statement with its options and expectation, or one action."""

    line: int
    kind: str                                   # "statement" or an action name
    text: str = ""
    arg: str = ""
    options: dict[str, str] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)
    row_lines: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Fixture:
    path: Path
    steps: list[Step]
    file_options: dict[str, str]


class FixtureFormatError(Exception):
    pass


def parse_fixture(path: Path) -> Fixture:
    text = path.read_text()
    statements = split_script(text)
    steps: list[Step] = []
    file_options: dict[str, str] = {}
    pending: dict[str, str] = {}
    name = path.name

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    def comments(start: int, end: int):
        """(line number, directive text) of every '--' comment line in text[start:end]."""
        first = line_of(start)
        for i, raw in enumerate(text[start:end].split("\n")):
            stripped = raw.strip()
            if stripped.startswith("--"):
                yield first + i, stripped[2:].strip()

    def absorb(start: int, end: int, current: Step | None) -> None:
        in_rows = False
        for lineno, body in comments(start, end):
            if body.startswith("|") or body.startswith("+") or body.startswith("("):
                if current is None or not in_rows:
                    raise FixtureFormatError(f"{name}:{lineno}: a row line outside a '-- rows:' block")
                current.row_lines.append((lineno, body))
                continue
            match = _DIRECTIVE.match(body)
            if match is None:
                in_rows = False
                continue                                    # prose
            word, arg = match.group(1), (match.group(3) or "").strip()
            if word not in KNOWN:
                if match.group(2):
                    raise FixtureFormatError(f"{name}:{lineno}: unknown directive '-- {word}:'")
                in_rows = False
                continue                                    # a prose line such as '-- note'
            in_rows = False
            if word in FILE_DIRECTIVES:
                if steps or current is not None:
                    raise FixtureFormatError(f"{name}:{lineno}: '-- {word}' belongs before the first statement")
                file_options[word] = arg
            elif word in ACTIONS:
                steps.append(Step(lineno, word, arg=arg))
                current = None                              # later expectations would be ambiguous
            elif word in OPTIONS:
                pending[word] = arg
            else:
                if current is None:
                    raise FixtureFormatError(f"{name}:{lineno}: '-- {word}' does not follow a statement")
                if word in ("rows", "rows unordered"):
                    current.expect["rows"] = ""
                    if word == "rows unordered":
                        current.expect["unordered"] = "1"
                    if arg:
                        current.row_lines.append((lineno, arg))
                    else:
                        in_rows = True
                else:
                    current.expect[word] = arg

    position = 0
    current: Step | None = None
    for st in statements:
        absorb(position, st.start, current)
        current = Step(st.line, "statement", text=st.text, options=dict(pending))
        pending.clear()
        steps.append(current)
        position = st.end + 1 if st.terminated else st.end
        if not st.terminated:
            raise FixtureFormatError(f"{name}:{st.line}: statement without its ';'")
    absorb(position, len(text), current)
    if pending:
        raise FixtureFormatError(f"{name}: options {sorted(pending)} at the end of the file apply to nothing")
    return Fixture(path, steps, file_options)


# --- values --------------------------------------------------------------------------------------

def _ip(text: str):
    return ipaddress.ip_address(text)


class _Any:
    """``ANY`` in a row tuple: matches any value (a writetime, a generated uuid...)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


EVAL_NAMES: dict[str, Any] = {
    "UUID": uuid.UUID, "Decimal": decimal.Decimal, "datetime": datetime.datetime, "date": datetime.date,
    "time": datetime.time, "timedelta": datetime.timedelta, "Duration": Duration, "ip": _ip,
    "ANY": ANY, "inf": math.inf, "nan": math.nan, "None": None, "True": True, "False": False,
    "set": set, "frozenset": frozenset, "tuple": tuple, "list": list, "dict": dict,
    "UNSET_VALUE": cqlpy.UNSET_VALUE,
}


def evaluate(text: str, where: str) -> Any:
    try:
        return eval(text, {"__builtins__": {}}, dict(EVAL_NAMES))   # noqa: S307 - test fixture text
    except Exception as exc:                                          # noqa: BLE001
        raise FixtureFormatError(f"{where}: cannot read {text!r} as a Python value: {exc}") from None


def same_value(a: Any, b: Any) -> bool:
    """== with nan equal to nan, ANY equal to anything, containers compared element by element."""
    if a is ANY or b is ANY:
        return True
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a) if a.keys() == b.keys() else False
    try:
        return bool(a == b)
    except Exception:                                                 # noqa: BLE001
        return False


def _display_generic(v: Any, nested: bool = False) -> str:
    """cqlsh's display of a Python value when the column type is not known."""
    from cqlpy.schema.formatting import cqlsh_float_str, duration_text, time_text
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'" if nested else v
    if isinstance(v, float):
        return cqlsh_float_str(v, 5)
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f") + "+0000"
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.time):
        return time_text(v)
    if isinstance(v, Duration):
        return duration_text(v)
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return "{" + ", ".join(f"{f}: {_display_generic(x, True)}" for f, x in zip(v._fields, v)) + "}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_display_generic(x, True) for x in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_display_generic(x, True) for x in v) + "]"
    if isinstance(v, (set, frozenset)):
        return "{" + ", ".join(_display_generic(x, True) for x in sorted(v)) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_display_generic(k, True)}: {_display_generic(x, True)}"
                               for k, x in v.items()) + "}"
    return str(v)


def display_cells(rs, row) -> list[set[str]]:
    """For each cell, the texts that count as a match (typed display and generic display)."""
    from cqlpy.schema.formatting import display
    types = _column_types(rs)
    out = []
    for i, v in enumerate(row):
        texts = {_display_generic(v)}
        if types and i < len(types) and types[i] is not None:
            try:
                texts.add(display(types[i], v))
            except Exception:                                         # noqa: BLE001
                pass
        out.append(texts)
    return out


def _column_types(rs) -> list | None:
    types = getattr(rs, "column_types", None)
    if types:
        return list(types)
    meta = getattr(rs, "column_metadata", None) or getattr(rs, "columns", None)
    if meta:
        try:
            return [getattr(c, "type", None) for c in meta]
        except TypeError:
            return None
    return None


def split_table_line(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


# --- running -------------------------------------------------------------------------------------

class FakeClock:
    """The database clock of a fixture: starts at the real time (a whole second), advances 1 µs per
    reading (time passes, as on a real node), and jumps by '-- advance: seconds' (back when
    negative: the database's server timestamps must still grow)."""

    def __init__(self) -> None:
        import time
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now


@dataclass
class Outcome:
    rows: list | None = None
    rs: Any = None
    pages: int = 0
    error: BaseException | None = None


def short_rows(rows: list, limit: int = 8) -> str:
    if not rows:
        return "0 rows"
    shown = ", ".join(repr(tuple(r)) for r in rows[:limit])
    more = f", ... ({len(rows) - limit} more)" if len(rows) > limit else ""
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''}: {shown}{more}"


class Runner:
    def __init__(self, fixture: Fixture, directory: Path) -> None:
        self.fixture = fixture
        self.directory = str(directory)
        self.clock = FakeClock()
        self.engine_options = evaluate(fixture.file_options["options"], fixture.path.name) \
            if "options" in fixture.file_options else {}
        self.session = None
        self.failures: list[str] = []

    def connect(self, keyspace: str | None = None):
        self.session = cqlpy.connect(self.directory, keyspace=keyspace, clock=self.clock,
                                     **self.engine_options)

    def run(self) -> list[str]:
        self.connect()
        try:
            for step in self.fixture.steps:
                where = f"{self.fixture.path.name}:{step.line}"
                if step.kind == "statement":
                    self.check(where, step, self.execute(step, where))
                else:
                    self.act(step, where)
        finally:
            if self.session is not None:
                self.session.close()
        return self.failures

    def act(self, step: Step, where: str) -> None:
        if step.kind == "restart":
            keyspace = getattr(self.session, "keyspace", None)
            self.session.close()
            self.session = None
            try:
                self.connect(keyspace)
            except errors.InvalidRequest:           # the keyspace was dropped: reconnect without it
                self.connect()
        elif step.kind == "flush":
            self.session.flush()
        elif step.kind == "compact":
            self.session.compact()
        elif step.kind == "advance":
            self.clock.now += float(step.arg)

    def execute(self, step: Step, where: str) -> Outcome:
        params = evaluate(step.options["params"], where) if "params" in step.options else None
        kwargs: dict[str, Any] = {}
        if "timestamp" in step.options:
            kwargs["timestamp"] = int(step.options["timestamp"])
        fetch_size = int(step.options["fetch_size"]) if "fetch_size" in step.options else None
        try:
            query = self.session.prepare(step.text) if "prepared" in step.options else step.text
            if fetch_size is None:
                rs = self.session.execute(query, params, **kwargs)
                return Outcome(rows=[r for r in rs], rs=rs, pages=1)
            rs = self.session.execute(query, params, fetch_size=fetch_size, **kwargs)
            first, rows, pages = rs, [r for r in rs.current_rows], 1
            while rs.paging_state is not None:
                rs = self.session.execute(query, params, fetch_size=fetch_size,
                                          paging_state=rs.paging_state, **kwargs)
                rows.extend(rs.current_rows)
                pages += 1
                if pages > 100_000:
                    raise AssertionError("paging does not end")
            return Outcome(rows=rows, rs=first, pages=pages)
        except errors.CQLError as exc:
            return Outcome(error=exc)
        except FixtureFormatError:
            raise
        except Exception as exc:                                      # noqa: BLE001 - report, go on
            return Outcome(error=exc)

    def fail(self, where: str, step: Step, expected: str, got: str) -> None:
        statement = " ".join(step.text.split())
        if len(statement) > 200:
            statement = statement[:200] + " ..."
        self.failures.append(f"{where}: {statement}\n  expected: {expected}\n  got:      {got}")

    def check(self, where: str, step: Step, outcome: Outcome) -> None:
        expect = step.expect
        if "error" in expect:
            cls_name, _, text = expect["error"].partition(":")
            cls_name, text = cls_name.strip(), text.strip()
            wanted = f"error {cls_name}" + (f" containing {text!r}" if text else "")
            if outcome.error is None:
                self.fail(where, step, wanted, "no error, " + short_rows(outcome.rows or []))
            elif cls_name not in [c.__name__ for c in type(outcome.error).__mro__] or \
                    (text and text.lower() not in str(outcome.error).lower()):
                self.fail(where, step, wanted, f"{type(outcome.error).__name__}: {outcome.error}")
            return
        if outcome.error is not None:
            expected = "success" if not expect or set(expect) == {"ok"} else "rows"
            self.fail(where, step, expected, f"{type(outcome.error).__name__}: {outcome.error}")
            return
        rows = outcome.rows or []
        if "empty" in expect and rows:
            self.fail(where, step, "no rows", short_rows(rows))
        if "count" in expect and len(rows) != int(expect["count"]):
            self.fail(where, step, f"{expect['count']} rows", short_rows(rows))
        if "pages" in expect and outcome.pages != int(expect["pages"]):
            self.fail(where, step, f"{expect['pages']} pages", f"{outcome.pages} pages")
        names = list(getattr(outcome.rs, "column_names", None) or [])
        if "columns" in expect:
            wanted = [c.strip() for c in expect["columns"].split(",") if c.strip()]
            if names != wanted:
                self.fail(where, step, f"columns {wanted}", f"columns {names}")
        if "rows" in expect:
            self.check_rows(where, step, outcome, rows, names)

    def check_rows(self, where: str, step: Step, outcome: Outcome, rows: list, names: list) -> None:
        unordered = "unordered" in step.expect
        lines = step.row_lines
        table = bool(lines) and lines[0][1].startswith(("|", "+"))
        if table:
            body = [(n, l) for n, l in lines if not re.fullmatch(r"[|+\-=: ]+", l)]
            if not body:
                raise FixtureFormatError(f"{where}: a table without a header")
            header = split_table_line(body[0][1])
            if header != names:
                self.fail(where, step, f"columns {header}", f"columns {names}")
            expected = [split_table_line(l) for _, l in body[1:]]
            got = [display_cells(outcome.rs, r) for r in rows]
            match = _match_table(expected, got, unordered)
            if not match:
                shown = "\n            ".join(" | ".join(sorted(c)[0] for c in r) for r in got[:12]) or "(none)"
                wanted = "\n            ".join(" | ".join(r) for r in expected) or "(none)"
                self.fail(where, step, f"{len(expected)} rows{' (any order)' if unordered else ''}:\n"
                          f"            {wanted}", f"{len(got)} rows:\n            {shown}")
            return
        expected = [evaluate(l, f"{self.fixture.path.name}:{n}") for n, l in lines]
        for n, (lineno, l) in enumerate(lines):
            if not isinstance(expected[n], tuple):
                raise FixtureFormatError(f"{self.fixture.path.name}:{lineno}: a row must be a tuple, "
                                         f"write ({l},) for one column")
        got = [tuple(r) for r in rows]
        if not _match_tuples(expected, got, unordered):
            self.fail(where, step, f"{short_rows(expected, 20)}{' (any order)' if unordered else ''}",
                      short_rows(got, 20))


def _match_tuples(expected: list, got: list, unordered: bool) -> bool:
    if len(expected) != len(got):
        return False
    if not unordered:
        return all(same_value(e, g) for e, g in zip(expected, got))
    remaining = list(got)
    for e in expected:
        for i, g in enumerate(remaining):
            if same_value(e, g):
                del remaining[i]
                break
        else:
            return False
    return True


def _row_matches(cells: list[str], texts: list[set[str]]) -> bool:
    return len(cells) == len(texts) and all(c == "..." or c in t for c, t in zip(cells, texts))


def _match_table(expected: list, got: list, unordered: bool) -> bool:
    if len(expected) != len(got):
        return False
    if not unordered:
        return all(_row_matches(e, g) for e, g in zip(expected, got))
    remaining = list(got)
    for e in expected:
        for i, g in enumerate(remaining):
            if _row_matches(e, g):
                del remaining[i]
                break
        else:
            return False
    return True


# --- pytest --------------------------------------------------------------------------------------

def fixture_files() -> list[Path]:
    extra = os.environ.get("CQLPY_FIXTURE")
    if extra:
        return [Path(extra).resolve()]
    return sorted(FIXTURES.glob("*.cql")) + sorted(EXAMPLES.glob("*.cql"))


@pytest.mark.parametrize("path", fixture_files(),
                         ids=lambda p: p.stem if p.parent == FIXTURES else f"{p.parent.name}-{p.stem}")
def test_fixture(path: Path, tmp_path: Path) -> None:
    fixture = parse_fixture(path)
    if "skip" in fixture.file_options:
        pytest.skip(fixture.file_options["skip"] or "skipped by the file")
    if "xfail" in fixture.file_options:
        pytest.xfail(fixture.file_options["xfail"]) if _fails(fixture, tmp_path) else \
            pytest.fail(f"{path.name} passes: remove its '-- xfail' line")
        return
    failures = Runner(fixture, tmp_path / "data").run()
    if failures:
        shown = failures[:15]
        more = f"\n... and {len(failures) - 15} more" if len(failures) > 15 else ""
        pytest.fail(f"{len(failures)} mismatch(es) in {path.name}:\n\n" + "\n\n".join(shown) + more,
                    pytrace=False)


def _fails(fixture: Fixture, tmp_path: Path) -> bool:
    try:
        return bool(Runner(fixture, tmp_path / "data").run())
    except Exception:                                                 # noqa: BLE001
        return True


def test_parse_fixture_format(tmp_path: Path) -> None:
    """The runner's own reading of the format (independent of the database)."""
    f = tmp_path / "x.cql"
    f.write_text("-- options: {'memtable_flush_bytes': 1024}\n"
                 "CREATE TABLE t (k int PRIMARY KEY);\n-- ok\n"
                 "// prose\nSELECT * FROM t;\n-- rows:\n-- | k |\n-- |---|\n-- | 1 |\n"
                 "-- restart\n-- fetch_size: 2\nSELECT k\n  FROM t;\n-- rows unordered:\n-- (1,)\n-- pages: 1\n"
                 "SELECT x FROM t;\n-- error: InvalidRequest: Undefined column\n")
    fx = parse_fixture(f)
    kinds = [(s.kind, s.line) for s in fx.steps]
    assert kinds == [("statement", 2), ("statement", 5), ("restart", 10), ("statement", 12), ("statement", 17)]
    assert fx.file_options == {"options": "{'memtable_flush_bytes': 1024}"}
    assert fx.steps[1].expect == {"rows": ""} and len(fx.steps[1].row_lines) == 3
    assert fx.steps[3].options == {"fetch_size": "2"}
    assert fx.steps[3].expect == {"rows": "", "unordered": "1", "pages": "1"}
    assert fx.steps[4].expect == {"error": "InvalidRequest: Undefined column"}
    bad = tmp_path / "bad.cql"
    bad.write_text("SELECT 1 FROM t;\n-- erorr: InvalidRequest\n")
    with pytest.raises(FixtureFormatError, match="bad.cql:2"):
        parse_fixture(bad)
    assert split_table_line("| a | b\\|c |  |") == ["a", "b|c", ""]
    assert _display_generic(["a", None]) == "['a', null]"
