"""Events in, notifications stored: who is told, by which channel, with which text.

Runs inside the receiver's transaction (``services.outbox.receiver``), after ``accept_once`` has
recorded the event in ``processed_event``: the notification rows (``queued`` for email and SMS,
``delivered`` at once in the app) and the webhook deliveries commit together with that record or
not at all. Each row is unique by (event, channel, recipient), so whatever delivers an event twice
adds nothing. Contacts are read from the shared dossier (or complaint) row here and stored on the
notification only as its recipient; they never go into the event, the text or a log line.

A dossier resolved on the spot ("4 tại chỗ", ``services.workflow.on_the_spot``) is received, resolved
and returned at the one instant of the visit, with the citizen at the counter: its ``dossier.received``
(an appointment) and ``dossier.resolved`` ("come and collect it") would be wrong by the time they are
read, so the citizen is told only of the return. The events themselves, and the staff's, are unchanged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, ScalarSelect, Table, Uuid, bindparam, case, func, null, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import tracing
from services.core.config import Settings
from services.core.errors import Unprocessable
from services.domain.vocabulary import LEADER_ROLES
from services.models import Agency, Complaint, Dossier, Notification, Procedure, ProcedureVersion, Staff, StaffRole
from services.notification.defaults import default_for
from services.notification.facts import COLUMNS, DossierFacts
from services.notification.outbound import enqueue_deliveries
from services.notification.rules import RULES, Rule
from services.notification.templates import CurrentTemplate, Rendered, current_templates, render, with_labels
from services.outbox.events import EventEnvelope
from services.outbox.receiver import Handler

logger = logging.getLogger("motcua.notify")
# what the citizen of a dossier resolved on the spot is not told (module docstring)
_SILENT_ON_THE_SPOT = frozenset({"dossier.received", "dossier.resolved"})


@dataclass(frozen=True)
class Target:
    channel: str
    recipient: str
    staff_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    locale: str | None = None  # None: the staff's language (MOTCUA_NOTIFY_LOCALE)


def tracking_url(settings: Settings, code: str) -> str:
    """The public tracking page of a dossier, as the receipt's QR code has it: the citizen types the secret there."""
    return f"{settings.urls.public.rstrip('/')}/tra-cuu/{code}"


