"""Dossiers (hồ sơ), their daily code sequence, documents and payments."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.domain.vocabulary import STATUS_CODES
from services.models.base import Base, Timestamps, UUIDPk
from services.models.procedure import ProcedureVersion


class Dossier(Base, UUIDPk, Timestamps):
    __tablename__ = "dossier"
    __table_args__ = (
        Index("ix_dossier_status_due", "status", "due_at"),
        Index("ix_dossier_current_agency_status", "current_agency_id", "status"),
        # a signed-in citizen's dossiers ("Hồ sơ của tôi", services/dossier/ownership.py), newest first
        Index("ix_dossier_applicant_id_number_submitted_at", "applicant_id_number", "submitted_at"),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedure_version.id"), index=True)
    receiving_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    current_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    current_assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), index=True)
    workflow_template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workflow_template.id"), doc="the template it was routed with (kept when a new one is published)"
    )
    current_step_position: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(32), doc="a services.domain.vocabulary.DossierStatus")
    channel: Mapped[int] = mapped_column(doc="1 counter, 2 online, 3 public post")
    lock_version: Mapped[int] = mapped_column(Integer, default=1, doc="optimistic concurrency")

    # personal data: never logged, never in public responses
    applicant_kind: Mapped[str] = mapped_column(String(16), default="citizen", doc="citizen or business")
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id_number: Mapped[str] = mapped_column(String(20), doc="12-digit CCCD or tax code")
    applicant_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    applicant_address: Mapped[str | None] = mapped_column(Text)
    applicant_locale: Mapped[str] = mapped_column(
        String(8), default="vi", server_default="vi", doc="the language of the applicant's notifications: vi, en"
    )
    return_method: Mapped[str] = mapped_column(String(16), doc="counter, postal, online")
    postal_address: Mapped[str | None] = mapped_column(Text)
    secret_hash: Mapped[str] = mapped_column(String(200))

    submitted_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    clock_start_at: Mapped[datetime | None] = mapped_column(doc="where the legal clock starts (receipt rules)")
    due_at: Mapped[datetime | None] = mapped_column(doc="legal due time, pauses added back")
    appointment_at: Mapped[datetime | None] = mapped_column(doc="new appointment after an apology")
    resolved_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16), doc="early, on_time, late")
    used_working_seconds: Mapped[int | None] = mapped_column(
        doc="working time the dossier clock ran from its start to the result, pauses excluded (set when resolved)"
    )
    limit_working_seconds: Mapped[int | None] = mapped_column(
        doc="the legal limit the dossier clock had, in working seconds (1 working day = 8 h), set when resolved"
    )
    supplement_count: Mapped[int] = mapped_column(default=0)
    late_by_rule: Mapped[bool] = mapped_column(default=False, doc="a second supplement request counts as late")
    apology_reason: Mapped[str | None] = mapped_column(Text)
    apology_at: Mapped[datetime | None]
    overdue: Mapped[bool] = mapped_column(default=False)
    apology_issued: Mapped[bool] = mapped_column(default=False)
    digitised: Mapped[bool] = mapped_column(default=False)
    paid_online: Mapped[bool] = mapped_column(default=False)

    procedure_version: Mapped[ProcedureVersion] = relationship(lazy="raise")

    @property
    def status_code(self) -> int:
        return STATUS_CODES[self.status]


class DossierSequence(Base):
    """Daily sequence per receiving agency, for codes like 000.17.22.H56-251103-0001."""

    __tablename__ = "dossier_sequence"

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


def dossier_code(agency_code: str, day: date, value: int) -> str:
    """The dossier code ``<agency code>-<yymmdd>-<nnnn>``: the receiving agency, the day of receipt
    (Vietnam time) and that day's counter value (``DossierSequence``).

    Written once, here beside the counter it numbers, so that the counter desk
    (``services.dossier.filing.next_code``) and the bulk loader (``services.stats.bulk``), which
    share the counters, also share the format. Pure: the caller takes the value from the counter.
    """
    return f"{agency_code}-{day:%y%m%d}-{value:04d}"


class Document(Base, UUIDPk, Timestamps):
    """A file attached to a dossier: an input document or a result."""

    __tablename__ = "document"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), doc="input, supplement or result")
    required_code: Mapped[str | None] = mapped_column(String(32), doc="which required document it answers")
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    uploaded_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))


class Payment(Base, UUIDPk, Timestamps):
    """A fee or tax the applicant must pay (nghĩa vụ tài chính)."""

    __tablename__ = "payment"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested", doc="requested, paid, cancelled")
    provider_reference: Mapped[str | None] = mapped_column(String(200), unique=True)
    online: Mapped[bool] = mapped_column(default=True)
    requested_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


class PostalShipment(Base, UUIDPk, Timestamps):
    """A pickup from the applicant or a delivery of the result by public post."""

    __tablename__ = "postal_shipment"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16), doc="inbound (dossier) or outbound (result)")
    tracking_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(32), doc="a services.domain.vocabulary.DossierStatus")
    handed_over_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0", doc="failed delivery attempts")
    failure_code: Mapped[str | None] = mapped_column(String(32), doc="the operator's reason for the last failure")
    redelivery_at: Mapped[datetime | None] = mapped_column(doc="when the operator scheduled the next attempt")
    operator_reference: Mapped[str | None] = mapped_column(String(64), doc="the operator's own booking reference")
    fee_vnd: Mapped[int | None] = mapped_column(BigInteger, doc="the operator's fee for this shipment")
    booked_at: Mapped[datetime | None] = mapped_column(doc="when the operator confirmed the booking")


class Handover(Base, UUIDPk):
    """One line of the process control sheet (phiếu kiểm soát quá trình)."""

    __tablename__ = "handover"
    __table_args__ = (Index("ix_handover_dossier_at", "dossier_id", "at"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), doc="order of recording, for lines with the same instant")
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    status_after: Mapped[str] = mapped_column(String(32))
    step_position: Mapped[int | None]
    from_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    to_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    from_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    to_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    public_note: Mapped[str | None] = mapped_column(Text, doc="what the citizen's tracking page shows")
    note_code: Mapped[str | None] = mapped_column(
        String(48), doc="the public note's stable code (services.dossier.notes), translated by the SPA"
    )
    note_params: Mapped[dict[str, object]] = mapped_column(
        JSONB, default=dict, server_default="{}", doc="the values the public note names (ISO instants, đồng, as typed)"
    )
    detail: Mapped[dict[str, object]] = mapped_column(
        JSONB, default=dict, server_default="{}", doc="structured content: reasons, requested documents"
    )
    step_due_at: Mapped[datetime | None]
    step_outcome: Mapped[str | None] = mapped_column(String(16))
