"""Delivery receipts from the SMS gateway: a signed webhook (Standard Webhooks) per message.

Body ``{"type": "sms.delivered" | "sms.failed", "data": {"reference": <notification id>,
"delivered_at"?: ISO 8601, "reason"?: str}}``, signed with ``MOTCUA_SMS_WEBHOOK_SECRET``. The raw
body is verified before it is parsed (401 ``invalid_signature`` / ``stale_webhook``, 503 when no
secret is configured). Each verified delivery is stored in ``webhook_receipt`` (source ``sms``)
with ``INSERT … ON CONFLICT DO NOTHING``: a ``webhook-id`` seen before answers ``duplicate`` and
changes nothing. Only the parsed fields are stored, not the gateway's whole body (which may echo
the phone number).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.core.config import Settings
from services.core.errors import ServiceUnavailable, Unauthorized, Unprocessable
from services.core.logging import scrub_text
from services.models import Notification, WebhookReceipt
from services.notification.schemas import ReceiptOut

_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def verify(settings: Settings, body: bytes, headers: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The webhook id and the parsed body of a correctly signed, fresh delivery."""
    secret = settings.sms.webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ServiceUnavailable("SMS delivery receipts are not configured.", code="webhook_not_configured")
    wanted = {name: headers.get(name, "") for name in _HEADERS}
    try:
        parsed = Webhook(secret.get_secret_value()).verify(body, wanted)
    except WebhookVerificationError as exc:
        if "timestamp" in str(exc).lower():
            raise Unauthorized("The webhook timestamp is too far from now.", code="stale_webhook") from exc
        raise Unauthorized("The webhook signature does not verify.", code="invalid_signature") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # malformed signature header or body
        raise Unauthorized("The webhook signature does not verify.", code="invalid_signature") from exc
    if not isinstance(parsed, dict):
        raise Unprocessable("The body must be a JSON object.", code="invalid_body")
    webhook_id = wanted["webhook-id"]
    if len(webhook_id) > 200:
        raise Unprocessable("webhook-id is too long.", code="invalid_webhook_id")
    return webhook_id, parsed


def _reference(data: Mapping[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(data.get("reference")))
    except ValueError:
        return None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


async def receive(session: AsyncSession, settings: Settings, body: bytes, headers: Mapping[str, str]) -> ReceiptOut:
    webhook_id, parsed = verify(settings, body, headers)
    kind = str(parsed.get("type", ""))[:64]
    data = parsed.get("data") if isinstance(parsed.get("data"), dict) else {}
    assert isinstance(data, dict)
    reference = _reference(data)
    delivered_at = _instant(data.get("delivered_at"))
    reason = scrub_text(str(data.get("reason", "")))[:200] or None
    stored: dict[str, Any] = {"reference": str(reference) if reference else None, "reason": reason}
    if delivered_at is not None:
        stored["delivered_at"] = delivered_at.isoformat()
    receipt_id = await session.scalar(
        insert(WebhookReceipt)
        .values(source="sms", webhook_id=webhook_id, event_type=kind or "unknown", payload=stored)
        .on_conflict_do_nothing(index_elements=["source", "webhook_id"])
        .returning(WebhookReceipt.id)
    )
    if receipt_id is None:
        return ReceiptOut(webhook_id=webhook_id, outcome="duplicate")

    if kind not in ("sms.delivered", "sms.failed"):
        outcome = "ignored_unknown"
    elif reference is None:
        outcome = "unknown_reference"
    elif kind == "sms.delivered":
        changed = await session.execute(
            update(Notification)
            .where(
                Notification.id == reference,
                Notification.channel == "sms",
                Notification.status.in_(("queued", "sent", "failed")),
            )
            # a receipt may overtake the sender's own "sent": it proves the send, so nothing is resent
            .values(status="delivered", delivered_at=delivered_at or func.now(), claimed_by=None)
            .returning(Notification.id)
        )
        outcome = "applied" if changed.first() else "unknown_reference"
    else:
        changed = await session.execute(
            update(Notification)
            .where(
                Notification.id == reference,
                Notification.channel == "sms",
                Notification.status.in_(("queued", "sent")),
            )
            .values(
                status="failed",
                failed_at=func.now(),
                claimed_by=None,
                last_error=f"gateway: not delivered ({reason})" if reason else "gateway: not delivered",
            )
            .returning(Notification.id)
        )
        outcome = "applied" if changed.first() else "unknown_reference"
    if outcome == "unknown_reference" and reference is not None:
        exists = await session.scalar(select(Notification.id).where(Notification.id == reference))
        outcome = "already_final" if exists else outcome
    await session.execute(
        update(WebhookReceipt).where(WebhookReceipt.id == receipt_id).values(processed_at=func.now(), outcome=outcome)
    )
    return ReceiptOut(webhook_id=webhook_id, outcome=outcome)
