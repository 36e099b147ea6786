"""Templates as data: rendering in a Jinja2 sandbox, the current version per channel, new versions, previews.

Bodies are plain text (``text/plain`` email, SMS, in-app), so nothing is HTML-escaped. The sandbox
keeps a template — which an administrator writes through the API — from reaching attributes such
as ``__class__`` or calling unsafe methods; it also has no globals (``range``…), no repetition or
power operators and only a short list of filters, so a template cannot grow a text without bound.
An administrator can still write a slow one (loops nested over the event's texts): templates are
theirs alone to publish and preview. Rendering for real is lenient (a value missing from an
event renders empty rather than losing the notification); validation and previews are strict (a
variable the sample data of the event does not have is a 422).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from jinja2 import ChainableUndefined, StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Table, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import Unprocessable
from services.models import NotificationTemplate
from services.notification.defaults import DEFAULTS, LABELS, default_for, sample_context
from services.notification.rules import RULES
from services.notification.schemas import PreviewIn, PreviewOut, SmsLengthOut, TemplateIn, TemplateOut
from services.notification.sms import MAX_SEGMENTS, measure, normalise

MAX_RENDERED = 20_000


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _date(value: Any) -> str:
    instant = _instant(value)
    return f"{instant.astimezone(VN_TZ):%d/%m/%Y}" if instant else ""


def _time(value: Any) -> str:
    instant = _instant(value)
    return f"{instant.astimezone(VN_TZ):%H:%M}" if instant else ""


def _vnd(value: Any) -> str:
    """50000 → 50.000 (the Vietnamese thousands separator)."""
    try:
        return f"{int(value):,}".replace(",", ".")
    except (TypeError, ValueError):
        return ""


# what a template may use: the text helpers, none that can grow a text without bound
_FILTERS = (
    "capitalize", "default", "d", "first", "int", "join", "last", "length", "lower", "round", "string", "title",
    "trim", "truncate", "upper",
)  # fmt: skip


class _Sandbox(SandboxedEnvironment):
    """The Jinja2 sandbox, and no repetition (``'x' * 10**9``) or power either."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" or isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            raise SecurityError(f"the operator {operator!r} is not allowed here")
        return super().call_binop(context, operator, left, right)


