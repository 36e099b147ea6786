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
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from services.core.config import Settings
from services.core.egress import EgressPolicy, TargetRefused, classify, guarded_client
from services.core.errors import Conflict, NotFound, Unprocessable
from services.core.queue import Queue, backoff_seconds, poll, worker_name
from services.core.worker import Task
from services.models import Agency, Dossier, WebhookSubscription
from services.models.webhook import WebhookDelivery
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


async def enqueue_deliveries(session: AsyncSession, event: EventEnvelope, dossier: Dossier | None) -> int:
    """Write the deliveries this event owes to active subscribers; return how many were new."""
    types = [event.type]
    if event.type == "dossier.submitted" and event.payload.get("channel") == 3:
        types.append(POSTAL_PICKUP)
    if event.type == "dossier.resolved" and dossier is not None and dossier.return_method == "postal":
        types.append(POSTAL_DELIVERY)
    if event.type == "dossier.redelivery_requested" and dossier is not None:
        types.append(POSTAL_DELIVERY)  # the desk asks again for a result the post brought back
    subscriptions = list(
        await session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.active.is_(True), WebhookSubscription.event_types.overlap(types)
            )
        )
    )
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


# --- the dispatcher (worker) -----------------------------------------------------------------------------

DELIVERIES = Queue(
    table="webhook_delivery",
    waiting="pending",
    parked="failed",
    parked_at="failed_at",
    returning=("id", "subscription_id", "event_type", "dossier_id", "payload", "attempts"),
    recorded={"last_status_code": "int"},  # the target's answer, kept with every retry and failure
)
_OF_SUBSCRIPTIONS = "CAST(:subscriptions AS uuid[]) IS NULL OR subscription_id = ANY(CAST(:subscriptions AS uuid[]))"
_DELIVERED = "status = 'delivered', delivered_at = now(), last_status_code = v.code, last_error = NULL"


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    attempts: int
    url: str | None
    secret: SecretStr | None
    contact: dict[str, Any] | None
    refused: str | None = None  # why it must not be sent at all (failed at once)


def signing_secret(settings: Settings, secret_ref: str) -> SecretStr | None:
    # a secret_ref is the setting's flat name (stored in subscriptions, given by the API), not its place in a group
    secrets = {
        "postal_api_secret": settings.postal.api_secret,
        "webhook_signing_secret": settings.webhooks.signing_secret,
    }
    value = secrets.get(secret_ref) if secret_ref in OUTBOUND_SECRETS else None
    return value if value is not None and value.get_secret_value() else None


