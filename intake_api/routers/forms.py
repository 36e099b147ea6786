"""The printable forms as PDF: 01 receipt, 02 supplement request, 03 refusal, 07 record book."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.core.deps import ActingActor, ClockDep, ManagerActor, OriginDep, SessionDep, SettingsDep, StaffActor
from services.core.errors import problem_responses
from services.core.offload import OffloadDep
from services.core.validation import IsoDate
from services.intake import printing
from services.intake.printing import IntakeForm
from services.intake.schemas import ReceiptIn

router = APIRouter(prefix="/api/v1", tags=["forms"])
# the record book lists every applicant of the desk: for its heads and leaders, not every officer
Code = Annotated[str, Path(max_length=64)]
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "the form as PDF"}}


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.post(
    "/dossiers/{code}/forms/receipt.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def receipt(
    code: Code,
    body: ReceiptIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActingActor,
    origin: OriginDep,
    offload: OffloadDep,
) -> Response:
    """Mẫu 01: the receipt and appointment slip, with the QR code and the citizen's secret (sent back by the desk).

    An online dossier's applicant got the secret when submitting: its slip may be printed without it
    (the desk never sees the secret) and then says so instead of printing it.
    """
    pdf = await printing.receipt_for_staff(
        session, settings, code, actor, secret=body.secret, origin=origin, offload=offload, now=clock.now()
    )
    return _pdf(pdf, f"{code}-01.pdf")


async def _dossier_form(
    session: SessionDep, code: str, actor: StaffActor, origin: OriginDep, offload: OffloadDep, clock: ClockDep,
    form: IntakeForm,
) -> Response:  # fmt: skip
    pdf = await printing.print_form(session, code, actor, form=form, origin=origin, offload=offload, now=clock.now())
    return _pdf(pdf, f"{code}-{form}.pdf")


@router.get(
    "/dossiers/{code}/forms/supplement.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def supplement(
    code: Code, session: SessionDep, clock: ClockDep, actor: StaffActor, origin: OriginDep, offload: OffloadDep
) -> Response:
    """Mẫu 02: the request to supplement or complete the dossier (audited)."""
    return await _dossier_form(session, code, actor, origin, offload, clock, "02")


@router.get(
    "/dossiers/{code}/forms/refusal.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def refusal(
    code: Code, session: SessionDep, clock: ClockDep, actor: StaffActor, origin: OriginDep, offload: OffloadDep
) -> Response:
    """Mẫu 03: the refusal with its reasons (audited)."""
    return await _dossier_form(session, code, actor, origin, offload, clock, "03")


@router.get(
    "/record-book.pdf", response_class=Response, responses={**PDF, **problem_responses(401, 403, 404, 422, 503)}
)
async def record_book(
    session: SessionDep,
    clock: ClockDep,
    actor: ManagerActor,
    origin: OriginDep,
    offload: OffloadDep,
    from_: Annotated[IsoDate, Query(alias="from")],
    to: IsoDate,
    agency: str | None = None,
) -> Response:
    """Mẫu 07: the record book of the caller's desk (an administrator may name another) for a period;
    for the desk's heads and leaders (audited)."""
    pdf = await printing.record_book_for_staff(
        session, actor, agency=agency, start=from_, end=to, origin=origin, offload=offload, now=clock.now()
    )
    return _pdf(pdf, f"so-theo-doi-{from_:%Y%m%d}-{to:%Y%m%d}.pdf")
