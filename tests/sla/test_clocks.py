"""Dossier and step clocks on the real database: receipt, pause and resume, outcomes, apology,
the timer scan and calendar changes."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel, TimeLimit
from services.calendar.store import calendar_for
from services.calendar.working import VN_TZ, WORKING_DAY
from services.core.errors import Conflict, Unprocessable
from services.models import Dossier, OutboxEvent, SlaPause, StatsDossierCell
from services.sla.calendar_admin import OverrideIn, RevokeIn, add_override, revoke_override
from services.sla.clocks import (
    WarningPolicy,
    apologize,
    close_dossier_clock,
    end_step,
    pause,
    resume,
    start_dossier_clock,
    start_step,
)
from services.sla.timers import scan_once
from tests.factories import create_agency, create_dossier, create_procedure_version

POLICY = WarningPolicy()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


async def received(
    session: AsyncSession, *, at: datetime, days: int = 3, channel: Channel = Channel.COUNTER, restarts: bool = False
):  # type: ignore[no-untyped-def]
    agency = await create_agency(session, level="commune")
    version = await create_procedure_version(session, limit_value=days, restarts=restarts)
    dossier = await create_dossier(session, agency=agency, version=version, channel=int(channel))
    calendar = await calendar_for(session, agency.id)
    timer = await start_dossier_clock(
        session, dossier, calendar=calendar, policy=POLICY, received_at=at, channel=channel,
        limit=TimeLimit(days, "working_days"), cutoff_applies=True,
    )  # fmt: skip
    return dossier, timer, calendar, agency


async def test_counter_receipt_sets_the_legal_due_time(session: AsyncSession) -> None:
    # Mon 23 Nov 2026 09:00, 3 working days; Tue 24 Nov is Vietnam Culture Day
    dossier, timer, _, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    assert dossier.clock_start_at == vn(2026, 11, 23, 9, 0)
    assert dossier.due_at == vn(2026, 11, 27, 9, 0)
    assert timer.budget_seconds == 3 * WORKING_DAY


async def test_counter_receipt_after_the_cutoff_counts_from_the_next_working_day(session: AsyncSession) -> None:
    dossier, _, _, _ = await received(session, at=vn(2026, 11, 23, 15, 20), days=1)
    assert dossier.clock_start_at == vn(2026, 11, 25, 7, 30)
    assert dossier.due_at == vn(2026, 11, 25, 17, 0)


async def test_pause_adds_the_paused_working_time_back(session: AsyncSession) -> None:
    dossier, timer, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    await pause(session, dossier, reason="supplement", note="thiếu bản sao CCCD", at=vn(2026, 11, 23, 10, 0))
    # paused 10:00 Mon → 10:00 Wed = Mon 5.5 h + Wed 2.5 h = 8 working hours
    paused_for = await resume(
        session, dossier, calendar=calendar, policy=POLICY, at=vn(2026, 11, 25, 10, 0), restart=False
    )
    assert paused_for == WORKING_DAY
    assert dossier.due_at == vn(2026, 11, 30, 9, 0)  # Fri 27 09:00 + 8 h → Mon 30 09:00
    log = (await session.scalars(select(SlaPause).where(SlaPause.timer_id == timer.id))).one()
    assert (log.reason, log.working_seconds, log.note) == ("supplement", WORKING_DAY, "thiếu bản sao CCCD")


async def test_a_procedure_may_restart_the_clock_instead(session: AsyncSession) -> None:
    dossier, _, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0), restarts=True)
    await pause(session, dossier, reason="supplement", note=None, at=vn(2026, 11, 23, 10, 0))
    await resume(session, dossier, calendar=calendar, policy=POLICY, at=vn(2026, 11, 26, 14, 0), restart=True)
    assert dossier.clock_start_at == vn(2026, 11, 26, 14, 0)
    assert dossier.due_at == vn(2026, 12, 1, 14, 0)  # Thu 14:00 + 3 days: Fri, Mon, Tue → Tue 1 Dec 14:00


async def test_a_second_supplement_request_marks_the_dossier_late(session: AsyncSession) -> None:
    dossier, _, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    await pause(session, dossier, reason="supplement", note=None, at=vn(2026, 11, 23, 10, 0))
    await resume(session, dossier, calendar=calendar, policy=POLICY, at=vn(2026, 11, 23, 11, 0), restart=False)
    assert not dossier.late_by_rule
    await pause(session, dossier, reason="supplement", note=None, at=vn(2026, 11, 23, 14, 0))
    assert dossier.late_by_rule
    await resume(session, dossier, calendar=calendar, policy=POLICY, at=vn(2026, 11, 23, 15, 0), restart=False)
    # resolved well before the due time, still late by the national rule
    assert await close_dossier_clock(session, dossier, calendar=calendar, at=vn(2026, 11, 25, 8, 0)) == "late"


async def test_pausing_twice_or_resuming_a_running_clock_is_a_conflict(session: AsyncSession) -> None:
    dossier, _, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    with pytest.raises(Conflict):
        await resume(session, dossier, calendar=calendar, policy=POLICY, at=vn(2026, 11, 23, 10, 0), restart=False)
    await pause(session, dossier, reason="payment", note=None, at=vn(2026, 11, 23, 10, 0))
    with pytest.raises(Conflict):
        await pause(session, dossier, reason="payment", note=None, at=vn(2026, 11, 23, 11, 0))
    with pytest.raises(Unprocessable):
        await pause(session, dossier, reason="lunch", note=None, at=vn(2026, 11, 23, 11, 0))


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        ((2026, 11, 26, 16, 0), "early"),
        ((2026, 11, 27, 8, 0), "on_time"),
        ((2026, 11, 27, 9, 0), "on_time"),
        ((2026, 11, 27, 9, 1), "late"),
    ],
)
async def test_outcome_early_on_time_late(session: AsyncSession, ended: tuple[int, ...], expected: str) -> None:
    dossier, _, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0))  # due Fri 27 Nov 09:00
    assert await close_dossier_clock(session, dossier, calendar=calendar, at=vn(*ended)) == expected
    assert dossier.outcome == expected


async def test_steps_keep_their_own_due_times_and_outcomes(session: AsyncSession) -> None:
    dossier, _, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    unit = await create_agency(session)
    first = await start_step(
        session, dossier, calendar=calendar, policy=POLICY, position=1, agency_id=unit.id, assignee_id=None,
        budget_seconds=WORKING_DAY, at=vn(2026, 11, 23, 9, 0),
    )  # fmt: skip
    assert first.due_at == vn(2026, 11, 25, 9, 0)
    assert dossier.current_agency_id == unit.id
    assert await end_step(session, first, calendar=calendar, at=vn(2026, 11, 25, 10, 0)) == "late"


async def test_apology_moves_the_appointment_once_and_keeps_the_legal_due_time(session: AsyncSession) -> None:
    dossier, _, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    legal = dossier.due_at
    with pytest.raises(Unprocessable):
        await apologize(
            session,
            dossier,
            calendar=calendar,
            reason="Chờ xác minh",
            new_appointment=vn(2026, 11, 26, 9, 0),
            at=vn(2026, 11, 25, 9, 0),
        )
    with pytest.raises(Unprocessable):  # a Sunday is not a working time
        await apologize(
            session,
            dossier,
            calendar=calendar,
            reason="Chờ xác minh",
            new_appointment=vn(2026, 11, 29, 9, 0),
            at=vn(2026, 11, 25, 9, 0),
        )
    await apologize(
        session,
        dossier,
        calendar=calendar,
        reason="Chờ xác minh",
        new_appointment=vn(2026, 12, 1, 9, 0),
        at=vn(2026, 11, 25, 9, 0),
    )
    assert dossier.appointment_at == vn(2026, 12, 1, 9, 0)
    assert dossier.due_at == legal
    with pytest.raises(Conflict):
        await apologize(
            session,
            dossier,
            calendar=calendar,
            reason="Lần nữa",
            new_appointment=vn(2026, 12, 3, 9, 0),
            at=vn(2026, 11, 26, 9, 0),
        )
    events = await session.scalar(
        select(func.count()).where(
            OutboxEvent.dossier_id == dossier.id, OutboxEvent.event_type == "dossier.apology_issued"
        )
    )
    assert events == 1


async def test_scan_emits_due_soon_and_overdue_once_each(session: AsyncSession) -> None:
    dossier, timer, _, _ = await received(session, at=vn(2026, 11, 23, 9, 0))
    # due Fri 27 Nov 09:00; due soon one working day before: Thu 26 Nov 09:00
    assert timer.due_soon_at == vn(2026, 11, 26, 9, 0)

    async def events(kind: str) -> int:
        return int(
            await session.scalar(
                select(func.count()).where(OutboxEvent.dossier_id == dossier.id, OutboxEvent.event_type == kind)
            )
            or 0
        )

    await scan_once(session, vn(2026, 11, 26, 8, 59))
    assert (await events("sla.due_soon"), await events("sla.overdue")) == (0, 0)
    await scan_once(session, vn(2026, 11, 26, 9, 0))
    await scan_once(session, vn(2026, 11, 26, 10, 0))
    assert (await events("sla.due_soon"), await events("sla.overdue")) == (1, 0)
    await scan_once(session, vn(2026, 11, 27, 9, 1))
    await scan_once(session, vn(2026, 11, 28, 9, 1))
    assert (await events("sla.due_soon"), await events("sla.overdue")) == (1, 1)
    await session.refresh(dossier)
    assert dossier.overdue


async def test_closing_a_day_moves_open_due_times_and_revoking_moves_them_back(session: AsyncSession) -> None:
    dossier, _, _, agency = await received(session, at=vn(2026, 11, 23, 9, 0))
    assert dossier.due_at == vn(2026, 11, 27, 9, 0)
    closure = OverrideIn(agency_code=agency.code, day=date(2026, 11, 26), kind="closed", reason="Mất điện toàn trụ sở")
    override, moved = await add_override(session, closure, staff_id=None, policy=POLICY)
    assert moved == 1
    await session.refresh(dossier)
    assert dossier.due_at == vn(2026, 11, 30, 9, 0)
    _, moved_back = await revoke_override(
        session, override.id, RevokeIn(reason="Có điện lại"), staff_id=None, policy=POLICY, now=vn(2026, 11, 23, 12, 0)
    )
    assert moved_back == 1
    await session.refresh(dossier)
    assert dossier.due_at == vn(2026, 11, 27, 9, 0)
    assert isinstance(dossier, Dossier)


@pytest.mark.parametrize(("restarts", "used"), [(False, 19_800), (True, 7_200)])
async def test_the_dossier_keeps_the_working_time_its_clock_ran_without_the_pause(
    session: AsyncSession, restarts: bool, used: int
) -> None:
    # Mon 23 Nov 2026 09:00, 3 working days; paused Mon 14:00 to Wed 09:00 (Tue 24 is a holiday)
    dossier, timer, calendar, _ = await received(session, at=vn(2026, 11, 23, 9, 0), restarts=restarts)
    await pause(session, dossier, reason="supplement", note=None, at=vn(2026, 11, 23, 14, 0))
    await resume(session, dossier, calendar=calendar, policy=POLICY, at=vn(2026, 11, 25, 9, 0), restart=restarts)
    await close_dossier_clock(session, dossier, calendar=calendar, at=vn(2026, 11, 25, 11, 0))
    # worked Mon 09:00–11:30 and 13:00–14:00, then Wed 09:00–11:00: 5.5 h; paused 4.5 working hours
    # (Mon 14:00–17:00, Wed 07:30–09:00). A clock that restarts on a supplement counts from Wed 09:00: 2 h.
    assert timer.used_seconds == used
    assert (dossier.used_working_seconds, dossier.limit_working_seconds) == (used, 3 * WORKING_DAY)
    # the statistics count what the clock measured once the dossier is resolved
    dossier.status = "resolved"
    await session.flush()
    cell = await session.scalar(
        select(StatsDossierCell)
        .where(StatsDossierCell.agency_id == dossier.receiving_agency_id)
        .execution_options(populate_existing=True)
    )
    assert cell is not None
    assert (cell.timed, cell.used_working_seconds, cell.limit_working_seconds) == (1, used, 3 * WORKING_DAY)
    assert cell.under_half == 1  # under a third of its limit
