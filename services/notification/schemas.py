"""What notify_api takes and answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, field_validator

from services.core.validation import StrictModel

ChannelName = Literal["email", "sms", "in_app"]
Locale = Literal["vi", "en"]
NotificationStatus = Literal["queued", "sent", "delivered", "failed"]
DeliveryStatus = Literal["pending", "delivered", "failed"]


# --- templates ---------------------------------------------------------------------------------------


class TemplateIn(StrictModel):
    event_type: str = Field(min_length=3, max_length=64, examples=["dossier.received"])
    channel: ChannelName
    locale: Locale = "vi"
    subject: str | None = Field(default=None, max_length=300, description="email and in-app; ignored for SMS")
    body: str = Field(min_length=1, max_length=10_000, description="Jinja2 (sandboxed), plain text")
    active: bool = Field(
        default=True, strict=True, description="an inactive newest version turns the channel off for the event"
    )


class TemplateOut(BaseModel):
    id: uuid.UUID
    event_type: str
    channel: str
    locale: str
    version: int
    active: bool
    subject: str | None
    body: str
    created_at: datetime


class PreviewIn(StrictModel):
    event_type: str = Field(min_length=3, max_length=64)
    channel: ChannelName
    locale: Locale = "vi"
    subject: str | None = Field(default=None, max_length=300, description="omit subject and body: the current ones")
    body: str | None = Field(default=None, min_length=1, max_length=10_000)
    data: dict[str, Any] = Field(default_factory=dict, description="values that replace the sample data")


class SmsLengthOut(BaseModel):
    encoding: Literal["GSM-7", "UCS-2"]
    characters: int = Field(description="septets for GSM-7, UTF-16 code units for UCS-2")
    segments: int
    per_segment: int
    max_segments: int


class PreviewOut(BaseModel):
    event_type: str
    channel: str
    locale: str
    subject: str | None
    body: str
    sms: SmsLengthOut | None = None


# --- notifications -----------------------------------------------------------------------------------


class NotificationOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    dossier_code: str | None
    channel: str
    recipient: str = Field(description="masked: 0912***678, th***@example.vn; staff:<id> or agency:<id> in the app")
    subject: str | None
    body: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    read_at: datetime | None


class InboxOut(BaseModel):
    unread: int
    items: list[NotificationOut]


class ReceiptOut(BaseModel):
    webhook_id: str
    outcome: str = Field(description="applied, duplicate, already_final, unknown_reference, ignored_unknown")


# --- outbound webhooks -------------------------------------------------------------------------------


class SubscriptionIn(StrictModel):
    name: str = Field(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    url: AnyHttpUrl
    secret_ref: str = Field(max_length=100, description="the setting that holds the signing secret (whsec_…)")
    event_types: list[str] = Field(min_length=1, max_length=50)
    active: bool = Field(default=True, strict=True)


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    secret_ref: str
    event_types: list[str]
    active: bool
    created_at: datetime


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="also the webhook-id header")
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None = Field(description="a short classification (HTTP 500, timeout, refused: …)")
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None

    @field_validator("last_error")
    @classmethod
    def _classification_only(cls, value: str | None) -> str | None:
        # rows written before the log stopped keeping answers held "HTTP 500: <the subscriber's body>"
        return value.split(":", 1)[0] if value and value.startswith("HTTP ") else value


class DeliveryPage(BaseModel):
    counts: dict[str, int]
    items: list[DeliveryOut]
