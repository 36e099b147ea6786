"""The receiving side: process each event at most once in effect."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import ProcessedEvent
from services.outbox.events import EventEnvelope

# Core, compiled once: as an ORM-enabled insert of the entity the statement went through the ORM's bulk
# persistence at every event — a tenth of notify_api's CPU in the pipeline benchmark, BEGIN included
# (bench/profiles/2026-12-06-sender.md)
_PROCESSED = cast(Table, ProcessedEvent.__table__)
_ACCEPT = insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.event_id)


async def accept_once(session: AsyncSession, *, consumer: str, event: EventEnvelope) -> bool:
    """Record the event as processed by ``consumer``; False when it already was.

    Call it in the same transaction as the event's effect: if that transaction rolls back,
    so does the record, and the relay's retry is processed again. Two deliveries racing
    each other serialise on the primary key; the second sees the first's row and skips.
    """
    inserted = await session.execute(_ACCEPT, {"consumer": consumer, "event_id": event.id, "event_type": event.type})
    return inserted.first() is not None
