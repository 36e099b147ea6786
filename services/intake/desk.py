"""The one-stop desk's own views and decisions: online submissions waiting for the check, and one dossier as the desk
sees it (the applicant, the documents received, the procedure's checklist, the running clocks in working
time and the post's shipments) for the staff SPA; accepting, refusing, asking for a supplement, asking
the post to deliver a result again — each on a dossier the one access rule lets the caller act on now.

Reading the desk view shows the applicant's personal data, so it is an audited read (the line is written
in the request's transaction, with the view).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.config import Settings
from services.domain.vocabulary import AWAITING_RECEIPT, STATUS_LABELS_VI, DossierStatus, RoleCode
from services.dossier import lifecycle
from services.dossier import postal as dossier_postal
from services.dossier.access import dossier_for, dossier_to_act_on
from services.dossier.catalogued import catalogued
from services.dossier.filing import policy
from services.dossier.schemas import ApplicantOut, DocumentOut, DossierOut
from services.dossier.views import (
    applicant_fields,
    appointment,
    document_out,
    documents,
    dossier_out,
    shipments,
    status_fields,
)
from services.intake import postal
from services.intake.schemas import DecisionIn, RefusalIn, ShipmentOut, SupplementRequestIn
from services.models import Document, Dossier, Procedure, ProcedureDocument, ProcedureVersion, SlaTimer

Waiting = Literal["submitted", "awaiting_supplement"]


class WaitingItemOut(BaseModel):
    code: str
    status: DossierStatus
    status_label: str
    channel: int
    procedure_code: str
    procedure_name: str
    applicant_name: str
    submitted_at: datetime | None
    return_method: str
    documents: int = Field(description="files attached so far")


class WaitingOut(BaseModel):
    total: int
    items: list[WaitingItemOut]


class ChecklistItemOut(BaseModel):
    code: str
    name: str
    form: str
    mandatory: bool
    received: bool = Field(description="a file with this document code is attached")


class RemainingOut(BaseModel):
    kind: str = Field(description="dossier or step")
    due_at: datetime
    paused: bool
    remaining_seconds: int = Field(description="working time left until the due time; negative when overdue")


# the same fields under the name intake's OpenAPI has always given them
class DeskApplicantOut(ApplicantOut):
    pass


class DeskShipmentOut(ShipmentOut):
    """A shipment as staff see it: with the operator's booking reply."""

    operator_reference: str | None = Field(description="the operator's own booking reference")
    fee_vnd: int | None = Field(description="the operator's fee for the shipment")
    booked_at: datetime | None


class DeskDossierOut(BaseModel):
    code: str
    status: DossierStatus
    status_code: int
    status_label: str
    channel: int
    procedure_code: str
    procedure_name: str
    agency_code: str
    submitted_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    return_method: str
    postal_address: str | None
    supplement_count: int
    applicant: DeskApplicantOut
    documents: list[DocumentOut]
    checklist: list[ChecklistItemOut]
    remaining: list[RemainingOut] = Field(description="the running clocks (dossier, current step) in working time")
    shipments: list[DeskShipmentOut] = Field(description="the public post's shipments, oldest first")
    postal_returned: bool = Field(
        description="the post brought the result back: it waits at the desk, to hand over or to deliver again"
    )


async def waiting(
    session: AsyncSession, actor: Actor, *, status: Waiting | None, limit: int, offset: int
) -> WaitingOut:
    """Dossiers at the caller's desk (every desk for an administrator) not yet received, oldest first."""
    files = (
        select(func.count(Document.id)).where(Document.dossier_id == Dossier.id).correlate(Dossier).scalar_subquery()
    )
    query = (
        select(Dossier, Procedure.code, Procedure.name, files)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(Dossier.received_at.is_(None))
        .where(Dossier.status == status if status else Dossier.status.in_(AWAITING_RECEIPT))
    )
    if not actor.has_any(RoleCode.ADMIN):
        query = query.where(Dossier.receiving_agency_id == actor.agency_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(Dossier.submitted_at.asc().nulls_last(), Dossier.code).limit(limit).offset(offset)
    )
    return WaitingOut(
        total=int(total or 0),
        items=[
            WaitingItemOut(
                code=dossier.code,
                status=dossier.status,
                status_label=STATUS_LABELS_VI[dossier.status],
                channel=dossier.channel,
                procedure_code=code,
                procedure_name=name,
                applicant_name=dossier.applicant_name,
                submitted_at=dossier.submitted_at,
                return_method=dossier.return_method,
                documents=int(count or 0),
            )
            for dossier, code, name, count in rows.all()
        ],
    )


