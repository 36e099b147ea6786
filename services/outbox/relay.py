"""The relay: claim due events with ``FOR UPDATE SKIP LOCKED``, POST them, record the outcome.

Why hand-written SKIP LOCKED rather than a queue library (procrastinate, pgqueuer): the events
must be written by our own SQLAlchemy session in the domain transaction, delivered over HTTP
to another service and shown to operators from our own table. A queue library would bring its
own schema, worker model and job semantics for what is one claim query and one update.

Delivery is at least once: a claim is a lease (``available_at`` moved forward); a relay that
dies mid-flight leaves the lease to expire and another relay takes the event again. Receivers
deduplicate on the event id (``services.outbox.inbox.accept_once``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.auth import service_token
from services.core.config import Settings

logger = logging.getLogger("motcua.relay")

EVENTS_PATH = "/internal/v1/events"
# a receiver that answers these may succeed later; other 4xx answers will not change by retrying
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})

_CLAIM = text(
    """
    UPDATE outbox_event AS e
       SET attempts = e.attempts + 1,
           claimed_by = :relay,
           available_at = now() + make_interval(secs => :lease)
     WHERE e.id IN (
           SELECT id FROM outbox_event
            WHERE status = 'pending' AND available_at <= now()
              AND (CAST(:sources AS text[]) IS NULL OR source = ANY(CAST(:sources AS text[])))
            ORDER BY available_at, created_at
            LIMIT :limit
            FOR UPDATE SKIP LOCKED)
    RETURNING e.id, e.event_type, e.source, e.destination, e.dossier_id, e.payload, e.created_at, e.attempts
    """
)
_DELIVERED = text(
    """
    UPDATE outbox_event SET status = 'delivered', delivered_at = now(), last_error = NULL
     WHERE id = :id AND status = 'pending'
    """
)
_RETRY = text(
    """
    UPDATE outbox_event
       SET available_at = now() + make_interval(secs => :delay), claimed_by = NULL, last_error = :error
     WHERE id = :id AND status = 'pending' AND claimed_by = :relay
    """
)
_PARK = text(
    """
    UPDATE outbox_event SET status = 'parked', parked_at = now(), claimed_by = NULL, last_error = :error
     WHERE id = :id AND status = 'pending'
    """
)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    event_type: str
    source: str
    destination: str
    dossier_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: datetime
    attempts: int

    def envelope(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.event_type,
            "source": self.source,
            "dossier_id": str(self.dossier_id) if self.dossier_id else None,
            "occurred_at": self.created_at.isoformat(),
            "payload": self.payload,
        }


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempts-1))]."""
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    return max(0.05, random.uniform(0, ceiling))


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        client: httpx.AsyncClient,
        sources: Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.client = client
        self.sources = list(sources) if sources else None
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.urls: Mapping[str, str] = {
            "intake": settings.intake_url,
            "workflow": settings.workflow_url,
            "notify": settings.notify_url,
        }

    async def _claim(self) -> list[Claimed]:
        async with self.sessionmaker() as session, session.begin():
            rows = await session.execute(
                _CLAIM,
                {
                    "relay": self.name,
                    "lease": self.settings.relay_lease_seconds,
                    "sources": self.sources,
                    "limit": self.settings.relay_batch_size,
                },
            )
            return [Claimed(**row._mapping) for row in rows]

    async def _settle(self, statement: Any, params: dict[str, Any]) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(statement, params)

    async def _deliver(self, event: Claimed) -> None:
        url = self.urls[event.destination].rstrip("/") + EVENTS_PATH
        headers = {
            "Idempotency-Key": str(event.id),
            "Authorization": f"Bearer {service_token(self.settings, event.source)}",
        }
        error: str
        permanent = False
        try:
            response = await self.client.post(url, json=event.envelope(), headers=headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        else:
            if response.is_success:
                await self._settle(_DELIVERED, {"id": event.id})
                logger.info("event delivered", extra={"event_id": str(event.id), "event_type": event.event_type})
                return
            error = f"HTTP {response.status_code}: {response.text[:300]}"
            permanent = 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_4XX
        if permanent or event.attempts >= self.settings.relay_max_attempts:
            await self._settle(_PARK, {"id": event.id, "error": error})
            logger.error(
                "event parked", extra={"event_id": str(event.id), "event_type": event.event_type, "error": error}
            )
            return
        delay = backoff_seconds(
            event.attempts, base=self.settings.relay_backoff_base_seconds, cap=self.settings.relay_backoff_max_seconds
        )
        await self._settle(_RETRY, {"id": event.id, "delay": delay, "error": error, "relay": self.name})
        logger.warning(
            "event delivery failed, will retry",
            extra={"event_id": str(event.id), "attempts": event.attempts, "retry_in_s": round(delay, 2)},
        )

    async def run_once(self) -> int:
        """Claim and deliver one batch; return how many events were claimed."""
        batch = await self._claim()
        if batch:
            await asyncio.gather(*(self._deliver(event) for event in batch))
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("relay started", extra={"relay": self.name, "sources": self.sources})
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:
                logger.exception("relay iteration failed")
                claimed = 0
            if claimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.relay_poll_seconds)
        logger.info("relay stopped", extra={"relay": self.name})
