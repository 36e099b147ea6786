"""The public post's failure paths, through intake_api's signed webhook: the operator's booking reply,
failed delivery attempts, re-delivery, return to sender (the result waits at the desk, which asks for
a new delivery), a cancelled pickup — and every report the shipment cannot take from its state."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app
from services.core.config import Settings
from services.models import Dossier, SlaTimer
from tests.intake.setup import Desk
from tests.intake.test_webhooks import (
    POSTAL_SECRET,
    dossier_of,
    events,
    handovers,
    outcome_of,
    post,
    postal_dossier,
    postal_event,
    shipments,
    sign,
    vn,
)

_ADDRESSES = itertools.count(1)


@pytest.fixture(scope="module")
async def postal_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings.with_changes(postal={"webhook_secret": SecretStr(POSTAL_SECRET)}))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(postal_app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    n = next(_ADDRESSES)
    transport = httpx.ASGITransport(app=share(postal_app), client=(f"198.19.9.{n % 250 + 1}", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def tracking() -> str:
    return f"EB{uuid.uuid4().int % 10**9:09d}VN"


class Post:
    """The operator's reports on one dossier, each sent two minutes after it happened."""

    def __init__(self, client: httpx.AsyncClient, travel: Any, code: str) -> None:
        self.client, self.travel, self.code = client, travel, code

    async def report(self, kind: str, at: datetime, number: str, **data: Any) -> httpx.Response:
        event = postal_event(kind, self.code, at, number)
        event["data"].update(data)
        self.travel(at + timedelta(minutes=2))
        return await post(self.client, sign("postal", event))

    async def outcome(self, kind: str, at: datetime, number: str, **data: Any) -> str:
        response = await self.report(kind, at, number, **data)
        assert response.status_code == 200, response.text
        return str(response.json()["outcome"])

    async def refused(self, kind: str, at: datetime, number: str, **data: Any) -> tuple[int, str]:
        response = await self.report(kind, at, number, **data)
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        assert response.json()["outcome"] == "rejected"
        return response.status_code, str(response.json()["code"])


async def resolved_postal_dossier(client: httpx.AsyncClient, desk: Desk, session: AsyncSession) -> dict[str, Any]:
    """A dossier collected by post whose result (to be returned by post) is ready."""
    created = await postal_dossier(client, desk)
    await session.execute(
        update(Dossier)
        .where(Dossier.code == created["code"])
        .values(status="resolved", received_at=vn(2026, 11, 23, 9, 0), resolved_at=vn(2026, 11, 26, 10, 0))
    )
    await session.commit()
    return created


