"""A dossier's documents at intake: adding them after submission, reading one back (the files are
stored and recorded by ``services.dossier.documents.attach``).

Who may add documents after submission: the citizen with the secret while the dossier waits for its
receipt (submitted, or sent back for a supplement before acceptance); staff who may act on it now (the
one access rule, ``attach_input`` / ``attach_result``: the desk before receipt, whoever holds the current
step, a result by whoever may resolve it). Reading a file back is an audited read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.config import Settings
from services.core.errors import Conflict, Forbidden, NotFound
from services.core.offload import ProcessOffload
from services.domain.vocabulary import ACTING_ROLES, AWAITING_RECEIPT, DossierStatus
from services.dossier.access import dossier_for, dossier_to_act_on
from services.dossier.documents import Upload, attach
from services.dossier.eresult import ONLINE
from services.dossier.record import announce
from services.dossier.schemas import DossierOut
from services.dossier.signatures import attach_results
from services.dossier.views import documents, dossier_out
from services.intake.citizen import Citizen


@dataclass(frozen=True)
class StoredFile:
    """A document's file on disk, with the name and type to send it back under."""

    path: Path
    content_type: str
    filename: str


def authorize_staff_upload(actor: Actor) -> None:
    """Only staff who act on dossiers add documents (checked before the request's files are read)."""
    if not actor.has_any(*ACTING_ROLES):
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(ACTING_ROLES))}.", code="role_required")


async def add_by_staff(
    session: AsyncSession, settings: Settings, code: str, actor: Actor, uploads: list[Upload], *, kind: str,
    offload: ProcessOffload, now: datetime,
) -> DossierOut:  # fmt: skip
    """Staff add input documents or result files to a dossier they may act on now; a PDF result is stored
    signed by the receiving agency (services/dossier/signatures.py)."""
    authorize_staff_upload(actor)
    dossier = await dossier_to_act_on(session, code, actor, "attach_result" if kind == "result" else "attach_input")
    # the access rule checked the state
    if kind == "result":
        await attach_results(session, settings, offload, dossier, uploads, now=now, staff_id=actor.staff_id)
        if dossier.status == DossierStatus.RESOLVED and dossier.return_method == ONLINE and uploads:
            # the citizen was told at the resolution that the result is ready: tell them it is there now
            await announce(session, dossier, "dossier.result_added", source="intake", files=len(uploads))
    else:
        attach(session, settings, dossier, uploads, kind=kind, now=now, staff_id=actor.staff_id)
    await session.flush()
    return await dossier_out(session, dossier)


async def add_by_citizen(citizen: Citizen, code: str, secret: str, uploads: list[Upload]) -> DossierOut:
    """The citizen adds documents while the dossier waits for its receipt."""
    dossier = await citizen.dossier(code, secret, lock=True)
    if dossier.status not in AWAITING_RECEIPT:
        raise Conflict(f"Documents cannot be added while the dossier is {dossier.status}.", code="invalid_state")
    attach(citizen.session, citizen.settings, dossier, uploads, kind="input", now=citizen.now)
    await citizen.session.flush()
    return await dossier_out(citizen.session, dossier)


async def document_file(
    session: AsyncSession, settings: Settings, code: str, document_id: str, actor: Actor, *, origin: Origin
) -> StoredFile:
    """A document's file for staff who may see the dossier; the read is audited."""
    dossier = await dossier_for(session, code, actor)
    document = next((row for row in await documents(session, dossier) if str(row.id) == document_id), None)
    if document is None:
        raise NotFound("No such document in this dossier.", code="document_not_found")
    record(
        session,
        audit_entry(
            service="intake", action="read", resource=origin.route, origin=origin, actor=actor, dossier_id=dossier.id
        ),
    )
    path = Path(settings.files_dir) / document.storage_path
    return StoredFile(path=path, content_type=document.content_type, filename=document.filename)
