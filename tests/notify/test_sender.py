"""The sender against a real SMTP server (aiosmtpd) and a real HTTP SMS gateway: delivery, retries with
backoff, failing for good and re-sending, permanent refusals, the shared rate limit, and leases."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.models import Notification
from services.notification.channels import Outgoing, ProviderResult, SmsChannel
from services.notification.mail import Composer
from services.notification.outcomes import OutcomeWriter
from services.notification.sender import UNCONFIRMED
from services.notification.smtp import EmailChannel
from tests.notify.conftest import World, create_world, deliver, drain, notifications_of, sender_for
from tests.notify.fakes import FakeGateway, SmtpSink
from tests.tokens import bearer_for

RECEIVED = {"received_at": "2026-11-23T09:30:00+07:00", "due_at": "2026-11-27T17:00:00+07:00"}

# the sender is a worker: its claims, leases and group commits are real transactions, some of them at once
pytestmark = pytest.mark.committed


async def _received(client: httpx.AsyncClient, settings: Settings, session: AsyncSession, **options: object) -> World:
    world = await create_world(session, **options)  # type: ignore[arg-type]
    await session.commit()
    await deliver(client, settings, "dossier.received", dossier=world.dossier, payload=RECEIVED)
    return world


def _by_channel(rows: list[Notification]) -> dict[str, Notification]:
    return {n.channel: n for n in rows}


async def test_email_and_sms_reach_the_servers(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpSink,
    gateway: FakeGateway,
) -> None:
    world = await _received(client, notify_settings, session)
    await drain(sender_for(sessionmaker, notify_settings, world.dossier), sessionmaker, world.dossier)

    rows = _by_channel(await notifications_of(sessionmaker, world.dossier))
    email, sms = rows["email"], rows["sms"]
    assert (email.status, email.attempts, sms.status, sms.attempts) == ("sent", 1, "sent", 1)
    assert email.sent_at is not None
    assert email.claimed_by is None

    [mail] = smtp.to(str(world.dossier.applicant_email))
    assert mail.message_id == f"<{email.id}@motcua.local>" == email.provider_message_id
    assert mail.subject == f"Hồ sơ {world.dossier.code} đã được tiếp nhận, hẹn trả kết quả ngày 27/11/2026"
    assert "Thời gian hẹn trả kết quả: 17:00 ngày 27/11/2026." in mail.body
    assert mail.message["Content-Type"].params["charset"] == "utf-8"

    [text] = gateway.to(str(world.dossier.applicant_phone))
    assert text["reference"] == str(sms.id) == sms.provider_message_id
    assert text["text"] == f"Hồ sơ {world.dossier.code} đã được tiếp nhận. Hẹn trả kết quả 17:00 ngày 27/11/2026."


async def test_gateway_failing_three_times_then_accepting_gives_one_message(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: FakeGateway,
) -> None:
    phone = f"09{uuid.uuid4().int % 10**8:08d}"
    gateway.fail_first[phone] = 3
    world = await _received(client, notify_settings, session, phone=phone)
    started = time.monotonic()
    await drain(sender_for(sessionmaker, notify_settings, world.dossier), sessionmaker, world.dossier)
    sms = _by_channel(await notifications_of(sessionmaker, world.dossier))["sms"]
    assert (sms.status, sms.attempts) == ("sent", 4)
    assert gateway.tries[str(sms.id)] == 4
    assert len(gateway.to(phone)) == 1
    assert time.monotonic() - started < 5  # backoff base 0.05 s, capped at 0.2 s in these settings


async def test_failing_for_good_is_failed_listed_and_resendable(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: FakeGateway,
) -> None:
    phone = f"09{uuid.uuid4().int % 10**8:08d}"
    gateway.down.add(phone)
    world = await _received(client, notify_settings, session, phone=phone)
    sender = sender_for(sessionmaker, notify_settings, world.dossier)
    await drain(sender, sessionmaker, world.dossier)
    sms = _by_channel(await notifications_of(sessionmaker, world.dossier))["sms"]
    assert (sms.status, sms.attempts) == ("failed", notify_settings.notify.max_attempts)
    assert sms.failed_at is not None
    assert sms.last_error is not None
    assert sms.last_error.startswith("HTTP 500")
    assert phone not in sms.last_error

    counter = bearer_for(notify_settings, world.counter, roles=["counter"])
    listed = await client.get("/api/v1/notifications", params={"status": "failed"}, headers=counter)
    assert listed.status_code == 200
    [item] = [n for n in listed.json() if n["id"] == str(sms.id)]
    assert item["recipient"] == f"{phone[:4]}***{phone[-3:]}"
    assert item["dossier_code"] == world.dossier.code
    admin_list = await client.get(
        "/api/v1/notifications", params={"status": "failed"}, headers=bearer_for(notify_settings)
    )
    assert str(sms.id) in [n["id"] for n in admin_list.json()]

    specialist = bearer_for(notify_settings, world.specialist)
    assert (await client.post(f"/api/v1/notifications/{sms.id}/resend", headers=specialist)).status_code == 403
    gateway.down.discard(phone)
    resent = await client.post(f"/api/v1/notifications/{sms.id}/resend", headers=counter)
    assert resent.status_code == 200, resent.text
    assert (resent.json()["status"], resent.json()["attempts"]) == ("queued", 0)
    again = await client.post(f"/api/v1/notifications/{sms.id}/resend", headers=counter)
    assert again.status_code == 409
    assert again.json()["code"] == "not_failed"
    await drain(sender, sessionmaker, world.dossier)
    sms = _by_channel(await notifications_of(sessionmaker, world.dossier))["sms"]
    assert (sms.status, sms.attempts) == ("sent", 1)
    assert len(gateway.to(phone)) == 1


async def test_permanent_refusals_fail_at_once_without_the_address(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpSink,
    gateway: FakeGateway,
) -> None:
    phone, address = f"09{uuid.uuid4().int % 10**8:08d}", f"khong.ton.tai.{uuid.uuid4().hex[:6]}@example.vn"
    gateway.reject.add(phone)
    smtp.refuse.add(address)
    world = await _received(client, notify_settings, session, phone=phone, email=address)
    await drain(sender_for(sessionmaker, notify_settings, world.dossier), sessionmaker, world.dossier)
    rows = _by_channel(await notifications_of(sessionmaker, world.dossier))
    assert (rows["sms"].status, rows["sms"].attempts) == ("failed", 1)
    assert (rows["email"].status, rows["email"].attempts) == ("failed", 1)
    assert rows["email"].last_error == "SMTP recipient refused ([550])"
    assert address not in str(rows["email"].last_error)
    assert smtp.to(address) == []


@pytest.mark.parametrize(
    ("recipient", "subject"),
    [
        ("cd.{tag}@example.vn", "Hồ sơ đã được tiếp nhận\r\nBcc: thu.thap.{tag}@example.vn"),
        ("cd.{tag}@example.vn\nBcc: thu.thap.{tag}@example.vn", "Hồ sơ đã được tiếp nhận"),
    ],
)
async def test_a_header_with_a_line_break_is_refused_for_good_and_nothing_reaches_the_server(
    notify_settings: Settings, smtp: SmtpSink, recipient: str, subject: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    channel = EmailChannel(notify_settings)
    notification = Outgoing(uuid.uuid4(), "email", recipient.format(tag=tag), subject.format(tag=tag), "Nội dung", 1)
    result = await channel.send(notification)
    await channel.aclose()
    assert (result.ok, result.permanent, result.error) == (False, True, "invalid message: ValueError")
    await asyncio.sleep(0.2)
    assert smtp.to(f"cd.{tag}@example.vn") == []
    assert smtp.to(f"thu.thap.{tag}@example.vn") == []


async def test_an_email_reads_back_as_written(notify_settings: Settings, smtp: SmtpSink) -> None:
    """Subject, sender's name and body in Vietnamese, a long subject folded, the Message-ID the row's."""
    address, subject = f"cd.{uuid.uuid4().hex[:8]}@example.vn", "Hồ sơ 000.00.31.H26-261123-0001 " * 4
    notification = Outgoing(uuid.uuid4(), "email", address, subject.strip(), "Kính gửi Quý ông/bà,\n\n.Trân trọng.", 1)
    channel = EmailChannel(notify_settings)
    assert (await channel.send(notification)).ok
    await channel.aclose()
    [mail] = smtp.to(address)
    assert (mail.subject, mail.message_id) == (subject.strip(), f"<{notification.id}@motcua.local>")
    assert str(mail.message["From"]) == notify_settings.smtp.sender
    assert mail.body == "Kính gửi Quý ông/bà,\n\n.Trân trọng."


@pytest.mark.parametrize(
    "subject",
    [
        "Hồ sơ 000.00.31.H26-261123-0001 (Đăng ký khai sinh) đã được tiếp nhận, hẹn trả kết quả ngày 27/11/2026",
        "Dossier 000.00.31.H26-261123-0001 was received and is due on 27/11/2026 at the counter of the ward",
        "=?utf-8?q?Ho_so?= is what an encoded word looks like",
        ("Hồ sơ 🏠 nhà ở " * 6).strip(),
        "",
    ],
)
async def test_an_email_arrives_with_the_headers_and_body_the_standard_library_writes_in_lines_of_78(
    notify_settings: Settings, smtp: SmtpSink, subject: str
) -> None:
    """The channel writes the message's bytes itself (no email.generator): a mail client reads the subject as
    written (even one that looks like an RFC 2047 word, which the standard library would let be decoded) and
    every other header and the body as the standard library's own message of the notification says them; no
    line is longer than 78."""
    address = f"cd.{uuid.uuid4().hex[:8]}@example.vn"
    body = "Kính gửi Quý ông/bà,\n\n.Hồ sơ của Quý ông/bà đã được tiếp nhận.\n" * 8
    notification = Outgoing(uuid.uuid4(), "email", address, subject, body, 1)
    channel = EmailChannel(notify_settings)
    assert (await channel.send(notification)).ok
    await channel.aclose()
    [mail] = smtp.to(address)
    expected = email.message_from_bytes(
        Composer(notify_settings).message(notification).as_bytes(), policy=email.policy.default
    )
    assert mail.subject == subject
    for name in [name for name in expected if name not in ("Date", "Subject")]:
        assert str(mail.message[name]) == str(expected[name]), name
    assert mail.body == body
    assert max(len(line.rstrip(b"\r")) for line in mail.raw.split(b"\n")) <= 78


async def test_the_sms_rate_is_kept_by_two_senders_together_even_when_the_event_loop_stalls(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: FakeGateway,
) -> None:
    rate = 20.0
    limited = notify_settings.with_changes(notify={"sms_per_second": rate})
    worlds = [await create_world(session, email=None) for _ in range(30)]
    await session.commit()
    for world in worlds:
        await deliver(client, notify_settings, "dossier.received", dossier=world.dossier, payload=RECEIVED)
    dossiers = [w.dossier for w in worlds]
    one, two = (sender_for(sessionmaker, limited, *dossiers, name=f"rate-{n}") for n in (1, 2))
    stalled = asyncio.Event()

    async def busy_machine() -> None:
        # the event loop stalls now and then (a loaded machine): the sends due meanwhile must not go out together
        while not stalled.is_set():
            await asyncio.sleep(0.4)
            time.sleep(0.25)

    staller = asyncio.create_task(busy_machine())
    try:
        await asyncio.gather(drain(one, sessionmaker, *dossiers), drain(two, sessionmaker, *dossiers))
    finally:
        stalled.set()
        await staller

    phones = {str(d.applicant_phone) for d in dossiers}
    times = sorted(m["at"] for m in gateway.accepted if m["to"] in phones)
    assert len(times) == 30
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= rate + 1, busiest
    assert times[-1] - times[0] >= (30 - 1) / rate * 0.9


async def test_a_lease_keeps_others_off_and_a_dead_senders_rows_are_taken_over(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: FakeGateway,
) -> None:
    short = notify_settings.with_changes(notify={"lease_seconds": 2, "send_timeout_seconds": 1.0})
    world = await _received(client, notify_settings, session, email=None)
    phone = str(world.dossier.applicant_phone)
    dead = sender_for(sessionmaker, short, world.dossier, name="dead")
    alive = sender_for(sessionmaker, short, world.dossier, name="alive")

    # the dead sender claimed the SMS, got it accepted by the gateway, and died before recording it
    [claimed] = (await dead._claim("sms")).batch
    channel = SmsChannel(short)
    assert (await channel.send(claimed)).ok
    await channel.aclose()
    assert await alive.run_once() == 0  # its lease keeps everyone else off

    await asyncio.sleep(2.1)
    await drain(alive, sessionmaker, world.dossier)
    [sms] = await notifications_of(sessionmaker, world.dossier)
    assert (sms.status, sms.attempts) == ("sent", 2)
    # asked again after the crash, the gateway (which sends a reference once) answers 409: one SMS
    assert [m["reference"] for m in gateway.to(phone)] == [str(sms.id)]
    assert gateway.repeated[str(sms.id)] == 1

    # the dead sender's late outcome changes nothing: the row is no longer its own
    await dead._record(claimed, ProviderResult(ok=False, error="late"))
    async with sessionmaker() as db:
        assert await db.scalar(select(Notification.status).where(Notification.id == sms.id)) == "sent"


async def test_a_sender_releases_what_it_could_not_send_within_its_lease(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: FakeGateway,
) -> None:
    world = await _received(client, notify_settings, session, email=None)
    sender = sender_for(sessionmaker, notify_settings, world.dossier)
    [claimed] = (await sender._claim("sms")).batch
    channel = sender.channels["sms"]
    await sender._send_one(channel, claimed, deadline=time.monotonic() + 0.5)  # lease nearly over
    [sms] = await notifications_of(sessionmaker, world.dossier)
    assert (sms.status, sms.attempts, sms.claimed_by) == ("queued", 0, None)
    assert gateway.to(str(world.dossier.applicant_phone)) == []


async def test_sms_waits_queued_while_no_gateway_is_configured(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    unconfigured = notify_settings.with_changes(sms={"gateway_url": None})
    world = await _received(client, notify_settings, session)
    sender = sender_for(sessionmaker, unconfigured, world.dossier)
    assert set(sender.channels) == {"email", "in_app"}
    for _ in range(3):
        await sender.run_once()
    rows = _by_channel(await notifications_of(sessionmaker, world.dossier))
    assert (rows["email"].status, rows["sms"].status, rows["sms"].attempts) == ("sent", "queued", 0)
    async with sessionmaker() as db, db.begin():  # not left for anyone else's sender
        await db.execute(update(Notification).where(Notification.id == rows["sms"].id).values(status="failed"))


async def test_an_email_sender_dying_before_its_handover_leaves_nothing_at_the_server_and_it_is_sent_once(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpSink,
) -> None:
    short = notify_settings.with_changes(notify={"lease_seconds": 2, "send_timeout_seconds": 1.0})
    world = await _received(client, notify_settings, session, phone=None)
    address = str(world.dossier.applicant_email)
    dead = sender_for(sessionmaker, short, world.dossier, name="dead-before")
    [claimed] = (await dead._claim("email")).batch

    # the message is with the server but for its final line when the sender stops
    async def dies(finish: Callable[[], None]) -> bool:
        return False

    channel = EmailChannel(short)
    assert not (await channel.send(claimed, dies)).ok
    await channel.aclose()
    await asyncio.sleep(0.3)
    assert smtp.to(address) == []  # without the final line the server kept nothing

    await asyncio.sleep(2.0)  # the dead sender's lease runs out
    await drain(sender_for(sessionmaker, short, world.dossier, name="alive-before"), sessionmaker, world.dossier)
    [email] = await notifications_of(sessionmaker, world.dossier)
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, None)
    assert [mail.message_id for mail in smtp.to(address)] == [f"<{email.id}@motcua.local>"]


async def test_an_email_sender_dying_after_its_handover_is_not_sent_again_but_shown_unconfirmed(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpSink,
) -> None:
    short = notify_settings.with_changes(notify={"lease_seconds": 2, "send_timeout_seconds": 1.0})
    world = await _received(client, notify_settings, session, phone=None)
    address = str(world.dossier.applicant_email)
    dead = sender_for(sessionmaker, short, world.dossier, name="dead-after")
    [claimed] = (await dead._claim("email")).batch

    async def handover(finish: Callable[[], None]) -> bool:
        return await dead._settle("handover", id=claimed.id, on_commit=finish)

    # the handover is recorded, the server accepts the message, and the sender dies before "sent"
    channel = EmailChannel(short)
    assert (await channel.send(claimed, handover)).ok
    await channel.aclose()
    alive = sender_for(sessionmaker, short, world.dossier, name="alive-after")
    assert await alive.run_once() == 0  # the lease still holds

    await asyncio.sleep(2.1)
    assert await alive.run_once() == 0  # nothing to send: the server has it
    [email] = await notifications_of(sessionmaker, world.dossier)
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, UNCONFIRMED)
    assert email.sent_at is not None
    assert len(smtp.to(address)) == 1

    # the dead sender's late outcome changes nothing
    await dead._record(claimed, ProviderResult(ok=True, reference="late"))
    [again] = await notifications_of(sessionmaker, world.dossier)
    assert again.provider_message_id is None


async def test_an_email_whose_send_times_out_during_its_handover_commit_never_reaches_the_server_twice(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpSink,
) -> None:
    """A busy database holds the handover's commit past the send timeout: the send gives up and the
    message is sent again later, so the late commit must not finish the first copy at the server."""
    short = notify_settings.with_changes(
        notify={"lease_seconds": 4, "send_timeout_seconds": 1.0, "backoff_base_seconds": 0.1}
    )
    world = await _received(client, notify_settings, session, phone=None)
    address = str(world.dossier.applicant_email)
    sender = sender_for(sessionmaker, short, world.dossier, name="slow-commit")
    [claimed] = (await sender._claim("email")).batch

    async with sessionmaker() as blocker, blocker.begin():
        # another transaction holds the row: the handover's UPDATE waits for it beyond the send timeout
        await blocker.execute(select(Notification.id).where(Notification.id == claimed.id).with_for_update())
        sending = asyncio.create_task(
            sender._send_one(sender.channels["email"], claimed, deadline=time.monotonic() + 4)
        )
        await asyncio.sleep(1.5)
        assert not sending.done()  # the outcome waits for the commit
    await asyncio.wait_for(sending, timeout=10)
    await asyncio.sleep(0.3)
    assert smtp.to(address) == []  # the late commit did not complete the abandoned message

    [email] = await notifications_of(sessionmaker, world.dossier)
    assert (email.status, email.handed_over_at) == ("queued", None)  # to be sent again, from the start
    await drain(sender_for(sessionmaker, short, world.dossier, name="after-timeout"), sessionmaker, world.dossier)
    [email] = await notifications_of(sessionmaker, world.dossier)
    assert (email.status, email.last_error) == ("sent", None)
    assert [mail.message_id for mail in smtp.to(address)] == [f"<{email.id}@motcua.local>"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-command-at-a-time"])
async def test_emails_with_a_handover_reach_servers_with_and_without_pipelining_refusals_included(
    notify_settings: Settings, pipelining: bool
) -> None:
    """MAIL, RCPT and DATA go together to a server that offers PIPELINING, one by one to one that does not:
    the same messages arrive, a refused recipient fails for good, and the connection goes on with the next."""
    server = SmtpSink(pipelining=pipelining).start()
    tag = uuid.uuid4().hex[:8]
    refused = f"khong.co.{tag}@example.vn"
    server.refuse.add(refused)
    handed_over: list[uuid.UUID] = []

    def message(to: str) -> Outgoing:
        return Outgoing(uuid.uuid4(), "email", to, "Hồ sơ đã được tiếp nhận", "Kính gửi Quý ông/bà,\n.\nTrân trọng.", 1)

    async def send(channel: EmailChannel, notification: Outgoing) -> ProviderResult:
        async def handover(finish: Callable[[], None]) -> bool:
            handed_over.append(notification.id)
            finish()
            return True

        return await channel.send(notification, handover)

    channel = EmailChannel(notify_settings.with_changes(smtp={"port": server.port, "connections": 1}))
    try:
        first, bad, last = message(f"a.{tag}@example.vn"), message(refused), message(f"b.{tag}@example.vn")
        results = [await send(channel, notification) for notification in (first, bad, last)]
    finally:
        await channel.aclose()
        server.stop()
    assert [(r.ok, r.permanent, r.error) for r in results] == [
        (True, False, None),
        (False, True, "SMTP recipient refused ([550])"),
        (True, False, None),
    ]
    assert handed_over == [first.id, last.id]  # a refused message never reaches its handover
    assert [mail.message_id for mail in server.mails] == [f"<{first.id}@motcua.local>", f"<{last.id}@motcua.local>"]
    assert {mail.body for mail in server.mails} == {"Kính gửi Quý ông/bà,\n.\nTrân trọng."}


def _letter(to: str) -> Outgoing:
    return Outgoing(uuid.uuid4(), "email", to, "Hồ sơ đã được tiếp nhận", "Kính gửi Quý ông/bà,\n.\nTrân trọng.", 1)


async def _handed_over(finish: Callable[[], None]) -> bool:
    finish()
    return True


async def test_emails_overlapping_on_one_pipelined_connection_each_get_their_own_answer(
    notify_settings: Settings,
) -> None:
    """A message's commands follow the previous message's final line before its answer is read: twelve at
    once over one connection, every third refused once whole (554), each send gets its own message's answer;
    a refusal at the end leaves the connection in use, so one connection carries all twelve."""
    server = SmtpSink().start()
    tag = uuid.uuid4().hex[:8]
    letters = [_letter(f"cd{n}.{tag}@example.vn") for n in range(12)]
    server.reject.update(letter.recipient for letter in letters[::3])
    channel = EmailChannel(notify_settings.with_changes(smtp={"port": server.port, "connections": 1}))
    try:
        results = await asyncio.gather(*(channel.send(letter, _handed_over) for letter in letters))
    finally:
        await channel.aclose()
        server.stop()
    expected = [
        (False, True, "SMTP 554: 5.6.0 message refused") if n % 3 == 0 else (True, False, None) for n in range(12)
    ]
    assert [(r.ok, r.permanent, r.error) for r in results] == expected
    accepted = sorted(f"<{letter.id}@motcua.local>" for n, letter in enumerate(letters) if n % 3)
    assert sorted(mail.message_id for mail in server.mails) == accepted
    assert server.greetings == 1


async def test_an_email_whose_final_answer_never_comes_is_in_doubt_and_the_one_behind_it_is_not_lost(
    notify_settings: Settings,
) -> None:
    """The server sits on a whole message past the timeout: that message is in doubt (never sent again), and
    the next one, whose commands followed it on the same connection, either arrives once on a new connection
    or is to be tried again — never in doubt, never twice."""
    server = SmtpSink().start()
    tag = uuid.uuid4().hex[:8]
    slow, next_one = _letter(f"cham.{tag}@example.vn"), _letter(f"sau.{tag}@example.vn")
    server.stall[slow.recipient] = 2.0
    channel = EmailChannel(
        notify_settings.with_changes(smtp={"port": server.port, "connections": 1}, notify={"send_timeout_seconds": 0.5})
    )
    try:
        first = asyncio.create_task(channel.send(slow, _handed_over))
        await asyncio.sleep(0.1)
        second = await channel.send(next_one, _handed_over)
        first_result = await first
        await asyncio.sleep(2.0)  # the server answers the slow message at last
    finally:
        await channel.aclose()
        server.stop()
    assert (first_result.ok, first_result.in_doubt) == (False, True)
    assert (second.in_doubt, second.permanent) == (False, False)
    arrived = [mail.message_id for mail in server.mails]
    assert arrived.count(f"<{next_one.id}@motcua.local>") == (1 if second.ok else 0)
    assert arrived.count(f"<{slow.id}@motcua.local>") <= 1


async def test_outcomes_are_recorded_while_handovers_keep_coming(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Handovers go first (SMTP connections wait for each) and the other outcomes gather meanwhile: a "sent"
    is still written while handovers never stop, not only once they pause."""
    writer = OutcomeWriter(sessionmaker, "busy-sender", None)
    sent = writer.later("sent", id=uuid.uuid4(), delivered=False, reference="r")
    deadline = time.monotonic() + 5
    while not sent.done() and time.monotonic() < deadline:  # a handover each turn of the event loop
        writer.later("handover", id=uuid.uuid4(), on_commit=lambda: None)
        await asyncio.sleep(0)
    assert sent.done()  # not starved: written while the handovers kept coming


async def test_a_connection_closed_during_a_handover_sends_the_message_again_rather_than_leave_it_in_doubt(
    notify_settings: Settings, smtp: SmtpSink
) -> None:
    """The connection closes while the handover commits (the message ahead on it gave up waiting for its answer):
    the final line cannot go, so the message is not with the server — it goes again on a new connection and
    arrives once, where it would have been recorded "unconfirmed" and never arrived."""
    letter = _letter(f"dong.{uuid.uuid4().hex[:8]}@example.vn")
    channel = EmailChannel(notify_settings)
    kept_open = await channel._connect()
    channel._idle.append(kept_open)

    async def closing_handover(finish: Callable[[], None]) -> bool:
        kept_open.close()  # the first attempt's connection; the second one's stays open
        with contextlib.suppress(Exception):  # as the outcomes' writer calls it
            finish()
        return True

    result = await channel.send(letter, closing_handover)
    await channel.aclose()
    assert (result.ok, result.in_doubt) == (True, False)
    assert [mail.message_id for mail in smtp.to(letter.recipient)] == [f"<{letter.id}@motcua.local>"]
