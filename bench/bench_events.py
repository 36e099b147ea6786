"""Benchmark: how long an event takes between services at low load — from the commit of the
transaction that writes it to the receiver's transaction that records it — woken on commit
(LISTEN/NOTIFY, services/core/listen.py) against the polling it replaced, in the same run.

Run with ``python -m bench.bench_events`` (``make bench`` runs it with the others). Its own database
(``motcua_bench_events``), recreated each run; the whole stack as real processes (bench.stack: the three
APIs and their workers, default settings: relay batch 50, poll every 0.5 s). This process writes each
event as intake does (``services.outbox.events.emit``, source ``intake``, one to workflow_api and one to
notify_api, in one transaction), ``BENCH_EVENTS_RATE`` transactions a second (10: low load), with a random
gap so the commits fall anywhere in the pollers' cycle. Every figure is from the database's clock:

- the commit: ``clock_timestamp()`` read by the emitting transaction's last statement, just before its
  COMMIT (the COMMIT itself, a WAL flush, counts in the latency: the figure errs on the long side);
- the receiver's effect: ``processed_event.processed_at`` (``now()`` of the receiver's transaction that
  records the event, services/outbox/inbox.py; the event type is one no receiver handles, so that
  transaction is the record and its commit).

The baseline is the same with ``MOTCUA_RELAY_LISTEN=0`` and ``MOTCUA_NOTIFY_LISTEN=0`` (the workers
restarted, polling only). Targets (issue 14), absolute bounds: p50 ≤ 50 ms, p99 ≤ 250 ms.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.common import QUICK, Target, record, report, run_benchmark
from bench.stack import Stack
from services.models import ProcessedEvent
from services.outbox.events import emit

COUNT = int(os.environ.get("BENCH_EVENTS_COUNT", "20" if QUICK else "300"))
RATE = float(os.environ.get("BENCH_EVENTS_RATE", "10"))
EVENT_TYPE = "bench.ping"  # no receiver handles it: recording it is the whole effect


@dataclass(frozen=True)
class Latency:
    name: str
    events: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _emit(sessionmaker: async_sessionmaker[AsyncSession], n: int) -> tuple[list[uuid.UUID], datetime]:
    """One transaction: an event to workflow_api and one to notify_api; the clock just before COMMIT."""
    async with sessionmaker() as session, session.begin():
        ids = [
            (await emit(session, event_type=EVENT_TYPE, source="intake", destination=to, payload={"n": n})).id
            for to in ("workflow", "notify")
        ]
        committing = await session.scalar(select(func.clock_timestamp()))
    assert committing is not None
    return ids, committing


async def _recorded(sessionmaker: async_sessionmaker[AsyncSession], ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(ProcessedEvent.event_id, ProcessedEvent.processed_at).where(ProcessedEvent.event_id.in_(ids))
        )
        return {event_id: at for event_id, at in rows.all()}


async def _measure(sessionmaker: async_sessionmaker[AsyncSession], name: str, count: int) -> Latency:
    committed: dict[uuid.UUID, datetime] = {}
    for n in range(count):
        ids, at = await _emit(sessionmaker, n)
        committed.update(dict.fromkeys(ids, at))
        await asyncio.sleep(random.uniform(0.5, 1.5) / RATE)
    deadline = time.monotonic() + 30
    recorded: dict[uuid.UUID, datetime] = {}
    while time.monotonic() < deadline:
        recorded = await _recorded(sessionmaker, list(committed))
        if len(recorded) == len(committed):
            break
        await asyncio.sleep(0.2)
    missing = set(committed) - set(recorded)
    if missing:
        raise RuntimeError(f"{name}: {len(missing)} of {len(committed)} events never reached their receiver")
    latencies = [(recorded[i] - committed[i]).total_seconds() * 1000 for i in committed]
    return Latency(
        name=name,
        events=len(latencies),
        p50_ms=round(statistics.median(latencies), 1),
        p90_ms=round(_percentile(latencies, 0.90), 1),
        p99_ms=round(_percentile(latencies, 0.99), 1),
        max_ms=round(max(latencies), 1),
    )


async def _run(stack: Stack, sessionmaker: async_sessionmaker[AsyncSession], name: str, **settings: str) -> Latency:
    stack.start_workers(**settings)
    try:
        await _measure(sessionmaker, f"{name} (warm-up)", 5)  # the workers are up and the receivers warm
        return await _measure(sessionmaker, name, COUNT)
    finally:
        stack.stop_workers()


async def main_async(url: str) -> bool:
    engine = create_async_engine(url, pool_size=2)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    stack = Stack(url, {}, name="events")
    try:
        stack.start_apis()
        woken = await _run(stack, sessionmaker, "woken on commit (LISTEN/NOTIFY)")
        polled = await _run(
            stack, sessionmaker, "polling every 0.5 s (baseline)", MOTCUA_RELAY_LISTEN="0", MOTCUA_NOTIFY_LISTEN="0"
        )
    except BaseException:
        print(f"bench_events: logs in {stack.logs}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        await engine.dispose()

    print(f"\nEvents: {COUNT} transactions at about {RATE:g}/s, each an event to workflow_api and one to notify_api")
    print(f"  {'run':40} {'events':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for run in (woken, polled):
        print(
            f"  {run.name:40} {run.events:7d} {run.p50_ms:8.1f} {run.p90_ms:8.1f} {run.p99_ms:8.1f} {run.max_ms:8.1f}"
        )
    targets = [
        Target("event latency p50, commit to receiver", woken.p50_ms, "ms", baseline=polled.p50_ms, at_most=50.0),
        Target("event latency p99, commit to receiver", woken.p99_ms, "ms", baseline=polled.p99_ms, at_most=250.0),
    ]
    record("events", runs=[asdict(woken), asdict(polled)], rate=RATE, targets=targets)
    return report("Events", targets)


def main() -> int:
    return run_benchmark("motcua_bench_events", main_async)


if __name__ == "__main__":
    sys.exit(main())
