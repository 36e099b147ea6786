"""Statistics: the national indicators on a hand-made set, filters, scoping, the overdue list,
exports, and the trigger-kept aggregates against a recount after random changes."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import (
    Agency,
    Complaint,
    Dossier,
    Feedback,
    Payment,
    Procedure,
    ProcedureVersion,
    SlaTimer,
    Staff,
    StatsDossierCell,
    StatsOfficerCell,
    StatsStepCell,
)
from services.models.stats import DOSSIER_COUNTERS, NO_OFFICER, SHARE_BUCKET_BOUNDS, STEP_COUNTERS
from services.stats.sql import split_period
from tests.factories import create_agency, create_dossier, create_procedure_version, create_staff, unique

# one world per module (the seeding fixture is module-scoped), committed once and read by every test
# (seeding it again per test would cost more than the rollback saves)
pytestmark = pytest.mark.committed

Bearer = Callable[..., dict[str, Any]]
NOW = datetime(2024, 3, 20, 10, 0, tzinfo=VN_TZ)
MARCH = {"from": "2024-03-01", "to": "2024-03-31"}


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@dataclass
class World:
    desk: Agency
    unit1: Agency
    unit2: Agency
    other: Agency
    p1: Procedure
    p2: Procedure
    head: Staff
    other_head: Staff
    specialist: Staff
    admin: Staff
    o1: Staff
    o2: Staff
    codes: dict[str, str]


async def _dossier(
    session: AsyncSession,
    agency: Agency,
    version: ProcedureVersion,
    *,
    received: datetime,
    status: str,
    channel: int = 1,
    outcome: str | None = None,
    resolved: datetime | None = None,
    due: datetime | None = None,
    **flags: Any,
) -> Dossier:
    dossier = await create_dossier(session, agency=agency, version=version, status=status, channel=channel)
    dossier.received_at = None if status == "refused" else received
    dossier.submitted_at = received if status == "refused" or channel == 2 else None
    dossier.created_at = received  # a refused submission counts on the day it was made
    dossier.due_at = due or received + timedelta(days=7)
    dossier.outcome, dossier.resolved_at = outcome, resolved
    for name, value in flags.items():
        setattr(dossier, name, value)
    await session.flush()
    return dossier


def _step(dossier: Dossier, seq: int, unit: Agency, officer: Staff, *, due: datetime, **end: Any) -> SlaTimer:
    return SlaTimer(
        dossier_id=dossier.id,
        kind="step",
        step_seq=seq,
        step_position=seq,
        agency_id=unit.id,
        assignee_id=officer.id,
        budget_seconds=8 * 3600,
        started_at=due - timedelta(days=2),
        due_at=due,
        due_soon_at=due - timedelta(days=1),
        paused_seconds=0,
        **end,
    )


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[World]:
    """One desk with two units below it, another agency, two procedures, and the dossiers of March 2024."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desk = await create_agency(session)
        unit1 = await create_agency(session, level="department")
        unit2 = await create_agency(session, level="department")
        other = await create_agency(session)
        unit1.parent_id = unit2.parent_id = desk.id
        v1 = await create_procedure_version(session, field=unique("Hộ tịch "))
        v2 = await create_procedure_version(session, field=unique("Đất đai "))
        p1, p2 = await session.get(Procedure, v1.procedure_id), await session.get(Procedure, v2.procedure_id)
        assert p1 is not None
        assert p2 is not None
        head = await create_staff(session, agency=desk, roles=("head",))
        other_head = await create_staff(session, agency=other, roles=("head",))
        specialist = await create_staff(session, agency=desk, roles=("specialist",))
        admin = await create_staff(session, agency=desk, roles=("admin",))
        o1 = await create_staff(session, agency=unit1, roles=("specialist",))
        o2 = await create_staff(session, agency=unit1, roles=("specialist",))

        d1 = await _dossier(
            session,
            desk,
            v1,
            received=vn(2024, 3, 1, 9),
            status="returned",
            channel=2,
            outcome="early",
            resolved=vn(2024, 3, 4, 9),
            digitised=True,
            paid_online=True,
        )
        d2 = await _dossier(
            session,
            desk,
            v1,
            received=vn(2024, 3, 2, 10),
            status="resolved",
            outcome="on_time",
            resolved=vn(2024, 3, 4, 10),
        )
        d3 = await _dossier(
            session,
            desk,
            v2,
            received=vn(2024, 3, 5, 8),
            status="returned",
            outcome="late",
            resolved=vn(2024, 3, 15, 8),
        )
        d4 = await _dossier(
            session, desk, v2, received=vn(2024, 3, 6, 8), status="processing", channel=2, due=vn(2024, 3, 25, 8)
        )
        d5 = await _dossier(session, desk, v1, received=vn(2024, 3, 7, 8), status="processing", due=vn(2024, 3, 18, 10))
        d6 = await _dossier(
            session, desk, v1, received=vn(2024, 3, 8, 8), status="awaiting_supplement", due=vn(2024, 3, 19, 8)
        )
        d7 = await _dossier(
            session,
            desk,
            v2,
            received=vn(2024, 3, 9, 8),
            status="processing",
            due=vn(2024, 3, 30, 8),
            late_by_rule=True,
        )
        await _dossier(session, desk, v1, received=vn(2024, 3, 10, 8), status="withdrawn")
        await _dossier(session, desk, v2, received=vn(2024, 3, 11, 8), status="stopped")
        await _dossier(session, desk, v1, received=vn(2024, 3, 12, 8), status="refused", channel=2)
        await _dossier(
            session,
            desk,
            v1,
            received=vn(2024, 2, 29, 23, 30),
            status="returned",
            outcome="early",
            resolved=vn(2024, 3, 2, 8),
        )
        await _dossier(
            session,
            desk,
            v1,
            received=vn(2024, 4, 1, 0, 0),
            status="returned",
            outcome="early",
            resolved=vn(2024, 4, 2, 0, 0),
        )
        await _dossier(
            session,
            desk,
            v1,
            received=vn(2024, 3, 31, 23, 59),
            status="returned",
            outcome="on_time",
            resolved=vn(2024, 4, 2, 23, 59),
        )
        await _dossier(
            session,
            other,
            v1,
            received=vn(2024, 3, 3, 8),
            status="returned",
            outcome="late",
            resolved=vn(2024, 3, 9, 8),
        )
        await _dossier(
            session,
            unit1,
            v2,
            received=vn(2024, 3, 3, 8),
            status="returned",
            outcome="early",
            resolved=vn(2024, 3, 4, 8),
        )

        # the clock of d6 was paused (supplement) before its due time: not overdue while it waits
        session.add(
            SlaTimer(
                dossier_id=d6.id,
                kind="dossier",
                step_seq=0,
                agency_id=desk.id,
                budget_seconds=1,
                started_at=d6.received_at,
                due_at=vn(2024, 3, 19, 8),
                due_soon_at=vn(2024, 3, 18, 8),
                paused_at=vn(2024, 3, 10, 8),
                paused_seconds=0,
            )
        )
        session.add_all(
            [
                _step(d1, 1, unit1, o1, due=vn(2024, 3, 5, 9), ended_at=vn(2024, 3, 3, 9), outcome="early"),
                _step(d2, 1, unit1, o2, due=vn(2024, 3, 4, 17), ended_at=vn(2024, 3, 4, 9), outcome="on_time"),
                _step(d3, 1, unit1, o1, due=vn(2024, 3, 7, 8), ended_at=vn(2024, 3, 8, 8), outcome="late"),
                _step(d3, 2, unit2, o2, due=vn(2024, 3, 12, 8), ended_at=vn(2024, 3, 12, 7), outcome="on_time"),
                _step(d4, 1, unit1, o2, due=vn(2024, 3, 22, 8)),
                _step(d5, 1, unit2, o1, due=vn(2024, 3, 18, 10)),
            ]
        )
        session.add_all(
            [
                Payment(
                    dossier_id=d1.id,
                    amount_vnd=50_000,
                    description="lệ phí",
                    status="paid",
                    online=True,
                    requested_at=vn(2024, 3, 2, 9),
                    paid_at=vn(2024, 3, 2, 10),
                ),
                Payment(
                    dossier_id=d5.id,
                    amount_vnd=50_000,
                    description="lệ phí",
                    status="requested",
                    online=True,
                    requested_at=vn(2024, 3, 8, 9),
                ),
                Payment(
                    dossier_id=d2.id,
                    amount_vnd=50_000,
                    description="lệ phí",
                    status="cancelled",
                    online=True,
                    requested_at=vn(2024, 3, 3, 9),
                ),
                Feedback(dossier_id=d1.id, rating="satisfied"),
                Feedback(dossier_id=d3.id, rating="dissatisfied"),
                _complaint(desk, d2),
                _complaint(desk, d3),
                _complaint(desk, None),
            ]
        )
        await session.commit()
        yield World(
            desk=desk,
            unit1=unit1,
            unit2=unit2,
            other=other,
            p1=p1,
            p2=p2,
            head=head,
            other_head=other_head,
            specialist=specialist,
            admin=admin,
            o1=o1,
            o2=o2,
            codes={"d5": d5.code, "d7": d7.code},
        )


