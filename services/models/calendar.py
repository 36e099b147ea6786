"""The working calendar per agency and its editable overrides."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk

DEFAULT_WEEKLY_WINDOWS: dict[str, list[list[str]]] = {
    day: [["07:30", "11:30"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
}


class WorkingCalendar(Base, UUIDPk, Timestamps):
    """Weekly working windows; agency_id null is the province-wide default."""

    __tablename__ = "working_calendar"

    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"), unique=True)
    weekly_windows: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONB, default=lambda: DEFAULT_WEEKLY_WINDOWS)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")


class CalendarOverride(Base, UUIDPk):
    """An extra closure or an extra working day, with who changed it and why."""

    __tablename__ = "calendar_override"
    __table_args__ = (
        Index(
            "ix_calendar_override_agency_day",
            "agency_id",
            "day",
            unique=True,
            postgresql_nulls_not_distinct=True,
            postgresql_where="revoked_at IS NULL",
        ),
    )

    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16), doc="closed or working")
    windows: Mapped[list[list[str]] | None] = mapped_column(JSONB, doc="for a working day; default windows if null")
    reason: Mapped[str] = mapped_column(Text)
    changed_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(doc="overrides are revoked, never deleted: the history stays")
    revoked_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class CalendarRevision(Base):
    """One row (id 1): the calendar data's revision, set by a trigger on every write to the two tables above
    from a sequence (never reused, even after a rollback); each process keys its built calendars by it
    (services/calendar/store.py), so a change made through one replica is seen by every other at once."""

    __tablename__ = "calendar_revision"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
