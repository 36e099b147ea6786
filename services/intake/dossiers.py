"""Intake of dossiers: online and counter submission, the counter's decision, supplements,
withdrawal, feedback and public tracking. Every state change is a hand-over line and an event
to workflow_api and notify_api, written in the same transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel, TimeLimit
from services.calendar.store import calendar_for
from services.calendar.working import VN_TZ
from services.core.auth import Actor, purpose_key
from services.core.config import Settings
from services.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.domain.rules import in_force_clause
from services.domain.vocabulary import NOT_CLOSED, STATUS_LABELS_VI, RoleCode
from services.intake.catalogue import information_only_ids
from services.intake.notes import Note, fixed, note_of
from services.intake.schemas import SubmissionIn
from services.models import (
    Agency,
    Document,
    Dossier,
    DossierSequence,
    Feedback,
    Handover,
    Procedure,
    ProcedureAgency,
    ProcedureVersion,
    SlaTimer,
)
from services.models.dossier import dossier_code
from services.outbox import emit
from services.outbox.events import Destination
from services.sla.clocks import WarningPolicy, halt, pause, resume, start_dossier_clock

_SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet, not a secret


# --- secrets -------------------------------------------------------------------------------------


def new_secret() -> str:
    raw = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normalise_secret(secret: str) -> str:
    return "".join(ch for ch in secret.upper() if ch.isalnum())


def secret_hash(settings: Settings, code: str, secret: str, *, key: bytes | None = None) -> str:
    """HMAC of the secret bound to its dossier: useless without the server key, fast to check.

    The key is the tracking purpose's own (services.core.auth.purpose_key), never the tokens'."""
    key = key if key is not None else purpose_key(settings, "tracking")
    return hmac.new(key, f"tracking:{code}:{_normalise_secret(secret)}".encode(), hashlib.sha256).hexdigest()


def secret_matches(settings: Settings, dossier: Dossier, secret: str) -> bool:
    return stored_secret_matches(settings, dossier.code, dossier.secret_hash, secret)


def stored_secret_matches(settings: Settings, code: str, stored: str, secret: str) -> bool:
    """Whether ``secret`` is the one whose HMAC ``stored`` holds for dossier ``code``."""
    if hmac.compare_digest(stored, secret_hash(settings, code, secret)):
        return True
    # dossiers receipted before the per-purpose keys (2026-12) were hashed with the master secret
    legacy = secret_hash(settings, code, secret, key=settings.auth.jwt_secret.get_secret_value().encode())
    return hmac.compare_digest(stored, legacy)


# --- catalogue look-ups ---------------------------------------------------------------------------


async def current_version(session: AsyncSession, procedure_code: str, on: date) -> tuple[Procedure, ProcedureVersion]:
    """The version in force on ``on``: a dossier stays bound to it for good."""
    row = (
        await session.execute(
            select(Procedure, ProcedureVersion)
            .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
            .where(
                Procedure.code == procedure_code,
                in_force_clause(
                    published=ProcedureVersion.published,
                    valid_from=ProcedureVersion.valid_from,
                    valid_to=ProcedureVersion.valid_to,
                    day=on,
                ),
            )
            .order_by(ProcedureVersion.version.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        raise NotFound(f"No procedure {procedure_code!r} is in force.", code="procedure_not_found")
    return row[0], row[1]


async def receiving_agency(
    session: AsyncSession, version: ProcedureVersion, agency_code: str | None, *, fallback: uuid.UUID | None = None
) -> Agency:
    """The one-stop desk receiving the dossier: the one named, the only one, or the caller's."""
    agencies = (
        await session.scalars(
            select(Agency)
            .join(ProcedureAgency, ProcedureAgency.agency_id == Agency.id)
            .where(ProcedureAgency.version_id == version.id, ProcedureAgency.role == "receiving")
            .order_by(Agency.code)
        )
    ).all()
    if agency_code is not None:
        chosen = next((agency for agency in agencies if agency.code == agency_code), None)
        if chosen is None:
            raise Unprocessable(
                f"Agency {agency_code!r} does not receive this procedure.",
                code="agency_not_receiving",
                field="agency_code",
            )
        return chosen
    if fallback is not None:
        chosen = next((agency for agency in agencies if agency.id == fallback), None)
        if chosen is not None:
            return chosen
        raise Forbidden("Your agency does not receive this procedure.", code="agency_not_receiving")
    if len(agencies) == 1:
        return agencies[0]
    raise Unprocessable(
        "Several desks receive this procedure; choose one with agency_code.",
        code="agency_required",
        options=[agency.code for agency in agencies],
    )