def _complaint(agency: Agency, dossier: Dossier | None) -> Complaint:
    return Complaint(
        code=unique("PA-"),
        kind="complaint",
        agency_id=agency.id,
        dossier_id=dossier.id if dossier else None,
        subject="Chậm trả kết quả",
        content="…",
        received_at=vn(2024, 3, 16, 8),
    )


@pytest.fixture
def now(travel: Callable[[datetime], None]) -> datetime:
    travel(NOW)
    return NOW


async def _get(client: httpx.AsyncClient, headers: dict[str, Any], path: str = "", **params: Any) -> dict[str, Any]:
    response = await client.get(f"/api/v1/stats{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_indicators_of_a_hand_made_month(
    workflow: httpx.AsyncClient, world: World, bearer: Bearer, now: datetime
) -> None:
    body = await _get(workflow, bearer(world.head), **MARCH)
    counts = {
        k: body[k]
        for k in (
            "received",
            "resolved_early",
            "resolved_on_time",
            "resolved_late",
            "pending_on_time",
            "pending_overdue",
            "refused",
            "withdrawn",
            "stopped",
        )
    }
    assert counts == {
        "received": 10,
        "resolved_early": 1,
        "resolved_on_time": 2,
        "resolved_late": 1,
        "pending_on_time": 2,
        "pending_overdue": 2,
        "refused": 1,
        "withdrawn": 1,
        "stopped": 1,
    }
    # on time: (early 1 + on time 2 + pending on time 2) / (resolved 4 + pending 4)
    assert body["on_time_rate"] == 62.5
    assert body["overdue_rate"] == 37.5
    assert body["online_rate"] == 20.0  # 2 of 10 online
    assert body["digitised_rate"] == 10.0
    assert body["online_payment_rate"] == 50.0  # 1 paid online of 2 with a fee (a cancelled request is not one)
    assert body["complaint_rate"] == 20.0  # d2 (complaint), d3 (complaint and "dissatisfied": once)
    assert body["satisfaction_rate"] == 42.5  # 100 − (37.5 + 20)
    assert body["average_resolution_days"] == 4.25  # (3 + 2 + 10 + 2) / 4 calendar days
    assert body["agency"] == world.desk.code
    assert [m["month"] for m in body["by_month"]] == ["2024-03"]
    assert body["by_month"][0]["received"] == 10
    assert {a["agency_code"]: a["received"] for a in body["by_agency"]} == {world.desk.code: 10}
    by_procedure = {p["procedure_code"]: p for p in body["by_procedure"]}
    assert by_procedure[world.p1.code]["received"] == 6
    assert by_procedure[world.p2.code]["received"] == 4

    units = body["by_unit"]
    assert [u["agency_code"] for u in units] == [world.unit1.code, world.unit2.code]  # the late unit first
    assert {
        k: units[0][k]
        for k in ("steps", "steps_early", "steps_on_time", "steps_late", "steps_open_on_time", "steps_open_overdue")
    } == {
        "steps": 4,
        "steps_early": 1,
        "steps_on_time": 1,
        "steps_late": 1,
        "steps_open_on_time": 1,
        "steps_open_overdue": 0,
    }
    assert (units[1]["steps"], units[1]["steps_on_time"], units[1]["steps_open_overdue"]) == (2, 1, 1)
    assert body["steps"]["steps"] == 6
    officers = {o["username"]: o for o in body["by_officer"]}  # one agency in scope: per officer too
    assert officers[world.o1.username]["on_time_rate"] == 33.33  # early 1 of (early, late, open overdue)
    assert officers[world.o2.username]["on_time_rate"] == 100.0


