"""``python -m drill.soak`` (``make soak``): the drill's mixed load, no faults, for ``SOAK_MINUTES`` (30) at
``SOAK_RATE`` submissions a second (2, a busy centre's counter and portal together), sampled each minute.

Each minute: the resident memory (RSS, /proc) of every process of the stack — the three APIs, the three
workers, the sinks — and the p50 / p99 latency of the requests answered 2xx in that minute (every kind:
submissions, reads, transitions, tracking, webhooks). One table row a minute, printed as it is taken.

Pass, after a warm-up of the first sixth of the run (5 minutes of 30; at least 1):

- **No growth**: each process's RSS at the last sample is at most 10 % above its first sample after the
  warm-up (caches filled, pools opened, allocator arenas grown: what comes after is a leak).
- **p99 stable**: the median of the per-minute p99 over the last third of the run is at most 1.5× its median
  over the first third after the warm-up. Medians of minutes, not single minutes: on two cores shared with
  other builds one minute's p99 can double for reasons outside the stack; a trend cannot hide in a median.
- And what the drill asks: nothing acknowledged lost, nothing twice, every event and message through.

The run is recorded in drill/results/<time>-soak.json with every sample.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import rss_mb
from drill.cluster import Cluster
from drill.load import Load, Tally
from drill.run import _world
from drill.stack import SERVICES, Stack
from drill.verify import Outcome, count, record, table
from services.core.config import Settings
from tests.db import migrate

GROWTH_LIMIT = 0.10
P99_LIMIT = 1.5


@dataclass
class Minute:
    minute: int
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    rss_mb: dict[str, float | None]
    p99_ms_by_kind: dict[str, float | None]


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _sample(stack: Stack, tally: Tally, minute: int, since: float, until: float) -> Minute:
    answered = [(kind, seconds) for at, kind, seconds in tally.latencies if since <= at < until]
    window = [seconds for _kind, seconds in answered]
    kinds = sorted({kind for kind, _ in answered})
    by_kind = {k: _percentile([s for kind, s in answered if kind == k], 0.99) for k in kinds}
    rss: dict[str, float | None] = {}
    for process in [*stack.processes()]:
        alive = process.process is not None and process.process.poll() is None
        rss[process.name] = round(rss_mb(process.process.pid), 1) if alive and process.process else None
    if stack.sinks.process is not None:
        rss["sinks"] = round(rss_mb(stack.sinks.process.pid), 1)
    p50, p99 = _percentile(window, 0.5), _percentile(window, 0.99)
    return Minute(minute, len(window), _ms(p50), _ms(p99), rss, {kind: _ms(value) for kind, value in by_kind.items()})


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _row(sample: Minute) -> str:
    memory = " ".join(f"{v:>7}" if v is not None else "      —" for v in sample.rss_mb.values())
    kinds = ", ".join(f"{kind} {ms:.0f}" for kind, ms in sample.p99_ms_by_kind.items() if ms is not None)
    return f"| {sample.minute:>3} | {sample.requests:>6} | {sample.p50_ms} | {sample.p99_ms} | {memory} | {kinds} |"


@dataclass
class Verdict:
    warm_up_minutes: int
    growth: dict[str, float]  # process → RSS growth after the warm-up (share)
    p99_first_ms: float | None
    p99_last_ms: float | None
    failures: list[str]


def judge(samples: list[Minute], minutes: int) -> Verdict:
    warm = max(1, minutes // 6)
    after = [s for s in samples if s.minute > warm]
    failures: list[str] = []
    growth: dict[str, float] = {}
    if len(after) >= 2:
        for name, first in after[0].rss_mb.items():
            last = after[-1].rss_mb.get(name)
            if first and last:
                growth[name] = round(last / first - 1, 3)
                if growth[name] > GROWTH_LIMIT:
                    failures.append(f"{name} RSS grew {growth[name]:.0%} after the warm-up")
            else:
                failures.append(f"{name} not running at the end")
    third = max(1, len(after) // 3)
    first_p99 = [s.p99_ms for s in after[:third] if s.p99_ms is not None]
    last_p99 = [s.p99_ms for s in after[-third:] if s.p99_ms is not None]
    early = statistics.median(first_p99) if first_p99 else None
    late = statistics.median(last_p99) if last_p99 else None
    if early and late and late > P99_LIMIT * early:
        failures.append(f"p99 rose from {early:.0f} ms to {late:.0f} ms (more than {P99_LIMIT}×)")
    return Verdict(warm, growth, early, late, failures)


async def soak(minutes: int, rate: float) -> tuple[list[Minute], Verdict, Outcome, Stack]:
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="soak-pg-")))
    await asyncio.to_thread(cluster.start_primary)
    stack = Stack(cluster.url(), log_dir=cluster.root / "logs")
    try:
        await asyncio.to_thread(migrate, cluster.url())
        setup = create_async_engine(cluster.url())
        world = await _world(setup)
        await setup.dispose()
        await asyncio.to_thread(stack.start)
        engine = create_async_engine(cluster.url(), pool_size=2)
        load = Load({s: stack.url(s) for s in SERVICES}, world, Settings(demo=True), rate=rate)
        running = asyncio.create_task(load.run())
        print(f"soak: {minutes} min at {rate:g} submissions/s; logs in {stack.logs}", flush=True)
        names = [p.name for p in stack.processes()] + ["sinks"]
        print(
            "| min | 2xx | p50 ms | p99 ms | "
            + " ".join(f"{n[:7]:>7}" for n in names)
            + " | p99 ms by kind |  (RSS MiB)"
        )
        samples: list[Minute] = []
        for minute in range(1, minutes + 1):
            await asyncio.sleep(max(0.0, load.started + 60 * minute - time.monotonic()))
            samples.append(_sample(stack, load.tally, minute, 60.0 * (minute - 1), 60.0 * minute))
            print(_row(samples[-1]), flush=True)
        await load.stop(wait=60)
        await running
        outcome = await count(engine, load.tally, stack.sinks, [])
        await engine.dispose()
        return samples, judge(samples, minutes), outcome, stack
    finally:
        await asyncio.to_thread(stack.stop)
        await asyncio.to_thread(cluster.stop)


def main() -> int:
    minutes = int(os.environ.get("SOAK_MINUTES", "30"))
    rate = float(os.environ.get("SOAK_RATE", "2"))
    samples, verdict, outcome, stack = asyncio.run(soak(minutes, rate))
    print(table(outcome, f"Soak ({minutes} min, {rate:g} submissions/s): what was sent and found"))
    print(f"\nwarm-up: {verdict.warm_up_minutes} min; RSS growth after it: {verdict.growth}")
    print(f"p99 median, first third after the warm-up: {verdict.p99_first_ms} ms; last third: {verdict.p99_last_ms} ms")
    failures = verdict.failures + outcome.failures
    print("SOAK PASSED" if not failures else "SOAK FAILED: " + "; ".join(failures))
    path = record(
        "soak", outcome, minutes=minutes, rate=rate, samples=[asdict(s) for s in samples], verdict=asdict(verdict),
        logs=str(stack.logs),
    )  # fmt: skip
    print(f"recorded in {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
