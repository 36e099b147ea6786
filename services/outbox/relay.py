"""The relay: claim due events, POST them to their destination, record the outcome.

The queue mechanics (claim with ``FOR UPDATE SKIP LOCKED`` and a lease, backoff with full jitter,
parking, the polling loop) are ``services.core.queue``, shared with the notification sender and
the webhook dispatcher; why not a queue library is written there. What is the relay's own: the
sources it serves, the claim order (``available_at, created_at``: oldest first), the POST with the
event id as ``Idempotency-Key`` and a service JWT, and which answers are worth retrying.

Delivery is at least once: a claim is a lease (``available_at`` moved forward); a relay that
dies mid-flight leaves the lease to expire and another relay takes the event again. Receivers
deduplicate on the event id (``services.outbox.inbox.accept_once``), which is also why a late
success or a parking is recorded even when another relay holds the lease by then.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.auth import service_token
from services.core.config import Settings
from services.core.listen import wakeup
from services.core.queue import Queue, backoff_seconds, poll, worker_name
from services.core.worker import Task

logger = logging.getLogger("motcua.relay")

EVENTS_PATH = "/internal/v1/events"
# a receiver that answers these may succeed later; other 4xx answers will not change by retrying
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})

OUTBOX = Queue(
    table="outbox_event",
    waiting="pending",
    parked="parked",
    parked_at="parked_at",
    due="available_at",
    order_by="available_at, created_at",
    returning=("id", "event_type", "source", "destination", "dossier_id", "payload", "created_at", "attempts"),
    touch=False,
    settle_any_claim=True,  # a delivery is recorded whoever holds the lease now: receivers deduplicate
)
_OF_SOURCES = "CAST(:sources AS text[]) IS NULL OR source = ANY(CAST(:sources AS text[]))"


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
        self.name = name or worker_name()
        self.urls: Mapping[str, str] = {
            "intake": settings.urls.intake,
            "workflow": settings.urls.workflow,
            "notify": settings.urls.notify,
        }

    async def _claim(self) -> list[Claimed]:
        async with self.sessionmaker() as session, session.begin():
            rows = await OUTBOX.claim(
                session,
                worker=self.name,
                lease=self.settings.relay.lease_seconds,
                limit=self.settings.relay.batch_size,
                where=_OF_SOURCES,
                sources=self.sources,
            )
        return [Claimed(**row) for row in rows]

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
                async with self.sessionmaker() as session, session.begin():
                    await OUTBOX.complete(
                        session,
                        self.name,
                        [{"id": event.id}],
                        sets="status = 'delivered', delivered_at = now(), last_error = NULL",
                    )
                logger.info("event delivered", extra={"event_id": str(event.id), "event_type": event.event_type})
                return
            error = f"HTTP {response.status_code}: {response.text[:300]}"
            permanent = 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_4XX
        if permanent or event.attempts >= self.settings.relay.max_attempts:
            async with self.sessionmaker() as session, session.begin():
                await OUTBOX.park(session, self.name, [{"id": event.id, "error": error}])
            logger.error(
                "event parked", extra={"event_id": str(event.id), "event_type": event.event_type, "error": error}
            )
            return
        delay = backoff_seconds(
            event.attempts, base=self.settings.relay.backoff_base_seconds, cap=self.settings.relay.backoff_max_seconds
        )
        async with self.sessionmaker() as session, session.begin():
            await OUTBOX.retry(session, self.name, [{"id": event.id, "delay": delay, "error": error}])
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
        wake = wakeup(
            self.settings,
            OUTBOX.table,
            keys=self.sources,
            enabled=self.settings.relay.listen,
            what="relay-" + "-".join(self.sources or ["all"]),
            logger=logger,
        )
        await poll(self.run_once, stop, every=self.settings.relay.poll_seconds, logger=logger, what="relay", wake=wake)
        logger.info("relay stopped", extra={"relay": self.name})


def relay_task(sources: Sequence[str]) -> Task:
    """The worker task: a relay for the events these services write."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:
        await Relay(sessionmaker, settings, client=client, sources=sources).run(stop)

    return task