@pytest.mark.parametrize(
    ("period", "received", "early"),
    [
        (("2024-02-29", "2024-03-01"), 2, 2),  # 23:30 on the 29th and 09:00 on the 1st, Vietnam time
        (("2024-03-31", "2024-04-01"), 2, 1),  # 23:59 on the 31st and 00:00 on the 1st
        (("2024-02-01", "2024-04-30"), 12, 3),  # three whole months
        (("2024-03-02", "2024-03-30"), 8, 0),  # days only
        (("2024-03-01", "2024-03-31"), 10, 1),  # one whole month
    ],
)
async def test_periods_are_days_of_receipt_in_vietnam_time(
    workflow: httpx.AsyncClient,
    world: World,
    bearer: Bearer,
    now: datetime,
    period: tuple[str, str],
    received: int,
    early: int,
) -> None:
    body = await _get(workflow, bearer(world.head), **{"from": period[0], "to": period[1]})
    assert (body["received"], body["resolved_early"]) == (received, early)


def test_a_period_is_whole_months_and_edge_days() -> None:
    assert split_period(date(2024, 3, 2), date(2024, 3, 30)) == (None, [(date(2024, 3, 2), date(2024, 3, 30))])
    assert split_period(date(2024, 1, 1), date(2024, 12, 31)) == ((date(2024, 1, 1), date(2024, 12, 1)), [])
    assert split_period(date(2024, 1, 15), date(2024, 4, 10)) == (
        (date(2024, 2, 1), date(2024, 3, 1)),
        [(date(2024, 1, 15), date(2024, 1, 31)), (date(2024, 4, 1), date(2024, 4, 10))],
    )
    assert split_period(date(2024, 2, 29), date(2024, 3, 31)) == (
        (date(2024, 3, 1), date(2024, 3, 1)),
        [(date(2024, 2, 29), date(2024, 2, 29))],
    )


