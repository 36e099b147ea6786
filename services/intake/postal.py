"""Public post (bưu chính công ích): what the postal operator reports by signed webhook, and the desk's
request to deliver a returned result again.

Every event is ``{"type": ..., "data": {"dossier_code", "tracking_number", "occurred_at", ...}}``;
``occurred_at`` (ISO 8601 with its offset) is the business instant, never our clock. A shipment is
one tracking number: ``inbound`` (the dossier, collected at the applicant's home, channel 3) or
``outbound`` (the result, delivered to the applicant). A re-delivery is a new outbound shipment.

The shipment state machine (the events, the states each may come from, what a late or impossible
report does) is ``services.intake.postal_shipments``; this module applies the events to the shipment
and the dossier.

The dossier around it:

- ``pickup.handed_over`` is the receipt of a postal dossier: its legal clock starts there by the
  counter rules (cut-off, closed days). ``pickup.cancelled`` leaves the dossier ``submitted`` and
  never received: no clock ever started; the applicant may still bring it to the counter.
- A failed delivery attempt leaves the dossier ``resolved``; the applicant is told (with the
  operator's reason code, ``final_attempt`` saying it was the operator's last one).
- ``result.returned_to_sender``: the result is back at the receiving desk and waits there. The
  dossier stays ``resolved`` and its ``return_method`` becomes ``counter`` — which is what the
  desk now does: the counter officer hands it over with ``return_result`` like any result waiting
  at the desk, or asks the operator to deliver it again (:func:`request_redelivery`: the
  ``return_method`` is ``postal`` again and notify_api books a new delivery). workflow_api and
  notify_api are told by a ``dossier.postal_returned`` event; the applicant gets a message.
- ``result.delivered``: the dossier is ``returned``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.calendar.working import VN_TZ
from services.core.auth import Actor
from services.core.errors import Conflict, Unprocessable
from services.dossier.lifecycle import receive, require_state
from services.dossier.notes import Note, fixed
from services.dossier.postal import failure_label, returned_shipment
from services.dossier.record import announce, handover
from services.intake.postal_shipments import (
    MOVES,
    BookingData,
    Direction,
    FailureData,
    PostalEventData,
    ReasonData,
    RescheduleData,
    judge,
    judge_attempt,
)
from services.intake.webhooks import Handler, Inbound, business_instant, parse_data
from services.models import Dossier, PostalShipment
from services.sla.clocks import WarningPolicy

# --- reading and recording --------------------------------------------------------------------------------


async def _dossier(session: AsyncSession, code: str) -> Dossier:
    dossier = await session.scalar(select(Dossier).where(Dossier.code == code).with_for_update(key_share=True))
    if dossier is None:
        raise Unprocessable("No dossier with that code.", code="dossier_not_found", field="dossier_code")
    return dossier


def _not_before(at: datetime, earlier: datetime | None, what: str) -> None:
    if earlier is not None and at < earlier:
        raise Unprocessable(f"occurred_at is before the dossier was {what}.", code="instant_out_of_order")


async def _shipment(
    session: AsyncSession, dossier: Dossier, data: PostalEventData, direction: Direction
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


def _record(
    session: AsyncSession,
    dossier: Dossier,
    shipment: PostalShipment | None,
    data: PostalEventData,
    *,
    direction: Direction,
    status: str,
    handed_over_at: datetime | None = None,
) -> PostalShipment:
    if shipment is None:
        shipment = PostalShipment(
            dossier_id=dossier.id, direction=direction, tracking_number=data.tracking_number, failed_attempts=0
        )
        session.add(shipment)
    shipment.status = status
    if handed_over_at is not None:
        shipment.handed_over_at = handed_over_at
    return shipment


def _trace(inbound: Inbound, data: PostalEventData, **extra: object) -> dict[str, object]:
    """The line's ``detail``: which report wrote it. The event type is kept here, not as the line's
    ``comment`` — a comment is what a person typed, and the staff sheet shows it instead of the note."""
    return {"event": inbound.type, "tracking_number": data.tracking_number, "webhook_id": inbound.webhook_id, **extra}


def _inbound_dossier_check(dossier: Dossier) -> None:
    if dossier.channel != Channel.POSTAL:
        raise Unprocessable(
            "This dossier was not filed for collection by post.", code="not_postal_pickup", field="dossier_code"
        )


def _outbound_dossier_check(dossier: Dossier, shipment: PostalShipment | None) -> None:
    # a known shipment is judged by its own state: after a return the result is at the desk (counter)
    if shipment is None and dossier.return_method != "postal":
        raise Unprocessable(
            "This dossier's result is not returned by post.", code="not_postal_return", field="dossier_code"
        )


# --- the operator's booking reply -------------------------------------------------------------------------


def _booked(direction: Direction) -> Handler:
    async def handle(session: AsyncSession, inbound: Inbound) -> str:
        data = parse_data(BookingData, inbound)
        at = business_instant(data.occurred_at, inbound, field="occurred_at")
        dossier = await _dossier(session, data.dossier_code)
        shipment = await _shipment(session, dossier, data, direction)
        if direction == "inbound":
            _inbound_dossier_check(dossier)
        else:
            _outbound_dossier_check(dossier, shipment)
        if shipment is not None and shipment.operator_reference is not None:
            if shipment.operator_reference == data.operator_reference and shipment.fee_vnd == data.fee_vnd:
                return "already_applied"
            raise Conflict(
                "This shipment is booked under another reference or fee.", code="booking_conflict",
                operator_reference=shipment.operator_reference,
            )  # fmt: skip
        if shipment is None:  # a new booking: of a dossier still to collect, or of a result ready to go
            require_state(dossier, "submitted" if direction == "inbound" else "resolved")
            _not_before(at, dossier.submitted_at if direction == "inbound" else dossier.resolved_at, "filed")
            shipment = _record(session, dossier, None, data, direction=direction, status="booked")
        shipment.operator_reference = data.operator_reference
        shipment.fee_vnd = data.fee_vnd
        shipment.booked_at = at
        handover(
            session, dossier, action="postal_booked", at=at,
            detail=_trace(inbound, data, operator_reference=data.operator_reference, fee_vnd=data.fee_vnd),
        )  # fmt: skip
        return "applied"

    return handle


# --- collecting the dossier (inbound) -----------------------------------------------------------------------


def _pickup(event: str, note: Note) -> Handler:
    async def handle(session: AsyncSession, inbound: Inbound) -> str:
        data = parse_data(PostalEventData, inbound)
        at = business_instant(data.occurred_at, inbound, field="occurred_at")
        dossier = await _dossier(session, data.dossier_code)
        _inbound_dossier_check(dossier)
        shipment = await _shipment(session, dossier, data, "inbound")
        if not judge(event, shipment):
            return "already_applied"
        _not_before(at, dossier.submitted_at, "submitted")
        _record(session, dossier, shipment, data, direction="inbound", status=MOVES[event].to)
        handover(
            session, dossier, action=f"postal_pickup_{MOVES[event].to}", at=at,
            public_note=note, detail=_trace(inbound, data),
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
    if dossier.received_at is not None or not judge("pickup.handed_over", shipment):
        return "already_applied"
    require_state(dossier, "submitted")
    _not_before(at, dossier.submitted_at, "submitted")
    _record(session, dossier, shipment, data, direction="inbound", status="handed_over", handed_over_at=at)
    await receive(
        session,
        dossier,
        at=at,
        channel=Channel.POSTAL,
        policy=WarningPolicy(inbound.settings.sla.warning_seconds),
        actor=None,
        by_post=True,
        source="intake",
    )
    return "applied"


async def pickup_cancelled(session: AsyncSession, inbound: Inbound) -> str:
    """The pickup at home was cancelled (by the applicant or the operator): nothing is received."""
    data = parse_data(ReasonData, inbound)
    at = business_instant(data.occurred_at, inbound, field="occurred_at")
    dossier = await _dossier(session, data.dossier_code)
    _inbound_dossier_check(dossier)
    shipment = await _shipment(session, dossier, data, "inbound")
    if not judge("pickup.cancelled", shipment):
        return "already_applied"
    require_state(dossier, "submitted")  # received, or withdrawn or refused meanwhile: too late to cancel
    _not_before(at, dossier.submitted_at, "submitted")
    _record(session, dossier, shipment, data, direction="inbound", status="cancelled")
    handover(
        session, dossier, action="postal_pickup_cancelled", at=at,
        public_note=fixed("postal_pickup_cancelled"),
        detail=_trace(inbound, data, reason_code=data.reason_code),
    )  # fmt: skip
    await announce(
        session, dossier, "dossier.pickup_cancelled", source="intake", tracking_number=data.tracking_number,
        reason_code=data.reason_code, cancelled_at=at.isoformat(),
    )  # fmt: skip
    return "applied"


# --- delivering the result (outbound) -----------------------------------------------------------------------


async def _outbound(
    session: AsyncSession, inbound: Inbound, data: PostalEventData
) -> tuple[datetime, Dossier, PostalShipment | None]:
    at = business_instant(data.occurred_at, inbound, field="occurred_at")
    dossier = await _dossier(session, data.dossier_code)
    shipment = await _shipment(session, dossier, data, "outbound")
    _outbound_dossier_check(dossier, shipment)
    return at, dossier, shipment


async def result_picked_up(session: AsyncSession, inbound: Inbound) -> str:
    """The operator took the result from the one-stop desk for delivery."""
    data = parse_data(PostalEventData, inbound)
    at, dossier, shipment = await _outbound(session, inbound, data)
    if not judge("result.picked_up", shipment):
        return "already_applied"
    require_state(dossier, "resolved")
    _not_before(at, dossier.resolved_at, "resolved")
    _record(session, dossier, shipment, data, direction="outbound", status="picked_up")
    handover(
        session, dossier, action="postal_result_picked_up", at=at,
        public_note=fixed("postal_result_picked_up"), detail=_trace(inbound, data),
    )  # fmt: skip
    return "applied"


async def delivery_failed(session: AsyncSession, inbound: Inbound) -> str:
    """An attempt to deliver the result failed: the dossier stays resolved and the applicant is told."""
    data = parse_data(FailureData, inbound)
    at, dossier, shipment = await _outbound(session, inbound, data)
    if not judge_attempt("result.delivery_failed", shipment, data.attempt):
        return "already_applied"
    require_state(dossier, "resolved")
    _not_before(at, dossier.resolved_at, "resolved")
    shipment = _record(session, dossier, shipment, data, direction="outbound", status="delivery_failed")
    shipment.failed_attempts = data.attempt
    shipment.failure_code = data.reason_code
    shipment.redelivery_at = None
    then = (
        " Bưu điện sẽ chuyển trả kết quả về Bộ phận Tiếp nhận và Trả kết quả."
        if data.final_attempt
        else " Bưu điện sẽ liên hệ để giao lại."
    )
    note = Note(
        "postal_delivery_failed_final" if data.final_attempt else "postal_delivery_failed",
        f"Bưu điện giao kết quả không thành công (lần {data.attempt}): {failure_label(data.reason_code)}." + then,
        {"attempt": data.attempt, "reason_code": data.reason_code},
    )
    handover(
        session, dossier, action="postal_delivery_failed", at=at,
        public_note=note,
        detail=_trace(inbound, data, attempt=data.attempt, reason_code=data.reason_code, final=data.final_attempt),
    )  # fmt: skip
    await announce(
        session, dossier, "dossier.delivery_failed", source="intake", tracking_number=data.tracking_number,
        attempt=data.attempt, reason_code=data.reason_code, final_attempt=data.final_attempt, failed_at=at.isoformat(),
    )  # fmt: skip
    return "applied"


async def redelivery_scheduled(session: AsyncSession, inbound: Inbound) -> str:
    """The operator will try again (attempt ``n``, at ``scheduled_for`` when it says)."""
    data = parse_data(RescheduleData, inbound)
    at, dossier, shipment = await _outbound(session, inbound, data)
    if not judge_attempt("result.redelivery_scheduled", shipment, data.attempt):
        return "already_applied"
    require_state(dossier, "resolved")
    shipment = _record(session, dossier, shipment, data, direction="outbound", status="redelivery_scheduled")
    shipment.redelivery_at = data.scheduled_for
    sentence = f"Bưu điện hẹn giao lại kết quả (lần {data.attempt})"
    if data.scheduled_for is not None:
        on = data.scheduled_for.astimezone(VN_TZ)
        note = Note(
            "postal_redelivery_scheduled",
            f"{sentence} vào ngày {on:%d/%m/%Y}.",
            {"attempt": data.attempt, "scheduled_for": on.isoformat()},
        )
    else:
        note = Note("postal_redelivery_scheduled_undated", f"{sentence}.", {"attempt": data.attempt})
    handover(
        session, dossier, action="postal_redelivery_scheduled", at=at,
        public_note=note,
        detail=_trace(inbound, data, attempt=data.attempt),
    )  # fmt: skip
    return "applied"


async def returned_to_sender(session: AsyncSession, inbound: Inbound) -> str:
    """The result came back to the desk: it waits there to be handed over or delivered again."""
    data = parse_data(PostalEventData, inbound)
    at, dossier, shipment = await _outbound(session, inbound, data)
    if not judge("result.returned_to_sender", shipment):
        return "already_applied"
    require_state(dossier, "resolved")
    _not_before(at, dossier.resolved_at, "resolved")
    shipment = _record(session, dossier, shipment, data, direction="outbound", status="returned", handed_over_at=at)
    dossier.return_method = "counter"
    handover(
        session, dossier, action="postal_returned", at=at,
        public_note=fixed("postal_returned"),
        detail=_trace(inbound, data, failed_attempts=shipment.failed_attempts),
    )  # fmt: skip
    await announce(
        session, dossier, "dossier.postal_returned", source="intake", tracking_number=data.tracking_number,
        failed_attempts=shipment.failed_attempts, reason_code=shipment.failure_code, postal_returned_at=at.isoformat(),
    )  # fmt: skip
    return "applied"


async def result_delivered(session: AsyncSession, inbound: Inbound) -> str:
    """The result reached the applicant: the dossier is returned (đã trả kết quả)."""
    data = parse_data(PostalEventData, inbound)
    at, dossier, shipment = await _outbound(session, inbound, data)
    if dossier.status == "returned" and shipment is None:
        return "already_applied"  # returned meanwhile (another report of the same delivery)
    if not judge("result.delivered", shipment):
        return "already_applied"
    require_state(dossier, "resolved")
    _not_before(at, dossier.resolved_at, "resolved")
    _record(session, dossier, shipment, data, direction="outbound", status="delivered", handed_over_at=at)
    dossier.status = "returned"
    dossier.returned_at = at
    dossier.closed_at = at
    handover(
        session, dossier, action="return", at=at,
        public_note=fixed("returned_by_post"),
        detail=_trace(inbound, data, return_method="postal"),
    )  # fmt: skip
    await announce(
        session,
        dossier,
        "dossier.returned",
        source="intake",
        returned_at=at.isoformat(),
        return_method="postal",
        tracking_number=data.tracking_number,
    )
    return "applied"


HANDLERS: dict[str, Handler] = {
    "pickup.booked": _booked("inbound"),
    "pickup.requested": _pickup("pickup.requested", fixed("postal_pickup_requested")),
    "pickup.picked_up": _pickup("pickup.picked_up", fixed("postal_picked_up")),
    "pickup.handed_over": handed_over,
    "pickup.cancelled": pickup_cancelled,
    "result.booked": _booked("outbound"),
    "result.picked_up": result_picked_up,
    "result.delivery_failed": delivery_failed,
    "result.redelivery_scheduled": redelivery_scheduled,
    "result.returned_to_sender": returned_to_sender,
    "result.delivered": result_delivered,
}


# --- the desk asks for a new delivery -------------------------------------------------------------------------


async def request_redelivery(
    session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, comment: str | None
) -> None:
    """The counter officer asks the operator to deliver a returned result again: a new outbound booking
    (notify_api sends the operator a new ``postal.delivery_requested``)."""
    require_state(dossier, "resolved")
    previous = await returned_shipment(session, dossier)
    if previous is None:
        raise Conflict("The post has not returned this dossier's result to the desk.", code="no_postal_return")
    if not dossier.postal_address:
        raise Conflict("The dossier has no delivery address.", code="no_postal_address")
    dossier.return_method = "postal"
    handover(
        session, dossier, action="postal_redelivery_requested", at=now, actor=actor, comment=comment,
        public_note=fixed("postal_redelivery_requested"),
        detail={"previous_tracking_number": previous.tracking_number},
    )  # fmt: skip
    await announce(
        session, dossier, "dossier.redelivery_requested", source="intake", return_method="postal",
        previous_tracking_number=previous.tracking_number, requested_at=now.isoformat(),
    )  # fmt: skip
