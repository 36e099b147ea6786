"""One drill: a fresh primary and synchronous standby, the stack, the load, the faults in turn, the count.

The faults come one after the other with :attr:`Plan.gap` seconds of plain load between them (each fault's
backlog is worked off before the next), the failover last (afterwards the pair is one server). The full
drill (``make drill``) does every process kill, a PostgreSQL restart and a failover at ``DRILL_RATE``
submissions a second (2); the short form (tests/drill) one API kill, one worker kill, the restart and the
failover at 1 a second.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from drill import faults
from drill.cluster import Cluster
from drill.faults import Recovery
from drill.load import Load
from drill.stack import SERVICES, Stack
from drill.verify import Outcome, count
from services.core.config import Settings
from services.models import ProcedureVersion
from tests.db import migrate
from tests.workflow_setup import World, create_world


@dataclass(frozen=True)
class Plan:
    rate: float = 2.0
    warm_up: float = 10.0
    gap: float = 8.0
    apis: tuple[str, ...] = SERVICES
    workers: tuple[str, ...] = SERVICES
    restart_database: bool = True
    fail_over: bool = True
    finish: float = 240.0  # after the last fault, how long the dossiers under way may take to reach their end


FULL = Plan()
SHORT = Plan(rate=1.0, warm_up=3.0, gap=1.0, apis=("intake",), workers=("notify",), finish=5.0)


async def _world(engine: AsyncEngine) -> World:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world = await create_world(session)
        assert world.single is not None
        await session.execute(
            update(ProcedureVersion).where(ProcedureVersion.id == world.single.id).values(online_mode="partial")
        )
        await session.commit()
        return world


async def drill(plan: Plan, *, root: Path | None = None, log: Callable[[str], None] = print) -> tuple[Outcome, Stack]:
    cluster = Cluster(root or Path(tempfile.mkdtemp(prefix="drill-pg-")))
    await asyncio.to_thread(cluster.start_primary)
    stack: Stack | None = None
    try:
        await asyncio.to_thread(migrate, cluster.url())
        setup = create_async_engine(cluster.url())
        world = await _world(setup)
        await setup.dispose()
        if plan.fail_over:
            await asyncio.to_thread(cluster.add_synchronous_standby)
        url = cluster.url()
        log(f"drill: database {url}")
        stack = Stack(url, log_dir=cluster.root / "logs")
        await asyncio.to_thread(stack.start)
        log(f"drill: stack up, logs in {stack.logs}; load at {plan.rate:g} submissions/s")
        engine = create_async_engine(url, pool_size=2, pool_pre_ping=True)
        load = Load({s: stack.url(s) for s in SERVICES}, world, Settings(demo=True), rate=plan.rate)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(plan.warm_up)
        steps: list[tuple[str, Callable[[], Awaitable[Recovery]]]] = []
        for service in plan.apis:
            steps.append((f"kill -9 {service}_api", _bind(faults.kill_process, stack, engine, "api", service)))
        for service in plan.workers:
            steps.append((f"kill -9 {service}_worker", _bind(faults.kill_process, stack, engine, "worker", service)))
        if plan.restart_database:
            steps.append(("PostgreSQL restart", _bind(faults.restart_database, stack, cluster, engine, load)))
        if plan.fail_over:
            steps.append(("failover", _bind(faults.fail_over, stack, cluster, engine, load)))
        done: list[Recovery] = []
        for name, step in steps:
            log(f"drill: {name}")
            recovery = await step()
            log(f"drill:   {recovery.as_dict()}")
            done.append(recovery)
            await asyncio.sleep(plan.gap)
        await load.stop(wait=plan.finish)
        await running
        outcome = await count(engine, load.tally, stack.sinks, done)
        await engine.dispose()
        return outcome, stack
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)
        await asyncio.to_thread(cluster.stop)


def _bind(function: Callable[..., Awaitable[Recovery]], *args: object) -> Callable[[], Awaitable[Recovery]]:
    async def bound() -> Recovery:
        return await function(*args)

    return bound
