"""Dossiers as the staff see them: the view, the transitions, the process control sheet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from services.core.deps import ClockDep, OriginDep, SessionDep, SettingsDep, StaffActor
from services.core.errors import problem_responses
from services.core.offload import OffloadDep
from services.sla.clocks import WarningPolicy
from services.workflow import dossiers, printing
from services.workflow.dossiers import DossierOut, TimelineRow
from services.workflow.engine import TransitionIn
from services.workflow.printing import WorkflowForm

router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])
Code = Annotated[str, Path(max_length=64)]


@router.get("/{code}", responses=problem_responses(401, 403, 404))
async def get_dossier(code: Code, session: SessionDep, actor: StaffActor, origin: OriginDep) -> DossierOut:
    """State, current step and unit, due times, the applicant and what the caller may do now."""
    return await dossiers.read_dossier(session, code, actor, origin=origin)


@router.post("/{code}/transitions", responses=problem_responses(401, 403, 404, 409, 422))
async def post_transition(
    code: Code, body: TransitionIn, session: SessionDep, actor: StaffActor, clock: ClockDep, settings: SettingsDep,
    origin: OriginDep,
) -> DossierOut:  # fmt: skip
    """Move the dossier: an action its state and the caller's role allow, or a 409/403 problem."""
    policy = WarningPolicy(settings.sla.warning_seconds)
    return await dossiers.move_dossier(session, code, body, actor, origin=origin, policy=policy, now=clock.now())


@router.get("/{code}/timeline", responses=problem_responses(401, 403, 404))
async def get_timeline(code: Code, session: SessionDep, actor: StaffActor) -> list[TimelineRow]:
    """The process control sheet: every hand-over with giver, receiver, units, step due time and outcome."""
    return await dossiers.control_sheet(session, code, actor)


PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "the form as PDF"}}


async def _pdf(
    session: SessionDep, code: str, actor: StaffActor, origin: OriginDep, offload: OffloadDep, clock: ClockDep,
    form: WorkflowForm,
) -> Response:  # fmt: skip
    content = await printing.print_form(
        session, code, actor, form=form, origin=origin, offload=offload, now=clock.now()
    )
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{code}-{form}.pdf"'}
    )


@router.get(
    "/{code}/forms/control-sheet.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 503)},
)
async def control_sheet(
    code: Code, session: SessionDep, actor: StaffActor, clock: ClockDep, origin: OriginDep, offload: OffloadDep
) -> Response:
    """Mẫu 06: the process control sheet, printable (audited)."""
    return await _pdf(session, code, actor, origin, offload, clock, "06")


@router.get(
    "/{code}/forms/apology.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def apology(
    code: Code, session: SessionDep, actor: StaffActor, clock: ClockDep, origin: OriginDep, offload: OffloadDep
) -> Response:
    """Mẫu 04: the apology and new appointment issued by the apologize action (audited)."""
    return await _pdf(session, code, actor, origin, offload, clock, "04")


@router.get(
    "/{code}/forms/stop.pdf", response_class=Response, responses={**PDF, **problem_responses(401, 403, 404, 409, 503)}
)
async def stop_notice(
    code: Code, session: SessionDep, actor: StaffActor, clock: ClockDep, origin: OriginDep, offload: OffloadDep
) -> Response:
    """Mẫu 05: the notice that the dossier's processing stopped, with the reasons (audited)."""
    return await _pdf(session, code, actor, origin, offload, clock, "05")
