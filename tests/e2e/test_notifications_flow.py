"""Notifications through the real processes: the three APIs and their workers under uvicorn, a real SMTP
server (aiosmtpd) and a real SMS gateway (HTTP) in the test process.

- A dossier's life — received at the counter, routed, forwarded, resolved, returned — sends the
  citizen the expected emails and SMS (Vietnamese, with the code and the due date) and the staff
  their in-app notices; the gateway failing three times gives one SMS; a gateway failing for good
  leaves the notification ``failed`` and listed.
- notify_api and its worker are SIGKILLed in the middle of 1,000 events and started again: every
  expected message arrives, and no recipient gets two messages for one event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.models import Notification, OutboxEvent, ProcessedEvent
from services.notification.sender import UNCONFIRMED
from tests.e2e.conftest import Stack, eventually
from tests.factories import create_agency, create_procedure_version, new_dossier
from tests.intake.setup import submission
from tests.notify.fakes import FakeGateway, SmtpSink
from tests.workflow_setup import World, create_world

pytestmark = pytest.mark.e2e


@pytest.fixture
def mail_server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def sms_gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway().start()
    yield fake
    fake.stop()


def configure(stack: Stack, mail_server: SmtpSink, sms_gateway: FakeGateway, **extra: str) -> None:
    stack.env.update(
        {
            "MOTCUA_SMTP_PORT": str(mail_server.port),
            "MOTCUA_SMS_GATEWAY_URL": sms_gateway.url + "/sms",
            "MOTCUA_NOTIFY_POLL_SECONDS": "0.1",
            "MOTCUA_NOTIFY_BACKOFF_BASE_SECONDS": "0.1",
            "MOTCUA_NOTIFY_BACKOFF_MAX_SECONDS": "0.4",
            "MOTCUA_NOTIFY_MAX_ATTEMPTS": "4",
            "MOTCUA_NOTIFY_LEASE_SECONDS": "4",
            "MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS": "2",
            "MOTCUA_NOTIFY_EMAIL_PER_SECOND": "2000",
            "MOTCUA_NOTIFY_SMS_PER_SECOND": "2000",
            **extra,
        }
    )


async def test_a_dossiers_life_reaches_the_citizen_and_the_staff(
    stack: Stack, engine: AsyncEngine, mail_server: SmtpSink, sms_gateway: FakeGateway
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world: World = await create_world(session)
        await session.commit()
    configure(stack, mail_server, sms_gateway)
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    for service in ("intake", "workflow", "notify"):
        stack.worker(service)

    email, phone, unlucky = "thuha.e2e@example.vn", "0912345678", "0987000111"
    sms_gateway.fail_first[phone] = 3  # the gateway fails three times for each of her messages, then accepts
    sms_gateway.down.add(unlucky)  # and never accepts this one

    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
        httpx.AsyncClient(base_url=stack.url("notify")) as notify,
    ):

        async def login(name: str) -> dict[str, str]:
            staff = world.staff[name]
            token = await workflow.post("/api/v1/auth/token", data={"username": staff.username, "password": "demo"})
            assert token.status_code == 200, token.text
            return {"Authorization": f"Bearer {token.json()['access_token']}"}

        counter, specialist, head = await login("counter"), await login("specialist"), await login("head")

        class Desk:
            procedure_code = world.codes["single"]

        body = submission(Desk())  # type: ignore[arg-type]
        body["applicant"].update({"email": email, "phone": phone})
        created = await intake.post("/api/v1/counter/dossiers", json=body, headers=counter)
        assert created.status_code == 201, created.text
        code = created.json()["code"]
        due = datetime.fromisoformat(created.json()["due_at"]).astimezone(VN_TZ)

        async def mail_about(subject_part: str) -> bool:
            return any(subject_part in mail.subject for mail in mail_server.to(email))

        await eventually(lambda: mail_about("đã được tiếp nhận"), timeout=20, what="the receipt email")
        [receipt] = [m for m in mail_server.to(email) if "đã được tiếp nhận" in m.subject]
        assert receipt.subject == f"Hồ sơ {code} đã được tiếp nhận, hẹn trả kết quả ngày {due:%d/%m/%Y}"
        assert f"Thời gian hẹn trả kết quả: {due:%H:%M} ngày {due:%d/%m/%Y}." in receipt.body
        assert "Kính gửi Quý ông/bà," in receipt.body

        async def texted(count: int) -> bool:
            return len(sms_gateway.to(phone)) >= count

        await eventually(lambda: texted(1), timeout=20, what="the receipt SMS, after three failures")
        [first_sms] = sms_gateway.to(phone)
        assert first_sms["text"] == f"Hồ sơ {code} đã được tiếp nhận. Hẹn trả kết quả {due:%H:%M} ngày {due:%d/%m/%Y}."
        assert sms_gateway.tries[first_sms["reference"]] == 4

        # routed by workflow_api: the specialist is told in the app
        state: dict[str, Any] = {}

        async def notice(headers: dict[str, str], event_type: str) -> bool:
            inbox = (await notify.get("/api/v1/notifications/inbox", headers=headers)).json()
            return any(item["event_type"] == event_type and item["dossier_code"] == code for item in inbox["items"])

        await eventually(lambda: notice(specialist, "dossier.routed"), timeout=20, what="the specialist's notice")
        state.update((await workflow.get(f"/api/v1/dossiers/{code}", headers=specialist)).json())

        async def act(headers: dict[str, str], action: str, **extra: Any) -> None:
            response = await workflow.post(
                f"/api/v1/dossiers/{code}/transitions", json={"action": action, **extra}, headers=headers
            )
            assert response.status_code == 200, response.text

        await act(specialist, "forward", version=state["version"])
        await eventually(lambda: notice(head, "dossier.forwarded"), timeout=20, what="the head's notice")
        await act(head, "resolve", result_note="Giấy khai sinh bản chính")
        await eventually(lambda: mail_about("đã có kết quả"), timeout=20, what="the result email")
        await act(counter, "return_result")
        await eventually(lambda: mail_about("đã trả kết quả"), timeout=20, what="the return email")
        await eventually(lambda: texted(3), timeout=20, what="three SMS")

        # a second citizen whose number the gateway never accepts
        other = submission(Desk())  # type: ignore[arg-type]
        other["applicant"].update({"email": None, "phone": unlucky})
        second = await intake.post("/api/v1/counter/dossiers", json=other, headers=counter)
        assert second.status_code == 201, second.text

        async def failed_listed() -> bool:
            listed = await notify.get("/api/v1/notifications", params={"status": "failed"}, headers=counter)
            return any(n["dossier_code"] == second.json()["code"] for n in listed.json())

        await eventually(failed_listed, timeout=20, what="the SMS that keeps failing to be failed and listed")
        listed = (
            await notify.get("/api/v1/notifications", params={"dossier": second.json()["code"]}, headers=counter)
        ).json()
        [failed] = [n for n in listed if n["channel"] == "sms"]
        assert (failed["status"], failed["attempts"], failed["recipient"]) == ("failed", 4, "0987***111")

        # her messages, as the servers counted them: each once
        subjects = sorted(mail.subject for mail in mail_server.to(email))
        assert subjects == sorted(
            [
                f"Hồ sơ {code} đã được tiếp nhận, hẹn trả kết quả ngày {due:%d/%m/%Y}",
                f"Hồ sơ {code} đã có kết quả",
                f"Hồ sơ {code} đã trả kết quả",
            ]
        )
        texts = [m["text"] for m in sms_gateway.to(phone)]
        assert len(texts) == 3
        assert len(set(texts)) == 3
        # the sender does not promise order across events (a retried message may come after a later one)
        assert f"Hồ sơ {code} đã có kết quả. Mời ông/bà đến nhận kết quả." in texts
        history = (await notify.get("/api/v1/notifications", params={"dossier": code}, headers=counter)).json()
        assert {n["recipient"] for n in history if n["channel"] == "sms"} == {"0912***678"}
        assert all(n["status"] in ("sent", "delivered") for n in history)

    stack.stop()
    logs = stack.logs()
    assert "notification send failed, will retry" in logs
    for secret in (email, phone, unlucky):
        assert secret not in logs


async def _seed_burst(engine: AsyncEngine, count: int) -> list[tuple[str, str]]:
    """``count`` dossiers, each with a dossier.received event for notify in the outbox (as intake writes it)."""
    contacts = []
    async with AsyncSession(engine, expire_on_commit=False) as session:
        agency = await create_agency(session, level="commune")
        version = await create_procedure_version(session)
        dossiers = []
        for n in range(count):
            email, phone = f"cd{n:04d}@example.vn", f"09{n:08d}"
            contacts.append((email, phone))
            dossiers.append(
                new_dossier(
                    agency, version, code=f"{agency.code}-261123-{n:04d}", applicant_phone=phone, applicant_email=email
                )
            )  # fmt: skip
        session.add_all(dossiers)
        await session.flush()
        session.add_all(
            OutboxEvent(
                event_type="dossier.received",
                source="intake",
                destination="notify",
                dossier_id=dossier.id,
                payload={
                    "dossier_code": dossier.code,
                    "status": "received",
                    "channel": 1,
                    "receiving_agency_id": str(agency.id),
                    "received_at": "2026-11-23T09:30:00+07:00",
                    "due_at": "2026-11-27T17:00:00+07:00",
                },
            )
            for dossier in dossiers
        )
        await session.commit()
    return contacts


async def test_killing_notify_in_the_middle_of_a_thousand_events_loses_and_repeats_nothing(
    stack: Stack, engine: AsyncEngine, mail_server: SmtpSink, sms_gateway: FakeGateway
) -> None:
    count = 1000
    contacts = await _seed_burst(engine, count)
    configure(stack, mail_server, sms_gateway, MOTCUA_RELAY_BATCH_SIZE="50", MOTCUA_NOTIFY_MAX_ATTEMPTS="10")
    stack.worker("intake")  # relays intake's events to notify_api, which is down for now
    api, worker = stack.api("notify"), stack.worker("notify")

    def arrived() -> int:
        return len(mail_server.mails) + len(sms_gateway.accepted)

    async def processed() -> int:
        async with AsyncSession(engine) as session:
            return int(await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)

    # kill in the middle of both: events still arriving at notify_api, messages still going out
    deadline = time.monotonic() + 30
    while (await processed() < count // 3 or arrived() < 100) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    api.kill()
    worker.kill()
    at_kill, processed_at_kill = arrived(), await processed()
    assert 0 < processed_at_kill < count, processed_at_kill
    assert 0 < at_kill < 2 * count, at_kill
    await asyncio.sleep(1.0)  # the relay keeps failing meanwhile; leases of the dead sender run out
    stack.api("notify")
    stack.worker("notify")

    async def lost_in_handover() -> set[str]:
        """Emails the killed sender had handed over (committed) but whose final line never left it: the one
        loss the design admits (services/notification/sender.py), each shown to the staff as unconfirmed."""
        async with AsyncSession(engine) as session:
            unconfirmed = set(
                (
                    await session.scalars(
                        select(Notification.id).where(
                            Notification.channel == "email", Notification.last_error == UNCONFIRMED
                        )
                    )
                ).all()
            )
        arrived_ids = {message_id.strip("<>").split("@")[0] for message_id in mail_server.message_ids()}
        return {str(notification_id) for notification_id in unconfirmed} - arrived_ids

    async def all_arrived() -> bool:
        mails, texts = mail_server.message_ids(), sms_gateway.references()
        return len(mails) + len(await lost_in_handover()) >= count and len(texts) >= count

    await eventually(all_arrived, timeout=45, what="every expected message after the restart")
    lost = await lost_in_handover()
    assert len(lost) <= 4, lost  # at most one per SMTP connection of the sender (smtp_connections, 4)

    async with AsyncSession(engine) as session:
        statuses = dict(
            (await session.execute(select(Notification.status, func.count()).group_by(Notification.status))).all()
        )
        events = dict(
            (await session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status))).all()
        )
        unconfirmed = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.last_error == UNCONFIRMED)
        )
    assert events == {"delivered": count}
    assert statuses == {"sent": 2 * count}

    # counted at the servers: every citizen got exactly one email and one SMS — nothing arrived twice
    mail_ids, references = mail_server.message_ids(), sms_gateway.references()
    assert len(mail_server.mails) == count - len(lost)
    assert set(mail_ids.values()) == {1}
    assert len(sms_gateway.accepted) == count
    assert set(references.values()) == {1}
    assert len({tuple(mail.recipients) for mail in mail_server.mails}) == count - len(lost)
    assert {tuple(mail.recipients) for mail in mail_server.mails} <= {(email,) for email, _ in contacts}
    assert {message["to"] for message in sms_gateway.accepted} == {phone for _, phone in contacts}
    repeats = sum(sms_gateway.repeated.values())
    print(
        f"\nkilled after {processed_at_kill} events and {at_kill} messages; emails handed over but unconfirmed: "
        f"{unconfirmed}, of which lost in the handover window: {len(lost)}; "
        f"SMS requests repeated (answered 409 by the gateway): {repeats}"
    )
