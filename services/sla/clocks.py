"""The clocks of a dossier and of each step of its workflow.

Every clock is an ``sla_timer`` row: a clock start, a budget of working time, the working time
paused so far and the resulting due time (``started_at`` + budget + paused, on the agency's
calendar). A pause (supplement, payment) stops the dossier clock and the running step clock; on
resume the paused working time is added back — or, where the procedure says so, the clock
restarts with the full budget. Every pause is logged in ``sla_pause`` with its reason.

Outcomes at the end of a clock (national indicator wording): ``early`` (trước hạn) when it ends
on a working day before the due day, ``on_time`` (đúng hạn) when it ends on the due day by the
due time, ``late`` (quá hạn) after it. A dossier asked for a supplement a second time counts as
late whatever its clock says.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import DEFAULT_CUTOFF, Channel, TimeLimit, clock_start, legal_due
from services.calendar.working import WorkingCalendar
from services.core.errors import Conflict, Unprocessable
from services.models import Dossier, SlaPause, SlaTimer
from services.outbox import emit

PAUSE_REASONS = frozenset({"supplement", "payment"})


@dataclass(frozen=True)
class WarningPolicy:
    """'Due soon' this much working time before the due time (at most half the budget)."""

    seconds: int = 8 * 3600

    def lead(self, budget_seconds: int) -> int:
        return min(self.seconds, budget_seconds // 2)


def outcome(calendar: WorkingCalendar, ended_at: datetime, due_at: datetime) -> str:
    if ended_at > due_at:
        return "late"
    tz = calendar.rules.tz
    return "on_time" if ended_at.astimezone(tz).date() == due_at.astimezone(tz).date() else "early"


def recompute_due(calendar: WorkingCalendar, timer: SlaTimer, policy: WarningPolicy) -> None:
    total = timer.budget_seconds + timer.paused_seconds
    timer.due_at = calendar.add_working_seconds(timer.started_at, total) if total else timer.started_at
    lead = policy.lead(timer.budget_seconds)
    timer.due_soon_at = calendar.add_working_seconds(timer.started_at, max(total - lead, 0))


def new_timer(
    calendar: WorkingCalendar,
    policy: WarningPolicy,
    *,
    dossier_id: uuid.UUID,
    kind: str,
    step_seq: int,
    started_at: datetime,
    budget_seconds: int,
    step_position: int | None = None,
    agency_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
) -> SlaTimer:
    timer = SlaTimer(
        dossier_id=dossier_id,
        kind=kind,
        step_seq=step_seq,
        step_position=step_position,
        agency_id=agency_id,
        assignee_id=assignee_id,
        started_at=started_at,
        budget_seconds=budget_seconds,
        paused_seconds=0,
    )
    recompute_due(calendar, timer, policy)
    return timer


def dossier_clock(
    calendar: WorkingCalendar,
    policy: WarningPolicy,
    *,
    dossier_id: uuid.UUID,
    agency_id: uuid.UUID,
    received_at: datetime,
    channel: Channel,
    limit: TimeLimit,
    cutoff_applies: bool,
    cutoff: time = DEFAULT_CUTOFF,
) -> SlaTimer:
    """The dossier's clock as the receipt rules start it (not added to any session): its start, budget and
    due times. ``start_dossier_clock`` adds it; a counter filing writes it with the dossier
    (services.dossier.filing)."""
    start = clock_start(calendar, received_at, channel, cutoff=cutoff, cutoff_applies=cutoff_applies)
    due = legal_due(calendar, start, limit)
    # "trong ngày" has no budget of its own: it is whatever remains of the day the clock starts on
    budget = int(calendar.working_seconds_between(start, due)) if limit.value == 0 else int(limit.seconds)
    return new_timer(
        calendar, policy, dossier_id=dossier_id, kind="dossier", step_seq=0, started_at=start, budget_seconds=budget,
        agency_id=agency_id,
    )  # fmt: skip


async def start_dossier_clock(
    session: AsyncSession,
    dossier: Dossier,
    *,
    calendar: WorkingCalendar,
    policy: WarningPolicy,
    received_at: datetime,
    channel: Channel,
    limit: TimeLimit,
    cutoff_applies: bool,
    cutoff: time = DEFAULT_CUTOFF,
) -> SlaTimer:
    """Receipt: apply the receipt rules, set the dossier's legal due time, start its clock."""
    timer = dossier_clock(
        calendar, policy, dossier_id=dossier.id, agency_id=dossier.receiving_agency_id, received_at=received_at,
        channel=channel, limit=limit, cutoff_applies=cutoff_applies, cutoff=cutoff,
    )  # fmt: skip
    dossier.received_at = received_at
    dossier.clock_start_at = timer.started_at
    dossier.due_at = timer.due_at
    session.add(timer)
    await session.flush()
    return timer


