"""Templates as data: the built-in ones render in Vietnamese and English, SMS lengths are counted
right, the sandbox holds, new versions are validated and used, previews say the segments."""

from __future__ import annotations

import asyncio
import unicodedata

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.errors import Unprocessable
from services.models import NotificationTemplate
from services.notification.defaults import DEFAULTS, default_for, sample_context
from services.notification.rules import RULES
from services.notification.schemas import TemplateIn
from services.notification.sms import measure
from services.notification.templates import (
    check_rendering,
    create_version,
    current_templates,
    ensure_default_templates,
    render,
    with_labels,
)
from tests.tokens import bearer_for


def test_gsm7_and_ucs2_segments() -> None:
    assert measure("Ho so 000.00.31.H26-261123-0001 da duoc tiep nhan.").encoding == "GSM-7"
    assert measure("a" * 160).segments == 1
    assert measure("a" * 161).segments == 2  # 153 per part once concatenated
    assert measure("a" * 306).segments == 2
    assert measure("a" * 307).segments == 3
    assert measure("€" * 80).units == 160  # extension characters take two septets
    vietnamese = measure("Hồ sơ đã được tiếp nhận")
    assert (vietnamese.encoding, vietnamese.units, vietnamese.segments) == ("UCS-2", 23, 1)
    assert measure("ệ" * 70).segments == 1
    assert measure("ệ" * 71).segments == 2  # 67 per part
    assert measure("ệ" * 134).segments == 2
    assert measure("ệ" * 135).segments == 3
    # decomposed input is counted as it is sent: composed
    assert measure(unicodedata.normalize("NFD", "ệ" * 70)).segments == 1


def test_every_default_renders_with_its_sample_and_every_sms_fits_two_segments() -> None:
    keys = {(t.event_type, t.channel) for t in DEFAULTS}
    for event_type, rule in RULES.items():
        for channel in rule.channels():
            assert (event_type, channel) in keys, f"no default template for {event_type} by {channel}"
    for template in DEFAULTS:
        result = check_rendering(
            template.event_type, template.channel, template.locale, template.subject, template.body, {}
        )
        assert result.body
        assert "{{" not in result.body
        if template.channel == "sms":
            assert result.sms is not None
            assert result.sms.segments <= 2, (template.event_type, result.sms)
            assert result.sms.encoding == ("UCS-2" if template.locale == "vi" else "GSM-7"), template
        else:
            assert result.subject


def test_vietnamese_text_with_code_and_due_date() -> None:
    received = next(t for t in DEFAULTS if (t.event_type, t.channel, t.locale) == ("dossier.received", "email", "vi"))
    text = render(received.subject, received.body, with_labels(sample_context("dossier.received"), "vi"))
    assert text.subject == "Hồ sơ 000.00.31.H26-261123-0001 đã được tiếp nhận, hẹn trả kết quả ngày 27/11/2026"
    assert "Thời gian hẹn trả kết quả: 17:00 ngày 27/11/2026." in text.body
    assert "Kính gửi Quý ông/bà," in text.body
    assert unicodedata.is_normalized("NFC", text.body)


def test_lenient_at_runtime_strict_in_validation() -> None:
    assert render(None, "Hồ sơ {{ dossier_code }}{{ missing.deeper }}.", {"dossier_code": "X"}).body == "Hồ sơ X."
    with pytest.raises(Unprocessable) as raised:
        render(None, "{{ missing }}", {}, strict=True)
    assert raised.value.code == "template_undefined"


async def test_seeding_is_idempotent(session: AsyncSession) -> None:
    await ensure_default_templates(session)  # the app's start already seeded: nothing new
    assert await ensure_default_templates(session) == 0
    count = await session.scalar(
        select(func.count()).select_from(NotificationTemplate).where(NotificationTemplate.version == 1)
    )
    assert count is not None
    assert count >= len(DEFAULTS)
    await session.rollback()


