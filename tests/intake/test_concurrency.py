"""Many submissions at once: every dossier gets its own code; one Idempotency-Key gives one dossier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app as create_intake
from services.core.config import Settings
from services.models import Dossier
from tests.apps import new_client
from tests.intake.setup import create_desk, submission

pytestmark = pytest.mark.committed  # requests at once, each on a connection of its own: real commits


@pytest.fixture
async def patient_intake(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An intake whose requests wait for a pooled connection as long as it takes, and whose one client may
    submit 200 dossiers: these tests are about codes and keys under concurrency, not about shedding load
    (tests/security/test_pool.py is) or the per-address limit (tests/security/test_anti_automation.py)."""
    patient = settings.with_changes(db={"pool_timeout_seconds": 60.0}, public_writes={"submissions_per_window": 1000})
    app = create_intake(patient)
    async with app.router.lifespan_context(app), new_client(app) as client:
        yield client


async def test_200_concurrent_submissions_get_200_distinct_codes(
    patient_intake: httpx.AsyncClient, session: AsyncSession
) -> None:
    intake = patient_intake
    desk = await create_desk(session)
    await session.commit()
    responses = await asyncio.gather(*(intake.post("/api/v1/dossiers", json=submission(desk)) for _ in range(200)))
    assert [r.status_code for r in responses] == [201] * 200
    codes = {r.json()["code"] for r in responses}
    assert len(codes) == 200
    stored = await session.scalar(select(func.count()).where(Dossier.receiving_agency_id == desk.agency.id))
    assert stored == 200
    sequence = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert sequence == list(range(1, 201))  # the daily sequence has no gaps and no repeats


async def test_200_concurrent_replays_of_one_key_make_one_dossier(
    patient_intake: httpx.AsyncClient, session: AsyncSession
) -> None:
    intake = patient_intake
    desk = await create_desk(session)
    await session.commit()
    headers = {"Idempotency-Key": f"replay-{desk.agency.code}"}
    responses = await asyncio.gather(
        *(intake.post("/api/v1/dossiers", json=submission(desk), headers=headers) for _ in range(200))
    )
    statuses = {r.status_code for r in responses}
    assert statuses == {201}, {r.status_code: r.text for r in responses if r.status_code != 201}
    assert len({r.json()["code"] for r in responses}) == 1
    assert len({r.json()["secret"] for r in responses}) == 1
    stored = await session.scalar(select(func.count()).where(Dossier.receiving_agency_id == desk.agency.id))
    assert stored == 1
