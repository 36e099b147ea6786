"""Inbound webhook receipts (deduplicated by ``webhook-id``) and outbound subscriptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class WebhookReceipt(Base, UUIDPk):
    __tablename__ = "webhook_receipt"
    __table_args__ = (UniqueConstraint("source", "webhook_id"),)

    source: Mapped[str] = mapped_column(String(32), doc="postal, payment, sms")
    webhook_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32), doc="applied, ignored_unknown, rejected")


class WebhookSubscription(Base, UUIDPk, Timestamps):
    """A subscriber (e.g. the postal operator) to whom notify_api sends signed webhooks."""

    __tablename__ = "webhook_subscription"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_ref: Mapped[str] = mapped_column(String(100), doc="name of the setting holding the signing secret")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    active: Mapped[bool] = mapped_column(default=True)
