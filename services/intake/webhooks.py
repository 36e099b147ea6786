"""Signed inbound webhooks (Standard Webhooks): verification, the receipt log and deduplication.

Shared by the postal operator's and the payment provider's webhooks. The order matters:

1. the raw body is verified (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``,
   HMAC-SHA256 over ``id.timestamp.body``) before anything parses it: a bad signature is a 401
   ``invalid_signature``, a timestamp more than five minutes off a 401 ``stale_webhook``, no
   secret configured a 503 ``webhook_not_configured``. The replay window is judged on the wall
   clock, as the library does: it guards the transport, and the test/demo clock file that moves
   the business "now" must not make real senders look stale;
2. every verified delivery is stored in ``webhook_receipt`` with ``INSERT … ON CONFLICT DO
   NOTHING`` in the request's transaction, so a ``webhook-id`` seen before (or delivered twice at
   once: the second insert waits for the first transaction) answers ``duplicate`` and changes
   nothing;
3. the event is applied in a savepoint. A verified event that is invalid for its type (no
   dossier code, an unknown dossier or payment, a wrong amount, a state that does not allow it)
   rolls the savepoint back but keeps the receipt with outcome ``rejected`` for audit, and is
   answered with the problem (422, or 409 for a state conflict). An unknown type is stored as
   ``ignored_unknown`` and answered 200, so the sender stops retrying.

Outcomes: ``applied``, ``already_applied`` / ``already_paid`` (a replay under a new id: harmless),
``ignored_unknown``, ``rejected``, and ``duplicate`` for a ``webhook-id`` already received.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.core.config import Settings
from services.core.errors import DomainError, ServiceUnavailable, Unauthorized, Unprocessable, problem
from services.models import WebhookReceipt

Source = Literal["postal", "payment"]
TOLERANCE = timedelta(minutes=5)
_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_ID_MAX = 200  # webhook_receipt.webhook_id
_TYPE_MAX = 64  # webhook_receipt.event_type


@dataclass(frozen=True)
class Inbound:
    """A verified, first-seen event, as its handler gets it."""

    source: Source
    webhook_id: str
    type: str
    data: dict[str, Any]
    now: datetime  # the service clock: only to refuse business instants in the future
    settings: Settings


Handler = Callable[[AsyncSession, Inbound], Awaitable[str]]


@dataclass(frozen=True)
class Delivery:
    """What became of a delivery: the outcome, and the problem to answer when it was rejected."""

    outcome: str
    webhook_id: str
    error: DomainError | None = None
    first_outcome: str | None = None  # for a duplicate: what the first delivery came to

    def problem(self, request: Request) -> JSONResponse | None:
        """The problem+json answer of a rejected delivery (with its outcome); None when it was taken."""
        if self.error is None:
            return None
        error = self.error
        return problem(
            request, status=error.status, code=error.code, title=error.title, detail=error.detail,
            outcome=self.outcome, **error.extra,
        )  # fmt: skip


# --- verification ---------------------------------------------------------------------------------


def _hook(secret: SecretStr | None, source: Source) -> Webhook:
    if secret is None or not secret.get_secret_value():
        raise ServiceUnavailable(
            f"The {source} webhook is not configured (MOTCUA_{source.upper()}_WEBHOOK_SECRET).",
            code="webhook_not_configured",
        )
    try:
        return Webhook(secret.get_secret_value())
    except (EmptyWebhookSecretError, ValueError, RuntimeError):
        raise ServiceUnavailable(
            f"The {source} webhook secret is not a valid whsec_ base64 secret.", code="webhook_not_configured"
        ) from None


def _out_of_window(timestamp: str, wall_now: datetime) -> bool:
    try:
        sent = datetime.fromtimestamp(float(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return False  # not a timestamp at all: an invalid header, not a stale one
    return abs(sent - wall_now) > TOLERANCE


def verify(secret: SecretStr | None, source: Source, body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """Check the signature of the raw body; return the webhook id and the body text."""
    hook = _hook(secret, source)
    wanted = {name: headers.get(name, "") for name in _HEADERS}
    try:
        text = body.decode("utf-8")
        hook.verify(text, wanted, json_parse=False)
    except (WebhookVerificationError, ValueError) as exc:  # ValueError: undecodable body or signature header
        if wanted["webhook-timestamp"] and _out_of_window(wanted["webhook-timestamp"], datetime.now(UTC)):
            raise Unauthorized(
                "The webhook-timestamp is more than five minutes from now; re-sign the delivery.", code="stale_webhook"
            ) from exc
        raise Unauthorized(
            "Missing or invalid webhook-id, webhook-timestamp or webhook-signature.", code="invalid_signature"
        ) from exc
    webhook_id = wanted["webhook-id"]
    if len(webhook_id) > _ID_MAX:
        raise Unprocessable(f"webhook-id is longer than {_ID_MAX} characters.", code="invalid_webhook_id")
    return webhook_id, text


# --- helpers for the handlers ---------------------------------------------------------------------

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_data(model: type[ModelT], inbound: Inbound) -> ModelT:
    """The event's ``data`` as ``model``; errors name the fields but never echo the values."""
    try:
        return model.model_validate(inbound.data)
    except ValidationError as exc:
        errors = [
            {"loc": [str(part) for part in error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()
        ]
        raise Unprocessable(
            f"The data of a {inbound.type} event does not match its schema.", code="invalid_payload", errors=errors
        ) from None


def business_instant(value: datetime, inbound: Inbound, *, field: str) -> datetime:
    """An instant the sender reports (aware by its schema), refused beyond five minutes ahead of us."""
    if value > inbound.now + TOLERANCE:
        raise Unprocessable(f"{field} is in the future.", code="instant_in_future", field=field)
    return value


# --- the receipt log ------------------------------------------------------------------------------


def _envelope(text: str) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """(event type, payload to store, data) — data is None when the body is no event envelope."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return "", {"unparsed_body": text[:10_000]}, None
    if "\\u0000" in text:  # PostgreSQL's jsonb cannot hold a NUL character: keep the text, refuse the event
        return "", {"unparsed_body": text[:10_000]}, None
    if not isinstance(parsed, dict):
        return "", {"unparsed_body": parsed}, None
    kind, data = parsed.get("type"), parsed.get("data")
    if not isinstance(kind, str) or not kind or len(kind) > _TYPE_MAX or not isinstance(data, dict):
        return (kind if isinstance(kind, str) else "")[:_TYPE_MAX], parsed, None
    return kind, parsed, data


async def _finish(session: AsyncSession, receipt_id: Any, outcome: str, now: datetime) -> None:
    await session.execute(
        update(WebhookReceipt).where(WebhookReceipt.id == receipt_id).values(outcome=outcome, processed_at=now)
    )


async def deliver(
    session: AsyncSession,
    settings: Settings,
    *,
    source: Source,
    secret: SecretStr | None,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    handlers: Mapping[str, Handler],
) -> Delivery:
    """Verify, store once, apply: the whole life of one inbound delivery, in the caller's transaction."""
    webhook_id, text = verify(secret, source, body, headers)
    kind, payload, data = _envelope(text)
    receipt_id = await session.scalar(
        insert(WebhookReceipt)
        .values(source=source, webhook_id=webhook_id, event_type=kind, payload=payload, received_at=now)
        .on_conflict_do_nothing(index_elements=["source", "webhook_id"])
        .returning(WebhookReceipt.id)
    )
    if receipt_id is None:
        first = await session.scalar(
            select(WebhookReceipt.outcome).where(
                WebhookReceipt.source == source, WebhookReceipt.webhook_id == webhook_id
            )
        )
        return Delivery(outcome="duplicate", webhook_id=webhook_id, first_outcome=first)
    if data is None:
        error: DomainError | None = Unprocessable(
            'The body must be a JSON object {"type": "<event type>", "data": {...}}.', code="invalid_payload"
        )
        outcome = "rejected"
    elif (handler := handlers.get(kind)) is None:
        error, outcome = None, "ignored_unknown"
    else:
        inbound = Inbound(source=source, webhook_id=webhook_id, type=kind, data=data, now=now, settings=settings)
        try:
            async with session.begin_nested():
                outcome, error = await handler(session, inbound), None
        except DomainError as exc:
            outcome, error = "rejected", exc
    await _finish(session, receipt_id, outcome, now)
    return Delivery(outcome=outcome, webhook_id=webhook_id, error=error)
