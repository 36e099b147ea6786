"""The one-stop desk's own lists: online submissions waiting for the check, and one dossier as the desk
sees it (the applicant, the documents received and the procedure's checklist) for the staff SPA."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.core.deps import ClockDep, CounterActor, OriginDep, SessionDep, StaffActor
from services.core.errors import problem_responses
from services.intake import desk
from services.intake.desk import DeskDossierOut, Waiting, WaitingOut

router = APIRouter(prefix="/api/v1/desk", tags=["desk"])
Code = Annotated[str, Path(max_length=64)]


@router.get("/dossiers", responses=problem_responses(401, 403))
async def waiting(
    session: SessionDep,
    actor: CounterActor,
    status: Waiting | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> WaitingOut:
    """Dossiers at the caller's desk not yet received: online or postal submissions to check
    (``submitted``) and those sent back to the citizen for a supplement before acceptance; oldest first."""
    return await desk.waiting(session, actor, status=status, limit=limit, offset=offset)


@router.get("/dossiers/{code}", responses=problem_responses(401, 403, 404))
async def desk_dossier(
    code: Code, session: SessionDep, actor: StaffActor, origin: OriginDep, clock: ClockDep
) -> DeskDossierOut:
    """One dossier for staff who may see it: the applicant (audited read), the files and the checklist."""
    return await desk.desk_dossier(session, code, actor, origin=origin, now=clock.now())
