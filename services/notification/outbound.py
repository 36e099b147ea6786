"""Outbound webhooks: subscribers (the postal operator first), signed deliveries, retries, a log, replay.

A subscriber names the event types it wants and the setting that holds its signing secret
(``secret_ref``, a ``whsec_…`` value). When notify_api receives an event, a ``webhook_delivery``
row per interested subscriber is written in the same transaction (unique by subscriber, event and
type). The worker's dispatcher claims due deliveries with ``FOR UPDATE SKIP LOCKED`` and a lease,
POSTs ``{"type", "timestamp", "data"}`` signed with the Standard Webhooks scheme (``webhook-id`` =
the delivery id, the same on every retry, so the subscriber can deduplicate), and records the
answer: 2xx is delivered; anything else is retried with exponential backoff and full jitter until
``webhook_max_attempts``, then the delivery is ``failed`` — listed per subscriber and replayable.

The postal operator: with ``MOTCUA_POSTAL_API_URL`` set, a subscription ``postal`` is kept in line
with the settings and receives ``postal.pickup_requested`` (a dossier submitted for pickup at home,
channel 3) and ``postal.delivery_requested`` (a dossier with postal return is resolved, or the desk
asks again for a result the post brought back), each with the desk's code, name, street address and
hours for the postman. The stored
payload carries no personal data; the pickup or delivery contact (name, phone, address) the
operator needs is read from the dossier when the request is sent and is never stored or logged.

Personal data goes to the postal operator only. Its subscription is the one named ``postal``, which
only the settings write (the API refuses that name), and only while its URL and signing secret are
still ``MOTCUA_POSTAL_API_URL`` and ``postal_api_secret``; no other subscription may take the
``postal.*`` types (422 when saved, never enqueued, failed unsent if one were found at send time).

Where a webhook may go is ``services/core/egress``: https only outside demo mode, every resolved
address checked against the policy when the subscription is saved and again, pinned, when each
request connects. The delivery log keeps the target's status code and a short classification of a
failure (``HTTP 500``, ``timeout``, ``refused: link_local`` …), never the target's response body,
which is not even read. Saving a subscription and replaying a delivery are audited.

The dispatcher that sends them (the worker side) is ``services.notification.webhook_dispatch``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

import httpx
from sqlalchemy import String, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import Settings
from services.core.egress import EgressPolicy, TargetRefused
from services.core.errors import Conflict, NotFound, Unprocessable
from services.models import Agency, WebhookSubscription
from services.models.webhook import WebhookDelivery
from services.notification.facts import DossierFacts
from services.notification.rules import OUTBOUND_ONLY, POSTAL_DELIVERY, POSTAL_PICKUP, RULES
from services.notification.schemas import SubscriptionIn
from services.outbox.events import EventEnvelope

logger = logging.getLogger("motcua.webhooks")

POSTAL_SUBSCRIPTION = "postal"
# settings a subscription may sign with: never the JWT key nor an inbound webhook's secret
OUTBOUND_SECRETS = frozenset({"postal_api_secret", "webhook_signing_secret"})
SUBSCRIBABLE = frozenset(RULES) | frozenset(OUTBOUND_ONLY)


def is_postal_operator(subscription: WebhookSubscription, settings: Settings) -> bool:
    """The postal operator's own subscription, as the settings define it: the only one given personal data."""
    return (
        subscription.name == POSTAL_SUBSCRIPTION
        and bool(settings.postal.api_url)
        and subscription.url == settings.postal.api_url
        and subscription.secret_ref == "postal_api_secret"  # noqa: S105 - the name of a setting
    )


# --- subscriptions -----------------------------------------------------------------------------------------


