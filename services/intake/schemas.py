"""What clients send to and get from intake_api (DESIGN "Public contract" field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from services.core.validation import StrictModel, check_id_number, normalise_vn_phone
from services.domain.vocabulary import DossierStatus

ReturnMethod = Literal["counter", "postal", "online"]

# why the post could not deliver a result (the operator's reason codes; any other code is "other")
POSTAL_FAILURE_LABELS_VI: dict[str, str] = {
    "recipient_absent": "người nhận vắng nhà",
    "address_not_found": "không tìm thấy địa chỉ",
    "recipient_unreachable": "không liên lạc được với người nhận",
    "refused_by_recipient": "người nhận từ chối nhận",
    "other": "lý do khác",
}
POSTAL_FAILURE_LABELS_EN: dict[str, str] = {
    "recipient_absent": "nobody was at home",
    "address_not_found": "the address could not be found",
    "recipient_unreachable": "the recipient could not be reached",
    "refused_by_recipient": "the recipient refused it",
    "other": "another reason",
}


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


class DecisionIn(StrictModel):
    comment: str | None = Field(default=None, max_length=2000)


class RefusalIn(StrictModel):
    reasons: list[str] = Field(min_length=1, max_length=20)

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, value: list[str]) -> list[str]:
        cleaned = [reason.strip() for reason in value if reason.strip()]
        if not cleaned or any(len(reason) < 5 for reason in cleaned):
            raise ValueError("each reason must say why, in at least 5 characters")
        return cleaned


class SupplementItem(StrictModel):
    document: str = Field(min_length=2, max_length=300)
    reason: str = Field(min_length=5, max_length=1000)


class SupplementRequestIn(StrictModel):
    items: list[SupplementItem] = Field(min_length=1, max_length=20)


class StaffUploadIn(StrictModel):
    """Staff uploads: scans of input documents, or the result (kết quả giải quyết)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["input", "result"] = "input"


class SecretIn(StrictModel):
    secret: str = Field(min_length=4, max_length=64)


class ReceiptIn(StrictModel):
    secret: str | None = Field(
        default=None,
        min_length=4,
        max_length=64,
        description="printed on the slip; required unless the dossier came online (its applicant has the secret)",
    )


class WithdrawIn(SecretIn):
    reason: str | None = Field(default=None, max_length=1000)


class FeedbackIn(SecretIn):
    rating: Literal["satisfied", "acceptable", "dissatisfied"]
    comment: str | None = Field(default=None, max_length=2000)


class HistoryItem(BaseModel):
    at: datetime
    status: DossierStatus
    status_label: str = Field(description="Vietnamese; the SPA translates ``status``")
    note: str | None = Field(description="the note in Vietnamese, as written")
    note_code: str | None = Field(
        default=None, description="the system note's stable code (null: a note with no code, show ``note``)"
    )
    note_params: dict[str, Any] = Field(
        default_factory=dict,
        description="the values the note names: ISO 8601 instants, amounts in đồng, counts, officers' words as typed",
    )


class ShipmentOut(BaseModel):
    """A public-post shipment: the tracking number the citizen can follow on the post's own site."""

    direction: Literal["inbound", "outbound"] = Field(description="inbound: the dossier; outbound: the result")
    tracking_number: str | None
    status: str = Field(
        description="inbound: booked, requested, picked_up, handed_over, cancelled; outbound: booked, picked_up, "
        "delivery_failed, redelivery_scheduled, delivered, returned (back at the desk)"
    )
    failed_attempts: int = Field(description="delivery attempts that failed")
    failure_code: str | None = Field(description="the operator's reason for the last failed attempt")
    redelivery_at: datetime | None = Field(description="when the post will try again, when it said")
    updated_at: datetime


class TrackingBriefOut(BaseModel):
    """What the phone number alone shows: the state and the due time, nothing else."""

    code: str
    status: DossierStatus
    status_code: int
    status_label: str
    due_at: datetime | None
    overdue: bool
    paused: bool = Field(description="the clock is stopped (awaiting a supplement or payment)")


class TrackingOut(BaseModel):
    code: str
    status: DossierStatus
    status_code: int
    status_label: str
    procedure_name: str
    agency_name: str
    agency_address: str | None = Field(
        default=None, description="the desk's street address: where a result the post brought back waits"
    )
    received_at: datetime | None
    due_at: datetime | None = Field(description="the appointment the citizen holds (moved once by an apology)")
    overdue: bool
    paused_since: datetime | None
    paused_reason: str | None
    history: list[HistoryItem]
    shipments: list[ShipmentOut] = Field(default_factory=list)
