"""The staff view of a dossier, its process control sheet and the officers' inboxes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import Forbidden
from services.domain.rules import step_due_soon, step_due_soon_clause, task_past_due, task_past_due_clause
from services.domain.vocabulary import (
    MANAGER_ROLES,
    OPEN,
    PAUSED,
    STATUS_CODES,
    STATUS_LABELS_VI,
    DossierStatus,
    RoleCode,
)
from services.dossier.access import dossier_for
from services.dossier.notes import note_of
from services.dossier.postal import returned_by_post
from services.dossier.schemas import ApplicantOut
from services.dossier.steps import allowed_actions, position
from services.dossier.views import applicant_fields
from services.models import Agency, Dossier, Handover, Procedure, ProcedureVersion, SlaTimer, Staff
from services.sla.clocks import WarningPolicy
from services.workflow.engine import TransitionIn, transition


class ClockOut(BaseModel):
    kind: str
    step_position: int | None
    agency_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None
    ended_at: datetime | None
    outcome: str | None


class StepOut(BaseModel):
    position: int
    code: str
    name: str
    name_en: str | None = Field(default=None, description="the English name when the template gives one")
    role: str
    agency_id: uuid.UUID | None


class DossierOut(BaseModel):
    code: str
    version: int = Field(description="send it back with a transition: a stale version is a 409")
    status: DossierStatus
    status_code: int
    status_label: str
    channel: int
    procedure_code: str
    procedure_name: str
    received_at: datetime | None
    due_at: datetime | None = Field(description="legal due time (pauses added back)")
    appointment_at: datetime | None = Field(description="the due time the citizen sees after an apology")
    overdue: bool
    late_by_rule: bool
    apology_issued: bool
    outcome: str | None
    current_step: StepOut | None
    current_agency_id: uuid.UUID | None
    current_assignee_id: uuid.UUID | None
    step_due_at: datetime | None
    steps: list[StepOut]
    clocks: list[ClockOut]
    applicant: ApplicantOut
    return_method: str
    allowed_actions: list[str]


async def dossier_view(session: AsyncSession, dossier: Dossier, actor: Actor) -> DossierOut:
    timers = (
        await session.scalars(select(SlaTimer).where(SlaTimer.dossier_id == dossier.id).order_by(SlaTimer.step_seq))
    ).all()
    where = await position(session, dossier)
    version = await session.get(ProcedureVersion, dossier.procedure_version_id)
    assert version is not None
    procedure = await session.get(Procedure, version.procedure_id)
    assert procedure is not None

    def step_out(step: object) -> StepOut:
        return StepOut.model_validate(
            {
                "position": step.position,  # type: ignore[attr-defined]
                "code": step.code,  # type: ignore[attr-defined]
                "name": step.name,  # type: ignore[attr-defined]
                "name_en": step.name_en,  # type: ignore[attr-defined]
                "role": step.role_code,  # type: ignore[attr-defined]
                "agency_id": step.agency_id or dossier.receiving_agency_id,  # type: ignore[attr-defined]
            }
        )

    return DossierOut(
        code=dossier.code,
        version=dossier.lock_version,
        status=dossier.status,
        status_code=STATUS_CODES[dossier.status],
        status_label=STATUS_LABELS_VI[dossier.status],
        channel=dossier.channel,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        received_at=dossier.received_at,
        due_at=dossier.due_at,
        appointment_at=dossier.appointment_at,
        overdue=dossier.overdue,
        late_by_rule=dossier.late_by_rule,
        apology_issued=dossier.apology_issued,
        outcome=dossier.outcome,
        current_step=step_out(where.step) if where.step and dossier.status in OPEN else None,
        current_agency_id=dossier.current_agency_id,
        current_assignee_id=dossier.current_assignee_id,
        step_due_at=where.timer.due_at if where.timer else None,
        steps=[step_out(step) for step in where.steps],
        clocks=[ClockOut.model_validate(t, from_attributes=True) for t in timers],
        applicant=ApplicantOut(**applicant_fields(dossier)),
        return_method=dossier.return_method,
        allowed_actions=await allowed_actions(session, dossier, actor),
    )


# --- the process control sheet -------------------------------------------------------------------


class PartyOut(BaseModel):
    username: str | None
    full_name: str | None
    agency_code: str | None
    agency_name: str | None


class TimelineRow(BaseModel):
    at: datetime
    action: str
    status: DossierStatus
    step_position: int | None
    giver: PartyOut
    receiver: PartyOut
    comment: str | None = Field(description="what the officer typed, as typed")
    step_due_at: datetime | None
    step_outcome: str | None = Field(description="early, on_time or late: the step handed over here")
    note: str | None = Field(default=None, description="the note the citizen's tracking page shows, in Vietnamese")
    note_code: str | None = Field(default=None, description="its stable code (services.dossier.notes); null: none")
    note_params: dict[str, Any] = Field(default_factory=dict, description="the values the note names")


async def timeline(session: AsyncSession, dossier: Dossier) -> list[TimelineRow]:
    giver, receiver = aliased(Staff), aliased(Staff)
    giver_unit, receiver_unit = aliased(Agency), aliased(Agency)
    rows = await session.execute(
        select(Handover, giver, receiver, giver_unit, receiver_unit)
        .outerjoin(giver, giver.id == Handover.from_staff_id)
        .outerjoin(receiver, receiver.id == Handover.to_staff_id)
        .outerjoin(giver_unit, giver_unit.id == Handover.from_agency_id)
        .outerjoin(receiver_unit, receiver_unit.id == Handover.to_agency_id)
        .where(Handover.dossier_id == dossier.id)
        .order_by(Handover.at, Handover.seq)
    )

    def party(staff: Staff | None, unit: Agency | None) -> PartyOut:
        return PartyOut(
            username=staff.username if staff else None,
            full_name=staff.full_name if staff else None,
            agency_code=unit.code if unit else None,
            agency_name=unit.name if unit else None,
        )

    rows_out: list[TimelineRow] = []
    for line, g, r, gu, ru in rows.all():
        note_code, note_params = note_of(line.note_code, line.note_params, line.public_note)
        rows_out.append(
            TimelineRow(
                at=line.at,
                action=line.action,
                status=line.status_after,
                step_position=line.step_position,
                giver=party(g, gu),
                receiver=party(r, ru),
                comment=line.comment,
                step_due_at=line.step_due_at,
                step_outcome=line.step_outcome,
                note=line.public_note,
                note_code=note_code,
                note_params=note_params,
            )
        )
    return rows_out


# --- inboxes ----------------------------------------------------------------------------------------

Scope = Literal["mine", "unit", "agency"]
DueFilter = Literal["soon", "overdue"]


class TaskOut(BaseModel):
    code: str
    status: DossierStatus
    status_label: str
    procedure_code: str
    procedure_name: str
    step_position: int | None
    assignee_id: uuid.UUID | None
    received_at: datetime | None
    step_due_at: datetime | None
    due_at: datetime | None
    due_soon: bool
    overdue: bool
    postal_returned: bool = Field(
        description="resolved, and the post brought the result back to the desk: it waits there to be handed over"
    )
    return_method: str = Field(
        default="counter",
        description="counter, postal or online: an online result is downloaded by the citizen (or returned by the "
        "system after the set days), the desk need not hand it over",
    )


class TasksOut(BaseModel):
    counts: dict[str, int]
    items: list[TaskOut]


async def tasks(
    session: AsyncSession,
    actor: Actor,
    *,
    scope: Scope,
    now: datetime,
    status: str | None,
    procedure: str | None,
    due: DueFilter | None,
    limit: int,
    offset: int,
) -> TasksOut:
    """Open dossiers for the caller, the soonest step due time first, with counts."""
    step = aliased(SlaTimer)
    running = (
        select(step.id)
        .where(step.dossier_id == Dossier.id, step.kind == "step", step.ended_at.is_(None))
        .order_by(step.step_seq.desc())
        .limit(1)
        .correlate(Dossier)
        .scalar_subquery()
    )
    base = (
        select(Dossier, Procedure.code, Procedure.name, SlaTimer, returned_by_post().label("postal_returned"))
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .outerjoin(SlaTimer, SlaTimer.id == running)
        .where(Dossier.status.in_(OPEN | {DossierStatus.RESOLVED}))
    )
    if scope == "agency" and not actor.has_any(*MANAGER_ROLES):
        raise Forbidden("The whole agency's inbox is for its leaders.", code="leaders_only")
    if scope == "mine":
        base = base.where(Dossier.current_assignee_id == actor.staff_id)
    elif not actor.has_any(RoleCode.ADMIN):
        base = base.where(
            or_(
                Dossier.current_agency_id == actor.agency_id,
                and_(Dossier.status == "resolved", Dossier.receiving_agency_id == actor.agency_id),
            )
        )
    if status:
        base = base.where(Dossier.status == status)
    if procedure:
        base = base.where(Procedure.code == procedure)
    overdue = task_past_due_clause(step_due_at=SlaTimer.due_at, due_at=Dossier.due_at, now=now)
    soon = step_due_soon_clause(due_soon_at=SlaTimer.due_soon_at, due_at=SlaTimer.due_at, now=now)
    filtered = base.where(overdue) if due == "overdue" else base.where(soon) if due == "soon" else base
    counted = base.subquery()
    count_row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(counted.c.status == "processing"),
                func.count().filter(counted.c.status.in_(PAUSED)),
                func.count().filter(counted.c.status == "resolved"),
            ).select_from(counted)
        )
    ).one()
    overdue_count = await session.scalar(select(func.count()).select_from(base.where(overdue).subquery()))
    soon_count = await session.scalar(select(func.count()).select_from(base.where(soon).subquery()))
    rows = await session.execute(
        filtered.order_by(func.coalesce(SlaTimer.due_at, Dossier.due_at).asc().nulls_last(), Dossier.code)
        .limit(limit)
        .offset(offset)
    )
    items = [
        TaskOut(
            code=dossier.code,
            status=dossier.status,
            status_label=STATUS_LABELS_VI[dossier.status],
            procedure_code=code,
            procedure_name=name,
            step_position=dossier.current_step_position,
            assignee_id=dossier.current_assignee_id,
            received_at=dossier.received_at,
            step_due_at=timer.due_at if timer else None,
            due_at=dossier.appointment_at or dossier.due_at,
            due_soon=step_due_soon(
                due_soon_at=timer.due_soon_at if timer else None, due_at=timer.due_at if timer else None, now=now
            ),
            overdue=task_past_due(step_due_at=timer.due_at if timer else None, due_at=dossier.due_at, now=now),
            postal_returned=bool(by_post),
            return_method=dossier.return_method,
        )
        for dossier, code, name, timer, by_post in rows.all()
    ]
    return TasksOut(
        counts={
            "total": int(count_row[0]),
            "processing": int(count_row[1]),
            "waiting_for_citizen": int(count_row[2]),
            "to_return": int(count_row[3]),
            "overdue": int(overdue_count or 0),
            "due_soon": int(soon_count or 0),
        },
        items=items,
    )


# --- a dossier for the staff: read (audited), move, its control sheet -------------------------------


async def read_dossier(session: AsyncSession, code: str, actor: Actor, *, origin: Origin) -> DossierOut:
    """The staff view of a dossier the caller may see; it shows the applicant, so the read is audited."""
    dossier = await dossier_for(session, code, actor)
    entry = audit_entry(
        service="workflow", action="read", resource=origin.route, origin=origin, actor=actor, dossier_id=dossier.id
    )
    record(session, entry)
    return await dossier_view(session, dossier, actor)


async def move_dossier(
    session: AsyncSession, code: str, body: TransitionIn, actor: Actor, *, origin: Origin, policy: WarningPolicy,
    now: datetime,
) -> DossierOut:  # fmt: skip
    """One transition (the engine decides whether the state and the caller's role allow it); audited."""
    dossier = await dossier_for(session, code, actor, lock=True)
    await transition(session, dossier, body, actor, now=now, policy=policy)
    entry = audit_entry(
        service="workflow", action="update", resource=origin.route, origin=origin, actor=actor, dossier_id=dossier.id,
        detail={"action": body.action},
    )  # fmt: skip
    record(session, entry)
    return await dossier_view(session, dossier, actor)


async def control_sheet(session: AsyncSession, code: str, actor: Actor) -> list[TimelineRow]:
    """The process control sheet of a dossier the caller may see."""
    return await timeline(session, await dossier_for(session, code, actor))
