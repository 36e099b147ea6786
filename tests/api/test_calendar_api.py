"""The calendar over HTTP: due times for anyone, administration for administrators (audited)."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.models import AuditLog
from tests.factories import create_agency, create_staff


async def test_due_counts_working_days_over_the_culture_day(workflow: httpx.AsyncClient) -> None:
    response = await workflow.get("/api/v1/calendar/due", params={"start": "2026-11-23T09:00:00+07:00", "days": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["due_at"]) == datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)
    assert body["working_hours"] == 8


async def test_due_in_working_hours_and_local_time_without_offset(workflow: httpx.AsyncClient) -> None:
    response = await workflow.get("/api/v1/calendar/due", params={"start": "2026-11-23T10:00:00", "hours": 2})
    assert datetime.fromisoformat(response.json()["due_at"]) == datetime(2026, 11, 23, 13, 30, tzinfo=VN_TZ)


async def test_due_needs_exactly_one_of_days_or_hours(workflow: httpx.AsyncClient) -> None:
    both = await workflow.get(
        "/api/v1/calendar/due", params={"start": "2026-11-23T09:00:00+07:00", "days": 1, "hours": 2}
    )
    assert both.status_code == 422
    assert both.json()["code"] == "days_or_hours"
    negative = await workflow.get("/api/v1/calendar/due", params={"start": "2026-11-23T09:00:00+07:00", "days": -1})
    assert negative.status_code == 422
    unknown = await workflow.get(
        "/api/v1/calendar/due", params={"start": "2026-11-23T09:00:00+07:00", "days": 1, "agency": "NO.SUCH"}
    )
    assert unknown.status_code == 404


async def test_days_lists_the_holidays_and_the_make_up_saturday(workflow: httpx.AsyncClient) -> None:
    days = {d["day"]: d for d in (await workflow.get("/api/v1/calendar/days", params={"year": 2026})).json()}
    assert days["2026-08-31"]["working"] is False
    assert days["2026-08-22"]["working"] is True
    assert days["2026-08-22"]["windows"] == [["07:30", "11:30"], ["13:00", "17:00"]]
    assert days["2026-11-24"]["working"] is False
    assert "2026-11-23" not in days


async def test_an_administrator_closes_a_day_for_one_agency_and_it_is_audited(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer
) -> None:  # type: ignore[no-untyped-def]
    agency = await create_agency(session, level="commune")
    admin = await create_staff(session, agency=agency, roles=("admin",))
    clerk = await create_staff(session, agency=agency, roles=("counter",))
    await session.commit()
    closure = {"agency_code": agency.code, "day": "2026-12-03", "kind": "closed", "reason": "Sửa chữa trụ sở"}

    denied = await workflow.post("/api/v1/calendar/overrides", json=closure, headers=bearer(clerk))
    assert denied.status_code == 403
    created = await workflow.post("/api/v1/calendar/overrides", json=closure, headers=bearer(admin))
    assert created.status_code == 201, created.text
    override_id = created.json()["override"]["id"]
    duplicate = await workflow.post("/api/v1/calendar/overrides", json=closure, headers=bearer(admin))
    assert duplicate.status_code == 409

    due = await workflow.get(
        "/api/v1/calendar/due", params={"start": "2026-12-02T09:00:00+07:00", "days": 1, "agency": agency.code}
    )
    assert datetime.fromisoformat(due.json()["due_at"]) == datetime(2026, 12, 4, 9, 0, tzinfo=VN_TZ)
    province = await workflow.get("/api/v1/calendar/due", params={"start": "2026-12-02T09:00:00+07:00", "days": 1})
    assert datetime.fromisoformat(province.json()["due_at"]) == datetime(2026, 12, 3, 9, 0, tzinfo=VN_TZ)

    revoked = await workflow.post(
        f"/api/v1/calendar/overrides/{override_id}/revoke", json={"reason": "Hoãn sửa chữa"}, headers=bearer(admin)
    )
    assert revoked.status_code == 200
    assert revoked.json()["override"]["revoke_reason"] == "Hoãn sửa chữa"
    history = (await workflow.get("/api/v1/calendar/overrides", params={"year": 2026}, headers=bearer(clerk))).json()
    assert any(item["id"] == override_id and item["revoked_at"] for item in history)
    assert next(item for item in history if item["id"] == override_id)["agency_code"] == agency.code

    entries = (
        await session.scalars(
            select(AuditLog).where(AuditLog.actor_staff_id == admin.id, AuditLog.action == "calendar_change")
        )
    ).all()
    assert len(entries) == 2
    assert entries[0].detail["reason"] in {"Sửa chữa trụ sở", "Hoãn sửa chữa"}


async def test_bad_override_input_is_refused(workflow: httpx.AsyncClient, session: AsyncSession, bearer) -> None:  # type: ignore[no-untyped-def]
    agency = await create_agency(session)
    admin = await create_staff(session, agency=agency, roles=("admin",))
    await session.commit()
    overlapping = {
        "day": "2026-12-06",
        "kind": "working",
        "windows": [["08:00", "12:00"], ["11:00", "13:00"]],
        "reason": "Làm bù",
    }
    response = await workflow.post("/api/v1/calendar/overrides", json=overlapping, headers=bearer(admin))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    closed_with_windows = {**overlapping, "kind": "closed", "windows": [["08:00", "12:00"]]}
    response = await workflow.post("/api/v1/calendar/overrides", json=closed_with_windows, headers=bearer(admin))
    assert response.status_code == 422
    assert response.json()["code"] == "closed_day_with_windows"


async def test_a_ward_open_on_saturday_mornings_counts_them(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer
) -> None:  # type: ignore[no-untyped-def]
    ward = await create_agency(session, level="commune")
    admin = await create_staff(session, agency=ward, roles=("admin",))
    await session.commit()
    before = (await workflow.get("/api/v1/calendar/weekly", params={"agency": ward.code}, headers=bearer(admin))).json()
    assert before["source"] in {"province", "national"}
    weekday = [["07:30", "11:30"], ["13:00", "17:00"]]
    windows = {day: weekday for day in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [["07:30", "11:30"]]}
    response = await workflow.put(
        "/api/v1/calendar/weekly",
        json={"agency_code": ward.code, "windows": windows, "reason": "Tiếp nhận sáng thứ Bảy"},
        headers=bearer(admin),
    )
    assert response.status_code == 200, response.text
    # Fri 27 Nov 2026 15:00 + 4 working hours: Fri 2 h, then Saturday 07:30–09:30
    due = await workflow.get(
        "/api/v1/calendar/due", params={"start": "2026-11-27T15:00:00+07:00", "hours": 4, "agency": ward.code}
    )
    assert datetime.fromisoformat(due.json()["due_at"]) == datetime(2026, 11, 28, 9, 30, tzinfo=VN_TZ)
    after = (await workflow.get("/api/v1/calendar/weekly", params={"agency": ward.code}, headers=bearer(admin))).json()
    assert after == {"agency_code": ward.code, "source": "agency", "windows": windows}
    empty = await workflow.put(
        "/api/v1/calendar/weekly",
        json={"agency_code": ward.code, "windows": {}, "reason": "Đóng cửa"},
        headers=bearer(admin),
    )
    assert empty.status_code == 422
