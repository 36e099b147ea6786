"""Outbound webhook subscribers (the postal operator first), their delivery log, and replay (administrators;
every change and replay is audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.core.deps import AdminActor, OriginDep, SessionDep, SettingsDep
from services.core.errors import problem_responses
from services.notification import subscribers
from services.notification.schemas import DeliveryOut, DeliveryPage, DeliveryStatus, SubscriptionIn, SubscriptionOut

router = APIRouter(tags=["webhook subscriptions"])


@router.get("/api/v1/webhook-subscriptions", responses=problem_responses(401, 403))
async def list_subscriptions(session: SessionDep, _: AdminActor) -> list[SubscriptionOut]:
    """Every subscriber, by name."""
    return await subscribers.subscribers(session)


@router.post("/api/v1/webhook-subscriptions", responses=problem_responses(401, 403, 422))
async def put_subscription(
    data: SubscriptionIn, origin: OriginDep, session: SessionDep, settings: SettingsDep, actor: AdminActor
) -> SubscriptionOut:
    """Create a subscriber, or replace the one with this name (https URL to an allowed address, secret setting,
    event types, active)."""
    return await subscribers.put(session, settings, data, actor=actor, origin=origin)


@router.get("/api/v1/webhook-subscriptions/{subscription_id}/deliveries", responses=problem_responses(401, 403, 404))
async def deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    _: AdminActor,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryPage:
    """A subscriber's delivery log, newest first, with counts per status."""
    return await subscribers.deliveries(session, subscription_id, status=status, limit=limit)


@router.post("/api/v1/webhook-deliveries/{delivery_id}/replay", responses=problem_responses(401, 403, 404, 409))
async def replay(delivery_id: uuid.UUID, origin: OriginDep, session: SessionDep, actor: AdminActor) -> DeliveryOut:
    """Send a failed (or delivered) webhook again, under the same webhook-id, attempts reset."""
    return await subscribers.replay(session, delivery_id, actor=actor, origin=origin)
