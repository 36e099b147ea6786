"""What was sent to whom, by which channel, with its delivery status; the in-app inbox; re-sending."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.core.auth import Actor
from services.core.deps import ActorDep, OriginDep, SessionDep, require_roles
from services.core.errors import problem_responses
from services.domain.vocabulary import RESEND_ROLES
from services.notification import service
from services.notification.schemas import ChannelName, InboxOut, NotificationOut, NotificationStatus

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Resender = Annotated[Actor, Depends(require_roles(*RESEND_ROLES))]


@router.get("", responses=problem_responses(401, 403, 404))
async def list_notifications(
    session: SessionDep,
    actor: ActorDep,
    dossier: Annotated[str | None, Query(max_length=64, description="dossier code")] = None,
    status: NotificationStatus | None = None,
    channel: ChannelName | None = None,
    event_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationOut]:
    """Notifications, newest first, recipients masked: a dossier's (if the caller may see it), else the agency's."""
    return await service.list_notifications(
        session, actor, dossier=dossier, status=status, channel=channel, event_id=event_id, limit=limit
    )


@router.get("/inbox", responses=problem_responses(401))
async def inbox(
    session: SessionDep,
    actor: ActorDep,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InboxOut:
    """The caller's in-app notices (to them or to their agency), newest first, with the unread count."""
    return await service.inbox(session, actor, unread_only=unread, limit=limit)


@router.post("/{notification_id}/read", responses=problem_responses(401, 404, 409))
async def mark_read(notification_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> NotificationOut:
    """Mark an in-app notice as read."""
    return await service.mark_read(session, actor, notification_id)


@router.post("/{notification_id}/resend", responses=problem_responses(401, 403, 404, 409))
async def resend(
    notification_id: uuid.UUID, origin: OriginDep, session: SessionDep, actor: Resender
) -> NotificationOut:
    """Queue a failed notification again (administrator or counter officer); the sender retries it from scratch."""
    return await service.resend(session, actor, notification_id, origin=origin)