async def test_filters_by_field_procedure_officer_and_children(
    workflow: httpx.AsyncClient, world: World, bearer: Bearer, now: datetime
) -> None:
    headers = bearer(world.head)
    land = await _get(workflow, headers, **MARCH, field=world.p2.field)
    assert (
        land["received"],
        land["resolved_late"],
        land["pending_on_time"],
        land["pending_overdue"],
        land["stopped"],
    ) == (4, 1, 1, 1, 1)
    assert [p["procedure_code"] for p in land["by_procedure"]] == [world.p2.code]

    civil = await _get(workflow, headers, **MARCH, procedure=world.p1.code)
    assert (
        civil["received"],
        civil["resolved_early"],
        civil["resolved_on_time"],
        civil["pending_on_time"],
        civil["pending_overdue"],
        civil["withdrawn"],
        civil["refused"],
    ) == (6, 1, 2, 1, 1, 1, 1)

    mine = await _get(workflow, headers, **MARCH, officer=world.o1.username)
    assert mine["received"] == 10  # the dossier figures are the scope's
    assert (
        mine["steps"]["steps"],
        mine["steps"]["steps_early"],
        mine["steps"]["steps_late"],
        mine["steps"]["steps_open_overdue"],
    ) == (3, 1, 1, 1)
    units = {u["agency_code"]: u for u in mine["by_unit"]}
    assert (units[world.unit1.code]["steps"], units[world.unit2.code]["steps_open_overdue"]) == (2, 1)
    assert [o["username"] for o in mine["by_officer"]] == [world.o1.username]

    both = await _get(workflow, headers, **MARCH, officer=world.o2.username, procedure=world.p2.code)
    assert (both["steps"]["steps"], both["steps"]["steps_on_time"], both["steps"]["steps_open_on_time"]) == (2, 1, 1)

    tree = await _get(workflow, headers, **MARCH, include_children="true")
    assert tree["received"] == 11  # the dossier received by unit 1 below the desk
    assert tree["include_children"] is True
    assert {a["agency_code"] for a in tree["by_agency"]} == {world.desk.code, world.unit1.code}

    for params, code in (
        ({"procedure": "KHONG-CO"}, "procedure_not_found"),
        ({"officer": "khong.co"}, "officer_not_found"),
        ({"agency": "KHONG.CO"}, "agency_not_found"),
    ):
        response = await workflow.get("/api/v1/stats", params={**MARCH, **params}, headers=headers)
        assert response.status_code == 404
        assert response.json()["code"] == code
    reversed_period = await workflow.get(
        "/api/v1/stats", params={"from": "2024-03-31", "to": "2024-03-01"}, headers=headers
    )
    assert reversed_period.status_code == 422
    assert reversed_period.json()["code"] == "invalid_period"


