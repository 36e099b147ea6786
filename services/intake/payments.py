"""Fees and taxes (nghĩa vụ tài chính): the provider's report on a payment the desk or the step asked
for (the request itself: ``services.dossier.payments``).

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

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.core.errors import Conflict, Unprocessable
from services.core.validation import AwareIsoDateTime
from services.dossier.notes import fixed
from services.dossier.record import announce, handover
from services.intake.webhooks import Handler, Inbound, business_instant, parse_data
from services.models import Dossier, Payment
from services.sla.clocks import WarningPolicy, resume

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
    dossier = await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update(key_share=True))
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
        source="intake",
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
