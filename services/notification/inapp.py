"""Turning events into stored notifications, and listing them for staff."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Actor
from services.models import Dossier, Notification
from services.outbox.events import EventEnvelope


class NotificationOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


async def notify_complaint_received(session: AsyncSession, event: EventEnvelope) -> None:
    """Tell the agency's staff, in the app, that a complaint or suggestion arrived."""
    agency_id = uuid.UUID(str(event.payload["agency_id"]))
    kind = "Phản ánh" if event.payload.get("kind") == "complaint" else "Kiến nghị"
    await session.execute(
        insert(Notification)
        .values(
            event_id=event.id,
            event_type=event.type,
            complaint_id=uuid.UUID(str(event.payload["complaint_id"])),
            dossier_id=event.dossier_id,
            channel="in_app",
            recipient=f"agency:{agency_id}",
            recipient_agency_id=agency_id,
            subject=f"{kind} mới {event.payload['complaint_code']}",
            body=f"{kind} mới: {event.payload.get('subject', '')}",
            status="delivered",
            attempts=1,
            sent_at=event.occurred_at,
            delivered_at=event.occurred_at,
        )
        # a second delivery of the same event is a no-op, whatever reached accept_once
        .on_conflict_do_nothing(index_elements=["event_id", "channel", "recipient"])
    )


def visible_notifications(actor: Actor, *, dossier: str | None, event_id: uuid.UUID | None) -> Select[Notification]:
    """Notifications the caller may see: their agency's, or all for an administrator."""
    query = select(Notification).order_by(Notification.created_at.desc())
    if not actor.has_any("admin"):
        query = query.where(Notification.recipient_agency_id == actor.agency_id)
    if dossier is not None:
        query = query.join(Dossier, Dossier.id == Notification.dossier_id).where(Dossier.code == dossier)
    if event_id is not None:
        query = query.where(Notification.event_id == event_id)
    return query
