"""Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True, doc="method and route, plus the caller")
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
