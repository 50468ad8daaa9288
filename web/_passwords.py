"""Passwords and API tokens of desk accounts: argon2id hashes and SHA-256 token digests.

The store keeps only what is made here (``Account.password_hash``, ``.token_hash``).
argon2-cffi's defaults (argon2id, RFC 9106's low-memory profile) take tens of
milliseconds per check, which is the point: a stolen store does not give the
passwords away cheaply. An API token is 32 random bytes; the store keeps its
SHA-256, which is enough for a value nobody can guess.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# Checked when an account has no password or does not exist, so a wrong name costs the same time.
_DUMMY = _HASHER.hash(secrets.token_hex(16))
MIN_PASSWORD_CHARS = 10
TOKEN_PREFIX = "rw_"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (ValueError if it is too short to be one)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from ("" never matches)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the hash: a session made before a password change no longer matches it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16] if password_hash else ""


def new_api_token() -> tuple[str, str]:
    """A new API token and what the store keeps of it (its SHA-256)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
