"""Signed receipts and results, and checking a signed PDF (issue 16 §2).

The small API the features share (intake's receipt and result uploads, workflow's "4 tại chỗ", the
electronic delivery of results):

- ``signed_pdf(session, settings, offload, dossier, kind=…, render=…, form=…)``: render a form and sign it
  in one trip to the PDF process pool, and register it (``signed_document``);
- ``attach_results(…)``: store result files; a PDF is signed first and the citizen's copy is the signed one
  (the unsigned upload is kept beside it, served by no route);
- ``verify(…)``: what the public verification page shows for an uploaded PDF; ``issued(…)``: what the
  register says of a document id (the receipt's verification QR code).

The receiving agency signs (the one-stop desk that issues the receipt also hands the result over), with the
key ``services.core.signing_keys.key_for`` gives it; without a key (outside demo mode, none configured)
documents are issued unsigned, as before. Each signature's field is ``MotCua-<register id>``, so an
uploaded copy leads back to its register line even after it was altered.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import Settings
from services.core.errors import NotFound, PayloadTooLarge, ServiceUnavailable, Unprocessable
from services.core.offload import ProcessOffload
from services.core.signing import (
    FIELD_PREFIX,
    Credential,
    SignatureRequest,
    TimestampUnavailable,
    UnsignablePdf,
    Verification,
    sign_pdf,
    verify_pdf,
)
from services.core.signing_keys import DEMO_MARK, AgencyKey, key_for, trust_roots
from services.dossier.documents import Upload, attach
from services.dossier.files import MAX_FILE_BYTES, store
from services.dossier.signature_schemas import IssuedDocumentOut, SignatureOut, VerificationOut
from services.models import Agency, Document, Dossier, SignedDocument

Kind = Literal["receipt", "result"]
TIMESTAMP_RETRY_SECONDS = 30
PDF_MAGIC = b"%PDF-"
STARTXREF = b"startxref"
TRAILER_BYTES = 2048  # where a PDF's last startxref must be (readers look in the last 1 KiB; some pad more)
MAX_VERIFY_BYTES = MAX_FILE_BYTES  # 10 MiB: what a document upload may be, so any issued PDF fits
PLACE = "Hải Phòng"  # the signature's /Location; the forms' place line (services/dossier/printing.py)
log = logging.getLogger(__name__)
REASONS = {"receipt": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "result": "Kết quả giải quyết thủ tục hành chính"}


def verification_url(settings: Settings, document_id: uuid.UUID) -> str:
    """The public page that checks a document: its register id only, no personal data."""
    return f"{settings.urls.public.rstrip('/')}/kiem-tra-chu-ky/{document_id}"


def _request(settings: Settings, key: AgencyKey, kind: Kind, code: str, document_id: uuid.UUID) -> SignatureRequest:
    reason = f"{REASONS[kind]} – hồ sơ {code}"
    if key.demo:
        reason += f" ({DEMO_MARK})"
    return SignatureRequest(
        field=f"{FIELD_PREFIX}{document_id}",
        reason=reason,
        location=PLACE,
        timestamp_url=settings.signing.timestamp_url,
    )


def _no_timestamp() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The timestamp server does not answer; the document cannot be signed now.",
        code="timestamp_unavailable",
        retry_after=TIMESTAMP_RETRY_SECONDS,
    )


def _render_and_sign(
    render: Callable[[Any], bytes], form: Any, credential: Credential | None, request: SignatureRequest | None
) -> bytes:
    """In a worker process: the form's PDF, signed when a credential is given (one trip, not two)."""
    pdf = render(form)
    return sign_pdf(pdf, credential, request) if credential is not None and request is not None else pdf