async def test_a_head_sees_only_their_agency(
    workflow: httpx.AsyncClient, world: World, bearer: Bearer, now: datetime
) -> None:
    denied = await workflow.get(
        "/api/v1/stats", params={**MARCH, "agency": world.other.code}, headers=bearer(world.head)
    )
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    assert denied.json()["code"] == "other_agency"
    for path in ("/overdue", "/export.csv", "/export.xlsx"):
        response = await workflow.get(
            f"/api/v1/stats{path}", params={**MARCH, "agency": world.other.code}, headers=bearer(world.head)
        )
        assert response.status_code == 403, path

    theirs = await _get(workflow, bearer(world.other_head), **MARCH)
    assert (theirs["agency"], theirs["received"], theirs["resolved_late"]) == (world.other.code, 1, 1)
    specialist = await workflow.get("/api/v1/stats", params=MARCH, headers=bearer(world.specialist))
    assert specialist.status_code == 403
    assert specialist.json()["code"] == "role_required"
    admin = await _get(workflow, bearer(world.admin), **MARCH, agency=world.other.code)
    assert admin["received"] == 1
    assert (await workflow.get("/api/v1/stats", params=MARCH)).status_code == 401


async def test_the_overdue_list_names_the_responsible_unit(
    workflow: httpx.AsyncClient, world: World, bearer: Bearer, now: datetime
) -> None:
    body = await _get(workflow, bearer(world.head), "/overdue")
    assert body["total"] == 2
    first, second = body["items"]
    assert first["code"] == world.codes["d5"]  # two days past its due time
    assert (first["responsible_unit_code"], first["assignee"]) == (world.unit2.code, world.o1.username)
    assert first["late_by_seconds"] == 2 * 86400
    assert first["late_by_days"] == 2.0
    assert first["step_due_at"] is not None
    assert second["code"] == world.codes["d7"]  # late by rule (second supplement), due time still ahead
    assert second["late_by_rule"] is True
    assert second["responsible_unit_code"] == world.desk.code  # no step running: the dossier's agency
    assert "applicant" not in str(body)

    paged = await _get(workflow, bearer(world.head), "/overdue", limit=1, offset=1)
    assert [i["code"] for i in paged["items"]] == [world.codes["d7"]]
    by_officer = await _get(workflow, bearer(world.head), "/overdue", officer=world.o1.username)
    assert [i["code"] for i in by_officer["items"]] == [world.codes["d5"]]
    none_before = await _get(workflow, bearer(world.head), "/overdue", **{"from": "2024-03-08", "to": "2024-03-31"})
    assert [i["code"] for i in none_before["items"]] == [world.codes["d7"]]


