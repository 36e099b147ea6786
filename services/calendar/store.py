"""Loading an agency's calendar from the database, cached until the calendar data changes.

The cache is per process and keyed by ``calendar_revision`` (a versioned read): every computation
reads the revision first, so a change committed through any replica is used by every other process
from its next computation on — no invalidation message to miss."""

from __future__ import annotations

import uuid
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import CalendarRules, DayOverride, WorkingCalendar, parse_windows, weekly_from_spec
from services.models import CalendarOverride, CalendarRevision
from services.models import WorkingCalendar as WorkingCalendarRow

_CACHE: OrderedDict[tuple[uuid.UUID | None, int], WorkingCalendar] = OrderedDict()
_CACHE_SIZE = 256


async def _revision(session: AsyncSession) -> int | None:
    """The calendar data's revision: a trigger sets a new one, never used before, in every transaction that
    writes a calendar row or an override (migration a5c3e1f7b2d8), so every process of every replica sees
    a change at once: one primary-key read per calendar asked for."""
    return await session.scalar(select(CalendarRevision.revision).where(CalendarRevision.id == 1))


# the revision as a scalar subquery, for statements sent straight through asyncpg (services.dossier.filing)
REVISION_SQL = "(SELECT revision FROM calendar_revision WHERE id = 1)"


async def weekly_row(session: AsyncSession, agency_id: uuid.UUID | None) -> WorkingCalendarRow | None:
    """The weekly windows in force for the agency: its own row, else the province default (None: neither)."""
    rows = (
        await session.scalars(
            select(WorkingCalendarRow).where(
                (WorkingCalendarRow.agency_id == agency_id) | WorkingCalendarRow.agency_id.is_(None)
            )
        )
    ).all()
    own = next((row for row in rows if row.agency_id is not None and agency_id is not None), None)
    return own or next((row for row in rows if row.agency_id is None), None)


async def load_rules(session: AsyncSession, agency_id: uuid.UUID | None) -> CalendarRules:
    """The agency's weekly windows (``weekly_row``) and its overrides (province-wide ones, replaced day
    by day by the agency's own)."""
    chosen = await weekly_row(session, agency_id)
    weekly = weekly_from_spec(chosen.weekly_windows) if chosen else CalendarRules().weekly

    overrides_rows = (
        await session.scalars(
            select(CalendarOverride)
            .where(
                CalendarOverride.revoked_at.is_(None),
                (CalendarOverride.agency_id == agency_id) | CalendarOverride.agency_id.is_(None),
            )
            # province-wide first, so the agency's own override of the same day wins
            .order_by(CalendarOverride.agency_id.is_not(None))
        )
    ).all()
    overrides = {
        row.day: DayOverride(row.kind, row.reason, parse_windows(row.windows) if row.windows else None)
        for row in overrides_rows
    }
    return CalendarRules(weekly=weekly, overrides=overrides)


async def calendar_for(session: AsyncSession, agency_id: uuid.UUID | None) -> WorkingCalendar:
    """The agency's calendar; built once per change of the calendar data (tables are per year)."""
    return await calendar_at(session, agency_id, await _revision(session))


async def calendar_at(session: AsyncSession, agency_id: uuid.UUID | None, revision: int | None) -> WorkingCalendar:
    """``calendar_for`` with the revision already read (a filing reads it in its first statement:
    ``REVISION_SQL``)."""
    if revision is None:  # no revision row (a schema not built by the migrations): nothing to key a cache by
        return WorkingCalendar(await load_rules(session, agency_id))
    key = (agency_id, revision)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    calendar = WorkingCalendar(await load_rules(session, agency_id))
    _CACHE[key] = calendar
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return calendar
