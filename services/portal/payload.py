"""The body of one state change for the national portal (DVCQG), field by field.

The names follow the national portal's sync API (``MaHoSo``, ``TrangThaiHoSo``, ``NgayTiepNhan``…); the
exact field set a province must send comes with the portal's integration specification, and is to be
checked against it before going live (docs/integrations/national-portal.md). Decisions:

- **Built when sent, from the journal row and the dossier.** The row (``portal_sync``) keeps what belongs
  to the moment of the change — the state, when it began, the appointment then in force, the outcome —
  and no personal data; codes and the applicant's identity are read from the dossier at send time, as the
  postal operator's contact is (services/notification/webhook_dispatch.py).
- **The state still current (the dossier's latest row) is sent with today's facts**: its appointment and
  outcome are read from the dossier, so what was set after the status in the same transaction ("4 tại chỗ"
  counts the dossier early after returning it) or since (an apology's new appointment before the row was
  sent) is what the portal gets; an older state is sent as the row recorded it.
- **A date is sent only if it had happened by the time of the state**, so a state sent late (a backlog,
  a replay) says what was true then: a "processing" sent after the result carries no ``NgayKetThucXuLy``.
- **Times are ISO 8601 in Vietnam's offset** (``2026-12-04T09:15:00+07:00``), to the second.
- **Personal data only where the national format needs it**: ``ChuHoSo`` (the applicant's name, shown in
  the citizen's and the inspector's view of the dossier) and ``MaDinhDanh`` (the CCCD or tax code, by
  which the portal files the dossier under the citizen's own account). Phone, email, street address and
  postal address are never sent: the portal reaches the citizen through their own account, and each
  copy of a number held elsewhere is one more to leak. Nothing of the body is logged or stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.calendar.working import VN_TZ
from services.domain.vocabulary import STATUS_CODES
from services.models import Agency, Dossier, PortalSync, Procedure, ProcedureVersion

# the on-time outcome of a finished dossier (TinhTrangXuLy): trước hạn, đúng hạn, quá hạn
OUTCOME_CODES: Mapping[str, int] = {"early": 1, "on_time": 2, "late": 3}
# the states after which the outcome is known and sent
WITH_OUTCOME = frozenset({"resolved", "returned"})
APPLICANT_KINDS: Mapping[str, int] = {"citizen": 1, "business": 2}  # LoaiDoiTuong


@dataclass(frozen=True)
class Facts:
    """What the body needs of a dossier beyond its journal row (read in one query for a batch)."""

    code: str
    last_seq: int  # the dossier's latest journal row: the state it is in now
    due_at: datetime | None  # the appointment now in force (apology's, else legal)
    outcome: str | None
    procedure_code: str
    agency_code: str
    channel: int
    applicant_kind: str
    applicant_name: str
    applicant_id_number: str
    submitted_at: datetime | None
    received_at: datetime | None
    resolved_at: datetime | None
    returned_at: datetime | None


@dataclass(frozen=True)
class Change:
    """One journal row, as claimed."""

    id: uuid.UUID
    dossier_id: uuid.UUID
    seq: int
    state: str
    changed_at: datetime
    due_at: datetime | None
    outcome: str | None


async def facts_of(session: AsyncSession, dossier_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Facts]:
    """The facts of each dossier, in one round trip."""
    ids = set(dossier_ids)
    if not ids:
        return {}
    receiving = aliased(Agency)
    latest = select(func.max(PortalSync.seq)).where(PortalSync.dossier_id == Dossier.id).scalar_subquery()
    columns = (
        Dossier.id, Dossier.code, latest, func.coalesce(Dossier.appointment_at, Dossier.due_at),
        Dossier.outcome, Procedure.code, receiving.code, Dossier.channel, Dossier.applicant_kind,
        Dossier.applicant_name, Dossier.applicant_id_number, Dossier.submitted_at, Dossier.received_at,
        Dossier.resolved_at, Dossier.returned_at,
    )  # fmt: skip
    rows = await session.execute(
        select(*columns)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .join(receiving, receiving.id == Dossier.receiving_agency_id)
        .where(Dossier.id.in_(ids))
    )
    return {
        row[0]: Facts(
            code=row[1],
            last_seq=row[2],
            due_at=row[3],
            outcome=row[4],
            procedure_code=row[5],
            agency_code=row[6],
            channel=row[7],
            applicant_kind=row[8],
            applicant_name=row[9],
            applicant_id_number=row[10],
            submitted_at=row[11],
            received_at=row[12],
            resolved_at=row[13],
            returned_at=row[14],
        )
        for row in rows.all()
    }


def vn_time(instant: datetime | None) -> str | None:
    """ISO 8601 in Vietnam's offset, to the second; None stays None."""
    return None if instant is None else instant.astimezone(VN_TZ).isoformat(timespec="seconds")


def _by(instant: datetime | None, moment: datetime) -> str | None:
    """The date if it had happened by ``moment`` (a state sent late says what was true then)."""
    return vn_time(instant) if instant is not None and instant <= moment else None


def body(change: Change, facts: Facts) -> dict[str, Any]:
    """The DVCQG sync body of one state change (every field in docs/integrations/national-portal.md)."""
    at = change.changed_at
    current = change.seq == facts.last_seq
    due, outcome = (facts.due_at, facts.outcome) if current else (change.due_at, change.outcome)
    if change.state in WITH_OUTCOME and facts.outcome:
        # fixed at the resolution, whatever row is sent: "4 tại chỗ" counts it early after both its states were
        # journaled (services/workflow/on_the_spot.py), so the resolved row recorded the outcome before that
        outcome = facts.outcome
    document: dict[str, Any] = {
        "MaDongBo": str(change.id),
        "SoThuTu": change.seq,
        "MaHoSo": facts.code,
        "MaTTHC": facts.procedure_code,
        "MaCoQuan": facts.agency_code,
        "HinhThuc": facts.channel,
        "TrangThaiHoSo": STATUS_CODES[change.state],
        "ThoiDiemCapNhat": vn_time(at),
        "NgayNopHoSo": _by(facts.submitted_at, at),
        "NgayTiepNhan": _by(facts.received_at, at),
        "NgayHenTra": vn_time(due),
        "NgayKetThucXuLy": _by(facts.resolved_at, at),
        "NgayTraKetQua": _by(facts.returned_at, at),
        "TinhTrangXuLy": OUTCOME_CODES.get(outcome or "") if change.state in WITH_OUTCOME else None,
        "LoaiDoiTuong": APPLICANT_KINDS.get(facts.applicant_kind, 1),
        "ChuHoSo": facts.applicant_name,
        "MaDinhDanh": facts.applicant_id_number,
    }
    return {name: value for name, value in document.items() if value is not None}