async def open_timers(session: AsyncSession, dossier_id: uuid.UUID) -> list[SlaTimer]:
    rows = await session.scalars(
        select(SlaTimer)
        .where(SlaTimer.dossier_id == dossier_id, SlaTimer.ended_at.is_(None))
        .order_by(SlaTimer.step_seq)
        .with_for_update()
    )
    return list(rows)


async def dossier_timer(session: AsyncSession, dossier_id: uuid.UUID) -> SlaTimer:
    timer = await session.scalar(
        select(SlaTimer).where(SlaTimer.dossier_id == dossier_id, SlaTimer.kind == "dossier").with_for_update()
    )
    if timer is None:
        raise Conflict("This dossier has no running clock (it was never received).", code="clock_not_started")
    return timer


# the number of a dossier's last step clock: built once (read at every step entered; issue 14)
_LAST_STEP_SEQ = (
    select(SlaTimer.step_seq)
    .where(SlaTimer.dossier_id == bindparam("dossier_id"), SlaTimer.kind == "step")
    .order_by(SlaTimer.step_seq.desc())
    .limit(1)
)


async def start_step(
    session: AsyncSession,
    dossier: Dossier,
    *,
    calendar: WorkingCalendar,
    policy: WarningPolicy,
    position: int,
    agency_id: uuid.UUID | None,
    assignee_id: uuid.UUID | None,
    budget_seconds: int,
    at: datetime,
) -> SlaTimer:
    """A step's own clock: its share of the time limit, from the hand-over (or the next working instant)."""
    last_seq = await session.scalar(_LAST_STEP_SEQ, {"dossier_id": dossier.id})
    timer = new_timer(
        calendar,
        policy,
        dossier_id=dossier.id,
        kind="step",
        step_seq=(last_seq or 0) + 1,
        started_at=calendar.next_working_instant(at),
        budget_seconds=budget_seconds,
        step_position=position,
        agency_id=agency_id,
        assignee_id=assignee_id,
    )
    dossier.current_step_position = position
    dossier.current_agency_id = agency_id or dossier.current_agency_id
    session.add(timer)
    await session.flush()
    return timer


def used_working_seconds(calendar: WorkingCalendar, timer: SlaTimer, at: datetime) -> int:
    """The working time a clock has run by ``at``, pauses excluded: the working time since its start
    less the paused working time added back to it (since a restart, for a clock that restarted)."""
    return max(0, int(calendar.working_seconds_between(timer.started_at, at)) - timer.paused_seconds)


def _end(calendar: WorkingCalendar, timer: SlaTimer, at: datetime) -> str:
    if timer.paused_at is not None:
        raise Conflict("A paused clock cannot end; resume it first.", code="clock_paused")
    timer.ended_at = at
    timer.outcome = outcome(calendar, at, timer.due_at)
    timer.used_seconds = used_working_seconds(calendar, timer, at)
    return timer.outcome


async def end_step(session: AsyncSession, timer: SlaTimer, *, calendar: WorkingCalendar, at: datetime) -> str:
    """End a step's clock and store early / on time / late, so the late unit is known."""
    result = _end(calendar, timer, at)
    await session.flush()
    return result


async def close_dossier_clock(
    session: AsyncSession, dossier: Dossier, *, calendar: WorkingCalendar, at: datetime
) -> str:
    """End the dossier's clock (result ready); any step still running ends with it.

    The dossier keeps its clock's working time used and budget (as it keeps the clock's due time),
    so the statistics trigger counts "time used vs the legal limit" from the dossier row alone."""
    for timer in await open_timers(session, dossier.id):
        _end(calendar, timer, at)
        if timer.kind == "dossier":
            dossier.outcome = "late" if dossier.late_by_rule else timer.outcome
            dossier.used_working_seconds = timer.used_seconds
            dossier.limit_working_seconds = timer.budget_seconds
    dossier.resolved_at = at
    await session.flush()
    return dossier.outcome or "late"


