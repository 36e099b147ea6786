"""Statistics and indicators for leaders and inspectors (Quyết định 766/QĐ-TTg), with exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.core.auth import Actor
from services.core.deps import ClockDep, OriginDep, SessionDep, StatsActor
from services.core.errors import problem_responses
from services.core.validation import IsoDate
from services.stats.exports import export
from services.stats.overdue import overdue_dossiers
from services.stats.queries import compute_stats
from services.stats.schemas import OverdueList, Stats
from services.stats.scope import StatsQuery, resolve_query

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class _Scope:
    agency: str | None
    include_children: bool
    field: str | None
    procedure: str | None
    officer: str | None


async def _scope(
    agency: Annotated[str | None, Query(description="receiving agency code; default: yours (all for admins)")] = None,
    include_children: Annotated[bool, Query(description="add the agencies and units below it")] = False,
    field: Annotated[str | None, Query(description="lĩnh vực, as in the catalogue")] = None,
    procedure: Annotated[str | None, Query(description="procedure code")] = None,
    officer: Annotated[str | None, Query(description="username: count the steps this officer handled")] = None,
) -> _Scope:
    return _Scope(agency, include_children, field, procedure, officer)


ScopeDep = Annotated[_Scope, Depends(_scope)]


async def _resolve(
    session: SessionDep, actor: Actor, clock: ClockDep, scope: _Scope, start: date | None, end: date | None
) -> StatsQuery:
    return await resolve_query(
        session,
        actor,
        now=clock.now(),
        start=start,
        end=end,
        agency=scope.agency,
        include_children=scope.include_children,
        field=scope.field,
        procedure=scope.procedure,
        officer=scope.officer,
    )


async def _in_period(
    session: SessionDep,
    actor: StatsActor,
    clock: ClockDep,
    scope: ScopeDep,
    from_: Annotated[IsoDate, Query(alias="from", description="first day of receipt (Vietnam time)")],
    to: Annotated[IsoDate, Query(description="last day of receipt, inclusive")],
) -> StatsQuery:
    return await _resolve(session, actor, clock, scope, from_, to)


async def _any_period(
    session: SessionDep,
    actor: StatsActor,
    clock: ClockDep,
    scope: ScopeDep,
    from_: Annotated[IsoDate | None, Query(alias="from", description="first day of receipt (Vietnam time)")] = None,
    to: Annotated[IsoDate | None, Query(description="last day of receipt, inclusive")] = None,
) -> StatsQuery:
    return await _resolve(session, actor, clock, scope, from_, to)


Filters = Annotated[StatsQuery, Depends(_in_period)]
OptionalPeriodFilters = Annotated[StatsQuery, Depends(_any_period)]


@router.get("", responses=problem_responses(401, 403, 404))
async def stats(session: SessionDep, query: Filters) -> Stats:
    """Dossiers received in [from, to] counted by the national indicator rules, with breakdowns."""
    return await compute_stats(session, query)


@router.get("/overdue", responses=problem_responses(401, 403, 404))
async def overdue(
    session: SessionDep,
    query: OptionalPeriodFilters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OverdueList:
    """Open dossiers past their legal due time, latest first, with the unit and officer of the running step."""
    return await overdue_dossiers(session, query, limit=limit, offset=offset)


def _filename(query: StatsQuery, extension: str) -> str:
    return f'attachment; filename="thong-ke-{query.start}_{query.end}.{extension}"'


@router.get(
    "/export.xlsx",
    responses={**problem_responses(401, 403, 404), 200: {"content": {XLSX: {}}, "description": "Excel workbook"}},
    response_class=Response,
)
async def export_xlsx(
    session: SessionDep, query: Filters, actor: StatsActor, request: Request, origin: OriginDep
) -> Response:
    """The statistics as an Excel workbook: indicators, units, officers and the overdue list (Vietnamese headers);
    audited."""
    body = await export(session, query, kind="xlsx", actor=actor, origin=origin, request_query=str(request.url.query))
    return Response(body, media_type=XLSX, headers={"Content-Disposition": _filename(query, "xlsx")})


@router.get(
    "/export.csv",
    responses={**problem_responses(401, 403, 404), 200: {"content": {"text/csv": {}}, "description": "CSV"}},
    response_class=Response,
)
async def export_csv(
    session: SessionDep, query: Filters, actor: StatsActor, request: Request, origin: OriginDep
) -> Response:
    """The indicators table as CSV, UTF-8 with a byte-order mark so Excel reads the Vietnamese headers; audited."""
    body = await export(session, query, kind="csv", actor=actor, origin=origin, request_query=str(request.url.query))
    return Response(
        body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": _filename(query, "csv")}
    )
