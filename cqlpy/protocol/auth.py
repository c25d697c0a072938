"""Authentication for the native protocol: the authenticator hook, SASL PLAIN, and PasswordAuthenticator.

The server asks its ``Authenticator`` once per connection, at STARTUP::

    authenticator.requires_authentication  False: STARTUP -> READY (AllowAllAuthenticator)
    authenticator.class_name               sent in AUTHENTICATE (the driver picks PLAIN from it)
    authenticator.new_negotiator()         one SASL exchange per connection:
        negotiator.evaluate(token) -> bytes | None   a challenge to send (AUTH_CHALLENGE), or None
                                                     when done (AUTH_SUCCESS); raises
                                                     AuthenticationFailed (ERROR 0x0100)
        negotiator.user                              the authenticated role once done

PLAIN's token is ``[authzid] NUL user NUL password`` (UTF-8), as PlainTextAuthProvider and
``cqlsh -u/-p`` send it.  ``PasswordAuthenticator`` checks it, as Cassandra's does, against the
roles of the database (``roles``: cqlpy.session.roles.RoleManager, whose ``authenticate(user,
password)`` compares with the salted hash in system_auth.roles and refuses a role without LOGIN);
``cqlpy-server --authenticator password`` wires it so.  Without ``roles`` it checks a fixed
``users`` mapping (default: Cassandra's first superuser, ``cassandra``/``cassandra``) or a
``check(user, password) -> bool``: servers embedded in tests use that.  A refusal reads
``Provided username X and/or password are incorrect``, whoever X is.
"""
from __future__ import annotations

import hmac
from typing import Any, Callable, Protocol

from cqlpy.errors import AuthenticationFailed

PASSWORD_AUTHENTICATOR = "org.apache.cassandra.auth.PasswordAuthenticator"


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


def incorrect(user: str) -> AuthenticationFailed:
    return AuthenticationFailed(f"Provided username {user} and/or password are incorrect")


class PlainNegotiator:
    """One SASL PLAIN exchange: a single token carrying the user and the password.
    ``authenticate(user, password)`` returns the role logged in or raises AuthenticationFailed."""

    def __init__(self, authenticate: Callable[[str, str], str]) -> None:
        self._authenticate = authenticate
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
        if not user:
            raise incorrect(user)
        self.user = self._authenticate(user, password)
        return None


class PasswordAuthenticator:
    """SASL PLAIN against the database's roles (``roles``), or a fixed ``users`` mapping, or
    ``check(user, password)`` (see the module documentation)."""

    class_name = PASSWORD_AUTHENTICATOR
    requires_authentication = True

    def __init__(self, users: dict[str, str] | None = None,
                 check: Callable[[str, str], bool] | None = None, *, roles: Any = None) -> None:
        if roles is not None:
            self._authenticate: Callable[[str, str], str] = roles.authenticate
            return
        table = dict(users) if users is not None else {"cassandra": "cassandra"}

        def check_table(user: str, password: str) -> bool:
            expected = table.get(user)
            given = password.encode()
            if expected is None:
                hmac.compare_digest(given, given)      # the same work for an unknown user
                return False
            return hmac.compare_digest(expected.encode(), given)

        checker = check or check_table

        def authenticate(user: str, password: str) -> str:
            if not checker(user, password):
                raise incorrect(user)
            return user

        self._authenticate = authenticate

    def new_negotiator(self) -> PlainNegotiator:
        return PlainNegotiator(self._authenticate)


def authenticator_named(name: str, roles: Any = None) -> Authenticator:
    """The authenticator for the server option ``--authenticator`` (``allow_all`` / ``password``,
    or Cassandra's class names); ``roles``: the role manager PasswordAuthenticator checks."""
    key = name.rsplit(".", 1)[-1].lower()
    if key in ("allow_all", "allowall", "allowallauthenticator", "none"):
        return AllowAllAuthenticator()
    if key in ("password", "passwordauthenticator"):
        return PasswordAuthenticator(roles=roles)
    raise ValueError(f"Unknown authenticator {name!r}: use allow_all or password")
