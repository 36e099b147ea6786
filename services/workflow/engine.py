"""The routing engine: a received dossier walks its workflow template, step by step.

Each transition locks the dossier row (``SELECT … FOR NO KEY UPDATE``), checks its state, its current
step, the caller's agency and role and — when the caller sends it — the dossier ``version`` it
acted on (optimistic check: a stale version is a 409). It then ends the step clock (early / on
time / late, stored), assigns the next unit and officer (the least loaded holder of the step's
role in that unit, ties by username), starts the next step clock with its share of the time
limit, writes the hand-over line and emits the events through the outbox — all in one
transaction. Two concurrent transitions on one dossier serialise on the row lock; the second sees
the new version (or the new step) and gets a 409, so only one wins. The lock is FOR NO KEY UPDATE (what
PostgreSQL's own UPDATE of the row takes), not FOR UPDATE: FOR UPDATE also blocks the foreign-key checks of
every row written elsewhere that references the dossier (a notification, an outbox event, a clock) until the
transition commits — 16 such checks per dossier in the pipeline benchmark, 0.15 ms each on average, most of
it waiting (pg_stat_statements, bench/profiles/2026-12-07-email.md).

No dossier is stranded. A step's *working* actions (``WORKING_ACTIONS``) act on a ``processing``
dossier; ``return_result``, ``apologize`` and ``withdraw`` do not depend on the step (they follow the
dossier's status), and ``resolve`` does not move the dossier to a later step: it hands it straight to
the receiving desk, which returns the result from there. A step listing only those (the demo's last
"return" step) is therefore never the place for a ``processing`` dossier. The rule:

    A ``processing`` dossier only ever moves to a step from which it can still be resolved.

``resolvable_positions`` (``services.dossier.steps``, with the rest of the routing rule: ``position``,
``possible_actions``, ``caller_may``) computes those steps from the template alone (a least fixed point): a step
is resolvable when it allows ``resolve``, or allows ``forward`` (or ``transfer`` to another unit) and
the next step is resolvable, or allows ``send_back`` and an earlier step is resolvable. Hence:

- ``forward`` / ``transfer`` are offered only when the next step is resolvable (a head at "approve"
  whose next step is "return" is offered ``resolve``, not ``forward``);
- ``send_back`` is offered only when an earlier step is resolvable, goes by default to the nearest
  such step, and refuses (422 ``invalid_step``) a ``to_step`` that is not one;
- pauses (``request_supplement``, ``request_payment``) come back to the same step, so they keep it;
- a dossier already sitting at a step it cannot be resolved from (moved there before this rule) is
  offered ``send_back`` to the nearest resolvable earlier step, whatever the step lists.

Template validation (``services.workflow.templates``, rule 7f ``unresolvable_step``) refuses templates
whose first working step, or any step listing a working action, is not resolvable, so every step a
routed dossier can stand on while ``processing`` offers a way to a result; from ``resolved`` the desk
returns it (or the postal operator delivers it), pauses end with the citizen's supplement or payment,
and ``withdraw`` / ``stop`` end it early. tests/workflow/test_engine_model.py checks all this with a
model-based test.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.calendar.working import HOUR, VN_TZ, WORKING_DAY
from services.core.auth import Actor
from services.core.errors import Conflict, Unprocessable
from services.core.validation import IsoDateTime, StrictModel
from services.domain.vocabulary import OPEN
from services.dossier import lifecycle
from services.dossier.notes import Note, fixed
from services.dossier.payments import PaymentRequestIn, request_payment
from services.dossier.record import Source, handover
from services.dossier.steps import (
    Action,
    ActionForbidden,
    Position,
    caller_may,
    first_working_index,
    position,
    possible_actions,
    step_unit,
)
from services.models import Dossier, SlaTimer, Staff, StaffRole, WorkflowStep, WorkflowTemplate
from services.outbox import emit
from services.sla.clocks import WarningPolicy, apologize, close_dossier_clock, end_step, halt, start_step

# what the engine changes it announces as workflow_api's, the supplements, payments and withdrawals it asks of
# the shared lifecycle included (they went out as intake's before issue 13)
SOURCE: Source = "workflow"


class SupplementItemIn(StrictModel):
    document: str = Field(min_length=2, max_length=300)
    reason: str = Field(min_length=5, max_length=1000)


class TransitionIn(StrictModel):
    action: Action
    comment: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, strict=True, ge=1, description="the dossier version the caller acted on")
    to_step: int | None = Field(default=None, strict=True, ge=1, description="send_back: the earlier step's position")
    reason: str | None = Field(default=None, min_length=5, max_length=2000, description="send_back, apologize")
    reasons: list[str] | None = Field(default=None, max_length=20, description="stop")
    new_appointment: IsoDateTime | None = Field(default=None, description="apologize")
    items: list[SupplementItemIn] | None = Field(default=None, max_length=20, description="request_supplement")
    amount_vnd: int | None = Field(
        default=None, strict=True, ge=1, description="request_payment (default: the known fees)"
    )
    description: str | None = Field(default=None, min_length=3, max_length=500, description="request_payment")
    result_note: str | None = Field(default=None, max_length=2000, description="resolve: what the result is")


def share_seconds(step: WorkflowStep) -> int:
    unit = WORKING_DAY if step.share_unit == "working_days" else HOUR
    return int(Decimal(step.share_value) * unit)


# the least loaded active holder of a role in a unit: built once, as the routing's other reads (issue 14)
_LOAD = (
    select(func.count(Dossier.id))
    .where(Dossier.current_assignee_id == Staff.id, Dossier.status.in_(OPEN))
    .correlate(Staff)
    .scalar_subquery()
)
_LEAST_LOADED = (
    select(Staff)
    .join(StaffRole, StaffRole.staff_id == Staff.id)
    .where(Staff.agency_id == bindparam("agency_id"), Staff.active.is_(True), StaffRole.role_code == bindparam("role"))
    .order_by(_LOAD, Staff.username)
    .limit(1)
)
# the newest active template of a procedure version
_TEMPLATE = (
    select(WorkflowTemplate)
    .where(WorkflowTemplate.procedure_version_id == bindparam("version_id"), WorkflowTemplate.active.is_(True))
    .order_by(WorkflowTemplate.version.desc())
    .limit(1)
)


async def pick_officer(session: AsyncSession, agency_id: uuid.UUID, role: str) -> Staff | None:
    """The least loaded active holder of ``role`` in the unit (open dossiers assigned), then by username."""
    return await session.scalar(_LEAST_LOADED, {"agency_id": agency_id, "role": role})


async def _enter(
    session: AsyncSession,
    dossier: Dossier,
    step: WorkflowStep,
    *,
    at: datetime,
    action: str,
    actor: Actor | None,
    policy: WarningPolicy,
    comment: str | None,
    ended_outcome: str | None,
    public_note: Note | str | None,
    prefer: uuid.UUID | None = None,
) -> SlaTimer:
    unit = step_unit(step, dossier)
    officer = await session.get(Staff, prefer) if prefer else None
    if officer is None or officer.agency_id != unit:
        officer = await pick_officer(session, unit, step.role_code)
    calendar = await calendar_for(session, unit)
    timer = await start_step(
        session,
        dossier,
        calendar=calendar,
        policy=policy,
        position=step.position,
        agency_id=unit,
        assignee_id=officer.id if officer else None,
        budget_seconds=share_seconds(step),
        at=at,
    )
    dossier.current_assignee_id = officer.id if officer else None
    line = handover(session, dossier, action=action, at=at, actor=actor, comment=comment, public_note=public_note)
    line.to_staff_id = officer.id if officer else None
    line.step_due_at = timer.due_at
    line.step_outcome = ended_outcome
    return timer


async def _announce(session: AsyncSession, dossier: Dossier, event_type: str, **extra: Any) -> None:
    await emit(
        session,
        event_type=event_type,
        source=SOURCE,
        destination="notify",
        dossier_id=dossier.id,
        payload={
            "dossier_code": dossier.code,
            "status": dossier.status,
            "step_position": dossier.current_step_position,
            "agency_id": str(dossier.current_agency_id) if dossier.current_agency_id else None,
            "assignee_id": str(dossier.current_assignee_id) if dossier.current_assignee_id else None,
            **extra,
        },
    )


async def start_routing(session: AsyncSession, dossier: Dossier, *, at: datetime, policy: WarningPolicy) -> bool:
    """On receipt: bind the active template and enter its first working step. False without a template."""
    if dossier.workflow_template_id is not None or dossier.status != "received":
        return False
    template = await session.scalar(_TEMPLATE, {"version_id": dossier.procedure_version_id})
    if template is None:
        return False
    dossier.workflow_template_id = template.id
    steps = (await position(session, dossier)).steps
    if not steps:
        return False
    # the receiving step happened at the desk (intake_api): the work starts at the next one
    first = steps[first_working_index([step.code for step in steps])]
    dossier.status = "processing"
    await _enter(
        session, dossier, first, at=at, action="route", actor=None, policy=policy, comment=None, ended_outcome=None,
        public_note=fixed("routed"),
    )  # fmt: skip
    dossier.lock_version += 1
    await _announce(session, dossier, "dossier.routed")
    return True


async def transition(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, *, now: datetime, policy: WarningPolicy
) -> None:
    """Apply one action; the caller holds the dossier's row lock. 409 when the dossier's state or step
    does not allow it (or the version is stale), 403 when it does but not for this caller."""
    if body.version is not None and body.version != dossier.lock_version:
        raise Conflict(
            "The dossier changed since you loaded it; reload and try again.",
            code="stale_version",
            version=dossier.lock_version,
        )
    where = await position(session, dossier)
    if body.action not in possible_actions(dossier, where):
        raise Conflict(
            f"'{body.action}' is not possible now (the dossier is {dossier.status}).", code="action_not_allowed"
        )
    if not caller_may(dossier, where, actor, body.action):
        raise ActionForbidden("Your role or agency may not do this at this step.", dossier_id=dossier.id)
    handler = _HANDLERS[body.action]
    await handler(session, dossier, body, actor, now, policy)
    dossier.lock_version += 1
    await session.flush()


async def _end_current(session: AsyncSession, dossier: Dossier, where: Position, at: datetime) -> str | None:
    if where.timer is None:
        return None
    calendar = await calendar_for(session, where.timer.agency_id)
    return await end_step(session, where.timer, calendar=calendar, at=at)


async def _forward(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    where = await position(session, dossier)
    following = where.next_step
    assert following is not None
    outcome = await _end_current(session, dossier, where, now)
    crossing = where.step is not None and step_unit(following, dossier) != step_unit(where.step, dossier)
    await _enter(
        session, dossier, following, at=now, action=body.action, actor=actor, policy=policy, comment=body.comment,
        ended_outcome=outcome,
        public_note=fixed("transferred") if crossing else None,
    )  # fmt: skip
    await _announce(
        session, dossier, "dossier.transferred" if crossing else "dossier.forwarded", previous_outcome=outcome
    )


async def _send_back(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    if not body.reason:
        raise Unprocessable("Sending back needs a reason.", code="reason_required", field="reason")
    where = await position(session, dossier)
    targets = where.send_back_targets(dossier)
    assert targets  # possible_actions offers send_back only then
    target_position = body.to_step or targets[-1].position
    target = next((s for s in targets if s.position == target_position), None)
    if target is None:
        raise Unprocessable(
            "to_step must be an earlier step of this dossier that can still resolve it.",
            code="invalid_step",
            field="to_step",
            allowed_steps=[s.position for s in targets],
        )
    outcome = await _end_current(session, dossier, where, now)
    earlier = await session.scalar(
        select(SlaTimer.assignee_id)
        .where(SlaTimer.dossier_id == dossier.id, SlaTimer.step_position == target.position)
        .order_by(SlaTimer.step_seq.desc())
        .limit(1)
    )
    await _enter(
        session, dossier, target, at=now, action="send_back", actor=actor, policy=policy, comment=body.reason,
        ended_outcome=outcome, public_note=None, prefer=earlier,
    )  # fmt: skip
    await _announce(session, dossier, "dossier.sent_back", reason=body.reason)


async def _request_supplement(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    if not body.items:
        raise Unprocessable("Say what must be supplemented and why.", code="items_required", field="items")
    await lifecycle.request_supplement(
        session, dossier, actor=actor, now=now, items=[i.model_dump() for i in body.items], source=SOURCE
    )


async def _request_payment(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    data = PaymentRequestIn(
        amount_vnd=body.amount_vnd, description=body.description or "Phí, lệ phí giải quyết thủ tục"
    )
    await request_payment(session, dossier, actor=actor, now=now, data=data, source=SOURCE)


async def _resolve(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    calendar = await calendar_for(session, dossier.receiving_agency_id)
    where = await position(session, dossier)
    step_outcome = await _end_current(session, dossier, where, now)
    outcome = await close_dossier_clock(session, dossier, calendar=calendar, at=now)
    dossier.status = "resolved"
    dossier.current_agency_id = dossier.receiving_agency_id
    counter = await pick_officer(session, dossier.receiving_agency_id, "counter")
    dossier.current_assignee_id = counter.id if counter else None
    line = handover(
        session, dossier, action="resolve", at=now, actor=actor, comment=body.result_note or body.comment,
        public_note=fixed("resolved"),
    )  # fmt: skip
    line.step_outcome, line.to_staff_id = step_outcome, dossier.current_assignee_id
    await _announce(session, dossier, "dossier.resolved", outcome=outcome)


async def _stop(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    reasons = [r.strip() for r in body.reasons or [] if r.strip()]
    if not reasons:
        raise Unprocessable("Stopping needs the reasons.", code="reasons_required", field="reasons")
    await halt(session, dossier, at=now)
    dossier.status = "stopped"
    dossier.closed_at = now
    handover(
        session, dossier, action="stop", at=now, actor=actor, comment="; ".join(reasons),
        public_note=Note("stopped", f"Dừng xử lý hồ sơ: {'; '.join(reasons)}", {"reasons": reasons}),
        detail={"reasons": reasons},
    )  # fmt: skip
    await _announce(session, dossier, "dossier.stopped", reasons=reasons)


async def _return_result(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    dossier.status = "returned"
    dossier.returned_at = dossier.closed_at = now
    dossier.current_assignee_id = None
    handover(
        session, dossier, action="return_result", at=now, actor=actor, comment=body.comment,
        public_note=fixed("returned"),
    )  # fmt: skip
    await _announce(session, dossier, "dossier.returned")


async def _apologize(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    if not body.reason or body.new_appointment is None:
        raise Unprocessable("An apology needs a reason and a new appointment.", code="apology_incomplete")
    appointment = body.new_appointment if body.new_appointment.tzinfo else body.new_appointment.replace(tzinfo=VN_TZ)
    calendar = await calendar_for(session, dossier.current_agency_id or dossier.receiving_agency_id)
    await apologize(session, dossier, calendar=calendar, reason=body.reason, new_appointment=appointment, at=now)
    handover(
        session, dossier, action="apologize", at=now, actor=actor, comment=body.reason,
        public_note=Note(
            "apologized",
            f"Thư xin lỗi và hẹn lại ngày trả kết quả: {appointment.astimezone(VN_TZ):%H:%M %d/%m/%Y}",
            {"appointment_at": appointment.astimezone(VN_TZ).isoformat()},
        ),
        detail={"reason": body.reason, "new_appointment": appointment.isoformat()},
    )  # fmt: skip


async def _withdraw(
    session: AsyncSession, dossier: Dossier, body: TransitionIn, actor: Actor, now: datetime, policy: WarningPolicy
) -> None:
    await lifecycle.withdraw(session, dossier, now=now, reason=body.comment, source=SOURCE)


_HANDLERS = {
    "forward": _forward,
    "transfer": _forward,
    "send_back": _send_back,
    "request_supplement": _request_supplement,
    "request_payment": _request_payment,
    "resolve": _resolve,
    "stop": _stop,
    "return_result": _return_result,
    "apologize": _apologize,
    "withdraw": _withdraw,
}
