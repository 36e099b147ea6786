"""Filling the printable forms from the database (the forms themselves are in ``forms/``), and printing
them for staff: a printed form holds the applicant's personal data, so every print is an audited read of
the dossier (``print_for_staff``), by staff the one access rule lets see it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.core.audit import Origin, audit_entry, record, record_printed
from services.core.auth import Actor
from services.core.config import Settings
from services.core.errors import Conflict, NotFound, Unprocessable
from services.core.offload import ProcessOffload
from services.domain.vocabulary import RoleCode
from services.dossier import forms, signatures
from services.dossier.access import dossier_for
from services.dossier.catalogued import catalogued
from services.dossier.printing import Renderer, agency_header, print_for_staff
from services.dossier.secrets import secret_matches
from services.models import Agency, Document, Dossier, Handover, Procedure, ProcedureDocument, ProcedureVersion, Staff

RETURN_LABELS = {
    "counter": "Nhận trực tiếp tại Bộ phận Tiếp nhận và Trả kết quả",
    "postal": "Qua dịch vụ bưu chính công ích",
    "online": "Trực tuyến (bản điện tử)",
}
FORM_LABELS = {
    "original": "Bản chính",
    "copy": "Bản sao",
    "original_or_copy": "Bản chính hoặc bản sao",
    "present_original": "Bản chính (xuất trình)",
    "electronic": "Bản điện tử",
}


async def _context(
    session: AsyncSession, dossier: Dossier
) -> tuple[Procedure, ProcedureVersion, Agency, forms.AgencyHeader]:
    found = await catalogued(session, dossier)
    version, procedure, agency = found.version, found.procedure, found.agency
    return procedure, version, agency, await agency_header(session, agency)


async def _officer(session: AsyncSession, dossier: Dossier, action: str) -> tuple[str, Handover | None]:
    row = await session.scalar(
        select(Handover)
        .where(Handover.dossier_id == dossier.id, Handover.action == action)
        .order_by(Handover.at.desc(), Handover.seq.desc())
        .limit(1)
    )
    staff = await session.get(Staff, row.from_staff_id) if row and row.from_staff_id else None
    return (staff.full_name if staff else ""), row


def _contact(dossier: Dossier) -> dict[str, Any]:
    return {
        "applicant_address": dossier.applicant_address,
        "applicant_phone": dossier.applicant_phone,
        "applicant_email": dossier.applicant_email,
    }


async def receipt_pdf(
    session: AsyncSession,
    dossier: Dossier,
    *,
    settings: Settings,
    offload: ProcessOffload,
    secret: str | None,
    now: datetime,
) -> bytes:
    """Mẫu 01, with the secret the citizen needs (it is shown once; the server keeps only its hash), signed by
    the receiving agency (services/dossier/signatures.py) with a QR code to the page that checks it."""
    if dossier.received_at is None or dossier.due_at is None:
        raise Conflict("The receipt is printed once the dossier is received.", code="not_received")
    procedure, version, agency, header = await _context(session, dossier)
    officer, _ = await _officer(session, dossier, "receive")
    required = {
        row.code: row
        for row in await session.scalars(select(ProcedureDocument).where(ProcedureDocument.version_id == version.id))
    }
    uploaded = (await session.scalars(select(Document).where(Document.dossier_id == dossier.id))).all()
    documents = [
        forms.ReceivedDocument(
            name=required[doc.required_code].name if doc.required_code in required else doc.filename,
            form_label="Bản điện tử"
            if dossier.channel == 2
            else FORM_LABELS.get(
                required[doc.required_code].form if doc.required_code in required else "copy", "Bản sao"
            ),
        )
        for doc in uploaded
    ] or [
        forms.ReceivedDocument(name=row.name, form_label=FORM_LABELS.get(row.form, row.form))
        for row in required.values()
        if row.mandatory
    ]
    unit = "ngày làm việc" if version.time_limit_unit == "working_days" else "giờ làm việc"
    # 4 tại chỗ (services.workflow.on_the_spot) receives, resolves and returns at the one instant of the visit
    on_the_spot = dossier.returned_at is not None and dossier.returned_at == dossier.received_at
    _, resolved = await _officer(session, dossier, "resolve") if on_the_spot else ("", None)
    return await signatures.signed_pdf(
        session,
        settings,
        offload,
        dossier,
        agency,
        kind="receipt",
        render=forms.render_receipt,
        now=now,
        form=forms.ReceiptForm(
            header=header,
            dossier_code=dossier.code,
            applicant_name=dossier.applicant_name,
            procedure_name=procedure.name,
            documents=documents,
            received_at=dossier.received_at,
            appointment_at=dossier.appointment_at or dossier.due_at,
            return_method_label=RETURN_LABELS.get(dossier.return_method, dossier.return_method),
            # the QR code leads to the configured public address, never to the Host a request named
            tracking_url=f"{settings.urls.public.rstrip('/')}/tra-cuu/{dossier.code}",
            secret=secret,
            officer_name=officer,
            printed_at=now,
            time_limit_label=f"{version.time_limit_value:02d} {unit}" if version.time_limit_value else "Trong ngày",
            returned_on_the_spot_at=dossier.returned_at if on_the_spot else None,
            result_note=resolved.comment if resolved else None,
            **_contact(dossier),
        ),
    )


async def supplement_pdf(session: AsyncSession, dossier: Dossier, *, offload: ProcessOffload, now: datetime) -> bytes:
    """Mẫu 02, from the latest supplement request."""
    procedure, _, _, header = await _context(session, dossier)
    officer, row = await _officer(session, dossier, "request_supplement")
    if row is None:
        raise Conflict("No supplement was requested for this dossier.", code="no_supplement_request")
    items = [forms.SupplementItem(what=item["document"], reason=item["reason"]) for item in row.detail.get("items", [])]  # type: ignore[attr-defined]
    return await offload.run_released(
        session,
        forms.render_supplement,
        forms.SupplementForm(
            header=header, dossier_code=dossier.code, applicant_name=dossier.applicant_name,
            procedure_name=procedure.name, items=items, officer_name=officer, printed_at=now,
            received_at=dossier.received_at or dossier.submitted_at, **_contact(dossier),
        )
    )  # fmt: skip


async def refusal_pdf(session: AsyncSession, dossier: Dossier, *, offload: ProcessOffload, now: datetime) -> bytes:
    """Mẫu 03, with the reasons given at refusal."""
    procedure, _, _, header = await _context(session, dossier)
    officer, row = await _officer(session, dossier, "refuse")
    if row is None:
        raise Conflict("This dossier was not refused.", code="not_refused")
    return await offload.run_released(
        session,
        forms.render_refusal,
        forms.RefusalForm(
            header=header, dossier_code=dossier.code, applicant_name=dossier.applicant_name,
            procedure_name=procedure.name, reasons=list(row.detail.get("reasons", [])),  # type: ignore[call-overload]
            officer_name=officer, printed_at=now, submitted_at=dossier.submitted_at, **_contact(dossier),
        )
    )  # fmt: skip


async def record_book_pdf(
    session: AsyncSession, agency: Agency, *, offload: ProcessOffload, start: date, end: date, now: datetime
) -> bytes:
    """Mẫu 07: the dossiers the desk received in [start, end] (local dates)."""
    begin = datetime.combine(start, datetime.min.time(), tzinfo=VN_TZ)
    finish = datetime.combine(end, datetime.max.time(), tzinfo=VN_TZ)
    rows = (
        await session.execute(
            select(Dossier, Procedure.name)
            .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .where(
                Dossier.receiving_agency_id == agency.id, Dossier.received_at >= begin, Dossier.received_at <= finish
            )
            .order_by(Dossier.received_at, Dossier.code)
        )
    ).all()
    header = await agency_header(session, agency)
    return await offload.run_released(
        session,
        forms.render_record_book,
        forms.RecordBookForm(
            header=header,
            period_from=start,
            period_to=end,
            printed_at=now,
            rows=[
                forms.RecordRow(
                    dossier_code=dossier.code,
                    procedure_name=name,
                    applicant_name=dossier.applicant_name,
                    applicant_contact=", ".join(p for p in (dossier.applicant_address, dossier.applicant_phone) if p)
                    or None,
                    received_at=dossier.received_at or now,
                    appointment_at=dossier.appointment_at or dossier.due_at or now,
                    result_at=dossier.resolved_at,
                    returned_at=dossier.returned_at,
                    note={"withdrawn": "Rút hồ sơ", "stopped": "Dừng xử lý"}.get(dossier.status),
                )
                for dossier, name in rows
            ],
        ),
    )


# --- printing for staff (audited) -------------------------------------------------------------------


async def receipt_for_staff(
    session: AsyncSession, settings: Settings, code: str, actor: Actor, *, secret: str | None, origin: Origin,
    offload: ProcessOffload, now: datetime,
) -> bytes:  # fmt: skip
    """Mẫu 01 for the desk. A dossier received at the counter or by post prints with its secret (the desk
    gives it back); an online one may print without it (the desk never sees the applicant's secret)."""
    dossier = await dossier_for(session, code, actor)
    if secret is None and dossier.channel != 2:
        raise Unprocessable(
            "The slip of a dossier received at the counter or by post carries its secret.",
            code="secret_required",
            field="secret",
        )
    if secret is not None and not secret_matches(settings, dossier, secret):
        raise Unprocessable("This is not the dossier's secret.", code="wrong_secret", field="secret")
    pdf = await receipt_pdf(session, dossier, settings=settings, offload=offload, secret=secret, now=now)
    record_printed(session, origin, actor, dossier.id, "01")  # once rendered (services.dossier.printing)
    return pdf


async def record_book_for_staff(
    session: AsyncSession, actor: Actor, *, agency: str | None, start: date, end: date, origin: Origin,
    offload: ProcessOffload, now: datetime,
) -> bytes:  # fmt: skip
    """Mẫu 07 of the caller's desk (an administrator may name another) for at most a year; audited."""
    if end < start or (end - start).days > 366:
        raise Unprocessable("The period runs from 'from' to 'to', at most a year.", code="invalid_period")
    query = (
        select(Agency).where(Agency.code == agency)
        if agency and actor.has_any(RoleCode.ADMIN)
        else select(Agency).where(Agency.id == actor.agency_id)
    )
    desk = await session.scalar(query)
    if desk is None:
        raise NotFound("No such agency.", code="agency_not_found")
    pdf = await record_book_pdf(session, desk, offload=offload, start=start, end=end, now=now)
    record(
        session,
        audit_entry(
            service="intake", action="export", resource=origin.route, origin=origin, actor=actor,
            detail={"form": "07", "agency_code": desk.code, "from": start.isoformat(), "to": end.isoformat()},
        ),
    )  # fmt: skip
    return pdf


IntakeForm = Literal["02", "03"]


async def print_form(
    session: AsyncSession, code: str, actor: Actor, *, form: IntakeForm, origin: Origin, offload: ProcessOffload,
    now: datetime,
) -> bytes:  # fmt: skip
    """Form 02 (supplement request) or 03 (refusal) of a dossier the caller may see; the print is audited."""
    render: Renderer = supplement_pdf if form == "02" else refusal_pdf
    return await print_for_staff(
        session, code, actor, form=form, render=render, origin=origin, offload=offload, now=now
    )
