"""Procedures (thủ tục hành chính) with versions and validity dates."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.agency import Agency
from services.models.base import Base, Timestamps, UUIDPk


class Procedure(Base, UUIDPk, Timestamps):
    __tablename__ = "procedure"
    __table_args__ = (
        Index(
            "ix_procedure_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True, doc="national mã TTHC")
    name: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(200), index=True, doc="lĩnh vực")
    level: Mapped[str] = mapped_column(String(32), doc="agency level code that resolves it")
    search_text: Mapped[str] = mapped_column(
        Text, default="", doc='"<code> <name> | <field>" folded: lower case, no diacritics, đ→d (core.text)'
    )

    versions: Mapped[list[ProcedureVersion]] = relationship(lazy="raise", order_by="ProcedureVersion.version")


class ProcedureVersion(Base, UUIDPk, Timestamps):
    """What a dossier is bound to: the rules in force when it was received."""

    __tablename__ = "procedure_version"
    __table_args__ = (UniqueConstraint("procedure_id", "version"),)

    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedure.id", ondelete="CASCADE"))
    version: Mapped[int]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    published: Mapped[bool] = mapped_column(default=False)
    time_limit_value: Mapped[int]
    time_limit_unit: Mapped[str] = mapped_column(
        String(16),
        doc="working_days or working_hours; national records also days, hours, months or unknown (value 0)",
    )
    cutoff_rule: Mapped[bool] = mapped_column(
        default=True, doc="counter receipt after the cut-off counts from next day"
    )
    clock_restarts_on_supplement: Mapped[bool] = mapped_column(default=False)
    online_mode: Mapped[str] = mapped_column(String(16), doc="full, partial or none")
    interagency: Mapped[bool] = mapped_column(default=False, doc="liên thông")
    postal_submission: Mapped[bool] = mapped_column(default=True)
    postal_return: Mapped[bool] = mapped_column(default=True)
    result_description: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[list[str]] = mapped_column(JSONB, default=list)
    source: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict, doc="provenance and notes")

    procedure: Mapped[Procedure] = relationship(back_populates="versions", lazy="raise")
    documents: Mapped[list[ProcedureDocument]] = relationship(lazy="raise", order_by="ProcedureDocument.position")
    fees: Mapped[list[ProcedureFee]] = relationship(lazy="raise", order_by="ProcedureFee.position")
    agencies: Mapped[list[ProcedureAgency]] = relationship(lazy="raise")


class ProcedureDocument(Base, UUIDPk):
    """A required document (thành phần hồ sơ)."""

    __tablename__ = "procedure_document"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedure_version.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(32), doc="original, copy, original_or_copy, present_original, electronic")
    mandatory: Mapped[bool] = mapped_column(default=True)
    template_path: Mapped[str | None] = mapped_column(String(500), doc="downloadable form template (tờ khai)")


class ProcedureFee(Base, UUIDPk):
    __tablename__ = "procedure_fee"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedure_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32), doc="lệ phí, phí, other, none")
    name: Mapped[str] = mapped_column(Text)
    amount_vnd: Mapped[int | None] = mapped_column(doc="null when the province sets it")
    note: Mapped[str | None] = mapped_column(Text)


class ProcedureAgency(Base):
    """Who receives, resolves or coordinates a procedure version."""

    __tablename__ = "procedure_agency"

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("procedure_version.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True, doc="receiving, resolving, coordinating")

    agency: Mapped[Agency] = relationship(lazy="raise")
