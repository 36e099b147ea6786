"""``Idempotency-Key`` as the IETF draft describes (draft-ietf-httpapi-idempotency-key-header).

The key is claimed by inserting its row in the request's own transaction. A concurrent request
with the same key waits on the primary key until the first commits (then it finds the stored
answer and replays it) or rolls back (then it claims the key itself). So one key yields one
effect, however many replays race. The same key with another payload is a 422 problem; keys
expire after a day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import Conflict, Unprocessable
from services.models import IdempotencyKey

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def fingerprint(payload: Any) -> str:
    """A stable hash of the request payload (canonical JSON of what was parsed)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


async def claim(session: AsyncSession, *, scope: str, key: str, request_hash: str, now: datetime) -> Replay | None:
    """Claim ``key`` for this request (None) or return the stored answer of an earlier one."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable("Idempotency-Key must have 1 to 255 characters.", code="invalid_idempotency_key")
    inserted = await session.execute(
        insert(IdempotencyKey)
        .values(scope=scope, key=key, request_hash=request_hash, expires_at=now + TTL)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if inserted.first() is not None:
        return None
    stored = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if stored is None:  # expired and purged between the two statements
        raise Conflict("The request with this key is being processed; retry.", code="idempotency_in_progress")
    if stored.request_hash != request_hash:
        raise Unprocessable(
            "This Idempotency-Key was used with a different request payload.", code="idempotency_key_reused"
        )
    if stored.response_status is None or stored.response_body is None:
        raise Conflict("The request with this key is being processed; retry.", code="idempotency_in_progress")
    return Replay(status=stored.response_status, body=dict(stored.response_body))


async def remember(session: AsyncSession, *, scope: str, key: str, status: int, body: dict[str, Any]) -> None:
    """Store the answer in the same transaction as the effect."""
    stored = await session.get(IdempotencyKey, (scope, key))
    assert stored is not None
    stored.response_status = status
    stored.response_body = body
    await session.flush()
