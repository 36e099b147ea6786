"""What the verification endpoints answer (``services/dossier/signatures.py``): a register line, one
signature as pyHanko judged it, and the verdict on an uploaded PDF. No personal data: the dossier code,
the agency and the certificate only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class IssuedDocumentOut(BaseModel):
    """A document Một Cửa signed, as its register records it."""

    id: uuid.UUID
    kind: Literal["receipt", "result"] = Field(description="receipt (Mẫu 01) or result")
    dossier_code: str
    agency_name: str = Field(description="the agency whose key signed")
    signed_at: datetime
    signer: str = Field(description="the signing certificate's subject")
    demo: bool = Field(description="signed with a demo key (chữ ký thử nghiệm): no legal value")
    sha256: str = Field(description="SHA-256 of the PDF as issued")


class SignatureOut(BaseModel):
    """One signature of the uploaded PDF, checked by pyHanko's validator against the trust roots."""

    signer: str = Field(description="the certificate's subject")
    signer_organization: str | None
    issuer: str
    serial: str = Field(description="the certificate's serial number, hexadecimal")
    signed_at: datetime | None = Field(description="when the signer says it signed")
    timestamp_at: datetime | None = Field(description="a timestamp authority's time (PAdES B-T), when present")
    intact: bool = Field(description="the signed bytes are those that were signed")
    valid: bool = Field(description="the signature verifies with the certificate's key")
    trusted: bool = Field(description="the certificate chains to a configured trust root")
    unchanged: bool = Field(description="nothing was added to the file after this signature")
    modification: str | None = Field(description="pyHanko's judgement of what was added after it (NONE, FORM_FILLING…)")
    ok: bool = Field(description="intact, valid, trusted and no illegal change after it")
    demo: bool = Field(description="a demo certificate (chữ ký thử nghiệm)")
    issued: IssuedDocumentOut | None = Field(description="our register's line for this signature, when it is ours")


class VerificationOut(BaseModel):
    """The verdict on an uploaded PDF."""

    valid: bool = Field(description="signed, every signature ok, and the last one covers the whole file")
    readable: bool = Field(description="the file could be read as a PDF")
    signed: bool
    sha256: str
    matches_issued: bool = Field(description="byte for byte the PDF Một Cửa issued")
    signatures: list[SignatureOut]
