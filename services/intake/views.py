"""How a dossier is shown by intake_api: the one mapping from the row to its answers.

The citizen's and the desk's answer (``DossierOut``), the desk view, the waiting list and the tracking
pages all show the state the same way (``status_fields``: the state, its national code and its
Vietnamese label) and the same due time (``appointment``: the one the citizen holds). The documents and
the shipments of a dossier are read here once, oldest first, for every view that lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.domain.vocabulary import STATUS_CODES, STATUS_LABELS_VI
from services.intake import dossiers as intake
from services.intake.schemas import DossierOut
from services.models import Document, Dossier, PostalShipment


def appointment(dossier: Dossier) -> datetime | None:
    """The due time the citizen holds: the apology's new appointment (Mẫu 04) when one was issued, else the
    legal due time."""
    return dossier.appointment_at or dossier.due_at


def status_fields(dossier: Dossier) -> dict[str, Any]:
    """The state as every answer shows it: the value, the national code (DVCQG) and the Vietnamese label."""
    return {
        "code": dossier.code,
        "status": dossier.status,
        "status_code": STATUS_CODES[dossier.status],
        "status_label": STATUS_LABELS_VI[dossier.status],
    }


async def documents(session: AsyncSession, dossier: Dossier) -> list[Document]:
    """The dossier's files, in the order they were attached."""
    rows = await session.scalars(
        select(Document).where(Document.dossier_id == dossier.id).order_by(Document.created_at)
    )
    return list(rows.all())


async def shipments(session: AsyncSession, dossier: Dossier) -> Sequence[PostalShipment]:
    """The public post's shipments of the dossier, oldest first."""
    rows = await session.scalars(
        select(PostalShipment)
        .where(PostalShipment.dossier_id == dossier.id)
        .order_by(PostalShipment.created_at, PostalShipment.id)
    )
    return rows.all()


async def dossier_out(session: AsyncSession, dossier: Dossier, *, secret: str | None = None) -> DossierOut:
    """The answer of every intake action on a dossier; ``secret`` only in the one that creates it."""
    found = await intake.catalogued(session, dossier)
    return DossierOut.model_validate(
        {
            **status_fields(dossier),
            "channel": dossier.channel,
            "procedure_code": found.procedure.code,
            "agency_code": found.agency.code,
            "submitted_at": dossier.submitted_at,
            "received_at": dossier.received_at,
            "due_at": appointment(dossier),
            "return_method": dossier.return_method,
            "documents": intake.documents_of(await documents(session, dossier)),
            "secret": secret,
        }
    )