async def next_code(session: AsyncSession, agency: Agency, day: date) -> str:
    """``<agency code>-<yymmdd>-<nnnn>``: the row lock of the day's counter makes codes unique."""
    value = await session.scalar(
        insert(DossierSequence)
        .values(agency_id=agency.id, day=day, last_value=1)
        .on_conflict_do_update(index_elements=["agency_id", "day"], set_={"last_value": DossierSequence.last_value + 1})
        .returning(DossierSequence.last_value)
    )
    return dossier_code(agency.code, day, int(value or 0))


# --- the record of what happened ------------------------------------------------------------------


def handover(
    session: AsyncSession,
    dossier: Dossier,
    *,
    action: str,
    at: datetime,
    actor: Actor | None = None,
    comment: str | None = None,
    public_note: Note | str | None = None,
    detail: dict[str, Any] | None = None,
) -> Handover:
    """Add one line of the process control sheet and return it (callers fill the step fields).

    A system note is a ``Note`` (code, params and the Vietnamese sentence: services.intake.notes);
    a plain sentence is still accepted and keeps its code only if it is a parameterless one."""
    note = public_note if isinstance(public_note, Note) else None
    line = Handover(
        dossier_id=dossier.id,
        at=at,
        action=action,
        status_after=dossier.status,
        step_position=dossier.current_step_position,
        from_staff_id=actor.staff_id if actor else None,
        from_agency_id=actor.agency_id if actor else None,
        to_agency_id=dossier.current_agency_id,
        comment=comment,
        public_note=note.text if note else public_note,
        note_code=note.code if note else None,
        note_params=dict(note.params) if note else {},
        detail=detail or {},
    )
    session.add(line)
    return line


async def announce(session: AsyncSession, dossier: Dossier, event_type: str, **extra: Any) -> None:
    """Tell workflow_api and notify_api, through the outbox (ids and codes only, no personal data)."""
    payload: dict[str, Any] = {
        "dossier_code": dossier.code,
        "status": dossier.status,
        "channel": dossier.channel,
        "receiving_agency_id": str(dossier.receiving_agency_id),
        "procedure_version_id": str(dossier.procedure_version_id),
        **extra,
    }
    destinations: tuple[Destination, ...] = ("workflow", "notify")
    for destination in destinations:
        await emit(
            session,
            event_type=event_type,
            source="intake",
            destination=destination,
            dossier_id=dossier.id,
            payload=payload,
        )


# --- submission ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    dossier: Dossier
    procedure: Procedure
    agency: Agency
    secret: str


