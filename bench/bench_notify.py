"""Benchmark: notifications delivered per second by the sender (claim with SKIP LOCKED, send, record
the outcome) to a local SMTP server (aiosmtpd) and a local SMS gateway (HTTP), against sending the
same messages straight with aiosmtplib and httpx, in the same run and the same process.

Run with ``python -m bench.bench_notify``. It uses its own database (``motcua_bench_notify``),
recreated each run, seeded with ``BENCH_NOTIFICATIONS`` (3,000; 100 quick) queued notifications per
channel before each round; the sender and its straight baseline take turns for ``BENCH_NOTIFY_ROUNDS``
(3; 1 quick) rounds each, and each side's rate is its messages over its seconds in all. The sinks run in a
process of their own (bench/sinks.py: aiosmtpd and a keep-alive gateway whose ceiling, 27,900 requests/s, is
far above what is measured) and count what arrives: every run
checks that each message arrived once. The sender runs its own loop (``Sender.run``, as the worker
does, on an engine made as the worker makes it) with the settings' defaults except the rate limits
(lifted) and ``BENCH_SMTP_CONNECTIONS`` SMTP connections; the straight baseline uses as many SMTP
connections, and as many HTTP requests in flight as the SMS channel (``MOTCUA_SMS_CONNECTIONS``).

The SMTP sink offers PIPELINING, as Postfix, Exim and Exchange do: the sender uses it (MAIL, RCPT and DATA
written together), aiosmtplib does not. The sender is also run against the same mailbox without PIPELINING
(shown, no target), so the share of the ratio that pipelining makes is in every run. The SMS channel posts
over httpcore's pool, without httpx's client around it; the target's baseline stays httpx's client (a straight
program's), and the same SMS sent straight over httpcore are shown too (no target): what the sender adds to the
client it uses.

Each run also reads the CPU time it cost, per message, in this process (the sender, or the straight client),
the sinks' process and PostgreSQL (its whole process tree, when the server runs on this machine): the runs
share two cores, so where the time goes says more than the rates alone.

Targets (issue 14): the sender ≥ 0.9× straight, per channel; SMS ≥ 1,000/s. Figures and profiles:
bench/profiles/2026-12-05-notify.md, bench/profiles/2026-12-06-notify.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import aiosmtplib
import asyncpg
import httpcore
import httpx

from bench.common import QUICK, Target, cpu_seconds, postmaster_pid, record, report, run_benchmark, tree_cpu_seconds
from bench.sinks import Sinks
from services.core.config import Settings
from services.core.counters import CounterPool
from services.core.db import create_engine, create_sessionmaker
from services.notification.channels import Channel, Outgoing, SmsChannel
from services.notification.mail import Composer
from services.notification.sender import Sender
from services.notification.smtp import EmailChannel

COUNT = int(os.environ.get("BENCH_NOTIFICATIONS", "100" if QUICK else "3000"))
SMTP_CONNECTIONS = int(os.environ.get("BENCH_SMTP_CONNECTIONS", "4"))
# the sender and its straight baseline take turns, this many rounds each: on a machine whose speed drifts
# from one second to the next, one run of each gave ratios 0.15 apart (bench/profiles/2026-12-07-email.md)
ROUNDS = int(os.environ.get("BENCH_NOTIFY_ROUNDS", "1" if QUICK else "3"))
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
    """``COUNT`` queued notifications of ``channel``, in a table emptied first: every round starts alike."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("TRUNCATE notification")
        rows = [
            (m.id, uuid.uuid4(), channel, m.recipient, m.subject, m.body)
            for m in map(lambda n: _outgoing(channel, n), range(COUNT))
        ]
        await connection.executemany(
            """INSERT INTO notification (id, event_id, event_type, channel, recipient, subject, body, status, attempts,
                   next_attempt_at) VALUES ($1, $2, 'dossier.received', $3, $4, $5, $6, 'queued', 0, now())""",
            rows,
        )
        await connection.execute("ANALYZE notification")
    finally:
        await connection.close()


async def _through_sender(settings: Settings, url: str, dsn: str, name: str, channel: Channel) -> float:
    """The sender's own loop (``Sender.run``, as the worker runs it) until no notification is queued."""
    engine = create_engine(settings, application_name="bench-notify", pool_size=3)  # as the worker makes it
    pool = CounterPool(settings, application_name="bench-notify-sender", size=3)  # and its own pool (sender_task)
    await pool.open()
    sender = Sender(create_sessionmaker(engine), settings, channels={name: channel}, pool=pool)
    watcher = await asyncpg.connect(dsn)
    stop = asyncio.Event()
    started = time.perf_counter()
    running = asyncio.create_task(sender.run(stop))
    while await watcher.fetchval("SELECT EXISTS (SELECT FROM notification WHERE status = 'queued')"):  # noqa: ASYNC110 - another process's rows
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    await running
    await watcher.close()
    await engine.dispose()
    await pool.close()
    return elapsed


