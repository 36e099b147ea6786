"""Running a service's background process: signals, logging, engine, tasks until stopped.

Each worker entry point (``<api>/worker.py``) names its own tasks: ``relay_task`` from
``services.outbox.relay``, ``timer_task`` from ``services.sla.timers``, ``sender_task`` and
``webhook_task`` from ``services.notification``. This module only runs them, so it imports none
of those features (the lowest layer knows nothing of the ones above it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core import tracing
from services.core.clock import Clock
from services.core.config import Settings, get_settings
from services.core.db import create_engine, create_sessionmaker
from services.core.deps import MetricsReader
from services.core.idempotency import purge_expired
from services.core.logging import configure_logging
from services.core.metrics import Listener, metrics_app, unwatch, watch_engine
from services.core.replicas import balanced_client

Task = Callable[[async_sessionmaker[AsyncSession], Settings, httpx.AsyncClient, asyncio.Event], Awaitable[None]]
Step = Callable[[async_sessionmaker[AsyncSession], Clock, asyncio.Event, logging.Logger], Awaitable[None]]


async def _run(name: str, tasks: Sequence[Task], settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # sized for the tasks' connections at once (the notify worker's senders claim, hand over and write
    # outcomes concurrently): with 3, the extra ones were opened and closed at every burst — 28 sessions in a
    # three-second pipeline run, each a backend started and a type introspection (bench/profiles/)
    engine = create_engine(settings, application_name=f"motcua-{name}", pool_size=settings.db.worker_pool_size)
    sessionmaker = create_sessionmaker(engine)
    pool = watch_engine(name, engine, size=2 * settings.db.worker_pool_size)
    try:
        # requests to a service are spread over its replicas when MOTCUA_<SERVICE>_URL lists several
        async with balanced_client(settings.urls.replicas(), timeout=httpx.Timeout(10.0, connect=3.0)) as client:
            running = [task(sessionmaker, settings, client, stop) for task in tasks]
            if settings.observe.metrics_port is not None:
                # its own small listener (the worker has no HTTP server): /metrics only, the APIs' access rule
                app = metrics_app(settings, name, MetricsReader, sessionmaker)
                listener = Listener(app, settings.observe.metrics_host, settings.observe.metrics_port)
                running.append(listener.run(stop))
            await asyncio.gather(*running)
    finally:
        unwatch(pool)
        tracing.shutdown()  # what is still buffered goes to the collector
        await engine.dispose()


def run_worker(name: str, tasks: Sequence[Task]) -> None:
    settings = get_settings()
    settings.refuse_unsafe_start()
    configure_logging(name, settings.log_level)
    tracing.configure(name, settings.observe.otlp_endpoint)
    logging.getLogger("motcua.worker").info("worker starting", extra={"worker": name})
    asyncio.run(_run(name, tasks, settings))


def periodic(name: str, every: Callable[[Settings], float], step: Step) -> Task:
    """A task that runs ``step`` (one transaction's worth of work, or a few) every ``every(settings)`` seconds;
    a failing round is logged and the next one comes as usual."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:
        logger = logging.getLogger(f"motcua.{name}")
        clock = settings.clock()
        logger.info("%s started", name)
        while not stop.is_set():
            try:
                await step(sessionmaker, clock, stop, logger)
            except Exception:
                logger.exception("%s round failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every(settings))

    return task


async def _purge_idempotency(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, stop: asyncio.Event, logger: logging.Logger
) -> None:
    purged, batch = 0, 1000
    while not stop.is_set():  # a batch per transaction: no long lock on the table
        async with sessionmaker() as session, session.begin():
            deleted = await purge_expired(session, clock.now(), batch=batch)
        purged += deleted
        if deleted < batch:
            break
    if purged:
        logger.info("expired idempotency records purged", extra={"purged": purged})


def idempotency_purge_task() -> Task:
    """Delete expired ``Idempotency-Key`` records every ``idempotency_purge_seconds``, a batch per transaction."""
    return periodic("idempotency", lambda settings: settings.idempotency.purge_seconds, _purge_idempotency)
