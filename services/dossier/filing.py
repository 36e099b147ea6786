"""Filing a dossier (nộp hồ sơ): online, at the desk, or at the desk to be resolved on the spot. The
dossier gets its code, its secret and the version in force, and its first hand-over line and event.

Intake's routes and workflow's "4 tại chỗ" (``services.workflow.on_the_spot``) all file through ``file``
(two statements, no ORM object). At the counter the dossier is filed received (``file(…, receipt=…)``: its
clock, receipt line and ``dossier.received`` event in the same statement); every other receipt — the desk's
acceptance, the post's hand-over, "4 tại chỗ" — is ``services.dossier.lifecycle.receive``. ``create`` loads
the dossier for the callers that go on with it ("4 tại chỗ", files to attach). Both take the request's body as
``Parsed`` (the data, the files, the idempotency fingerprint), answer idempotently with the secret sealed
(``SEALED``) and audit a filing by staff (``record_filing``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from asyncpg import Record
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel, TimeLimit
from services.calendar.store import REVISION_SQL, calendar_at
from services.calendar.working import VN_TZ
from services.core import tracing
from services.core.audit import Origin, audit_entry, write
from services.core.auth import Actor, purpose_key
from services.core.config import Settings
from services.core.db import begin, fetch, fetch_row
from services.core.errors import Forbidden, NotFound, Unprocessable
from services.domain.vocabulary import DossierStatus, RoleCode
from services.dossier.catalogued import FilingDesk, in_force_filing_sql, receiving_desk
from services.dossier.documents import Upload
from services.dossier.lifecycle import received_note
from services.dossier.notes import Note, fixed
from services.dossier.record import Source, destinations, event_payload
from services.dossier.schemas import SubmissionIn
from services.dossier.secrets import new_secret, secret_hash
from services.models import Dossier, SlaTimer
from services.models.dossier import dossier_code
from services.sla.clocks import WarningPolicy, dossier_clock

Model = TypeVar("Model", bound=BaseModel, covariant=True)  # a counter submission is a submission
SEALED = ("secret",)  # the tracking secret is never stored in clear with an idempotent answer

# The filing's two statements, straight through asyncpg on the request's connection (services.core.db.fetch)
# inside its transaction (services.core.db.begin): BEGIN, these two, COMMIT — as few round trips as the
# bare insert of bench.baseline_app. Through the ORM it was nine (the version, the information-only check,
# the number, the dossier, the hand-over line and the events each a statement, with the unit of work's
# bookkeeping around them: 8 ms of CPU a filing, bench/profiles/2026-12-06-filing.md).
#
# 1. The version in force with its rules and receiving desks, and — in the same statement — the day's
#    number of the desk the rules will choose on the usual paths (the one named, the caller's, the only
#    one; ``receiving_desk`` stays the rule: its choice is checked against this guess, and a number is
#    taken on its own when they differ). The number's row stays locked until COMMIT (gap-free codes:
#    README "Dossier codes"); a filing refused by a rule after it rolls back, number included.
_ENTRY = """
WITH v AS ({in_force}),
desks AS (
    SELECT a.id, a.code, a.counter_cutoff
      FROM v JOIN procedure_agency pa ON pa.version_id = v.version_id AND pa.role = 'receiving'
      JOIN agency a ON a.id = pa.agency_id
),
guess AS (
    SELECT id FROM desks
     WHERE CASE WHEN $3::varchar IS NOT NULL THEN code = $3::varchar
                WHEN $4::uuid IS NOT NULL THEN id = $4::uuid
                ELSE (SELECT count(*) FROM desks) = 1 END
),
numbered AS ({number} SELECT id, $2::date, 1 FROM guess {bump})
SELECT v.*, ARRAY(SELECT id FROM desks ORDER BY code) AS desk_ids,
       ARRAY(SELECT code FROM desks ORDER BY code) AS desk_codes,
       ARRAY(SELECT counter_cutoff FROM desks ORDER BY code) AS desk_cutoffs, {revision} AS calendar_revision,
       n.agency_id AS numbered_desk, n.last_value AS number
  FROM v LEFT JOIN numbered n ON true
