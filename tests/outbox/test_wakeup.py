"""The relay's loop woken by the commit (LISTEN/NOTIFY), not by its poll interval; a lost LISTEN is reopened,
and while it cannot be, the relay polls.

The poll interval is 30 s here: an event seen by the receiver within a couple of seconds was woken by
its commit. The receiver is a real HTTP server in the test process (tests/outbox/test_relay.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.listen import Wakeup
from services.core.queue import poll
from services.models import OutboxEvent
from services.outbox.relay import Relay
from tests.notify.fakes import free_port
from tests.outbox.test_relay import Receiver, receiver  # noqa: F401 - the fixture

pytestmark = pytest.mark.committed

POLL_SECONDS = 30.0  # far beyond what any assertion below waits
WOKEN_WITHIN = 3.0


@pytest.fixture
def wake_settings(database_url: str, receiver: Receiver) -> Settings:  # noqa: F811
    receiver.status = 200
    return Settings(demo=True).with_changes(
        db={"url": database_url},
        urls={"notify": f"http://127.0.0.1:{receiver.server_address[1]}"},
        relay={"poll_seconds": POLL_SECONDS},
    )


async def _listener_pid(engine: AsyncEngine, source: str) -> int | None:
    async with engine.connect() as connection:
        return await connection.scalar(
            text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :name AND query LIKE 'LISTEN%'"
                " ORDER BY backend_start DESC LIMIT 1"
            ),
            {"name": f"motcua-listen-relay-{source}"},
        )


async def _eventually(check: Callable[[], object], *, within: float) -> float:
    """Seconds until ``check()`` is truthy (it may be a coroutine function); fails after ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {within} s")


async def _commit_event(engine: AsyncEngine, source: str) -> OutboxEvent:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        event = OutboxEvent(event_type="test.ping", source=source, destination="notify", payload={"n": 1})
        session.add(event)
        await session.commit()
        return event


@asynccontextmanager
async def _running_relay(engine: AsyncEngine, settings: Settings, source: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), settings, client=client, sources=[source])
        task = asyncio.create_task(relay.run(stop))
        try:
            await _eventually(lambda: _listener_pid(engine, source), within=10)
            await asyncio.sleep(0.2)  # the round the connection's first wake-up brings is over
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)


async def test_an_event_reaches_its_receiver_at_its_commit_not_at_the_next_poll(
    engine: AsyncEngine,
    receiver: Receiver,  # noqa: F811
    wake_settings: Settings,
) -> None:
    source = "test-wake"
    async with _running_relay(engine, wake_settings, source):
        for _ in range(3):  # every commit wakes the idle relay, not only the first
            event = await _commit_event(engine, source)
            await _eventually(lambda event=event: str(event.id) in receiver.keys, within=WOKEN_WITHIN)
    assert receiver.hits == 3


async def test_a_lost_listen_connection_is_reopened_and_what_was_missed_is_delivered(
    engine: AsyncEngine,
    receiver: Receiver,  # noqa: F811
    wake_settings: Settings,
) -> None:
    source = "test-relisten"
    async with _running_relay(engine, wake_settings, source):
        first = await _listener_pid(engine, source)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # committed while nobody listens: its NOTIFY is lost, the reconnection's wake-up finds it
        missed = await _commit_event(engine, source)
        await _eventually(lambda: str(missed.id) in receiver.keys, within=WOKEN_WITHIN)

        async def listening_again() -> bool:
            pid = await _listener_pid(engine, source)
            return pid is not None and pid != first

        await _eventually(listening_again, within=5)
        later = await _commit_event(engine, source)
        await _eventually(lambda: str(later.id) in receiver.keys, within=WOKEN_WITHIN)


async def test_with_listen_off_the_relay_still_polls(
    engine: AsyncEngine,
    receiver: Receiver,  # noqa: F811
    wake_settings: Settings,
) -> None:
    source = "test-poll-only"
    settings = wake_settings.with_changes(relay={"listen": False, "poll_seconds": 0.2})
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), settings, client=client, sources=[source])
        task = asyncio.create_task(relay.run(stop))
        try:
            event = await _commit_event(engine, source)
            await _eventually(lambda: str(event.id) in receiver.keys, within=5)
            assert await _listener_pid(engine, source) is None
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)


async def test_while_listen_cannot_connect_the_relay_polls_and_keeps_trying(
    engine: AsyncEngine,
    receiver: Receiver,  # noqa: F811
    wake_settings: Settings,
) -> None:
    source = "test-no-listen"
    settings = wake_settings.with_changes(relay={"poll_seconds": 0.2})
    closed = free_port()  # nothing listens there: every LISTEN attempt is refused
    wake = Wakeup(f"postgresql://nobody@127.0.0.1:{closed}/none", "outbox_event", keys=[source],
                  application_name="motcua-listen-test", logger=logging.getLogger("test.wakeup"))  # fmt: skip
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), settings, client=client, sources=[source])
        task = asyncio.create_task(
            poll(relay.run_once, stop, every=0.2, logger=logging.getLogger("test.wakeup"), what="relay", wake=wake)
        )
        try:
            event = await _commit_event(engine, source)
            await _eventually(lambda: str(event.id) in receiver.keys, within=5)
            assert not wake.listening.is_set()
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