async def test_exports_hold_the_same_numbers(
    workflow: httpx.AsyncClient, world: World, bearer: Bearer, now: datetime
) -> None:
    headers = bearer(world.head)
    body = await _get(workflow, headers, **MARCH)

    response = await workflow.get("/api/v1/stats/export.xlsx", params=MARCH, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:4] == ["Chỉ tiêu", "Đơn vị xử lý", "Cán bộ", "Hồ sơ quá hạn"]
    sheet = workbook["Chỉ tiêu"]
    header = [cell.value for cell in sheet[1]]
    total = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert total["Nhóm"] == "Tổng cộng"
    assert total["Số hồ sơ tiếp nhận"] == body["received"] == 10
    assert total["Giải quyết quá hạn"] == body["resolved_late"]
    assert total["Đang giải quyết quá hạn"] == body["pending_overdue"]
    assert total["Tỷ lệ đúng hạn (%)"] == body["on_time_rate"] == 62.5
    assert total["Mức độ hài lòng (%)"] == body["satisfaction_rate"]
    units = [[cell.value for cell in row] for row in workbook["Đơn vị xử lý"].iter_rows(min_row=2)]
    assert units[0][0] == world.unit1.code
    assert units[0][5] == 1  # steps late
    overdue = [[cell.value for cell in row] for row in workbook["Hồ sơ quá hạn"].iter_rows(min_row=2)]
    assert [row[0] for row in overdue] == [world.codes["d5"], world.codes["d7"]]

    response = await workflow.get("/api/v1/stats/export.csv", params=MARCH, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Nhóm", "Mã", "Tên", "Số hồ sơ tiếp nhận", "Giải quyết trước hạn"]
    assert "Tỷ lệ đúng hạn (%)" in rows[0]
    total_row = dict(zip(rows[0], rows[1], strict=True))
    assert total_row["Số hồ sơ tiếp nhận"] == "10"
    assert float(total_row["Tỷ lệ đúng hạn (%)"]) == 62.5
    assert [row[0] for row in rows[1:]] == [
        "Tổng cộng", "Tháng", "Thủ tục", "Thủ tục", "Cơ quan tiếp nhận", "Cấp giải quyết", "Lĩnh vực", "Lĩnh vực",
    ]  # fmt: skip


# --- the aggregates equal a recount after random changes ------------------------------------------

STATES = (
    "submitted",
    "received",
    "processing",
    "awaiting_supplement",
    "awaiting_payment",
    "withdrawn",
    "stopped",
    "resolved",
    "returned",
    "refused",
)


def _expected(
    dossiers: list[Dossier], timers: list[SlaTimer], complained: set[uuid.UUID], charged: set[uuid.UUID]
) -> tuple[
    dict[tuple[Any, ...], Counter[str]], dict[tuple[Any, ...], Counter[str]], dict[tuple[Any, ...], Counter[str]]
]:
    """The cells, counted in Python straight from the rows (no SQL function involved)."""
    cells: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    steps: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    officers: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    keys: dict[uuid.UUID, tuple[date, uuid.UUID, uuid.UUID]] = {}
    for d in dossiers:
        moment = d.received_at or d.created_at
        day = moment.astimezone(VN_TZ).date()
        keys[d.id] = (day, d.receiving_agency_id, d.procedure_version_id)
        received = d.received_at is not None and d.status not in ("submitted", "refused")
        values: Counter[str] = Counter()
        values["refused"] = d.status == "refused"
        if received:
            values["received"] = 1
            if d.status in ("resolved", "returned"):
                values[f"resolved_{d.outcome}"] = 1
                assert d.resolved_at is not None
                assert d.received_at is not None
                values["resolved_seconds"] = max(0, int((d.resolved_at - d.received_at).total_seconds()))
                used, limit = d.used_working_seconds, d.limit_working_seconds
                if used is not None and limit:
                    values["timed"] = 1
                    values["used_working_seconds"] = used
                    values["limit_working_seconds"] = limit
                    values["limit_used_ppm"] = used * 1_000_000 // limit
                    values["under_half"] = 2 * used < limit
                    share = 100 * used / limit
                    values[f"used_pct_{max(b for b in SHARE_BUCKET_BOUNDS if b <= share):03d}"] = 1
            values["withdrawn"] = d.status == "withdrawn"
            values["stopped"] = d.status == "stopped"
            values["online"] = d.channel == 2
            values["digitised"] = d.digitised
            values["paid_online"] = d.paid_online
            values["charged"] = d.paid_online or d.id in charged
            values["complained"] = d.id in complained
        cells[day.replace(day=1), d.receiving_agency_id, d.procedure_version_id].update(values)
    for t in timers:
        if t.kind != "step" or t.dossier_id not in keys:
            continue
        day, agency, version = keys[t.dossier_id]
        values = Counter({"steps": 1})
        if t.outcome:
            values[f"steps_{t.outcome}"] = 1
        unit = t.agency_id or agency
        steps[day.replace(day=1), agency, version, unit].update(values)
        officers[day.replace(day=1), agency, version, unit, t.assignee_id or NO_OFFICER].update(values)
    return cells, steps, officers


def _nonzero(
    table: dict[tuple[Any, ...], Counter[str]], names: tuple[str, ...]
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = {key: tuple(int(values[name]) for name in names) for key, values in table.items()}
    return {key: row for key, row in rows.items() if any(row)}


async def _stored(
    session: AsyncSession, agencies: list[uuid.UUID]
) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    out = []
    for model, keys, names in (
        (StatsDossierCell, ("month", "agency_id", "procedure_version_id"), DOSSIER_COUNTERS),
        (StatsStepCell, ("month", "agency_id", "procedure_version_id", "unit_id"), STEP_COUNTERS),
        (
            StatsOfficerCell,
            ("month", "agency_id", "procedure_version_id", "unit_id", "assignee_id"),
            STEP_COUNTERS,
        ),
    ):
        query = select(model).where(model.agency_id.in_(agencies)).execution_options(populate_existing=True)
        rows = (await session.scalars(query)).all()
        table = {tuple(getattr(r, k) for k in keys): tuple(getattr(r, n) for n in names) for r in rows}
        out.append({k: v for k, v in table.items() if any(v)})
    return out[0], out[1], out[2]


async def _recount(session: AsyncSession, agencies: list[uuid.UUID]) -> tuple[dict[Any, Any], ...]:
    fresh = {"populate_existing": True}
    dossiers = list(
        (
            await session.scalars(
                select(Dossier).where(Dossier.receiving_agency_id.in_(agencies)).execution_options(**fresh)
            )
        ).all()
    )
    ids = [d.id for d in dossiers]
    timers = list(
        (await session.scalars(select(SlaTimer).where(SlaTimer.dossier_id.in_(ids)).execution_options(**fresh))).all()
    )
    complained = set((await session.scalars(select(Complaint.dossier_id).where(Complaint.dossier_id.in_(ids)))).all())
    complained |= set(
        (
            await session.scalars(
                select(Feedback.dossier_id).where(Feedback.dossier_id.in_(ids), Feedback.rating == "dissatisfied")
            )
        ).all()
    )
    charged = set(
        (
            await session.scalars(
                select(Payment.dossier_id).where(Payment.dossier_id.in_(ids), Payment.status != "cancelled")
            )
        ).all()
    )
    cells, steps, officers = _expected(dossiers, timers, complained, charged)
    return _nonzero(cells, DOSSIER_COUNTERS), _nonzero(steps, STEP_COUNTERS), _nonzero(officers, STEP_COUNTERS)


async def test_the_aggregates_equal_a_recount_after_random_changes(session: AsyncSession) -> None:
    rng = random.Random(20240320)
    agencies = [await create_agency(session) for _ in range(2)]
    units = [await create_agency(session, level="department") for _ in range(2)]
    versions = [await create_procedure_version(session) for _ in range(2)]
    staff = [await create_staff(session, agency=units[0]) for _ in range(2)]
    agency_ids = [a.id for a in agencies]
    base = vn(2024, 1, 31, 12)

    def moment() -> datetime:
        return base + timedelta(hours=rng.randrange(0, 24 * 40), minutes=rng.randrange(60))

    dossiers: list[Dossier] = []
    for _ in range(30):
        status = rng.choice(STATES)
        d = await create_dossier(
            session,
            agency=rng.choice(agencies),
            version=rng.choice(versions),
            status=status,
            channel=rng.choice((1, 2, 3)),
        )
        dossiers.append(d)
    timers: list[SlaTimer] = []
    children: list[Any] = []

    def set_state(d: Dossier, status: str) -> None:
        d.status = status
        d.received_at = None if status in ("submitted", "refused") else (d.received_at or moment())
        d.submitted_at = d.submitted_at or moment() if status in ("submitted", "refused") else d.submitted_at
        if status in ("resolved", "returned"):
            d.outcome = rng.choice(("early", "on_time", "late"))
            assert d.received_at is not None
            d.resolved_at = d.received_at + timedelta(hours=rng.randrange(1, 300))
            measure(d)
        else:
            d.outcome = None if rng.random() < 0.7 else d.outcome  # a stale outcome must not count
            d.resolved_at = None

    def measure(d: Dossier) -> None:
        """What the clock measured: sometimes nothing (resolved before it was kept), sometimes no limit."""
        if rng.random() < 0.2:
            d.used_working_seconds = d.limit_working_seconds = None
        else:
            d.limit_working_seconds = rng.choice((0, 3600, 5 * 28_800, 7 * 28_800))
            d.used_working_seconds = rng.randrange(0, 10 * 28_800)

    for d in dossiers:
        set_state(d, d.status)
    await session.flush()

    operations = [
        "state",
        "state",
        "state",
        "move",
        "agency",
        "flags",
        "complaint",
        "uncomplain",
        "feedback",
        "payment",
        "cancel",
        "timer",
        "timer",
        "end_timer",
        "reassign",
        "drop_timer",
        "drop_dossier",
        "measure",
    ]
    for step in range(1, 401):
        op = rng.choice(operations)
        live = [d for d in dossiers if d in session]
        d = rng.choice(live)
        if op == "state":
            set_state(d, rng.choice(STATES))
        elif op == "move" and d.received_at is not None:
            d.received_at = moment()
            if d.resolved_at is not None:
                d.resolved_at = d.received_at + timedelta(hours=rng.randrange(1, 300))
        elif op == "agency":
            d.receiving_agency_id = rng.choice(agency_ids)
            d.procedure_version_id = rng.choice(versions).id
        elif op == "measure":  # a manual fix in psql, or a stale measurement on a dossier not resolved
            measure(d)
        elif op == "flags":
            d.channel, d.digitised, d.paid_online = rng.choice((1, 2, 3)), rng.random() < 0.5, rng.random() < 0.5
        elif op == "complaint":
            children.append(_complaint(agencies[0], d))
            session.add(children[-1])
        elif op == "uncomplain":
            complaints = [c for c in children if isinstance(c, Complaint) and c in session]
            if complaints:
                victim = rng.choice(complaints)
                if rng.random() < 0.5:
                    await session.delete(victim)
                else:
                    victim.dossier_id = rng.choice(live).id
        elif op == "feedback":
            existing = await session.scalar(select(Feedback).where(Feedback.dossier_id == d.id))
            if existing is None:
                session.add(Feedback(dossier_id=d.id, rating=rng.choice(("satisfied", "acceptable", "dissatisfied"))))
            elif rng.random() < 0.3:
                await session.delete(existing)
            else:
                existing.rating = rng.choice(("satisfied", "acceptable", "dissatisfied"))
        elif op == "payment":
            children.append(
                Payment(
                    dossier_id=d.id,
                    amount_vnd=1000,
                    description="phí",
                    status="requested",
                    online=True,
                    requested_at=moment(),
                )
            )
            session.add(children[-1])
        elif op == "cancel":
            payments = [p for p in children if isinstance(p, Payment) and p in session]
            if payments:
                rng.choice(payments).status = rng.choice(("cancelled", "paid", "requested"))
        elif op == "timer":
            seq = 1 + sum(1 for t in timers if t.dossier_id == d.id)
            unit = rng.choice([*units, None])
            timers.append(
                SlaTimer(
                    dossier_id=d.id,
                    kind=rng.choice(("step", "step", "dossier")),
                    step_seq=seq + 100 * len(timers),
                    agency_id=unit.id if unit else None,
                    assignee_id=rng.choice(staff).id if rng.random() < 0.7 else None,
                    budget_seconds=3600,
                    started_at=moment(),
                    due_at=moment(),
                    due_soon_at=moment(),
                    paused_seconds=0,
                )
            )
            session.add(timers[-1])
        elif op in ("end_timer", "reassign", "drop_timer"):
            mine = [t for t in timers if t in session]
            if mine:
                t = rng.choice(mine)
                if op == "end_timer":
                    t.ended_at, t.outcome = moment(), rng.choice(("early", "on_time", "late", None))
                elif op == "reassign":
                    t.assignee_id = rng.choice(staff).id
                    t.agency_id = rng.choice(units).id
                else:
                    await session.delete(t)
        elif op == "drop_dossier" and rng.random() < 0.3:
            await session.delete(d)
            await session.flush()
            for gone in [*timers, *children]:  # the database deleted them by cascade
                if gone in session and getattr(gone, "dossier_id", None) == d.id and not isinstance(gone, Complaint):
                    session.expunge(gone)
        await session.flush()
        if step % 100 == 0:
            assert await _stored(session, agency_ids) == await _recount(session, agency_ids), f"after {step} changes"
    cells, _, _ = await _stored(session, agency_ids)
    assert sum(row[0] for row in cells.values()) > 0  # the test did count something


async def test_two_complaints_at_once_count_their_dossier_once(engine: AsyncEngine) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as setup:
        agency = await create_agency(setup)
        version = await create_procedure_version(setup)
        dossier = await _dossier(setup, agency, version, received=vn(2024, 5, 2, 9), status="processing")
        await setup.commit()

    first, second = AsyncSession(engine), AsyncSession(engine)
    try:
        first.add(_complaint(agency, dossier))
        await first.flush()  # holds the dossier's row lock until it commits
        second.add(_complaint(agency, dossier))
        waiting = asyncio.create_task(second.flush())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.commit()
        await waiting
        await second.commit()
    finally:
        await first.close()
        await second.close()
    async with AsyncSession(engine) as check:
        complained = await check.scalar(
            select(StatsDossierCell.complained).where(StatsDossierCell.agency_id == agency.id)
        )
    assert complained == 1
