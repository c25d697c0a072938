"""Salted password hashes for system_auth.roles.salted_hash: scrypt, in a self-describing text form.

Cassandra stores bcrypt hashes (``$2a$10$...``, jBCrypt).  The standard library has no bcrypt and
cqlpy takes no new dependency, so cqlpy uses ``hashlib.scrypt``, the standard library's memory-hard
password hash, with a fresh random 16-byte salt per password.  The stored text is::

    $scrypt$<n>$<r>$<p>$<salt>$<hash>

    n, r, p   scrypt's cost parameters as decimal integers (written: 16384, 8, 1: about 40 ms and
              16 MiB per check, close to bcrypt cost 10, Cassandra's default)
    salt      16 random bytes, base64 (standard alphabet, no padding)
    hash      scrypt(password UTF-8, salt, n, r, p), 32 bytes, base64 (no padding)

Checks parse the parameters from the text (so stronger settings can be adopted later without
invalidating stored hashes), refuse parameters outside sane bounds (a forged ``HASHED PASSWORD``
must not make a login cost minutes or gigabytes), and compare in constant time
(``hmac.compare_digest``).  A check against no hash (an unknown role) still runs one scrypt, so a
login attempt takes as long whether or not the role exists.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

SCHEME = "scrypt"
N, R, P = 16384, 8, 1               # written for new passwords
SALT_BYTES = 16
HASH_BYTES = 32
MAX_N, MAX_R, MAX_P = 1 << 20, 32, 16
MAX_MEMORY = 256 * 1024 * 1024      # scrypt needs about 128 * n * r bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES,
                          maxmem=MAX_MEMORY)


def hash_password(password: str) -> str:
    """The salted hash text of ``password`` (a new random salt each call)."""
    salt = os.urandom(SALT_BYTES)
    return f"${SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def parse_hash(text: str) -> tuple[int, int, int, bytes, bytes] | None:
    """(n, r, p, salt, hash) of a stored hash text, or None when it is not a valid one."""
    parts = text.split("$") if isinstance(text, str) else []
    if len(parts) != 7 or parts[0] or parts[1] != SCHEME:
        return None
    try:
        n, r, p = int(parts[2]), int(parts[3]), int(parts[4])
        salt, digest = _unb64(parts[5]), _unb64(parts[6])
    except (ValueError, binascii.Error):
        return None
    if not (1 < n <= MAX_N and n & (n - 1) == 0 and 0 < r <= MAX_R and 0 < p <= MAX_P):
        return None
    if 128 * n * r * p > MAX_MEMORY or len(salt) < 8 or len(digest) != HASH_BYTES:
        return None
    return n, r, p, salt, digest


def is_valid_hash(text: str) -> bool:
    return parse_hash(text) is not None


_DUMMY_SALT = os.urandom(SALT_BYTES)


def check_password(password: str, salted_hash: str | None) -> bool:
    """Whether ``password`` matches ``salted_hash`` (False for None or a malformed hash, after the
    same work as a real check)."""
    parsed = parse_hash(salted_hash) if salted_hash else None
    if parsed is None:
        _scrypt(password, _DUMMY_SALT, N, R, P)
        hmac.compare_digest(b"\x00" * HASH_BYTES, b"\x01" * HASH_BYTES)
        return False
    n, r, p, salt, digest = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), digest)
