"""The procedure catalogue: public search, detail and filter choices, versioned administration (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from services.core.deps import AdminActor, ClockDep, OriginDep, SessionDep
from services.core.errors import problem_responses
from services.intake.catalogue import catalogue_facets, get_procedure, local_today, public_agencies, search_procedures
from services.intake.catalogue_admin import create_procedure, publish_version
from services.intake.catalogue_schemas import (
    CatalogueFacets,
    CatalogueQuery,
    ProcedureCreate,
    ProcedureDetail,
    ProcedurePage,
    PublicAgency,
    VersionIn,
)

router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])
catalogue_router = APIRouter(prefix="/api/v1/catalogue", tags=["procedures"])
Code = Annotated[str, Path(min_length=1, max_length=64, description="national procedure code (mã TTHC)")]


@router.get("", responses=problem_responses(422))
async def list_procedures(
    session: SessionDep, clock: ClockDep, query: Annotated[CatalogueQuery, Query()]
) -> ProcedurePage:
    """Search the procedures in force (accents and case ignored), filtered by field, agency, department, level,
    online mode and whether they are information only (no local workflow)."""
    return await search_procedures(session, query, today=local_today(clock.now()))


@router.get("/{code}", responses=problem_responses(404))
async def read_procedure(code: Code, session: SessionDep, clock: ClockDep) -> ProcedureDetail:
    """The version of a procedure in force today, with documents, fees, agencies and workflow steps."""
    return await get_procedure(session, code, today=local_today(clock.now()))


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 404, 409, 422))
async def create(body: ProcedureCreate, session: SessionDep, actor: AdminActor, origin: OriginDep) -> ProcedureDetail:
    """Create a procedure with its first published version (administrators)."""
    return await create_procedure(session, body, actor=actor, origin=origin)


@router.post("/{code}/versions", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 404, 422))
async def publish(
    code: Code, body: VersionIn, session: SessionDep, actor: AdminActor, origin: OriginDep
) -> ProcedureDetail:
    """Publish a new version of a procedure; the previous one stays unchanged but ends where it starts."""
    return await publish_version(session, code, body, actor=actor, origin=origin)


@catalogue_router.get("/facets")
async def facets(session: SessionDep, clock: ClockDep) -> CatalogueFacets:
    """The search filters' choices: fields, departments and levels of the procedures in force, with counts."""
    return await catalogue_facets(session, today=local_today(clock.now()))


@catalogue_router.get("/agencies")
async def agencies(session: SessionDep, clock: ClockDep) -> list[PublicAgency]:
    """The agencies in existence today (code, name, level): for the complaint form and the search filter."""
    return await public_agencies(session, today=local_today(clock.now()))
