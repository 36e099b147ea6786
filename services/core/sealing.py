"""Sealing a short value at rest: AES-256-GCM from ``cryptography`` (the well-kept library for it).

Used for the one secret the database must be able to give back — the tracking secret an idempotent
replay returns to a citizen whose connection dropped (``services/core/idempotency.py``). The key is
the ``idempotency-seal`` purpose's own (services.core.auth.purpose_key, from ``MOTCUA_JWT_SECRET``),
never a signing key; the caller's context (the record and field) is the associated data, so a sealed
value cannot be moved to another row. A rotated secret makes old sealed values unreadable, which for
day-long idempotency records only means an old replay answers without the secret.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "g1"
_NONCE_BYTES = 12  # GCM's standard nonce; random per value (far below the 2^32 values per key bound)


def seal(key: bytes, plaintext: str, *, context: str) -> str:
    """``plaintext`` encrypted and authenticated, bound to ``context``; a printable token."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return _VERSION + "." + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(key: bytes, token: str, *, context: str) -> str:
    """The plaintext of a ``seal`` token; ``ValueError`` if it was altered, moved or sealed with another key."""
    version, _, encoded = token.partition(".")
    if version != _VERSION:
        raise ValueError("unknown sealed-value version")
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    try:
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
    except InvalidTag as exc:
        raise ValueError("sealed value does not verify") from exc
