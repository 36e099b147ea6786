"""The receiving side: process each event at most once in effect."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import ProcessedEvent
from services.outbox.events import EventEnvelope


async def accept_once(session: AsyncSession, *, consumer: str, event: EventEnvelope) -> bool:
    """Record the event as processed by ``consumer``; False when it already was.

    Call it in the same transaction as the event's effect: if that transaction rolls back,
    so does the record, and the relay's retry is processed again. Two deliveries racing
    each other serialise on the primary key; the second sees the first's row and skips.
    """
    inserted = await session.execute(
        insert(ProcessedEvent)
        .values(consumer=consumer, event_id=event.id, event_type=event.type)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.event_id)
    )
    return inserted.first() is not None
