"""Complaints and suggestions from citizens (public)."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.core.deps import SessionDep
from services.core.errors import problem_responses
from services.intake.complaints import ComplaintIn, ComplaintOut, submit_complaint

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(404, 413))
async def create_complaint(body: ComplaintIn, session: SessionDep) -> ComplaintOut:
    """Send a complaint or suggestion about an agency (and optionally one dossier)."""
    complaint = await submit_complaint(session, body)
    return ComplaintOut(
        code=complaint.code, kind=complaint.kind, status=complaint.status, received_at=complaint.received_at
    )
