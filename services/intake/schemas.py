"""What clients send to and get from intake_api (DESIGN "Public contract" field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.core.validation import StrictModel
from services.domain.vocabulary import DossierStatus


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


class ResultDownloadIn(StrictModel):
    secret: str = Field(min_length=4, max_length=64, description="the secret printed on the receipt")
    document_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{36}$",
        description="which result file (an id from the tracking view's `results`); none: the first",
    )


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


class ResultOut(BaseModel):
    """An electronic result file as the tracking page lists it: a neutral name, never the uploaded one."""

    id: str
    filename: str = Field(description="ket-qua-<code>-<n>.<ext>")
    content_type: str
    size_bytes: int


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
    return_method: str = Field(default="counter", description="counter, postal or online (electronic result)")
    results: list[ResultOut] = Field(
        default_factory=list,
        description="online return only, once resolved: the result files to download "
        "(`POST /api/v1/dossiers/{code}/result` with the secret)",
    )
