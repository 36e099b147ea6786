"""SLA clocks: the dossier's and each step's, with every pause logged."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class SlaTimer(Base, UUIDPk, Timestamps):
    """A clock against a legal deadline: kind ``dossier`` (whole dossier) or ``step``."""

    __tablename__ = "sla_timer"
    __table_args__ = (
        Index("ix_sla_timer_open_due", "due_at", postgresql_where="ended_at IS NULL"),
        Index("ix_sla_timer_open_due_soon", "due_soon_at", postgresql_where="ended_at IS NULL"),
        UniqueConstraint("dossier_id", "kind", "step_seq"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    step_seq: Mapped[int] = mapped_column(default=0, doc="0 for the dossier clock, n for the n-th step run")
    step_position: Mapped[int | None]
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"), index=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    budget_seconds: Mapped[int] = mapped_column(doc="working time allowed")
    started_at: Mapped[datetime] = mapped_column(doc="clock start (after the receipt rules)")
    due_at: Mapped[datetime] = mapped_column(doc="legal due time, paused working time added back")
    due_soon_at: Mapped[datetime] = mapped_column(doc="when the 'due soon' warning is due")
    paused_at: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(default=0, doc="working time paused so far")
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16), doc="early, on_time, late")
    used_seconds: Mapped[int | None] = mapped_column(
        doc="working time from the start to the end, pauses excluded (set when it ends with an outcome)"
    )
    due_soon_emitted_at: Mapped[datetime | None]
    overdue_emitted_at: Mapped[datetime | None]


class SlaPause(Base, UUIDPk):
    __tablename__ = "sla_pause"

    timer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sla_timer.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32), doc="supplement or payment")
    note: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime]
    resumed_at: Mapped[datetime | None]
    working_seconds: Mapped[int | None] = mapped_column(doc="working time the pause lasted")
    restarted: Mapped[bool] = mapped_column(default=False, doc="the procedure restarts the clock instead")
