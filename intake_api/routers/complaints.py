"""Complaints and suggestions (phản ánh, kiến nghị): sent by citizens, answered by staff."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status

from services.core.auth import Actor
from services.core.deps import ClockDep, OriginDep, SessionDep, require_roles
from services.core.errors import problem_responses
from services.core.throttle import PublicWrite, per_address
from services.domain.vocabulary import COMPLAINT_ROLES
from services.intake import complaints
from services.intake.complaints import (
    AnswerIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPublicOut,
    ComplaintRefusalIn,
    ComplaintStaffOut,
)

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])
ComplaintHandler = Annotated[Actor, Depends(require_roles(*COMPLAINT_ROLES))]
Code = Annotated[str, Path(max_length=32)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 429),
    dependencies=[per_address(PublicWrite.COMPLAINTS)],
)
async def create_complaint(body: ComplaintIn, session: SessionDep, clock: ClockDep) -> ComplaintOut:
    """Send a complaint or suggestion about an agency (and optionally one dossier)."""
    return await complaints.submit_complaint(session, body, now=clock.now())


@router.get("/{code}", responses=problem_responses(404))
async def public_complaint(code: Code, session: SessionDep) -> ComplaintPublicOut:
    """The state of a complaint by its code; the answer once it is published (no personal data)."""
    return await complaints.public_view(session, code)


@router.get("", responses=problem_responses(401, 403))
async def list_complaints(
    session: SessionDep,
    actor: ComplaintHandler,
    clock: ClockDep,
    origin: OriginDep,
    state: Annotated[
        Literal["received", "answered", "published", "refused"] | None, Query(alias="status")
    ] = "received",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ComplaintStaffOut]:
    """The agency's complaints, oldest deadline first, with their contacts (audited)."""
    return await complaints.agency_complaints(session, actor, state=state, limit=limit, origin=origin, now=clock.now())


@router.post("/{code}/answer", responses=problem_responses(401, 403, 404, 409, 422))
async def answer(
    code: Code, body: AnswerIn, session: SessionDep, actor: ComplaintHandler, clock: ClockDep
) -> ComplaintStaffOut:
    """Answer a complaint (and publish the answer unless ``publish`` is false)."""
    return await complaints.answer_complaint(session, code, body, actor=actor, now=clock.now())


@router.post("/{code}/refuse", responses=problem_responses(401, 403, 404, 409, 422))
async def refuse(
    code: Code, body: ComplaintRefusalIn, session: SessionDep, actor: ComplaintHandler, clock: ClockDep
) -> ComplaintStaffOut:
    """Decline to handle a complaint, with the reason (due within 2 working days of receipt)."""
    return await complaints.refuse_complaint(session, code, body, actor=actor, now=clock.now())
