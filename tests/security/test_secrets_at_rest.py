"""Secrets at rest (issue 11, point 8): no tracking secret in clear anywhere in the database after a
journey with idempotent submissions; the citizen still gets the secret back on a replay; a key belongs
to its caller; idempotency records expire and intake's worker purges them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.worker import idempotency_purge_task
from services.models import IdempotencyKey
from tests.apps import new_client
from tests.intake.setup import Desk, create_desk, submission

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


async def columns_holding(session: AsyncSession, needles: list[str]) -> list[str]:
    """Every ``table.column`` of a text, json or array type whose value contains one of ``needles``."""
    columns = (
        await session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND data_type = ANY(:types)"
                " AND table_name IN (SELECT table_name FROM information_schema.tables"
                "                    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')"
            ),
            {"types": list(TEXT_TYPES)},
        )
    ).all()
    assert len(columns) > 50  # the whole schema, not a corner of it
    found = []
    for table, column in columns:
        hit = await session.scalar(
            text(f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS text) ILIKE ANY(:patterns) LIMIT 1'),
            {"patterns": [f"%{needle}%" for needle in needles]},
        )
        if hit:
            found.append(f"{table}.{column}")
    return found


def forms(secret: str) -> list[str]:
    """The secret as issued (``ABCD-EFGH``) and as typed without the dash."""
    return [secret, secret.replace("-", "")]


async def test_no_secret_in_clear_after_a_journey_and_a_replay_still_returns_it(
    intake_app: FastAPI, desk: Desk, bearer: Any, session: AsyncSession
) -> None:
    issued: list[str] = []
    async with new_client(intake_app) as citizen:
        key = {"Idempotency-Key": f"online-{uuid.uuid4()}"}
        first = await citizen.post("/api/v1/dossiers", json=submission(desk), headers=key)
        assert first.status_code == 201, first.text
        # the network dropped before the answer arrived: the same request again gives the same answer
        again = await citizen.post("/api/v1/dossiers", json=submission(desk), headers=key)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert again.json()["secret"] == first.json()["secret"]
        issued.append(first.json()["secret"])
        tracked = await citizen.get(f"/api/v1/track/{first.json()['code']}", params={"secret": again.json()["secret"]})
        assert tracked.status_code == 200

    async with new_client(intake_app) as desk_client:
        officer = {**bearer(desk.officer), "Idempotency-Key": f"counter-{uuid.uuid4()}"}
        counter = await desk_client.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)
        assert counter.status_code == 201, counter.text
        replayed = await desk_client.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)
        assert replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json()["secret"] == counter.json()["secret"]
        issued.append(counter.json()["secret"])
        plain = await desk_client.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
        issued.append(plain.json()["secret"])

    stored = await session.scalar(select(func.count()).select_from(IdempotencyKey).where(
        IdempotencyKey.key.in_([key["Idempotency-Key"], officer["Idempotency-Key"]])))  # fmt: skip
    assert stored == 2
    assert await columns_holding(session, [form for secret in issued for form in forms(secret)]) == []


async def test_an_idempotency_key_belongs_to_its_caller(
    intake_app: FastAPI, desk: Desk, bearer: Any, session: AsyncSession
) -> None:
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    async with new_client(intake_app) as owner, new_client(intake_app) as stranger:
        mine = await owner.post("/api/v1/dossiers", json=submission(desk), headers=key)
        # someone else who learnt the key (and the applicant's data) gets no copy of the owner's answer
        theirs = await stranger.post("/api/v1/dossiers", json=submission(desk), headers=key)
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert (theirs.json()["code"], theirs.json()["secret"]) != (mine.json()["code"], mine.json()["secret"])

    other_officer = await create_desk(session)
    await session.commit()
    async with new_client(intake_app) as desk_client:
        headers = {"Idempotency-Key": f"staff-{uuid.uuid4()}"}
        one = await desk_client.post("/api/v1/counter/dossiers", json=submission(desk),
                                     headers={**bearer(desk.officer), **headers})  # fmt: skip
        # a colleague at another desk, same key, same machine: a request of their own
        body = submission(other_officer)
        two = await desk_client.post("/api/v1/counter/dossiers", json=body,
                                     headers={**bearer(other_officer.officer), **headers})  # fmt: skip
    assert one.status_code == two.status_code == 201, two.text
    assert "idempotent-replayed" not in two.headers


@pytest.mark.committed  # the purge is a worker on a connection of its own
async def test_idempotency_records_expire_and_the_worker_purges_them(
    intake_app: FastAPI,
    desk: Desk,
    settings: Settings,
    engine: AsyncEngine,
    session: AsyncSession,
    travel: Callable[[datetime], None],
) -> None:
    now = datetime.now(UTC)
    travel(now)
    key = f"expiring-{uuid.uuid4()}"
    async with new_client(intake_app) as citizen:
        first = await citizen.post("/api/v1/dossiers", json=submission(desk), headers={"Idempotency-Key": key})
        assert first.status_code == 201
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
        assert row is not None
        assert row.expires_at - row.created_at >= timedelta(hours=23, minutes=59)
        assert row.expires_at <= now + timedelta(seconds=settings.idempotency.ttl_seconds, minutes=1)

        # a day later the key is forgotten: the same request is a new one
        travel(now + timedelta(hours=24, minutes=1))
        later = await citizen.post("/api/v1/dossiers", json=submission(desk), headers={"Idempotency-Key": key})
        assert later.status_code == 201
        assert "idempotent-replayed" not in later.headers
        assert later.json()["code"] != first.json()["code"]

    travel(now + timedelta(hours=48, minutes=2))
    stop = asyncio.Event()
    purge = idempotency_purge_task()
    worker = asyncio.create_task(purge(async_sessionmaker(engine), settings, httpx.AsyncClient(), stop))
    try:
        for _ in range(100):
            session.expire_all()
            left = await session.scalar(select(func.count()).select_from(IdempotencyKey).where(
                IdempotencyKey.key == key))  # fmt: skip
            await session.rollback()
            if left == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    assert left == 0
    expired = await session.scalar(select(func.count()).select_from(IdempotencyKey).where(
        IdempotencyKey.expires_at <= now + timedelta(hours=48)))  # fmt: skip
    assert expired == 0
