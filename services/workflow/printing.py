"""Forms 04 (apology), 05 (notice of stopping) and 06 (process control sheet) for a dossier, printed for
staff who may see it (an audited read: ``services.dossier.printing.print_for_staff``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin
from services.core.auth import Actor
from services.core.errors import Conflict
from services.core.offload import ProcessOffload
from services.dossier import forms
from services.dossier.printing import Renderer, agency_header, print_for_staff
from services.models import Agency, Dossier, Handover, Procedure, ProcedureVersion, Staff
from services.workflow.dossiers import timeline

ACTION_NOTES = {
    "submit": "Nộp hồ sơ",
    "receive": "Tiếp nhận",
    "route": "Chuyển xử lý",
    "forward": "Chuyển bước tiếp theo",
    "transfer": "Chuyển liên thông",
    "send_back": "Trả lại bước trước",
    "request_supplement": "Yêu cầu bổ sung",
    "supplement": "Công dân bổ sung",
    "request_payment": "Yêu cầu nộp phí, lệ phí",
    "resolve": "Có kết quả",
    "return_result": "Trả kết quả",
    "apologize": "Xin lỗi, hẹn lại",
    "stop": "Dừng xử lý",
    "withdraw": "Rút hồ sơ",
}


async def _basics(session: AsyncSession, dossier: Dossier) -> tuple[Procedure, Agency, forms.AgencyHeader]:
    version = await session.get(ProcedureVersion, dossier.procedure_version_id)
    assert version is not None
    procedure = await session.get(Procedure, version.procedure_id)
    agency = await session.get(Agency, dossier.current_agency_id or dossier.receiving_agency_id)
    assert procedure is not None
    assert agency is not None
    return procedure, agency, await agency_header(session, agency)


async def _last(session: AsyncSession, dossier: Dossier, action: str) -> tuple[Handover, str]:
    line = await session.scalar(
        select(Handover)
        .where(Handover.dossier_id == dossier.id, Handover.action == action)
        .order_by(Handover.at.desc(), Handover.seq.desc())
        .limit(1)
    )
    if line is None:
        raise Conflict(f"This dossier has no '{action}' to print.", code=f"no_{action}")
    staff = await session.get(Staff, line.from_staff_id) if line.from_staff_id else None
    return line, staff.full_name if staff else ""


async def apology_pdf(session: AsyncSession, dossier: Dossier, *, offload: ProcessOffload, now: datetime) -> bytes:
    """Mẫu 04, from the apologize action."""
    procedure, _, header = await _basics(session, dossier)
    line, signer = await _last(session, dossier, "apologize")
    assert dossier.received_at is not None
    assert dossier.due_at is not None
    assert dossier.appointment_at is not None
    return await offload.run_released(
        session,
        forms.render_apology,
        forms.ApologyForm(
            header=header, dossier_code=dossier.code, applicant_name=dossier.applicant_name,
            procedure_name=procedure.name, received_at=dossier.received_at, original_appointment_at=dossier.due_at,
            reason=line.comment or "", new_appointment_at=dossier.appointment_at, signer_name=signer, printed_at=now,
            applicant_address=dossier.applicant_address,
        )
    )  # fmt: skip


async def stop_pdf(session: AsyncSession, dossier: Dossier, *, offload: ProcessOffload, now: datetime) -> bytes:
    """Mẫu 05, the notice of stopping, with its reasons."""
    procedure, _, header = await _basics(session, dossier)
    line, signer = await _last(session, dossier, "stop")
    reasons = line.detail.get("reasons") or [line.comment or ""]
    return await offload.run_released(
        session,
        forms.render_stop,
        forms.StopForm(
            header=header, dossier_code=dossier.code, applicant_name=dossier.applicant_name,
            procedure_name=procedure.name, received_at=dossier.received_at or now, reasons=list(reasons),  # type: ignore[call-overload]
            signer_name=signer, printed_at=now, applicant_address=dossier.applicant_address,
        )
    )  # fmt: skip


async def control_sheet_pdf(
    session: AsyncSession, dossier: Dossier, *, offload: ProcessOffload, now: datetime
) -> bytes:
    """Mẫu 06: one row per hand-over, with the step due time and its outcome."""
    procedure, _, header = await _basics(session, dossier)
    rows = [
        forms.ControlRow(
            agency_name=row.receiver.agency_name or row.giver.agency_name or "",
            handed_at=row.at,
            giver_name=row.giver.full_name or "Công dân",
            receiver_name=row.receiver.full_name,
            giver_unit=row.giver.agency_name,
            receiver_unit=row.receiver.agency_name,
            step_name=ACTION_NOTES.get(row.action, row.action),
            step_due_at=row.step_due_at,
            outcome=row.step_outcome,
            note=row.comment,
        )
        for row in await timeline(session, dossier)
    ]
    return await offload.run_released(
        session,
        forms.render_control_sheet,
        forms.ControlSheetForm(
            header=header, dossier_code=dossier.code, applicant_name=dossier.applicant_name,
            procedure_name=procedure.name, received_at=dossier.received_at or now,
            appointment_at=dossier.due_at or now, rows=rows, printed_at=now,
            new_appointment_at=dossier.appointment_at, returned_at=dossier.returned_at,
        )
    )  # fmt: skip


WorkflowForm = Literal["04", "05", "06"]
_RENDERERS: dict[WorkflowForm, Renderer] = {"04": apology_pdf, "05": stop_pdf, "06": control_sheet_pdf}


async def print_form(
    session: AsyncSession, code: str, actor: Actor, *, form: WorkflowForm, origin: Origin, offload: ProcessOffload,
    now: datetime,
) -> bytes:  # fmt: skip
    """Form 04, 05 or 06 of a dossier the caller may see; the print is audited."""
    return await print_for_staff(
        session, code, actor, form=form, render=_RENDERERS[form], origin=origin, offload=offload, now=now
    )
