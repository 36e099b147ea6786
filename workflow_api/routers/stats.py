"""Statistics and indicators for leaders and inspectors."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.calendar.admin import agency_id_for
from services.calendar.working import VN_TZ
from services.core.auth import Actor
from services.core.deps import ClockDep, SessionDep, require_roles
from services.core.errors import Forbidden, problem_responses
from services.workflow.stats import Stats, compute_stats

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
Viewer = Annotated[Actor, Depends(require_roles("admin", "leader", "head", "inspector"))]


@router.get("", responses=problem_responses(401, 403, 404))
async def stats(
    session: SessionDep,
    actor: Viewer,
    clock: ClockDep,
    from_: Annotated[date, Query(alias="from")],
    to: date,
    agency: Annotated[str | None, Query(description="receiving agency code")] = None,
) -> Stats:
    """Dossiers received in [from, to] (local dates, inclusive) counted by the national indicator rules."""
    agency_id = await agency_id_for(session, agency)
    if not actor.has_any("admin", "inspector"):
        if agency_id not in (None, actor.agency_id):
            raise Forbidden("You see the statistics of your own agency.", code="other_agency")
        agency_id = actor.agency_id
    start = datetime.combine(from_, time(0), tzinfo=VN_TZ)
    end = datetime.combine(to + timedelta(days=1), time(0), tzinfo=VN_TZ)
    return await compute_stats(session, start=start, end=end, now=clock.now(), agency_id=agency_id)
