"""Workflow templates as data: ordered steps, units, roles, time shares, allowed actions."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, Timestamps, UUIDPk


class WorkflowTemplate(Base, UUIDPk, Timestamps):
    __tablename__ = "workflow_template"
    __table_args__ = (UniqueConstraint("procedure_version_id", "version"),)

    procedure_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedure_version.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    on_the_spot: Mapped[bool] = mapped_column(
        default=False,
        server_default=sa.false(),
        doc="4 tại chỗ: one step at the desk, received, decided and returned in one visit",
    )

    steps: Mapped[list[WorkflowStep]] = relationship(lazy="raise", order_by="WorkflowStep.position")


class WorkflowStep(Base, UUIDPk):
    __tablename__ = "workflow_step"
    __table_args__ = (UniqueConstraint("template_id", "position"),)

    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_template.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(
        String(300), doc="the step's name in English when the template gives one (the SPA's English mode)"
    )
    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agency.id"), doc="fixed unit; null = the dossier's receiving agency"
    )
    agency_level_code: Mapped[str | None] = mapped_column(
        ForeignKey("agency_level.code"), doc="or any unit of this level under the receiving agency's province"
    )
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code"))
    share_value: Mapped[float] = mapped_column(Numeric(8, 3), doc="this step's share of the time limit")
    share_unit: Mapped[str] = mapped_column(String(16), doc="working_days or working_hours")
    allowed_actions: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
