"""The working calendar as workflow_api serves it: the public calculators (a due time, the days off of a
year), the history of overrides, the weekly windows in force, and the audited administration (an override,
its revocation, an agency's weekly windows), each of which moves the due times of open dossiers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import extract, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for, weekly_row
from services.calendar.working import VN_TZ, WORKING_DAY
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import Unprocessable
from services.models import Agency, CalendarOverride
from services.models.calendar import DEFAULT_WEEKLY_WINDOWS
from services.sla.calendar_admin import (
    OverrideIn,
    RevokeIn,
    WeeklyIn,
    add_override,
    agency_id_for,
    revoke_override,
    set_weekly,
)
from services.sla.clocks import WarningPolicy

# The public calculators build a year table per year they touch (and keep it while the calendar is
# cached), so what anyone may ask is bounded: a start or a year within this many years of today,
# and a span of at most a year of working days (the longest legal time limit is far shorter).
PUBLIC_YEARS_AROUND_TODAY = 5
PUBLIC_MAX_DAYS = 366


class DueOut(BaseModel):
    agency_code: str | None
    start: datetime
    working_days: float
    working_hours: float
    due_at: datetime
    start_is_working_time: bool


class DayOut(BaseModel):
    day: date
    working: bool
    windows: list[list[str]]
    reason: str | None


class OverrideOut(BaseModel):
    id: uuid.UUID
    agency_id: uuid.UUID | None
    agency_code: str | None = None  # None: province-wide
    day: date
    kind: str
    windows: list[list[str]] | None
    reason: str
    changed_by_staff_id: uuid.UUID | None
    changed_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None


class WeeklyOut(BaseModel):
    agency_code: str | None
    source: str  # agency: its own hours; province: the province default; national: none set (07:30-11:30, 13:00-17:00)
    windows: dict[str, list[list[str]]]


class ChangeOut(BaseModel):
    override: OverrideOut | None = None
    clocks_moved: int


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _within_public_years(year: int, now: datetime) -> None:
    today = now.astimezone(VN_TZ).year
    if abs(year - today) > PUBLIC_YEARS_AROUND_TODAY:
        raise Unprocessable(
            f"The calendar answers for {today - PUBLIC_YEARS_AROUND_TODAY} to {today + PUBLIC_YEARS_AROUND_TODAY}.",
            code="calendar_year_out_of_range",
        )


async def due(
    session: AsyncSession, *, start: datetime, days: float | None, hours: float | None, agency: str | None,
    now: datetime,
) -> DueOut:  # fmt: skip
    """The instant by which ``days`` working days (8 h each) or ``hours`` working hours have passed."""
    if (days is None) == (hours is None):
        raise Unprocessable("Give exactly one of days= or hours=.", code="days_or_hours")
    if start.tzinfo is None:
        start = start.replace(tzinfo=VN_TZ)  # a local time without offset is Vietnam's
    _within_public_years(start.astimezone(VN_TZ).year, now)
    calendar = await calendar_for(session, await agency_id_for(session, agency))
    seconds = (days or 0) * WORKING_DAY + (hours or 0) * 3600
    return DueOut(
        agency_code=agency,
        start=start,
        working_days=seconds / WORKING_DAY,
        working_hours=seconds / 3600,
        due_at=calendar.add_working_seconds(start, seconds).astimezone(VN_TZ),
        start_is_working_time=calendar.is_working_time(start),
    )


async def days_of_year(session: AsyncSession, *, year: int, agency: str | None, now: datetime) -> list[DayOut]:
    """The days of ``year`` that differ from the weekly rule: holidays, Tết, make-up days, overrides."""
    _within_public_years(year, now)
    calendar = await calendar_for(session, await agency_id_for(session, agency))
    return [
        DayOut(
            day=info.day,
            working=info.working,
            windows=[[_hhmm(start), _hhmm(end)] for start, end in info.windows],
            reason=info.reason,
        )
        for info in calendar.non_working_days(year)
    ]


async def overrides(session: AsyncSession, *, year: int | None) -> list[OverrideOut]:
    """Every override, revoked ones included, by day and time of the change."""
    query = select(CalendarOverride).order_by(CalendarOverride.day, CalendarOverride.changed_at)
    if year is not None:
        query = query.where(extract("year", CalendarOverride.day) == year)
    rows = list(await session.scalars(query))
    agency_ids = {row.agency_id for row in rows if row.agency_id}
    codes = dict((await session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(agency_ids)))).all())
    return [
        OverrideOut.model_validate(row, from_attributes=True).model_copy(
            update={"agency_code": codes.get(row.agency_id) if row.agency_id else None}
        )
        for row in rows
    ]


async def weekly(session: AsyncSession, *, agency: str | None) -> WeeklyOut:
    """The weekly windows in force for an agency: its own, else the province's, else the national ones."""
    row = await weekly_row(session, await agency_id_for(session, agency))
    if row is not None:
        source = "province" if row.agency_id is None else "agency"
        return WeeklyOut(agency_code=agency, source=source, windows=row.weekly_windows)
    return WeeklyOut(agency_code=agency, source="national", windows=DEFAULT_WEEKLY_WINDOWS)


def _changed(session: AsyncSession, origin: Origin, actor: Actor, resource: str, detail: dict[str, object]) -> None:
    """A calendar change moves every open dossier's due time: who did it, why, and how many clocks moved."""
    entry = audit_entry(
        service="workflow", action="calendar_change", resource=resource, origin=origin, actor=actor, detail=detail
    )
    record(session, entry)


async def create_override(
    session: AsyncSession, body: OverrideIn, actor: Actor, *, policy: WarningPolicy, origin: Origin
) -> ChangeOut:
    """Close a day or open one; open dossiers' due times move."""
    override, moved = await add_override(session, body, staff_id=actor.staff_id, policy=policy)
    _changed(
        session, origin, actor, "POST /api/v1/calendar/overrides",
        {"day": body.day.isoformat(), "kind": body.kind, "reason": body.reason, "clocks_moved": moved},
    )  # fmt: skip
    return ChangeOut(override=OverrideOut.model_validate(override, from_attributes=True), clocks_moved=moved)


async def revoke(
    session: AsyncSession, override_id: uuid.UUID, body: RevokeIn, actor: Actor, *, policy: WarningPolicy,
    origin: Origin, now: datetime,
) -> ChangeOut:  # fmt: skip
    """Withdraw an override (it stays in the history); open dossiers' due times move back."""
    override, moved = await revoke_override(session, override_id, body, staff_id=actor.staff_id, policy=policy, now=now)
    _changed(
        session, origin, actor, f"POST /api/v1/calendar/overrides/{override_id}/revoke",
        {"day": override.day.isoformat(), "revoked": True, "reason": body.reason, "clocks_moved": moved},
    )  # fmt: skip
    return ChangeOut(override=OverrideOut.model_validate(override, from_attributes=True), clocks_moved=moved)


async def put_weekly(
    session: AsyncSession, body: WeeklyIn, actor: Actor, *, policy: WarningPolicy, origin: Origin
) -> ChangeOut:
    """Set an agency's (or the province's) weekly windows; open dossiers' due times move."""
    _, moved = await set_weekly(session, body, policy=policy)
    _changed(
        session, origin, actor, "PUT /api/v1/calendar/weekly",
        {"agency_code": body.agency_code, "windows": body.windows, "reason": body.reason, "clocks_moved": moved},
    )  # fmt: skip
    return ChangeOut(clocks_moved=moved)
