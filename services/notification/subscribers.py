"""The administrators' side of the outbound webhooks (services.notification.outbound): the subscribers,
their delivery log, and the audited changes — a subscriber created or replaced (the audit keeps what it
was before and after, the URL without its query), a delivery replayed."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.config import Settings
from services.notification import outbound
from services.notification.schemas import DeliveryOut, DeliveryPage, DeliveryStatus, SubscriptionIn, SubscriptionOut


async def subscribers(session: AsyncSession) -> list[SubscriptionOut]:
    """Every subscriber, by name."""
    return [
        SubscriptionOut.model_validate(row, from_attributes=True) for row in await outbound.list_subscriptions(session)
    ]


async def put(
    session: AsyncSession, settings: Settings, data: SubscriptionIn, *, actor: Actor, origin: Origin
) -> SubscriptionOut:
    """Create a subscriber or replace the one with this name; audited with before and after."""
    row, before = await outbound.upsert_subscription(session, settings, data)
    record(
        session,
        audit_entry(
            service="notify", action="webhook_subscription_update" if before else "webhook_subscription_create",
            resource=f"webhook_subscription:{row.id}", origin=origin, actor=actor,
            detail={"before": before, "after": outbound.summary(row)},
        ),
    )  # fmt: skip
    return SubscriptionOut.model_validate(row, from_attributes=True)


async def deliveries(
    session: AsyncSession, subscription_id: uuid.UUID, *, status: DeliveryStatus | None, limit: int
) -> DeliveryPage:
    """A subscriber's delivery log, newest first, with counts per status."""
    counts, rows = await outbound.delivery_log(session, subscription_id, status=status, limit=limit)
    return DeliveryPage(counts=counts, items=[DeliveryOut.model_validate(row, from_attributes=True) for row in rows])


async def replay(session: AsyncSession, delivery_id: uuid.UUID, *, actor: Actor, origin: Origin) -> DeliveryOut:
    """Send a delivery again under the same webhook-id, attempts reset; audited."""
    row = await outbound.replay(session, delivery_id)
    record(
        session,
        audit_entry(
            service="notify", action="webhook_delivery_replay", resource=f"webhook_delivery:{row.id}", origin=origin,
            actor=actor, dossier_id=row.dossier_id,
            detail={"subscription_id": str(row.subscription_id), "event_type": row.event_type},
        ),
    )  # fmt: skip
    return DeliveryOut.model_validate(row, from_attributes=True)
