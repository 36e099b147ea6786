"""Administering the calendar: overrides and weekly windows, each change logged and applied to
the due times of the open dossiers it touches.

It lives with the clocks, not in ``services.calendar``: applying a change moves the open clocks
(``recompute_due``), and the calendar stays pure and below sla (the layers contract in pyproject.toml)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.calendar.working import parse_windows, weekly_from_spec
from services.core.errors import Conflict, NotFound, Unprocessable
from services.core.validation import IsoDate, StrictModel
from services.models import Agency, CalendarOverride, Dossier, SlaTimer
from services.models import WorkingCalendar as WorkingCalendarRow
from services.sla.clocks import WarningPolicy, recompute_due


class OverrideIn(StrictModel):
    agency_code: str | None = Field(default=None, description="null: the whole province")
    day: IsoDate
    kind: Literal["closed", "working"]
    windows: list[list[str]] | None = Field(default=None, description='e.g. [["07:30","11:30"]]; working days only')
    reason: str = Field(min_length=3, max_length=500)

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: list[list[str]] | None) -> list[list[str]] | None:
        if value is not None:
            parse_windows(value)
        return value


class WeeklyIn(StrictModel):
    agency_code: str | None = None
    windows: dict[str, list[list[str]]] = Field(description='{"mon": [["07:30","11:30"],["13:00","17:00"]], ...}')
    reason: str = Field(min_length=3, max_length=500)

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        weekly = weekly_from_spec(value)
        if not any(weekly):
            raise ValueError("at least one day must have working windows")
        return value


class RevokeIn(StrictModel):
    reason: str = Field(min_length=3, max_length=500)


async def agency_id_for(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    if code is None:
        return None
    agency_id = await session.scalar(select(Agency.id).where(Agency.code == code))
    if agency_id is None:
        raise NotFound(f"No agency with code {code!r}.", code="agency_not_found")
    return agency_id


async def recompute_open_clocks(session: AsyncSession, agency_id: uuid.UUID | None, policy: WarningPolicy) -> int:
    """Re-derive the due times of every open clock on the changed calendar (all agencies when the
    province-wide calendar changed); return how many clocks moved."""
    query = select(SlaTimer).where(SlaTimer.ended_at.is_(None)).with_for_update()
    if agency_id is not None:
        query = query.where(SlaTimer.agency_id == agency_id)
    moved = 0
    for timer in (await session.scalars(query)).all():
        calendar = await calendar_for(session, timer.agency_id)
        before = timer.due_at
        recompute_due(calendar, timer, policy)
        if timer.due_at != before:
            moved += 1
        if timer.kind == "dossier":
            dossier = await session.get(Dossier, timer.dossier_id)
            if dossier is not None:
                dossier.due_at = timer.due_at
    await session.flush()
    return moved


async def add_override(
    session: AsyncSession, data: OverrideIn, *, staff_id: uuid.UUID | None, policy: WarningPolicy
) -> tuple[CalendarOverride, int]:
    agency_id = await agency_id_for(session, data.agency_code)
    if data.kind == "closed" and data.windows:
        raise Unprocessable("A closed day has no windows.", code="closed_day_with_windows")
    existing = await session.scalar(
        select(CalendarOverride.id).where(
            CalendarOverride.day == data.day,
            CalendarOverride.revoked_at.is_(None),
            CalendarOverride.agency_id.is_(None) if agency_id is None else CalendarOverride.agency_id == agency_id,
        )
    )
    if existing is not None:
        raise Conflict("This day already has an override; revoke it first.", code="override_exists")
    override = CalendarOverride(
        agency_id=agency_id,
        day=data.day,
        kind=data.kind,
        windows=data.windows,
        reason=data.reason,
        changed_by_staff_id=staff_id,
    )
    session.add(override)
    await session.flush()
    return override, await recompute_open_clocks(session, agency_id, policy)


async def revoke_override(
    session: AsyncSession,
    override_id: uuid.UUID,
    data: RevokeIn,
    *,
    staff_id: uuid.UUID | None,
    policy: WarningPolicy,
    now: datetime,
) -> tuple[CalendarOverride, int]:
    override = await session.get(CalendarOverride, override_id, with_for_update=True)
    if override is None:
        raise NotFound("No such calendar override.", code="override_not_found")
    if override.revoked_at is not None:
        raise Conflict("This override was already revoked.", code="override_revoked")
    override.revoked_at, override.revoked_by_staff_id, override.revoke_reason = now, staff_id, data.reason
    await session.flush()
    return override, await recompute_open_clocks(session, override.agency_id, policy)


async def set_weekly(session: AsyncSession, data: WeeklyIn, *, policy: WarningPolicy) -> tuple[WorkingCalendarRow, int]:
    agency_id = await agency_id_for(session, data.agency_code)
    row = await session.scalar(
        select(WorkingCalendarRow)
        .where(
            WorkingCalendarRow.agency_id.is_(None) if agency_id is None else WorkingCalendarRow.agency_id == agency_id
        )
        .with_for_update()
    )
    if row is None:
        row = WorkingCalendarRow(agency_id=agency_id, weekly_windows=data.windows)
        session.add(row)
    else:
        row.weekly_windows = data.windows
    await session.flush()
    return row, await recompute_open_clocks(session, agency_id, policy)