async def halt(session: AsyncSession, dossier: Dossier, *, at: datetime) -> None:
    """Stop every clock without an outcome: the dossier was withdrawn or stopped, not resolved."""
    for timer in await open_timers(session, dossier.id):
        timer.ended_at, timer.paused_at = at, None
    await session.flush()


async def pause(
    session: AsyncSession,
    dossier: Dossier,
    *,
    reason: str,
    note: str | None,
    at: datetime,
) -> None:
    """Stop the dossier's clock and the running step's while the citizen supplements or pays."""
    if reason not in PAUSE_REASONS:
        raise Unprocessable(f"A clock pauses only for {sorted(PAUSE_REASONS)}.", code="invalid_pause_reason")
    timers = await open_timers(session, dossier.id)
    if not timers:
        raise Conflict("This dossier has no running clock.", code="clock_not_started")
    if any(timer.paused_at is not None for timer in timers):
        raise Conflict("The clock is already paused.", code="clock_already_paused")
    for timer in timers:
        timer.paused_at = at
        session.add(SlaPause(timer_id=timer.id, reason=reason, note=note, paused_at=at))
    if reason == "supplement":
        dossier.supplement_count += 1
        if dossier.supplement_count >= 2:
            dossier.late_by_rule = True
    await session.flush()


async def resume(
    session: AsyncSession,
    dossier: Dossier,
    *,
    calendar: WorkingCalendar,
    policy: WarningPolicy,
    at: datetime,
    restart: bool,
) -> int:
    """Start the clocks again; return the working seconds the pause lasted."""
    timers = [timer for timer in await open_timers(session, dossier.id) if timer.paused_at is not None]
    if not timers:
        raise Conflict("The clock is not paused.", code="clock_not_paused")
    paused_for = 0
    for timer in timers:
        assert timer.paused_at is not None
        paused_for = max(0, int(calendar.working_seconds_between(timer.paused_at, at)))
        record = await session.scalar(
            select(SlaPause)
            .where(SlaPause.timer_id == timer.id, SlaPause.resumed_at.is_(None))
            .order_by(SlaPause.paused_at.desc())
            .limit(1)
        )
        if record is not None:
            record.resumed_at, record.working_seconds, record.restarted = at, paused_for, restart
        if restart:
            # the clock counts again from the arrival of the supplement, with the whole budget
            timer.started_at = calendar.next_working_instant(at)
            timer.paused_seconds = 0
        else:
            timer.paused_seconds += paused_for
        timer.paused_at = None
        timer.due_soon_emitted_at = None if timer.due_soon_emitted_at and restart else timer.due_soon_emitted_at
        recompute_due(calendar, timer, policy)
        if timer.kind == "dossier":
            dossier.due_at = timer.due_at
            if restart:
                dossier.clock_start_at = timer.started_at
    await session.flush()
    return paused_for


async def apologize(
    session: AsyncSession,
    dossier: Dossier,
    *,
    calendar: WorkingCalendar,
    reason: str,
    new_appointment: datetime,
    at: datetime,
) -> None:
    """Form 04: the apology with its reason and a new appointment, allowed once per dossier.

    The new appointment becomes the due time the citizen sees (``appointment_at``); the legal due
    time stays on the dossier and its clock for the statistics.
    """
    if dossier.apology_issued:
        raise Conflict("The appointment may be moved only once; an apology was already issued.", code="apology_exists")
    if dossier.due_at is None:
        raise Conflict("This dossier has no due time yet.", code="clock_not_started")
    if dossier.resolved_at is not None:
        raise Conflict("The result is ready; there is nothing to apologise for.", code="already_resolved")
    if new_appointment <= dossier.due_at:
        raise Unprocessable(
            "The new appointment must be later than the current due time.", code="appointment_too_early"
        )
    if not calendar.is_working_time(new_appointment):
        raise Unprocessable("The new appointment must be within working hours.", code="appointment_not_working_time")
    dossier.apology_issued = True
    dossier.apology_reason = reason
    dossier.apology_at = at
    dossier.appointment_at = new_appointment
    await emit(
        session,
        event_type="dossier.apology_issued",
        source="workflow",
        destination="notify",
        dossier_id=dossier.id,
        payload={
            "dossier_code": dossier.code,
            "legal_due_at": dossier.due_at.isoformat(),
            "appointment_at": new_appointment.isoformat(),
        },
    )
    await session.flush()