async def test_a_release_s_new_built_in_text_reaches_a_deployment_seeded_before_it_but_never_replaces_an_admin_s(
    session: AsyncSession,
) -> None:
    """A deployment seeded before issue 16 told an online-result citizen to come to the desk: the new built-in text
    is published as the next version at start; where an administrator published their own, theirs stays."""
    await ensure_default_templates(session)
    seeded = await session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.event_type == "dossier.resolved",
            NotificationTemplate.channel == "email",
            NotificationTemplate.locale == "vi",
            NotificationTemplate.version == 1,
        )
    )
    assert seeded is not None
    assert seeded.builtin
    old_text = "Mời Quý ông/bà đến Bộ phận Tiếp nhận và Trả kết quả để nhận kết quả."
    seeded.body = old_text  # what the release before wrote
    theirs = "Hồ sơ {{ dossier_code }} đã có kết quả (tin nhắn của phường)."
    await create_version(session, TemplateIn(event_type="dossier.resolved", channel="sms", locale="vi", body=theirs))
    await session.flush()

    assert await ensure_default_templates(session) == 1
    current = await current_templates(session, "dossier.resolved", "vi")
    email, sms = current["email"], current["sms"]
    assert email is not None
    assert sms is not None
    built_in = default_for("dossier.resolved", "email", "vi")
    assert built_in is not None
    assert email.body == built_in.body
    assert "tải kết quả điện tử" in render(email.subject, email.body, {"return_method": "online"}).body
    assert sms.body == theirs
    assert await ensure_default_templates(session) == 0  # once
    versions = await session.scalars(
        select(NotificationTemplate.version).where(
            NotificationTemplate.event_type == "dossier.resolved",
            NotificationTemplate.channel == "email",
            NotificationTemplate.locale == "vi",
        )
    )
    assert sorted(versions) == [1, 2]  # the old text stays in the history
    await session.rollback()


async def test_list_preview_and_publish_a_version(
    client: httpx.AsyncClient, notify_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = bearer_for(notify_settings)
    listed = await client.get(
        "/api/v1/notification-templates", params={"event_type": "dossier.received", "locale": "vi"}, headers=admin
    )
    assert listed.status_code == 200
    assert {t["channel"] for t in listed.json()} == {"email", "sms"}

    preview = await client.post(
        "/api/v1/notification-templates/preview",
        json={"event_type": "dossier.received", "channel": "sms"},
        headers=admin,
    )
    assert preview.status_code == 200, preview.text
    sms = preview.json()["sms"]
    assert sms["encoding"] == "UCS-2"
    assert sms["segments"] == 2
    assert sms["per_segment"] == 67
    assert preview.json()["body"].startswith("Hồ sơ 000.00.31.H26-261123-0001 đã được tiếp nhận.")

    ascii_only = await client.post(
        "/api/v1/notification-templates/preview",
        json={"event_type": "dossier.received", "channel": "sms", "body": "Ho so {{ dossier_code }} da tiep nhan"},
        headers=admin,
    )
    assert ascii_only.json()["sms"] == {
        "encoding": "GSM-7", "characters": 44, "segments": 1, "per_segment": 160, "max_segments": 2,
    }  # fmt: skip

    too_long = await client.post(
        "/api/v1/notification-templates/preview",
        json={"event_type": "dossier.received", "channel": "sms", "body": "Hồ sơ {{ dossier_code }} " + "ư" * 120},
        headers=admin,
    )
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "sms_too_long"
    assert too_long.json()["segments"] == 3

    # a new version: used for the next events; older versions stay
    body = "Hồ sơ {{ dossier_code }} đã tiếp nhận, hẹn trả {{ due_at|date }}."
    created = await client.post(
        "/api/v1/notification-templates",
        json={"event_type": "dossier.received", "channel": "sms", "locale": "vi", "body": body},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] >= 2
    assert created.json()["subject"] is None
    current = await client.get(
        "/api/v1/notification-templates",
        params={"event_type": "dossier.received", "channel": "sms", "locale": "vi"},
        headers=admin,
    )
    assert [t["body"] for t in current.json()] == [body]
    every = await client.get(
        "/api/v1/notification-templates",
        params={"event_type": "dossier.received", "channel": "sms", "locale": "vi", "all_versions": True},
        headers=admin,
    )
    assert [t["version"] for t in every.json()] == sorted((t["version"] for t in every.json()), reverse=True)
    assert len(every.json()) >= 2
    # put the default text back as the newest version, for the other tests
    default = next(t for t in DEFAULTS if (t.event_type, t.channel, t.locale) == ("dossier.received", "sms", "vi"))
    restored = await client.post(
        "/api/v1/notification-templates",
        json={"event_type": "dossier.received", "channel": "sms", "body": default.body},
        headers=admin,
    )
    assert restored.status_code == 201


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"event_type": "dossier.received", "channel": "sms", "body": "{{ dossier_code "}, "template_syntax"),
        ({"event_type": "dossier.received", "channel": "sms", "body": "{{ ''.__class__.__mro__ }}"}, "template_unsafe"),
        ({"event_type": "dossier.received", "channel": "sms", "body": "{{ applicant_phone }}"}, "template_undefined"),
        ({"event_type": "dossier.received", "channel": "sms", "body": "{{ 'x' * 1000000000 }}"}, "template_unsafe"),
        ({"event_type": "dossier.received", "channel": "sms", "body": "{{ 10 ** 100 }}"}, "template_unsafe"),
        (
            {"event_type": "dossier.received", "channel": "sms", "body": "{% for i in range(9) %}x{% endfor %}"},
            "template_undefined",
        ),
        (
            {"event_type": "dossier.received", "channel": "sms", "body": "{{ dossier_code|center(9999999) }}"},
            "template_syntax",
        ),
        ({"event_type": "dossier.teleported", "channel": "sms", "body": "x"}, "unknown_event_type"),
        ({"event_type": "sla.due_soon", "channel": "sms", "body": "x"}, "channel_not_used"),
        ({"event_type": "dossier.received", "channel": "email", "body": "x"}, "subject_required"),
        ({"event_type": "dossier.received", "channel": "sms", "body": "x" * 400}, "sms_too_long"),
    ],
)
async def test_bad_templates_are_refused(
    client: httpx.AsyncClient, notify_settings: Settings, payload: dict[str, str], code: str
) -> None:
    response = await client.post("/api/v1/notification-templates", json=payload, headers=bearer_for(notify_settings))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_only_administrators_publish(client: httpx.AsyncClient, notify_settings: Settings) -> None:
    counter = bearer_for(notify_settings, roles=["counter"])
    body = {"event_type": "dossier.received", "channel": "sms", "body": "Hồ sơ {{ dossier_code }}."}
    assert (await client.post("/api/v1/notification-templates", json=body, headers=counter)).status_code == 403
    assert (await client.post("/api/v1/notification-templates", json=body)).status_code == 401
    preview = {"event_type": "dossier.received", "channel": "sms"}
    assert (
        await client.post("/api/v1/notification-templates/preview", json=preview, headers=counter)
    ).status_code == 403


