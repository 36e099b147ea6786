"""Sealing a short value at rest: authenticated encryption from HMAC-SHA256 alone (no new dependency).

Used for the one secret the database must be able to give back — the tracking secret an idempotent
replay returns to a citizen whose connection dropped (``services/core/idempotency.py``). The
construction is the textbook one: a keystream from HMAC-SHA256 as a PRF in counter mode (key
``enc``), then encrypt-then-MAC with HMAC-SHA256 over a version, the caller's context (so a sealed
value cannot be moved to another row) and the ciphertext (key ``mac``). Both keys are derived from
``MOTCUA_JWT_SECRET`` with a purpose label, so the sealing key is never the signing key itself; a
rotated JWT secret makes old sealed values unreadable, which for day-long idempotency records only
means an old replay answers without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from pydantic import SecretStr

_VERSION = b"s1"
_NONCE_BYTES = 16
_TAG_BYTES = 32


def derive_key(master: SecretStr, purpose: str) -> bytes:
    """A key for one purpose, derived from a master secret (HMAC-SHA256 with a label)."""
    return hmac.new(master.get_secret_value().encode(), f"motcua/{purpose}".encode(), hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    return hmac.new(key, b"enc", hashlib.sha256).digest(), hmac.new(key, b"mac", hashlib.sha256).digest()


def _tag(mac_key: bytes, context: str, nonce: bytes, ciphertext: bytes) -> bytes:
    bound = context.encode()
    message = _VERSION + len(bound).to_bytes(4, "big") + bound + nonce + ciphertext
    return hmac.new(mac_key, message, hashlib.sha256).digest()


def seal(key: bytes, plaintext: str, *, context: str) -> str:
    """``plaintext`` encrypted and authenticated, bound to ``context``; a printable token."""
    enc_key, mac_key = _subkeys(key)
    nonce = os.urandom(_NONCE_BYTES)
    data = plaintext.encode()
    ciphertext = bytes(a ^ b for a, b in zip(data, _keystream(enc_key, nonce, len(data)), strict=True))
    token = nonce + ciphertext + _tag(mac_key, context, nonce, ciphertext)
    return _VERSION.decode() + "." + base64.urlsafe_b64encode(token).decode().rstrip("=")


def unseal(key: bytes, token: str, *, context: str) -> str:
    """The plaintext of a ``seal`` token; ``ValueError`` if it was altered, moved or sealed with another key."""
    version, _, encoded = token.partition(".")
    if version.encode() != _VERSION:
        raise ValueError("unknown sealed-value version")
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise ValueError("sealed value too short")
    nonce, ciphertext, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    enc_key, mac_key = _subkeys(key)
    if not hmac.compare_digest(tag, _tag(mac_key, context, nonce, ciphertext)):
        raise ValueError("sealed value does not verify")
    data = bytes(a ^ b for a, b in zip(ciphertext, _keystream(enc_key, nonce, len(ciphertext)), strict=True))
    return data.decode()
