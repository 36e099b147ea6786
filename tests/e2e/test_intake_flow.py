"""Intake through the real services: intake_api, workflow_api (sign-in) and notify_api as uvicorn
processes, with the relays running, on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import OutboxEvent
from tests.e2e.conftest import ARTIFACTS, Stack, eventually
from tests.factories import create_staff
from tests.intake.setup import PDF, Desk, create_desk, submission

pytestmark = pytest.mark.e2e


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
async def desk(engine: AsyncEngine) -> Desk:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        created = await create_desk(session)
        created.officer = await create_staff(
            session, agency=created.agency, roles=("counter",), password="mật-khẩu-quầy"
        )
        await session.commit()
        return created


async def test_online_counter_supplement_refusal_withdrawal_and_tracking(
    stack: Stack, desk: Desk, engine: AsyncEngine
) -> None:
    clock = ARTIFACTS / "intake-clock.txt"
    clock.write_text(vn(2026, 11, 23, 8, 0).isoformat())
    stack.env["MOTCUA_CLOCK_FILE"] = str(clock)
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    stack.worker("intake")

    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
    ):
        login = await workflow.post(
            "/api/v1/auth/token", data={"username": desk.officer.username, "password": "mật-khẩu-quầy"}
        )
        assert login.status_code == 200, login.text
        officer = {"Authorization": f"Bearer {login.json()['access_token']}"}

        # online, with a document, then accepted by the desk at 08:00 Monday
        online = await intake.post(
            "/api/v1/dossiers",
            data={"data": json.dumps(submission(desk))},
            files=[("D01", ("to-khai.pdf", PDF, "application/pdf"))],
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert online.status_code == 201, online.text
        code, secret = online.json()["code"], online.json()["secret"]
        accepted = await intake.post(f"/api/v1/dossiers/{code}/accept", json={}, headers=officer)
        assert accepted.json()["status"] == "received"
        # Mon 08:00 + 3 working days (Tue 24 Nov is Vietnam Culture Day) → Fri 27 Nov 08:00
        assert datetime.fromisoformat(accepted.json()["due_at"]) == vn(2026, 11, 27, 8, 0)

        # a supplement after acceptance pauses the clock for 8 working hours
        await intake.post(
            f"/api/v1/dossiers/{code}/supplement-requests",
            json={"items": [{"document": "Giấy chứng sinh", "reason": "Bản chụp thiếu trang 2"}]},
            headers=officer,
        )
        clock.write_text(vn(2026, 11, 25, 8, 0).isoformat())
        supplemented = await intake.post(
            f"/api/v1/dossiers/{code}/supplements",
            data={"data": json.dumps({"secret": secret})},
            files=[("D02", ("chung-sinh.pdf", PDF, "application/pdf"))],
        )
        assert supplemented.json()["status"] == "processing"
        assert datetime.fromisoformat(supplemented.json()["due_at"]) == vn(2026, 11, 30, 8, 0)

        tracked = await intake.get(f"/api/v1/track/{code}", params={"secret": secret})
        assert tracked.status_code == 200
        assert [item["status"] for item in tracked.json()["history"]] == [
            "submitted",
            "received",
            "awaiting_supplement",
            "processing",
        ]
        assert (await intake.get(f"/api/v1/track/{code}")).status_code == 422  # no secret, no answer

        # at the counter after the cut-off; then an online one refused; another withdrawn
        clock.write_text(vn(2026, 11, 25, 15, 10).isoformat())
        counter = await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)
        assert counter.json()["status"] == "received"
        assert datetime.fromisoformat(counter.json()["due_at"]) == vn(2026, 11, 30, 17, 0)
        # an online dossier asked for a supplement before acceptance goes back to the desk
        early = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()
        await intake.post(
            f"/api/v1/dossiers/{early['code']}/supplement-requests",
            json={"items": [{"document": "Tờ khai", "reason": "Thiếu chữ ký của người yêu cầu"}]},
            headers=officer,
        )
        back = await intake.post(
            f"/api/v1/dossiers/{early['code']}/supplements",
            data={"data": json.dumps({"secret": early["secret"]})},
            files=[("D01", ("to-khai.pdf", PDF, "application/pdf"))],
        )
        assert back.json()["status"] == "submitted"
        assert back.json()["received_at"] is None
        refused_code = (await intake.post("/api/v1/dossiers", json=submission(desk))).json()["code"]
        refused = await intake.post(
            f"/api/v1/dossiers/{refused_code}/refuse",
            json={"reasons": ["Thủ tục không thuộc thẩm quyền"]},
            headers=officer,
        )
        assert refused.json()["status"] == "refused"
        withdrawn = await intake.post(
            f"/api/v1/dossiers/{counter.json()['code']}/withdraw", json={"secret": counter.json()["secret"]}
        )
        assert withdrawn.json()["status"] == "withdrawn"

        # ten wrong guesses lock the code, even for the right secret
        for n in range(10):
            assert (await intake.get(f"/api/v1/track/{code}", params={"secret": f"SAI{n}-XXXX"})).status_code == 404
        assert (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).status_code == 429

    # every state change reached notify_api through the outbox
    async def relayed() -> bool:
        async with AsyncSession(engine) as session:
            pending = (
                await session.scalars(
                    select(OutboxEvent.status).where(
                        OutboxEvent.destination == "notify", OutboxEvent.payload["dossier_code"].astext == code
                    )
                )
            ).all()
            return bool(pending) and set(pending) == {"delivered"}

    await eventually(relayed, what="intake's events delivered to notify_api")
    stack.stop()
    logs = stack.logs()
    for personal in ("031190004567", "0912345678", "thuha@example.vn", "Lạch Tray"):
        assert personal not in logs
