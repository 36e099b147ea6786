"""What was sent to whom, by which channel, with its delivery status."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.core.deps import ActorDep, SessionDep
from services.core.errors import problem_responses
from services.notification.inapp import NotificationOut, visible_notifications

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", responses=problem_responses(401, 403))
async def list_notifications(
    session: SessionDep,
    actor: ActorDep,
    dossier: Annotated[str | None, Query(max_length=64, description="dossier code")] = None,
    event_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationOut]:
    """Notifications of the caller's agency (all of them for an administrator), newest first."""
    rows = await session.scalars(visible_notifications(actor, dossier=dossier, event_id=event_id).limit(limit))
    return [NotificationOut.model_validate(row, from_attributes=True) for row in rows]
