"""Fees and taxes the desk asks the applicant to pay (nghĩa vụ tài chính)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from services.core.auth import Actor
from services.core.deps import ClockDep, SessionDep, require_roles
from services.core.errors import problem_responses
from services.domain.vocabulary import PAYMENT_ROLES
from services.dossier import payments
from services.intake import checkout

router = APIRouter(prefix="/api/v1", tags=["payments"])
PaymentStaff = Annotated[Actor, Depends(require_roles(*PAYMENT_ROLES))]


@router.post(
    "/dossiers/{code}/payments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def request_payment(
    code: Annotated[str, Path(max_length=64)],
    body: payments.PaymentRequestIn,
    session: SessionDep,
    clock: ClockDep,
    actor: PaymentStaff,
) -> payments.PaymentOut:
    """Ask the applicant to pay (default: the procedure's known fees); the dossier waits and its clock pauses."""
    return await checkout.ask(session, code, actor, body, now=clock.now())
