"""Outbound webhook subscribers (the postal operator first), their delivery log, and replay."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.core.auth import Actor
from services.core.deps import SessionDep, require_roles
from services.core.errors import problem_responses
from services.notification import outbound
from services.notification.schemas import DeliveryOut, DeliveryPage, DeliveryStatus, SubscriptionIn, SubscriptionOut

router = APIRouter(tags=["webhook subscriptions"])
Admin = Annotated[Actor, Depends(require_roles("admin"))]


@router.get("/api/v1/webhook-subscriptions", responses=problem_responses(401, 403))
async def list_subscriptions(session: SessionDep, _: Admin) -> list[SubscriptionOut]:
    """Every subscriber, by name."""
    rows = await outbound.list_subscriptions(session)
    return [SubscriptionOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("/api/v1/webhook-subscriptions", responses=problem_responses(401, 403))
async def put_subscription(data: SubscriptionIn, session: SessionDep, _: Admin) -> SubscriptionOut:
    """Create a subscriber, or replace the one with this name (URL, secret setting, event types, active)."""
    row = await outbound.upsert_subscription(session, data)
    return SubscriptionOut.model_validate(row, from_attributes=True)


@router.get("/api/v1/webhook-subscriptions/{subscription_id}/deliveries", responses=problem_responses(401, 403, 404))
async def deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    _: Admin,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryPage:
    """A subscriber's delivery log, newest first, with counts per status."""
    counts, rows = await outbound.delivery_log(session, subscription_id, status=status, limit=limit)
    return DeliveryPage(counts=counts, items=[DeliveryOut.model_validate(row, from_attributes=True) for row in rows])


@router.post("/api/v1/webhook-deliveries/{delivery_id}/replay", responses=problem_responses(401, 403, 404, 409))
async def replay(delivery_id: uuid.UUID, session: SessionDep, _: Admin) -> DeliveryOut:
    """Send a failed (or delivered) webhook again, under the same webhook-id, attempts reset."""
    row = await outbound.replay(session, delivery_id)
    return DeliveryOut.model_validate(row, from_attributes=True)