def _register(
    session: AsyncSession, *, document_id: uuid.UUID, dossier: Dossier, agency: Agency, key: AgencyKey, kind: Kind,
    signed: bytes, now: datetime, document: uuid.UUID | None = None, original: tuple[str, str] | None = None,
) -> SignedDocument:  # fmt: skip
    row = SignedDocument(
        id=document_id, dossier_id=dossier.id, document_id=document, agency_id=agency.id, kind=kind,
        sha256=hashlib.sha256(signed).hexdigest(), signed_at=now, signer=key.subject[:500], demo=key.demo,
        original_path=original[0] if original else None, original_sha256=original[1] if original else None,
    )  # fmt: skip
    session.add(row)
    return row


async def signed_pdf(
    session: AsyncSession, settings: Settings, offload: ProcessOffload, dossier: Dossier, agency: Agency, *,
    kind: Kind, render: Callable[[Any], bytes], form: Any, now: datetime,
) -> bytes:  # fmt: skip
    """``render(form)`` signed with ``agency``'s key and registered; a form dataclass with the fields
    ``signed_by``, ``verification_url`` and ``signature_demo`` gets them filled (the printed signature box).

    For a print (a read-only request): its transaction is ended before the render (``ProcessOffload.run_released``),
    and the register line is written after it, in the request's closing transaction."""
    key = await key_for(session, settings, agency)
    if key is None:
        return await offload.run_released(session, _render_and_sign, render, form, None, None)
    document_id = uuid.uuid4()
    if hasattr(form, "verification_url"):
        form = replace(
            form,
            signed_by=agency.name,
            verification_url=verification_url(settings, document_id),
            signature_demo=key.demo,
        )
    request = _request(settings, key, kind, dossier.code, document_id)
    try:
        signed = await offload.run_released(session, _render_and_sign, render, form, key.credential, request)
    except TimestampUnavailable as exc:
        raise _no_timestamp() from exc
    _register(
        session, document_id=document_id, dossier=dossier, agency=agency, key=key, kind=kind, signed=signed, now=now
    )
    return signed


async def attach_results(
    session: AsyncSession, settings: Settings, offload: ProcessOffload, dossier: Dossier, uploads: list[Upload], *,
    now: datetime, staff_id: uuid.UUID | None,
) -> list[Document]:  # fmt: skip
    """Store result files: each PDF signed by the receiving agency, its unsigned original kept apart (no route
    serves it); other files (images, DOCX) and PDFs pyHanko cannot read (malformed, encrypted) as they are."""
    agency = await session.get(Agency, dossier.receiving_agency_id)
    key = await key_for(session, settings, agency) if agency is not None else None
    if key is None or agency is None:
        return attach(session, settings, dossier, uploads, kind="result", now=now, staff_id=staff_id)
    prepared: list[Upload] = []
    pending: list[tuple[int, uuid.UUID, bytes, tuple[str, str]]] = []
    for upload in uploads:
        if not upload.content.startswith(PDF_MAGIC) or len(upload.content) > MAX_FILE_BYTES:
            prepared.append(upload)  # not ours to sign; store() checks its size and type
            continue
        if STARTXREF not in upload.content[-TRAILER_BYTES:]:
            # no cross-reference section to append an update to (ISO 32000-1 §7.5.5): unsignable, known
            # without a trip to the process pool
            log.warning("result PDF stored unsigned", extra={"dossier_code": dossier.code, "why": "no startxref"})
            prepared.append(upload)
            continue
        document_id = uuid.uuid4()
        try:
            signed = await offload.run(
                sign_pdf, upload.content, key.credential, _request(settings, key, "result", dossier.code, document_id)
            )
        except TimestampUnavailable as exc:
            raise _no_timestamp() from exc
        except UnsignablePdf as exc:
            # kept as uploaded rather than blocking the resolution at the desk; the verification page and the
            # register show it unsigned (a log line for the operator, no file name: it may name the citizen)
            log.warning("result PDF stored unsigned", extra={"dossier_code": dossier.code, "why": str(exc)})
            prepared.append(upload)
            continue
        kept = store(settings.files_dir, filename=upload.filename, content=upload.content, now=now)
        pending.append((len(prepared), document_id, signed, (kept.storage_path, kept.sha256)))
        prepared.append(Upload(field=upload.field, filename=upload.filename, content=signed))
    rows = attach(session, settings, dossier, prepared, kind="result", now=now, staff_id=staff_id)
    await session.flush()  # the documents' ids
    for index, document_id, signed, unsigned in pending:
        _register(
            session, document_id=document_id, dossier=dossier, agency=agency, key=key, kind="result", signed=signed,
            now=now, document=rows[index].id, original=unsigned,
        )  # fmt: skip
    return rows


