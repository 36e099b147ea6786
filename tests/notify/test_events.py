"""Events in, notifications stored: the right people, the right channels, once per event and recipient."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.models import Complaint, Notification, ProcessedEvent
from tests.notify.conftest import create_world, deliver, notifications_of
from tests.tokens import bearer_for


async def test_received_tells_the_citizen_by_email_and_sms_once(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session)
    await session.commit()
    event_id = uuid.uuid4()
    payload = {"received_at": "2026-11-23T09:30:00+07:00", "due_at": "2026-11-27T17:00:00+07:00"}
    first = await deliver(
        client, notify_settings, "dossier.received", dossier=world.dossier, payload=payload, event_id=event_id
    )
    again = await deliver(
        client, notify_settings, "dossier.received", dossier=world.dossier, payload=payload, event_id=event_id
    )
    assert (first.json()["outcome"], again.json()["outcome"]) == ("processed", "duplicate")

    rows = await notifications_of(sessionmaker, world.dossier)
    assert sorted((n.channel, n.recipient, n.status, n.attempts) for n in rows) == sorted(
        [
            ("email", world.dossier.applicant_email, "queued", 0),
            ("sms", world.dossier.applicant_phone, "queued", 0),
        ]
    )
    email = next(n for n in rows if n.channel == "email")
    code = world.dossier.code
    assert email.subject == f"Hồ sơ {code} đã được tiếp nhận, hẹn trả kết quả ngày 27/11/2026"
    assert "tiếp nhận lúc 09:30 ngày 23/11/2026" in email.body
    assert "Thời gian hẹn trả kết quả: 17:00 ngày 27/11/2026." in email.body
    assert "Thủ tục thử nghiệm" in email.body  # the procedure's name, read from the catalogue
    sms = next(n for n in rows if n.channel == "sms")
    assert sms.body == f"Hồ sơ {code} đã được tiếp nhận. Hẹn trả kết quả 17:00 ngày 27/11/2026."
    assert email.template_id is not None
    assert email.next_attempt_at is not None
    # personal data stays out of what is written: the text has neither the phone nor the name
    assert str(world.dossier.applicant_phone) not in email.body + sms.body
    assert world.dossier.applicant_name not in email.body

    async with sessionmaker() as db:
        processed = await db.scalar(
            select(func.count()).where(ProcessedEvent.event_id == event_id, ProcessedEvent.consumer == "notify")
        )
    assert processed == 1


async def test_an_applicant_who_chose_english_is_told_in_english_and_the_staff_in_vietnamese(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session)
    world.dossier.applicant_locale = "en"
    await session.commit()
    payload = {"received_at": "2026-11-23T09:30:00+07:00", "due_at": "2026-11-27T17:00:00+07:00"}
    await deliver(client, notify_settings, "dossier.received", dossier=world.dossier, payload=payload)

    rows = {n.channel: n for n in await notifications_of(sessionmaker, world.dossier)}
    code = world.dossier.code
    assert rows["email"].subject == f"Dossier {code} received, result due 27/11/2026"
    assert rows["sms"].body.startswith(f"Dossier {code} received. Result due ")
    assert "Hồ sơ" not in rows["email"].body + rows["sms"].body


async def test_only_the_channels_the_citizen_gave(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    phone_only = await create_world(session, email=None)
    email_only = await create_world(session, phone=None)
    await session.commit()
    for world in (phone_only, email_only):
        await deliver(
            client, notify_settings, "dossier.refused", dossier=world.dossier, payload={"reasons": ["Thiếu tờ khai"]}
        )
    assert [n.channel for n in await notifications_of(sessionmaker, phone_only.dossier)] == ["sms"]
    [email] = await notifications_of(sessionmaker, email_only.dossier)
    assert email.channel == "email"
    assert "- Thiếu tờ khai" in email.body


async def test_staff_are_told_in_the_app(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session, channel=2)
    at_counter = await create_world(session, channel=1)
    await session.commit()
    await deliver(
        client, notify_settings, "dossier.routed", dossier=world.dossier, source="workflow",
        payload={"agency_id": str(world.agency.id), "assignee_id": str(world.specialist.id), "step_position": 2},
    )  # fmt: skip
    [notice] = await notifications_of(sessionmaker, world.dossier)
    assert (notice.channel, notice.recipient, notice.status) == ("in_app", f"staff:{world.specialist.id}", "delivered")
    assert notice.subject == f"Hồ sơ mới {world.dossier.code} được giao xử lý"
    assert notice.delivered_at is not None
    assert notice.recipient_agency_id == world.agency.id

    specialist = bearer_for(notify_settings, world.specialist)
    inbox = (await client.get("/api/v1/notifications/inbox", headers=specialist)).json()
    assert inbox["unread"] >= 1
    assert inbox["items"][0]["id"] == str(notice.id)
    read = await client.post(f"/api/v1/notifications/{notice.id}/read", headers=specialist)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    others = bearer_for(notify_settings, world.counter, roles=["counter"])
    unread_for_counter = (await client.get("/api/v1/notifications/inbox", headers=others)).json()
    assert str(notice.id) not in [item["id"] for item in unread_for_counter["items"]]

    # an online submission: the desk of the receiving agency, in the app, and the citizen by email
    await deliver(client, notify_settings, "dossier.submitted", dossier=world.dossier)
    submitted = [n for n in await notifications_of(sessionmaker, world.dossier) if n.event_type == "dossier.submitted"]
    assert sorted((n.channel, n.recipient) for n in submitted) == [
        ("email", world.dossier.applicant_email),
        ("in_app", f"agency:{world.agency.id}"),
    ]
    desk_inbox = (await client.get("/api/v1/notifications/inbox", headers=others)).json()
    assert any(item["event_type"] == "dossier.submitted" for item in desk_inbox["items"])
    # at the counter the dossier is received at once: the submission itself tells nobody
    await deliver(client, notify_settings, "dossier.submitted", dossier=at_counter.dossier)
    assert await notifications_of(sessionmaker, at_counter.dossier) == []


async def test_overdue_warns_the_assignee_in_the_app_and_the_leaders_by_email(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session)
    await session.commit()
    await deliver(
        client, notify_settings, "sla.overdue", dossier=world.dossier, source="workflow",
        payload={
            "timer": "step", "step_position": 2, "agency_id": str(world.agency.id),
            "assignee_id": str(world.specialist.id), "due_at": "2026-11-25T17:00:00+07:00",
        },
    )  # fmt: skip
    rows = await notifications_of(sessionmaker, world.dossier)
    assert sorted((n.channel, n.recipient) for n in rows) == [
        ("email", world.leader.email),
        ("in_app", f"staff:{world.specialist.id}"),
    ]
    leader_mail = next(n for n in rows if n.channel == "email")
    assert leader_mail.subject == f"[Quá hạn] Hồ sơ {world.dossier.code} – {world.agency.name}"
    assert "Thời hạn bước xử lý của hồ sơ" in leader_mail.body
    assert "17:00 ngày 25/11/2026" in leader_mail.body
    assert leader_mail.recipient_staff_id == world.leader.id


async def test_complaints_reach_the_agency_and_the_answer_reaches_the_complainant(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await create_world(session)
    complaint = Complaint(
        code=f"PAKN-{uuid.uuid4().hex[:8]}", kind="complaint", agency_id=world.agency.id, subject="Trễ hẹn",
        content="Hồ sơ đã quá hẹn.", contact_phone="0987654321", contact_email="lan@example.vn",
        received_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(complaint)
    await session.commit()
    ids = {"complaint_id": str(complaint.id), "complaint_code": complaint.code, "agency_id": str(world.agency.id)}
    await deliver(
        client, notify_settings, "complaint.received", payload={**ids, "kind": "complaint", "subject": "Trễ hẹn"}
    )
    complaint.answer, complaint.status = "Hồ sơ đã được giải quyết ngày 25/11/2026.", "published"
    await session.commit()
    await deliver(client, notify_settings, "complaint.answered", payload=ids)
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(Notification).where(Notification.complaint_id == complaint.id)))
    received = [n for n in rows if n.event_type == "complaint.received"]
    assert [(n.channel, n.recipient) for n in received] == [("in_app", f"agency:{world.agency.id}")]
    assert received[0].subject == f"Phản ánh mới {complaint.code}"
    answered = {n.channel: n for n in rows if n.event_type == "complaint.answered"}
    assert answered["email"].recipient == "lan@example.vn"
    assert answered["sms"].recipient == "0987654321"
    assert "Hồ sơ đã được giải quyết ngày 25/11/2026." in answered["email"].body
    assert answered["email"].subject == f"Trả lời phản ánh {complaint.code}"


async def test_an_inactive_newest_version_turns_a_channel_off(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = bearer_for(notify_settings)
    off = {"event_type": "dossier.returned", "channel": "sms", "body": "Hồ sơ {{ dossier_code }}.", "active": False}
    assert (await client.post("/api/v1/notification-templates", json=off, headers=admin)).status_code == 201
    try:
        world = await create_world(session)
        await session.commit()
        await deliver(client, notify_settings, "dossier.returned", dossier=world.dossier, source="workflow")
        assert [n.channel for n in await notifications_of(sessionmaker, world.dossier)] == ["email"]
    finally:
        on = {
            **off,
            "body": "Hồ sơ {{ dossier_code }} đã được trả kết quả. Cảm ơn ông/bà đã sử dụng dịch vụ.",
            "active": True,
        }
        assert (await client.post("/api/v1/notification-templates", json=on, headers=admin)).status_code == 201


async def test_a_version_that_breaks_on_real_data_falls_back_to_the_built_in_text(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = bearer_for(notify_settings)
    fragile = {
        "event_type": "dossier.supplement_requested",
        "channel": "sms",
        "body": "Hồ sơ {{ dossier_code }}: {{ 100 // (items|length) }}% giấy tờ cần bổ sung.",
    }
    assert (await client.post("/api/v1/notification-templates", json=fragile, headers=admin)).status_code == 201
    try:
        world = await create_world(session, email=None)
        await session.commit()
        response = await deliver(
            client, notify_settings, "dossier.supplement_requested", dossier=world.dossier, payload={"items": []}
        )
        assert response.json()["outcome"] == "processed"  # the event is not lost to a broken template
        [sms] = await notifications_of(sessionmaker, world.dossier)
        assert sms.body.startswith(f"Hồ sơ {world.dossier.code} cần bổ sung giấy tờ.")
    finally:
        default = "Hồ sơ {{ dossier_code }} cần bổ sung giấy tờ. Vui lòng tra cứu hồ sơ để xem chi tiết và nộp bổ sung."
        restored = {**fragile, "body": default}
        assert (await client.post("/api/v1/notification-templates", json=restored, headers=admin)).status_code == 201
