"""The ``POST /internal/v1/events`` endpoint every service mounts to receive relayed events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import SERVICE_ROLE, Actor
from services.core.deps import SessionDep, require_roles
from services.core.errors import problem_responses
from services.outbox.events import EventEnvelope
from services.outbox.inbox import accept_once
from services.outbox.relay import EVENTS_PATH

logger = logging.getLogger("motcua.events")

Handler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]
ServiceCaller = Annotated[Actor, Depends(require_roles(SERVICE_ROLE))]


class EventAck(BaseModel):
    id: str
    outcome: str  # processed, duplicate, ignored


def events_router(consumer: str, handlers: Mapping[str, Handler]) -> APIRouter:
    router = APIRouter(tags=["internal"])

    @router.post(EVENTS_PATH, responses=problem_responses(401, 403))
    async def receive_event(event: EventEnvelope, session: SessionDep, _: ServiceCaller) -> EventAck:
        """Receive one relayed event; a repeated delivery of the same id has no further effect."""
        if not await accept_once(session, consumer=consumer, event=event):
            return EventAck(id=str(event.id), outcome="duplicate")
        handler = handlers.get(event.type)
        if handler is None:
            logger.info("event ignored: no handler", extra={"event_type": event.type, "event_id": str(event.id)})
            return EventAck(id=str(event.id), outcome="ignored")
        await handler(session, event)
        return EventAck(id=str(event.id), outcome="processed")

    return router