async def create(
    session: AsyncSession,
    settings: Settings,
    data: SubmissionIn,
    *,
    channel: Channel,
    now: datetime,
    actor: Actor | None = None,
) -> Created:
    today = now.astimezone(VN_TZ).date()
    procedure, version = await current_version(session, data.procedure_code, today)
    if await information_only_ids(session, [version]):
        raise Unprocessable(
            "This procedure is listed for information only: no workflow is configured for it here, "
            "so it is not received online; see where to go on its page.",
            code="procedure_information_only",
        )
    if actor is None and version.online_mode == "none":
        raise Unprocessable("This procedure is only received at the counter.", code="procedure_not_online")
    if data.return_method == "postal" and not version.postal_return:
        raise Unprocessable("This procedure's result cannot be returned by post.", code="postal_return_not_allowed")
    if data.pickup_by_post and not version.postal_submission:
        raise Unprocessable("This procedure cannot be filed by post.", code="postal_submission_not_allowed")
    agency = await receiving_agency(session, version, data.agency_code, fallback=actor.agency_id if actor else None)
    if actor is not None and not actor.has_any(RoleCode.ADMIN) and agency.id != actor.agency_id:
        # counter intake files into the officer's own desk only (services.workflow.access)
        raise Forbidden("A counter officer files dossiers at their own desk only.", code="not_your_desk")
    code = await next_code(session, agency, today)
    secret = new_secret()
    dossier = Dossier(
        code=code,
        procedure_version_id=version.id,
        receiving_agency_id=agency.id,
        current_agency_id=agency.id,
        status="submitted",
        channel=int(channel),
        applicant_kind=data.applicant.kind,
        applicant_name=data.applicant.full_name,
        applicant_id_number=data.applicant.id_number,
        applicant_phone=data.applicant.phone,
        applicant_email=str(data.applicant.email) if data.applicant.email else None,
        applicant_address=data.applicant.address,
        applicant_locale=data.language,
        return_method=data.return_method,
        postal_address=data.postal_address,
        secret_hash=secret_hash(settings, code, secret),
        submitted_at=now,
    )
    session.add(dossier)
    await session.flush()
    handover(
        session,
        dossier,
        action="submit",
        at=now,
        actor=actor,
        public_note=fixed("submitted_online" if actor is None else "submitted_at_desk"),
    )
    await announce(session, dossier, "dossier.submitted")
    return Created(dossier=dossier, procedure=procedure, agency=agency, secret=secret)


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
) -> None:
    """Received: the receipt rules start the legal clock; workflow_api starts the routing.

    ``by_post``: the post handed the dossier over (services.intake.postal): the note says so
    (``received_by_post``) rather than a comment, which is what a person typed."""
    version = await session.get(ProcedureVersion, dossier.procedure_version_id)
    agency = await session.get(Agency, dossier.receiving_agency_id)
    assert version is not None
    assert agency is not None
    calendar = await calendar_for(session, agency.id)
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
    dossier.status = "received"
    due = dossier.due_at.astimezone(VN_TZ) if dossier.due_at else None
    handover(
        session,
        dossier,
        action="receive",
        at=at,
        actor=actor,
        comment=comment,
        public_note=Note(
            "received_by_post" if by_post else "received",
            ("Bưu điện đã bàn giao hồ sơ. " if by_post else "")
            + f"Hồ sơ được tiếp nhận. Hẹn trả kết quả: {due:%H:%M ngày %d/%m/%Y}.",
            {"due_at": due.isoformat()},
        )
        if due
        else None,
    )
    await announce(
        session,
        dossier,
        "dossier.received",
        received_at=at.isoformat(),
        due_at=dossier.due_at.isoformat() if dossier.due_at else None,
    )


def _require_state(dossier: Dossier, *states: str) -> None:
    if dossier.status not in states:
        raise Conflict(
            f"Not possible while the dossier is {dossier.status}.",
            code="invalid_state",
            status_now=dossier.status,
        )


async def accept(
    session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, policy: WarningPolicy, comment: str | None
) -> None:
    _require_state(dossier, "submitted")
    channel = Channel.POSTAL if dossier.channel == Channel.POSTAL else Channel.ONLINE
    if channel is Channel.POSTAL:
        raise Conflict(
            "A postal dossier is received when the postal operator hands it over.", code="awaiting_postal_handover"
        )
    await receive(session, dossier, at=now, channel=channel, policy=policy, actor=actor, comment=comment)


async def refuse(session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, reasons: list[str]) -> None:
    _require_state(dossier, "submitted", "awaiting_supplement")
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
    await announce(session, dossier, "dossier.refused", reasons=reasons)


async def request_supplement(
    session: AsyncSession, dossier: Dossier, *, actor: Actor, now: datetime, items: list[dict[str, str]]
) -> None:
    """Before acceptance (the desk checks an online dossier) or after it (the clock pauses)."""
    _require_state(dossier, "submitted", "received", "processing")
    if dossier.received_at is not None:
        await pause(session, dossier, reason="supplement", note="; ".join(i["document"] for i in items), at=now)
    dossier.status = "awaiting_supplement"
    listing = "; ".join(f"{item['document']} ({item['reason']})" for item in items)
    handover(
        session, dossier, action="request_supplement", at=now, actor=actor, comment=listing,
        public_note=Note("supplement_requested", f"Yêu cầu bổ sung: {listing}", {"items": items}),
        detail={"items": items},
    )  # fmt: skip
    await announce(session, dossier, "dossier.supplement_requested", items=items)


