"""The transactional outbox and the receivers' record of processed events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UUIDPk


class OutboxEvent(Base, UUIDPk):
    """An event committed with the change that caused it; the relay delivers it over HTTP.

    status: ``pending`` (to deliver), ``delivered``, ``parked`` (kept failing; visible, re-queueable).
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_pending", "available_at", postgresql_where="status = 'pending'"),
        Index("ix_outbox_event_status", "status"),
    )

    event_type: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(32), doc="intake, workflow or notify")
    source: Mapped[str] = mapped_column(String(32))
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    available_at: Mapped[datetime] = mapped_column(server_default=func.now(), doc="not before; leases and backoff")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    parked_at: Mapped[datetime | None]
    trace_context: Mapped[str | None] = mapped_column(
        String(64), doc="W3C traceparent of the span that wrote it (services.core.tracing); NULL: not traced"
    )


class ProcessedEvent(Base):
    """Written by a receiver in the same transaction as its effect: the deduplication key."""

    __tablename__ = "processed_event"

    consumer: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(server_default=func.now())
