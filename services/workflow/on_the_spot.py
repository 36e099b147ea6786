""" "4 tại chỗ": receive, appraise, approve and return a simple procedure at the desk in one visit.

Hạ Long's centre resolves simple procedures (a certified copy, a certified signature) while the
citizen waits at the counter. Here that is a procedure whose active workflow template is flagged
``on_the_spot``: one step at the receiving desk, for the delegation role ``on_the_spot``, allowing
``resolve`` and ``return_result`` (template rule 8, ``services.workflow.template_rules``). A counter officer
holding that delegation (``services.dossier.access.authorize_on_the_spot``) files the dossier and
decides it in ONE request and ONE transaction:

- ``approve``: the dossier is filed and received at the counter (``services.dossier.filing.create`` and
  ``receive``: the receipt rules start the legal clock, Mẫu 01 can be printed), routed to its single step
  (``services.workflow.engine.start_routing``), resolved with the result note and returned to the citizen
  (``transition`` with ``resolve`` then ``return_result``, under the engine's own rule, so a caller without
  the step's role is refused exactly as on the slow path). Every one of those writes its hand-over line
  (the process control sheet shows receive, route, resolve, return_result within the same minute) and its
  outbox events, so the timeline, notifications and statistics are the normal ones.
- ``refuse``: the dossier does not meet the conditions; it is filed and refused at intake with the reasons
  (``services.dossier.lifecycle.refuse``, Mẫu 03), never received, as the desk refuses any dossier.

Why "early". A dossier resolved in the sitting it was received in is reported as resolved before its due
time (trước hạn). The clock rule alone says ``on_time`` for a 0-day ("trong ngày") procedure, whose due
time is the close of the same day; so when the dossier's clock, or its step's, ends on the due day and in
time, this module records ``early`` on it — never over a ``late`` (a dossier late by rule stays late). The
statistics' triggers count the stored outcome like any other.

The result is handed over at the counter: ``return_method`` must be ``counter`` and the dossier cannot be
collected by post. The request may carry the input documents (by required code) and result files (the
multipart field ``result``); ``file_on_the_spot`` attaches them, audits the filing and answers. An
``Idempotency-Key`` replays the first answer (``services.core.idempotency``), as for every counter submission.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.calendar.working import VN_TZ
from services.core import idempotency
from services.core.audit import Origin
from services.core.auth import Actor
from services.core.config import Settings
from services.core.errors import Conflict, Forbidden, Unprocessable
from services.core.offload import ProcessOffload
from services.dossier import filing, lifecycle
from services.dossier.access import authorize_on_the_spot
from services.dossier.catalogued import current_version
from services.dossier.documents import attach
from services.dossier.filing import SEALED, Parsed, policy, record_filing
from services.dossier.notes import fixed
from services.dossier.record import Source
from services.dossier.schemas import CounterSubmissionIn, DossierOut
from services.dossier.signatures import attach_results
from services.dossier.views import dossier_out
from services.models import Dossier, Handover, SlaTimer, WorkflowTemplate
from services.sla.clocks import WarningPolicy
from services.workflow.engine import TransitionIn, start_routing, transition

Decision = Literal["approve", "refuse"]
RESULT_FIELD = "result"  # the multipart field of the result files
# the visit happens at intake_api's desk: filing, receipt and refusal are announced as the desk's, as at the
# counter; the engine's own steps (resolve, return) announce themselves as workflow's
SOURCE: Source = "intake"


class OnTheSpotIn(CounterSubmissionIn):
    """A counter submission and the decision taken at the desk in the same visit."""

    decision: Decision = Field(description="approve: resolve and return now; refuse: refuse at intake (Mẫu 03)")
    result_note: str | None = Field(
        default=None, min_length=3, max_length=2000, description="approve: what the result is (required)"
    )
    reasons: list[str] | None = Field(default=None, max_length=20, description="refuse: the reasons (required)")

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [reason.strip() for reason in value if reason.strip()]
        if any(len(reason) > 1000 for reason in cleaned):
            raise ValueError("a reason is at most 1000 characters")
        return cleaned

    @model_validator(mode="after")
    def _decision(self) -> OnTheSpotIn:
        if self.decision == "approve" and not self.result_note:
            raise ValueError("an approval needs the result_note (what is handed to the citizen)")
        if self.decision == "refuse" and not self.reasons:
            raise ValueError("a refusal needs its reasons")
        return self


class OnTheSpotOut(DossierOut):
    """The dossier as the desk left it: returned (or refused), with the secret for Mẫu 01."""

    decision: Decision
    outcome: str | None = Field(description="early, on_time or late: how the statistics count it")
    resolved_at: datetime | None
    returned_at: datetime | None


@dataclass(frozen=True)
class Resolved:
    created: filing.Created
    decision: Decision


async def on_the_spot_template(session: AsyncSession, version_id: uuid.UUID) -> WorkflowTemplate | None:
    """The active template of a procedure version when it is a "4 tại chỗ" one, else None."""
    template = await session.scalar(
        select(WorkflowTemplate)
        .where(WorkflowTemplate.procedure_version_id == version_id, WorkflowTemplate.active.is_(True))
        .order_by(WorkflowTemplate.version.desc())
        .limit(1)
    )
    return template if template is not None and template.on_the_spot else None


async def resolve_on_the_spot(
    session: AsyncSession,
    settings: Settings,
    data: OnTheSpotIn,
    *,
    actor: Actor,
    now: datetime,
    policy: WarningPolicy,
) -> Resolved:
    """File, decide and (when approved) return the dossier in one transaction; flushes, never commits."""
    authorize_on_the_spot(actor)
    _, version = await current_version(session, data.procedure_code, now.astimezone(VN_TZ).date())
    if await on_the_spot_template(session, version.id) is None:
        raise Conflict("This procedure is not resolved on the spot; file it at the counter.", code="not_on_the_spot")
    if data.return_method != "counter" or data.pickup_by_post:
        raise Unprocessable(
            "A dossier resolved on the spot is handed back at the counter.",
            code="on_the_spot_counter_only",
            field="return_method",
        )
    created = await filing.create(session, settings, data, channel=Channel.COUNTER, now=now, actor=actor, source=SOURCE)
    dossier = created.dossier
    if created.agency_id != actor.agency_id:  # intake lets administrators file anywhere; not this
        raise Forbidden("A counter officer resolves on the spot at their own desk only.", code="not_your_desk")
    if data.decision == "refuse":
        await lifecycle.refuse(session, dossier, actor=actor, now=now, reasons=data.reasons or [], source=SOURCE)
        return Resolved(created=created, decision="refuse")
    await lifecycle.receive(
        session, dossier, at=now, channel=Channel.COUNTER, policy=policy, actor=actor, source=SOURCE
    )
    routed = await start_routing(session, dossier, at=now, policy=policy)
    assert routed  # the on_the_spot template checked above is the active one
    await transition(
        session, dossier, TransitionIn(action="resolve", result_note=data.result_note), actor, now=now, policy=policy
    )
    await transition(
        session,
        dossier,
        TransitionIn(action="return_result"),
        actor,
        now=now,
        policy=policy,
    )
    await _say_on_the_spot(session, dossier)
    await _count_as_early(session, dossier)
    return Resolved(created=created, decision="approve")


async def _say_on_the_spot(session: AsyncSession, dossier: Dossier) -> None:
    """The return line's note says the result was handed over on the spot (``returned_on_the_spot``), as a
    code the SPA says in the user's language — not as a Vietnamese comment, which the staff sheet would
    show in place of the note, in every language."""
    line = await session.scalar(
        select(Handover).where(Handover.dossier_id == dossier.id, Handover.action == "return_result")
    )
    assert line is not None  # written by the transition just above
    note = fixed("returned_on_the_spot")
    line.public_note, line.note_code, line.note_params = note.text, note.code, dict(note.params)


async def _count_as_early(session: AsyncSession, dossier: Dossier) -> None:
    """Resolved in the sitting it was received in: before its due time (module docstring)."""
    timers = await session.scalars(select(SlaTimer).where(SlaTimer.dossier_id == dossier.id))
    for timer in timers:
        if timer.outcome == "on_time":
            timer.outcome = "early"
    lines = await session.scalars(select(Handover).where(Handover.dossier_id == dossier.id))
    for line in lines:  # the control sheet says of the step what its clock says
        if line.step_outcome == "on_time":
            line.step_outcome = "early"
    if dossier.outcome == "on_time":
        dossier.outcome = "early"
    await session.flush()


async def file_on_the_spot(
    session: AsyncSession,
    settings: Settings,
    parsed: Parsed[OnTheSpotIn],
    *,
    actor: Actor,
    origin: Origin,
    key: str | None,
    now: datetime,
    offload: ProcessOffload,
) -> idempotency.Answer:
    """The counter's one request: resolve on the spot, attach the input documents and the result files
    (field ``result``; a PDF result signed by the desk, services/dossier/signatures.py), audit the filing and
    answer the dossier as the desk left it."""

    async def work() -> dict[str, Any]:
        done = await resolve_on_the_spot(session, settings, parsed.data, actor=actor, now=now, policy=policy(settings))
        dossier = done.created.dossier
        inputs = [upload for upload in parsed.uploads if upload.field != RESULT_FIELD]
        results = [upload for upload in parsed.uploads if upload.field == RESULT_FIELD]
        attach(session, settings, dossier, inputs, kind="input", now=now, staff_id=actor.staff_id)
        await attach_results(session, settings, offload, dossier, results, now=now, staff_id=actor.staff_id)
        await record_filing(session, origin, actor, dossier.id)
        await session.flush()
        base = (await dossier_out(session, dossier, secret=done.created.secret)).model_dump()
        return OnTheSpotOut(
            **base, decision=done.decision, outcome=dossier.outcome, resolved_at=dossier.resolved_at,
            returned_at=dossier.returned_at,
        ).model_dump(mode="json")  # fmt: skip

    return await idempotency.once(
        session, settings, route=origin.route, key=key, staff_id=actor.staff_id, client_address=origin.client_ip,
        payload=parsed.fingerprint_source, now=now, work=work, sealed=SEALED,
    )  # fmt: skip
