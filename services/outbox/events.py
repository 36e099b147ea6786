"""Writing events: in the caller's transaction, never sent from inside it."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import tracing
from services.core.tracing import TRACEPARENT
from services.core.validation import IsoDateTime, StrictModel
from services.models import OutboxEvent

Destination = Literal["intake", "workflow", "notify"]


class EventEnvelope(StrictModel):
    """What a receiver gets: the event id is also the ``Idempotency-Key`` header."""

    id: uuid.UUID
    type: str = Field(min_length=1, max_length=64)
    source: str
    dossier_id: uuid.UUID | None = None
    occurred_at: IsoDateTime
    payload: dict[str, Any]
    traceparent: str | None = Field(
        default=None, pattern=TRACEPARENT.pattern, description="W3C trace context of the relay's span (tracing on)"
    )


async def emit(
    session: AsyncSession,
    *,
    event_type: str,
    source: str,
    destination: Destination,
    payload: dict[str, Any],
    dossier_id: uuid.UUID | None = None,
) -> OutboxEvent:
    """Add an event to the outbox; it is delivered only if the caller's transaction commits.

    Not flushed here: the caller's next flush (or its commit) writes a request's events together, one
    INSERT for all of them (a filing's two were two round trips)."""
    event = OutboxEvent(
        id=uuid.uuid4(),
        event_type=event_type,
        source=source,
        destination=destination,
        payload=payload,
        dossier_id=dossier_id,
        trace_context=tracing.current(),  # None with tracing off (services.core.tracing)
    )
    session.add(event)
    return event
