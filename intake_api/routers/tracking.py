"""Public tracking of a dossier by its code and the secret (or the phone number)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import ConfigDict, Field
from sqlalchemy import select

from services.core.deps import ClockDep, CountersDep, SessionDep, SettingsDep
from services.core.errors import Unprocessable, problem_responses
from services.core.net import client_address
from services.core.throttle import PublicWrite, per_address
from services.core.validation import StrictModel
from services.domain.vocabulary import NOT_CLOSED, STATUS_CODES, STATUS_LABELS_VI
from services.dossier.catalogued import catalogued
from services.intake import dossiers as intake
from services.intake.citizen import Proof, citizen_dossier, prove
from services.intake.schemas import HistoryItem, ShipmentOut, TrackingBriefOut, TrackingOut
from services.models import Dossier, PostalShipment

router = APIRouter(prefix="/api/v1/track", tags=["tracking"])


class TrackByPhoneIn(StrictModel):
    model_config = ConfigDict(strict=True)

    code: str = Field(min_length=1, max_length=64, description="the dossier code on the receipt")
    phone: str = Field(min_length=9, max_length=20, description="the applicant's phone number")


@router.post("", responses=problem_responses(404, 422, 429), dependencies=[per_address(PublicWrite.TRACKING)])
async def track_by_phone(
    body: TrackByPhoneIn, request: Request, session: SessionDep, counters: CountersDep,
    settings: SettingsDep, clock: ClockDep,
) -> TrackingBriefOut:  # fmt: skip
    """The state and due time of a dossier, for its applicant's phone number (in the body, never a URL).

    The phone alone proves little (a neighbour may know it), so this shows no procedure, note,
    history or tracking number: the full view needs the secret. Guesses are limited like the secret's."""
    now = clock.now()
    dossier_id = await prove(
        counters, settings, code=body.code, proof=Proof(phone=body.phone), client_ip=client_address(request),
        now=now,
    )  # fmt: skip
    dossier = await session.get_one(Dossier, dossier_id)
    paused_since, _ = await intake.paused(session, dossier)
    due, overdue = _due(dossier, paused_since, now)
    return TrackingBriefOut(
        code=dossier.code,
        status=dossier.status,
        status_code=STATUS_CODES[dossier.status],
        status_label=STATUS_LABELS_VI[dossier.status],
        due_at=due,
        overdue=overdue,
        paused=paused_since is not None,
    )


def _due(dossier: Dossier, paused_since: datetime | None, now: datetime) -> tuple[datetime | None, bool]:
    """The appointment the citizen holds (moved once by an apology) and whether it has passed while the
    dossier is open and its clock running."""
    due = dossier.appointment_at or dossier.due_at
    open_now = dossier.status in NOT_CLOSED
    return due, bool(open_now and due is not None and due < now and paused_since is None)


@router.get("/{code}", responses=problem_responses(404, 422, 429))
async def track(
    code: Annotated[str, Path(max_length=64)],
    request: Request,
    session: SessionDep,
    counters: CountersDep,
    settings: SettingsDep,
    clock: ClockDep,
    secret: Annotated[str | None, Query(max_length=64)] = None,
    phone: Annotated[
        str | None, Query(max_length=20, deprecated=True, description="refused: use POST /api/v1/track")
    ] = None,
) -> TrackingOut:
    """Where the dossier is: state, due time, pauses and history — never the applicant's personal data.

    Needs the secret printed on the receipt. With only the phone number, use ``POST /api/v1/track``
    (the number stays out of URLs and logs), which shows the state and the due time only."""
    if phone is not None:
        raise Unprocessable(
            "A phone number does not belong in a URL: use POST /api/v1/track with the code and the phone.",
            code="phone_in_url",
        )
    if not secret:
        raise Unprocessable("Give the secret printed on the receipt.", code="secret_required")
    now = clock.now()
    dossier = await citizen_dossier(
        session, counters, settings, code=code, secret=secret, client_ip=client_address(request), now=now
    )
    found = await catalogued(session, dossier)
    procedure, agency = found.procedure, found.agency
    paused_since, paused_reason = await intake.paused(session, dossier)
    due, overdue = _due(dossier, paused_since, now)
    shipments = (
        select(PostalShipment).where(PostalShipment.dossier_id == dossier.id).order_by(PostalShipment.created_at)
    )
    return TrackingOut(
        code=dossier.code,
        status=dossier.status,
        status_code=STATUS_CODES[dossier.status],
        status_label=STATUS_LABELS_VI[dossier.status],
        procedure_name=procedure.name,
        agency_name=agency.name,
        agency_address=agency.street_address,
        received_at=dossier.received_at,
        due_at=due,
        overdue=overdue,
        paused_since=paused_since,
        paused_reason=paused_reason,
        history=[HistoryItem.model_validate(item) for item in await intake.history(session, dossier)],
        shipments=[ShipmentOut.model_validate(row, from_attributes=True) for row in await session.scalars(shipments)],
    )
