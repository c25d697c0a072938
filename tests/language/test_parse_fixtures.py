"""The fixture suites: canonical statements round-trip as text, non-canonical inputs normalise, and
broken statements fail at the expected line:column with the expected message."""
import pytest

import cqlpy
from cqlpy import errors
from cql_fixtures import error_cases, identity_cases, normalize_cases

IDENTITY = identity_cases()
NORMALIZE = normalize_cases()
ERRORS = error_cases()


def test_fixture_sizes():
    assert len(IDENTITY) >= 200
    assert len({case.text for case in IDENTITY}) == len(IDENTITY), "duplicate identity lines"
    assert len(NORMALIZE) >= 50
    assert len(ERRORS) >= 60


@pytest.mark.parametrize("case", IDENTITY, ids=lambda c: f"identity.cql:{c.line}")
def test_identity(case):
    statement = cqlpy.parse_one(case.text)
    assert statement.to_cql() == case.text
    assert cqlpy.parse_one(statement.to_cql()) == statement


@pytest.mark.parametrize("case", NORMALIZE, ids=lambda c: f"normalize.cql:{c.line}")
def test_normalize(case):
    statement = cqlpy.parse_one(case.text)
    assert statement.to_cql() == case.expected
    assert cqlpy.parse_one(case.expected) == statement


def test_whole_identity_file_parses_as_one_script():
    text = ";\n".join(case.text for case in IDENTITY)
    statements = cqlpy.parse(text)
    assert [s.to_cql() for s in statements] == [case.text for case in IDENTITY]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: f"errors.cql:{c.line}")
def test_errors(case):
    kind, _, rest = case.expected.partition(" ")
    with pytest.raises(errors.CQLError) as raised:
        cqlpy.parse_one(case.text)
    error = raised.value
    assert type(error).__name__ == kind, str(error)
    first_line = str(error).split("\n")[0]
    if kind == "SyntaxException":
        position, _, message = rest.partition(" ")
        assert f"{error.line}:{error.column}" == position, str(error)
        assert first_line.startswith(f"line {position} "), str(error)
        assert message in first_line, str(error)
        source_line, caret = str(error).split("\n")[1:3]
        assert caret.endswith("^") and caret.strip() == "^"
    else:
        assert rest in first_line, str(error)
