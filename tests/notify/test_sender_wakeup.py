"""The sender woken by the commit of the notifications an event stores (LISTEN/NOTIFY), not by its
poll interval: with 30 s between polls, the email and the SMS reach the servers within seconds."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from tests.notify.conftest import create_world, deliver, sender_for
from tests.notify.fakes import FakeGateway, SmtpSink

pytestmark = pytest.mark.committed

RECEIVED = {"received_at": "2026-11-23T09:30:00+07:00", "due_at": "2026-11-27T17:00:00+07:00"}


async def _listening(engine: AsyncEngine, names: set[str]) -> bool:
    async with engine.connect() as connection:
        found = await connection.scalars(
            text("SELECT application_name FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
        )
        return names <= set(found)


async def test_the_sender_sends_at_the_commit_of_the_notifications_not_at_its_next_poll(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    smtp: SmtpSink,
    gateway: FakeGateway,
) -> None:
    world = await create_world(session)
    await session.commit()
    settings = notify_settings.with_changes(notify={"poll_seconds": 30.0})
    stop = asyncio.Event()
    running = asyncio.create_task(sender_for(sessionmaker, settings, world.dossier).run(stop))
    try:
        deadline = time.monotonic() + 10
        while not await _listening(engine, {"motcua-listen-sender-email", "motcua-listen-sender-sms"}):
            assert time.monotonic() < deadline, "the sender's loops never listened"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the rounds the first wake-ups bring are over: the loops wait their 30 s

        await deliver(client, settings, "dossier.received", dossier=world.dossier, payload=RECEIVED)

        deadline = time.monotonic() + 5
        while not (smtp.to(str(world.dossier.applicant_email)) and gateway.to(str(world.dossier.applicant_phone))):
            assert time.monotonic() < deadline, "not sent within 5 s of the commit (the poll interval is 30 s)"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)
