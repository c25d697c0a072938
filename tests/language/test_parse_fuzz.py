"""Property tests: random and mutated input never raises anything but a CQLError, every statement
that parses prints back to CQL that parses to the same AST, and the splitter never fails."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cqlpy
from cqlpy import errors
from cqlpy.language.grammar import keyword_terminals
from cqlpy.language.statements import split_script
from cql_fixtures import identity_cases, normalize_cases

SETTINGS = settings(max_examples=400, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

CORPUS = [case.text for case in identity_cases()] + [case.text for case in normalize_cases()]
TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$\$.*?\$\$|[A-Za-z_][A-Za-z0-9_]*|-?\d[\w.]*"
                   r"|\.\.|[<>!+-]=|\S", re.S)
VOCABULARY = sorted(set(keyword_terminals().values())) + [
    "(", ")", "[", "]", "{", "}", ",", ";", ".", "..", ":", "?", "*", "+", "-", "=", "!=", "<", "<=", ">",
    ">=", "+=", "-=", "'s'", "''", "1", "-1", "1.5", "0x0f", "1h", "NaN", "x", '"Q"', "$$d$$", "--", "/*",
    "*/", "'", '"', "$$", "#", "\n", "\t", "µ", "P1D", "550e8400-e29b-41d4-a716-446655440000"]


def check(text):
    """Parse ``text``: only CQLErrors may come out, and whatever parses must round-trip."""
    try:
        statements = cqlpy.parse(text)
    except errors.CQLError as error:
        assert "internal parser error" not in str(error), str(error)
        return
    for statement in statements:
        printed = statement.to_cql()
        assert cqlpy.parse_one(printed) == statement, (text, printed)
        assert cqlpy.parse_one(printed).to_cql() == printed


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("selctfromwhinsupdaSELCTFROMWHINSUPDA ()[]{},;.:?*+-=<>!'\"$/"
                                              "0123456789_\n\txµé")), max_size=80))
def test_random_text(text):
    check(text)
    split_script(text)
    cqlpy.is_complete(text)


@SETTINGS
@given(st.text(max_size=60))
def test_any_unicode_text(text):
    check(text)
    cqlpy.is_complete(text)


@st.composite
def mutated(draw):
    tokens = TOKEN.findall(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(st.sampled_from(["delete", "insert", "replace", "swap", "duplicate"]))
        position = draw(st.integers(0, max(len(tokens) - 1, 0)))
        if operation == "delete" and tokens:
            del tokens[position]
        elif operation == "insert":
            tokens.insert(position, draw(st.sampled_from(VOCABULARY)))
        elif operation == "replace" and tokens:
            tokens[position] = draw(st.sampled_from(VOCABULARY))
        elif operation == "swap" and position + 1 < len(tokens):
            tokens[position], tokens[position + 1] = tokens[position + 1], tokens[position]
        elif operation == "duplicate" and tokens:
            tokens.insert(position, tokens[position])
    return " ".join(tokens)


@SETTINGS
@given(mutated())
def test_mutated_statements(text):
    check(text)


CANONICAL = [case.text for case in identity_cases()]


@SETTINGS
@given(st.lists(st.sampled_from(CANONICAL), min_size=1, max_size=4),
       st.sampled_from([";", ";\n", " ; -- c\n", ";\n/* c; */\n"]))
def test_scripts_split_like_the_parser(statements, separator):
    text = separator.join(statements)
    assert [s.text for s in split_script(text)] == statements
    assert [s.to_cql() for s in cqlpy.parse(text)] == statements
    assert not cqlpy.is_complete(text)
    assert cqlpy.is_complete(text + separator)
