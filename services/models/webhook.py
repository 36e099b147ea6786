"""Inbound webhook receipts (deduplicated by ``webhook-id``) and outbound subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
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


class WebhookDelivery(Base, UUIDPk, Timestamps):
    """One signed POST owed to a subscriber: its log (status, attempts, last answer) and replay handle.

    The row id is the ``webhook-id`` header, the same on every retry and replay. ``payload`` holds no
    personal data; what a partner needs of it (the postal pickup address) is added when it is sent.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", "event_type"),
        Index("ix_webhook_delivery_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_webhook_delivery_failed", "created_at", postgresql_where="status = 'failed'"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(doc="the event that caused it")
    event_type: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, delivered, failed")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
