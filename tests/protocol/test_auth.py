"""The authenticator hook and SASL PLAIN, without sockets."""
import pytest

from cqlpy.errors import AuthenticationFailed
from cqlpy.protocol.auth import (
    AllowAllAuthenticator,
    PasswordAuthenticator,
    authenticator_named,
)


def test_plain_accepts_the_right_password_only():
    auth = PasswordAuthenticator({"alice": "s3cret"})
    n = auth.new_negotiator()
    assert n.evaluate(b"\x00alice\x00s3cret") is None and n.user == "alice"
    assert auth.new_negotiator().evaluate(b"authz\x00alice\x00s3cret") is None
    for token in (b"\x00alice\x00wrong", b"\x00bob\x00s3cret", b"\x00\x00", b"alice:s3cret", None,
                  b"\x00alice\x00s3cret\x00more", b"\x00\xff\x00x"):
        with pytest.raises(AuthenticationFailed):
            auth.new_negotiator().evaluate(token)


def test_default_superuser_and_custom_check():
    assert PasswordAuthenticator().new_negotiator().evaluate(b"\x00cassandra\x00cassandra") is None
    auth = PasswordAuthenticator(check=lambda u, p: p == u[::-1])
    assert auth.new_negotiator().evaluate(b"\x00abc\x00cba") is None


def test_names():
    assert isinstance(authenticator_named("allow_all"), AllowAllAuthenticator)
    assert not authenticator_named("AllowAllAuthenticator").requires_authentication
    p = authenticator_named("org.apache.cassandra.auth.PasswordAuthenticator")
    assert p.requires_authentication and p.class_name == "org.apache.cassandra.auth.PasswordAuthenticator"
    with pytest.raises(ValueError):
        authenticator_named("kerberos")
