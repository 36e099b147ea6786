"""Public tracking of a dossier: the full view for the holder of the secret, the brief one for the phone.

Neither shows the applicant's personal data. The phone alone proves little (a neighbour may know it),
so its view has no procedure, note, history or tracking number. Both say whether the appointment the
citizen holds has passed by the one rule ``services.domain.rules.appointment_passed``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from services.core.validation import StrictModel
from services.domain.rules import appointment_passed
from services.dossier.catalogued import catalogued
from services.dossier.views import appointment, shipments, status_fields
from services.intake import dossiers as intake
from services.intake.citizen import Citizen
from services.intake.schemas import HistoryItem, ShipmentOut, TrackingBriefOut, TrackingOut
from services.models import Dossier


class TrackByPhoneIn(StrictModel):
    model_config = ConfigDict(strict=True)

    code: str = Field(min_length=1, max_length=64, description="the dossier code on the receipt")
    phone: str = Field(min_length=9, max_length=20, description="the applicant's phone number")


def _passed(dossier: Dossier, paused_since: datetime | None, now: datetime) -> bool:
    return appointment_passed(
        status=dossier.status, appointment_at=dossier.appointment_at, due_at=dossier.due_at,
        paused_since=paused_since, now=now,
    )  # fmt: skip


async def brief(citizen: Citizen, body: TrackByPhoneIn) -> TrackingBriefOut:
    """The state and the due time, for the applicant's phone number."""
    dossier = await citizen.proven_by_phone(body.code, body.phone)
    paused_since, _ = await intake.paused(citizen.session, dossier)
    return TrackingBriefOut(
        **status_fields(dossier),
        due_at=appointment(dossier),
        overdue=_passed(dossier, paused_since, citizen.now),
        paused=paused_since is not None,
    )


async def full(citizen: Citizen, code: str, secret: str) -> TrackingOut:
    """Where the dossier is: state, due time, pauses, the public history and the post's shipments."""
    dossier = await citizen.dossier(code, secret)
    session = citizen.session
    found = await catalogued(session, dossier)
    paused_since, paused_reason = await intake.paused(session, dossier)
    return TrackingOut(
        **status_fields(dossier),
        procedure_name=found.procedure.name,
        agency_name=found.agency.name,
        agency_address=found.agency.street_address,
        received_at=dossier.received_at,
        due_at=appointment(dossier),
        overdue=_passed(dossier, paused_since, citizen.now),
        paused_since=paused_since,
        paused_reason=paused_reason,
        history=[HistoryItem.model_validate(item) for item in await intake.history(session, dossier)],
        shipments=[ShipmentOut.model_validate(row, from_attributes=True) for row in await shipments(session, dossier)],
    )
