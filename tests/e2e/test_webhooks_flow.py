"""Postal pickup and return, and a fee paid, through signed webhooks sent to a real intake_api process;
then the citizen rates the service, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import Dossier, ProcedureFee
from tests.e2e.conftest import ARTIFACTS, Stack
from tests.factories import create_staff
from tests.intake.setup import Desk, create_desk, submission
from tests.intake.test_webhooks import PAYMENT_SECRET, POSTAL_SECRET, paid_event, postal_event, sign

pytestmark = pytest.mark.e2e


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
async def desk(engine: AsyncEngine) -> Desk:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        created = await create_desk(session)
        created.officer = await create_staff(session, agency=created.agency, roles=("counter",), password="quầy-một")
        session.add(
            ProcedureFee(version_id=created.version.id, position=1, kind="lệ phí", name="Lệ phí", amount_vnd=50000)
        )
        await session.commit()
        return created


async def test_postal_round_trip_payment_and_feedback(stack: Stack, desk: Desk, engine: AsyncEngine) -> None:
    clock = ARTIFACTS / "webhooks-clock.txt"
    clock.write_text(vn(2026, 11, 23, 9, 0).isoformat())
    stack.env.update(
        {
            "MOTCUA_CLOCK_FILE": str(clock),
            "MOTCUA_POSTAL_WEBHOOK_SECRET": POSTAL_SECRET,
            "MOTCUA_PAYMENT_WEBHOOK_SECRET": PAYMENT_SECRET,
        }
    )
    stack.api("intake")
    stack.api("workflow")

    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
    ):
        token = (
            await workflow.post("/api/v1/auth/token", data={"username": desk.officer.username, "password": "quầy-một"})
        ).json()["access_token"]
        officer = {"Authorization": f"Bearer {token}"}

        body = submission(
            desk, pickup_by_post=True, return_method="postal", postal_address="Số 5 ngõ 3 Cầu Đất, Hải Phòng"
        )
        created = (await intake.post("/api/v1/dossiers", json=body)).json()
        code, secret = created["code"], created["secret"]
        assert created["channel"] == 3
        clock.write_text(vn(2026, 11, 23, 16, 30).isoformat())  # the operator reports after the facts

        async def send(source: str, event: dict, **options) -> httpx.Response:  # type: ignore[no-untyped-def,type-arg]
            signed = sign(source, event, **options)
            return await intake.post(signed.path, content=signed.content, headers=signed.headers)

        picked = await send("postal", postal_event("pickup.picked_up", code, vn(2026, 11, 23, 10, 0), "EB000000001VN"))
        assert picked.json()["outcome"] == "applied", picked.text
        # tampered: the body changed after signing
        signed = sign("postal", postal_event("pickup.handed_over", code, vn(2026, 11, 23, 16, 0), "EB000000001VN"))
        tampered = await intake.post(
            signed.path, content=signed.content.replace(b"16:00", b"08:00"), headers=signed.headers
        )
        assert tampered.status_code == 401
        stale = await send(
            "postal",
            postal_event("pickup.handed_over", code, vn(2026, 11, 23, 16, 0), "EB000000001VN"),
            sent_at=datetime.now(UTC) - timedelta(minutes=6),
        )
        assert stale.status_code == 401
        assert stale.json()["code"] == "stale_webhook"
        handed = sign("postal", postal_event("pickup.handed_over", code, vn(2026, 11, 23, 16, 0), "EB000000001VN"))
        first = await intake.post(handed.path, content=handed.content, headers=handed.headers)
        again = await intake.post(handed.path, content=handed.content, headers=handed.headers)
        assert first.json()["outcome"] == "applied"
        assert again.json()["outcome"] == "duplicate"
        tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
        assert tracked["status"] == "received"
        # handed over Monday 16:00, after the cut-off; Tuesday 24 Nov is a holiday → from Wed 07:30, 3 days
        assert datetime.fromisoformat(tracked["due_at"]) == vn(2026, 11, 27, 17, 0)

        # a fee, paid through the provider's signed webhook
        clock.write_text(vn(2026, 11, 25, 9, 0).isoformat())
        payment = await intake.post(
            f"/api/v1/dossiers/{code}/payments", json={"description": "Lệ phí"}, headers=officer
        )
        assert payment.status_code == 201, payment.text
        assert payment.json()["amount_vnd"] == 50000
        reference = payment.json()["reference"]
        assert (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()[
            "status"
        ] == "awaiting_payment"
        clock.write_text(vn(2026, 11, 25, 10, 0).isoformat())
        paid = await send("payment", paid_event(reference, 50000, vn(2026, 11, 25, 10, 0)))
        assert paid.json()["outcome"] == "applied"
        tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
        assert tracked["status"] == "processing"
        assert datetime.fromisoformat(tracked["due_at"]) == vn(2026, 11, 30, 8, 30)  # Fri 17:00 + the paused hour

        # the result is ready (workflow_api's part) and goes back by post
        async with AsyncSession(engine) as session:
            await session.execute(
                update(Dossier)
                .where(Dossier.code == code)
                .values(status="resolved", resolved_at=vn(2026, 11, 26, 10, 0))
            )
            await session.commit()
        clock.write_text(vn(2026, 11, 27, 9, 0).isoformat())
        for kind, at in (("result.picked_up", vn(2026, 11, 26, 14, 0)), ("result.delivered", vn(2026, 11, 27, 8, 30))):
            assert (await send("postal", postal_event(kind, code, at, "EB000000002VN"))).json()["outcome"] == "applied"
        tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
        assert tracked["status_label"] == "Đã trả kết quả"

        rated = await intake.post(f"/api/v1/dossiers/{code}/feedback", json={"secret": secret, "rating": "satisfied"})
        assert rated.status_code == 201
        twice = await intake.post(
            f"/api/v1/dossiers/{code}/feedback", json={"secret": secret, "rating": "dissatisfied"}
        )
        assert twice.status_code == 409
