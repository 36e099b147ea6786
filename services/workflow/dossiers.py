"""The staff view of a dossier and the transitions that need only its clock (the apology)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.calendar.working import VN_TZ
from services.core.auth import Actor
from services.core.errors import Conflict, Forbidden, Unprocessable
from services.models import STATUS_CODES, Dossier, Handover, SlaTimer
from services.sla.clocks import apologize

OPEN_STATES = frozenset({"received", "processing", "awaiting_supplement", "awaiting_payment"})
APOLOGY_ROLES = frozenset({"head", "leader", "counter"})


class ApplicantOut(BaseModel):
    kind: str
    full_name: str
    id_number: str
    phone: str | None
    email: str | None
    address: str | None


class ClockOut(BaseModel):
    kind: str
    step_position: int | None
    agency_id: uuid.UUID | None
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None
    ended_at: datetime | None
    outcome: str | None


class DossierOut(BaseModel):
    code: str
    status: str
    status_code: int
    channel: int
    procedure_version_id: uuid.UUID
    received_at: datetime | None
    due_at: datetime | None = Field(description="legal due time (pauses added back)")
    appointment_at: datetime | None = Field(description="the due time the citizen sees after an apology")
    overdue: bool
    late_by_rule: bool
    apology_issued: bool
    current_step_position: int | None
    current_agency_id: uuid.UUID | None
    step_due_at: datetime | None
    clocks: list[ClockOut]
    applicant: ApplicantOut
    allowed_actions: list[str]


class TransitionIn(BaseModel):
    action: Literal["apologize"]
    comment: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, min_length=5, max_length=2000)
    new_appointment: datetime | None = None


def allowed_actions(dossier: Dossier, actor: Actor) -> list[str]:
    actions = []
    responsible = actor.agency_id in {dossier.current_agency_id, dossier.receiving_agency_id}
    if dossier.status in OPEN_STATES and not dossier.apology_issued and responsible and actor.has_any(*APOLOGY_ROLES):
        actions.append("apologize")
    return actions


async def dossier_view(session: AsyncSession, dossier: Dossier, actor: Actor) -> DossierOut:
    timers = (
        await session.scalars(select(SlaTimer).where(SlaTimer.dossier_id == dossier.id).order_by(SlaTimer.step_seq))
    ).all()
    running_step = next((t for t in reversed(timers) if t.kind == "step" and t.ended_at is None), None)
    return DossierOut(
        code=dossier.code,
        status=dossier.status,
        status_code=STATUS_CODES[dossier.status],
        channel=dossier.channel,
        procedure_version_id=dossier.procedure_version_id,
        received_at=dossier.received_at,
        due_at=dossier.due_at,
        appointment_at=dossier.appointment_at,
        overdue=dossier.overdue,
        late_by_rule=dossier.late_by_rule,
        apology_issued=dossier.apology_issued,
        current_step_position=dossier.current_step_position,
        current_agency_id=dossier.current_agency_id,
        step_due_at=running_step.due_at if running_step else None,
        clocks=[ClockOut.model_validate(t, from_attributes=True) for t in timers],
        applicant=ApplicantOut(
            kind=dossier.applicant_kind,
            full_name=dossier.applicant_name,
            id_number=dossier.applicant_id_number,
            phone=dossier.applicant_phone,
            email=dossier.applicant_email,
            address=dossier.applicant_address,
        ),
        allowed_actions=allowed_actions(dossier, actor),
    )


async def transition(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, *, now: datetime
) -> None:
    if body.action not in allowed_actions(dossier, actor):
        if dossier.status in OPEN_STATES and not dossier.apology_issued:
            raise Forbidden("Your role or agency may not do this here.", code="action_forbidden")
        raise Conflict(f"'{body.action}' is not allowed in this state.", code="action_not_allowed")
    if not body.reason or body.new_appointment is None:
        raise Unprocessable("An apology needs a reason and a new appointment.", code="apology_incomplete")
    appointment = body.new_appointment if body.new_appointment.tzinfo else body.new_appointment.replace(tzinfo=VN_TZ)
    calendar = await calendar_for(session, dossier.current_agency_id or dossier.receiving_agency_id)
    await apologize(session, dossier, calendar=calendar, reason=body.reason, new_appointment=appointment, at=now)
    session.add(
        Handover(
            dossier_id=dossier.id,
            at=now,
            action="apologize",
            status_after=dossier.status,
            step_position=dossier.current_step_position,
            from_staff_id=actor.staff_id,
            from_agency_id=actor.agency_id,
            to_agency_id=dossier.current_agency_id,
            comment=body.reason,
            public_note=f"Thư xin lỗi và hẹn lại ngày trả kết quả: {appointment.astimezone(VN_TZ):%H:%M %d/%m/%Y}",
        )
    )
    await session.flush()
