"""Signed postal and payment webhooks: verification, receipts and deduplication, the postal
pickup-to-return flow, and the payment request paid by the provider."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from intake_api.main import create_app
from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.models import (
    Dossier,
    Handover,
    OutboxEvent,
    Payment,
    PostalShipment,
    ProcedureFee,
    SlaPause,
    SlaTimer,
    WebhookReceipt,
)
from tests.intake.setup import Desk, create_desk, submission

POSTAL_SECRET = "whsec_" + base64.b64encode(b"postal-operator-test-secret-0001").decode()
PAYMENT_SECRET = "whsec_" + base64.b64encode(b"payment-provider-test-secret-001").decode()
SECRETS = {"postal": POSTAL_SECRET, "payment": PAYMENT_SECRET}
POSTAL_ADDRESS = "Số 12 Lạch Tray, phường Lê Chân, Hải Phòng"
_ADDRESSES = itertools.count(1)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


# --- an app with the webhook secrets configured ---------------------------------------------------


@pytest.fixture(scope="module")
async def hooks_app(settings: Settings) -> AsyncIterator[FastAPI]:
    configured = settings.with_changes(
        postal={"webhook_secret": SecretStr(POSTAL_SECRET)}, payment={"webhook_secret": SecretStr(PAYMENT_SECRET)}
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(hooks_app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    n = next(_ADDRESSES)
    transport = httpx.ASGITransport(app=share(hooks_app), client=(f"198.19.{n // 250}.{n % 250 + 1}", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@dataclass
class Signed:
    path: str
    content: bytes
    headers: dict[str, str]
    webhook_id: str


def sign(
    source: str,
    payload: dict[str, Any] | bytes,
    *,
    webhook_id: str | None = None,
    secret: str | None = None,
    sent_at: datetime | None = None,
) -> Signed:
    content = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    sent_at = sent_at or datetime.now(UTC)  # the transport's wall clock, whatever the app's clock says
    signature = Webhook(secret or SECRETS[source]).sign(webhook_id, sent_at, content.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    return Signed(f"/api/v1/webhooks/{source}", content, headers, webhook_id)


async def post(client: httpx.AsyncClient, signed: Signed) -> httpx.Response:
    return await client.post(signed.path, content=signed.content, headers=signed.headers)


def postal_event(kind: str, code: str, occurred_at: datetime, tracking: str | None = None) -> dict[str, Any]:
    tracking = tracking or f"EB{uuid.uuid4().int % 10**9:09d}VN"
    data = {"dossier_code": code, "tracking_number": tracking, "occurred_at": occurred_at.isoformat()}
    return {"type": kind, "data": data}


def paid_event(reference: str, amount: int, paid_at: datetime) -> dict[str, Any]:
    return {
        "type": "payment.succeeded",
        "data": {"reference": reference, "amount_vnd": amount, "paid_at": paid_at.isoformat()},
    }


# --- the database, read fresh ---------------------------------------------------------------------


async def dossier_of(session: AsyncSession, code: str) -> Dossier:
    dossier = await session.scalar(
        select(Dossier).where(Dossier.code == code).execution_options(populate_existing=True)
    )
    assert dossier is not None
    return dossier


async def handovers(session: AsyncSession, code: str) -> int:
    query = select(func.count()).select_from(Handover).join(Dossier).where(Dossier.code == code)
    return int(await session.scalar(query) or 0)


async def receipts(session: AsyncSession, webhook_id: str) -> list[WebhookReceipt]:
    rows = await session.scalars(
        select(WebhookReceipt).where(WebhookReceipt.webhook_id == webhook_id).execution_options(populate_existing=True)
    )
    return list(rows)


async def outcome_of(session: AsyncSession, webhook_id: str) -> str | None:
    rows = await receipts(session, webhook_id)
    assert len(rows) == 1
    return rows[0].outcome


async def shipments(session: AsyncSession, code: str) -> dict[str, PostalShipment]:
    rows = await session.scalars(
        select(PostalShipment)
        .join(Dossier, Dossier.id == PostalShipment.dossier_id)
        .where(Dossier.code == code)
        .execution_options(populate_existing=True)
    )
    return {row.direction: row for row in rows}


async def events(session: AsyncSession, code: str) -> list[str]:
    rows = await session.scalars(
        select(OutboxEvent.event_type).join(Dossier, Dossier.id == OutboxEvent.dossier_id).where(Dossier.code == code)
    )
    return list(rows)


# --- worlds -------------------------------------------------------------------------------------------


async def postal_dossier(client: httpx.AsyncClient, desk: Desk) -> dict[str, Any]:
    body = submission(desk, pickup_by_post=True, return_method="postal", postal_address=POSTAL_ADDRESS)
    response = await client.post("/api/v1/dossiers", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["channel"] == 3
    return dict(response.json())


async def counter_dossier(client: httpx.AsyncClient, desk: Desk, bearer: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- verification -------------------------------------------------------------------------------------


async def test_a_valid_delivery_of_an_unknown_type_is_stored_and_answered_200(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    signed = sign("postal", {"type": "pickup.rescheduled", "data": {"note": "khách hẹn lại"}})
    response = await post(client, signed)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored_unknown"
    [receipt] = await receipts(session, signed.webhook_id)
    assert (receipt.source, receipt.event_type, receipt.outcome) == ("postal", "pickup.rescheduled", "ignored_unknown")
    assert receipt.payload == {"type": "pickup.rescheduled", "data": {"note": "khách hẹn lại"}}
    assert receipt.processed_at is not None


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "no_signature", "garbage_signature", "other_source"])
async def test_a_bad_signature_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, case: str
) -> None:
    event = {"type": "pickup.rescheduled", "data": {}}
    wrong = "whsec_" + base64.b64encode(b"not-the-operator-secret-0000000").decode()
    signed = sign("postal", event, secret=wrong if case == "wrong_secret" else None)
    if case == "tampered":
        signed.content = signed.content.replace(b"rescheduled", b"handed_over")
    if case == "no_signature":
        del signed.headers["webhook-signature"]
    if case == "garbage_signature":
        signed.headers["webhook-signature"] = "v1,not base64 at all,"
    if case == "other_source":  # signed for the payment provider, sent to the postal endpoint
        signed = sign("payment", event)
        signed.path = "/api/v1/webhooks/postal"
    response = await post(client, signed)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_signature"
    assert await receipts(session, signed.webhook_id) == []


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["stale", "future"])
async def test_a_timestamp_outside_five_minutes_is_401_stale(
    client: httpx.AsyncClient, session: AsyncSession, offset: timedelta
) -> None:
    signed = sign("payment", {"type": "payment.unknown", "data": {}}, sent_at=datetime.now(UTC) + offset)
    response = await post(client, signed)
    assert response.status_code == 401
    assert response.json()["code"] == "stale_webhook"
    assert await receipts(session, signed.webhook_id) == []
    # four minutes off is within the tolerance
    near = sign("payment", {"type": "payment.unknown", "data": {}}, sent_at=datetime.now(UTC) + offset * 4 / 6)
    assert (await post(client, near)).status_code == 200


async def test_without_a_secret_the_webhooks_are_503(intake: httpx.AsyncClient, session: AsyncSession) -> None:
    for source in ("postal", "payment"):
        signed = sign(source, {"type": "x.y", "data": {}})
        response = await post(intake, signed)  # the shared app is configured without webhook secrets
        assert response.status_code == 503
        assert response.json()["code"] == "webhook_not_configured"
        assert await receipts(session, signed.webhook_id) == []


# --- deduplication ------------------------------------------------------------------------------------


async def test_a_repeated_webhook_id_is_a_duplicate_with_one_receipt_and_one_effect(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    code = (await postal_dossier(client, desk))["code"]
    travel(vn(2026, 11, 23, 9, 0))
    before = await handovers(session, code)
    signed = sign("postal", postal_event("pickup.picked_up", code, vn(2026, 11, 23, 8, 55)))
    first = await post(client, signed)
    again = await post(client, signed)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json()["outcome"] == "applied"
    assert again.json() == {"outcome": "duplicate", "first_outcome": "applied"}
    assert len(await receipts(session, signed.webhook_id)) == 1
    assert await handovers(session, code) == before + 1
    assert (await shipments(session, code))["inbound"].status == "picked_up"


@pytest.mark.committed  # two deliveries at once, each on a connection of its own
async def test_two_identical_deliveries_at_once_have_one_effect(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    code = (await postal_dossier(client, desk))["code"]
    travel(vn(2026, 11, 23, 9, 0))
    before = await handovers(session, code)
    signed = sign("postal", postal_event("pickup.requested", code, vn(2026, 11, 23, 8, 50)))
    answers = await asyncio.gather(post(client, signed), post(client, signed))
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["outcome"] for a in answers) == ["applied", "duplicate"]
    assert len(await receipts(session, signed.webhook_id)) == 1
    assert await handovers(session, code) == before + 1


# --- rejected payloads ----------------------------------------------------------------------------------


async def test_invalid_payloads_are_stored_rejected_and_change_nothing(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, bearer: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = (await postal_dossier(client, desk))["code"]
    counter_code = (await counter_dossier(client, desk, bearer))["code"]
    at = vn(2026, 11, 23, 8, 50)
    cases: list[tuple[dict[str, Any] | bytes, int, str]] = [
        ({"type": "pickup.picked_up", "data": {"tracking_number": "EB1VN", "occurred_at": at.isoformat()}}, 422,
         "invalid_payload"),
        (postal_event("pickup.picked_up", "000.00.00.X00-261123-9999", at), 422, "dossier_not_found"),
        (postal_event("pickup.picked_up", counter_code, at), 422, "not_postal_pickup"),
        (postal_event("pickup.picked_up", code, at.replace(tzinfo=None)), 422, "invalid_payload"),
        (postal_event("pickup.picked_up", code, vn(2026, 11, 23, 9, 6)), 422, "instant_in_future"),
        (postal_event("result.picked_up", code, at), 409, "invalid_state"),
        (b"not json", 422, "invalid_payload"),
        (b'{"type": "pickup.picked_up", "data": {"dossier_code": "A\\u0000"}}', 422, "invalid_payload"),
        ({"type": "pickup.picked_up"}, 422, "invalid_payload"),
    ]  # fmt: skip
    before = {c: await handovers(session, c) for c in (code, counter_code)}
    for payload, status, problem_code in cases:
        signed = sign("postal", payload)
        response = await post(client, signed)
        assert (response.status_code, response.json()["code"]) == (status, problem_code), response.text
        assert response.json()["outcome"] == "rejected"
        assert "031190004567" not in response.text
        assert await outcome_of(session, signed.webhook_id) == "rejected"
    assert {c: await handovers(session, c) for c in (code, counter_code)} == before
    assert await shipments(session, code) == {}
    assert (await dossier_of(session, code)).status == "submitted"


async def test_the_hand_over_of_a_dossier_no_longer_waiting_is_a_409(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, bearer: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = (await postal_dossier(client, desk))["code"]
    refused = await client.post(
        f"/api/v1/dossiers/{code}/refuse", json={"reasons": ["Không thuộc thẩm quyền"]}, headers=bearer(desk.officer)
    )
    assert refused.status_code == 200, refused.text
    before = await handovers(session, code)
    signed = sign("postal", postal_event("pickup.handed_over", code, vn(2026, 11, 23, 9, 0)))
    response = await post(client, signed)
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")
    assert await outcome_of(session, signed.webhook_id) == "rejected"
    assert await handovers(session, code) == before
    assert await shipments(session, code) == {}
    dossier = await dossier_of(session, code)
    assert (dossier.status, dossier.received_at) == ("refused", None)


# --- the postal flow ------------------------------------------------------------------------------------


async def test_postal_pickup_hand_over_and_return(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    created = await postal_dossier(client, desk)
    code, secret = created["code"], created["secret"]

    pickup, result = f"EB{uuid.uuid4().int % 10**9:09d}VN", f"EB{uuid.uuid4().int % 10**9:09d}VN"

    async def send(kind: str, occurred_at: datetime, tracking: str = pickup) -> httpx.Response:
        travel(occurred_at + timedelta(minutes=2))
        return await post(client, sign("postal", postal_event(kind, code, occurred_at, tracking)))

    assert (await send("pickup.requested", vn(2026, 11, 23, 8, 30))).json()["outcome"] == "applied"
    assert (await send("pickup.picked_up", vn(2026, 11, 23, 10, 0))).json()["outcome"] == "applied"
    # a late copy of the request, under a new webhook-id, moves nothing back
    count = await handovers(session, code)
    assert (await send("pickup.requested", vn(2026, 11, 23, 8, 31))).json()["outcome"] == "already_applied"
    assert await handovers(session, code) == count
    assert (await shipments(session, code))["inbound"].status == "picked_up"

    # handed over at the agency on Monday 16:00: after the 15:00 cut-off, Tuesday 24 is a holiday,
    # so the clock starts on Wednesday 25 at 07:30; 3 working days → Friday 27 November 17:00
    handed = await send("pickup.handed_over", vn(2026, 11, 23, 16, 0))
    assert handed.json()["outcome"] == "applied", handed.text
    dossier = await dossier_of(session, code)
    assert dossier.status == "received"
    assert dossier.received_at == vn(2026, 11, 23, 16, 0)
    assert dossier.clock_start_at == vn(2026, 11, 25, 7, 30)
    assert dossier.due_at == vn(2026, 11, 27, 17, 0)
    inbound = (await shipments(session, code))["inbound"]
    assert (inbound.status, inbound.handed_over_at) == ("handed_over", vn(2026, 11, 23, 16, 0))
    count = await handovers(session, code)
    replay = await send("pickup.handed_over", vn(2026, 11, 23, 16, 0))
    assert replay.json()["outcome"] == "already_applied"
    assert await handovers(session, code) == count
    assert (await dossier_of(session, code)).due_at == vn(2026, 11, 27, 17, 0)

    # workflow_api resolves the dossier (another service): set it directly
    await session.execute(
        update(Dossier).where(Dossier.code == code).values(status="resolved", resolved_at=vn(2026, 11, 26, 10, 0))
    )
    await session.commit()
    picked = await send("result.picked_up", vn(2026, 11, 26, 14, 0), result)
    assert picked.json()["outcome"] == "applied", picked.text
    assert (await shipments(session, code))["outbound"].status == "picked_up"
    assert (await dossier_of(session, code)).status == "resolved"

    delivered = await send("result.delivered", vn(2026, 11, 27, 9, 0), result)
    assert delivered.json()["outcome"] == "applied", delivered.text
    dossier = await dossier_of(session, code)
    assert (dossier.status, dossier.returned_at, dossier.closed_at) == (
        "returned",
        vn(2026, 11, 27, 9, 0),
        vn(2026, 11, 27, 9, 0),
    )
    outbound = (await shipments(session, code))["outbound"]
    assert (outbound.status, outbound.handed_over_at) == ("delivered", vn(2026, 11, 27, 9, 0))
    assert "dossier.returned" in await events(session, code)
    count = await handovers(session, code)
    again = await send("result.delivered", vn(2026, 11, 27, 9, 0), result)
    assert again.json()["outcome"] == "already_applied"
    assert await handovers(session, code) == count

    tracked = (await client.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert (tracked["status"], tracked["status_code"], tracked["status_label"]) == ("returned", 10, "Đã trả kết quả")
    notes = [item["note"] for item in tracked["history"]]
    assert "Bưu điện đã nhận hồ sơ tại nhà." in notes
    assert notes[-1] == "Đã trả kết quả qua bưu chính."
    assert "Bưu điện đã bàn giao hồ sơ. Hồ sơ được tiếp nhận. Hẹn trả kết quả: 17:00 ngày 27/11/2026." in notes
    # each line also as a code with its params, which the SPA says in the reader's language
    coded = [(item["note_code"], item["note_params"]) for item in tracked["history"]]
    assert ("received_by_post", {"due_at": "2026-11-27T17:00:00+07:00"}) in coded
    assert coded[-2:] == [("postal_result_picked_up", {}), ("returned_by_post", {})]
    # the post's tracking numbers, to follow the parcels on the post's own site
    assert [(s["direction"], s["tracking_number"], s["status"]) for s in tracked["shipments"]] == [
        ("inbound", pickup, "handed_over"),
        ("outbound", result, "delivered"),
    ]


async def test_a_postal_result_event_for_a_counter_return_is_refused(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    body = submission(desk, return_method="counter", pickup_by_post=True, postal_address=POSTAL_ADDRESS)
    code = (await client.post("/api/v1/dossiers", json=body)).json()["code"]
    await session.execute(update(Dossier).where(Dossier.code == code).values(status="resolved"))
    await session.commit()
    signed = sign("postal", postal_event("result.picked_up", code, vn(2026, 11, 23, 9, 0)))
    response = await post(client, signed)
    assert (response.status_code, response.json()["code"]) == (422, "not_postal_return")
    assert await shipments(session, code) == {}


# --- payments ---------------------------------------------------------------------------------------------


async def add_fees(session: AsyncSession, desk: Desk, *amounts: int | None) -> None:
    for position, amount in enumerate(amounts, start=1):
        session.add(
            ProcedureFee(
                version_id=desk.version.id, position=position, kind="lệ phí", name=f"Lệ phí {position}",
                amount_vnd=amount,
            )
        )  # fmt: skip
    await session.commit()


async def test_payment_request_paid_by_the_provider_resumes_the_clock(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, bearer: Any, travel: Any
) -> None:
    await add_fees(session, desk, 50_000, 20_000, None)  # the last one is set by the province
    travel(vn(2026, 11, 23, 9, 0))
    created = await counter_dossier(client, desk, bearer)
    code, secret = created["code"], created["secret"]
    assert datetime.fromisoformat(created["due_at"]) == vn(2026, 11, 27, 9, 0)

    travel(vn(2026, 11, 23, 10, 0))
    asked = await client.post(
        f"/api/v1/dossiers/{code}/payments", json={"description": "Lệ phí đăng ký"}, headers=bearer(desk.officer)
    )
    assert asked.status_code == 201, asked.text
    payment = asked.json()
    assert (payment["amount_vnd"], payment["status"], payment["dossier_code"]) == (70_000, "requested", code)
    assert re.fullmatch(r"MC-[0-9A-F]{16}", payment["reference"])
    reference = payment["reference"]
    tracked = (await client.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert (tracked["status"], tracked["status_code"]) == ("awaiting_payment", 6)
    assert datetime.fromisoformat(tracked["paused_since"]) == vn(2026, 11, 23, 10, 0)
    assert tracked["paused_reason"] == "Chờ thực hiện nghĩa vụ tài chính"
    assert tracked["history"][-1]["note"] == "Yêu cầu thực hiện nghĩa vụ tài chính: 70.000 đồng"
    assert "payment.requested" in await events(session, code)
    twice = await client.post(
        f"/api/v1/dossiers/{code}/payments", json={"description": "Lệ phí đăng ký"}, headers=bearer(desk.officer)
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "invalid_state")

    # Wednesday 25, 09:30: the provider reports; first with the wrong amount
    travel(vn(2026, 11, 25, 9, 35))
    count = await handovers(session, code)
    wrong = sign("payment", paid_event(reference, 60_000, vn(2026, 11, 25, 9, 30)))
    response = await post(client, wrong)
    assert (response.status_code, response.json()["code"]) == (422, "amount_mismatch")
    assert await outcome_of(session, wrong.webhook_id) == "rejected"
    assert await handovers(session, code) == count
    dossier = await dossier_of(session, code)
    assert (dossier.status, dossier.due_at, dossier.paid_online) == ("awaiting_payment", vn(2026, 11, 27, 9, 0), False)
    stored = await session.scalar(
        select(Payment).where(Payment.provider_reference == reference).execution_options(populate_existing=True)
    )
    assert stored is not None
    assert (stored.status, stored.paid_at) == ("requested", None)

    right = sign("payment", paid_event(reference, 70_000, vn(2026, 11, 25, 9, 30)))
    response = await post(client, right)
    assert response.json() == {"outcome": "applied", "first_outcome": None}, response.text
    dossier = await dossier_of(session, code)
    # paused Mon 10:00 → Wed 09:30 = 1.5 h + 4 h (Mon) + 0 (Tue, holiday) + 2 h (Wed) = 7.5 working hours;
    # Fri 27 09:00 + 7.5 h = Fri 09:00–11:30, 13:00–17:00 (6.5 h), then Mon 30 07:30 + 1 h
    assert (dossier.status, dossier.paid_online) == ("processing", True)
    assert dossier.due_at == vn(2026, 11, 30, 8, 30)
    pause = await session.scalar(
        select(SlaPause)
        .join(SlaTimer, SlaTimer.id == SlaPause.timer_id)
        .join(Dossier, Dossier.id == SlaTimer.dossier_id)
        .where(Dossier.code == code, SlaPause.reason == "payment")
    )
    assert pause is not None
    assert (pause.working_seconds, pause.restarted) == (int(7.5 * 3600), False)
    stored = await session.scalar(
        select(Payment).where(Payment.provider_reference == reference).execution_options(populate_existing=True)
    )
    assert stored is not None
    assert (stored.status, stored.paid_at) == ("paid", vn(2026, 11, 25, 9, 30))
    assert "payment.paid" in await events(session, code)
    tracked = (await client.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert (tracked["status"], tracked["paused_since"]) == ("processing", None)
    assert tracked["history"][-1]["note"] == "Đã thực hiện nghĩa vụ tài chính"

    # the provider replays the same event under a new webhook-id: harmless
    count = await handovers(session, code)
    replay = await post(client, sign("payment", paid_event(reference, 70_000, vn(2026, 11, 25, 9, 30))))
    assert replay.json()["outcome"] == "already_paid"
    assert await handovers(session, code) == count
    assert (await dossier_of(session, code)).due_at == vn(2026, 11, 30, 8, 30)


async def test_payment_request_needs_an_amount_an_open_dossier_and_the_desk(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, bearer: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = (await counter_dossier(client, desk, bearer))["code"]
    url = f"/api/v1/dossiers/{code}/payments"
    no_fee = await client.post(url, json={"description": "Lệ phí"}, headers=bearer(desk.officer))
    assert (no_fee.status_code, no_fee.json()["code"]) == (422, "amount_required")
    other = await create_desk(session)
    await session.commit()
    elsewhere = await client.post(url, json={"description": "Lệ phí", "amount_vnd": 1}, headers=bearer(other.officer))
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "dossier_not_found")
    assert (await client.post(url, json={"description": "Lệ phí", "amount_vnd": 1})).status_code == 401
    negative = await client.post(url, json={"description": "Lệ phí", "amount_vnd": -5}, headers=bearer(desk.officer))
    assert negative.status_code == 422
    online = (await client.post("/api/v1/dossiers", json=submission(desk))).json()["code"]
    submitted = await client.post(
        f"/api/v1/dossiers/{online}/payments", json={"description": "Lệ phí", "amount_vnd": 1000},
        headers=bearer(desk.officer),
    )  # fmt: skip
    assert (submitted.status_code, submitted.json()["code"]) == (409, "invalid_state")
    dossier = await dossier_of(session, code)
    assert dossier.status == "received"
    count = await session.scalar(select(func.count()).select_from(Payment).where(Payment.dossier_id == dossier.id))
    assert count == 0
    # an amount given by the specialist works without known fees
    given = await client.post(
        url, json={"description": "Phí thẩm định", "amount_vnd": 30_000}, headers=bearer(desk.specialist)
    )
    assert given.status_code == 201, given.text
    assert given.json()["amount_vnd"] == 30_000


async def test_payment_failures_and_unknown_references(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, bearer: Any, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 9, 0))
    code = (await counter_dossier(client, desk, bearer))["code"]
    asked = await client.post(
        f"/api/v1/dossiers/{code}/payments", json={"description": "Lệ phí", "amount_vnd": 25_000},
        headers=bearer(desk.officer),
    )  # fmt: skip
    reference = asked.json()["reference"]
    count = await handovers(session, code)
    unknown = sign("payment", paid_event("MC-0000000000000000", 25_000, vn(2026, 11, 23, 9, 0)))
    response = await post(client, unknown)
    assert (response.status_code, response.json()["code"]) == (422, "payment_not_found")
    assert await outcome_of(session, unknown.webhook_id) == "rejected"
    failed = sign("payment", {"type": "payment.failed", "data": {"reference": reference, "reason": "Thẻ hết hạn"}})
    assert (await post(client, failed)).json()["outcome"] == "applied"
    assert await handovers(session, code) == count + 1
    line = await session.scalar(
        select(Handover).join(Dossier).where(Dossier.code == code, Handover.action == "payment_failed")
    )
    assert line is not None
    assert (line.public_note, line.comment) == (None, "Thẻ hết hạn")
    assert (await dossier_of(session, code)).status == "awaiting_payment"
