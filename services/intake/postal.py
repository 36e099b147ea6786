"""Public post (bưu chính công ích): what the postal operator reports by signed webhook.

Every event is ``{"type": ..., "data": {"dossier_code", "tracking_number", "occurred_at", ...}}``;
``occurred_at`` (ISO 8601 with its offset) is the business instant, never our clock.

- ``pickup.requested`` / ``pickup.picked_up``: the operator collects a dossier filed with
  ``pickup_by_post`` (channel 3) at the applicant's home: an inbound shipment and a hand-over line.
- ``pickup.handed_over``: the signed hand-over at the agency is the receipt of a postal dossier: its
  legal clock starts there by the counter rules (cut-off, closed days).
- ``result.picked_up``: the operator takes the result of a ``resolved`` dossier whose return method
  is postal: an outbound shipment.
- ``result.delivered``: the result reached the applicant: the dossier is ``returned``.

Shipments only move forward (requested → picked up → handed over; picked up → delivered), so a
late or replayed event under a new ``webhook-id`` is ``already_applied`` and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.core.errors import Unprocessable
from services.core.validation import AwareIsoDateTime
from services.intake.dossiers import _require_state, announce, handover, receive
from services.intake.webhooks import Handler, Inbound, business_instant, parse_data
from services.models import Dossier, PostalShipment
from services.sla.clocks import WarningPolicy

INBOUND = ("requested", "picked_up", "handed_over")
OUTBOUND = ("picked_up", "delivered")


class PostalEventData(BaseModel):
    """The ``data`` of every postal event (other fields the operator sends are kept in the receipt only)."""

    model_config = ConfigDict(extra="ignore")

    dossier_code: str = Field(min_length=1, max_length=64)
    tracking_number: str = Field(min_length=1, max_length=64)
    occurred_at: AwareIsoDateTime


async def _dossier(session: AsyncSession, code: str) -> Dossier:
    dossier = await session.scalar(select(Dossier).where(Dossier.code == code).with_for_update())
    if dossier is None:
        raise Unprocessable("No dossier with that code.", code="dossier_not_found", field="dossier_code")
    return dossier


def _not_before(at: datetime, earlier: datetime | None, what: str) -> None:
    if earlier is not None and at < earlier:
        raise Unprocessable(f"occurred_at is before the dossier was {what}.", code="instant_out_of_order")


async def _shipment(
    session: AsyncSession, dossier: Dossier, data: PostalEventData, direction: str
) -> PostalShipment | None:
    shipment = await session.scalar(
        select(PostalShipment).where(PostalShipment.tracking_number == data.tracking_number).with_for_update()
    )
    if shipment is not None and (shipment.dossier_id != dossier.id or shipment.direction != direction):
        raise Unprocessable(
            "This tracking number belongs to another shipment.",
            code="tracking_number_conflict",
            field="tracking_number",
        )
    return shipment


def _is_news(shipment: PostalShipment | None, status: str, order: tuple[str, ...]) -> bool:
    return shipment is None or order.index(shipment.status) < order.index(status)


def _record(
    session: AsyncSession,
    dossier: Dossier,
    shipment: PostalShipment | None,
    data: PostalEventData,
    *,
    direction: str,
    status: str,
    handed_over_at: datetime | None = None,
) -> None:
    if shipment is None:
        shipment = PostalShipment(dossier_id=dossier.id, direction=direction, tracking_number=data.tracking_number)
        session.add(shipment)
    shipment.status = status
    if handed_over_at is not None:
        shipment.handed_over_at = handed_over_at


def _inbound_dossier_check(dossier: Dossier) -> None:
    if dossier.channel != Channel.POSTAL:
        raise Unprocessable(
            "This dossier was not filed for collection by post.", code="not_postal_pickup", field="dossier_code"
        )


def _pickup(status: str, note: str) -> Handler:
    async def handle(session: AsyncSession, inbound: Inbound) -> str:
        data = parse_data(PostalEventData, inbound)
        at = business_instant(data.occurred_at, inbound, field="occurred_at")
        dossier = await _dossier(session, data.dossier_code)
        _inbound_dossier_check(dossier)
        shipment = await _shipment(session, dossier, data, "inbound")
        if not _is_news(shipment, status, INBOUND):
            return "already_applied"
        _not_before(at, dossier.submitted_at, "submitted")
        _record(session, dossier, shipment, data, direction="inbound", status=status)
        handover(
            session, dossier, action=f"postal_pickup_{status}", at=at, comment=inbound.type, public_note=note,
            detail={"tracking_number": data.tracking_number, "webhook_id": inbound.webhook_id},
        )  # fmt: skip
        return "applied"

    return handle


async def handed_over(session: AsyncSession, inbound: Inbound) -> str:
    """The signed hand-over at the agency: the postal dossier is received and its clock starts."""
    data = parse_data(PostalEventData, inbound)
    at = business_instant(data.occurred_at, inbound, field="occurred_at")
    dossier = await _dossier(session, data.dossier_code)
    _inbound_dossier_check(dossier)
    shipment = await _shipment(session, dossier, data, "inbound")
    if dossier.received_at is not None:
        return "already_applied"
    _require_state(dossier, "submitted")
    _not_before(at, dossier.submitted_at, "submitted")
    _record(session, dossier, shipment, data, direction="inbound", status="handed_over", handed_over_at=at)
    await receive(
        session,
        dossier,
        at=at,
        channel=Channel.POSTAL,
        policy=WarningPolicy(inbound.settings.sla_warning_seconds),
        actor=None,
        comment="Bưu điện bàn giao",
    )
    return "applied"


def _outbound_dossier_check(dossier: Dossier) -> None:
    if dossier.return_method != "postal":
        raise Unprocessable(
            "This dossier's result is not returned by post.", code="not_postal_return", field="dossier_code"
        )


async def result_picked_up(session: AsyncSession, inbound: Inbound) -> str:
    """The operator took the result from the one-stop desk for delivery."""
    data = parse_data(PostalEventData, inbound)
    at = business_instant(data.occurred_at, inbound, field="occurred_at")
    dossier = await _dossier(session, data.dossier_code)
    _outbound_dossier_check(dossier)
    shipment = await _shipment(session, dossier, data, "outbound")
    if not _is_news(shipment, "picked_up", OUTBOUND):
        return "already_applied"
    _require_state(dossier, "resolved")
    _not_before(at, dossier.resolved_at, "resolved")
    _record(session, dossier, shipment, data, direction="outbound", status="picked_up")
    handover(
        session, dossier, action="postal_result_picked_up", at=at, comment=inbound.type,
        public_note="Bưu điện đã nhận kết quả để chuyển trả.",
        detail={"tracking_number": data.tracking_number, "webhook_id": inbound.webhook_id},
    )  # fmt: skip
    return "applied"


async def result_delivered(session: AsyncSession, inbound: Inbound) -> str:
    """The result reached the applicant: the dossier is returned (đã trả kết quả)."""
    data = parse_data(PostalEventData, inbound)
    at = business_instant(data.occurred_at, inbound, field="occurred_at")
    dossier = await _dossier(session, data.dossier_code)
    _outbound_dossier_check(dossier)
    shipment = await _shipment(session, dossier, data, "outbound")
    if dossier.status == "returned":
        return "already_applied"
    _require_state(dossier, "resolved")
    _not_before(at, dossier.resolved_at, "resolved")
    _record(session, dossier, shipment, data, direction="outbound", status="delivered", handed_over_at=at)
    dossier.status = "returned"
    dossier.returned_at = at
    dossier.closed_at = at
    handover(
        session, dossier, action="return", at=at, comment=inbound.type,
        public_note="Đã trả kết quả qua bưu chính.",
        detail={"tracking_number": data.tracking_number, "webhook_id": inbound.webhook_id, "return_method": "postal"},
    )  # fmt: skip
    await announce(
        session,
        dossier,
        "dossier.returned",
        returned_at=at.isoformat(),
        return_method="postal",
        tracking_number=data.tracking_number,
    )
    return "applied"


HANDLERS: dict[str, Handler] = {
    "pickup.requested": _pickup("requested", "Bưu điện đã nhận yêu cầu đến nhận hồ sơ tại nhà."),
    "pickup.picked_up": _pickup("picked_up", "Bưu điện đã nhận hồ sơ tại nhà."),
    "pickup.handed_over": handed_over,
    "result.picked_up": result_picked_up,
    "result.delivered": result_delivered,
}