@pytest.mark.committed
async def test_an_administrator_publishing_while_a_replica_starts_gets_the_next_version(engine: AsyncEngine) -> None:
    """A replica's start refreshes a built-in text (``ensure_default_templates``) while an administrator publishes
    the same template: the publish waits for the start's transaction and takes the version after the refresh's.
    Without the start taking the publish's lock, both read the same newest version and the publish failed on
    the unique version once the start committed."""
    key = (
        NotificationTemplate.event_type == "dossier.resolved",
        NotificationTemplate.channel == "email",
        NotificationTemplate.locale == "vi",
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as setup:
        await ensure_default_templates(setup)  # as notify_api's start has (a test run alone has no app started)
        newest = await setup.scalar(select(func.max(NotificationTemplate.version)).where(*key))
        assert newest is not None
        built_in = default_for("dossier.resolved", "email", "vi")
        assert built_in is not None
        # what an earlier release wrote, as the newest built-in version: the start will publish today's text
        setup.add(
            NotificationTemplate(
                event_type="dossier.resolved", channel="email", locale="vi", version=newest + 1, active=True,
                builtin=True, subject=built_in.subject, body="Mời Quý ông/bà đến Bộ phận Một cửa để nhận kết quả.",
            )
        )  # fmt: skip
        await setup.commit()
    theirs = TemplateIn(event_type="dossier.resolved", channel="email", locale="vi", subject="Kết quả", body="Đã có.")
    try:
        async with sessions() as starting, sessions() as admin:
            assert await ensure_default_templates(starting) == 1  # version newest + 2, not committed yet
            publish = asyncio.create_task(create_version(admin, theirs))
            await asyncio.sleep(0.3)
            assert not publish.done()  # it waits for the start's transaction
            await starting.commit()
            row = await asyncio.wait_for(publish, timeout=10)
            await admin.commit()
        assert row.version == newest + 3
        async with sessions() as check:
            versions = (await check.execute(select(NotificationTemplate.version, NotificationTemplate.builtin)
                        .where(*key, NotificationTemplate.version > newest)
                        .order_by(NotificationTemplate.version))).all()  # fmt: skip
            assert [tuple(v) for v in versions] == [(newest + 1, True), (newest + 2, True), (newest + 3, False)]
    finally:
        async with sessions() as cleanup:
            await cleanup.execute(delete(NotificationTemplate).where(*key, NotificationTemplate.version > newest))
            await cleanup.commit()
