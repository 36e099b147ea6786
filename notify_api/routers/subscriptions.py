"""Outbound webhook subscribers (the postal operator first), their delivery log, and replay (administrators;
every change and replay is audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.core.audit import audit_entry, record
from services.core.deps import AdminActor, SessionDep, SettingsDep
from services.core.errors import problem_responses
from services.notification import outbound
from services.notification.schemas import DeliveryOut, DeliveryPage, DeliveryStatus, SubscriptionIn, SubscriptionOut

router = APIRouter(tags=["webhook subscriptions"])


@router.get("/api/v1/webhook-subscriptions", responses=problem_responses(401, 403))
async def list_subscriptions(session: SessionDep, _: AdminActor) -> list[SubscriptionOut]:
    """Every subscriber, by name."""
    rows = await outbound.list_subscriptions(session)
    return [SubscriptionOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("/api/v1/webhook-subscriptions", responses=problem_responses(401, 403, 422))
async def put_subscription(
    data: SubscriptionIn, request: Request, session: SessionDep, settings: SettingsDep, actor: AdminActor
) -> SubscriptionOut:
    """Create a subscriber, or replace the one with this name (https URL to an allowed address, secret setting,
    event types, active)."""
    row, before = await outbound.upsert_subscription(session, settings, data)
    record(
        session,
        audit_entry(
            service="notify",
            action="webhook_subscription_update" if before else "webhook_subscription_create",
            resource=f"webhook_subscription:{row.id}",
            request=request,
            actor=actor,
            detail={"before": before, "after": outbound.summary(row)},
        ),
    )
    return SubscriptionOut.model_validate(row, from_attributes=True)


@router.get("/api/v1/webhook-subscriptions/{subscription_id}/deliveries", responses=problem_responses(401, 403, 404))
async def deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    _: AdminActor,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryPage:
    """A subscriber's delivery log, newest first, with counts per status."""
    counts, rows = await outbound.delivery_log(session, subscription_id, status=status, limit=limit)
    return DeliveryPage(counts=counts, items=[DeliveryOut.model_validate(row, from_attributes=True) for row in rows])


@router.post("/api/v1/webhook-deliveries/{delivery_id}/replay", responses=problem_responses(401, 403, 404, 409))
async def replay(delivery_id: uuid.UUID, request: Request, session: SessionDep, actor: AdminActor) -> DeliveryOut:
    """Send a failed (or delivered) webhook again, under the same webhook-id, attempts reset."""
    row = await outbound.replay(session, delivery_id)
    record(
        session,
        audit_entry(
            service="notify",
            action="webhook_delivery_replay",
            resource=f"webhook_delivery:{row.id}",
            request=request,
            actor=actor,
            dossier_id=row.dossier_id,
            detail={"subscription_id": str(row.subscription_id), "event_type": row.event_type},
        ),
    )
    return DeliveryOut.model_validate(row, from_attributes=True)
