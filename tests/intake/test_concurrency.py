"""Many submissions at once: every dossier gets its own code; one Idempotency-Key gives one dossier."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Dossier
from tests.intake.setup import create_desk, submission


async def test_200_concurrent_submissions_get_200_distinct_codes(
    intake: httpx.AsyncClient, committed: AsyncSession
) -> None:
    desk = await create_desk(committed)
    await committed.commit()
    responses = await asyncio.gather(*(intake.post("/api/v1/dossiers", json=submission(desk)) for _ in range(200)))
    assert [r.status_code for r in responses] == [201] * 200
    codes = {r.json()["code"] for r in responses}
    assert len(codes) == 200
    stored = await committed.scalar(select(func.count()).where(Dossier.receiving_agency_id == desk.agency.id))
    assert stored == 200
    sequence = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert sequence == list(range(1, 201))  # the daily sequence has no gaps and no repeats


async def test_200_concurrent_replays_of_one_key_make_one_dossier(
    intake: httpx.AsyncClient, committed: AsyncSession
) -> None:
    desk = await create_desk(committed)
    await committed.commit()
    headers = {"Idempotency-Key": f"replay-{desk.agency.code}"}
    responses = await asyncio.gather(
        *(intake.post("/api/v1/dossiers", json=submission(desk), headers=headers) for _ in range(200))
    )
    statuses = {r.status_code for r in responses}
    assert statuses == {201}, {r.status_code: r.text for r in responses if r.status_code != 201}
    assert len({r.json()["code"] for r in responses}) == 1
    assert len({r.json()["secret"] for r in responses}) == 1
    stored = await committed.scalar(select(func.count()).where(Dossier.receiving_agency_id == desk.agency.id))
    assert stored == 1
