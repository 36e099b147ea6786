"""The printable forms as PDF: 01 receipt, 02 supplement request, 03 refusal, 07 record book."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from services.core.audit import audit_entry, record, record_printed
from services.core.deps import ActingActor, ClockDep, ManagerActor, SessionDep, SettingsDep, StaffActor
from services.core.errors import NotFound, Unprocessable, problem_responses
from services.core.offload import OffloadDep
from services.core.validation import IsoDate
from services.domain.vocabulary import RoleCode
from services.dossier.access import dossier_for
from services.dossier.secrets import secret_matches
from services.intake import printing
from services.intake.schemas import ReceiptIn
from services.models import Agency

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
    request: Request,
    offload: OffloadDep,
) -> Response:
    """Mẫu 01: the receipt and appointment slip, with the QR code and the citizen's secret (sent back by the desk).

    An online dossier's applicant got the secret when submitting: its slip may be printed without it
    (the desk never sees the secret) and then says so instead of printing it.
    """
    dossier = await dossier_for(session, code, actor)
    if body.secret is None and dossier.channel != 2:
        raise Unprocessable(
            "The slip of a dossier received at the counter or by post carries its secret.",
            code="secret_required",
            field="secret",
        )
    if body.secret is not None and not secret_matches(settings, dossier, body.secret):
        raise Unprocessable("This is not the dossier's secret.", code="wrong_secret", field="secret")
    record_printed(session, request, actor, dossier.id, "01")
    # the QR code leads to the configured public address, never to the Host this request named
    return _pdf(
        await printing.receipt_pdf(
            session, dossier, offload=offload, secret=body.secret, tracking_base=settings.urls.public, now=clock.now()
        ),
        f"{code}-01.pdf",
    )


@router.get(
    "/dossiers/{code}/forms/supplement.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def supplement(
    code: Code, session: SessionDep, clock: ClockDep, actor: StaffActor, request: Request, offload: OffloadDep
) -> Response:
    """Mẫu 02: the request to supplement or complete the dossier (audited)."""
    dossier = await dossier_for(session, code, actor)
    record_printed(session, request, actor, dossier.id, "02")
    return _pdf(await printing.supplement_pdf(session, dossier, offload=offload, now=clock.now()), f"{code}-02.pdf")


@router.get(
    "/dossiers/{code}/forms/refusal.pdf",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 503)},
)
async def refusal(
    code: Code, session: SessionDep, clock: ClockDep, actor: StaffActor, request: Request, offload: OffloadDep
) -> Response:
    """Mẫu 03: the refusal with its reasons (audited)."""
    dossier = await dossier_for(session, code, actor)
    record_printed(session, request, actor, dossier.id, "03")
    return _pdf(await printing.refusal_pdf(session, dossier, offload=offload, now=clock.now()), f"{code}-03.pdf")


@router.get(
    "/record-book.pdf", response_class=Response, responses={**PDF, **problem_responses(401, 403, 404, 422, 503)}
)
async def record_book(
    session: SessionDep,
    clock: ClockDep,
    actor: ManagerActor,
    request: Request,
    offload: OffloadDep,
    from_: Annotated[IsoDate, Query(alias="from")],
    to: IsoDate,
    agency: str | None = None,
) -> Response:
    """Mẫu 07: the record book of the caller's desk (an administrator may name another) for a period;
    for the desk's heads and leaders (audited)."""
    if to < from_ or (to - from_).days > 366:
        raise Unprocessable("The period runs from 'from' to 'to', at most a year.", code="invalid_period")
    query = (
        select(Agency).where(Agency.code == agency)
        if agency and actor.has_any(RoleCode.ADMIN)
        else select(Agency).where(Agency.id == actor.agency_id)
    )
    desk = await session.scalar(query)
    if desk is None:
        raise NotFound("No such agency.", code="agency_not_found")
    pdf = await printing.record_book_pdf(session, desk, offload=offload, start=from_, end=to, now=clock.now())
    record(
        session,
        audit_entry(
            service="intake", action="export", resource=f"GET {request.url.path}", request=request, actor=actor,
            detail={"form": "07", "agency_code": desk.code, "from": from_.isoformat(), "to": to.isoformat()},
        ),
    )  # fmt: skip
    return _pdf(pdf, f"so-theo-doi-{from_:%Y%m%d}-{to:%Y%m%d}.pdf")
