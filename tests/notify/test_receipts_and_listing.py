"""Signed SMS delivery receipts, and what staff see of a dossier's notifications (recipients masked)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from services.core.config import Settings
from services.models import WebhookReceipt
from tests.notify.conftest import SMS_SECRET, create_world, deliver, drain, notifications_of, sender_for
from tests.tokens import bearer_for

RECEIVED = {"received_at": "2026-11-23T09:30:00+07:00", "due_at": "2026-11-27T17:00:00+07:00"}


def signed(
    body: dict[str, Any], *, secret: str = SMS_SECRET, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    content = json.dumps(body)
    webhook_id = f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=content)
    return content.encode(), {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


@pytest.mark.committed  # the sender is a worker: its leases and group commits are real transactions
async def test_a_delivery_receipt_marks_the_sms_delivered_once(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session, email=None)
    await session.commit()
    await deliver(client, notify_settings, "dossier.received", dossier=world.dossier, payload=RECEIVED)
    await drain(sender_for(sessionmaker, notify_settings, world.dossier), sessionmaker, world.dossier)
    [sms] = await notifications_of(sessionmaker, world.dossier)
    assert sms.status == "sent"

    content, headers = signed(
        {"type": "sms.delivered", "data": {"reference": str(sms.id), "delivered_at": "2026-11-23T09:31:05+07:00"}}
    )
    first = await client.post("/api/v1/webhooks/sms", content=content, headers=headers)
    again = await client.post("/api/v1/webhooks/sms", content=content, headers=headers)
    assert first.json()["outcome"] == "applied", first.text
    assert again.json()["outcome"] == "duplicate"
    [sms] = await notifications_of(sessionmaker, world.dossier)
    assert sms.status == "delivered"
    assert sms.delivered_at == datetime(2026, 11, 23, 2, 31, 5, tzinfo=UTC)
    async with sessionmaker() as db:
        receipt = await db.scalar(
            select(WebhookReceipt).where(
                WebhookReceipt.source == "sms", WebhookReceipt.webhook_id == headers["webhook-id"]
            )
        )
    assert receipt is not None
    assert receipt.outcome == "applied"

    # a later report under a new id does not move it back
    content, headers = signed({"type": "sms.failed", "data": {"reference": str(sms.id), "reason": "absent"}})
    assert (await client.post("/api/v1/webhooks/sms", content=content, headers=headers)).json()[
        "outcome"
    ] == "already_final"


async def test_receipts_for_unknown_messages_and_types(client: httpx.AsyncClient) -> None:
    content, headers = signed({"type": "sms.delivered", "data": {"reference": str(uuid.uuid4())}})
    assert (await client.post("/api/v1/webhooks/sms", content=content, headers=headers)).json()[
        "outcome"
    ] == "unknown_reference"
    content, headers = signed({"type": "sms.queued", "data": {}})
    assert (await client.post("/api/v1/webhooks/sms", content=content, headers=headers)).json()[
        "outcome"
    ] == "ignored_unknown"


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "stale", "missing_headers", "garbled"])
async def test_unsigned_or_stale_receipts_are_refused(client: httpx.AsyncClient, case: str) -> None:
    body = {"type": "sms.delivered", "data": {"reference": str(uuid.uuid4())}}
    content, headers = signed(body)
    expected = "invalid_signature"
    if case == "tampered":
        content = content.replace(b"sms.delivered", b"sms.failed")
    elif case == "wrong_secret":
        content, headers = signed(body, secret="whsec_" + "QUJD" * 8)
    elif case == "stale":
        content, headers = signed(body, at=datetime.now(UTC) - timedelta(minutes=6))
        expected = "stale_webhook"
    elif case == "missing_headers":
        headers.pop("webhook-signature")
    else:
        headers["webhook-signature"] = "v1"
    response = await client.post("/api/v1/webhooks/sms", content=content, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == expected


async def test_receipts_need_a_configured_secret(notify: httpx.AsyncClient) -> None:
    content, headers = signed({"type": "sms.delivered", "data": {}})
    response = await notify.post("/api/v1/webhooks/sms", content=content, headers=headers)
    assert response.status_code == 503
    assert response.json()["code"] == "webhook_not_configured"


@pytest.mark.committed  # the sender is a worker: its leases and group commits are real transactions
async def test_a_dossiers_notifications_for_its_staff_with_recipients_masked(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session, email="thuha@example.vn", phone="0912345678")
    other = await create_world(session)
    await session.commit()
    await deliver(client, notify_settings, "dossier.received", dossier=world.dossier, payload=RECEIVED)
    await deliver(
        client, notify_settings, "dossier.routed", dossier=world.dossier, source="workflow",
        payload={"agency_id": str(world.agency.id), "assignee_id": str(world.specialist.id)},
    )  # fmt: skip
    await drain(sender_for(sessionmaker, notify_settings, world.dossier), sessionmaker, world.dossier)

    staff = bearer_for(notify_settings, world.counter, roles=["counter"])
    response = await client.get("/api/v1/notifications", params={"dossier": world.dossier.code}, headers=staff)
    assert response.status_code == 200, response.text
    listed = {(n["event_type"], n["channel"]): n for n in response.json()}
    assert listed[("dossier.received", "email")]["recipient"] == "th***@example.vn"
    assert listed[("dossier.received", "sms")]["recipient"] == "0912***678"
    assert listed[("dossier.routed", "in_app")]["recipient"] == f"staff:{world.specialist.id}"
    sms = listed[("dossier.received", "sms")]
    assert sms["status"] == "sent"
    assert sms["attempts"] == 1
    assert sms["sent_at"]
    assert sms["created_at"]
    assert sms["dossier_code"] == world.dossier.code
    assert "0912345678" not in response.text
    assert "thuha@" not in response.text

    stranger = bearer_for(notify_settings, other.counter, roles=["counter"])
    hidden = await client.get("/api/v1/notifications", params={"dossier": world.dossier.code}, headers=stranger)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "dossier_not_found"
    theirs = await client.get("/api/v1/notifications", headers=stranger)
    assert all(n["dossier_code"] != world.dossier.code for n in theirs.json())
    assert (await client.get("/api/v1/notifications", params={"dossier": world.dossier.code})).status_code == 401
