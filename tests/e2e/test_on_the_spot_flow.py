"""4 tại chỗ through the real services: a delegated counter officer receives, resolves and returns a
certified copy in one visit; the receipt and the result are there at once, workflow_api and notify_api
take the events like any other, and the leader's statistics count the dossier as resolved early."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import Dossier, Notification, OutboxEvent, Staff
from tests.e2e.conftest import ARTIFACTS, Stack, eventually
from tests.factories import create_staff
from tests.intake.setup import PDF, Desk, create_desk, submission
from tests.pdf import pdf_text
from tests.workflow_setup import add_template

pytestmark = pytest.mark.e2e
PASSWORD = "mật-khẩu-tại-chỗ"
RESULT = "01 bản sao chứng thực từ bản chính Giấy khai sinh"
# The first form a fresh API process renders starts its render workers (a fork server, then WeasyPrint's import,
# at a lower CPU priority): 1–2 s on a quiet machine, past httpx's default 5 s under a CI run beside other
# work (a fresh-clone run failed so at load 11). The test is about what the forms say, not how fast.
FIRST_RENDER_SECONDS = 60.0


@pytest.fixture
async def desk(engine: AsyncEngine) -> tuple[Desk, Staff, Staff]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        created = await create_desk(session, days=0)  # "trong ngày"
        template = await add_template(
            session, created.version, [("resolve_at_desk", None, "on_the_spot", 0, ["resolve", "return_result"])]
        )
        template.on_the_spot = True
        signer = await create_staff(session, agency=created.agency, roles=("counter", "on_the_spot"), password=PASSWORD)
        leader = await create_staff(session, agency=created.agency, roles=("leader",), password=PASSWORD)
        await session.commit()
        return created, signer, leader


async def _token(workflow: httpx.AsyncClient, staff: Staff) -> dict[str, str]:
    login = await workflow.post("/api/v1/auth/token", data={"username": staff.username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_received_resolved_and_returned_in_one_visit(
    stack: Stack, desk: tuple[Desk, Staff, Staff], engine: AsyncEngine
) -> None:
    the_desk, signer, leader = desk
    clock = ARTIFACTS / "on-the-spot-clock.txt"
    visit = datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ)  # Monday morning
    clock.write_text(visit.isoformat())
    stack.env["MOTCUA_CLOCK_FILE"] = str(clock)
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    stack.worker("intake")
    stack.worker("workflow")

    async with (
        httpx.AsyncClient(base_url=stack.url("intake"), timeout=FIRST_RENDER_SECONDS) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow"), timeout=FIRST_RENDER_SECONDS) as workflow,
    ):
        officer = await _token(workflow, signer)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        form = {"data": json.dumps({**submission(the_desk), "decision": "approve", "result_note": RESULT})}
        files = [
            ("D01", ("ban-chinh.pdf", PDF, "application/pdf")),
            ("result", ("ban-sao-chung-thuc.pdf", PDF, "application/pdf")),
        ]
        answer = await intake.post(
            "/api/v1/counter/dossiers/on-the-spot", data=form, files=files, headers={**officer, **key}
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        code, secret = body["code"], body["secret"]
        assert (body["status"], body["outcome"]) == ("returned", "early")
        # the clock starts and ends within the visit
        assert datetime.fromisoformat(body["received_at"]) == datetime.fromisoformat(body["returned_at"]) == visit
        # a second press of the button (a retry of the same request) gives the same dossier
        again = await intake.post(
            "/api/v1/counter/dossiers/on-the-spot", data=form, files=files, headers={**officer, **key}
        )
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json()["code"] == code

        # the receipt (Mẫu 01) with the result, and the result file, at once
        receipt = await intake.post(
            f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={"secret": secret}, headers=officer
        )
        assert receipt.status_code == 200, receipt.text
        text = pdf_text(receipt.content)
        assert "Đã giải quyết và trả kết quả tại chỗ" in text
        assert RESULT in text
        result = next(d for d in body["documents"] if d["kind"] == "result")
        fetched = await intake.get(f"/api/v1/dossiers/{code}/documents/{result['id']}", headers=officer)
        assert (fetched.status_code, fetched.content) == (200, PDF)

        # workflow_api: returned, and the control sheet (Mẫu 06) has each hand-over of the visit
        seen = await workflow.get(f"/api/v1/dossiers/{code}", headers=officer)
        assert seen.json()["status"] == "returned"
        sheet = (await workflow.get(f"/api/v1/dossiers/{code}/timeline", headers=officer)).json()
        assert [line["action"] for line in sheet] == ["submit", "receive", "route", "resolve", "return_result"]
        assert sheet[3]["step_outcome"] == "early"
        control = await workflow.get(f"/api/v1/dossiers/{code}/forms/control-sheet.pdf", headers=officer)
        assert control.status_code == 200, control.text

        # the citizen sees it returned
        tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": secret})).json()
        assert tracked["status"] == "returned"
        assert [item["status"] for item in tracked["history"]] == [
            "submitted",
            "received",
            "processing",
            "resolved",
            "returned",
        ]

        # the leader's statistics count it early
        stats = await workflow.get(
            "/api/v1/stats",
            params={"from": "2026-11-23", "to": "2026-11-23", "procedure": the_desk.procedure_code},
            headers=await _token(workflow, leader),
        )
        assert stats.status_code == 200, stats.text
        figures = stats.json()
        assert (figures["received"], figures["resolved_early"], figures["resolved_on_time"]) == (1, 1, 0)
        assert (figures["pending_on_time"], figures["pending_overdue"]) == (0, 0)

    # every event of the visit reached workflow_api and notify_api; workflow_api did not route it twice
    async def relayed() -> bool:
        async with AsyncSession(engine) as session:
            rows = (
                await session.execute(
                    select(OutboxEvent.event_type, OutboxEvent.destination, OutboxEvent.status).where(
                        OutboxEvent.payload["dossier_code"].astext == code
                    )
                )
            ).all()
            return bool(rows) and {status for _, _, status in rows} == {"delivered"}

    await eventually(relayed, what="the visit's events delivered")
    async with AsyncSession(engine) as session:
        types = set(
            (
                await session.scalars(
                    select(OutboxEvent.event_type).where(OutboxEvent.payload["dossier_code"].astext == code)
                )
            ).all()
        )
    assert {"dossier.received", "dossier.routed", "dossier.resolved", "dossier.returned"} <= types
    # the citizen, standing at the counter, is told of the return only (no appointment, no "come and collect")
    async with AsyncSession(engine) as session:
        told = (
            await session.execute(
                select(Notification.event_type, Notification.channel)
                .join(Dossier, Dossier.id == Notification.dossier_id)
                .where(Dossier.code == code, Notification.channel != "in_app")
            )
        ).all()
    assert sorted(told) == [("dossier.returned", "email"), ("dossier.returned", "sms")]
    stack.stop()
    logs = stack.logs()
    assert "dossier not routed" not in logs
    for personal in ("031190004567", "0912345678", "thuha@example.vn", "Lạch Tray"):
        assert personal not in logs