async def _remaining(session: AsyncSession, dossier: Dossier, now: datetime) -> list[RemainingOut]:
    """The dossier's clock and its current step's, in the working time of the calendar each runs on."""
    timers = (
        await session.scalars(
            select(SlaTimer)
            .where(SlaTimer.dossier_id == dossier.id, SlaTimer.ended_at.is_(None))
            .order_by(SlaTimer.step_seq)
        )
    ).all()
    running: list[RemainingOut] = []
    for timer in timers:
        calendar = await calendar_for(session, timer.agency_id or dossier.receiving_agency_id)
        reference = timer.paused_at or now
        seconds = calendar.working_seconds_between(reference, timer.due_at)
        running.append(
            RemainingOut(
                kind=timer.kind, due_at=timer.due_at, paused=timer.paused_at is not None, remaining_seconds=int(seconds)
            )
        )
    steps = [item for item in running if item.kind == "step"]
    return [item for item in running if item.kind == "dossier"] + steps[-1:]


async def desk_dossier(
    session: AsyncSession, code: str, actor: Actor, *, origin: Origin, now: datetime
) -> DeskDossierOut:
    """One dossier for staff who may see it (the one access rule), its read audited."""
    dossier = await dossier_for(session, code, actor)
    record(
        session,
        audit_entry(
            service="intake", action="read", resource=origin.route, origin=origin, actor=actor, dossier_id=dossier.id
        ),
    )
    found = await catalogued(session, dossier)
    attached = await documents(session, dossier)
    required = (
        await session.scalars(
            select(ProcedureDocument)
            .where(ProcedureDocument.version_id == found.version.id)
            .order_by(ProcedureDocument.position)
        )
    ).all()
    received = {document.required_code for document in attached if document.required_code}
    return DeskDossierOut(
        **status_fields(dossier),
        channel=dossier.channel,
        procedure_code=found.procedure.code,
        procedure_name=found.procedure.name,
        agency_code=found.agency.code,
        submitted_at=dossier.submitted_at,
        received_at=dossier.received_at,
        due_at=appointment(dossier),
        return_method=dossier.return_method,
        postal_address=dossier.postal_address,
        supplement_count=dossier.supplement_count,
        applicant=DeskApplicantOut(**applicant_fields(dossier)),
        documents=[document_out(row) for row in attached],
        checklist=[
            ChecklistItemOut(
                code=item.code, name=item.name, form=item.form, mandatory=item.mandatory, received=item.code in received
            )
            for item in required
        ],
        remaining=await _remaining(session, dossier, now),
        shipments=[
            DeskShipmentOut.model_validate(row, from_attributes=True) for row in await shipments(session, dossier)
        ],
        postal_returned=await dossier_postal.returned_shipment(session, dossier) is not None,
    )


# --- the desk's decisions --------------------------------------------------------------------------


async def accept(
    session: AsyncSession, settings: Settings, code: str, actor: Actor, body: DecisionIn, *, now: datetime
) -> DossierOut:
    """Accept an online submission: received, its clock started by the receipt rules."""
    dossier = await dossier_to_act_on(session, code, actor, "accept")
    await lifecycle.accept(
        session, dossier, actor=actor, now=now, policy=policy(settings), comment=body.comment, source="intake"
    )
    return await dossier_out(session, dossier)


async def refuse(session: AsyncSession, code: str, actor: Actor, body: RefusalIn, *, now: datetime) -> DossierOut:
    """Refuse a submission before receipt, with the reasons (Mẫu 03)."""
    dossier = await dossier_to_act_on(session, code, actor, "refuse")
    await lifecycle.refuse(session, dossier, actor=actor, now=now, reasons=body.reasons, source="intake")
    return await dossier_out(session, dossier)


async def request_supplement(
    session: AsyncSession, code: str, actor: Actor, body: SupplementRequestIn, *, now: datetime
) -> DossierOut:
    """Ask the citizen for missing or corrected documents (Mẫu 02); a running clock pauses."""
    dossier = await dossier_to_act_on(session, code, actor, "request_supplement")
    items = [item.model_dump() for item in body.items]
    await lifecycle.request_supplement(session, dossier, actor=actor, now=now, items=items, source="intake")
    return await dossier_out(session, dossier)


async def postal_redelivery(
    session: AsyncSession, code: str, actor: Actor, body: DecisionIn, *, now: datetime
) -> DossierOut:
    """Ask the post to deliver again a result it brought back to the desk."""
    dossier = await dossier_to_act_on(session, code, actor, "request_redelivery")
    await postal.request_redelivery(session, dossier, actor=actor, now=now, comment=body.comment)
    return await dossier_out(session, dossier)
