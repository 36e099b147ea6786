"""Signed inbound webhooks (Standard Webhooks) from the postal operator and the payment provider."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.core.deps import ClockDep, SessionDep, SettingsDep
from services.core.errors import problem_responses
from services.intake import payments, postal, webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class WebhookAck(BaseModel):
    outcome: str = Field(description="applied, already_applied, already_paid, ignored_unknown or duplicate")
    first_outcome: str | None = Field(default=None, description="for a duplicate: what the first delivery came to")


def _signed_body(example: dict[str, Any]) -> dict[str, Any]:
    header = {"in": "header", "required": True, "schema": {"type": "string"}}
    return {
        "parameters": [
            {**header, "name": "webhook-id", "description": "unique per event; repeats are answered duplicate"},
            {**header, "name": "webhook-timestamp", "description": "Unix seconds, within five minutes of now"},
            {**header, "name": "webhook-signature", "description": "v1,<base64 HMAC-SHA256 of id.timestamp.body>"},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["type", "data"],
                        "properties": {"type": {"type": "string"}, "data": {"type": "object"}},
                    },
                    "example": example,
                }
            },
        },
    }


def _answer(request: Request, delivery: webhooks.Delivery) -> Any:
    return delivery.problem(request) or JSONResponse(
        WebhookAck(outcome=delivery.outcome, first_outcome=delivery.first_outcome).model_dump()
    )


@router.post(
    "/postal",
    response_model=WebhookAck,
    responses=problem_responses(401, 409, 422, 503),
    openapi_extra=_signed_body(
        {
            "type": "pickup.handed_over",
            "data": {
                "dossier_code": "000.00.31.H26-261123-0001",
                "tracking_number": "EB123456789VN",
                "occurred_at": "2026-11-23T16:00:00+07:00",
            },
        }
    ),
)
async def postal_webhook(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Any:
    """Postal operator events: the pickup of a dossier and the delivery of a result, failures included."""
    delivery = await webhooks.deliver(
        session, settings, source="postal", secret=settings.postal.webhook_secret, body=await request.body(),
        headers=request.headers, now=clock.now(), handlers=postal.HANDLERS,
    )  # fmt: skip
    return _answer(request, delivery)


@router.post(
    "/payment",
    response_model=WebhookAck,
    responses=problem_responses(401, 409, 422, 503),
    openapi_extra=_signed_body(
        {
            "type": "payment.succeeded",
            "data": {"reference": "MC-0F3A9C2B7D41E865", "amount_vnd": 50000, "paid_at": "2026-11-25T09:30:00+07:00"},
        }
    ),
)
async def payment_webhook(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Any:
    """Payment provider events: payment.succeeded (settles the request, resumes the clock) and payment.failed."""
    delivery = await webhooks.deliver(
        session, settings, source="payment", secret=settings.payment.webhook_secret, body=await request.body(),
        headers=request.headers, now=clock.now(), handlers=payments.HANDLERS,
    )  # fmt: skip
    return _answer(request, delivery)
