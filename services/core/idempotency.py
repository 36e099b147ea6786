"""``Idempotency-Key`` as the IETF draft describes (draft-ietf-httpapi-idempotency-key-header).

The key is claimed by inserting its row in the request's own transaction. A concurrent request
with the same key waits on the primary key until the first commits (then it finds the stored
answer and replays it) or rolls back (then it claims the key itself). So one key yields one
effect, however many replays race. The same key with another payload is a 422 problem.

Secrets at rest: the stored answer never holds a secret in clear. The fields named by ``remember``
(the dossier's tracking ``secret``) are taken out of the body and kept sealed (``services/core/sealing``: AES-256-GCM,
a key derived from ``MOTCUA_JWT_SECRET``, bound to the row's scope and key); a replay unseals them, so a
citizen whose connection dropped after the dossier was created gets the same answer, secret included,
by sending the same request again.

Scope: a key belongs to its caller, not to the world. The scope is the method and route plus, for
staff, the authenticated staff id, and for anonymous callers an HMAC of the client's address (the
real one, ``services/core/net``; the address itself is not stored). Another caller sending the same
key and body makes a request of its own; a citizen whose address changed between the attempt and the
retry does too (the desk refuses the duplicate) — the price of not handing one caller's answer, with
its secret, to another who learnt the key.

Expiry: a record lives ``MOTCUA_IDEMPOTENCY_TTL_SECONDS`` (a day by default); an expired one is
ignored (and replaced) by ``claim`` and deleted by ``purge_expired``, which intake's worker runs every
``MOTCUA_IDEMPOTENCY_PURGE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import purpose_key
from services.core.config import Settings
from services.core.db import begin, fetch, fetch_row
from services.core.errors import Conflict, Unprocessable
from services.core.sealing import seal, unseal

MAX_KEY_LENGTH = 255
SEALED = "__sealed__"  # the body's member holding the sealed fields
logger = logging.getLogger("motcua.idempotency")


def scope_for(settings: Settings, route: str, *, staff_id: object | None, client_address: str | None) -> str:
    """The caller's scope: the route plus the staff id, or an HMAC of the anonymous client's address."""
    if staff_id is not None:
        return f"{route} staff:{staff_id}"
    key = purpose_key(settings, "idempotency-scope")
    digest = hmac.new(key, (client_address or "unknown").encode(), hashlib.sha256).hexdigest()[:32]
    return f"{route} addr:{digest}"


def _seal_key(settings: Settings) -> bytes:
    return purpose_key(settings, "idempotency-seal")


def _context(scope: str, key: str, field: str) -> str:
    return f"{scope}\n{key}\n{field}"


def fingerprint(payload: Any) -> str:
    """A stable hash of the request payload (canonical JSON of what was parsed)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


# the key claimed for this request, when no unexpired record holds it (one statement: every keyed creation
# takes it — the citizen's SPA sends a key with each filing); straight through asyncpg (services.core.db)
_CLAIM = """
INSERT INTO idempotency_key (scope, key, request_hash, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (scope, key) DO NOTHING
RETURNING key
"""
_STORED = (
    "SELECT request_hash, response_status, response_body, expires_at FROM idempotency_key WHERE scope = $1 AND key = $2"
)
_EXPIRED = "DELETE FROM idempotency_key WHERE scope = $1 AND key = $2 AND expires_at <= $3"
_REMEMBER = """
UPDATE idempotency_key SET response_status = $3, response_body = $4::jsonb WHERE scope = $1 AND key = $2
"""


