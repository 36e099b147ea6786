"""Benchmark: the whole pipeline — a dossier received at the counter, its events relayed to workflow_api
and notify_api, one email to a local SMTP server and one SMS to a local gateway — sustained, with
the outbox's backlog watched and every message counted at the sinks.

Run with ``python -m bench.bench_pipeline`` (``make bench`` runs it with the others). Its own database
(``motcua_bench_pipeline``), recreated each run; the whole stack as real processes (bench.stack), with
default settings but the senders' rate limits lifted; the SMTP server (aiosmtpd) and the SMS gateway
(HTTP, honours the reference like the real ones) are tests/notify/fakes.py's, in this process.

*Why the counter* (``POST /api/v1/counter/dossiers``, a counter officer's token) and not the online
submission: the issue's pipeline is "one email and one SMS per dossier", and that is what a dossier
received at the counter causes (``dossier.received``: the citizen's email and SMS; workflow_api starts
its processing). An online submission notifies by email only until staff receive it. Both go through
the same filing code and the same outbox.

*Routed, as a real dossier is*: each desk's procedure has a workflow template (receive, appraise, approve,
return), so workflow_api binds it on ``dossier.received``, enters the appraisal step with its clock and
announces ``dossier.routed``, which notify_api turns into a notice in the unit's inbox. Until 2026-12-06 the
benchmark's procedures had none: workflow_api logged "dossier not routed" and every figure left that work out
(bench/profiles/2026-12-06-sender.md). ``BENCH_PIPELINE_ROUTED=0`` files without templates, for comparison.

wrk holds ``BENCH_PIPELINE_RATE`` submissions a second (300, the target) on 32 connections for
``BENCH_PIPELINE_SECONDS`` (60; 3 with ``BENCH_QUICK=1``); meanwhile, every second, the age of the oldest
pending outbox event (0 when none is pending) and of the oldest queued notification, and how many
messages reached each sink. Then it waits for the stragglers and counts: every dossier's email and SMS
exactly once (each message names its notification: the email's ``Message-ID``, the SMS ``reference``).

Targets (issue 14): ≥ 300 dossiers/s through the whole pipeline over the window (the baseline printed
is the rate intake accepted them at: a ratio of 1 means everything behind intake kept up); the outbox
backlog's age p99 ≤ 2 s; no email or SMS lost or repeated; no failed submission.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bench import load
from bench.common import QUICK, Target, postmaster_pid, record, report, run_benchmark, tree_cpu_seconds
from bench.stack import Stack
from services.core.config import Settings
from tests.factories import create_staff
from tests.intake.setup import create_desk, submission
from tests.notify.fakes import FakeGateway, SmtpSink
from tests.tokens import bearer_for
from tests.workflow_setup import STEP_ACTIONS, add_template

SECONDS = float(os.environ.get("BENCH_PIPELINE_SECONDS", "3" if QUICK else "60"))
RATE = float(os.environ.get("BENCH_PIPELINE_RATE", "300"))
CONNECTIONS = int(os.environ.get("BENCH_PIPELINE_CONNECTIONS", "32"))
DESKS = int(os.environ.get("BENCH_PIPELINE_DESKS", "16"))
DRAIN_SECONDS = 30.0 if QUICK else 120.0
COUNTER = "/api/v1/counter/dossiers"
ROUTED = os.environ.get("BENCH_PIPELINE_ROUTED", "1") != "0"
# the desks' procedure (3 working days): received at the desk, appraised, approved, returned
STEPS = [
    ("receive", None, "counter", 0, ["forward"]),
    ("appraise", None, "specialist", 2, STEP_ACTIONS),
    ("approve", None, "head", 1, ["forward", "send_back", "resolve", "stop"]),
    ("return", None, "counter", 0, ["return_result"]),
]

_PENDING = "SELECT id FROM outbox_event WHERE status = 'pending'"
_OLDEST = text(
    "SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) FROM outbox_event"
    " WHERE status = 'pending'"
)
_QUEUED = text(
    "SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) FROM notification"
    " WHERE status = 'queued' AND channel <> 'in_app'"
)
# how often the watcher lists the pending events (the "since commit" age's resolution): every 0.1 s, or a
# twentieth of the oldest age seen, whichever is longer — listing 20,000 pending events ten times a second cost
# 9 ms of CPU a dossier (in the sum measured, and taken from the pipeline) where the resolution does not matter
LOOK_SECONDS = 0.1
LOOK_SHARE = 0.05


@dataclass
class Sample:
    at: float  # seconds since the load started
    outbox_age_s: float  # the oldest pending event, since it was committed (first seen pending)
    outbox_age_from_start_s: float  # the same, since its transaction began (its created_at)
    notification_age_s: float
    emails: int
    sms: int


@dataclass
class Watch:
    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _sample(
    engine: AsyncEngine, watch: Watch, mails: SmtpSink, gateway: FakeGateway, stop: asyncio.Event
) -> None:
    """Every second, the backlog's age (the database's clock) and the sinks' counts.

    The age is taken twice. ``created_at`` is ``now()`` of the transaction that wrote the event, so
    "now − created_at" also counts the time that transaction took before its commit (seconds, when
    submissions queue on a lock): time the event was not yet in the outbox for any relay to see. So
    the watcher also lists the pending events every :data:`LOOK_SECONDS` (or a twentieth of the oldest
    age, when longer) and notes when it first saw each one: the age since its commit, to within that
    resolution (reading it a little short).
    """
    first_seen: dict[object, float] = {}
    next_sample = 0.0
    oldest = 0.0
    async with engine.connect() as connection:
        listing = (await connection.get_raw_connection()).driver_connection  # asyncpg's: ids without Row objects
        assert listing is not None
        while not stop.is_set():
            pending = {row[0] for row in await listing.fetch(_PENDING)}
            at = time.monotonic() - watch.started
            for key in pending:
                first_seen.setdefault(key, at)
            for seen in [key for key in first_seen if key not in pending]:
                del first_seen[seen]
            oldest = at - min(first_seen.values(), default=at)
            if at >= next_sample:
                queued = float((await connection.execute(_QUEUED)).scalar_one())
                from_start = float((await connection.execute(_OLDEST)).scalar_one())
                watch.samples.append(
                    Sample(
                        at=round(at, 2),
                        outbox_age_s=round(oldest, 3),
                        outbox_age_from_start_s=round(from_start, 3),
                        notification_age_s=round(queued, 3),
                        emails=len(mails.mails),
                        sms=len(gateway.accepted),
                    )
                )
                next_sample += 1.0
                await connection.rollback()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(LOOK_SECONDS, LOOK_SHARE * oldest))


async def _dossiers(engine: AsyncEngine) -> set[uuid.UUID]:
    async with AsyncSession(engine) as session:
        return set((await session.scalars(text("SELECT id FROM dossier"))).all())


async def _owners(engine: AsyncEngine) -> dict[str, tuple[uuid.UUID, str]]:
    """Each notification id (as the sinks see it): its dossier and channel."""
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            text("SELECT id, dossier_id, channel FROM notification WHERE dossier_id IS NOT NULL")
        )
        return {str(row.id): (row.dossier_id, row.channel) for row in rows}


@dataclass(frozen=True)
class Count:
    dossiers: int
    emails_missing: int
    emails_repeated: int
    sms_missing: int
    sms_repeated: int
    sms_asked_again: int  # the gateway's 409s: a reference sent again, refused by the gateway
    unrouted: int  # dossiers workflow_api did not route (their procedure has a template: none should be left)


async def _count(engine: AsyncEngine, mails: SmtpSink, gateway: FakeGateway) -> Count:
    dossiers, owners = await _dossiers(engine), await _owners(engine)
    per: dict[str, Counter[uuid.UUID]] = {"email": Counter(), "sms": Counter()}
    for message_id, times in mails.message_ids().items():
        owner = owners.get(message_id.strip("<>").split("@")[0])
        if owner is not None:
            per["email"][owner[0]] += times
    for reference, times in gateway.references().items():
        owner = owners.get(reference)
        if owner is not None:
            per["sms"][owner[0]] += times
    return Count(
        dossiers=len(dossiers),
        emails_missing=sum(1 for d in dossiers if per["email"][d] == 0),
        emails_repeated=sum(times - 1 for times in per["email"].values() if times > 1),
        sms_missing=sum(1 for d in dossiers if per["sms"][d] == 0),
        sms_repeated=sum(times - 1 for times in per["sms"].values() if times > 1),
        sms_asked_again=sum(gateway.repeated.values()),
        unrouted=await _unrouted(engine) if ROUTED else 0,
    )


_UNROUTED = text("SELECT count(*) FROM dossier WHERE workflow_template_id IS NULL")
_UNSETTLED = text(
    "SELECT (SELECT count(*) FROM dossier WHERE workflow_template_id IS NULL)"
    " + (SELECT count(*) FROM outbox_event WHERE status = 'pending')"
)


async def _unrouted(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        return int(await session.scalar(_UNROUTED) or 0)


async def _settle_routing(engine: AsyncEngine, within: float) -> None:
    """Until every dossier is routed and every event delivered (``dossier.routed`` to notify_api included), at
    most ``within`` s: the CPU the routing costs is counted with the rest."""
    if not ROUTED:
        return
    deadline = time.monotonic() + within
    async with AsyncSession(engine) as session:
        while await session.scalar(_UNSETTLED) and time.monotonic() < deadline:
            await session.rollback()  # a fresh snapshot each look
            await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Submitted:
    """The desks' wrk runs together: requests summed; the slowest desk's p50 and p99 (an upper bound)."""

    requests: int
    non_2xx: int
    socket_errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def accepted_per_s(self) -> float:
        return (self.requests - self.non_2xx) / self.seconds if self.seconds else 0.0


async def _submit(intake: str, desks: list[tuple[dict[str, str], str]]) -> Submitted:
    """One wrk per desk (its officer's token, its procedure), all at once, ``RATE`` in all."""
    each = max(1, CONNECTIONS // len(desks))

    def run(n: int, headers: dict[str, str], body: str) -> load.Load:
        return load.run(
            f"desk {n}", intake + COUNTER, seconds=SECONDS, connections=each, threads=1, method="POST", body=body,
            headers=headers, rate=RATE / len(desks),
        )  # fmt: skip

    loop = asyncio.get_running_loop()
    # a thread each: asyncio's default executor has min(32, CPUs + 4) threads, 6 here, and would run the
    # desks' wrk in waves one after another
    with ThreadPoolExecutor(max_workers=len(desks)) as pool:
        runs = await asyncio.gather(*(loop.run_in_executor(pool, run, n, h, b) for n, (h, b) in enumerate(desks)))
    return Submitted(
        requests=sum(r.requests for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        seconds=max(r.seconds for r in runs),
        p50_ms=max(r.p50_ms for r in runs),
        p99_ms=max(r.p99_ms for r in runs),
    )


async def _settled(engine: AsyncEngine) -> int:
    """How many dossiers, once no new one has appeared for a second (wrk's last requests are still answered)."""
    count, last = len(await _dossiers(engine)), -1
    while count != last:
        await asyncio.sleep(0.5 if QUICK else 1.0)
        last, count = count, len(await _dossiers(engine))
    return count


async def main_async(url: str) -> bool:
    engine = create_async_engine(url, pool_size=2)
    settings = Settings(demo=True)
    desks: list[tuple[dict[str, str], str]] = []
    async with AsyncSession(engine, expire_on_commit=False) as session:
        for _ in range(DESKS):
            desk = await create_desk(session)
            if ROUTED:
                await create_staff(session, agency=desk.agency, roles=("head",))  # the approval step's
                await add_template(session, desk.version, STEPS)
            token = bearer_for(settings, desk.officer, roles=["counter"])
            desks.append(
                ({"Content-Type": "application/json", **token}, json.dumps(submission(desk), ensure_ascii=False))
            )
        await session.commit()

    mails, gateway = SmtpSink().start(), FakeGateway().start()
    stack = Stack(
        url,
        {
            "MOTCUA_SMTP_HOST": "127.0.0.1",
            "MOTCUA_SMTP_PORT": str(mails.port),
            "MOTCUA_SMS_GATEWAY_URL": gateway.url + "/sms",
            "MOTCUA_NOTIFY_EMAIL_PER_SECOND": "100000",
            "MOTCUA_NOTIFY_SMS_PER_SECOND": "100000",
        },
        name="pipeline",
    )
    watch, stop = Watch(), asyncio.Event()
    try:
        began = time.monotonic()
        stack.start_apis(with_workers=True)
        started = time.monotonic() - began
        async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as client:
            for headers, body in desks[:3]:  # warm-up: the first dossiers go all the way before the clock starts
                made = await client.post(COUNTER, content=body.encode(), headers=headers)
                made.raise_for_status()
        await _wait_for(lambda: len(mails.mails) >= 3 and len(gateway.accepted) >= 3, 60)

        before = (len(mails.mails), len(gateway.accepted))
        warm = time.monotonic() - began - started
        print(
            f"pipeline: the stack up in {started:.1f} s, warm in {warm:.1f} s more; "
            f"{SECONDS:g} s of load at {RATE:g}/s",
            flush=True,
        )
        server = await _postmaster(engine)
        cpu_before = _cpu(stack, server)
        watch = Watch()
        sampler = asyncio.create_task(_sample(engine, watch, mails, gateway, stop))
        submitted = await _submit(stack.url("intake"), desks)
        window = time.monotonic() - watch.started
        at_end = (len(mails.mails), len(gateway.accepted))
        expected = await _settled(engine)
        await _wait_for(lambda: len(mails.mails) >= expected and len(gateway.accepted) >= expected, DRAIN_SECONDS)
        await _settle_routing(engine, DRAIN_SECONDS)  # the routing and its notice: part of each dossier's cost
        await asyncio.sleep(1.0)  # anything sent twice has had its chance to arrive
        drained = time.monotonic() - watch.started - window
        cpu_after = _cpu(stack, server)
        stop.set()
        await sampler
        count = await _count(engine, mails, gateway)
    except BaseException:
        print(f"bench_pipeline: logs in {stack.logs}", file=sys.stderr)
        raise
    finally:
        stop.set()
        stack.stop()
        mails.stop()
        gateway.stop()
        await engine.dispose()

    accepted = submitted.accepted_per_s
    through = min(at_end[0] - before[0], at_end[1] - before[1]) / window
    ages = [s.outbox_age_s for s in watch.samples]
    from_start = [s.outbox_age_from_start_s for s in watch.samples]
    queued = [s.notification_age_s for s in watch.samples]

    def spread(values: list[float]) -> str:
        return (
            f"p50 {_percentile(values, 0.5):.2f} s, p99 {_percentile(values, 0.99):.2f} s, "
            f"max {max(values or [0]):.2f} s"
        )

    print(
        f"\nPipeline: {DESKS} desks, wrk {CONNECTIONS} connections in all at {RATE:g}/s for {SECONDS:g} s, "
        f"then {drained:.1f} s to drain ({len(watch.samples)} samples)"
    )
    print(
        f"  submissions accepted               {accepted:8.1f} /s "
        f"(p50 ≤ {submitted.p50_ms} ms, p99 ≤ {submitted.p99_ms} ms)"
    )
    print(f"  email and SMS both arrived         {through:8.1f} /s during the load")
    print(f"  outbox backlog age, since commit   {spread(ages)}")
    print(f"  the same, since the writer began   {spread(from_start)}")
    print(f"  queued notification age            {spread(queued)}")
    print(f"  counted at the sinks               {count}")
    done = max(1, expected - 3)  # the warm-up's three were done before the CPU clock started
    cpu_ms = {name: round((cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / done, 2) for name in cpu_after}
    total_ms = sum(cpu_ms.values())
    cores = os.cpu_count() or 1
    print(f"  CPU per dossier (ms, each process from /proc; the machine's load does not inflate it): {cpu_ms}")
    print(
        f"  in all {total_ms:.1f} ms of CPU a dossier: {cores} cores carry at most {cores * 1000 / total_ms:.0f} "
        "dossiers/s through this pipeline, whatever the concurrency"
    )
    targets = [
        Target("dossiers through the pipeline", through, "per s", baseline=accepted, at_least=300.0),
        Target("outbox backlog age p99 (since commit)", _percentile(ages, 0.99), "s", at_most=2.0),
        Target("emails lost or repeated", count.emails_missing + count.emails_repeated, "emails", at_most=0),
        Target("SMS lost or repeated", count.sms_missing + count.sms_repeated, "SMS", at_most=0),
        Target("submission non-2xx", submitted.non_2xx + submitted.socket_errors, "answers", at_most=0),
        Target("dossiers not routed", count.unrouted, "dossiers", at_most=0),
    ]
    record(
        "pipeline",
        desks=DESKS,
        rate=RATE,
        seconds=SECONDS,
        submitted=asdict(submitted),
        accepted_per_s=round(accepted, 1),
        through_per_s=round(through, 1),
        drain_s=round(drained, 1),
        samples=[asdict(s) for s in watch.samples],
        count=asdict(count),
        cpu_ms_per_dossier=cpu_ms,
        cpu_ms_per_dossier_in_all=round(total_ms, 1),
        at_most_per_s_on_these_cores=round(cores * 1000 / total_ms, 1),
        targets=targets,
    )
    return report("Pipeline", targets)


async def _postmaster(engine: AsyncEngine) -> int | None:
    async with engine.connect() as connection:
        return postmaster_pid(str(await connection.scalar(text("SHOW data_directory"))))


def _cpu(stack: Stack, server: int | None) -> dict[str, float]:
    """CPU seconds so far: each service process, PostgreSQL (all its processes, when it runs here), the load
    generator (wrk: this process's children that ended) and this process (the sinks and the watcher)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = {
        **stack.cpu_seconds(),
        "wrk": children.ru_utime + children.ru_stime,
        "bench (sinks, watcher)": time.process_time(),
    }
    if server is not None:
        used["postgresql"] = tree_cpu_seconds(server)
    return used


async def _wait_for(check: Callable[[], bool], within: float) -> None:
    """Until ``check()`` holds (the sinks count in other threads: nothing to await but time), at most ``within`` s."""
    deadline = time.monotonic() + within
    while not check() and time.monotonic() < deadline:  # noqa: ASYNC110 - the sinks' threads set no event
        await asyncio.sleep(0.1)


def main() -> int:
    return run_benchmark("motcua_bench_pipeline", main_async)


if __name__ == "__main__":
    sys.exit(main())