"""
_NUMBER = "INSERT INTO dossier_sequence AS s (agency_id, day, last_value)"
_BUMP = "ON CONFLICT (agency_id, day) DO UPDATE SET last_value = s.last_value + 1 RETURNING s.agency_id, s.last_value"
_NEXT = f"{_NUMBER} VALUES ($1, $2, 1) {_BUMP}"
# 2. The dossier, its hand-over lines and its events, in one statement. Filed at the counter, it is written
#    received at once (``receipt``): its receipt time, clock start and due time in the insert, its clock in
#    ``sla_timer``, the receipt's line and the ``dossier.received`` event beside the filing's — one write of the
#    dossier through the statistics triggers where the ORM's receipt was an insert, then an update of the same
#    row (bench/profiles/2026-12-06-counter.md).
_FILE = """
WITH d AS (
    INSERT INTO dossier (id, code, procedure_version_id, receiving_agency_id, current_agency_id, status, channel,
        lock_version, applicant_kind, applicant_name, applicant_id_number, applicant_phone, applicant_email,
        applicant_address, applicant_locale, return_method, postal_address, secret_hash, submitted_at,
        received_at, clock_start_at, due_at, supplement_count, late_by_rule, overdue, apology_issued, digitised,
        paid_online)
    VALUES ($1, $2, $3, $4, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $32, $33, $34,
        0, false, false, false, false, false)
    RETURNING id
),
line AS (
    INSERT INTO handover (id, dossier_id, at, action, status_after, from_staff_id, from_agency_id, to_agency_id,
        public_note, note_code, note_params, detail)
    SELECT l.id, d.id, $17, l.action, l.status_after, $19::uuid, $20::uuid, $4, l.note, l.code, l.params::jsonb,
        '{{}}'::jsonb
      FROM d, unnest($18::uuid[], $21::varchar[], $22::varchar[], $23::text[], $24::varchar[], $25::text[])
        AS l(id, action, status_after, note, code, params)
){timer}
INSERT INTO outbox_event (id, event_type, destination, source, dossier_id, payload, status, attempts, trace_context)
SELECT e.id, e.type, e.destination, $30::varchar, d.id, e.payload::jsonb, 'pending', 0, $31::varchar
  FROM d, unnest($26::uuid[], $27::varchar[], $28::varchar[], $29::text[]) AS e(id, type, destination, payload)
"""
# the clock of a dossier received at its filing (services.sla.clocks.dossier_clock's row)
_TIMER = """,
timer AS (
    INSERT INTO sla_timer (id, dossier_id, kind, step_seq, agency_id, budget_seconds, started_at, due_at, due_soon_at,
        paused_seconds)
    SELECT $35::uuid, d.id, 'dossier', 0, $4, $36::integer, $33, $34, $37::timestamptz, 0 FROM d
)"""
_ENTRY_SQL = _ENTRY.format(in_force=in_force_filing_sql(), number=_NUMBER, bump=_BUMP, revision=REVISION_SQL)
_FILE_SQL = _FILE.format(timer="")
_FILE_RECEIVED_SQL = _FILE.format(timer=_TIMER)
SUBMITTED = DossierStatus.SUBMITTED.value
RECEIVED = DossierStatus.RECEIVED.value


async def next_number(session: AsyncSession, agency_id: uuid.UUID, day: date) -> int:
    """The desk's next number of ``day``: the row lock of the day's counter, held to COMMIT, makes codes
    unique and gap-free."""
    row = await fetch_row(session, _NEXT, agency_id, day)
    assert row is not None  # an upsert always returns its row
    return int(row["last_value"])


@dataclass(frozen=True)
class Filed:
    """A dossier just filed, as its filing wrote it (no ORM object: ``Created`` loads one for the callers
    that go on with it)."""

    id: uuid.UUID
    code: str
    secret: str
    channel: Channel
    procedure_code: str
    version_id: uuid.UUID
    agency: FilingDesk
    data: SubmissionIn
    submitted_at: datetime
    received_at: datetime | None = None  # received as it was filed (at the counter): then its due time too
    due_at: datetime | None = None


def _check(row: Record, data: SubmissionIn, actor: Actor | None) -> FilingDesk:
    """The catalogue's rules for filing ``data`` (``row``: the version in force and its desks); the desk."""
    if row["information_only"]:
        raise Unprocessable(
            "This procedure is listed for information only: no workflow is configured for it here, "
            "so it is not received online; see where to go on its page.",
            code="procedure_information_only",
        )
    if actor is None and row["online_mode"] == "none":
        raise Unprocessable("This procedure is only received at the counter.", code="procedure_not_online")
    if data.return_method == "postal" and not row["postal_return"]:
        raise Unprocessable("This procedure's result cannot be returned by post.", code="postal_return_not_allowed")
    if data.pickup_by_post and not row["postal_submission"]:
        raise Unprocessable("This procedure cannot be filed by post.", code="postal_submission_not_allowed")
    desks = [FilingDesk(id, code) for id, code in zip(row["desk_ids"], row["desk_codes"], strict=True)]
    agency = receiving_desk(desks, data.agency_code, fallback=actor.agency_id if actor else None)
    if actor is not None and not actor.has_any(RoleCode.ADMIN) and agency.id != actor.agency_id:
        # counter intake files into the officer's own desk only (services.dossier.access)
        raise Forbidden("A counter officer files dossiers at their own desk only.", code="not_your_desk")
    return agency


