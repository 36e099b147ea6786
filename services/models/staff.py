"""Staff accounts and their roles."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.agency import Agency
from services.models.base import Base, Timestamps, UUIDPk


class Role(Base, Timestamps):
    """admin, counter (tiếp nhận), specialist (chuyên viên), head (lãnh đạo), leader, inspector."""

    __tablename__ = "role"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Staff(Base, UUIDPk, Timestamps):
    __tablename__ = "staff"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agency.id"), doc="department or office inside the agency, when any"
    )
    active: Mapped[bool] = mapped_column(default=True)
    token_version: Mapped[int] = mapped_column(
        default=0,
        server_default="0",
        doc="tokens carry it; raised on logout, deactivation, role, agency or password change",
    )
    demo: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false(), doc="a demo account: cannot sign in outside demo mode"
    )

    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id], lazy="raise")
    roles: Mapped[list[StaffRole]] = relationship(lazy="raise", cascade="all, delete-orphan")


class StaffRole(Base):
    __tablename__ = "staff_role"

    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code"), primary_key=True)
