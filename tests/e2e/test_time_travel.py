"""Time travel through real processes: workflow_api and two workflow workers read "now" from a
file the test moves. A dossier is received, its first step overruns, the two timer scanners
raise exactly one 'due soon' and one 'overdue' per clock, the apology moves the appointment once,
and the statistics blame the unit whose step was late."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.receipt import Channel, TimeLimit
from services.calendar.store import calendar_for
from services.calendar.working import VN_TZ, WORKING_DAY
from services.core.config import Settings
from services.models import Dossier, OutboxEvent, SlaTimer
from services.sla.clocks import WarningPolicy, close_dossier_clock, end_step, start_dossier_clock, start_step
from tests.clock import write_clock
from tests.e2e.conftest import ARTIFACTS, Stack, eventually
from tests.factories import create_agency, create_dossier, create_procedure_version, create_staff
from tests.tokens import bearer_for

pytestmark = pytest.mark.e2e
POLICY = WarningPolicy()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


class TimeMachine:
    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, instant: datetime) -> datetime:
        write_clock(self.path, instant)
        return instant


async def sla_events(engine: AsyncEngine, dossier_id: uuid.UUID) -> dict[tuple[str, str, int | None], int]:
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload).where(
                OutboxEvent.dossier_id == dossier_id, OutboxEvent.event_type.like("sla.%")
            )
        )
        keys = [(kind, str(payload["timer"]), payload["step_position"]) for kind, payload in rows.all()]
        return dict(Counter(keys))


async def test_a_late_step_is_warned_once_apologised_for_once_and_blamed_in_the_statistics(
    stack: Stack, engine: AsyncEngine, database_url: str
) -> None:
    clock = TimeMachine(ARTIFACTS / "clock.txt")
    now = clock.set(vn(2026, 11, 23, 9, 0))  # Monday; Tuesday 24 Nov is Vietnam Culture Day
    stack.env.update({"MOTCUA_CLOCK_FILE": str(clock.path), "MOTCUA_TIMER_POLL_SECONDS": "0.2"})
    settings = Settings(demo=True).with_changes(db={"url": database_url})

    async with AsyncSession(engine, expire_on_commit=False) as session:
        ward = await create_agency(session, level="commune")
        land_office = await create_agency(session)
        tax = await create_agency(session)
        head = await create_staff(session, agency=ward, roles=("head",))
        version = await create_procedure_version(session, limit_value=3)
        dossier = await create_dossier(session, agency=ward, version=version)
        calendar = await calendar_for(session, ward.id)
        await start_dossier_clock(
            session, dossier, calendar=calendar, policy=POLICY, received_at=now, channel=Channel.COUNTER,
            limit=TimeLimit(3, "working_days"), cutoff_applies=True,
        )  # fmt: skip
        first = await start_step(
            session, dossier, calendar=calendar, policy=POLICY, position=1, agency_id=land_office.id,
            assignee_id=None, budget_seconds=WORKING_DAY, at=now,
        )  # fmt: skip
        dossier.status = "processing"
        await session.commit()
    assert dossier.due_at == vn(2026, 11, 27, 9, 0)
    assert first.due_at == vn(2026, 11, 25, 9, 0)
    assert first.due_soon_at == vn(2026, 11, 23, 14, 30)  # half of a one-day step

    stack.api("workflow")
    stack.api("notify")
    stack.worker("workflow")
    stack.worker("workflow")

    # Monday 15:00: step 1 is due soon
    clock.set(vn(2026, 11, 23, 15, 0))
    await eventually(lambda: _has(engine, dossier.id, ("sla.due_soon", "step", 1)), what="step 1 due soon")
    # Wednesday 10:00: step 1 (due 09:00) is overdue; the dossier (due Friday 09:00) is not yet due soon
    now = clock.set(vn(2026, 11, 25, 10, 0))
    await eventually(lambda: _has(engine, dossier.id, ("sla.overdue", "step", 1)), what="step 1 overdue")
    await asyncio.sleep(1.5)  # several scans by both workers
    assert await sla_events(engine, dossier.id) == {("sla.due_soon", "step", 1): 1, ("sla.overdue", "step", 1): 1}

    # the land office hands over late; the tax step gets its own two days
    async with AsyncSession(engine, expire_on_commit=False) as session:
        first = await session.get(SlaTimer, first.id, with_for_update=True)  # type: ignore[assignment]
        assert await end_step(session, first, calendar=calendar, at=vn(2026, 11, 25, 10, 30)) == "late"
        live = await session.get(Dossier, dossier.id, with_for_update=True)
        assert live is not None
        second = await start_step(
            session, live, calendar=calendar, policy=POLICY, position=2, agency_id=tax.id, assignee_id=None,
            budget_seconds=2 * WORKING_DAY, at=vn(2026, 11, 25, 10, 30),
        )  # fmt: skip
        await session.commit()
    assert second.due_at == vn(2026, 11, 27, 10, 30)  # Wed 5 h + Thu 8 h + Fri 3 h

    # the ward's head apologises before the dossier goes late: once, not twice
    headers = bearer_for(settings, head, ["head"], agency_code=ward.code)
    apology = {
        "action": "apologize",
        "reason": "Chờ cơ quan thuế xác định nghĩa vụ tài chính",
        "new_appointment": "2026-11-30T10:00:00+07:00",
    }
    async with httpx.AsyncClient(base_url=stack.url("workflow")) as workflow:
        view = (await workflow.get(f"/api/v1/dossiers/{dossier.code}", headers=headers)).json()
        assert "apologize" in view["allowed_actions"]
        first_apology = await workflow.post(
            f"/api/v1/dossiers/{dossier.code}/transitions", json=apology, headers=headers
        )
        assert first_apology.status_code == 200, first_apology.text
        body = first_apology.json()
        assert datetime.fromisoformat(body["appointment_at"]) == vn(2026, 11, 30, 10, 0)
        assert datetime.fromisoformat(body["due_at"]) == vn(2026, 11, 27, 9, 0)  # the legal due time stays
        assert body["allowed_actions"] == []
        again = await workflow.post(
            f"/api/v1/dossiers/{dossier.code}/transitions",
            json={**apology, "new_appointment": "2026-12-02T10:00:00+07:00"},
            headers=headers,
        )
        assert again.status_code == 409
        assert again.json()["code"] == "action_not_allowed"

    # Friday 09:30: the tax step finishes on its due day, the dossier 30 minutes after its own
    now = clock.set(vn(2026, 11, 27, 9, 30))
    await eventually(lambda: _has(engine, dossier.id, ("sla.overdue", "dossier", None)), what="dossier overdue")
    async with AsyncSession(engine, expire_on_commit=False) as session:
        live = await session.get(Dossier, dossier.id, with_for_update=True)
        assert live is not None
        assert live.overdue
        assert await close_dossier_clock(session, live, calendar=calendar, at=now) == "late"
        live.status = "resolved"
        await session.commit()
    await asyncio.sleep(1.0)
    assert await sla_events(engine, dossier.id) == {
        ("sla.due_soon", "step", 1): 1,
        ("sla.overdue", "step", 1): 1,
        ("sla.due_soon", "step", 2): 1,
        ("sla.due_soon", "dossier", None): 1,
        ("sla.overdue", "dossier", None): 1,
    }

    async with httpx.AsyncClient(base_url=stack.url("workflow")) as workflow:
        stats = await workflow.get(
            "/api/v1/stats",
            params={"from": "2026-11-23", "to": "2026-11-23", "agency": ward.code},
            headers=bearer_for(settings),
        )
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert (body["received"], body["resolved_late"], body["resolved_on_time"]) == (1, 1, 0)
    units = {unit["agency_code"]: unit for unit in body["by_unit"]}
    assert units[land_office.code]["steps_late"] == 1
    assert units[tax.code]["steps_late"] == 0
    assert body["by_unit"][0]["agency_code"] == land_office.code  # the late unit is listed first


async def _has(engine: AsyncEngine, dossier_id: uuid.UUID, key: tuple[str, str, int | None]) -> bool:
    return key in await sla_events(engine, dossier_id)