async def file(
    session: AsyncSession,
    settings: Settings,
    data: SubmissionIn,
    *,
    channel: Channel,
    now: datetime,
    actor: Actor | None = None,
    source: Source,
    receipt: WarningPolicy | None = None,
) -> Filed:
    """File ``data``: the dossier with its code, its secret and the version in force, its first hand-over
    line and its ``dossier.submitted`` event, in the request's transaction (two statements, module notes).

    ``receipt`` (the clocks' warning policy): the dossier is received as it is filed — the counter's
    filing — its clock started by the receipt rules (``services.sla.clocks.dossier_clock``), with the
    receipt's line and its ``dossier.received`` event, as ``services.dossier.lifecycle.receive`` writes them."""
    today = now.astimezone(VN_TZ).date()
    fallback = actor.agency_id if actor else None
    # what does not depend on the number is made before its row is locked: one desk's filings queue there
    secret, key = new_secret(), purpose_key(settings, "tracking")
    dossier_id = uuid.uuid4()
    note = fixed("submitted_online" if actor is None else "submitted_at_desk")
    kinds = ["dossier.submitted"] if receipt is None else ["dossier.submitted", "dossier.received"]
    events = [_Event(kind, destination, uuid.uuid4()) for kind in kinds for destination in destinations(kind)]
    applicant = data.applicant
    email = str(applicant.email) if applicant.email else None
    await begin(session)
    row = await fetch_row(session, _ENTRY_SQL, data.procedure_code, today, data.agency_code, fallback)
    if row is None:
        raise NotFound(f"No procedure {data.procedure_code!r} is in force.", code="procedure_not_found")
    agency = _check(row, data, actor)
    number = row["number"] if row["numbered_desk"] == agency.id else await next_number(session, agency.id, today)
    code = dossier_code(agency.code, today, number)
    lines = [_Line("submit", SUBMITTED, note)]
    payloads = {"dossier.submitted": event_payload(code, SUBMITTED, int(channel), agency.id, row["version_id"])}
    clock = None
    if receipt is not None:
        clock = await _clock(session, row, receipt, dossier_id=dossier_id, agency=agency, at=now, channel=channel)
        lines.append(_Line("receive", RECEIVED, received_note(clock.due_at)))
        payloads["dossier.received"] = event_payload(
            code, RECEIVED, int(channel), agency.id, row["version_id"],
            received_at=now.isoformat(), due_at=clock.due_at.isoformat(),
        )  # fmt: skip
    arguments = [
        dossier_id, code, row["version_id"], agency.id, RECEIVED if clock else SUBMITTED, int(channel), applicant.kind,
        applicant.full_name, applicant.id_number, applicant.phone, email, applicant.address, data.language,
        data.return_method, data.postal_address, secret_hash(settings, code, secret, key=key), now,
        [uuid.uuid4() for _ in lines], actor.staff_id if actor else None, actor.agency_id if actor else None,
        [line.action for line in lines], [line.status_after for line in lines], [line.note.text for line in lines],
        [line.note.code for line in lines], [json.dumps(line.note.params) for line in lines],
        [event.id for event in events], [event.type for event in events], [event.destination for event in events],
        [json.dumps(payloads[event.type]) for event in events], source, tracing.current(),
        now if clock else None, clock.started_at if clock else None, clock.due_at if clock else None,
    ]  # fmt: skip
    if clock is not None:
        arguments += [uuid.uuid4(), clock.budget_seconds, clock.due_soon_at]
    await fetch(session, _FILE_RECEIVED_SQL if clock else _FILE_SQL, *arguments)
    return Filed(
        id=dossier_id, code=code, secret=secret, channel=channel, procedure_code=row["procedure_code"],
        version_id=row["version_id"], agency=agency, data=data, submitted_at=now,
        received_at=now if clock else None, due_at=clock.due_at if clock else None,
    )  # fmt: skip