@dataclass(frozen=True)
class Run:
    name: str
    count: int
    seconds: float
    received: int  # at the sink: messages (emails), requests (SMS)
    distinct: int  # at the sink: distinct Message-IDs (emails), references accepted (SMS)
    cpu_ms: dict[str, float]  # CPU per message: this process, the sinks, PostgreSQL (``Meter``)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "rate": self.rate}


@dataclass(frozen=True)
class Meter:
    """The processes a run's CPU is read from: this one, the sinks', PostgreSQL's (None: not on this machine)."""

    sinks: int
    server: int | None

    def read(self) -> dict[str, float]:
        used = {"bench": time.process_time(), "sinks": cpu_seconds(self.sinks)}
        if self.server is not None:
            used["postgresql"] = tree_cpu_seconds(self.server)
        return used

    def per_message(self, before: dict[str, float], count: int) -> dict[str, float]:
        after = self.read()
        return {name: round((after[name] - before[name]) * 1000 / count, 3) for name in after}


def _together(runs: list[Run]) -> Run:
    """Rounds of one kind as one run: their messages over their seconds; CPU a message, weighted by messages."""
    count = sum(run.count for run in runs)
    cpu = {name: round(sum(run.cpu_ms[name] * run.count for run in runs) / count, 3) for name in runs[0].cpu_ms}
    return Run(
        runs[0].name,
        count,
        sum(run.seconds for run in runs),
        sum(run.received for run in runs),
        sum(run.distinct for run in runs),
        cpu,
    )


async def _straight(count: int, concurrency: int, send: Callable[[int], Awaitable[None]]) -> float:
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            await send(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def _sent_by_sender(
    settings: Settings, url: str, sinks: Sinks, meter: Meter, channel: str, name: str = ""
) -> Run:
    before = await sinks.counts()
    made: Channel = EmailChannel(settings) if channel == "email" else SmsChannel(settings)
    used = meter.read()
    seconds = await _through_sender(settings, url, url.replace("postgresql+asyncpg://", "postgresql://"), channel, made)
    cpu = meter.per_message(used, COUNT)
    after = await sinks.counts()
    received, distinct = _received(before, after, channel)
    return Run(name or f"{channel}: the sender", COUNT, seconds, received, distinct, cpu)


def _received(before: dict[str, int], after: dict[str, int], channel: str) -> tuple[int, int]:
    if channel == "email":
        return after["emails"] - before["emails"], after["distinct_emails"] - before["distinct_emails"]
    accepted = after["sms"] - before["sms"]
    return accepted + after["sms_repeated"] - before["sms_repeated"], accepted


async def _timed(
    name: str, channel: str, concurrency: int, send: Callable[[int], Awaitable[None]], sinks: Sinks, meter: Meter
) -> Run:
    """``COUNT`` messages by ``send``, ``concurrency`` at a time: the seconds, the CPU and what the sinks got."""
    before = await sinks.counts()
    used = meter.read()
    seconds = await _straight(COUNT, concurrency, send)
    cpu = meter.per_message(used, COUNT)
    after = await sinks.counts()
    return Run(name, COUNT, seconds, *_received(before, after, channel), cpu)


async def _email_straight(settings: Settings, sinks: Sinks, meter: Meter) -> Run:
    """The same emails over as many connections, aiosmtplib's ``send_message`` and nothing else."""
    build = Composer(settings)
    clients: list[aiosmtplib.SMTP] = []
    for _ in range(SMTP_CONNECTIONS):
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=sinks.smtp_port)
        await client.connect()
        clients.append(client)
    free: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
    for client in clients:
        free.put_nowait(client)

    async def mail(n: int) -> None:
        client = await free.get()
        try:
            await client.send_message(build.message(_outgoing("email", n)))
        finally:
            free.put_nowait(client)

    run = await _timed("email: straight aiosmtplib", "email", SMTP_CONNECTIONS, mail, sinks, meter)
    for client in clients:
        await client.quit()
    return run