async def test_failed_attempts_then_the_return_to_the_desk_which_asks_for_a_new_delivery(
    client: httpx.AsyncClient,
    workflow: httpx.AsyncClient,
    desk: Desk,
    session: AsyncSession,
    bearer: Any,
    travel: Any,
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    created = await resolved_postal_dossier(client, desk, session)
    code, secret = created["code"], created["secret"]
    post_office, first = Post(client, travel, code), tracking()

    # the operator's booking reply: its own reference and fee, kept on the shipment and shown to the desk
    booked = dict(operator_reference="VNP-2611-000123", fee_vnd=32_000)
    assert await post_office.outcome("result.booked", vn(2026, 11, 26, 10, 30), first, **booked) == "applied"
    assert await post_office.outcome("result.booked", vn(2026, 11, 26, 10, 30), first, **booked) == "already_applied"
    assert await post_office.outcome("result.picked_up", vn(2026, 11, 26, 14, 0), first) == "applied"

    # the first attempt fails: the dossier stays resolved, the applicant is told
    failed = dict(attempt=1, reason_code="recipient_absent")
    assert await post_office.outcome("result.delivery_failed", vn(2026, 11, 27, 9, 0), first, **failed) == "applied"
    shipment = (await shipments(session, code))["outbound"]
    assert (shipment.status, shipment.failed_attempts, shipment.failure_code) == (
        "delivery_failed",
        1,
        "recipient_absent",
    )
    assert (await dossier_of(session, code)).status == "resolved"
    again = "result.redelivery_scheduled"
    assert await post_office.outcome(again, vn(2026, 11, 27, 9, 5), first, attempt=2,
                                     scheduled_for=vn(2026, 11, 30, 9, 0).isoformat()) == "applied"  # fmt: skip
    assert (await shipments(session, code))["outbound"].redelivery_at == vn(2026, 11, 30, 9, 0)
    last = dict(attempt=2, reason_code="recipient_unreachable", final_attempt=True)
    assert await post_office.outcome("result.delivery_failed", vn(2026, 11, 30, 9, 30), first, **last) == "applied"

    # late copies of earlier reports, under new webhook-ids, change nothing
    count = await handovers(session, code)
    for kind, at, data in (
        ("result.delivery_failed", vn(2026, 11, 27, 9, 0), failed),
        ("result.redelivery_scheduled", vn(2026, 11, 27, 9, 5), {"attempt": 2}),
        ("result.picked_up", vn(2026, 11, 26, 14, 0), {}),
        ("result.delivery_failed", vn(2026, 11, 30, 9, 30), last),
    ):
        assert await post_office.outcome(kind, at, first, **data) == "already_applied", kind
    assert await handovers(session, code) == count

    # the result is back at the desk: still resolved, now to be handed over there
    assert await post_office.outcome("result.returned_to_sender", vn(2026, 12, 1, 8, 0), first) == "applied"
    dossier = await dossier_of(session, code)
    assert (dossier.status, dossier.return_method) == ("resolved", "counter")
    assert (await shipments(session, code))["outbound"].status == "returned"
    assert await post_office.outcome("result.returned_to_sender", vn(2026, 12, 1, 8, 0), first) == "already_applied"
    assert (await events(session, code)).count("dossier.postal_returned") == 1  # to notify (workflow: receipts only)
    assert (await events(session, code)).count("dossier.delivery_failed") == 2  # to notify, twice

    # a delivery reported after the return is impossible: 409, nothing changes
    count = await handovers(session, code)
    assert await post_office.refused("result.delivered", vn(2026, 12, 1, 9, 0), first) == (
        409,
        "shipment_transition_invalid",
    )
    assert await handovers(session, code) == count
    assert (await dossier_of(session, code)).status == "resolved"

    # what the citizen sees: the attempts and the return, in Vietnamese, without personal data
    tracked = await client.get(f"/api/v1/track/{code}", params={"secret": secret})
    notes = [item["note"] for item in tracked.json()["history"]]
    assert (
        "Bưu điện giao kết quả không thành công (lần 1): người nhận vắng nhà. Bưu điện sẽ liên hệ để giao lại." in notes
    )
    assert "Bưu điện hẹn giao lại kết quả (lần 2) vào ngày 30/11/2026." in notes
    assert notes[-1].startswith("Bưu điện đã chuyển trả kết quả về Bộ phận Tiếp nhận và Trả kết quả.")
    # ... and as codes with their params, which the SPA says in the reader's language (services.dossier.notes)
    coded = [(item["note_code"], item["note_params"]) for item in tracked.json()["history"]][-5:]
    assert coded == [
        ("postal_result_picked_up", {}),
        ("postal_delivery_failed", {"attempt": 1, "reason_code": "recipient_absent"}),
        ("postal_redelivery_scheduled", {"attempt": 2, "scheduled_for": "2026-11-30T09:00:00+07:00"}),
        ("postal_delivery_failed_final", {"attempt": 2, "reason_code": "recipient_unreachable"}),
        ("postal_returned", {}),
    ]
    [public] = tracked.json()["shipments"]
    assert (public["status"], public["failed_attempts"], public["failure_code"]) == (
        "returned",
        2,
        "recipient_unreachable",
    )
    assert "operator_reference" not in public
    for personal in ("031190004567", "Lạch Tray", "0912345678"):
        assert personal not in tracked.text

    # what the desk sees: the result waiting, the post's reference and fee
    officer = bearer(desk.officer)
    view = (await client.get(f"/api/v1/desk/dossiers/{code}", headers=officer)).json()
    assert view["postal_returned"] is True
    [staff_view] = view["shipments"]
    assert (staff_view["operator_reference"], staff_view["fee_vnd"]) == ("VNP-2611-000123", 32_000)

    # the counter's "Kết quả chờ trả" list marks the result the post brought back
    async def to_return() -> dict[str, Any]:
        params = {"scope": "unit", "status": "resolved", "limit": 200}
        listed = await workflow.get("/api/v1/tasks", params=params, headers=officer)
        assert listed.status_code == 200, listed.text
        return next(item for item in listed.json()["items"] if item["code"] == code)

    assert (await to_return())["postal_returned"] is True

    # the control sheet: the post's lines carry their note codes and no comment (nobody typed one)
    sheet = await workflow.get(f"/api/v1/dossiers/{code}/timeline", headers=officer)
    assert sheet.status_code == 200, sheet.text
    posted = [(row["action"], row["note_code"], row["comment"]) for row in sheet.json() if row["action"] != "submit"]
    assert posted[-3:] == [
        ("postal_redelivery_scheduled", "postal_redelivery_scheduled", None),
        ("postal_delivery_failed", "postal_delivery_failed_final", None),
        ("postal_returned", "postal_returned", None),
    ]

    # the desk asks the post to deliver again: a new delivery is booked (dossier.redelivery_requested)
    travel(vn(2026, 12, 1, 10, 0))
    asked = await client.post(f"/api/v1/dossiers/{code}/postal-redelivery", json={"comment": "Công dân gọi"},
                              headers=officer)  # fmt: skip
    assert asked.status_code == 200, asked.text
    assert (await dossier_of(session, code)).return_method == "postal"
    assert "dossier.redelivery_requested" in await events(session, code)
    view = (await client.get(f"/api/v1/desk/dossiers/{code}", headers=officer)).json()
    assert view["postal_returned"] is False
    assert (await to_return())["postal_returned"] is False  # on its way again: nothing to hand over here
    twice = await client.post(f"/api/v1/dossiers/{code}/postal-redelivery", json={}, headers=officer)
    assert (twice.status_code, twice.json()["code"]) == (409, "action_not_allowed")  # the post has it again

    # the new delivery is its own shipment, and this time the result arrives
    second = tracking()
    assert await post_office.outcome("result.picked_up", vn(2026, 12, 1, 14, 0), second) == "applied"
    assert await post_office.outcome("result.delivered", vn(2026, 12, 2, 9, 0), second) == "applied"
    dossier = await dossier_of(session, code)
    assert (dossier.status, dossier.returned_at) == ("returned", vn(2026, 12, 2, 9, 0))


async def test_reports_the_shipment_cannot_take_are_409_and_change_nothing(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    code = (await resolved_postal_dossier(client, desk, session))["code"]
    post_office, number = Post(client, travel, code), tracking()
    booked = dict(operator_reference="VNP-1", fee_vnd=30_000)
    assert await post_office.outcome("result.booked", vn(2026, 11, 26, 11, 0), number, **booked) == "applied"
    count = await handovers(session, code)
    at = vn(2026, 11, 26, 12, 0)
    conflicts = [
        # not yet with the postman: no attempt can have failed, nothing can come back
        ("result.delivery_failed", {"attempt": 1, "reason_code": "recipient_absent"}),
        ("result.returned_to_sender", {}),
        ("result.redelivery_scheduled", {"attempt": 2}),
    ]
    for kind, data in conflicts:
        assert await post_office.refused(kind, at, number, **data) == (409, "shipment_transition_invalid"), kind
    assert await post_office.refused("result.booked", at, number, operator_reference="VNP-2", fee_vnd=30_000) == (
        409,
        "booking_conflict",
    )
    assert await post_office.outcome("result.picked_up", at, number) == "applied"
    assert await post_office.refused("result.redelivery_scheduled", at, number, attempt=2) == (
        409,
        "shipment_transition_invalid",
    )  # no attempt failed yet
    failed = {"attempt": 1, "reason_code": "address_not_found"}
    assert await post_office.outcome("result.delivery_failed", at, number, **failed) == "applied"
    assert await post_office.refused("result.redelivery_scheduled", at, number, attempt=3) == (
        409,
        "shipment_transition_invalid",
    )  # the next attempt is the 2nd
    # payloads that are not what the event needs: 422
    for data in ({"attempt": 2, "reason_code": "Người nhận đi vắng"}, {"attempt": "2", "reason_code": "x"}, {}):
        assert await post_office.refused("result.delivery_failed", at, number, **data) == (422, "invalid_payload")
    assert await post_office.refused("result.booked", at, tracking(), operator_reference="X", fee_vnd=-1) == (
        422,
        "invalid_payload",
    )
    # a pickup cannot be booked for a dossier that is no longer waiting to be collected
    assert await post_office.refused("pickup.booked", at, tracking(), operator_reference="X", fee_vnd=1) == (
        409,
        "invalid_state",
    )
    shipment = (await shipments(session, code))["outbound"]
    assert (shipment.status, shipment.failed_attempts, shipment.operator_reference) == ("delivery_failed", 1, "VNP-1")
    assert await handovers(session, code) == count + 2  # the pickup and the one failure
    # the desk cannot ask for a new delivery while the post still has the result
    assert (await dossier_of(session, code)).return_method == "postal"


async def test_a_cancelled_pickup_receives_nothing_and_starts_no_clock(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    created = await postal_dossier(client, desk)
    code, secret = created["code"], created["secret"]
    post_office, number = Post(client, travel, code), tracking()
    booked = dict(operator_reference="VNP-PU-77", fee_vnd=25_000)
    assert await post_office.outcome("pickup.booked", vn(2026, 11, 23, 8, 10), number, **booked) == "applied"
    assert await post_office.outcome("pickup.requested", vn(2026, 11, 23, 8, 20), number) == "applied"
    cancelled = await post_office.outcome(
        "pickup.cancelled", vn(2026, 11, 23, 9, 0), number, reason_code="cancelled_by_applicant"
    )
    assert cancelled == "applied"
    dossier = await dossier_of(session, code)
    assert (dossier.status, dossier.received_at, dossier.due_at) == ("submitted", None, None)
    timers = await session.scalar(select(func.count()).select_from(SlaTimer).where(SlaTimer.dossier_id == dossier.id))
    assert timers == 0
    inbound = (await shipments(session, code))["inbound"]
    assert (inbound.status, inbound.operator_reference, inbound.fee_vnd) == ("cancelled", "VNP-PU-77", 25_000)
    assert "dossier.pickup_cancelled" in await events(session, code)

    # the cancellation again is harmless; collecting or handing over a cancelled pickup is impossible
    count = await handovers(session, code)
    assert await post_office.outcome("pickup.cancelled", vn(2026, 11, 23, 9, 0), number) == "already_applied"
    for kind in ("pickup.picked_up", "pickup.handed_over"):
        assert await post_office.refused(kind, vn(2026, 11, 23, 10, 0), number) == (409, "shipment_transition_invalid")
    assert await handovers(session, code) == count
    assert (await dossier_of(session, code)).status == "submitted"

    tracked = (await client.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
    assert tracked["history"][-1]["note"] == (
        "Yêu cầu bưu điện đến nhận hồ sơ tại nhà đã bị hủy; hồ sơ chưa được tiếp nhận."
    )
    assert [item["note_code"] for item in tracked["history"]][-2:] == [
        "postal_pickup_requested",
        "postal_pickup_cancelled",
    ]
    assert [(s["status"], s["tracking_number"]) for s in tracked["shipments"]] == [("cancelled", number)]


async def test_a_pickup_the_postman_has_collected_cannot_be_cancelled(
    client: httpx.AsyncClient, desk: Desk, session: AsyncSession, travel: Any
) -> None:
    travel(vn(2026, 11, 23, 8, 0))
    code = (await postal_dossier(client, desk))["code"]
    post_office, number = Post(client, travel, code), tracking()
    assert await post_office.outcome("pickup.picked_up", vn(2026, 11, 23, 8, 30), number) == "applied"
    response = await post_office.report("pickup.cancelled", vn(2026, 11, 23, 9, 0), number)
    assert (response.status_code, response.json()["code"]) == (409, "shipment_transition_invalid")
    assert response.json()["status_now"] == "picked_up"
    assert await outcome_of(session, response.request.headers["webhook-id"]) == "rejected"
    assert (await shipments(session, code))["inbound"].status == "picked_up"
