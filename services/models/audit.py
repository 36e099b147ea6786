"""Who read or changed which dossier's personal data, when, and from where."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UUIDPk

RESOURCE_CHARS = 200
USERNAME_CHARS = 64


class AuditLog(Base, UUIDPk):
    """Append-only. ``action``: read, create, update, export, login_ok, login_failed, denied."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_dossier_at", "dossier_id", "at"),
        Index("ix_audit_log_username_action_at", "username", "action", "at"),
    )

    at: Mapped[datetime] = mapped_column(server_default=func.now())
    service: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    actor_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    username: Mapped[str | None] = mapped_column(String(USERNAME_CHARS))
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"))
    resource: Mapped[str] = mapped_column(String(RESOURCE_CHARS), doc="method and path, or what was touched")
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
