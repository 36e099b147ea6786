"""The national portal sync against a fake portal that is a real HTTP server in the test process
(services/dev/fake_portal.py); the journal rows are committed for real, as the worker's claims are."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.dev.fake_portal import FakePortal
from services.models import Agency, Dossier, PortalSync, ProcedureVersion
from services.portal.dispatch import PortalSync as Sender
from tests.factories import create_agency, create_dossier, create_procedure_version

CREDENTIALS = ("tinh-thu-nghiem", "portal-test-secret")


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    fake = FakePortal(credentials=CREDENTIALS).start()
    yield fake
    fake.stop()


@pytest.fixture
def portal_settings(settings: Settings, portal: FakePortal) -> Settings:
    return settings.with_changes(
        national_portal={
            "url": portal.url,
            "client_id": CREDENTIALS[0],
            "secret": SecretStr(CREDENTIALS[1]),
            "timeout_seconds": 5.0,  # generous: a loaded machine must not turn an answer into a timeout
            "max_attempts": 3,
            "backoff_base_seconds": 0.02,
            "backoff_max_seconds": 0.1,
            "lease_seconds": 15.0,
            "poll_seconds": 0.05,
        }
    )


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass
class World:
    agency: Agency
    version: ProcedureVersion


@pytest.fixture
async def world(sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    async with sessionmaker() as session, session.begin():
        agency = await create_agency(session)
        version = await create_procedure_version(session)
    return World(agency, version)


async def new_dossier(sessionmaker: async_sessionmaker[AsyncSession], world: World, **fields: object) -> Dossier:
    async with sessionmaker() as session, session.begin():
        return await create_dossier(session, agency=world.agency, version=world.version, **fields)


async def move(sessionmaker: async_sessionmaker[AsyncSession], dossier: Dossier, *states: str) -> None:
    """Change the dossier's state, each change its own transaction (as the services do)."""
    for state in states:
        async with sessionmaker() as session, session.begin():
            await session.execute(update(Dossier).where(Dossier.id == dossier.id).values(status=state))


async def journal(sessionmaker: async_sessionmaker[AsyncSession], *dossiers: Dossier) -> list[PortalSync]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(PortalSync)
            .where(PortalSync.dossier_id.in_([d.id for d in dossiers]))
            .order_by(PortalSync.dossier_id, PortalSync.seq)
        )
        return list(rows)


async def sync_until(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dossiers: Sequence[Dossier],
    *,
    workers: int = 1,
    settled: tuple[str, ...] = ("acknowledged",),
    timeout: float = 30.0,
) -> list[PortalSync]:
    """Run ``workers`` senders side by side (narrowed to ``dossiers``) until every row is in ``settled``."""
    ids = [d.id for d in dossiers]
    senders = [
        Sender(sessionmaker, settings, name=f"test-{n}-{uuid.uuid4().hex[:4]}", dossier_ids=ids) for n in range(workers)
    ]
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            await asyncio.gather(*(sender.run_once() for sender in senders))
            rows = await journal(sessionmaker, *dossiers)
            if rows and all(row.status in settled for row in rows):
                return rows
            await asyncio.sleep(0.02)
    finally:
        for sender in senders:
            await sender.client.aclose()
    raise AssertionError(f"not settled: {[(r.seq, r.state, r.status, r.last_error) for r in rows]}")
