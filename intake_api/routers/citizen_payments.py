"""Paying a fee online from the citizen portal.

- ``POST /api/v1/dossiers/{code}/payments/lookup`` (the secret in the body, never in the URL): the
  payments the desk asked of this dossier, with the reference the citizen pays against. Same proof and
  same rate limit as tracking.
- ``POST /api/v1/demo/payment-provider/{reference}`` (demo mode only; 404 otherwise): a stand-in for the
  payment provider's checkout. The tester confirms or cancels; the stand-in then does what the real
  provider does — it signs a ``payment.succeeded`` / ``payment.failed`` event with the Standard Webhooks
  scheme and hands it to the same delivery path as ``POST /api/v1/webhooks/payment`` (verification, the
  receipt log and its deduplication, the handler). It signs with ``MOTCUA_PAYMENT_WEBHOOK_SECRET``, or,
  when that is not configured, with a fixed demo key that only this path accepts.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select
from standardwebhooks import Webhook

from services.core.deps import ClockDep, CountersDep, SessionDep, SettingsDep
from services.core.errors import NotFound, problem_responses
from services.core.net import client_address
from services.core.validation import StrictModel
from services.dossier.payments import PaymentOut, payment_out
from services.intake import payments, webhooks
from services.intake.citizen import citizen_dossier
from services.intake.schemas import SecretIn
from services.models import Payment

router = APIRouter(prefix="/api/v1", tags=["payments"])

DEMO_PROVIDER_SECRET = "whsec_" + base64.b64encode(b"motcua-demo-payment-provider-key").decode()


@router.post("/dossiers/{code}/payments/lookup", responses=problem_responses(404, 422, 429))
async def citizen_payments(
    code: Annotated[str, Path(max_length=64)],
    body: SecretIn,
    request: Request,
    session: SessionDep,
    counters: CountersDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> list[PaymentOut]:
    """The payments asked of this dossier (oldest first), with their references, for the holder of the secret."""
    dossier = await citizen_dossier(
        session, counters, settings, code=code, secret=body.secret,
        client_ip=client_address(request), now=clock.now(),
    )  # fmt: skip
    rows = await session.scalars(
        select(Payment)
        .where(Payment.dossier_id == dossier.id, Payment.provider_reference.is_not(None))
        .order_by(Payment.requested_at)
    )
    return [payment_out(dossier, row) for row in rows]


class DemoCheckoutIn(StrictModel):
    outcome: Literal["succeeded", "failed"]
    amount_vnd: int = Field(strict=True, ge=0, le=10**13, description="what the checkout was opened for")
    reason: str | None = Field(default=None, max_length=1000, description="why it failed (cancelled by the payer)")


class DemoCheckoutOut(BaseModel):
    outcome: str = Field(description="what the webhook delivery came to: applied, already_paid …")
    webhook_id: str


@router.post(
    "/demo/payment-provider/{reference}",
    response_model=DemoCheckoutOut,
    responses=problem_responses(404, 409, 422, 503),
)
async def demo_provider(
    reference: Annotated[str, Path(min_length=1, max_length=200)],
    body: DemoCheckoutIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Demo mode only: the stand-in provider reports the payment as the real one would (a signed event)."""
    if not settings.demo:
        raise NotFound("Not found.", code="not_found")
    secret = settings.payment.webhook_secret or SecretStr(DEMO_PROVIDER_SECRET)
    now = clock.now()
    if body.outcome == "succeeded":
        event: dict[str, Any] = {
            "type": "payment.succeeded",
            "data": {"reference": reference, "amount_vnd": body.amount_vnd, "paid_at": now.isoformat()},
        }
    else:
        event = {
            "type": "payment.failed",
            "data": {"reference": reference, "reason": body.reason or "cancelled", "failed_at": now.isoformat()},
        }
    content = json.dumps(event, ensure_ascii=False)
    webhook_id = f"msg_demo_{uuid.uuid4().hex}"
    sent_at = datetime.now(UTC)  # the transport's wall clock, as a real provider's
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret.get_secret_value()).sign(webhook_id, sent_at, content),
    }
    delivery = await webhooks.deliver(
        session, settings, source="payment", secret=secret, body=content.encode(), headers=headers, now=now,
        handlers=payments.HANDLERS,
    )  # fmt: skip
    return delivery.problem(request) or JSONResponse(
        DemoCheckoutOut(outcome=delivery.outcome, webhook_id=webhook_id).model_dump()
    )
