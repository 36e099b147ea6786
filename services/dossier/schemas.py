"""The dossier as filed and as answered: the submission a citizen or the desk sends (online, at the
counter, on the spot) and the dossier it gets back (DESIGN "Public contract" field names).

Shared by intake_api's routes and workflow's "4 tại chỗ" (``services.workflow.on_the_spot``), which
files a counter submission and answers with the same dossier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

from services.core.validation import StrictModel, check_id_number, normalise_vn_phone
from services.domain.vocabulary import DossierStatus

ReturnMethod = Literal["counter", "postal", "online"]


class ApplicantIn(StrictModel):
    full_name: str = Field(min_length=2, max_length=200)
    id_number: str = Field(description="12-digit CCCD, or a 10/13-digit tax code for a business")
    phone: str | None = Field(default=None, description="Vietnamese mobile number")
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=500)

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        cleaned = " ".join(value.split())
        if any(ch.isdigit() for ch in cleaned):
            raise ValueError("a name has no digits")
        return cleaned

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str) -> str:
        return check_id_number(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_vn_phone(value) if value else None

    @property
    def kind(self) -> str:
        return "citizen" if len(self.id_number) == 12 else "business"


class SubmissionIn(StrictModel):
    procedure_code: str = Field(min_length=1, max_length=64)
    agency_code: str | None = Field(
        default=None, max_length=64, description="the one-stop desk; required when the procedure has several"
    )
    applicant: ApplicantIn
    return_method: ReturnMethod = "counter"
    postal_address: str | None = Field(default=None, min_length=10, max_length=500)
    pickup_by_post: bool = Field(
        default=False, strict=True, description="the postal operator collects the dossier (channel 3)"
    )
    language: Literal["vi", "en"] = Field(
        default="vi", description="the language of the emails and SMS the applicant gets (Vietnamese by default)"
    )

    @model_validator(mode="after")
    def _postal(self) -> SubmissionIn:
        if (self.return_method == "postal" or self.pickup_by_post) and not self.postal_address:
            raise ValueError("postal_address is required when the dossier travels by post")
        if self.applicant.phone is None and self.applicant.email is None:
            raise ValueError("give a phone number or an email so the applicant can be told")
        return self


class CounterDocumentIn(StrictModel):
    code: str = Field(min_length=1, max_length=32, description="the required document's code, e.g. D01")
    copies: int = Field(default=1, strict=True, ge=1, le=100)
    form: Literal["original", "copy", "certified_copy", "electronic"] = "copy"


class CounterSubmissionIn(SubmissionIn):
    documents_received: list[CounterDocumentIn] = Field(default_factory=list, max_length=50)


# the applicant as staff see them (workflow's dossier view; intake's desk view names it DeskApplicantOut)
class ApplicantOut(BaseModel):
    kind: str
    full_name: str
    id_number: str
    phone: str | None
    email: str | None
    address: str | None


class DocumentOut(BaseModel):
    id: str
    kind: str
    required_code: str | None
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


class DossierOut(BaseModel):
    code: str
    status: DossierStatus
    status_code: int
    status_label: str
    channel: int
    procedure_code: str
    agency_code: str
    submitted_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    return_method: str
    documents: list[DocumentOut] = Field(default_factory=list)
    secret: str | None = Field(default=None, description="only in the answer that creates the dossier")
