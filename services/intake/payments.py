"""Fees and taxes (nghĩa vụ tài chính): the desk's payment request and the provider's report.

A request gives the payment a unique ``provider_reference`` (``MC-`` + 16 hex digits): the
applicant pays against it and the payment provider reports it back by signed webhook. While the
dossier is ``awaiting_payment`` its clock is paused (reason ``payment``); the paid report resumes
it with the paused working time added back (never a restart) and the dossier goes back to
``processing``.

Provider events: ``payment.succeeded`` ``{"reference", "amount_vnd", "paid_at"}`` and
``payment.failed`` ``{"reference", "reason"?, "failed_at"?}`` (a hand-over line for the desk, no
state change). A payment already paid answers ``already_paid`` and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.core.auth import Actor
from services.core.errors import Conflict, Unprocessable
from services.core.validation import AwareIsoDateTime, StrictModel
from services.intake.dossiers import _require_state, announce, handover
from services.intake.notes import Note, fixed
from services.intake.webhooks import Handler, Inbound, business_instant, parse_data
from services.models import Dossier, Payment, ProcedureFee
from services.sla.clocks import WarningPolicy, pause, resume


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
    session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, data: PaymentRequestIn
) -> Payment:
    """Ask the applicant to pay: the dossier waits for the payment and its clock pauses."""
    _require_state(dossier, "received", "processing")
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
    await announce(session, dossier, "payment.requested", reference=payment.provider_reference, amount_vnd=amount)
    await session.flush()
    return payment


# --- the provider's reports -------------------------------------------------------------------------


class PaymentSucceededData(BaseModel):
    """A signed report from the payment provider: its types are strict, but fields it adds later are
    ignored (kept in the stored receipt), so a paid fee is never refused for a new field."""

    model_config = ConfigDict(extra="ignore")

    reference: str = Field(min_length=1, max_length=200)
    amount_vnd: int = Field(strict=True, ge=0)
    paid_at: AwareIsoDateTime


class PaymentFailedData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reference: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=1000)
    failed_at: AwareIsoDateTime | None = None


async def _locked(session: AsyncSession, reference: str) -> tuple[Dossier, Payment]:
    """The payment and its dossier, locked dossier first (the order the desk's request takes)."""
    dossier_id = await session.scalar(select(Payment.dossier_id).where(Payment.provider_reference == reference))
    if dossier_id is None:
        raise Unprocessable("No payment with that reference.", code="payment_not_found", field="reference")
    dossier = await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    payment = await session.scalar(
        select(Payment)
        .where(Payment.provider_reference == reference)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert dossier is not None
    assert payment is not None
    return dossier, payment


async def succeeded(session: AsyncSession, inbound: Inbound) -> str:
    """Paid: the payment is settled, the clock resumes and the dossier goes back to processing."""
    data = parse_data(PaymentSucceededData, inbound)
    paid_at = business_instant(data.paid_at, inbound, field="paid_at")
    dossier, payment = await _locked(session, data.reference)
    if payment.status == "paid":
        return "already_paid"
    if payment.status != "requested":
        raise Conflict(f"This payment is {payment.status}.", code="payment_not_open", status_now=payment.status)
    if data.amount_vnd != payment.amount_vnd:
        raise Unprocessable(
            "The amount paid is not the amount requested.",
            code="amount_mismatch",
            field="amount_vnd",
            expected_amount_vnd=payment.amount_vnd,
        )
    payment.status, payment.paid_at = "paid", paid_at
    dossier.paid_online = True
    if dossier.status == "awaiting_payment":
        # a provider clock a little behind ours must not resume the clock before it was paused
        resume_at = max(paid_at, payment.requested_at)
        calendar = await calendar_for(session, dossier.receiving_agency_id)
        policy = WarningPolicy(inbound.settings.sla.warning_seconds)
        await resume(session, dossier, calendar=calendar, policy=policy, at=resume_at, restart=False)
        dossier.status = "processing"
    handover(
        session, dossier, action="payment", at=paid_at, comment=payment.description,
        public_note=fixed("paid"),
        detail={"reference": data.reference, "amount_vnd": payment.amount_vnd, "webhook_id": inbound.webhook_id},
    )  # fmt: skip
    await announce(
        session,
        dossier,
        "payment.paid",
        reference=data.reference,
        amount_vnd=payment.amount_vnd,
        paid_at=paid_at.isoformat(),
    )
    await session.flush()
    return "applied"


async def failed(session: AsyncSession, inbound: Inbound) -> str:
    """A failed attempt: noted on the process control sheet for the desk; the request stays open."""
    data = parse_data(PaymentFailedData, inbound)
    at = business_instant(data.failed_at, inbound, field="failed_at") if data.failed_at else inbound.now
    dossier, payment = await _locked(session, data.reference)
    if payment.status == "paid":
        return "already_paid"
    handover(
        session, dossier, action="payment_failed", at=at, comment=data.reason,
        detail={"reference": data.reference, "webhook_id": inbound.webhook_id},
    )  # fmt: skip
    return "applied"


HANDLERS: dict[str, Handler] = {"payment.succeeded": succeeded, "payment.failed": failed}
