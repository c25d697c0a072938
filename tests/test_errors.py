"""Every error class carries the native-protocol code that drivers read."""
import pytest

from cqlpy import errors


@pytest.mark.parametrize("cls, code", [
    (errors.SyntaxException, 0x2000), (errors.Unauthorized, 0x2100), (errors.InvalidRequest, 0x2200),
    (errors.ConfigurationException, 0x2300), (errors.AlreadyExists, 0x2400), (errors.Unprepared, 0x2500),
    (errors.ServerError, 0x0000), (errors.ProtocolError, 0x000A), (errors.AuthenticationFailed, 0x0100),
    (errors.Unavailable, 0x1000), (errors.Overloaded, 0x1001), (errors.WriteTimeout, 0x1100),
    (errors.ReadTimeout, 0x1200), (errors.ReadFailure, 0x1300), (errors.WriteFailure, 0x1500),
])
def test_codes(cls, code):
    assert cls.code == code
    assert issubclass(cls, errors.CQLError)
    assert errors.ERROR_CLASSES[code] is cls


def test_syntax_exception_has_position():
    e = errors.SyntaxException("line 2:5 no viable alternative at input 'frm'", 2, 5)
    assert (e.line, e.column) == (2, 5)
    assert "frm" in str(e)


def test_already_exists_fields():
    e = errors.AlreadyExists("ks", "t")
    assert (e.keyspace, e.table) == ("ks", "t")
    assert isinstance(e, errors.ConfigurationException)


def test_corruption_names_file():
    e = errors.CorruptionError("data/ks/t-1/1-Data.db", 4096, "chunk checksum mismatch")
    assert "1-Data.db" in str(e) and "4096" in str(e)