async def answer_supplement(
    session: AsyncSession, dossier: Dossier, *, now: datetime, policy: WarningPolicy, note: str | None, files: int
) -> None:
    """The citizen's answer: back to where the dossier was; a paused clock resumes."""
    _require_state(dossier, "awaiting_supplement")
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
    await announce(session, dossier, "dossier.supplement_received", files=files)


async def withdraw(session: AsyncSession, dossier: Dossier, *, now: datetime, reason: str | None) -> None:
    """The applicant withdraws (from any open state); the clocks stop without an outcome."""
    if dossier.status not in NOT_CLOSED:
        raise Conflict(f"A dossier that is {dossier.status} cannot be withdrawn.", code="invalid_state")
    await halt(session, dossier, at=now)
    dossier.status = "withdrawn"
    dossier.closed_at = now
    handover(session, dossier, action="withdraw", at=now, comment=reason, public_note=fixed("withdrawn"))
    await announce(session, dossier, "dossier.withdrawn")


async def give_feedback(
    session: AsyncSession, dossier: Dossier, *, rating: str, comment: str | None, now: datetime
) -> Feedback:
    _require_state(dossier, "returned")
    existing = await session.scalar(select(Feedback.id).where(Feedback.dossier_id == dossier.id))
    if existing is not None:
        raise Conflict("This dossier was already rated.", code="feedback_exists")
    feedback = Feedback(dossier_id=dossier.id, rating=rating, comment=comment)
    session.add(feedback)
    await session.flush()
    await announce(session, dossier, "feedback.received", rating=rating)
    return feedback


# --- public tracking ---------------------------------------------------------------------------


async def history(session: AsyncSession, dossier: Dossier) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Handover)
        .where(Handover.dossier_id == dossier.id, Handover.public_note.is_not(None))
        .order_by(Handover.at, Handover.seq)
    )
    items: list[dict[str, Any]] = []
    for row in rows:
        code, params = note_of(row.note_code, row.note_params, row.public_note)
        items.append(
            {
                "at": row.at,
                "status": row.status_after,
                "status_label": STATUS_LABELS_VI[row.status_after],
                "note": row.public_note,
                "note_code": code,
                "note_params": params,
            }
        )
    return items


@dataclass(frozen=True)
class Catalogued:
    """What the catalogue says of a dossier: its procedure version, the procedure, the receiving desk."""

    version: ProcedureVersion
    procedure: Procedure
    agency: Agency


async def catalogued(session: AsyncSession, dossier: Dossier) -> Catalogued:
    version = await session.get(ProcedureVersion, dossier.procedure_version_id)
    assert version is not None
    procedure = await session.get(Procedure, version.procedure_id)
    agency = await session.get(Agency, dossier.receiving_agency_id)
    assert procedure is not None
    assert agency is not None
    return Catalogued(version, procedure, agency)


async def paused(session: AsyncSession, dossier: Dossier) -> tuple[datetime | None, str | None]:
    timer = await session.scalar(
        select(SlaTimer).where(
            and_(SlaTimer.dossier_id == dossier.id, SlaTimer.kind == "dossier", SlaTimer.paused_at.is_not(None))
        )
    )
    if timer is None:
        return None, None
    reason = {
        "awaiting_supplement": "Chờ công dân bổ sung hồ sơ",
        "awaiting_payment": "Chờ thực hiện nghĩa vụ tài chính",
    }
    return timer.paused_at, reason.get(dossier.status, "Tạm dừng")


def documents_of(rows: list[Document]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(row.id),
            "kind": row.kind,
            "required_code": row.required_code,
            "filename": row.filename,
            "content_type": row.content_type,
            "size_bytes": row.size_bytes,
            "sha256": row.sha256,
        }
        for row in rows
    ]
