"""Benchmark: sustained online submissions through a real intake_api process, against a bare
asyncpg INSERT of the same dossier rows, in the same run on the same PostgreSQL.

Run with ``python -m bench.bench_intake`` (``make bench`` runs it after the calendar benchmark).
It uses its own database (``motcua_bench``), recreated each run, and an intake_api on port 18201.
Submissions are sent by a fixed number of concurrent clients for a fixed count; the figures are
throughput (per second) and p50/p99 latency of each request or insert, and the ratio of the two
throughputs. No target: the price of validation, code allocation, outbox events and the hand-over
log over a bare insert is what it reports.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.common import run_on_fresh_database
from services.dev.processes import api_process, service_env
from tests.intake.setup import create_desk, submission

REQUESTS = int(os.environ.get("BENCH_SUBMISSIONS", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
PORT = 18201


async def _drive(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(count))

    async def client() -> None:
        for n in queue:
            started = time.perf_counter()
            await one(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def _row(name: str, elapsed: float, latencies: list[float]) -> tuple[str, float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return name, len(latencies) / elapsed, statistics.median(ordered) * 1000, p99 * 1000


async def main_async(url: str) -> None:
    engine = create_async_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desk = await create_desk(session)
        await session.commit()
    await engine.dispose()

    env = service_env(os.environ, ports={"intake": PORT, "workflow": PORT + 1, "notify": PORT + 2})
    env.update({"MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO": "1", "MOTCUA_LOG_LEVEL": "WARNING"})
    api = api_process("intake", port=PORT, env=env, log_dir=None).start()
    try:
        api.wait_healthy(timeout=60)
        body = submission(desk)
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", limits=limits, timeout=30) as client:
            for _ in range(20):  # warm-up: connections, caches
                await client.post("/api/v1/dossiers", json=body)

            async def submit(_: int) -> None:
                response = await client.post("/api/v1/dossiers", json=body)
                if response.status_code != 201:
                    raise RuntimeError(response.text)

            api_elapsed, api_latencies = await _drive(REQUESTS, CONCURRENCY, submit)
    finally:
        api.stop()

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=CONCURRENCY, max_size=CONCURRENCY)
    now = datetime.now(UTC)

    async def insert(n: int) -> None:
        await pool.execute(
            """INSERT INTO dossier (id, code, procedure_version_id, receiving_agency_id, current_agency_id, status,
                   channel, lock_version, applicant_kind, applicant_name, applicant_id_number, applicant_phone,
                   applicant_email, applicant_address, return_method, secret_hash, submitted_at, supplement_count,
                   late_by_rule, overdue, apology_issued, digitised, paid_online, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $4, 'submitted', 2, 1, 'citizen', $5, $6, $7, $8, $9, 'counter', 'x', $10,
                   0, false, false, false, false, false, $10, $10)""",
            uuid.uuid4(), f"BARE-{n:07d}", desk.version.id, desk.agency.id,
            body["applicant"]["full_name"], body["applicant"]["id_number"], "0912345678",
            body["applicant"]["email"], body["applicant"]["address"], now,
        )  # fmt: skip

    bare_elapsed, bare_latencies = await _drive(REQUESTS, CONCURRENCY, insert)
    await pool.close()

    rows = [
        _row("POST /api/v1/dossiers", api_elapsed, api_latencies),
        _row("bare asyncpg INSERT", bare_elapsed, bare_latencies),
    ]
    print(f"\nonline submissions: {REQUESTS} requests, {CONCURRENCY} concurrent clients")
    print(f"  {'what':26} {'per second':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for name, rate, p50, p99 in rows:
        print(f"  {name:26} {rate:11,.0f} {p50:8.1f} {p99:8.1f}")
    print(f"  throughput ratio bare/api {rows[1][1] / rows[0][1]:.1f}×")


def main() -> int:
    return run_on_fresh_database("motcua_bench", main_async)


if __name__ == "__main__":
    sys.exit(main())
