"""Operators' view of the outbox: parked events are visible and can be queued again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from services.core.audit import audit_entry, record
from services.core.deps import AdminActor, SessionDep
from services.core.errors import Conflict, NotFound, problem_responses
from services.models import OutboxEvent

Status = Literal["pending", "delivered", "parked"]


class OutboxEventOut(BaseModel):
    id: uuid.UUID
    event_type: str
    source: str
    destination: str
    dossier_id: uuid.UUID | None
    status: str
    attempts: int
    created_at: datetime
    available_at: datetime
    delivered_at: datetime | None
    parked_at: datetime | None
    last_error: str | None


class OutboxPage(BaseModel):
    counts: dict[str, int]
    items: list[OutboxEventOut]


def outbox_router(service: str = "workflow") -> APIRouter:
    """The operators' routes; ``service`` names the service in the audit log."""
    router = APIRouter(prefix="/api/v1/outbox", tags=["operations"])

    @router.get("", responses=problem_responses(401, 403))
    async def list_events(
        session: SessionDep,
        _: AdminActor,
        status: Status = "parked",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> OutboxPage:
        """Outbox events by status (parked ones by default), newest first, with counts per status."""
        grouped = await session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status))
        # not dict(result): a Result has keys() (its column names), so dict() would index it
        counts = {state: number for state, number in grouped.all()}
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.status == status).order_by(OutboxEvent.created_at.desc()).limit(limit)
        )
        return OutboxPage(counts=counts, items=[OutboxEventOut.model_validate(r, from_attributes=True) for r in rows])

    @router.post("/{event_id}/requeue", responses=problem_responses(401, 403, 404, 409))
    async def requeue(event_id: uuid.UUID, request: Request, session: SessionDep, actor: AdminActor) -> OutboxEventOut:
        """Queue a parked event for delivery again, with its attempts reset (audited)."""
        event = await session.get(OutboxEvent, event_id, with_for_update=True)
        if event is None:
            raise NotFound("No such outbox event.", code="event_not_found")
        if event.status != "parked":
            raise Conflict(f"Only parked events can be requeued; this one is {event.status}.", code="not_parked")
        event.status, event.attempts, event.parked_at, event.claimed_by = "pending", 0, None, None
        event.available_at = func.now()
        record(
            session,
            audit_entry(
                service=service,
                action="outbox_requeue",
                resource=f"outbox_event:{event.id}",
                request=request,
                actor=actor,
                dossier_id=event.dossier_id,
                detail={"event_type": event.event_type, "destination": event.destination},
            ),
        )
        await session.flush()
        await session.refresh(event)
        return OutboxEventOut.model_validate(event, from_attributes=True)

    return router
