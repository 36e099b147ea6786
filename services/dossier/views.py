"""The dossier → response mapping: the one way a dossier and its documents are answered to a client
(``DossierOut``, ``DocumentOut``), for intake's routes and, extended, for "4 tại chỗ"
(``services.workflow.on_the_spot.OnTheSpotOut``).

The appointment shown is the one the citizen holds: ``appointment_at`` once an apology moved it,
the legal due time otherwise.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.domain.vocabulary import STATUS_CODES, STATUS_LABELS_VI
from services.dossier.catalogued import catalogued
from services.dossier.schemas import DocumentOut, DossierOut
from services.models import Document, Dossier


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


async def dossier_out(session: AsyncSession, dossier: Dossier, *, secret: str | None = None) -> DossierOut:
    """The dossier as answered; ``secret`` only in the answer that files it."""
    found = await catalogued(session, dossier)
    return DossierOut.model_validate(
        {
            "code": dossier.code,
            "status": dossier.status,
            "status_code": STATUS_CODES[dossier.status],
            "status_label": STATUS_LABELS_VI[dossier.status],
            "channel": dossier.channel,
            "procedure_code": found.procedure.code,
            "agency_code": found.agency.code,
            "submitted_at": dossier.submitted_at,
            "received_at": dossier.received_at,
            "due_at": dossier.appointment_at or dossier.due_at,
            "return_method": dossier.return_method,
            "documents": [document_out(row) for row in await documents(session, dossier)],
            "secret": secret,
        }
    )
