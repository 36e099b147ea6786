"""Complaints and suggestions (phản ánh, kiến nghị): sent by citizens, answered by staff."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from sqlalchemy import select

from services.core.audit import audit_entry, record
from services.core.auth import Actor
from services.core.deps import ClockDep, SessionDep, require_roles
from services.core.errors import NotFound, problem_responses
from services.core.throttle import PublicWrite, per_address
from services.domain.vocabulary import COMPLAINT_ROLES, RoleCode
from services.intake.complaints import (
    AnswerIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPublicOut,
    ComplaintRefusalIn,
    ComplaintStaffOut,
    agency_complaint,
    answer_complaint,
    refuse_complaint,
    staff_view,
    submit_complaint,
)
from services.models import Complaint

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
    complaint = await submit_complaint(session, body, now=clock.now())
    return ComplaintOut(
        code=complaint.code, kind=complaint.kind, status=complaint.status, received_at=complaint.received_at
    )


@router.get("/{code}", responses=problem_responses(404))
async def public_complaint(code: Code, session: SessionDep) -> ComplaintPublicOut:
    """The state of a complaint by its code; the answer once it is published (no personal data)."""
    complaint = await session.scalar(select(Complaint).where(Complaint.code == code))
    if complaint is None:
        raise NotFound("No complaint with that code.", code="complaint_not_found")
    published = complaint.status == "published"
    return ComplaintPublicOut(
        code=complaint.code,
        kind=complaint.kind,
        status=complaint.status,
        subject=complaint.subject,
        received_at=complaint.received_at,
        answer_due_at=complaint.answer_due_at,
        answer=complaint.answer if published else None,
        answered_at=complaint.answered_at if published else None,
    )


@router.get("", responses=problem_responses(401, 403))
async def list_complaints(
    session: SessionDep,
    actor: ComplaintHandler,
    clock: ClockDep,
    request: Request,
    state: Annotated[
        Literal["received", "answered", "published", "refused"] | None, Query(alias="status")
    ] = "received",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ComplaintStaffOut]:
    """The agency's complaints, oldest deadline first, with their contacts (audited)."""
    query = select(Complaint).order_by(Complaint.answer_due_at, Complaint.received_at).limit(limit)
    if not actor.has_any(RoleCode.ADMIN):
        query = query.where(Complaint.agency_id == actor.agency_id)
    if state is not None:
        query = query.where(Complaint.status == state)
    rows = (await session.scalars(query)).all()
    entry = audit_entry(
        service="intake",
        action="read",
        resource="GET /api/v1/complaints",
        request=request,
        actor=actor,
        detail={"count": len(rows)},
    )
    record(session, entry)
    now = clock.now()
    return [await staff_view(session, row, now) for row in rows]


@router.post("/{code}/answer", responses=problem_responses(401, 403, 404, 409, 422))
async def answer(
    code: Code, body: AnswerIn, session: SessionDep, actor: ComplaintHandler, clock: ClockDep
) -> ComplaintStaffOut:
    """Answer a complaint (and publish the answer unless ``publish`` is false)."""
    complaint = await agency_complaint(session, code, actor.agency_id, admin=actor.has_any(RoleCode.ADMIN))
    now = clock.now()
    await answer_complaint(session, complaint, body, staff_id=actor.staff_id, now=now)
    return await staff_view(session, complaint, now)


@router.post("/{code}/refuse", responses=problem_responses(401, 403, 404, 409, 422))
async def refuse(
    code: Code, body: ComplaintRefusalIn, session: SessionDep, actor: ComplaintHandler, clock: ClockDep
) -> ComplaintStaffOut:
    """Decline to handle a complaint, with the reason (due within 2 working days of receipt)."""
    complaint = await agency_complaint(session, code, actor.agency_id, admin=actor.has_any(RoleCode.ADMIN))
    now = clock.now()
    await refuse_complaint(session, complaint, body, staff_id=actor.staff_id, now=now)
    return await staff_view(session, complaint, now)
