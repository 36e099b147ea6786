"""A signed-in citizen files online: their identity from the session ("công dân không viết"), and documents
reused from their earlier dossiers (kho dữ liệu của công dân) with their explicit consent.

- **The identity is the session's, never the form's.** ``CitizenSubmissionIn`` has no name and no CCCD:
  a body that sends them is refused (422, unknown field); the applicant is the account's name and CCCD as
  the provider vouched at sign-in. The citizen gives only how to be reached (phone, email — prefilled from
  the provider when it gave them — and an address).
- **Reuse needs consent, every time.** ``reuse`` names documents of the citizen's own dossiers
  (``services.dossier.ownership``; someone else's is the same 404 as one that does not exist);
  without ``reuse_consent: true`` the filing is refused (422 ``reuse_consent_required``) and nothing is
  written. With it, the audit log gets the consent (``citizen_consent``: which documents, for which new
  dossier) and one ``document_reused`` line per document (from which dossier, as which new document), in
  the filing's transaction: kept exactly when the dossier is. The consent is asked per filing, not kept
  for later ones: a citizen who agreed once has not agreed to every future use.
- A reused document is a new ``document`` row of the new dossier pointing at the same stored file (same
  SHA-256, same path): files are never changed once stored, so sharing them costs no copy.
- Idempotent like every filing (``Idempotency-Key``), the key scoped to the account.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.core import idempotency
from services.core.audit import Origin, audit_entry, record
from services.core.config import Settings
from services.core.errors import NotFound, Unprocessable
from services.core.validation import StrictModel, normalise_vn_phone
from services.dossier import filing
from services.dossier.documents import attach
from services.dossier.filing import SEALED, Parsed
from services.dossier.ownership import Owner, owned_clause
from services.dossier.schemas import ApplicantIn, ReturnMethod, SubmissionIn
from services.dossier.views import dossier_out
from services.models import Document, Dossier

MAX_REUSED = 20


class ReuseIn(StrictModel):
    document_id: uuid.UUID = Field(description="a document of one of the citizen's dossiers (GET /citizen/documents)")
    code: str | None = Field(
        default=None, max_length=32, description="the required document it answers in the new dossier (e.g. D01)"
    )


class CitizenContactIn(StrictModel):
    """How to reach the citizen; their name and CCCD come from the session, not from here."""

    phone: str | None = Field(default=None, description="Vietnamese mobile number")
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=500)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_vn_phone(value) if value else None

    @model_validator(mode="after")
    def _reachable(self) -> CitizenContactIn:
        if self.phone is None and self.email is None:
            raise ValueError("give a phone number or an email so the applicant can be told")
        return self


class CitizenSubmissionIn(StrictModel):
    procedure_code: str = Field(min_length=1, max_length=64)
    agency_code: str | None = Field(default=None, max_length=64)
    contact: CitizenContactIn
    return_method: ReturnMethod = "counter"
    postal_address: str | None = Field(default=None, min_length=10, max_length=500)
    pickup_by_post: bool = Field(default=False, strict=True)
    language: Literal["vi", "en"] = "vi"
    reuse: list[ReuseIn] = Field(default_factory=list, max_length=MAX_REUSED)
    reuse_consent: bool = Field(
        default=False,
        strict=True,
        description="the citizen agrees that the documents in ``reuse`` are used for this dossier (required "
        "when ``reuse`` names any); recorded in the audit log",
    )

    @model_validator(mode="after")
    def _checks(self) -> CitizenSubmissionIn:
        if len({item.document_id for item in self.reuse}) != len(self.reuse):
            raise ValueError("a document is reused at most once per dossier")
        if (self.return_method == "postal" or self.pickup_by_post) and not self.postal_address:
            raise ValueError("postal_address is required when the dossier travels by post")
        return self


def as_submission(data: CitizenSubmissionIn, owner_name: str, owner_id_number: str) -> SubmissionIn:
    """The submission as the desk sees it: the applicant is the signed-in citizen."""
    try:
        applicant = ApplicantIn.model_validate(
            {"full_name": owner_name, "id_number": owner_id_number, **data.contact.model_dump(exclude_none=True)}
        )
        return SubmissionIn.model_validate(
            {
                **data.model_dump(exclude={"contact", "reuse", "reuse_consent"}),
                "applicant": applicant.model_dump(exclude_none=True),
            }
        )
    except ValidationError as exc:  # the checks above mirror ApplicantIn's and SubmissionIn's: a safety net
        first = exc.errors(include_input=False)[0]
        raise Unprocessable(f"The submission is not valid: {first['msg']}.", code="validation_error") from exc


async def submit_as_citizen(
    session: AsyncSession,
    settings: Settings,
    parsed: Parsed[CitizenSubmissionIn],
    *,
    owner: Owner,
    full_name: str,
    origin: Origin,
    key: str | None,
    now: datetime,
) -> idempotency.Answer:
    """File the citizen's dossier online with their files and reused documents; the answer of any filing."""
    data = parsed.data
    if data.reuse and not data.reuse_consent:
        raise Unprocessable(
            "Reusing documents from your earlier dossiers needs your consent (reuse_consent: true).",
            code="reuse_consent_required",
        )
    submission = as_submission(data, full_name, owner.id_number)

    async def work() -> dict[str, Any]:
        channel = Channel.POSTAL if submission.pickup_by_post else Channel.ONLINE
        filed = await filing.file(session, settings, submission, channel=channel, now=now, source="intake")
        dossier = await session.get(Dossier, filed.id)
        assert dossier is not None  # written just above, in this transaction
        rows = attach(session, settings, dossier, parsed.uploads, kind="input", now=now)
        rows += await reuse(session, owner, dossier, data, origin=origin)
        await session.flush()
        return (await dossier_out(session, dossier, secret=filed.secret, rows=rows)).model_dump(mode="json")

    return await idempotency.once(
        session, settings, route=origin.route, key=key, staff_id=None, client_address=owner.audit_name,
        payload=parsed.fingerprint_source, now=now, work=work, sealed=SEALED,
    )  # fmt: skip


