"""Public post: the shipment state machine and the events' data — pure, no database.

The shipment state machine (``—`` is "no shipment with this tracking number yet"):

=============================  ==========================================  ===========================
event                          allowed from                                to
=============================  ==========================================  ===========================
``pickup.booked``              —                                           booked (+ reference, fee)
``pickup.requested``           —, booked                                   requested
``pickup.picked_up``           —, booked, requested                        picked_up
``pickup.handed_over``         —, booked, requested, picked_up             handed_over (received)
``pickup.cancelled``           —, booked, requested                        cancelled
``result.booked``              —                                           booked (+ reference, fee)
``result.picked_up``           —, booked                                   picked_up
``result.delivery_failed`` n   picked_up, delivery_failed, redelivery_     delivery_failed (attempt n)
                               scheduled (n above the attempts so far)
``result.redelivery_           delivery_failed (n = attempts so far + 1)   redelivery_scheduled
scheduled`` n
``result.delivered``           —, booked, picked_up, delivery_failed,      delivered (dossier returned)
                               redelivery_scheduled
``result.returned_to_sender``  picked_up, delivery_failed,                 returned (result at desk)
                               redelivery_scheduled
=============================  ==========================================  ===========================

A booking reply on a shipment that exists already only records the operator's reference and fee
(the same reference again is ``already_applied``; another one a 409 ``booking_conflict``). An event
the shipment is already past — a report of an earlier step, a failure whose attempt number is not
above the attempts counted, a replay of the current state — is ``already_applied`` and changes
nothing. Any other event outside the table (a delivery after the return, a failure before the
pickup, a pickup after the cancellation) is a 409 ``shipment_transition_invalid`` naming the
shipment's state: nothing is changed, the receipt is kept as ``rejected``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.core.errors import Conflict
from services.core.validation import AwareIsoDateTime
from services.models import PostalShipment

Direction = Literal["inbound", "outbound"]
INBOUND_STATES = ("booked", "requested", "picked_up", "handed_over", "cancelled")
OUTBOUND_STATES = ("booked", "picked_up", "delivery_failed", "redelivery_scheduled", "delivered", "returned")
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class PostalEventData(BaseModel):
    """The ``data`` of every postal event (other fields the operator sends are kept in the receipt only)."""

    model_config = ConfigDict(extra="ignore")

    dossier_code: str = Field(min_length=1, max_length=64)
    tracking_number: str = Field(min_length=1, max_length=64)
    occurred_at: AwareIsoDateTime


class BookingData(PostalEventData):
    """``pickup.booked`` / ``result.booked``: the operator's reply to our request."""

    operator_reference: str = Field(min_length=1, max_length=64, description="the operator's own booking code")
    fee_vnd: int = Field(ge=0, le=100_000_000, strict=True, description="the operator's fee, in đồng")


class ReasonData(PostalEventData):
    """``pickup.cancelled``: an optional reason code."""

    reason_code: str | None = Field(default=None, description="e.g. cancelled_by_applicant")

    @field_validator("reason_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not _REASON.match(value):
            raise ValueError("a reason code is lower-case letters, digits and _ (at most 32)")
        return value


class FailureData(ReasonData):
    """``result.delivery_failed``: which attempt failed, why, and whether it was the operator's last."""

    attempt: int = Field(ge=1, le=20, strict=True)
    reason_code: str = Field(description="recipient_absent, address_not_found, refused_by_recipient, ...")
    final_attempt: bool = Field(default=False, description="the operator will not try again: it returns the result")


class RescheduleData(PostalEventData):
    """``result.redelivery_scheduled``: the next attempt's number and, when known, its time."""

    attempt: int = Field(ge=2, le=20, strict=True)
    scheduled_for: AwareIsoDateTime | None = None


class ShipmentConflict(Conflict):
    """The event is impossible from the shipment's state: a 409 that changes nothing."""

    code = "shipment_transition_invalid"


@dataclass(frozen=True)
class Move:
    """One row of the state machine: the states an event may come from and those already past it."""

    direction: Direction
    to: str
    sources: frozenset[str | None]
    passed: frozenset[str]


def _move(direction: Direction, to: str, sources: tuple[str | None, ...], passed: tuple[str, ...]) -> Move:
    return Move(direction, to, frozenset(sources), frozenset(passed))


_AFTER_PICKUP = ("picked_up", "delivery_failed", "redelivery_scheduled")
MOVES: dict[str, Move] = {
    "pickup.requested": _move("inbound", "requested", (None, "booked"), ("requested", "picked_up", "handed_over")),
    "pickup.picked_up": _move("inbound", "picked_up", (None, "booked", "requested"), ("picked_up", "handed_over")),
    "pickup.handed_over": _move("inbound", "handed_over", (None, "booked", "requested", "picked_up"), ("handed_over",)),
    "pickup.cancelled": _move("inbound", "cancelled", (None, "booked", "requested"), ("cancelled",)),
    "result.picked_up": _move("outbound", "picked_up", (None, "booked"), (*_AFTER_PICKUP, "delivered", "returned")),
    "result.delivery_failed": _move("outbound", "delivery_failed", _AFTER_PICKUP, ()),
    "result.redelivery_scheduled": _move("outbound", "redelivery_scheduled", ("delivery_failed",), ()),
    "result.delivered": _move("outbound", "delivered", (None, "booked", *_AFTER_PICKUP), ("delivered",)),
    "result.returned_to_sender": _move("outbound", "returned", _AFTER_PICKUP, ("returned",)),
}


def judge(event: str, shipment: PostalShipment | None) -> bool:
    """True to apply the event, False when the shipment is already past it; 409 when impossible."""
    move = MOVES[event]
    current = shipment.status if shipment is not None else None
    if current in move.passed:
        return False
    if current not in move.sources:
        raise ShipmentConflict(
            f"A {event} report is not possible while the shipment is {current or 'not known'}.",
            status_now=current,
            event=event,
        )
    return True


def judge_attempt(event: str, shipment: PostalShipment | None, attempt: int) -> bool:
    """The failure and re-delivery reports carry an attempt number: an old one is already applied."""
    counted = shipment.failed_attempts if shipment is not None else 0
    status = shipment.status if shipment is not None else None
    if event == "result.delivery_failed":
        return attempt > counted and judge(event, shipment)
    # a re-delivery is of the attempt after the last failure; once that attempt has happened it is past
    if attempt <= counted or (attempt == counted + 1 and status in {"redelivery_scheduled", "delivered", "returned"}):
        return False
    if attempt != counted + 1:
        raise ShipmentConflict(
            f"The next attempt is number {counted + 1}, not {attempt}.", status_now=status, event=event
        )
    return judge(event, shipment)
