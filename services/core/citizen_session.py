"""A signed-in citizen's session: our own short-lived token in an httpOnly cookie, after the provider's sign-in.

Decisions, and why:

- **A cookie, not a bearer token in the SPA.** The citizen arrives from the provider by a top-level
  redirect: the callback sets the cookie, and no script ever sees the token (an XSS cannot carry it off).
  ``HttpOnly``, ``SameSite=Lax`` (sent on the top-level navigation back from the provider and on the SPA's own
  requests; not on a cross-site POST, so a forged form cannot submit in the citizen's name), ``Secure`` when
  the public URL is https, ``Path=/`` (the gateway and nginx strip the service prefix, so intake cannot know
  it). The staff keep their bearer tokens; the two never meet: another key, another audience.
- **The same token shape as the staff's** (services.core.auth): HS256 under its own derived key
  (purpose ``citizen-session``), ``aud`` ``motcua:citizen``, ``exp`` after ``session_minutes`` (60), and the
  account's ``token_version``. Every citizen request reads the account row in its own session (one indexed
  read: citizens' requests are few, so no per-process cache and no LISTEN are needed), so signing out —
  which raises the version — ends every session of the account on every replica at once.
- **The sign-in's state** (``state``, ``nonce``, the PKCE verifier, where to go back) lives between the
  redirect to the provider and the callback in a second cookie, sealed with AES-256-GCM under its own key
  (``oidc-flow``) and bound to its name: any replica can finish the flow, no table holds half-done sign-ins,
  and the browser that started the flow is the only one that can finish it (a stolen ``code`` is useless
  without the cookie, and an attacker's ``code`` cannot be pushed into a victim's browser: the state must
  match the victim's own cookie). It lives 10 minutes.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from starlette.responses import Response

from services.core.auth import ALGORITHM, purpose_key
from services.core.config import Settings
from services.core.errors import Unauthorized
from services.core.sealing import seal, unseal

SESSION_COOKIE = "motcua_citizen"
FLOW_COOKIE = "motcua_oidc_flow"
CITIZEN_AUDIENCE = "motcua:citizen"
FLOW_SECONDS = 600  # from the redirect to the provider to the callback: a sign-in, a consent, a slow phone


@dataclass(frozen=True)
class SessionClaims:
    """What a valid session cookie says: the account and the version it was issued under."""

    account_id: uuid.UUID
    token_version: int


def _secure(settings: Settings) -> bool:
    return settings.urls.public.startswith("https://")


def issue_session(settings: Settings, account_id: uuid.UUID, token_version: int, *, now: datetime) -> str:
    """The session token for ``account_id`` (its lifetime: ``citizen_oidc.session_minutes``)."""
    lifetime = timedelta(minutes=settings.citizen_oidc.session_minutes)
    claims = {
        "iss": settings.auth.jwt_issuer,
        "aud": CITIZEN_AUDIENCE,
        "sub": str(account_id),
        "ver": token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, purpose_key(settings, "citizen-session"), algorithm=ALGORITHM)


def decode_session(settings: Settings, token: str | None) -> SessionClaims:
    """The claims of a valid session token; 401 ``citizen_session_required`` when absent, expired or forged."""
    if not token:
        raise Unauthorized("Sign in with your citizen account first.", code="citizen_session_required")
    try:
        claims = jwt.decode(
            token,
            purpose_key(settings, "citizen-session"),
            algorithms=[ALGORITHM],
            issuer=settings.auth.jwt_issuer,
            audience=CITIZEN_AUDIENCE,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        return SessionClaims(account_id=uuid.UUID(str(claims["sub"])), token_version=int(claims.get("ver", 0)))
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("Your session has ended; sign in again.", code="citizen_session_required") from exc


def set_session(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.citizen_oidc.session_minutes * 60, path="/", httponly=True,
        secure=_secure(settings), samesite="lax",
    )  # fmt: skip


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=_secure(settings), samesite="lax")


# --- the sign-in's own state, between the redirect to the provider and the callback -----------------------


def seal_flow(settings: Settings, values: dict[str, str]) -> str:
    """``values`` (state, nonce, verifier, next) sealed for the flow cookie, with their deadline."""
    body = json.dumps({**values, "until": int(time.time()) + FLOW_SECONDS})
    return seal(purpose_key(settings, "oidc-flow"), body, context=FLOW_COOKIE)


def open_flow(settings: Settings, cookie: str | None) -> dict[str, Any]:
    """The flow's values, or ValueError when the cookie is missing, altered, sealed with another key or late."""
    if not cookie:
        raise ValueError("no sign-in in progress")
    values: dict[str, Any] = json.loads(unseal(purpose_key(settings, "oidc-flow"), cookie, context=FLOW_COOKIE))
    if int(values.get("until", 0)) < int(time.time()):
        raise ValueError("the sign-in took too long")
    return values


def set_flow(response: Response, settings: Settings, sealed: str) -> None:
    response.set_cookie(
        FLOW_COOKIE, sealed, max_age=FLOW_SECONDS, path="/", httponly=True, secure=_secure(settings), samesite="lax"
    )


def clear_flow(response: Response, settings: Settings) -> None:
    response.delete_cookie(FLOW_COOKIE, path="/", httponly=True, secure=_secure(settings), samesite="lax")
