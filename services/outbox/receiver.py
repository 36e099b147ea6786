"""The endpoints every service mounts to receive relayed events: ``POST /internal/v1/events`` (one)
and ``POST /internal/v1/events/batch`` (several, each in a transaction of its own).

The batch exists for the relay under load (services/outbox/relay.py): one request and one service
token check for up to ``MOTCUA_RELAY_EVENTS_PER_POST`` events rather than one of each per event (the
HTTP machinery on both sides was most of the CPU an event cost: bench/profiles/2026-12-05-events.md).
It changes nothing a receiver promises: each event is recorded once (``accept_once``) in the same
transaction as its effect, one transaction per event, so an event whose handler fails is rolled back
alone and answered ``failed`` (the relay retries it) or ``refused`` (a domain error: retrying cannot
help, the relay parks it). *Not one transaction for the batch*: measured, it held every event's locks
until the last one's work was done; a batch that outlived the relay's timeout was sent again and
deadlocked with itself (``processed_event`` inserts in both), and the pipeline stalled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import tracing
from services.core.auth import SERVICE_ROLE, Actor
from services.core.db import transaction
from services.core.deps import SessionDep, SessionmakerDep, require_roles
from services.core.errors import DomainError, problem_responses
from services.core.validation import StrictModel
from services.outbox.events import EventEnvelope
from services.outbox.inbox import accept_once
from services.outbox.relay import EVENTS_BATCH_PATH, EVENTS_PATH, MAX_EVENTS_PER_POST

logger = logging.getLogger("motcua.events")

Handler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]
ServiceCaller = Annotated[Actor, Depends(require_roles(SERVICE_ROLE))]


class EventAck(BaseModel):
    id: str
    outcome: str  # processed, duplicate, ignored; in a batch also failed (retry) and refused (park)


class EventBatch(StrictModel):
    events: list[EventEnvelope] = Field(min_length=1, max_length=MAX_EVENTS_PER_POST)


class BatchAck(BaseModel):
    results: list[EventAck]  # one per event, in the order sent


def events_router(consumer: str, handlers: Mapping[str, Handler]) -> APIRouter:
    router = APIRouter(tags=["internal"])

    async def receive(session: AsyncSession, event: EventEnvelope) -> EventAck:
        if event.traceparent is None or not tracing.enabled():
            return await handle(session, event)
        # the handling as a child of the relay's span: what it writes (notifications) continues the trace
        attributes = {"motcua.event.type": event.type, "motcua.consumer": consumer}
        with tracing.span(
            f"handle {event.type}", parent=event.traceparent, kind=SpanKind.CONSUMER, attributes=attributes
        ):
            return await handle(session, event)

    async def handle(session: AsyncSession, event: EventEnvelope) -> EventAck:
        if not await accept_once(session, consumer=consumer, event=event):
            return EventAck(id=str(event.id), outcome="duplicate")
        handler = handlers.get(event.type)
        if handler is None:
            logger.info("event ignored: no handler", extra={"event_type": event.type, "event_id": str(event.id)})
            return EventAck(id=str(event.id), outcome="ignored")
        await handler(session, event)
        return EventAck(id=str(event.id), outcome="processed")

    @router.post(EVENTS_PATH, responses=problem_responses(401, 403))
    async def receive_event(event: EventEnvelope, session: SessionDep, _: ServiceCaller) -> EventAck:
        """Receive one relayed event; a repeated delivery of the same id has no further effect."""
        return await receive(session, event)

    @router.post(EVENTS_BATCH_PATH, responses=problem_responses(401, 403))
    async def receive_events(batch: EventBatch, sessionmaker: SessionmakerDep, _: ServiceCaller) -> BatchAck:
        """Receive several relayed events, each in its own transaction, in order: an outcome per event."""
        results: list[EventAck] = []
        for event in batch.events:
            try:
                async with transaction(sessionmaker) as session:
                    results.append(await receive(session, event))
            except DomainError as exc:
                logger.warning(
                    "event refused", extra={"event_type": event.type, "event_id": str(event.id), "code": exc.code}
                )
                results.append(EventAck(id=str(event.id), outcome="refused"))
            except Exception:
                logger.exception("event failed", extra={"event_type": event.type, "event_id": str(event.id)})
                results.append(EventAck(id=str(event.id), outcome="failed"))
        return BatchAck(results=results)

    return router
