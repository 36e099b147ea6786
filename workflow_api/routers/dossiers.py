"""Dossiers as the staff see them: the view, the transitions, the process control sheet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from services.core.audit import audit_entry, record, record_printed
from services.core.deps import ClockDep, SessionDep, SettingsDep, StaffActor
from services.core.errors import problem_responses
from services.core.offload import OffloadDep
from services.dossier.access import dossier_for
from services.sla.clocks import WarningPolicy
from services.workflow import printing
from services.workflow.dossiers import DossierOut, TimelineRow, dossier_view, timeline
from services.workflow.engine import TransitionIn, transition

router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])
Code = Annotated[str, Path(max_length=64)]


@router.get("/{code}", responses=problem_responses(401, 403, 404))
async def get_dossier(code: Code, session: SessionDep, actor: StaffActor, request: Request) -> DossierOut:
    """State, current step and unit, due times, the applicant and what the caller may do now."""
    dossier = await dossier_for(session, code, actor)
    resource = f"GET /api/v1/dossiers/{code}"
    entry = audit_entry(
        service="workflow", action="read", resource=resource, request=request, actor=actor, dossier_id=dossier.id
    )
    record(session, entry)
    return await dossier_view(session, dossier, actor)


@router.post("/{code}/transitions", responses=problem_responses(401, 403, 404, 409, 422))
async def post_transition(
    code: Code, body: TransitionIn, session: SessionDep, actor: StaffActor, clock: ClockDep, settings: SettingsDep,
    request: Request,
) -> DossierOut:  # fmt: skip
    """Move the dossier: an action its state and the caller's role allow, or a 409/403 problem."""
    dossier = await dossier_for(session, code, actor, lock=True)
    policy = WarningPolicy(settings.sla.warning_seconds)
    await transition(session, dossier, body, actor, now=clock.now(), policy=policy)
    resource = f"POST /api/v1/dossiers/{code}/transitions"
    entry = audit_entry(
        service="workflow", action="update", resource=resource, request=request, actor=actor, dossier_id=dossier.id,
        detail={"action": body.action},
    )  # fmt: skip
    record(session, entry)
    return await dossier_view(session, dossier, actor)


@router.get("/{code}/timeline", responses=problem_responses(401, 403, 404))
async def get_timeline(code: Code, session: SessionDep, actor: StaffActor) -> list[TimelineRow]:
    """The process control sheet: every hand-over with giver, receiver, units, step due time and outcome."""
    dossier = await dossier_for(session, code, actor)
    return await timeline(session, dossier)


PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "the form as PDF"}}


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.get(
    "/{code}/forms/control-sheet.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 503)},
)
async def control_sheet(
    code: Code, session: SessionDep, actor: StaffActor, clock: ClockDep, request: Request, offload: OffloadDep
) -> Response:
    """Mẫu 06: the process control sheet, printable (audited)."""
    dossier = await dossier_for(session, code, actor)
    record_printed(session, request, actor, dossier.id, "06")
    return _pdf(await printing.control_sheet_pdf(session, dossier, offload=offload, now=clock.now()), f"{code}-06.pdf")


@router.get(
    "/{code}/forms/apology.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def apology(
    code: Code, session: SessionDep, actor: StaffActor, clock: ClockDep, request: Request, offload: OffloadDep
) -> Response:
    """Mẫu 04: the apology and new appointment issued by the apologize action (audited)."""
    dossier = await dossier_for(session, code, actor)
    record_printed(session, request, actor, dossier.id, "04")
    return _pdf(await printing.apology_pdf(session, dossier, offload=offload, now=clock.now()), f"{code}-04.pdf")


@router.get(
    "/{code}/forms/stop.pdf", response_class=Response, responses={**PDF, **problem_responses(401, 403, 404, 409, 503)}
)
async def stop_notice(
    code: Code, session: SessionDep, actor: StaffActor, clock: ClockDep, request: Request, offload: OffloadDep
) -> Response:
    """Mẫu 05: the notice that the dossier's processing stopped, with the reasons (audited)."""
    dossier = await dossier_for(session, code, actor)
    record_printed(session, request, actor, dossier.id, "05")
    return _pdf(await printing.stop_pdf(session, dossier, offload=offload, now=clock.now()), f"{code}-05.pdf")