def signed_request(webhook_id: str, secret: SecretStr, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers for one delivery."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    sent_at = datetime.now(UTC)
    signature = Webhook(secret.get_secret_value()).sign(msg_id=webhook_id, timestamp=sent_at, data=content)
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    return content.encode(), headers


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        name: str | None = None,
        subscription_ids: Sequence[uuid.UUID] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.timeout = settings.notify.send_timeout_seconds
        # its own client: every connection goes through the egress policy
        self.client = guarded_client(settings, timeout=self.timeout)
        self.name = name or worker_name()
        self.subscription_ids = [str(s) for s in subscription_ids] if subscription_ids is not None else None  # tests

    async def __aenter__(self) -> Dispatcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def _claim(self) -> list[Claimed]:
        async with self.sessionmaker() as session, session.begin():
            rows = await DELIVERIES.claim(
                session,
                worker=self.name,
                lease=self.settings.notify.lease_seconds,
                limit=self.settings.notify.batch_size,
                where=_OF_SUBSCRIPTIONS,
                subscriptions=self.subscription_ids,
            )
            if not rows:
                return []
            subscriptions = {
                s.id: s
                for s in await session.scalars(
                    select(WebhookSubscription).where(WebhookSubscription.id.in_({r["subscription_id"] for r in rows}))
                )
            }
            postal = {r["dossier_id"] for r in rows if r["event_type"] in OUTBOUND_ONLY and r["dossier_id"]}
            contacts = {
                d.id: {"name": d.applicant_name, "phone": d.applicant_phone, "address": d.postal_address}
                for d in await session.scalars(select(Dossier).where(Dossier.id.in_(postal)))
            }
        claimed = []
        for row in rows:
            subscription = subscriptions.get(row["subscription_id"])
            usable = subscription is not None and subscription.active
            personal = row["event_type"] in OUTBOUND_ONLY
            operator = subscription is not None and is_postal_operator(subscription, self.settings)
            claimed.append(
                Claimed(
                    id=row["id"],
                    event_type=row["event_type"],
                    payload=dict(row["payload"]),
                    attempts=row["attempts"],
                    url=subscription.url if usable and subscription else None,
                    secret=signing_secret(self.settings, subscription.secret_ref) if usable and subscription else None,
                    contact=contacts.get(row["dossier_id"]) if personal and operator else None,
                    refused="personal data for the postal operator only" if personal and not operator else None,
                )
            )
        return claimed

    async def _settle(self, outcome: Callable[[AsyncSession], Awaitable[object]], delivery_id: uuid.UUID) -> None:
        for attempt in range(3):
            try:
                async with self.sessionmaker() as session, session.begin():
                    await outcome(session)
                return
            except Exception:
                if attempt == 2:
                    logger.exception("could not record a webhook delivery's outcome", extra={"id": str(delivery_id)})
                    return
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _fail(self, item: Claimed, code: int | None, error: str) -> None:
        row = {"id": item.id, "last_status_code": code, "error": error}
        await self._settle(lambda session: DELIVERIES.park(session, self.name, [row]), item.id)

    async def _deliver(self, item: Claimed, deadline: float) -> None:
        if item.refused is not None:
            await self._fail(item, None, item.refused)
            return
        if item.url is None:
            await self._fail(item, None, "subscription inactive or removed")
            return
        if item.secret is None:
            await self._fail(item, None, "signing secret not configured")
            return
        if time.monotonic() + self.timeout > deadline:
            # the lease could lapse mid-send: let it go
            await self._settle(lambda session: DELIVERIES.release(session, self.name, [item.id]), item.id)
            return
        data = dict(item.payload)
        if item.contact is not None:
            data["contact"] = item.contact
        body = {"type": item.event_type, "timestamp": datetime.now(UTC).isoformat(), "data": data}
        content, headers = signed_request(str(item.id), item.secret, body)
        code: int | None = None
        try:
            # the body is never read: what a subscriber answers is not ours to keep or show
            async with self.client.stream("POST", item.url, content=content, headers=headers) as response:
                code = response.status_code
        except httpx.HTTPError as exc:
            error = classify(exc)
        else:
            if 200 <= code < 300:
                done = {"id": item.id, "code": code}
                await self._settle(
                    lambda session: DELIVERIES.complete(
                        session, self.name, [done], sets=_DELIVERED, columns={"code": "int"}
                    ),
                    item.id,
                )
                logger.info("webhook delivered", extra={"delivery_id": str(item.id), "event_type": item.event_type})
                return
            error = f"HTTP {code}"
        if item.attempts >= self.settings.webhooks.max_attempts:
            await self._fail(item, code, error)
            logger.error("webhook failed", extra={"delivery_id": str(item.id), "attempts": item.attempts})
            return
        delay = backoff_seconds(
            item.attempts,
            base=self.settings.notify.backoff_base_seconds,
            cap=self.settings.notify.backoff_max_seconds,
        )
        again = {"id": item.id, "delay": delay, "error": error, "last_status_code": code}
        await self._settle(lambda session: DELIVERIES.retry(session, self.name, [again]), item.id)
        logger.warning(
            "webhook delivery failed, will retry",
            extra={"delivery_id": str(item.id), "attempts": item.attempts, "retry_in_s": round(delay, 2)},
        )

    async def run_once(self) -> int:
        started = time.monotonic()
        batch = await self._claim()
        deadline = started + self.settings.notify.lease_seconds
        if batch:
            await asyncio.gather(*(self._deliver(item, deadline) for item in batch))
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("webhook dispatcher started", extra={"dispatcher": self.name})
        await poll(self.run_once, stop, every=self.settings.notify.poll_seconds, logger=logger, what="webhook dispatch")
        logger.info("webhook dispatcher stopped", extra={"dispatcher": self.name})


def webhook_task() -> Task:
    """The worker task: the outbound webhook dispatcher (with its own client, guarded by the egress policy)."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:
        async with Dispatcher(sessionmaker, settings) as dispatcher:
            await dispatcher.run(stop)

    return task
