"""The dossier → response mapping: the one way a dossier and its documents are answered to a client
(``DossierOut``, ``DocumentOut``), for intake's routes and, extended, for "4 tại chỗ"
(``services.workflow.on_the_spot.OnTheSpotOut``).

The appointment shown is the one the citizen holds: ``appointment_at`` once an apology moved it,
the legal due time otherwise (``appointment``). Every answer that shows the state — this one, the desk's
view and waiting list, the tracking pages — shows it the same way (``status_fields``: the state, its
national code and its Vietnamese label). The documents and the post's shipments are read here once,
oldest first, for every view that lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.domain.vocabulary import STATUS_CODES, STATUS_LABELS_VI
from services.dossier.catalogued import Catalogued, catalogued
from services.dossier.filing import RECEIVED, SUBMITTED, Filed
from services.dossier.schemas import DocumentOut, DossierOut
from services.models import Document, Dossier, PostalShipment


def appointment(dossier: Dossier) -> datetime | None:
    """The due time the citizen holds: the apology's new appointment (Mẫu 04) when one was issued, else the
    legal due time."""
    return held_appointment(dossier.appointment_at, dossier.due_at)


def held_appointment(appointment_at: datetime | None, due_at: datetime | None) -> datetime | None:
    """``appointment`` from the two columns (a view read without the ORM: tracking)."""
    return appointment_at or due_at


def status_fields(dossier: Dossier) -> dict[str, Any]:
    """The code and the state as every answer shows them: the value, the national code (DVCQG) and the
    Vietnamese label."""
    return state_fields(dossier.code, dossier.status)


def state_fields(code: str, status: str) -> dict[str, Any]:
    """``status_fields`` from the two columns (a view read without the ORM: tracking)."""
    return {
        "code": code,
        "status": status,
        "status_code": STATUS_CODES[status],
        "status_label": STATUS_LABELS_VI[status],
    }


def applicant_fields(dossier: Dossier) -> dict[str, Any]:
    """The applicant as staff see them (personal data: only in the staff's views, whose reads are audited)."""
    return {
        "kind": dossier.applicant_kind,
        "full_name": dossier.applicant_name,
        "id_number": dossier.applicant_id_number,
        "phone": dossier.applicant_phone,
        "email": dossier.applicant_email,
        "address": dossier.applicant_address,
    }


async def shipments(session: AsyncSession, dossier: Dossier) -> Sequence[PostalShipment]:
    """The public post's shipments of the dossier, oldest first (booked in one transaction: the dossier's
    pickup before the result's delivery)."""
    rows = await session.scalars(
        select(PostalShipment)
        .where(PostalShipment.dossier_id == dossier.id)
        .order_by(PostalShipment.created_at, PostalShipment.direction, PostalShipment.id)
    )
    return rows.all()


async def documents(session: AsyncSession, dossier: Dossier) -> list[Document]:
    """The dossier's documents, oldest first."""
    return list(
        (
            await session.scalars(
                select(Document).where(Document.dossier_id == dossier.id).order_by(Document.created_at)
            )
        ).all()
    )


def document_out(row: Document) -> DocumentOut:
    return DocumentOut(
        id=str(row.id),
        kind=row.kind,
        required_code=row.required_code,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
    )


def filed_out(filed: Filed) -> DossierOut:
    """A dossier just filed (online, by post; at the counter, received as it was filed), answered from what its
    filing wrote: no read back, no documents (a filing with files is answered by ``dossier_out``)."""
    return DossierOut.model_validate(
        {
            **state_fields(filed.code, SUBMITTED if filed.received_at is None else RECEIVED),
            "channel": int(filed.channel),
            "procedure_code": filed.procedure_code,
            "agency_code": filed.agency.code,
            "submitted_at": filed.submitted_at,
            "received_at": filed.received_at,
            "due_at": filed.due_at,  # no apology yet: the legal due time is the appointment
            "return_method": filed.data.return_method,
            "documents": [],
            "secret": filed.secret,
        }
    )


async def dossier_out(
    session: AsyncSession,
    dossier: Dossier,
    *,
    secret: str | None = None,
    found: Catalogued | None = None,
    rows: Sequence[Document] | None = None,
) -> DossierOut:
    """The dossier as answered; ``secret`` only in the answer that files it. The filing passes what it
    already holds (``found``: its catalogue entries; ``rows``: all its documents) instead of reading them."""
    found = found or await catalogued(session, dossier)
    if rows is None:
        rows = await documents(session, dossier)
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
            "documents": [document_out(row) for row in rows],
            "secret": secret,
        }
    )
