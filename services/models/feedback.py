"""Citizen feedback: ratings after return, and complaints or suggestions (PAKN, hòm phiếu góp ý)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class Feedback(Base, UUIDPk, Timestamps):
    __tablename__ = "feedback"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[str] = mapped_column(String(16), doc="satisfied, acceptable, dissatisfied")
    comment: Mapped[str | None] = mapped_column(Text)


class Complaint(Base, UUIDPk, Timestamps):
    """A complaint or suggestion with its own deadlines (refuse 2, ask 5, answer 15 working days)."""

    __tablename__ = "complaint"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), doc="complaint or suggestion")
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    # personal data, never logged or published
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="received", doc="received, refused, answered, published")
    received_at: Mapped[datetime]
    answer_due_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
