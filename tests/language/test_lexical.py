"""Lexical details: literals at their boundaries, comments, whitespace, and tokens that look alike
(UUIDs, durations, identifiers, numbers, ranges)."""
import pytest

import cqlpy
from cqlpy import errors
from cqlpy.language import ast as a


def value(literal):
    return cqlpy.parse_one(f"SELECT * FROM t WHERE k = {literal}").where[0].value


@pytest.mark.parametrize("literal, expected", [
    ("'a''b''''c'", a.Constant("string", "a'b''c")),
    ("'-- not a comment'", a.Constant("string", "-- not a comment")),
    ("'/* nor this */'", a.Constant("string", "/* nor this */")),
    ("'; not the end'", a.Constant("string", "; not the end")),
    ("'ünïcödé ✓'", a.Constant("string", "ünïcödé ✓")),
    ("'line\nbreak'", a.Constant("string", "line\nbreak")),
    ("$$it's $ fine$$", a.Constant("string", "it's $ fine")),
    ("$$''$$", a.Constant("string", "''")),
    ("1", a.Constant("integer", "1")),
    ("007", a.Constant("integer", "007")),
    ("-0", a.Constant("integer", "-0")),
    ("123456789012345678901234567890", a.Constant("integer", "123456789012345678901234567890")),
    ("1.5e+3", a.Constant("float", "1.5e+3")),
    ("0x00ff", a.Constant("hex", "0x00ff")),
    ("0XAB", a.Constant("hex", "0XAB")),
    ("deadbeef-dead-beef-dead-beefdeadbeef", a.Constant("uuid", "deadbeef-dead-beef-dead-beefdeadbeef")),
    ("1d", a.Constant("duration", "1d")),
    ("1D2H", a.Constant("duration", "1D2H")),
    ("10ms", a.Constant("duration", "10ms")),
    ("-P1D", a.Constant("duration", "-P1D")),
])
def test_literal_boundaries(literal, expected):
    assert value(literal) == expected


@pytest.mark.parametrize("name", ["p1d", "P1", "PT", "deadbeef", "d1", "e5", "nanx", "infinityx",
                                  "truex", "nullable", "selected", "fromage", "_x"[1:]])
def test_words_that_look_like_literals_or_keywords_are_identifiers(name):
    assert cqlpy.parse_one(f"SELECT {name} FROM t").selectors[0].expression == a.ColumnRef(name.lower())


def test_a_capital_iso_duration_is_a_duration_not_a_name():
    assert cqlpy.parse_one("SELECT P1D FROM t").selectors[0].expression == a.Constant("duration", "P1D")


def test_ranges_do_not_read_as_floats():
    selection = cqlpy.parse_one("SELECT s[1..3], s[1 .. 3], s[1.5..2.5] FROM t").selectors
    assert selection[0].expression == selection[1].expression == a.SliceSelection(
        a.ColumnRef("s"), a.Constant("integer", "1"), a.Constant("integer", "3"))
    assert selection[2].expression.start == a.Constant("float", "1.5")


def test_minus_sign_glues_to_numbers_as_in_cassandra():
    assert cqlpy.parse_one("UPDATE c SET n = n -1 WHERE k = 1").assignments[0] == \
        a.AddTo("n", a.Constant("integer", "-1"))
    assert cqlpy.parse_one("UPDATE c SET n = n - 1 WHERE k = 1").assignments[0] == \
        a.RemoveFrom("n", a.Constant("integer", "1"))


@pytest.mark.parametrize("text", [
    "SELECT * FROM t -- comment",
    "SELECT * FROM t // comment",
    "SELECT * /* inline */ FROM t",
    "/* multi\nline\ncomment */ SELECT * FROM t",
    "-- leading\nSELECT * FROM t",
    "SELECT\t*\r\nFROM\n\n t\f",
    "SELECT * FROM t /* a */ /* b */ -- c",
])
def test_comments_and_whitespace(text):
    assert cqlpy.parse_one(text) == a.Select(a.QualifiedName(None, "t"))


def test_comments_do_not_nest():
    with pytest.raises(errors.SyntaxException):
        cqlpy.parse_one("SELECT * /* a /* b */ c */ FROM t")


def test_quoted_identifiers():
    statement = cqlpy.parse_one('SELECT "a b", "with ""quotes""", "ünï", "123" FROM t')
    assert [s.expression.name for s in statement.selectors] == ["a b", 'with "quotes"', "ünï", "123"]
    assert statement.to_cql() == 'SELECT "a b", "with ""quotes""", "ünï", "123" FROM t'


def test_bind_marker_forms():
    where = cqlpy.parse_one('SELECT * FROM t WHERE a = ? AND b = :b AND c = : c AND d = :"D"').where
    assert [r.value for r in where] == [a.BindMarker(0), a.BindMarker(1, "b"), a.BindMarker(2, "c"),
                                        a.BindMarker(3, "D")]
