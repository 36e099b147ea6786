"""Fees from the request to the checkout: staff ask the applicant to pay (on a dossier the one access
rule lets them act on now), the holder of the secret looks up what is asked, and — in demo mode only —
a stand-in for the payment provider's checkout pays it.

The stand-in does what the real provider does: it signs a ``payment.succeeded`` / ``payment.failed`` event
with the Standard Webhooks scheme and hands it to the same delivery path as ``POST /api/v1/webhooks/payment``
(verification, the receipt log and its deduplication, the handler). It signs with
``MOTCUA_PAYMENT_WEBHOOK_SECRET``, or, when that is not configured, with a fixed demo key that only this
path accepts (so a demo works without configuring the provider, and the real endpoint never takes it).
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from services.core.auth import Actor
from services.core.config import Settings
from services.core.errors import NotFound
from services.core.validation import StrictModel
from services.dossier import payments
from services.dossier.access import dossier_to_act_on
from services.intake import payments as payment_webhooks
from services.intake import webhooks
from services.intake.citizen import Citizen
from services.models import Payment

DEMO_PROVIDER_SECRET = "whsec_" + base64.b64encode(b"motcua-demo-payment-provider-key").decode()


class DemoCheckoutIn(StrictModel):
    outcome: Literal["succeeded", "failed"]
    amount_vnd: int = Field(strict=True, ge=0, le=10**13, description="what the checkout was opened for")
    reason: str | None = Field(default=None, max_length=1000, description="why it failed (cancelled by the payer)")


class DemoCheckoutOut(BaseModel):
    outcome: str = Field(description="what the webhook delivery came to: applied, already_paid …")
    webhook_id: str


async def ask(
    session: AsyncSession, code: str, actor: Actor, body: payments.PaymentRequestIn, *, now: datetime
) -> payments.PaymentOut:
    """Ask the applicant to pay (default: the procedure's known fees); the dossier waits, its clock pauses."""
    dossier = await dossier_to_act_on(session, code, actor, "request_payment")
    payment = await payments.request_payment(session, dossier, actor=actor, now=now, data=body, source="intake")
    return payments.payment_out(dossier, payment)


async def payments_of(citizen: Citizen, code: str, secret: str) -> list[payments.PaymentOut]:
    """The payments asked of the dossier that have a reference to pay against, oldest first."""
    dossier = await citizen.dossier(code, secret)
    rows = await citizen.session.scalars(
        select(Payment)
        .where(Payment.dossier_id == dossier.id, Payment.provider_reference.is_not(None))
        .order_by(Payment.requested_at)
    )
    return [payments.payment_out(dossier, row) for row in rows]


def _event(reference: str, body: DemoCheckoutIn, now: datetime) -> dict[str, Any]:
    if body.outcome == "succeeded":
        return {
            "type": "payment.succeeded",
            "data": {"reference": reference, "amount_vnd": body.amount_vnd, "paid_at": now.isoformat()},
        }
    return {
        "type": "payment.failed",
        "data": {"reference": reference, "reason": body.reason or "cancelled", "failed_at": now.isoformat()},
    }


async def demo_checkout(
    session: AsyncSession, settings: Settings, reference: str, body: DemoCheckoutIn, *, now: datetime
) -> webhooks.Delivery:
    """Demo mode only (404 otherwise): report the payment as the provider would, through the webhook path."""
    if not settings.demo:
        raise NotFound("Not found.", code="not_found")
    secret = settings.payment.webhook_secret or SecretStr(DEMO_PROVIDER_SECRET)
    content = json.dumps(_event(reference, body, now), ensure_ascii=False)
    webhook_id = f"msg_demo_{uuid.uuid4().hex}"
    sent_at = datetime.now(UTC)  # the transport's wall clock, as a real provider's
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret.get_secret_value()).sign(webhook_id, sent_at, content),
    }
    return await webhooks.deliver(
        session, settings, source="payment", secret=secret, body=content.encode(), headers=headers, now=now,
        handlers=payment_webhooks.HANDLERS,
    )  # fmt: skip
