"""Benchmark: notifications delivered per second by the sender (claim with SKIP LOCKED, send, record
the outcome) to a local SMTP server (aiosmtpd) and a local SMS gateway (HTTP), against sending the
same messages straight with aiosmtplib and httpx, in the same run and the same process.

Run with ``python -m bench.bench_notify``. It uses its own database (``motcua_bench_notify``),
recreated each run, seeded with ``BENCH_NOTIFICATIONS`` queued notifications per channel. The
sender runs in this process with the settings' defaults except the rate limits (lifted) and
``BENCH_SMTP_CONNECTIONS`` SMTP connections; the direct baseline uses as many SMTP connections, and
as many concurrent HTTP requests as the sender's batch. No target: what it reports is the price of
storing, claiming and recording each message over just sending it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import aiosmtplib
import asyncpg
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench.common import QUICK, run_on_fresh_database
from services.core.config import Settings
from services.notification.channels import Channel, EmailChannel, Outgoing, SmsChannel
from services.notification.sender import Sender
from tests.notify.fakes import FakeGateway, SmtpSink

COUNT = int(os.environ.get("BENCH_NOTIFICATIONS", "100" if QUICK else "1000"))
SMTP_CONNECTIONS = int(os.environ.get("BENCH_SMTP_CONNECTIONS", "4"))
BODY = (
    "Kính gửi Quý ông/bà,\n\nHồ sơ 000.00.31.H26-261123-{n:04d} (Đăng ký khai sinh) đã được UBND phường Hồng Bàng "
    "tiếp nhận lúc 09:30 ngày 23/11/2026.\nThời gian hẹn trả kết quả: 17:00 ngày 27/11/2026.\n\nTrân trọng."
)
SMS = "Hồ sơ 000.00.31.H26-261123-{n:04d} đã được tiếp nhận. Hẹn trả kết quả 17:00 ngày 27/11/2026."


def _outgoing(channel: str, n: int) -> Outgoing:
    if channel == "email":
        return Outgoing(
            uuid.uuid4(), "email", f"cd{n:05d}@example.vn", f"Hồ sơ số {n} đã được tiếp nhận", BODY.format(n=n), 1
        )
    return Outgoing(uuid.uuid4(), "sms", f"09{n:08d}", None, SMS.format(n=n), 1)


async def _seed(dsn: str, channel: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        rows = [
            (m.id, uuid.uuid4(), channel, m.recipient, m.subject, m.body)
            for m in map(lambda n: _outgoing(channel, n), range(COUNT))
        ]
        await connection.executemany(
            """INSERT INTO notification (id, event_id, event_type, channel, recipient, subject, body, status, attempts,
                   next_attempt_at) VALUES ($1, $2, 'dossier.received', $3, $4, $5, $6, 'queued', 0, now())""",
            rows,
        )
    finally:
        await connection.close()


async def _through_sender(settings: Settings, url: str, name: str, channel: Channel) -> float:
    engine = create_async_engine(url, pool_size=5, max_overflow=5)
    sender = Sender(async_sessionmaker(engine, expire_on_commit=False), settings, channels={name: channel})
    started = time.perf_counter()
    while await sender.run_once():
        pass
    elapsed = time.perf_counter() - started
    await channel.aclose()
    await engine.dispose()
    return elapsed


async def _straight(count: int, concurrency: int, send: Callable[[int], Awaitable[None]]) -> float:
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            await send(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def main_async(url: str) -> None:
    smtp, gateway = SmtpSink().start(), FakeGateway().start()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    settings = Settings(demo=True, log_level="WARNING").with_changes(
        db={"url": url},
        smtp={"port": smtp.port, "connections": SMTP_CONNECTIONS},
        sms={"gateway_url": gateway.url + "/sms"},
        notify={"email_per_second": 1_000_000.0, "sms_per_second": 1_000_000.0},
    )
    try:
        results: list[tuple[str, float, float]] = []

        await _seed(dsn, "email")
        email_channel = EmailChannel(settings)
        via_sender = await _through_sender(settings, url, "email", email_channel)
        assert len(smtp.message_ids()) == COUNT, "the sender lost or repeated emails"
        clients: list[aiosmtplib.SMTP] = []
        for _ in range(SMTP_CONNECTIONS):
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.port)
            await client.connect()
            clients.append(client)
        free: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for client in clients:
            free.put_nowait(client)

        async def mail(n: int) -> None:
            client = await free.get()
            try:
                message = email_channel.message(_outgoing("email", n))
                await client.send_message(message)
            finally:
                free.put_nowait(client)

        straight = await _straight(COUNT, SMTP_CONNECTIONS, mail)
        for client in clients:
            await client.quit()
        results.append(("email (SMTP, aiosmtpd)", COUNT / via_sender, COUNT / straight))

        await _seed(dsn, "sms")
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=100)) as http:
            via_sender = await _through_sender(settings, url, "sms", SmsChannel(settings, http))
            assert len(gateway.references()) == COUNT, "the sender lost or repeated SMS"

            async def text(n: int) -> None:
                message = _outgoing("sms", n)
                body = {"to": message.recipient, "text": message.body, "reference": str(message.id)}
                response = await http.post(gateway.url + "/sms", json=body)
                response.raise_for_status()

            straight = await _straight(COUNT, settings.notify.batch_size, text)
        results.append(("SMS (HTTP gateway)", COUNT / via_sender, COUNT / straight))
    finally:
        smtp.stop()
        gateway.stop()

    print(f"\nnotifications: {COUNT} per channel, sender vs straight sends (same process, same servers)")
    print(f"  {'channel':24} {'sender /s':>10} {'straight /s':>12} {'ratio':>7}")
    for name, sender_rate, straight_rate in results:
        print(f"  {name:24} {sender_rate:10,.0f} {straight_rate:12,.0f} {straight_rate / sender_rate:6.1f}×")


def main() -> int:
    return run_on_fresh_database("motcua_bench_notify", main_async)


if __name__ == "__main__":
    sys.exit(main())