# --- checking a PDF -----------------------------------------------------------------------------------------------


async def _issued(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, IssuedDocumentOut]:
    if not ids:
        return {}
    rows = await session.execute(
        select(SignedDocument, Dossier.code, Agency.name)
        .join(Dossier, Dossier.id == SignedDocument.dossier_id)
        .join(Agency, Agency.id == SignedDocument.agency_id)
        .where(SignedDocument.id.in_(ids))
    )
    return {
        row.id: IssuedDocumentOut(
            id=row.id,
            kind=row.kind,
            dossier_code=code,
            agency_name=name,
            signed_at=row.signed_at,
            signer=row.signer,
            demo=row.demo,
            sha256=row.sha256,
        )
        for row, code, name in rows
    }


async def issued(session: AsyncSession, document_id: str) -> IssuedDocumentOut:
    """What the register says of a signed document (the verification QR code's page); 404 when unknown."""
    try:
        key = uuid.UUID(document_id)
    except ValueError:
        key = None
    found = await _issued(session, [key]) if key is not None else {}
    if key is None or key not in found:
        raise NotFound("No document was signed under this id.", code="signed_document_not_found")
    return found[key]


def _ids(verification: Verification) -> list[uuid.UUID]:
    ids = []
    for check in verification.signatures:
        try:
            ids.append(uuid.UUID(check.document_id or ""))
        except ValueError:
            continue
    return ids


async def verify(session: AsyncSession, settings: Settings, offload: ProcessOffload, content: bytes) -> VerificationOut:
    """Check an uploaded PDF's signatures with pyHanko against our trust roots, and find what we issued."""
    if len(content) > MAX_VERIFY_BYTES:
        raise PayloadTooLarge(
            f"A PDF to check may be at most {MAX_VERIFY_BYTES // (1024 * 1024)} MB.", code="file_too_large"
        )
    if not content.lstrip()[:1024].startswith(PDF_MAGIC):
        raise Unprocessable(
            "Only a PDF file can be checked (checked from the content, not the name).", code="not_a_pdf"
        )
    roots = await trust_roots(session, settings)
    # a public route: no connection waits idle for the check
    result: Verification = await offload.run_released(session, verify_pdf, content, roots)
    issued_docs = await _issued(session, _ids(result))
    signatures = []
    for check in result.signatures:
        doc_id = check.document_id
        record = next((doc for key, doc in issued_docs.items() if str(key) == doc_id), None)
        signatures.append(
            SignatureOut(
                signer=check.signer,
                signer_organization=check.signer_organization,
                issuer=check.issuer,
                serial=check.serial,
                signed_at=check.signed_at,
                timestamp_at=check.timestamp_at,
                intact=check.intact,
                valid=check.valid,
                trusted=check.trusted,
                unchanged=check.unchanged,
                modification=check.modification,
                ok=check.ok,
                demo=DEMO_MARK in check.issuer or DEMO_MARK in check.signer,
                issued=record,
            )
        )
    matching = next((doc for doc in issued_docs.values() if doc.sha256 == result.sha256), None)
    return VerificationOut(
        valid=result.ok, readable=result.readable, signed=bool(result.signatures), sha256=result.sha256,
        matches_issued=matching is not None, signatures=signatures,
    )  # fmt: skip
