"""The outbound webhook dispatcher (worker side): claim due deliveries, sign, send, record the answer.

Deliveries are written by ``services.notification.outbound`` with the event; here the worker claims them
from the one queue (``services.core.queue``: ``FOR UPDATE SKIP LOCKED``, a lease, backoff with full jitter
until ``webhook_max_attempts``, then ``failed``). Each POST is ``{"type", "timestamp", "data"}`` signed with
the Standard Webhooks scheme (``webhook-id`` = the delivery id, the same on every retry) through the
dispatcher's own client, which the egress policy guards (``services.core.egress``). The postal operator's
pickup or delivery contact is read from the dossier at send time, only for its own subscription, and is
never stored or logged; a ``postal.*`` delivery for any other subscription fails unsent.
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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from services.core.config import Settings
from services.core.egress import classify, guarded_client
from services.core.listen import wakeup
from services.core.metrics import WEBHOOK_DELIVERIES
from services.core.queue import Queue, backoff_seconds, poll, worker_name
from services.core.worker import Task
from services.models import Dossier, WebhookSubscription
from services.notification.outbound import OUTBOUND_SECRETS, is_postal_operator
from services.notification.rules import OUTBOUND_ONLY

logger = logging.getLogger("motcua.webhooks")

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
        WEBHOOK_DELIVERIES.labels("failed").inc()
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
                WEBHOOK_DELIVERIES.labels("delivered").inc()
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
        WEBHOOK_DELIVERIES.labels("retry").inc()
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
        wake = wakeup(
            self.settings,
            DELIVERIES.table,
            keys=None,
            enabled=self.settings.notify.listen,
            what="webhooks",
            logger=logger,
        )
        await poll(
            self.run_once,
            stop,
            every=self.settings.notify.poll_seconds,
            logger=logger,
            what="webhook dispatch",
            wake=wake,
        )
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
