"""Notifications for staff: what was sent to whom (masked), the in-app inbox, re-sending a failed one."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import Conflict, NotFound
from services.domain.vocabulary import SEE_ALL_ROLES
from services.dossier.access import dossier_for
from services.models import Dossier, Notification
from services.notification.masking import mask_recipient
from services.notification.schemas import InboxOut, NotificationOut


def out(notification: Notification, dossier_code: str | None) -> NotificationOut:
    return NotificationOut(
        id=notification.id,
        event_id=notification.event_id,
        event_type=notification.event_type,
        dossier_code=dossier_code,
        channel=notification.channel,
        recipient=mask_recipient(notification.channel, notification.recipient),
        subject=notification.subject,
        body=notification.body,
        status=notification.status,
        attempts=notification.attempts,
        last_error=notification.last_error,
        created_at=notification.created_at,
        next_attempt_at=notification.next_attempt_at if notification.status == "queued" else None,
        sent_at=notification.sent_at,
        delivered_at=notification.delivered_at,
        failed_at=notification.failed_at,
        read_at=notification.read_at,
    )


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Rows a staff member may see: their own and their agency's notices, and those of the agency's dossiers."""
    conditions: list[ColumnElement[bool]] = []
    if actor.staff_id is not None:
        conditions.append(Notification.recipient_staff_id == actor.staff_id)
    if actor.agency_id is not None:
        conditions += [
            Notification.recipient_agency_id == actor.agency_id,
            Dossier.receiving_agency_id == actor.agency_id,
            Dossier.current_agency_id == actor.agency_id,
        ]
    return or_(*conditions) if conditions else false()


def _base() -> Select[Notification, str]:
    return select(Notification, Dossier.code).outerjoin(Dossier, Dossier.id == Notification.dossier_id)


async def list_notifications(
    session: AsyncSession,
    actor: Actor,
    *,
    dossier: str | None,
    status: str | None,
    channel: str | None,
    event_id: uuid.UUID | None,
    limit: int,
) -> list[NotificationOut]:
    """With ``dossier``: all of that dossier's notifications (404 unless the caller may see the dossier)."""
    query = _base().order_by(Notification.created_at.desc(), Notification.id)
    if dossier is not None:
        found = await dossier_for(session, dossier, actor)
        query = query.where(Notification.dossier_id == found.id)
    elif not actor.has_any(*SEE_ALL_ROLES):
        query = query.where(_visible(actor))
    if status is not None:
        query = query.where(Notification.status == status)
    if channel is not None:
        query = query.where(Notification.channel == channel)
    if event_id is not None:
        query = query.where(Notification.event_id == event_id)
    rows = await session.execute(query.limit(limit))
    return [out(notification, code) for notification, code in rows.all()]


def _mine(actor: Actor) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if actor.staff_id is not None:
        conditions.append(Notification.recipient_staff_id == actor.staff_id)
    if actor.agency_id is not None:
        conditions.append(Notification.recipient == f"agency:{actor.agency_id}")
    return (Notification.channel == "in_app") & (or_(*conditions) if conditions else false())


async def inbox(session: AsyncSession, actor: Actor, *, unread_only: bool, limit: int) -> InboxOut:
    """The caller's in-app notices: addressed to them, or to their agency."""
    query = _base().where(_mine(actor))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = await session.execute(query.order_by(Notification.created_at.desc(), Notification.id).limit(limit))
    unread = await session.scalar(
        select(func.count()).select_from(Notification).where(_mine(actor), Notification.read_at.is_(None))
    )
    return InboxOut(unread=int(unread or 0), items=[out(n, code) for n, code in rows.all()])


async def _one(
    session: AsyncSession, actor: Actor, notification_id: uuid.UUID, *, lock: bool
) -> tuple[Notification, str | None]:
    query = _base().where(Notification.id == notification_id)
    if not actor.has_any(*SEE_ALL_ROLES):
        query = query.where(_visible(actor))
    if lock:
        query = query.with_for_update(of=Notification)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("No such notification visible to you.", code="notification_not_found")
    return row[0], row[1]


async def mark_read(session: AsyncSession, actor: Actor, notification_id: uuid.UUID) -> NotificationOut:
    notification, code = await _one(session, actor, notification_id, lock=True)
    if notification.channel != "in_app":
        raise Conflict("Only in-app notices are read in the app.", code="not_in_app")
    if notification.read_at is None:
        notification.read_at = func.now()
        await session.flush()
        await session.refresh(notification)
    return out(notification, code)


async def resend(session: AsyncSession, actor: Actor, notification_id: uuid.UUID, *, origin: Origin) -> NotificationOut:
    """Queue a failed notification again, attempts reset; the sender takes it on its next round. Audited."""
    notification, code = await _one(session, actor, notification_id, lock=True)
    if notification.status != "failed":
        raise Conflict(f"Only failed notifications are re-sent; this one is {notification.status}.", code="not_failed")
    notification.status, notification.attempts, notification.claimed_by = "queued", 0, None
    notification.failed_at = notification.handed_over_at = None
    notification.next_attempt_at = func.now()
    await session.flush()
    await session.refresh(notification)
    entry = audit_entry(
        service="notify", action="notification_resend", resource=f"notification:{notification_id}", origin=origin,
        actor=actor, dossier_id=notification.dossier_id,
    )  # fmt: skip
    record(session, entry)
    return out(notification, code)
