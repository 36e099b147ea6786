"""Public checking of signed documents: upload a PDF, or open the link of a receipt's verification QR code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.datastructures import UploadFile

from services.core.deps import SessionDep, SettingsDep
from services.core.errors import Unprocessable, problem_responses
from services.core.offload import OffloadDep
from services.core.throttle import PublicWrite, per_address
from services.dossier import signatures
from services.dossier.signature_schemas import IssuedDocumentOut, VerificationOut

router = APIRouter(prefix="/api/v1/signatures", tags=["signatures"])
UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "the PDF to check"}},
}


async def _pdf_part(request: Request) -> bytes:
    """The ``file`` part, read at most one byte past the limit (a larger one is refused, not read)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Unprocessable("Send the PDF as multipart/form-data in a part named 'file'.", code="file_missing")
    form = await request.form(max_files=1, max_fields=0)
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise Unprocessable("Send the PDF as multipart/form-data in a part named 'file'.", code="file_missing")
    return await part.read(signatures.MAX_VERIFY_BYTES + 1)


@router.post(
    "/verify",
    responses=problem_responses(413, 422, 429, 503),
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": UPLOAD_SCHEMA}}}},
    dependencies=[per_address(PublicWrite.VERIFICATIONS)],
)
async def verify(request: Request, session: SessionDep, settings: SettingsDep, offload: OffloadDep) -> VerificationOut:
    """Check a PDF's digital signatures (Kiểm tra chữ ký số): valid or not, who signed, when, for which
    dossier, whether it changed since, whether the signer chains to our trust root. At most 10 MB."""
    content = await _pdf_part(request)
    return await signatures.verify(session, settings, offload, content)


@router.get("/{document_id}", responses=problem_responses(404, 422))
async def issued(document_id: Annotated[str, Path(max_length=64)], session: SessionDep) -> IssuedDocumentOut:
    """What Một Cửa signed under this id (the receipt's verification QR code): the kind, the dossier code,
    the agency and the time; no personal data."""
    return await signatures.issued(session, document_id)