def _on_the_spot(dossier: DossierFacts) -> bool:
    """Received and returned at the same instant: resolved on the spot in one visit."""
    return dossier.returned_at is not None and dossier.returned_at == dossier.received_at


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _instants(payload: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in payload.items():
        if key.endswith("_at") and isinstance(value, str):
            try:
                values[key] = datetime.fromisoformat(value)
                continue
            except ValueError:
                pass
        values[key] = value
    return values


async def _agency_name(session: AsyncSession, agency_id: uuid.UUID | None) -> str | None:
    if agency_id is None:
        return None
    return await session.scalar(select(Agency.name).where(Agency.id == agency_id))


def _name_of(agency_id: Any) -> ScalarSelect[str]:
    return select(Agency.name).where(Agency.id == agency_id).scalar_subquery()


# an event's dossier and the names its texts use (the procedure, the receiving desk, the unit the event names or
# else the dossier's current one), in one round trip: built and compiled once
_DOSSIERS = cast(Table, Dossier.__table__)
_WITH_CONTEXT = select(
    *COLUMNS,
    select(Procedure.name)
    .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
    .where(ProcedureVersion.id == _DOSSIERS.c.procedure_version_id)
    .scalar_subquery(),
    _name_of(_DOSSIERS.c.receiving_agency_id),
    _name_of(func.coalesce(bindparam("unit", type_=Uuid), _DOSSIERS.c.current_agency_id)),
).where(_DOSSIERS.c.id == bindparam("dossier_id"))


async def _dossier_with_context(
    session: AsyncSession, dossier_id: uuid.UUID, payload: Mapping[str, Any]
) -> tuple[DossierFacts, dict[str, Any]] | None:
    """The dossier's facts (services.notification.facts) and the names its texts use, in one round trip."""
    row = (
        await session.execute(_WITH_CONTEXT, {"dossier_id": dossier_id, "unit": _uuid(payload.get("agency_id"))})
    ).first()
    if row is None:
        return None
    *facts, procedure_name, agency_name, unit_name = row
    dossier = DossierFacts(*facts)
    return dossier, {
        "dossier_code": dossier.code,
        "status": dossier.status,
        "procedure_name": procedure_name,
        "agency_name": agency_name,
        "received_at": dossier.received_at,
        "due_at": dossier.appointment_at or dossier.due_at,
        "return_method": dossier.return_method,
        "unit_name": unit_name,
    }


async def _complaint_context(session: AsyncSession, complaint: Complaint) -> dict[str, Any]:
    return {
        "complaint_code": complaint.code,
        "complaint_kind": complaint.kind,
        "complaint_subject": complaint.subject,
        "answer": complaint.answer,
        "agency_name": await _agency_name(session, complaint.agency_id),
    }


async def _staff_targets(
    session: AsyncSession, rule: Rule, payload: Mapping[str, Any], dossier: DossierFacts | None
) -> list[Target]:
    desk = _uuid(payload.get("receiving_agency_id")) or (dossier.receiving_agency_id if dossier else None)
    if rule.staff == "assignee":
        assignee = _uuid(payload.get("assignee_id"))
        if assignee is not None:
            staff = await session.get(Staff, assignee)
            if staff is not None and staff.active:
                return [Target("in_app", f"staff:{staff.id}", staff_id=staff.id, agency_id=staff.agency_id)]
        unit = _uuid(payload.get("agency_id")) or (dossier.current_agency_id if dossier else None) or desk
        return [Target("in_app", f"agency:{unit}", agency_id=unit)] if unit else []
    if rule.staff == "desk" and desk is not None:
        return [Target("in_app", f"agency:{desk}", agency_id=desk)]
    if rule.staff == "agency":
        agency = _uuid(payload.get("agency_id"))
        return [Target("in_app", f"agency:{agency}", agency_id=agency)] if agency else []
    return []


async def _leader_targets(
    session: AsyncSession, payload: Mapping[str, Any], dossier: DossierFacts | None
) -> list[Target]:
    unit = _uuid(payload.get("agency_id")) or (dossier.current_agency_id if dossier else None)
    if unit is None:
        return []
    leaders = await session.scalars(
        select(Staff)
        .where(
            Staff.agency_id == unit,
            Staff.active.is_(True),
            Staff.email.is_not(None),
            Staff.id.in_(select(StaffRole.staff_id).where(StaffRole.role_code.in_(LEADER_ROLES))),
        )
        .order_by(Staff.username)
    )
    return [Target("email", str(s.email), staff_id=s.id, agency_id=s.agency_id) for s in leaders if s.email]


def _contact_targets(
    channels: tuple[str, ...], email: str | None, phone: str | None, locale: str | None = None
) -> list[Target]:
    targets = []
    if "email" in channels and email:
        targets.append(Target("email", email.strip(), locale=locale))
    if "sms" in channels and phone:
        targets.append(Target("sms", phone.strip(), locale=locale))
    return targets


def _render(
    event_type: str, channel: str, locale: str, template: CurrentTemplate, context: dict[str, Any]
) -> Rendered | None:
    """The template's text; the built-in one when a stored version fails on this event's data.

    A version is validated against sample data when it is published, but real data can still
    break it (an empty list divided by): the citizen is told with the default text rather than
    the event failing, which would stop its delivery altogether.
    """
    try:
        return render(template.subject, template.body, context)
    except Unprocessable:
        logger.exception(
            "template failed, using the built-in text", extra={"event_type": event_type, "channel": channel}
        )
    default = default_for(event_type, channel, locale) or default_for(event_type, channel, "vi")
    return render(default.subject, default.body, context) if default and template.id is not None else None


# The notifications of an event, one executemany (SQLAlchemy's "insertmanyvalues": one INSERT of all its rows).
# As ``.values(rows)`` with ``func.now()`` in them, the statement had no cache key and was compiled again for
# every event: 13 % of notify_api's CPU in the pipeline benchmark (bench/profiles/2026-12-06-session13.md).
# Its instants stay the database's clock, each chosen by a flag of the row (a parameter may appear only once
# in an insertmanyvalues statement): a message to send is due now; one in the app is sent and delivered now.
_NOTIFICATIONS = cast(Table, Notification.__table__)  # Core: an executemany, not the ORM's bulk insert
_STORE = (
    insert(_NOTIFICATIONS)
    .values(
        next_attempt_at=case((bindparam("due_now", type_=Boolean), func.now()), else_=null()),
        sent_at=case((bindparam("sent_now", type_=Boolean), func.now()), else_=null()),
        delivered_at=case((bindparam("delivered_now", type_=Boolean), func.now()), else_=null()),
    )
    .on_conflict_do_nothing(index_elements=["event_id", "channel", "recipient"])
    .returning(_NOTIFICATIONS.c.id)
)


async def handle_event(session: AsyncSession, event: EventEnvelope, *, settings: Settings) -> int:
    """Store the notifications (and webhook deliveries) an event causes; return how many notifications."""
    rule = RULES.get(event.type)
    payload = event.payload
    found = await _dossier_with_context(session, event.dossier_id, payload) if event.dossier_id else None
    dossier, dossier_context = found if found else (None, {})
    complaint_id = _uuid(payload.get("complaint_id"))
    complaint = await session.get(Complaint, complaint_id) if complaint_id else None

    await enqueue_deliveries(session, event, dossier)
    if rule is None or payload.get("channel") in rule.skip_channels:
        return 0

    context: dict[str, Any] = dict(dossier_context)
    if dossier is not None:  # the link in a message: the tracking page by code only (no secret, no personal data)
        context["tracking_url"] = tracking_url(settings, dossier.code)
    if complaint is not None:
        context.update(await _complaint_context(session, complaint))
    context.update(_instants(payload))

    targets: list[Target] = []
    if dossier is not None and rule.citizen and not (event.type in _SILENT_ON_THE_SPOT and _on_the_spot(dossier)):
        targets += _contact_targets(
            rule.citizen, dossier.applicant_email, dossier.applicant_phone, dossier.applicant_locale
        )
    if complaint is not None and rule.complainant:
        targets += _contact_targets(rule.complainant, complaint.contact_email, complaint.contact_phone)
    if rule.staff:
        targets += await _staff_targets(session, rule, payload, dossier)
    if rule.leaders:
        targets += await _leader_targets(session, payload, dossier)
    if not targets:
        return 0

    # each recipient in their language: the applicant's choice, the staff's MOTCUA_NOTIFY_LOCALE
    locales = {target.locale or settings.notify.locale for target in targets}
    templates = {locale: await current_templates(session, event.type, locale) for locale in locales}
    contexts = {locale: with_labels(context, locale) for locale in locales}
    rows: list[dict[str, Any]] = []
    trace_context = tracing.current()  # the receiver's span (services.core.tracing); None with tracing off
    for target in targets:
        locale = target.locale or settings.notify.locale
        template = templates[locale].get(target.channel)
        if template is None:
            continue  # the channel is turned off for this event (newest template version inactive)
        text = _render(event.type, target.channel, locale, template, contexts[locale])
        if text is None:
            continue
        in_app = target.channel == "in_app"
        rows.append(
            {
                "event_id": event.id,
                "event_type": event.type,
                "dossier_id": dossier.id if dossier else None,
                "complaint_id": complaint.id if complaint else None,
                "channel": target.channel,
                "recipient": target.recipient,
                "recipient_staff_id": target.staff_id,
                "recipient_agency_id": target.agency_id,
                "template_id": template.id,
                "subject": text.subject,
                "body": text.body,
                # in the app, storing it is delivering it
                "status": "delivered" if in_app else "queued",
                "due_now": not in_app,
                "sent_now": in_app,
                "delivered_now": in_app,
                "attempts": 1 if in_app else 0,
                "trace_context": trace_context,  # the sender's send continues the event's trace
            }
        )
    if not rows:
        return 0
    inserted = await session.execute(_STORE, rows)
    count = len(inserted.all())
    logger.info("notifications stored", extra={"event_id": str(event.id), "event_type": event.type, "count": count})
    return count


def event_handlers(settings: Settings) -> dict[str, Handler]:
    """The receiver's handlers: every event with a rule, and those the subscribers want."""

    async def handle(session: AsyncSession, event: EventEnvelope) -> None:
        await handle_event(session, event, settings=settings)

    return {event_type: handle for event_type in RULES}
