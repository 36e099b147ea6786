"""The desk's lists for the staff SPA: online submissions waiting for the check, and one dossier with its checklist."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from tests.factories import create_agency, create_staff
from tests.intake.setup import PDF, Desk, submission


async def test_waiting_lists_the_desks_unchecked_submissions_oldest_first(
    intake: httpx.AsyncClient,
    desk: Desk,
    bearer: Callable[..., dict[str, Any]],
    travel: Callable[[datetime], None],
    session: AsyncSession,
) -> None:
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    first = await intake.post(
        "/api/v1/dossiers",
        data={"data": json.dumps(submission(desk))},
        files=[("D01", ("to-khai.pdf", PDF, "application/pdf"))],
    )
    travel(datetime(2026, 11, 23, 9, 30, tzinfo=VN_TZ))
    second = await intake.post("/api/v1/dossiers", json=submission(desk))
    third = await intake.post("/api/v1/dossiers", json=submission(desk))
    assert {first.status_code, second.status_code, third.status_code} == {201}
    accepted = await intake.post(
        f"/api/v1/dossiers/{third.json()['code']}/accept", json={}, headers=bearer(desk.officer)
    )
    assert accepted.status_code == 200, accepted.text

    listed = await intake.get("/api/v1/desk/dossiers", headers=bearer(desk.officer))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    codes = [item["code"] for item in body["items"]]
    assert codes == [first.json()["code"], second.json()["code"]]
    assert body["total"] == 2
    assert body["items"][0]["documents"] == 1
    assert body["items"][0]["status_label"] == "Mới đăng ký"
    assert "031190004567" not in listed.text  # the list carries the name only

    other = await create_agency(session, level="commune")
    stranger = await create_staff(session, agency=other, roles=("counter",))
    await session.commit()
    elsewhere = await intake.get("/api/v1/desk/dossiers", headers=bearer(stranger))
    assert elsewhere.json()["items"] == []
    specialist = await intake.get("/api/v1/desk/dossiers", headers=bearer(desk.specialist))
    assert specialist.status_code == 403


async def test_desk_dossier_has_applicant_documents_and_checklist(
    intake: httpx.AsyncClient, desk: Desk, bearer: Callable[..., dict[str, Any]], session: AsyncSession
) -> None:
    created = await intake.post(
        "/api/v1/dossiers",
        data={"data": json.dumps(submission(desk))},
        files=[("D01", ("to-khai.pdf", PDF, "application/pdf"))],
    )
    code = created.json()["code"]
    seen = await intake.get(f"/api/v1/desk/dossiers/{code}", headers=bearer(desk.officer))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["applicant"]["id_number"] == "031190004567"
    assert [(c["code"], c["received"]) for c in body["checklist"]] == [("D01", True), ("D02", False)]
    assert body["documents"][0]["filename"].endswith(".pdf")

    other = await create_agency(session, level="commune")
    stranger = await create_staff(session, agency=other, roles=("counter",))
    await session.commit()
    hidden = await intake.get(f"/api/v1/desk/dossiers/{code}", headers=bearer(stranger))
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")


async def test_desk_dossier_counts_the_working_time_left(
    intake: httpx.AsyncClient,
    desk: Desk,
    bearer: Callable[..., dict[str, Any]],
    travel: Callable[[datetime], None],
) -> None:
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))  # a Monday
    created = await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    assert created.status_code == 201, created.text
    travel(datetime(2026, 11, 23, 10, 0, tzinfo=VN_TZ))
    seen = await intake.get(f"/api/v1/desk/dossiers/{created.json()['code']}", headers=bearer(desk.officer))
    remaining = {item["kind"]: item for item in seen.json()["remaining"]}
    assert remaining["dossier"]["remaining_seconds"] == 3 * 8 * 3600 - 3600
    assert remaining["dossier"]["paused"] is False
