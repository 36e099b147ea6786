"""The reconciliation: over a period, our dossiers' states against what the portal acknowledged; exactly the
missing and stale ones are sent again (through the same queue), and the summary says so."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.embedded_pg import REPO_ROOT
from services.dev.fake_portal import FakePortal
from services.models import Dossier, PortalSync
from services.portal.reconcile import reconcile
from tests.integrations.conftest import World, journal, move, new_dossier, sync_until

pytestmark = pytest.mark.committed

MARCH = (date(2020, 3, 1), date(2020, 3, 31))


def march(day: int) -> datetime:
    return datetime.fromisoformat(f"2020-03-{day:02d}T09:00:00+07:00")


async def forget(sessionmaker: async_sessionmaker[AsyncSession], dossier: Dossier, *, status: str) -> None:
    """The journal rows of ``status`` gone: the change was made before the sync existed."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            delete(PortalSync).where(PortalSync.dossier_id == dossier.id, PortalSync.status == status)
        )


async def test_reconcile_resends_exactly_the_missing_and_stale_dossiers(
    sessionmaker: async_sessionmaker[AsyncSession],
    portal_settings: Settings,
    portal: FakePortal,
    world: World,
    database_url: str,
) -> None:
    in_sync = await new_dossier(sessionmaker, world, received_at=march(2))
    never_sent = await new_dossier(sessionmaker, world, received_at=march(3))
    stale = await new_dossier(sessionmaker, world, received_at=march(4))
    parked = await new_dossier(sessionmaker, world, received_at=march(5))
    on_its_way = await new_dossier(sessionmaker, world, received_at=march(6))
    april = await new_dossier(sessionmaker, world, received_at=datetime.fromisoformat("2020-04-01T09:00:00+07:00"))
    everyone = [in_sync, never_sent, stale, parked, on_its_way, april]

    portal.steer(fail_for=frozenset({parked.code}))
    await sync_until(
        sessionmaker, portal_settings.with_changes(national_portal={"max_attempts": 1}),
        [in_sync, stale, parked], settled=("acknowledged", "parked"),
    )  # fmt: skip
    portal.steer(fail_for=frozenset())
    await move(sessionmaker, never_sent, "processing", "resolved")
    await forget(sessionmaker, never_sent, status="pending")  # a dossier from before the sync
    await forget(sessionmaker, april, status="pending")
    await move(sessionmaker, stale, "processing")
    await forget(sessionmaker, stale, status="pending")  # the portal knows it received, not processing
    before = len(await journal(sessionmaker, *everyone))

    dry = subprocess.run(  # the command as an operator runs it, counting only
        [sys.executable, "-m", "services.portal.reconcile", "--from", "2020-03-01", "--to", "2020-03-31", "--dry-run"],
        cwd=REPO_ROOT,
        env={**os.environ, "MOTCUA_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    printed = {
        cells[0]: int(cells[1])
        for line in dry.stdout.splitlines()
        if (cells := [cell.strip() for cell in line.strip("|").split("|")])[-1].isdigit()
    }
    assert printed == {
        "dossiers checked": 5,
        "in sync": 1,
        "missing at the portal": 3,
        "stale state": 1,
        "re-sent (dry run: would be)": 3,
        "already on their way": 1,
    }, dry.stdout
    assert len(await journal(sessionmaker, *everyone)) == before

    summary = await reconcile(sessionmaker, *MARCH)
    assert (summary.checked, summary.in_sync, summary.missing, summary.stale) == (5, 1, 3, 1)
    assert (summary.resent, summary.on_their_way) == (3, 1)
    assert set(summary.resent_ids) == {never_sent.id, stale.id, parked.id}

    await sync_until(sessionmaker, portal_settings, everyone, settled=("acknowledged",))
    assert portal.states(in_sync.code) == [2]
    assert portal.states(never_sent.code) == [9]  # its current state, at once
    assert portal.states(stale.code) == [2, 4]
    assert portal.states(parked.code) == [2]
    assert portal.states(on_its_way.code) == [2]  # sent by its own row, not twice
    assert portal.states(april.code) == []  # outside the period
    async with sessionmaker() as session:
        reasons = await session.execute(
            select(PortalSync.reason, func.count())
            .where(PortalSync.dossier_id.in_([d.id for d in everyone]))
            .group_by(PortalSync.reason)
        )
        assert dict(reasons.all()) == {"change": 4, "reconcile": 2}

    again = await reconcile(sessionmaker, *MARCH)
    assert (again.checked, again.in_sync, again.resent) == (5, 5, 0)


async def test_a_state_change_during_reconciliation_keeps_its_own_number(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    dossier = await new_dossier(sessionmaker, world, received_at=march(20))
    await forget(sessionmaker, dossier, status="pending")
    await reconcile(sessionmaker, date(2020, 3, 20), date(2020, 3, 20))
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Dossier).where(Dossier.id == dossier.id).values(status="processing"))
    assert [(row.seq, row.state, row.reason) for row in await journal(sessionmaker, dossier)] == [
        (1, "received", "reconcile"),
        (2, "processing", "change"),
    ]