@dataclass(frozen=True)
class _Line:
    """One hand-over line a filing writes."""

    action: str
    status_after: str
    note: Note


@dataclass(frozen=True)
class _Event:
    """One outbox row a filing writes: an event for one destination."""

    type: str
    destination: str
    id: uuid.UUID


async def _clock(
    session: AsyncSession, row: Record, policy: WarningPolicy, *, dossier_id: uuid.UUID, agency: FilingDesk,
    at: datetime, channel: Channel,
) -> SlaTimer:  # fmt: skip
    """The clock of a dossier received as it is filed, from the entry statement's row: the version's time limit
    and cutoff rule, the desk's cutoff, the calendar's revision (its calendar is cached by it)."""
    calendar = await calendar_at(session, agency.id, row["calendar_revision"])
    cutoffs = dict(zip(row["desk_ids"], row["desk_cutoffs"], strict=True))
    return dossier_clock(
        calendar, policy, dossier_id=dossier_id, agency_id=agency.id, received_at=at, channel=channel,
        limit=TimeLimit(row["time_limit_value"], row["time_limit_unit"]), cutoff_applies=row["cutoff_rule"],
        cutoff=cutoffs[agency.id],
    )  # fmt: skip


@dataclass(frozen=True)
class Created:
    """A filed dossier loaded in the session, for the callers that go on with it (the counter's receipt,
    "4 tại chỗ")."""

    dossier: Dossier
    secret: str
    agency_id: uuid.UUID


async def create(
    session: AsyncSession,
    settings: Settings,
    data: SubmissionIn,
    *,
    channel: Channel,
    now: datetime,
    actor: Actor | None = None,
    source: Source,
) -> Created:
    """``file``, then the dossier as an ORM object in the session."""
    filed = await file(session, settings, data, channel=channel, now=now, actor=actor, source=source)
    dossier = await session.get(Dossier, filed.id)
    assert dossier is not None  # written just above, in this transaction
    return Created(dossier=dossier, secret=filed.secret, agency_id=filed.agency.id)


@dataclass(frozen=True)
class Parsed(Generic[Model]):
    """A request's body as parsed by the API: the validated data, the files, and what its idempotency
    fingerprint is taken of (the data as JSON and each file's field, name and SHA-256)."""

    data: Model
    uploads: list[Upload]
    fingerprint_source: dict[str, Any]


async def record_filing(session: AsyncSession, origin: Origin, actor: Actor, dossier_id: uuid.UUID) -> None:
    """Staff filed a dossier for the citizen: an audited change (they typed the applicant's personal data)."""
    entry = audit_entry(
        service="intake", action="create", resource=origin.route, origin=origin, actor=actor, dossier_id=dossier_id
    )
    await write(session, entry)


def policy(settings: Settings) -> WarningPolicy:
    """The clocks' warning window, from the settings."""
    return WarningPolicy(settings.sla.warning_seconds)
