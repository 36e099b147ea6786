"""The citizen's secret (mã bí mật) printed on the receipt: minted when a dossier is filed, online, at the
desk or on the spot, and checked by the public pages.

Kept with the dossier rather than in intake because filing (``services.dossier.filing``) mints it for
every channel; one module holds the HMAC scheme, so the hash and its check cannot drift. The proof a
citizen gives (secret or phone, with the guessing limits) stays in ``services.intake.citizen``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from services.core.auth import purpose_key
from services.core.config import Settings
from services.models import Dossier

_SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet, not a secret


def new_secret() -> str:
    raw = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normalise_secret(secret: str) -> str:
    return "".join(ch for ch in secret.upper() if ch.isalnum())


def secret_hash(settings: Settings, code: str, secret: str, *, key: bytes | None = None) -> str:
    """HMAC of the secret bound to its dossier: useless without the server key, fast to check.

    The key is the tracking purpose's own (services.core.auth.purpose_key), never the tokens'."""
    key = key if key is not None else purpose_key(settings, "tracking")
    return hmac.new(key, f"tracking:{code}:{_normalise_secret(secret)}".encode(), hashlib.sha256).hexdigest()


def secret_matches(settings: Settings, dossier: Dossier, secret: str) -> bool:
    return stored_secret_matches(settings, dossier.code, dossier.secret_hash, secret)


def secret_hashes(settings: Settings, code: str, secret: str) -> list[str]:
    """The hashes ``secret`` may be stored as for dossier ``code``: the tracking key's, and the master
    secret's for dossiers receipted before the per-purpose keys (2026-12). Checked in SQL by
    services.intake.citizen."""
    legacy = settings.auth.jwt_secret.get_secret_value().encode()
    return [secret_hash(settings, code, secret), secret_hash(settings, code, secret, key=legacy)]


def stored_secret_matches(settings: Settings, code: str, stored: str, secret: str) -> bool:
    """Whether ``secret`` is the one whose HMAC ``stored`` holds for dossier ``code``."""
    return any(hmac.compare_digest(stored, candidate) for candidate in secret_hashes(settings, code, secret))
