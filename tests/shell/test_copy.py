"""COPY: option parsing, the CSV dialect, exact round trips of every type, and ERRFILE."""
from __future__ import annotations

import contextlib
import gc
import io
import math
import random
import sys
from pathlib import Path

import pytest

import cqlpy

from cqlpy_shell.copy import CopyError, Dialect, encode_field, parse_copy, read_records
from cqlpy_shell.runner import Shell

sys.path.insert(0, str(Path(__file__).parent))
import copydata  # noqa: E402

needs_db = pytest.mark.skipif(not hasattr(cqlpy, "connect"), reason="cqlpy.connect() does not exist yet")


def test_parse_copy():
    c = parse_copy("ks.t (a, \"B\") FROM 'data.csv' WITH HEADER = true AND delimiter = '|' AND NULL = 'NULL';")
    assert (c.keyspace, c.table, c.columns, c.direction, c.target) == ("ks", "t", ["a", "B"], "from", "data.csv")
    assert c.options == {"HEADER": "true", "DELIMITER": "|", "NULL": "NULL"}
    c = parse_copy("t TO STDOUT")
    assert (c.keyspace, c.table, c.direction, c.target, c.options) == (None, "t", "to", "STDOUT", {})
    with pytest.raises(CopyError, match="Unrecognized COPY TO options: chunksize"):
        parse_copy("t TO 'x' WITH CHUNKSIZE = 5")
    with pytest.raises(CopyError):
        parse_copy("t INTO 'x'")


def test_csv_fields_round_trip():
    d = Dialect()
    fields = ["plain", "", None, "a,b", 'say "hi"', "two\nlines", "back\\slash", "\\", '"', "NULL", " sp "]
    line = ",".join(encode_field(f, d, is_text=True) for f in fields)
    records = list(read_records(line + "\n", d))
    assert len(records) == 1
    got = [None if (not quoted and text == d.null) else text for text, quoted in records[0][2]]
    assert got == fields


def test_read_records_lines_and_errors():
    text = 'a,b\n"x\ny",2\n\n"open,3\nlast,4\n'
    records = list(read_records(text, Dialect()))
    assert [r[0] for r in records][:2] == [1, 2]
    assert records[1][2] == [("x\ny", True), ("2", False)]
    assert any(fields is None for _, _, fields in records)


def test_other_dialects():
    d = Dialect(delimiter="|", quote="'", null="NULL")
    records = list(read_records("1|'a|b'|NULL\n", d))
    assert records[0][2] == [("1", False), ("a|b", True), ("NULL", False)]


