"""Agencies as a tree; the levels are data (two-tier local government since 1 July 2025)."""

from __future__ import annotations

import uuid
from datetime import date, time

from sqlalchemy import ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, Timestamps, UUIDPk


class AgencyLevel(Base, Timestamps):
    """A level of government or unit: province, department, commune/ward (cấp tỉnh, sở, cấp xã)."""

    __tablename__ = "agency_level"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(doc="0 = top of the tree")
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]


class Agency(Base, UUIDPk, Timestamps):
    __tablename__ = "agency"

    code: Mapped[str] = mapped_column(String(64), unique=True, doc="code used in dossier codes, e.g. 000.17.22.H56")
    name: Mapped[str] = mapped_column(String(300))
    level_code: Mapped[str] = mapped_column(ForeignKey("agency_level.code"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"), index=True)
    is_one_stop_desk: Mapped[bool] = mapped_column(default=False, doc="has its own Bộ phận một cửa")
    counter_cutoff: Mapped[time] = mapped_column(Time, default=time(15, 0))
    street_address: Mapped[str | None] = mapped_column(String(300), doc="where the postman collects and delivers")
    postal_hours: Mapped[str | None] = mapped_column(String(200), doc="when the desk receives the postman")
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    level: Mapped[AgencyLevel] = relationship(lazy="raise")
    parent: Mapped[Agency | None] = relationship(remote_side="Agency.id", lazy="raise")
