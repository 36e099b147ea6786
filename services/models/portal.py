"""The national portal's sync journal (Cổng Dịch vụ công quốc gia, DVCQG): one row per national state change.

A row is written by a database trigger on ``dossier`` in the transaction that changes the dossier's
state (migration ``portal_sync``), so it commits with the change or not at all, whichever code path
made it; the notify worker sends it (services/portal/dispatch.py) and records what the portal answered.
It holds no personal data: what the national format needs of the applicant is read from the dossier
when the row is sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class PortalSync(Base, UUIDPk, Timestamps):
    """One state of one dossier owed to (or acknowledged by) the national portal.

    ``seq`` numbers a dossier's rows in the order of its changes; a row is sent only when every earlier
    row of its dossier is acknowledged, so a later state never reaches the portal before an earlier one.
    The row id is the sync's idempotency key, the same on every retry and replay.
    """

    __tablename__ = "portal_sync"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq"),
        Index("ix_portal_sync_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_portal_sync_parked", "parked_at", postgresql_where="status = 'parked'"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(doc="1, 2, … per dossier, in the order of its state changes")
    state: Mapped[str] = mapped_column(String(32), doc="the dossier's state then (DossierStatus)")
    changed_at: Mapped[datetime] = mapped_column(doc="when the state began (the changing transaction's time)")
    due_at: Mapped[datetime | None] = mapped_column(doc="the appointment then in force (apology's, else legal)")
    outcome: Mapped[str | None] = mapped_column(String(16), doc="early, on_time, late (final states)")
    reason: Mapped[str] = mapped_column(String(16), default="change", doc="change, appointment, reconcile")

    status: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, acknowledged, parked")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    parked_at: Mapped[datetime | None]
    ack_id: Mapped[str | None] = mapped_column(String(100), doc="the portal's id for the accepted sync")
    acknowledged_at: Mapped[datetime | None]
    duplicate: Mapped[bool] = mapped_column(default=False, doc="the portal answered that it had it already")
