"""Encryption at rest for platform credentials (Fernet with a key derived from settings)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from publicist.core.errors import PublicistError


class CredentialsUnreadable(PublicistError):
    """Stored credentials cannot be decrypted with the configured secret key."""


def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(secret: str, payload: dict[str, Any]) -> bytes:
    return _fernet(secret).encrypt(json.dumps(payload, sort_keys=True).encode())


def decrypt_json(secret: str, token: bytes) -> dict[str, Any]:
    try:
        data = _fernet(secret).decrypt(token)
    except InvalidToken:
        raise CredentialsUnreadable(
            "stored credentials cannot be decrypted: PUBLICIST_SECRET_KEY differs from the key "
            "they were saved with"
        ) from None
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def secret_digest(secret: str) -> str:
    """How a bearer secret (API token, session id, calendar feed) is stored: its sha256 in hex.

    These secrets are long and random, so a fast hash is enough; only the digest is kept,
    so a database dump shows no usable secret.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
