"""A dossier's documents as files arrive: an uploaded file (``Upload``) stored and recorded as a
``Document`` of its dossier (``attach``), for intake's submissions, supplements and additions and for
workflow's "4 tại chỗ" alike.

A file is marked with the document code of the procedure's checklist when its multipart field named
one (a generic field — ``files``, ``documents``, ``file`` — marks none). A dossier that received a file
is ``digitised`` (số hoá).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import Settings
from services.dossier.files import store
from services.models import Document, Dossier

GENERIC_FIELDS = frozenset({"files", "documents", "file"})  # multipart fields that name no document code


@dataclass(frozen=True)
class Upload:
    """One file of a multipart request: the field it came in (a document code, or a generic name)."""

    field: str
    filename: str
    content: bytes


def attach(
    session: AsyncSession, settings: Settings, dossier: Dossier, uploads: list[Upload], *, kind: str, now: datetime,
    staff_id: uuid.UUID | None = None,
) -> list[Document]:  # fmt: skip
    """Store the files and add their ``Document`` rows (``kind``: input, supplement or result); the rows,
    in the order of ``uploads``."""
    added: list[Document] = []
    for upload in uploads:
        stored = store(settings.files_dir, filename=upload.filename, content=upload.content, now=now)
        added.append(
            Document(
                dossier_id=dossier.id,
                kind=kind,
                required_code=upload.field if upload.field not in GENERIC_FIELDS else None,
                filename=stored.filename,
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                storage_path=stored.storage_path,
                uploaded_by_staff_id=staff_id,
            )
        )
    session.add_all(added)
    if uploads:
        dossier.digitised = True
    return added