def _environment(strict: bool) -> SandboxedEnvironment:
    environment = _Sandbox(
        undefined=StrictUndefined if strict else ChainableUndefined,
        autoescape=False,  # plain text only; an HTML body would need autoescape=True
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.clear()  # no range(), lipsum(), cycler(): loops go over the event's own data
    environment.filters = {name: environment.filters[name] for name in _FILTERS}
    environment.filters.update({"date": _date, "time": _time, "vnd": _vnd})
    return environment


_ENVIRONMENTS = {True: _environment(True), False: _environment(False)}


@functools.lru_cache(maxsize=512)
def _compiled(source: str, strict: bool) -> Template:
    return _ENVIRONMENTS[strict].from_string(source)


def with_labels(context: dict[str, Any], locale: str) -> dict[str, Any]:
    """Add the human labels of the coded values (status, outcome, rating, timer, complaint kind, postal reason)."""
    labels = LABELS.get(locale, LABELS["vi"])
    enriched = dict(context)
    for key, group in (
        ("status", "status"),
        ("outcome", "outcome"),
        ("rating", "rating"),
        ("timer", "timer"),
        ("complaint_kind", "complaint_kind"),
        ("reason_code", "reason_code"),
    ):
        value = context.get(key)
        if isinstance(value, str):
            enriched.setdefault(f"{key}_label", labels[group].get(value, value))
    return enriched


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


def render(subject: str | None, body: str, context: dict[str, Any], *, strict: bool = False) -> Rendered:
    """Render a subject (one line) and a body; raises ``Unprocessable`` for a broken template."""
    try:
        rendered_subject = _compiled(subject, strict).render(context) if subject else None
        rendered_body = _compiled(body, strict).render(context)
    except TemplateSyntaxError as exc:
        raise Unprocessable(f"Template syntax error: {exc.message}", code="template_syntax", line=exc.lineno) from exc
    except SecurityError as exc:
        raise Unprocessable("The template does something the sandbox forbids.", code="template_unsafe") from exc
    except UndefinedError as exc:
        raise Unprocessable(f"Unknown value in the template: {exc.message}", code="template_undefined") from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise Unprocessable(f"The template cannot be rendered: {exc}", code="template_error") from exc
    if len(rendered_body) > MAX_RENDERED:
        raise Unprocessable("The rendered text is too long.", code="template_too_long")
    one_line = " ".join(rendered_subject.split()) if rendered_subject is not None else None
    return Rendered(subject=normalise(one_line) if one_line else None, body=normalise(rendered_body.strip()))


# --- the current templates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentTemplate:
    id: Any  # uuid.UUID of the stored version; None for a built-in default not (yet) seeded
    subject: str | None
    body: str


# the newest version per channel of one event's templates in one language: Core, built and compiled once (its
# ORM form, built at every event, loaded entities: a twentieth of notify_api's CPU, bench/profiles/2026-12-06-sender.md)
_VERSIONS = cast(Table, NotificationTemplate.__table__)
_CURRENT = (
    select(_VERSIONS.c.channel, _VERSIONS.c.id, _VERSIONS.c.active, _VERSIONS.c.subject, _VERSIONS.c.body)
    .where(_VERSIONS.c.event_type == bindparam("event_type"), _VERSIONS.c.locale == bindparam("locale"))
    .order_by(_VERSIONS.c.channel, _VERSIONS.c.version.desc())
    .ext(distinct_on(_VERSIONS.c.channel))
)


async def current_templates(session: AsyncSession, event_type: str, locale: str) -> dict[str, CurrentTemplate | None]:
    """Per channel, the newest version for the event (None: the newest version is inactive, the channel is off)."""
    rows = await session.execute(_CURRENT, {"event_type": event_type, "locale": locale})
    found: dict[str, CurrentTemplate | None] = {
        row.channel: CurrentTemplate(row.id, row.subject, row.body) if row.active else None for row in rows
    }
    rule = RULES.get(event_type)
    for channel in rule.channels() if rule else ():
        if channel not in found:
            default = default_for(event_type, channel, locale) or default_for(event_type, channel, "vi")
            if default is not None:
                found[channel] = CurrentTemplate(None, default.subject, default.body)
    return found


# A release's built-in text published as the next version where the newest version is an older built-in
# text (an administrator's version is never replaced); ON CONFLICT: two replicas starting at once publish it once.
_REFRESH = text("""
    INSERT INTO notification_template (id, event_type, channel, locale, version, active, builtin, subject, body)
    SELECT gen_random_uuid(), d.event_type, d.channel, d.locale, newest.version + 1, true, true, d.subject, d.body
      FROM unnest(CAST(:event_types AS text[]), CAST(:channels AS text[]), CAST(:locales AS text[]),
                  CAST(:subjects AS text[]), CAST(:bodies AS text[])) AS d(event_type, channel, locale, subject, body)
      JOIN LATERAL (SELECT t.version, t.builtin, t.subject, t.body
                      FROM notification_template AS t
                     WHERE t.event_type = d.event_type AND t.channel = d.channel AND t.locale = d.locale
                     ORDER BY t.version DESC
                     LIMIT 1) AS newest ON true
     WHERE newest.builtin AND (newest.subject IS DISTINCT FROM d.subject OR newest.body IS DISTINCT FROM d.body)
    ON CONFLICT (event_type, channel, locale, version) DO NOTHING
    RETURNING id
""")


def _lock_key(event_type: str, channel: str, locale: str) -> str:
    """The advisory lock every writer of a template's versions takes: an administrator's publish
    (``create_version``) and a start's seed and refresh (``ensure_default_templates``)."""
    return f"notification_template:{event_type}:{channel}:{locale}"


# one lock per template, taken in the order given (a function scan keeps the array's order)
_LOCK_EACH = text("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(CAST(:keys AS text[])) AS k")


async def ensure_default_templates(session: AsyncSession) -> int:
    """Seed the built-in templates as version 1 where missing, and publish a release's changed built-in texts
    as the next version where nobody published their own (``_REFRESH``); how many versions were written.
    Idempotent, safe to run concurrently.

    It takes each built-in template's lock first, as an administrator's publish does, in one sorted order
    (two replicas starting at once take them alike: no deadlock). Without them, a publish in the second a
    replica started read the same newest version as the refresh, wrote the same next one, and failed on the
    unique version once the start committed; now it waits for the start and takes the version after."""
    await session.execute(
        _LOCK_EACH, {"keys": sorted({_lock_key(t.event_type, t.channel, t.locale) for t in DEFAULTS})}
    )
    inserted = await session.scalars(
        insert(NotificationTemplate)
        .values(
            [
                {
                    "event_type": t.event_type,
                    "channel": t.channel,
                    "locale": t.locale,
                    "version": 1,
                    "active": True,
                    "builtin": True,
                    "subject": t.subject,
                    "body": t.body,
                }
                for t in DEFAULTS
            ]
        )
        .on_conflict_do_nothing(index_elements=["event_type", "channel", "locale", "version"])
        .returning(NotificationTemplate.id)
    )
    refreshed = await session.execute(
        _REFRESH,
        {
            "event_types": [t.event_type for t in DEFAULTS],
            "channels": [t.channel for t in DEFAULTS],
            "locales": [t.locale for t in DEFAULTS],
            "subjects": [t.subject for t in DEFAULTS],
            "bodies": [t.body for t in DEFAULTS],
        },
    )
    return len(inserted.all()) + len(refreshed.all())


async def list_templates(
    session: AsyncSession, *, event_type: str | None, channel: str | None, locale: str | None, all_versions: bool
) -> list[TemplateOut]:
    """The templates in use (the newest version of each event, channel and locale), or every version."""
    query = select(NotificationTemplate)
    if event_type:
        query = query.where(NotificationTemplate.event_type == event_type)
    if channel:
        query = query.where(NotificationTemplate.channel == channel)
    if locale:
        query = query.where(NotificationTemplate.locale == locale)
    if all_versions:
        query = query.order_by(
            NotificationTemplate.event_type,
            NotificationTemplate.channel,
            NotificationTemplate.locale,
            NotificationTemplate.version.desc(),
        )
    else:
        keys = (NotificationTemplate.event_type, NotificationTemplate.channel, NotificationTemplate.locale)
        query = query.order_by(*keys, NotificationTemplate.version.desc()).ext(distinct_on(*keys))
    return [TemplateOut.model_validate(row, from_attributes=True) for row in await session.scalars(query)]


# --- validation, previews and new versions -------------------------------------------------------------------


def _check_target(event_type: str, channel: str) -> None:
    rule = RULES.get(event_type)
    if rule is None:
        raise Unprocessable(
            f"No notifications are sent for {event_type!r}.", code="unknown_event_type", known=sorted(RULES)
        )
    if channel not in rule.channels():
        raise Unprocessable(
            f"{event_type} is not sent by {channel}.", code="channel_not_used", channels=sorted(rule.channels())
        )


def _sms_length(body: str) -> SmsLengthOut:
    length = measure(body)
    return SmsLengthOut(
        encoding=length.encoding,
        characters=length.units,
        segments=length.segments,
        per_segment=length.per_segment,
        max_segments=MAX_SEGMENTS,
    )


def check_rendering(
    event_type: str, channel: str, locale: str, subject: str | None, body: str, data: dict[str, Any]
) -> PreviewOut:
    """Render with the sample data (strictly); an SMS over ``MAX_SEGMENTS`` segments is refused."""
    if channel in ("email", "in_app") and not (subject and subject.strip()):
        raise Unprocessable(f"A {channel} template needs a subject.", code="subject_required", field="subject")
    context = with_labels({**sample_context(event_type), **data}, locale)
    rendered = render(subject if channel != "sms" else None, body, context, strict=True)
    if not rendered.body:
        raise Unprocessable("The template renders an empty text.", code="template_empty")
    sms = _sms_length(rendered.body) if channel == "sms" else None
    if sms is not None and sms.segments > MAX_SEGMENTS:
        raise Unprocessable(
            f"The SMS takes {sms.segments} segments ({sms.encoding}, {sms.characters} characters); "
            f"at most {MAX_SEGMENTS} are allowed.",
            code="sms_too_long",
            encoding=sms.encoding,
            characters=sms.characters,
            segments=sms.segments,
            max_segments=MAX_SEGMENTS,
        )
    return PreviewOut(
        event_type=event_type, channel=channel, locale=locale, subject=rendered.subject, body=rendered.body, sms=sms
    )


async def preview(session: AsyncSession, data: PreviewIn) -> PreviewOut:
    """Render the given (or current) template of an event with sample data."""
    _check_target(data.event_type, data.channel)
    subject, body = data.subject, data.body
    if body is None:
        current = (await current_templates(session, data.event_type, data.locale)).get(data.channel)
        if current is None:
            raise Unprocessable("This channel is turned off for the event; send a body.", code="template_inactive")
        subject, body = current.subject, current.body
    return check_rendering(data.event_type, data.channel, data.locale, subject, body, data.data)


async def create_version(session: AsyncSession, data: TemplateIn) -> NotificationTemplate:
    """Validate and store a new version; it becomes the one used from the next event on."""
    _check_target(data.event_type, data.channel)
    subject = data.subject if data.channel != "sms" else None
    check_rendering(data.event_type, data.channel, data.locale, subject, data.body, {})
    # two administrators publishing at once, or one and a starting replica (ensure_default_templates), get
    # consecutive versions, not a unique violation
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": _lock_key(data.event_type, data.channel, data.locale)},
    )
    latest = await session.scalar(
        select(func.max(NotificationTemplate.version)).where(
            NotificationTemplate.event_type == data.event_type,
            NotificationTemplate.channel == data.channel,
            NotificationTemplate.locale == data.locale,
        )
    )
    template = NotificationTemplate(
        event_type=data.event_type,
        channel=data.channel,
        locale=data.locale,
        version=(latest or 0) + 1,
        active=data.active,
        subject=subject,
        body=data.body,
    )
    session.add(template)
    await session.flush()
    await session.refresh(template)
    return template


async def publish(session: AsyncSession, data: TemplateIn, *, actor: Actor, origin: Origin) -> TemplateOut:
    """``create_version`` for an administrator, audited."""
    row = await create_version(session, data)
    record(
        session,
        audit_entry(
            service="notify", action="notification_template_publish", resource=f"notification_template:{row.id}",
            origin=origin, actor=actor,
            detail={"event_type": row.event_type, "channel": row.channel, "locale": row.locale, "version": row.version},
        ),
    )  # fmt: skip
    return TemplateOut.model_validate(row, from_attributes=True)