async def ensure_postal_subscription(session: AsyncSession, settings: Settings) -> None:
    """Keep the ``postal`` subscription in line with ``MOTCUA_POSTAL_API_URL`` (nothing when unset)."""
    if not settings.postal.api_url:
        return
    await session.execute(
        insert(WebhookSubscription)
        .values(
            name=POSTAL_SUBSCRIPTION,
            url=settings.postal.api_url,
            secret_ref="postal_api_secret",  # noqa: S106 - the name of a setting, not a secret
            event_types=[POSTAL_PICKUP, POSTAL_DELIVERY],
            active=True,
        )
        .on_conflict_do_update(
            index_elements=["name"],
            set_={"url": settings.postal.api_url, "secret_ref": "postal_api_secret", "updated_at": func.now()},
        )
    )


def summary(subscription: WebhookSubscription | None) -> dict[str, Any] | None:
    """What the audit log keeps of a subscription (the URL without its query, which may hold a token)."""
    if subscription is None:
        return None
    url = httpx.URL(subscription.url)
    return {
        "name": subscription.name,
        "url": str(url.copy_with(query=None, fragment=None)),
        "secret_ref": subscription.secret_ref,
        "event_types": list(subscription.event_types),
        "active": subscription.active,
    }


async def check_target(settings: Settings, url: str) -> None:
    """The egress policy on a subscriber's URL when it is saved (422); the sender checks again at each send."""
    try:
        await EgressPolicy.from_settings(settings).check_url(url)
    except TargetRefused as exc:
        if exc.reason == "insecure_scheme":
            raise Unprocessable("Webhook URLs must use https.", code="webhook_url_insecure") from None
        if exc.reason == "dns_error":
            raise Unprocessable(
                "The webhook URL's host does not resolve.", code="webhook_target_unresolvable"
            ) from None
        raise Unprocessable(
            "Webhooks may not be sent to this address.", code="webhook_target_forbidden", reason=exc.reason
        ) from None


async def upsert_subscription(
    session: AsyncSession, settings: Settings, data: SubscriptionIn
) -> tuple[WebhookSubscription, dict[str, Any] | None]:
    """Create or replace a subscriber (checked first: no DNS inside the transaction); also what it was before."""
    if data.name == POSTAL_SUBSCRIPTION:
        raise Unprocessable(
            "The postal operator's subscription is kept from the settings (MOTCUA_POSTAL_API_URL).",
            code="subscription_reserved",
        )
    reserved = sorted(set(data.event_types) & set(OUTBOUND_ONLY))
    if reserved:
        raise Unprocessable(
            "These event types carry personal data and go to the postal operator only.",
            code="event_type_reserved",
            reserved=reserved,
        )
    if data.secret_ref not in OUTBOUND_SECRETS:
        raise Unprocessable(
            "secret_ref must name a setting that holds an outbound signing secret.",
            code="invalid_secret_ref",
            allowed=sorted(OUTBOUND_SECRETS),
        )
    unknown = sorted(set(data.event_types) - SUBSCRIBABLE)
    if unknown:
        raise Unprocessable("Unknown event types.", code="unknown_event_type", unknown=unknown)
    await check_target(settings, str(data.url))
    before = summary(
        await session.scalar(select(WebhookSubscription).where(WebhookSubscription.name == data.name).with_for_update())
    )
    values = {
        "url": str(data.url),
        "secret_ref": data.secret_ref,
        "event_types": sorted(set(data.event_types)),
        "active": data.active,
    }
    await session.execute(
        insert(WebhookSubscription)
        .values(name=data.name, **values)
        .on_conflict_do_update(index_elements=["name"], set_={**values, "updated_at": func.now()})
    )
    subscription = await session.scalar(
        select(WebhookSubscription)
        .where(WebhookSubscription.name == data.name)
        .execution_options(populate_existing=True)
    )
    assert subscription is not None
    return subscription, before


async def list_subscriptions(session: AsyncSession) -> list[WebhookSubscription]:
    return list(await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.name)))


