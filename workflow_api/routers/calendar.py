"""The working calendar: due-time computation (public) and its administration."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.core.deps import AdminActor, ClockDep, OriginDep, SessionDep, SettingsDep, StaffActor
from services.core.errors import problem_responses
from services.core.validation import IsoDateTime
from services.sla.calendar_admin import OverrideIn, RevokeIn, WeeklyIn
from services.sla.clocks import WarningPolicy
from services.workflow import calendar_service as service
from services.workflow.calendar_service import (
    PUBLIC_MAX_DAYS,
    PUBLIC_YEARS_AROUND_TODAY,
    ChangeOut,
    DayOut,
    DueOut,
    OverrideOut,
    WeeklyOut,
)

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


@router.get("/due", responses=problem_responses(404))
async def due(
    session: SessionDep,
    clock: ClockDep,
    start: Annotated[
        IsoDateTime, Query(description=f"within {PUBLIC_YEARS_AROUND_TODAY} years of today; no offset: Vietnam's time")
    ],
    days: Annotated[float | None, Query(ge=0, le=PUBLIC_MAX_DAYS)] = None,
    hours: Annotated[float | None, Query(ge=0, le=PUBLIC_MAX_DAYS * 8)] = None,
    agency: Annotated[
        str | None, Query(max_length=64, description="agency code; default: the province calendar")
    ] = None,
) -> DueOut:
    """The instant by which N working days (8 h each) or N working hours have passed since ``start``."""
    return await service.due(session, start=start, days=days, hours=hours, agency=agency, now=clock.now())


@router.get("/days", responses=problem_responses(404))
async def days_of_year(
    session: SessionDep,
    clock: ClockDep,
    year: Annotated[int, Query(ge=2000, le=2100, description=f"within {PUBLIC_YEARS_AROUND_TODAY} years of today")],
    agency: Annotated[str | None, Query(max_length=64)] = None,
) -> list[DayOut]:
    """The days of ``year`` that differ from the weekly rule: holidays, Tết, make-up days, overrides."""
    return await service.days_of_year(session, year=year, agency=agency, now=clock.now())


@router.get("/overrides", responses=problem_responses(401, 403))
async def list_overrides(
    session: SessionDep, _: StaffActor, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[OverrideOut]:
    """Every override, revoked ones included (the history of who changed the calendar and why)."""
    return await service.overrides(session, year=year)


@router.get("/weekly", responses=problem_responses(401, 403, 404))
async def get_weekly(
    session: SessionDep, _: StaffActor, agency: Annotated[str | None, Query(max_length=64)] = None
) -> WeeklyOut:
    """The weekly working windows in force for an agency (its own, else the province's, else the national ones)."""
    return await service.weekly(session, agency=agency)


async def _policy(settings: SettingsDep) -> WarningPolicy:
    return WarningPolicy(settings.sla.warning_seconds)


Policy = Annotated[WarningPolicy, Depends(_policy)]


@router.post("/overrides", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 404, 409))
async def create_override(
    body: OverrideIn, session: SessionDep, actor: AdminActor, policy: Policy, origin: OriginDep
) -> ChangeOut:
    """Close a day or open one (an extra closure, an extra working day); open dossiers' due times move."""
    return await service.create_override(session, body, actor, policy=policy, origin=origin)


@router.post("/overrides/{override_id}/revoke", responses=problem_responses(401, 403, 404, 409))
async def revoke(
    override_id: uuid.UUID,
    body: RevokeIn,
    session: SessionDep,
    actor: AdminActor,
    policy: Policy,
    clock: ClockDep,
    origin: OriginDep,
) -> ChangeOut:
    """Withdraw an override (it stays in the history); open dossiers' due times move back."""
    return await service.revoke(session, override_id, body, actor, policy=policy, origin=origin, now=clock.now())


@router.put("/weekly", responses=problem_responses(401, 403, 404))
async def put_weekly(
    body: WeeklyIn, session: SessionDep, actor: AdminActor, policy: Policy, origin: OriginDep
) -> ChangeOut:
    """Set an agency's (or the province's) weekly working windows; open dossiers' due times move."""
    return await service.put_weekly(session, body, actor, policy=policy, origin=origin)
