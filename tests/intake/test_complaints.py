"""Complaints and suggestions: deadlines on the agency's calendar, answered and published by staff."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from tests.factories import create_agency, create_staff


async def test_a_complaint_gets_its_deadlines_and_is_answered_and_published(
    intake: httpx.AsyncClient, session: AsyncSession, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    agency = await create_agency(session, level="commune")
    other = await create_agency(session, level="commune")
    head = await create_staff(session, agency=agency, roles=("head",))
    stranger = await create_staff(session, agency=other, roles=("head",))
    await session.commit()

    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    sent = await intake.post(
        "/api/v1/complaints",
        json={
            "kind": "complaint",
            "agency_code": agency.code,
            "subject": "Cán bộ hẹn lại nhiều lần",
            "content": "Tôi đã đến ba lần mà hồ sơ vẫn chưa được tiếp nhận.",
            "contact": {"name": "Lê Văn Bình", "phone": "0987654321"},
        },
    )
    assert sent.status_code == 201
    code = sent.json()["code"]

    public = (await intake.get(f"/api/v1/complaints/{code}")).json()
    # 15 working days from Mon 23 Nov 09:00, Tue 24 Nov off → Tue 15 Dec 09:00
    assert datetime.fromisoformat(public["answer_due_at"]) == datetime(2026, 12, 15, 9, 0, tzinfo=VN_TZ)
    assert "0987654321" not in str(public)
    assert public["answer"] is None

    listed = (await intake.get("/api/v1/complaints", headers=bearer(head))).json()
    mine = next(item for item in listed if item["code"] == code)
    assert mine["contact_phone"] == "0987654321"
    assert datetime.fromisoformat(mine["refuse_by"]) == datetime(2026, 11, 26, 9, 0, tzinfo=VN_TZ)
    assert code not in [
        item["code"] for item in (await intake.get("/api/v1/complaints", headers=bearer(stranger))).json()
    ]

    hidden = await intake.post(f"/api/v1/complaints/{code}/answer", json={"answer": "x" * 20}, headers=bearer(stranger))
    assert hidden.status_code == 404
    answered = await intake.post(
        f"/api/v1/complaints/{code}/answer",
        json={"answer": "Phường đã nhắc nhở cán bộ và tiếp nhận hồ sơ ngay trong ngày 24/11."},
        headers=bearer(head),
    )
    assert answered.status_code == 200
    public = (await intake.get(f"/api/v1/complaints/{code}")).json()
    assert public["status"] == "published"
    assert public["answer"].startswith("Phường đã nhắc nhở")
    again = await intake.post(f"/api/v1/complaints/{code}/answer", json={"answer": "y" * 20}, headers=bearer(head))
    assert again.status_code == 409
