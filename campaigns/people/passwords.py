"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from publicist.core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024
"""Long enough for any passphrase, short enough that hashing it is never a denial of service."""

_hasher = PasswordHasher()

# Verified against when the e-mail is unknown, so that an unknown address takes as long to
# refuse as a wrong password and sign-in does not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def check_rules(password: str) -> None:
    """Refuse a password that is too short or too long; the message never shows it."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", "(hidden)", f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password", "(hidden)", f"must be at most {MAX_LENGTH} characters")


def hash_password(password: str, *, check: bool = True) -> str:
    """The argon2id hash of ``password``; ``check=False`` rehashes a password already in use."""
    if check:
        check_rules(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; False for a wrong password, an unknown person (None)
    or a damaged hash. Always does the work of one verification."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)