async def reuse(
    session: AsyncSession, owner: Owner, dossier: Dossier, data: CitizenSubmissionIn, *, origin: Origin
) -> list[Document]:
    """The reused documents as the new dossier's, with the consent and each reuse in the audit log."""
    if not data.reuse:
        return []
    wanted = [item.document_id for item in data.reuse]
    found = {
        document.id: (document, code)
        for document, code in (
            await session.execute(
                select(Document, Dossier.code)
                .join(Dossier, Dossier.id == Document.dossier_id)
                .where(Document.id.in_(wanted), owned_clause(owner), Dossier.id != dossier.id)
            )
        ).all()
    }
    if set(wanted) - found.keys():
        raise NotFound("No document of yours has this id.", code="document_not_found")
    consent = audit_entry(
        service=origin.service, action="citizen_consent", resource=origin.route, origin=origin,
        username=owner.audit_name, dossier_id=dossier.id,
        detail={"purpose": "reuse_documents", "documents": [str(one) for one in wanted]},
    )  # fmt: skip
    record(session, consent)
    added: list[Document] = []
    for item in data.reuse:
        source, from_code = found[item.document_id]
        copy = Document(
            id=uuid.uuid4(), dossier_id=dossier.id, kind="input", required_code=item.code or source.required_code,
            filename=source.filename, content_type=source.content_type, size_bytes=source.size_bytes,
            sha256=source.sha256, storage_path=source.storage_path,
        )  # fmt: skip
        added.append(copy)
        line = audit_entry(
            service=origin.service, action="document_reused", resource=origin.route, origin=origin,
            username=owner.audit_name, dossier_id=dossier.id,
            detail={"document_id": str(source.id), "from_dossier": from_code, "new_document_id": str(copy.id)},
        )  # fmt: skip
        record(session, line)
    session.add_all(added)
    dossier.digitised = True
    return added