@pytest.fixture
def shell(tmp_path):
    session = cqlpy.connect(str(tmp_path / "db"))
    session.execute("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("USE k")
    session.execute(copydata.TYPE_DDL)
    session.execute(copydata.create_table("src"))
    session.execute(copydata.create_table("dst"))
    out, err = io.StringIO(), io.StringIO()
    yield Shell(session, stdout=out, stderr=err)
    session.close()


def _normalized(rows):
    def norm(v):
        if isinstance(v, float):
            return "nan" if math.isnan(v) else (v, math.copysign(1.0, v))
        return v
    return {r[0]: tuple(norm(v) for v in r) for r in rows}


def round_trip(shell: Shell, tmp_path: Path, count: int) -> None:
    copydata.insert_rows(shell.session, "src", count)
    path = tmp_path / "src.csv"
    assert shell.run_text(f"COPY src TO '{path}' WITH HEADER = true;"), shell.stderr.getvalue()
    assert f"{count} rows exported to 1 files in" in shell.stdout.getvalue()
    assert shell.run_text(f"COPY dst FROM '{path}' WITH HEADER = true;"), shell.stderr.getvalue()
    assert f"{count} rows imported from 1 files in" in shell.stdout.getvalue()
    assert "(0 skipped)." in shell.stdout.getvalue()
    source = _normalized(copydata.all_rows(shell.session, "SELECT * FROM src"))
    copied = _normalized(copydata.all_rows(shell.session, "SELECT * FROM dst"))
    assert len(source) == count
    assert copied == source


@needs_db
def test_round_trip_every_type(shell, tmp_path):
    round_trip(shell, tmp_path, 1500)


@contextlib.contextmanager
def _no_cycle_collection():
    """Bulk setup without the cycle collector's passes over a growing memtable (COPY FROM does the same)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@needs_db
@pytest.mark.slow
def test_round_trip_100k_rows(shell, tmp_path):
    """100,000 rows through COPY TO then COPY FROM, compared exactly: the CSV that COPY TO writes
    from the copy equals the one it wrote from the source, byte for byte (the CSV form of every type
    is exact and rows come out in token order), and a sample of rows is compared as values.  For
    time's sake the table is sparse: each row sets its key and every third other column, rotating,
    so every type is in ~33,000 rows (test_round_trip_every_type covers full rows).  A bad line
    appended to the file lands in ERRFILE and the other 100,000 rows go in."""
    session = shell.session
    count = 100_000
    with _no_cycle_collection():
        copydata.insert_rows(session, "src", count, sparse=True)
    source, copied = tmp_path / "src.csv", tmp_path / "dst.csv"
    assert shell.run_text(f"COPY src TO '{source}' WITH HEADER = true;"), shell.stderr.getvalue()
    assert f"{count} rows exported to 1 files in" in shell.stdout.getvalue()
    exported = source.read_text(encoding="utf-8")
    bad_line = exported.count("\n") + 1
    with open(source, "a", encoding="utf-8") as f:
        f.write("7,x,9.5" + ",," * 11 + "\n")                  # a double where the bigint goes
    errfile = tmp_path / "bad.err"
    assert not shell.run_text(f"COPY dst FROM '{source}' WITH HEADER = true AND ERRFILE = '{errfile}';")
    assert f"{count} rows imported from 1 files in" in shell.stdout.getvalue()
    assert errfile.read_text() == "7,x,9.5" + ",," * 11 + "\n"
    assert shell.stderr.getvalue().startswith(f"{source}:{bad_line}:Failed to import 1 rows: ParseError")
    assert shell.run_text(f"COPY dst TO '{copied}' WITH HEADER = true;"), shell.stderr.getvalue()
    assert copied.read_text(encoding="utf-8") == exported
    sample = ", ".join(str(k) for k in range(0, count, 997))
    assert _normalized(copydata.all_rows(session, f"SELECT * FROM dst WHERE k IN ({sample})")) == \
        _normalized(copydata.all_rows(session, f"SELECT * FROM src WHERE k IN ({sample})"))


@needs_db
def test_bad_lines_go_to_errfile_and_the_import_goes_on(shell, tmp_path):
    session = shell.session
    session.execute("CREATE TABLE small (k int PRIMARY KEY, v text, n double)")
    data = tmp_path / "in.csv"
    data.write_text('1,one,1.5\n2,two,not-a-number\n3,"three",3\n4,too,many,fields\n"5,x\n')
    errfile = tmp_path / "bad.err"
    assert not shell.run_text(f"COPY small (k, v, n) FROM '{data}' WITH ERRFILE = '{errfile}';")
    assert errfile.read_text() == '2,two,not-a-number\n4,too,many,fields\n"5,x\n'
    assert "2 rows imported from 1 files" in shell.stdout.getvalue()
    errors = shell.stderr.getvalue()
    assert errors.count("Failed to import 1 rows: ParseError") == 3
    assert f"{data}:2:Failed to import 1 rows: ParseError" in errors
    rows = sorted(tuple(r) for r in session.execute("SELECT k, v, n FROM small").current_rows)
    assert rows == [(1, "one", 1.5), (3, "three", 3.0)]


@needs_db
def test_a_row_the_database_refuses_fails_alone_not_its_batch(shell, tmp_path):
    session = shell.session
    session.execute("CREATE TABLE small (k text PRIMARY KEY, v int)")
    data = tmp_path / "in.csv"
    too_long = "x" * 70_000                    # a partition key over 64 KiB: the database refuses it
    data.write_text("".join(f"k{i},{i}\n" for i in range(5)) + f"{too_long},5\n,6\n" +
                    "".join(f"k{i},{i}\n" for i in range(7, 14)))
    errfile = tmp_path / "bad.err"
    assert not shell.run_text(f"COPY small FROM '{data}' WITH MAXBATCHSIZE = 4 AND ERRFILE = '{errfile}';")
    assert errfile.read_text() == f",6\n{too_long},5\n"         # the parse error is found first
    errors = shell.stderr.getvalue().splitlines()
    assert errors[0].startswith(f"{data}:7:Failed to import 1 rows: ParseError - Cannot insert null value for "
                                "primary key column 'k'. If you want to insert empty strings")
    assert errors[1].startswith(f"{data}:6:Failed to import 1 rows: InvalidRequest - Key length of 70000 is "
                                "longer than maximum of 65535")
    assert "12 rows imported from 1 files" in shell.stdout.getvalue()
    assert sorted(r.v for r in session.execute("SELECT v FROM small").current_rows) == [0, 1, 2, 3, 4] + \
        list(range(7, 14))


@needs_db
def test_values_out_of_their_types_range_are_parse_errors(shell, tmp_path):
    shell.session.execute("CREATE TABLE small (k int PRIMARY KEY, s smallint, f float, u timeuuid)")
    data = tmp_path / "in.csv"
    data.write_text("1,40000,,\n2,,,4e1c7a3c-6d2f-4b5e-9a39-5f7e1b0b2c11\n3,7,1.5,\n")
    errfile = tmp_path / "bad.err"
    assert not shell.run_text(f"COPY small (k, s, f, u) FROM '{data}' WITH ERRFILE = '{errfile}';")
    assert errfile.read_text() == "1,40000,,\n2,,,4e1c7a3c-6d2f-4b5e-9a39-5f7e1b0b2c11\n"
    assert shell.stderr.getvalue().count("ParseError") == 2
    assert [tuple(r) for r in shell.session.execute("SELECT k, s, f FROM small").current_rows] == [(3, 7, 1.5)]


@needs_db
def test_max_parse_errors_stops(shell, tmp_path):
    shell.session.execute("CREATE TABLE small (k int PRIMARY KEY)")
    data = tmp_path / "in.csv"
    data.write_text("x\ny\n1\n")
    shell.run_text(f"COPY small FROM '{data}' WITH MAXPARSEERRORS = 1 AND ERRFILE = '{tmp_path / 'e.err'}';")
    assert "Exceeded maximum number of parse errors 1" in shell.stderr.getvalue()


@needs_db
def test_copy_to_stdout_options_and_columns(shell, tmp_path):
    session = shell.session
    session.execute("CREATE TABLE small (k int PRIMARY KEY, v text, n double)")
    session.execute("INSERT INTO small (k, v, n) VALUES (1, 'a|b', 0.5)")
    session.execute("INSERT INTO small (k, v) VALUES (2, '')")
    shell.stdout.truncate(0)
    shell.stdout.seek(0)
    assert shell.run_text("COPY small (k, v) TO STDOUT WITH DELIMITER = '|' AND HEADER = true AND NULL = 'N';")
    lines = sorted(shell.stdout.getvalue().splitlines())
    assert lines == ['1|"a|b"', '2|""', "k|v"]


@needs_db
def test_skiprows_maxrows_and_header(shell, tmp_path):
    session = shell.session
    session.execute("CREATE TABLE small (k int PRIMARY KEY, v text)")
    data = tmp_path / "in.csv"
    data.write_text("v,k\n" + "".join(f"x{i},{i}\n" for i in range(10)))
    assert shell.run_text(f"COPY small FROM '{data}' WITH HEADER = true AND SKIPROWS = 2 AND MAXROWS = 3;")
    assert sorted(r.k for r in session.execute("SELECT k FROM small").current_rows) == [2, 3, 4]
    assert "3 rows imported from 1 files" in shell.stdout.getvalue() and "(2 skipped)" in shell.stdout.getvalue()


def test_random_text_round_trip_through_csv():
    rng = random.Random(3)
    alphabet = 'ab,"\n\r\\|\' \t€'
    d = Dialect()
    for _ in range(300):
        fields = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(4)]
        text = ",".join(encode_field(f, d, is_text=True) for f in fields) + "\n"
        (_, _, got), = list(read_records(text, d))
        assert [t for t, _ in got] == fields


@needs_db
def test_datetimeformat(shell, tmp_path):
    session = shell.session
    session.execute("CREATE TABLE ev (k int PRIMARY KEY, at timestamp)")
    session.execute("CREATE TABLE ev2 (k int PRIMARY KEY, at timestamp)")
    session.execute("INSERT INTO ev (k, at) VALUES (1, '2024-05-06 07:08:09+0000')")
    path = tmp_path / "ev.csv"
    fmt = "WITH DATETIMEFORMAT = '%d/%m/%Y %H:%M:%S'"
    assert shell.run_text(f"COPY ev TO '{path}' {fmt};")
    assert path.read_text() == "1,06/05/2024 07:08:09\n"
    assert shell.run_text(f"COPY ev2 FROM '{path}' {fmt};")
    assert session.execute("SELECT at FROM ev2").one()[0] == session.execute("SELECT at FROM ev").one()[0]
