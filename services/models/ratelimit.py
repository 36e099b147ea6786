"""Counters for rate limits shared by every process (fixed windows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hit"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True, doc="e.g. track-fail:ip:203.0.113.7")
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