async def _sms_straight(concurrency: int, sinks: Sinks, meter: Meter) -> Run:
    """The same SMS as ``concurrency`` requests at a time on one httpx client with as many connections."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:

        async def text(n: int) -> None:
            message = _outgoing("sms", n)
            body = {"to": message.recipient, "text": message.body, "reference": str(message.id)}
            response = await http.post(sinks.url + "/sms", json=body)
            response.raise_for_status()

        return await _timed("SMS: straight httpx", "sms", concurrency, text, sinks, meter)


async def _sms_straight_core(concurrency: int, sinks: Sinks, meter: Meter) -> Run:
    """The same SMS over httpcore's pool, as the sender's channel sends them (shown, no target): what the
    sender adds to the very client it uses, where the target's baseline is httpx's client."""
    async with httpcore.AsyncConnectionPool(max_connections=concurrency) as pool:

        async def text(n: int) -> None:
            message = _outgoing("sms", n)
            body = json.dumps({"to": message.recipient, "text": message.body, "reference": str(message.id)}).encode()
            headers = [(b"Content-Type", b"application/json"), (b"Content-Length", str(len(body)).encode())]
            response = await pool.request("POST", sinks.url + "/sms", headers=headers, content=body)
            assert response.status == 200, response.status

        return await _timed("SMS: straight httpcore", "sms", concurrency, text, sinks, meter)


async def main_async(url: str) -> bool:
    """Whether a target is missed."""
    sinks = Sinks().start()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    settings = Settings(demo=True, log_level="WARNING").with_changes(
        db={"url": url},
        smtp={"port": sinks.smtp_port, "connections": SMTP_CONNECTIONS},
        sms={"gateway_url": sinks.url + "/sms"},
        notify={"email_per_second": 1_000_000.0, "sms_per_second": 1_000_000.0},
    )
    try:
        assert sinks.process is not None
        meter = Meter(sinks.process.pid, await _postmaster(dsn))
        email_runs: list[Run] = []
        sms_runs: list[Run] = []
        for _ in range(ROUNDS):
            await _seed(dsn, "email")
            email_runs.append(await _sent_by_sender(settings, url, sinks, meter, "email"))
            email_runs.append(await _email_straight(settings, sinks, meter))
        await _seed(dsn, "email")
        one_by_one = settings.with_changes(smtp={"port": sinks.plain_smtp_port})
        email_unpipelined = await _sent_by_sender(
            one_by_one, url, sinks, meter, "email", "email: sender, no PIPELINING"
        )
        for _ in range(ROUNDS):
            await _seed(dsn, "sms")
            sms_runs.append(await _sent_by_sender(settings, url, sinks, meter, "sms"))
            sms_runs.append(await _sms_straight(settings.sms.connections, sinks, meter))
            sms_runs.append(await _sms_straight_core(settings.sms.connections, sinks, meter))
    finally:
        sinks.stop()
    email_sender, email_straight = _together(email_runs[0::2]), _together(email_runs[1::2])
    sms_sender, sms_straight, sms_core = (_together(sms_runs[kind::3]) for kind in range(3))
    runs = [email_sender, email_straight, email_unpipelined, sms_sender, sms_straight, sms_core]
    for run in runs:
        assert run.received == run.distinct == run.count, f"{run.name}: {run.received} got, {run.distinct} distinct"

    print(
        f"\nnotifications: {COUNT} per channel a round, the sender and straight sends in turn for {ROUNDS} rounds, "
        f"{SMTP_CONNECTIONS} SMTP connections, "
        f"{settings.sms.connections} HTTP requests at once; sinks in their own process"
    )
    print(f"  {'run':32} {'per s':>9} {'received':>9} {'distinct':>9}   ms of CPU a message")
    for run in runs:
        cpu = ", ".join(f"{name} {ms:.3f}" for name, ms in run.cpu_ms.items())
        print(
            f"  {run.name:32} {run.rate:9,.0f} {run.received:9d} {run.distinct:9d}   "
            f"{sum(run.cpu_ms.values()):.3f} ({cpu})"
        )
    targets = [
        Target(
            "email: sender vs straight aiosmtplib",
            email_sender.rate,
            "per s",
            baseline=email_straight.rate,
            at_least_ratio=0.9,
        ),
        Target(
            "SMS: sender vs straight httpx", sms_sender.rate, "per s", baseline=sms_straight.rate, at_least_ratio=0.9
        ),
        Target("SMS: sender to a fast local gateway", sms_sender.rate, "per s", at_least=1000.0),
    ]
    record(
        "notify",
        count=COUNT,
        rounds=ROUNDS,
        smtp_connections=SMTP_CONNECTIONS,
        http_requests=settings.sms.connections,
        runs=[run.as_dict() for run in runs],
        targets=targets,
    )
    return report("Notifications", targets)


async def _postmaster(dsn: str) -> int | None:
    connection = await asyncpg.connect(dsn)
    try:
        return postmaster_pid(str(await connection.fetchval("SHOW data_directory")))
    finally:
        await connection.close()


def main() -> int:
    return run_benchmark("motcua_bench_notify", main_async)


if __name__ == "__main__":
    sys.exit(main())
