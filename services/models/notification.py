"""Notification templates (data, versioned) and every notification sent or to send."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class NotificationTemplate(Base, UUIDPk, Timestamps):
    __tablename__ = "notification_template"
    __table_args__ = (UniqueConstraint("event_type", "channel", "locale", "version"),)

    event_type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), doc="email, sms, in_app")
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    builtin: Mapped[bool] = mapped_column(
        default=False,
        server_default=text("false"),
        doc="written by the system (a release's text), not an administrator",
    )
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


class Notification(Base, UUIDPk, Timestamps):
    """Stored before it is sent; one per event, recipient and channel."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "recipient"),
        Index("ix_notification_due", "next_attempt_at", postgresql_where="status = 'queued'"),
        Index("ix_notification_failed", "channel", postgresql_where="status = 'failed'"),
        # only the rows that have one: a citizen's email or SMS names no staff, agency or provider reference
        # until it is sent, and every claim and outcome (a new row version: the queue's columns are indexed)
        # wrote an entry for its NULL into each of these (migration "notification indexes without NULLs")
        Index("ix_notification_dossier", "dossier_id", postgresql_where="dossier_id IS NOT NULL"),
        Index("ix_notification_staff", "recipient_staff_id", postgresql_where="recipient_staff_id IS NOT NULL"),
        Index("ix_notification_agency", "recipient_agency_id", postgresql_where="recipient_agency_id IS NOT NULL"),
        Index(
            "uq_notification_provider_message",
            "provider_message_id",
            unique=True,
            postgresql_where="provider_message_id IS NOT NULL",
        ),
    )

    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"))
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaint.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(300), doc="staff:<uuid>, agency:<uuid>, or an address")
    recipient_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    recipient_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notification_template.id"))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued", doc="queued, sent, delivered, failed")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100), doc="the sender holding the lease")
    handed_over_at: Mapped[datetime | None] = mapped_column(
        doc="email: the message was with the SMTP server but for its last line when the sender recorded this"
    )
    trace_context: Mapped[str | None] = mapped_column(
        String(64), doc="W3C traceparent of the event's handling (services.core.tracing); NULL: not traced"
    )


class NotificationRate(Base):
    """Per-channel send schedule shared by every sender (GCRA: the theoretical arrival time)."""

    __tablename__ = "notification_rate"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    tat: Mapped[datetime] = mapped_column(doc="the next free send slot")
