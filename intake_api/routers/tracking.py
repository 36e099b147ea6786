"""Public tracking of a dossier by its code and the secret (or the phone number)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select

from services.core.deps import ClockDep, SessionDep, SessionmakerDep, SettingsDep
from services.core.errors import Unprocessable, problem_responses
from services.intake import dossiers as intake
from services.intake.citizen import citizen_dossier
from services.intake.schemas import STATUS_LABELS_VI, HistoryItem, ShipmentOut, TrackingOut
from services.models import STATUS_CODES, PostalShipment

router = APIRouter(prefix="/api/v1/track", tags=["tracking"])


@router.get("/{code}", responses=problem_responses(404, 422, 429))
async def track(
    code: Annotated[str, Path(max_length=64)],
    request: Request,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    clock: ClockDep,
    secret: Annotated[str | None, Query(max_length=64)] = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
) -> TrackingOut:
    """Where the dossier is: state, due time, pauses and history — never the applicant's personal data."""
    if not secret and not phone:
        raise Unprocessable("Give the secret printed on the receipt, or the phone number.", code="secret_or_phone")
    now = clock.now()
    dossier = await citizen_dossier(
        session, sessionmaker, settings, code=code, secret=secret, phone=phone,
        client_ip=request.client.host if request.client else None, now=now,
    )  # fmt: skip
    found = await intake.catalogued(session, dossier)
    procedure, agency = found.procedure, found.agency
    paused_since, paused_reason = await intake.paused(session, dossier)
    due = dossier.appointment_at or dossier.due_at
    open_now = dossier.status in intake.OPEN_STATES
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
        received_at=dossier.received_at,
        due_at=due,
        overdue=bool(open_now and due is not None and due < now and paused_since is None),
        paused_since=paused_since,
        paused_reason=paused_reason,
        history=[HistoryItem.model_validate(item) for item in await intake.history(session, dossier)],
        shipments=[ShipmentOut.model_validate(row, from_attributes=True) for row in await session.scalars(shipments)],
    )
