"""What the public post says of a dossier that intake, workflow and notification all read: where a result
the post brought back waits (``returned_shipment`` in Python, ``returned_by_post`` as SQL for lists),
and the words for the operator's reasons a delivery failed.

The operator's reports themselves (the shipment state machine) are intake's: ``services.intake.postal``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.models import Dossier, PostalShipment

# why the post could not deliver a result (the operator's reason codes; any other code is "other")
POSTAL_FAILURE_LABELS_VI: dict[str, str] = {
    "recipient_absent": "người nhận vắng nhà",
    "address_not_found": "không tìm thấy địa chỉ",
    "recipient_unreachable": "không liên lạc được với người nhận",
    "refused_by_recipient": "người nhận từ chối nhận",
    "other": "lý do khác",
}
POSTAL_FAILURE_LABELS_EN: dict[str, str] = {
    "recipient_absent": "nobody was at home",
    "address_not_found": "the address could not be found",
    "recipient_unreachable": "the recipient could not be reached",
    "refused_by_recipient": "the recipient refused it",
    "other": "another reason",
}


def failure_label(code: str | None) -> str:
    """The Vietnamese words for an operator's reason code (an unknown code: "lý do khác")."""
    if code is None:
        return POSTAL_FAILURE_LABELS_VI["other"]
    return POSTAL_FAILURE_LABELS_VI.get(code, POSTAL_FAILURE_LABELS_VI["other"])


def outbound_of(dossier_id: uuid.UUID | InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
    return and_(PostalShipment.dossier_id == dossier_id, PostalShipment.direction == "outbound")


LATEST_FIRST = (PostalShipment.created_at.desc(), PostalShipment.id)


async def returned_shipment(session: AsyncSession, dossier: Dossier) -> PostalShipment | None:
    """The latest outbound shipment when the post brought the result back and it still waits at the desk."""
    if dossier.status != "resolved" or dossier.return_method != "counter":
        return None
    latest = await session.scalar(
        select(PostalShipment).where(outbound_of(dossier.id)).order_by(*LATEST_FIRST).limit(1)
    )
    return latest if latest is not None and latest.status == "returned" else None


def returned_by_post() -> ColumnElement[bool]:
    """The same rule as :func:`returned_shipment`, as SQL over ``Dossier`` (for lists: the counter's
    "Kết quả chờ trả" marks such a result): resolved, to hand over at the desk, and the latest outbound
    shipment is ``returned``."""
    latest = (
        select(PostalShipment.status)
        .where(outbound_of(Dossier.id))
        .order_by(*LATEST_FIRST)
        .limit(1)
        .correlate(Dossier)
        .scalar_subquery()
    )
    return and_(Dossier.status == "resolved", Dossier.return_method == "counter", latest == "returned")
