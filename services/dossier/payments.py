"""Fees and taxes (nghĩa vụ tài chính) asked of the applicant: at the desk (intake_api) or by the step
that holds the dossier (workflow's engine). A request gives the payment a unique ``provider_reference``
(``MC-`` + 16 hex digits) the applicant pays against; the dossier waits in ``awaiting_payment`` with
its clock paused (reason ``payment``). The provider's report that ends the wait is intake's
(``services.intake.payments``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Actor
from services.core.errors import Unprocessable
from services.core.validation import StrictModel
from services.dossier.lifecycle import require_state
from services.dossier.notes import Note
from services.dossier.record import Source, announce, handover
from services.models import Dossier, Payment, ProcedureFee
from services.sla.clocks import pause


class PaymentRequestIn(StrictModel):
    amount_vnd: int | None = Field(
        default=None, strict=True, gt=0, le=10**13, description="defaults to the sum of the procedure's known fees"
    )
    description: str = Field(min_length=2, max_length=1000, description="what is to be paid (phí, lệ phí, thuế)")


class PaymentOut(BaseModel):
    dossier_code: str
    reference: str = Field(description="what the applicant pays against and the provider reports back")
    amount_vnd: int
    description: str
    status: str = Field(description="requested, paid or cancelled")
    requested_at: datetime
    paid_at: datetime | None


def payment_out(dossier: Dossier, payment: Payment) -> PaymentOut:
    assert payment.provider_reference is not None
    return PaymentOut(
        dossier_code=dossier.code,
        reference=payment.provider_reference,
        amount_vnd=payment.amount_vnd,
        description=payment.description,
        status=payment.status,
        requested_at=payment.requested_at,
        paid_at=payment.paid_at,
    )


def vnd(amount: int) -> str:
    """50000 → "50.000" (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


def new_reference() -> str:
    return f"MC-{uuid.uuid4().hex[:16].upper()}"


async def known_fees(session: AsyncSession, dossier: Dossier) -> int:
    """The fees of the dossier's procedure version that have an amount (the province sets the others)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(ProcedureFee.amount_vnd), 0)).where(
            ProcedureFee.version_id == dossier.procedure_version_id, ProcedureFee.amount_vnd.is_not(None)
        )
    )
    return int(total or 0)


async def request_payment(
    session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, data: PaymentRequestIn, source: Source
) -> Payment:
    """Ask the applicant to pay: the dossier waits for the payment and its clock pauses."""
    require_state(dossier, "received", "processing")
    amount = data.amount_vnd if data.amount_vnd is not None else await known_fees(session, dossier)
    if not amount:
        raise Unprocessable(
            "The procedure has no known fee; give amount_vnd.", code="amount_required", field="amount_vnd"
        )
    payment = Payment(
        dossier_id=dossier.id,
        amount_vnd=amount,
        description=data.description,
        status="requested",
        provider_reference=new_reference(),
        online=True,
        requested_at=now,
    )
    session.add(payment)
    await pause(session, dossier, reason="payment", note=data.description, at=now)
    dossier.status = "awaiting_payment"
    handover(
        session, dossier, action="request_payment", at=now, actor=actor, comment=data.description,
        public_note=Note(
            "payment_requested", f"Yêu cầu thực hiện nghĩa vụ tài chính: {vnd(amount)} đồng", {"amount_vnd": amount}
        ),
        detail={"reference": payment.provider_reference, "amount_vnd": amount},
    )  # fmt: skip
    await announce(
        session, dossier, "payment.requested", source=source, reference=payment.provider_reference, amount_vnd=amount
    )
    await session.flush()
    return payment
