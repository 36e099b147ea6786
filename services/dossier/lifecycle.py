"""The dossier's state changes that intake and workflow share: receipt, the desk's decision, the
supplement asked and answered, withdrawal. Each checks the state (``require_state``: 409
``invalid_state`` naming ``status_now``), moves the clocks, writes the hand-over line and announces
the event with the caller's ``source``, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel, TimeLimit
from services.calendar.store import calendar_for
from services.calendar.working import VN_TZ
from services.core.auth import Actor
from services.core.errors import Conflict
from services.domain.vocabulary import NOT_CLOSED
from services.dossier.notes import Note, fixed
from services.dossier.record import Source, announce, handover
from services.models import Agency, Dossier, ProcedureVersion
from services.sla.clocks import WarningPolicy, halt, pause, resume, start_dossier_clock


async def receive(
    session: AsyncSession,
    dossier: Dossier,
    *,
    at: datetime,
    channel: Channel,
    policy: WarningPolicy,
    actor: Actor | None,
    comment: str | None = None,
    by_post: bool = False,
    source: Source,
) -> None:
    """Received: the receipt rules start the legal clock; workflow_api starts the routing.

    ``by_post``: the post handed the dossier over (services.intake.postal): the note says so
    (``received_by_post``) rather than a comment, which is what a person typed."""
    version = await session.get(ProcedureVersion, dossier.procedure_version_id)
    agency = await session.get(Agency, dossier.receiving_agency_id)
    assert version is not None
    assert agency is not None
    calendar = await calendar_for(session, agency.id)
    # the state first: the clock's flush then writes the dossier once — state, receipt time and due time in one
    # UPDATE, through the statistics triggers once (bench/profiles/2026-12-06-pipeline.md); the counter's filing
    # does not come here: it is written received (services.dossier.filing)
    dossier.status = "received"
    await start_dossier_clock(
        session,
        dossier,
        calendar=calendar,
        policy=policy,
        received_at=at,
        channel=channel,
        limit=TimeLimit(version.time_limit_value, version.time_limit_unit),
        cutoff_applies=version.cutoff_rule,
        cutoff=agency.counter_cutoff,
    )
    handover(
        session,
        dossier,
        action="receive",
        at=at,
        actor=actor,
        comment=comment,
        public_note=received_note(dossier.due_at, by_post=by_post) if dossier.due_at else None,
    )
    await announce(
        session,
        dossier,
        "dossier.received",
        source=source,
        received_at=at.isoformat(),
        due_at=dossier.due_at.isoformat() if dossier.due_at else None,
    )


def received_note(due: datetime, *, by_post: bool = False) -> Note:
    """The receipt line's note: received (by the post, ``by_post``) and the appointment, in Vietnam's time."""
    due = due.astimezone(VN_TZ)
    return Note(
        "received_by_post" if by_post else "received",
        ("Bưu điện đã bàn giao hồ sơ. " if by_post else "")
        + f"Hồ sơ được tiếp nhận. Hẹn trả kết quả: {due:%H:%M ngày %d/%m/%Y}.",
        {"due_at": due.isoformat()},
    )


def require_state(dossier: Dossier, *states: str) -> None:
    if dossier.status not in states:
        raise Conflict(
            f"Not possible while the dossier is {dossier.status}.",
            code="invalid_state",
            status_now=dossier.status,
        )


async def accept(
    session: AsyncSession,
    dossier: Dossier,
    *,
    actor: Actor,
    now: datetime,
    policy: WarningPolicy,
    comment: str | None,
    source: Source,
) -> None:
    require_state(dossier, "submitted")
    channel = Channel.POSTAL if dossier.channel == Channel.POSTAL else Channel.ONLINE
    if channel is Channel.POSTAL:
        raise Conflict(
            "A postal dossier is received when the postal operator hands it over.", code="awaiting_postal_handover"
        )
    await receive(session, dossier, at=now, channel=channel, policy=policy, actor=actor, comment=comment, source=source)


async def refuse(
    session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, reasons: list[str], source: Source
) -> None:
    require_state(dossier, "submitted", "awaiting_supplement")
    if dossier.received_at is not None:
        raise Conflict("A received dossier is stopped by its resolving unit, not refused.", code="already_received")
    dossier.status = "refused"
    dossier.closed_at = now
    joined = "; ".join(reasons)
    handover(
        session,
        dossier,
        action="refuse",
        at=now,
        actor=actor,
        comment=joined,
        public_note=Note("refused", f"Từ chối tiếp nhận: {joined}", {"reasons": reasons}),
        detail={"reasons": reasons},
    )
    await announce(session, dossier, "dossier.refused", source=source, reasons=reasons)


async def request_supplement(
    session: AsyncSession,
    dossier: Dossier,
    *,
    actor: Actor,
    now: datetime,
    items: list[dict[str, str]],
    source: Source,
) -> None:
    """Before acceptance (the desk checks an online dossier) or after it (the clock pauses)."""
    require_state(dossier, "submitted", "received", "processing")
    if dossier.received_at is not None:
        await pause(session, dossier, reason="supplement", note="; ".join(i["document"] for i in items), at=now)
    dossier.status = "awaiting_supplement"
    listing = "; ".join(f"{item['document']} ({item['reason']})" for item in items)
    handover(
        session, dossier, action="request_supplement", at=now, actor=actor, comment=listing,
        public_note=Note("supplement_requested", f"Yêu cầu bổ sung: {listing}", {"items": items}),
        detail={"items": items},
    )  # fmt: skip
    await announce(session, dossier, "dossier.supplement_requested", source=source, items=items)


async def answer_supplement(
    session: AsyncSession,
    dossier: Dossier,
    *,
    now: datetime,
    policy: WarningPolicy,
    note: str | None,
    files: int,
    source: Source,
) -> None:
    """The citizen's answer: back to where the dossier was; a paused clock resumes."""
    require_state(dossier, "awaiting_supplement")
    if dossier.received_at is None:
        dossier.status = "submitted"
    else:
        version = await session.get(ProcedureVersion, dossier.procedure_version_id)
        assert version is not None
        calendar = await calendar_for(session, dossier.receiving_agency_id)
        await resume(
            session, dossier, calendar=calendar, policy=policy, at=now, restart=version.clock_restarts_on_supplement
        )
        dossier.status = "processing"
    handover(
        session, dossier, action="supplement", at=now, comment=note,
        public_note=Note("supplemented", f"Công dân đã bổ sung hồ sơ ({files} tệp).", {"files": files}),
    )  # fmt: skip
    await announce(session, dossier, "dossier.supplement_received", source=source, files=files)


async def withdraw(
    session: AsyncSession, dossier: Dossier, *, now: datetime, reason: str | None, source: Source
) -> None:
    """The applicant withdraws (from any open state); the clocks stop without an outcome."""
    if dossier.status not in NOT_CLOSED:
        raise Conflict(f"A dossier that is {dossier.status} cannot be withdrawn.", code="invalid_state")
    await halt(session, dossier, at=now)
    dossier.status = "withdrawn"
    dossier.closed_at = now
    handover(session, dossier, action="withdraw", at=now, comment=reason, public_note=fixed("withdrawn"))
    await announce(session, dossier, "dossier.withdrawn", source=source)
