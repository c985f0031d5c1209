"""Signing secrets and signatures, following the Standard Webhooks convention (standardwebhooks.com).

- A secret is `whsec_` + base64 of 24 random bytes; it is shown once and stored encrypted with Fernet
  (AES-128-CBC + HMAC-SHA256, from `cryptography`) under a key derived from SECRET_KEY by HKDF-SHA256:
  the worker must read it back to sign, so a hash (as for API tokens) cannot do. While SECRET_KEY is
  rotated, secrets encrypted under a SECRET_KEY_FALLBACKS key still decrypt; saving an endpoint (or
  rolling its secret) re-encrypts it under the current key.
- `Webhook-Signature: v1,<base64 HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")>`, the timestamp
  being Unix seconds (also sent as `Webhook-Timestamp`), the id the `Webhook-Id` header.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SECRET_PREFIX = "whsec_"


class SecretUnreadable(Exception):
    """The stored secret does not decrypt: SECRET_KEY changed since it was made (roll the secret)."""


def new_secret() -> str:
    """A fresh signing secret, as shown to its owner."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _fernet_for(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"chapter outgoing webhook signing secrets").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> MultiFernet:
    """Encrypts with SECRET_KEY's key; decrypts with it or a SECRET_KEY_FALLBACKS one (while rotating)."""
    keys = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("The signing secret cannot be read (was SECRET_KEY changed?): roll the secret.") from error


def reencrypt(stored: str) -> str:
    """The same secret encrypted under the current SECRET_KEY (after a rotation)."""
    try:
        return _fernet().rotate(stored.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("The signing secret cannot be read (was SECRET_KEY changed?): roll the secret.") from error


def signature(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """The Webhook-Signature header's value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
