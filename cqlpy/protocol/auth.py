"""Authentication for the native protocol: the authenticator hook and SASL PLAIN.

The server asks its ``Authenticator`` once per connection, at STARTUP::

    authenticator.requires_authentication  False: STARTUP -> READY (AllowAllAuthenticator)
    authenticator.class_name               sent in AUTHENTICATE (the driver picks PLAIN from it)
    authenticator.new_negotiator()         one SASL exchange per connection:
        negotiator.evaluate(token) -> bytes | None   a challenge to send (AUTH_CHALLENGE), or None
                                                     when done (AUTH_SUCCESS); raises
                                                     AuthenticationFailed (ERROR 0x0100)
        negotiator.user                              the authenticated user once done

PLAIN's token is ``[authzid] NUL user NUL password`` (UTF-8), as PlainTextAuthProvider and
``cqlsh -u/-p`` send it.  Where users and passwords live (Cassandra: system_auth.roles) is the
job of a later change; ``PasswordAuthenticator`` takes a ``check(user, password) -> bool``.
"""
from __future__ import annotations

import hmac
from typing import Callable, Protocol

from cqlpy.errors import AuthenticationFailed


class SaslNegotiator(Protocol):
    user: str | None

    def evaluate(self, token: bytes | None) -> bytes | None: ...


class Authenticator(Protocol):
    class_name: str
    requires_authentication: bool

    def new_negotiator(self) -> SaslNegotiator: ...


class AllowAllAuthenticator:
    """No authentication: STARTUP is answered READY."""

    class_name = "org.apache.cassandra.auth.AllowAllAuthenticator"
    requires_authentication = False

    def new_negotiator(self) -> SaslNegotiator:  # pragma: no cover - never asked
        raise AuthenticationFailed("Authentication is not enabled")


class PlainNegotiator:
    """One SASL PLAIN exchange: a single token carrying the user and the password."""

    def __init__(self, check: Callable[[str, str], bool]) -> None:
        self._check = check
        self.user: str | None = None

    def evaluate(self, token: bytes | None) -> bytes | None:
        parts = (token or b"").split(b"\x00")
        if len(parts) != 3:
            raise AuthenticationFailed("Authentication failed: the PLAIN token must be "
                                       "'authzid NUL user NUL password'")
        try:
            user, password = parts[1].decode("utf-8"), parts[2].decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Authentication failed: user and password must be UTF-8") from None
        if not user or not self._check(user, password):
            raise AuthenticationFailed(f"Provided username {user} and/or password are incorrect")
        self.user = user
        return None


class PasswordAuthenticator:
    """SASL PLAIN against ``check(user, password)``; by default Cassandra's first superuser,
    ``cassandra``/``cassandra``, or the ``users`` mapping given."""

    class_name = "org.apache.cassandra.auth.PasswordAuthenticator"
    requires_authentication = True

    def __init__(self, users: dict[str, str] | None = None,
                 check: Callable[[str, str], bool] | None = None) -> None:
        table = dict(users) if users is not None else {"cassandra": "cassandra"}

        def check_table(user: str, password: str) -> bool:
            expected = table.get(user)
            return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

        self._check = check or check_table

    def new_negotiator(self) -> PlainNegotiator:
        return PlainNegotiator(self._check)


def authenticator_named(name: str) -> Authenticator:
    """The authenticator for the server option ``--authenticator`` (``allow_all`` / ``password``,
    or Cassandra's class names)."""
    key = name.rsplit(".", 1)[-1].lower()
    if key in ("allow_all", "allowall", "allowallauthenticator", "none"):
        return AllowAllAuthenticator()
    if key in ("password", "passwordauthenticator"):
        return PasswordAuthenticator()
    raise ValueError(f"Unknown authenticator {name!r}: use allow_all or password")