async def delivery_log(
    session: AsyncSession, subscription_id: uuid.UUID, *, status: str | None, limit: int
) -> tuple[dict[str, int], list[WebhookDelivery]]:
    """A subscriber's deliveries, newest first, and how many there are per status."""
    if await session.get(WebhookSubscription, subscription_id) is None:
        raise NotFound("No such subscription.", code="subscription_not_found")
    grouped = await session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.subscription_id == subscription_id)
        .group_by(WebhookDelivery.status)
    )
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = await session.scalars(query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit))
    return {state: number for state, number in grouped.all()}, list(rows)


# --- deliveries, written with the event -----------------------------------------------------------------


async def _agency(session: AsyncSession, agency_id: uuid.UUID) -> dict[str, Any]:
    """Where the postman hands a dossier over or collects a result: the desk, its street address and hours."""
    row = (
        await session.execute(
            select(Agency.code, Agency.name, Agency.street_address, Agency.postal_hours).where(Agency.id == agency_id)
        )
    ).first()
    if row is None:
        return {}
    return {
        "agency_code": row.code,
        "agency_name": row.name,
        "agency_address": row.street_address,
        "agency_postal_hours": row.postal_hours,
    }


# the active subscriptions that want one of an event's types: Core, built and compiled once (its ORM form, built
# at every event, loaded entities: an eighth of notify_api's CPU, bench/profiles/2026-12-06-sender.md)
_SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
_INTERESTED = select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.name, _SUBSCRIPTIONS.c.event_types).where(
    _SUBSCRIPTIONS.c.active.is_(True),
    _SUBSCRIPTIONS.c.event_types.overlap(bindparam("types", type_=ARRAY(String))),
)


async def enqueue_deliveries(session: AsyncSession, event: EventEnvelope, dossier: DossierFacts | None) -> int:
    """Write the deliveries this event owes to active subscribers; return how many were new."""
    types = [event.type]
    if event.type == "dossier.submitted" and event.payload.get("channel") == 3:
        types.append(POSTAL_PICKUP)
    if event.type == "dossier.resolved" and dossier is not None and dossier.return_method == "postal":
        types.append(POSTAL_DELIVERY)
    if event.type == "dossier.redelivery_requested" and dossier is not None:
        types.append(POSTAL_DELIVERY)  # the desk asks again for a result the post brought back
    subscriptions = (await session.execute(_INTERESTED, {"types": types})).all()
    if not subscriptions:
        return 0
    rows = []
    for subscription in subscriptions:
        for event_type in types:
            if event_type not in subscription.event_types:
                continue
            if event_type in OUTBOUND_ONLY and subscription.name != POSTAL_SUBSCRIPTION:
                continue  # personal data: the postal operator's own subscription only
            if event_type in OUTBOUND_ONLY and dossier is not None:
                payload: dict[str, Any] = {
                    "dossier_code": dossier.code,
                    "service": "pickup" if event_type == POSTAL_PICKUP else "delivery",
                    "requested_at": event.occurred_at.isoformat(),
                    **await _agency(session, dossier.receiving_agency_id),
                }
                if event.type == "dossier.redelivery_requested":
                    payload["previous_tracking_number"] = event.payload.get("previous_tracking_number")
            else:
                payload = dict(event.payload)
            rows.append(
                {
                    "subscription_id": subscription.id,
                    "event_id": event.id,
                    "event_type": event_type,
                    "dossier_id": dossier.id if dossier else None,
                    "payload": payload,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": func.now(),
                }
            )
    if not rows:
        return 0
    inserted = await session.scalars(
        insert(WebhookDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_id", "event_type"])
        .returning(WebhookDelivery.id)
    )
    return len(inserted.all())


async def replay(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a failed (or already delivered) delivery again, under the same webhook-id."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("No such webhook delivery.", code="delivery_not_found")
    if delivery.status == "pending":
        raise Conflict("This delivery is still pending.", code="delivery_pending")
    delivery.status, delivery.attempts, delivery.claimed_by, delivery.failed_at = "pending", 0, None, None
    delivery.next_attempt_at = func.now()
    await session.flush()
    await session.refresh(delivery)
    return delivery