async def claim(
    session: AsyncSession, settings: Settings, *, scope: str, key: str, request_hash: str, now: datetime
) -> Replay | None:
    """Claim ``key`` for this request (None) or return the stored answer of an earlier one.

    One statement when the key is new (the usual case): the insert that claims it. On a conflict, the
    record is read; an expired one is no longer an answer — it is deleted and the key claimed afresh."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable("Idempotency-Key must have 1 to 255 characters.", code="invalid_idempotency_key")
    await begin(session)  # the claim holds until the answer is stored, in the request's transaction
    expires_at = now + timedelta(seconds=settings.idempotency.ttl_seconds)
    if await fetch(session, _CLAIM, scope, key, request_hash, expires_at):
        return None
    stored = await fetch_row(session, _STORED, scope, key)
    if stored is not None and stored["expires_at"] <= now:  # expired: the key starts afresh
        await fetch(session, _EXPIRED, scope, key, now)
        if await fetch(session, _CLAIM, scope, key, request_hash, expires_at):
            return None
        stored = await fetch_row(session, _STORED, scope, key)
    if stored is None:  # expired and purged between the two statements
        raise Conflict("The request with this key is being processed; retry.", code="idempotency_in_progress")
    if stored["request_hash"] != request_hash:
        raise Unprocessable(
            "This Idempotency-Key was used with a different request payload.", code="idempotency_key_reused"
        )
    if stored["response_status"] is None or stored["response_body"] is None:
        raise Conflict("The request with this key is being processed; retry.", code="idempotency_in_progress")
    body = dict(stored["response_body"])
    sealed = body.pop(SEALED, None)
    for field, token in (sealed if isinstance(sealed, dict) else {}).items():
        try:
            body[field] = unseal(_seal_key(settings), token, context=_context(scope, key, field))
        except ValueError:  # sealed under a former JWT secret: answer without it rather than fail
            logger.warning("a sealed idempotent answer could not be opened", extra={"field": field})
            body[field] = None
    return Replay(status=int(stored["response_status"]), body=body)


async def remember(
    session: AsyncSession,
    settings: Settings,
    *,
    scope: str,
    key: str,
    status: int,
    body: dict[str, Any],
    sealed: Sequence[str] = (),
) -> None:
    """Store the answer in the same transaction as the effect, the ``sealed`` fields encrypted (one UPDATE
    of the claimed record)."""
    kept = {name: value for name, value in body.items() if name not in sealed}
    secrets = {
        field: seal(_seal_key(settings), str(body[field]), context=_context(scope, key, field))
        for field in sealed
        if body.get(field) is not None
    }
    if secrets:
        kept[SEALED] = secrets
    await fetch(session, _REMEMBER, scope, key, status, json.dumps(kept))


@dataclass(frozen=True)
class Answer:
    """What an idempotent creation answers: the body and status, and whether it is a replay."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


async def once(
    session: AsyncSession,
    settings: Settings,
    *,
    route: str,
    key: str | None,
    staff_id: object | None,
    client_address: str | None,
    payload: Any,
    now: datetime,
    work: Callable[[], Awaitable[dict[str, Any]]],
    status: int = 201,
    sealed: Sequence[str] = (),
) -> Answer:
    """Run ``work`` (which returns the JSON body) once per ``key`` in the caller's scope: the first request
    claims the key and stores the body, ``sealed`` fields encrypted; a repeat with the same ``payload`` gets
    the stored answer back. Without a key, ``work`` simply runs."""
    if key is None:
        return Answer(status, await work())
    scope = scope_for(settings, route, staff_id=staff_id, client_address=client_address)
    replay = await claim(session, settings, scope=scope, key=key, request_hash=fingerprint(payload), now=now)
    if replay is not None:
        return Answer(replay.status, replay.body, replayed=True)
    body = await work()
    await remember(session, settings, scope=scope, key=key, status=status, body=body, sealed=sealed)
    return Answer(status, body)


_PURGE = text(
    """
    DELETE FROM idempotency_key
     WHERE ctid IN (SELECT ctid FROM idempotency_key WHERE expires_at <= :now LIMIT :batch)
    """
)


async def purge_expired(session: AsyncSession, now: datetime, *, batch: int = 1000) -> int:
    """Delete up to ``batch`` expired records (the caller commits per batch: short locks); how many went."""
    result = await session.execute(_PURGE, {"now": now, "batch": batch})
    return int(getattr(result, "rowcount", 0) or 0)
