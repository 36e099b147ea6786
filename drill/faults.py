"""The faults, each done to the running stack under load, each with its recovery measured.

- **kill -9 of an API or a worker** (``ManagedProcess.kill``: SIGKILL mid-flight), one second dead, then
  started again. Its requests in flight are lost to their callers, who retry; a worker's claimed rows
  come back when their lease (5 s here) runs out.
- **PostgreSQL restarted** (``pg_ctl stop -m fast``, :data:`DB_DOWN_SECONDS` down, started again): every
  API's ``/readyz`` is asked every 0.25 s while it is down and must answer 503 ``application/problem+json``
  (``database_unavailable``), never hang or answer 500; nobody restarts a service.
- **Failover**: the primary killed -9 (postmaster and backends: a lost machine), the standby promoted
  :data:`DETECT_SECONDS` later (the time a failover manager takes to decide; CloudNativePG's default
  is longer). The services' URL lists both hosts with ``target_session_attrs=read-write``; they find the
  new primary by themselves.

Recovery, for every fault, is the time from the fault until the service answers again (``/readyz`` 200
for an API, a 2xx submission for the database) **and** everything committed before the restart has gone
through (no outbox event undelivered, no email or SMS unsent): the backlog the fault left is worked off.
The failover's unavailability window is the time from the kill to the first acknowledged submission.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from drill.cluster import Cluster
from drill.load import Load
from drill.stack import SERVICES, Stack

DEAD_SECONDS = 1.0
DB_DOWN_SECONDS = 5.0
DETECT_SECONDS = 1.0
CATCH_UP_SECONDS = 120.0

_BACKLOG = text(
    "SELECT (SELECT count(*) FROM outbox_event WHERE status <> 'delivered' AND created_at <= :at)"
    " + (SELECT count(*) FROM notification WHERE status = 'queued' AND channel <> 'in_app' AND created_at <= :at)"
)


@dataclass
class Recovery:
    fault: str
    target: str
    down_s: float  # dead or unreachable: from the fault until restarted (or promoted)
    answering_s: float | None = None  # from the fault until the target answers again
    caught_up_s: float | None = None  # from the fault until everything committed before the restart went through
    notes: dict[str, Any] = field(default_factory=dict)
    passed: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _db_now(engine: AsyncEngine, within: float = 60.0) -> datetime | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            async with engine.connect() as connection:
                now: datetime = (await connection.execute(text("SELECT now()"))).scalar_one()
                return now
        except Exception:  # the database is still away: the engine replaces the connection
            await asyncio.sleep(0.25)
    return None


async def caught_up(engine: AsyncEngine, at: datetime | None, began: float) -> float | None:
    """Seconds from ``began`` until nothing committed before ``at`` waits (None after :data:`CATCH_UP_SECONDS`)."""
    if at is None:
        return None
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while time.monotonic() < deadline:
        try:
            async with engine.connect() as connection:
                if (await connection.execute(_BACKLOG, {"at": at})).scalar_one() == 0:
                    return round(time.monotonic() - began, 2)
        except Exception:  # a connection to the old primary, replaced at the next checkout
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
    return None


async def _ready(url: str, after: float, within: float = 120.0) -> float | None:
    async with httpx.AsyncClient(timeout=2.0) as client:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return round(time.monotonic() - after, 2)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    return None


async def kill_process(stack: Stack, engine: AsyncEngine, kind: str, service: str) -> Recovery:
    process = (stack.apis if kind == "api" else stack.workers)[service]
    began = time.monotonic()
    process.kill()
    await asyncio.sleep(DEAD_SECONDS)
    process.start()
    down = round(time.monotonic() - began, 2)
    recovery = Recovery(f"kill -9 {kind}", process.name, down)
    if kind == "api":
        recovery.answering_s = await _ready(stack.url(service), began)
    at = await _db_now(engine)
    recovery.caught_up_s = await caught_up(engine, at, began)
    recovery.passed = recovery.caught_up_s is not None and (kind != "api" or recovery.answering_s is not None)
    return recovery


async def _watch_readiness(stack: Stack, stop: asyncio.Event) -> dict[str, int]:
    """Every API's /readyz every 0.25 s until ``stop``: how each answered (``503 problem`` is the right one)."""
    seen: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=3.0) as client:
        while not stop.is_set():
            for service in SERVICES:
                try:
                    answer = await client.get(stack.url(service) + "/readyz")
                    problem = answer.headers.get("content-type", "").startswith("application/problem+json")
                    what = f"{answer.status_code}{' problem' if problem else ''}"
                except httpx.HTTPError as exc:
                    what = type(exc).__name__
                seen[what] = seen.get(what, 0) + 1
            await asyncio.sleep(0.25)
    return seen


async def restart_database(stack: Stack, cluster: Cluster, engine: AsyncEngine, load: Load) -> Recovery:
    began = time.monotonic()
    await asyncio.to_thread(cluster.primary.stop)
    stopped = time.monotonic()
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_readiness(stack, stop))
    await asyncio.sleep(DB_DOWN_SECONDS)
    stop.set()
    seen = await watcher
    await asyncio.to_thread(cluster.primary.start)
    recovery = Recovery("PostgreSQL restart", "primary", round(time.monotonic() - began, 2))
    readiness = [await _ready(stack.url(service), began) for service in SERVICES]
    recovery.answering_s = await _first_submission(load, stopped, began)
    at = await _db_now(engine)
    recovery.caught_up_s = await caught_up(engine, at, began)
    recovery.notes = {
        "readyz_while_down": seen,
        "readyz_back_s": max((r for r in readiness if r is not None), default=None),
    }
    # while it was down every answer of /readyz is a 503 problem: no 500, no hang
    recovery.passed = set(seen) == {"503 problem"} and None not in readiness and recovery.caught_up_s is not None
    return recovery


async def _first_submission(load: Load, after: float, began: float, within: float = 120.0) -> float | None:
    """Seconds from ``began`` to the first submission acknowledged after ``after`` (the server certainly down:
    an answer before it may have been on its way when the fault came)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        first = load.tally.first_success("intake", after, kind="submit")
        if first is not None:
            return round(first - began, 2)
        await asyncio.sleep(0.1)
    return None


async def fail_over(stack: Stack, cluster: Cluster, engine: AsyncEngine, load: Load) -> Recovery:
    sinks = await stack.sinks.counts()  # emails twice so far: any later one is the failover's (drill.verify)
    began = time.monotonic()
    await asyncio.to_thread(cluster.primary.kill9)
    killed = time.monotonic()
    await asyncio.sleep(DETECT_SECONDS)
    promoting = time.monotonic()
    await asyncio.to_thread(cluster.fail_over)
    promoted = round(time.monotonic() - promoting, 2)
    recovery = Recovery(
        "failover (primary kill -9, standby promoted)", "standby → primary", round(time.monotonic() - began, 2)
    )
    recovery.answering_s = await _first_submission(load, killed, began)
    readiness = [await _ready(stack.url(service), began) for service in SERVICES]
    at = await _db_now(engine)
    recovery.caught_up_s = await caught_up(engine, at, began)
    recovery.notes = {
        "promote_s": promoted,
        "emails_twice_before": sinks["emails"] - sinks["distinct_emails"],
        "unavailability_window_s": recovery.answering_s,
        "readyz_back_s": max((r for r in readiness if r is not None), default=None),
    }
    recovery.passed = recovery.answering_s is not None and recovery.caught_up_s is not None
    return recovery
