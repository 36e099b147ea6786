"""Issue 11.1: no request holds two pooled connections; a starved pool answers a fast 503, never a hang."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.core.config import Settings
from tests.factories import create_staff
from tests.intake.setup import Desk, submission
from tests.security.conftest import address, client_at

# the pool of one connection is the point: the apps keep their own pools
pytestmark = pytest.mark.committed


async def test_a_pool_of_one_connection_serves_every_failing_request(
    settings: Settings, app_with: Any, desk: Desk, session: AsyncSession
) -> None:
    """With one connection and no overflow, a request that needed a second would wait for itself and fail."""
    staff = await create_staff(session, agency=desk.agency, roles=("counter",), password="right one")
    officer = await create_staff(session, agency=desk.agency, roles=("counter",), password="right one")
    await session.commit()
    officer_name = officer.username
    tight = {"db": {"pool_size": 1, "max_overflow": 0, "pool_timeout_seconds": 3.0}}
    async with app_with("intake", settings, **tight) as intake, app_with("workflow", settings, **tight) as workflow:
        async with client_at(intake) as citizen:
            created = (await citizen.post("/api/v1/dossiers", json=submission(desk))).json()

        async def guess(n: int) -> int:
            async with client_at(intake, address()) as stranger:
                answer = await stranger.get(f"/api/v1/track/{created['code']}", params={"secret": f"WRONG{n:03d}"})
                return answer.status_code

        async def wrong_password(n: int) -> int:
            async with client_at(workflow, address()) as stranger:
                answer = await stranger.post(
                    "/api/v1/auth/token", data={"username": staff.username, "password": f"guess {n}"}
                )
                return answer.status_code

        async def forbidden(n: int) -> int:  # the denial is audited in a transaction of its own
            async with client_at(workflow) as officer_client:
                login = await officer_client.post(
                    "/api/v1/auth/token", data={"username": officer_name, "password": "right one"}
                )
                assert login.status_code == 200, login.text
                token = login.json()["access_token"]
                answer = await officer_client.get("/api/v1/outbox", headers={"Authorization": f"Bearer {token}"})
                return answer.status_code

        statuses = await asyncio.gather(*(guess(n) for n in range(15)), *(wrong_password(n) for n in range(8)))
        statuses.append(await forbidden(0))  # a concurrent flood may shed an honest sign-in with a 503
    assert set(statuses) <= {401, 403, 404, 429, 503}, statuses
    assert statuses[-1] == 403
    assert 500 not in statuses


async def test_a_starved_pool_answers_503_with_retry_after_at_once(settings: Settings, app_with: Any) -> None:
    tight = {"db": {"pool_size": 1, "max_overflow": 0, "pool_timeout_seconds": 0.3}}
    async with app_with("intake", settings, **tight) as intake, intake.state.engine.connect() as held:
        await held.exec_driver_sql("SELECT 1")  # someone holds the only connection
        async with client_at(intake) as citizen:
            started = time.perf_counter()
            answer = await citizen.get("/api/v1/procedures", params={"q": "khai sinh"})
            elapsed = time.perf_counter() - started
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "server_busy"
    assert int(answer.headers["retry-after"]) >= 1
    assert elapsed < 2.0


async def test_a_starved_counters_pool_answers_503_with_retry_after_at_once(
    settings: Settings, app_with: Any, desk: Desk, session: AsyncSession
) -> None:
    """The counters' own pool (services.core.counters) sheds load like the main one: a tracking request
    that cannot get a counters' connection in time is a 503 ``server_busy``, not a hang or a 500."""
    tight = {"db": {"limits_pool_size": 1, "pool_timeout_seconds": 0.3}}
    async with app_with("intake", settings, **tight) as intake, client_at(intake) as citizen:
        created = (await citizen.post("/api/v1/dossiers", json=submission(desk))).json()
        track = f"/api/v1/track/{created['code']}"
        async with intake.state.counters.connection():  # someone holds the only counters' connection
            started = time.perf_counter()
            answer = await citizen.get(track, params={"secret": created["secret"]})
            elapsed = time.perf_counter() - started
        again = await citizen.get(track, params={"secret": created["secret"]})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "server_busy"
    assert int(answer.headers["retry-after"]) >= 1
    assert elapsed < 2.0
    assert again.status_code == 200  # given back, the connection serves the next request


async def test_pool_size_overflow_and_timeout_are_settings() -> None:
    settings = Settings().with_changes(db={"pool_size": 7, "max_overflow": 3, "pool_timeout_seconds": 1.5})
    from services.core.db import create_engine

    engine = create_engine(settings, application_name="motcua-test")
    try:
        pool: Any = engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (7, 3, 1.5)
    finally:
        await engine.dispose()


async def test_connections_the_database_dropped_cost_one_503_each_then_heal(
    settings: Settings, app_with: Any, desk: Desk, session: AsyncSession
) -> None:
    """No pre-ping (three round trips per checkout): a connection the database dropped — a restart, a
    failover — fails the request that meets it with a clean 503, never a 500, and is replaced.

    The main pool (SQLAlchemy's) hands its dropped connections out: the catalogue's requests meet them. The
    counters' pool (asyncpg's own, services.core.counters) replaces a connection as soon as it has seen its
    socket close, so tracking meets a dropped one only when the drop is not yet seen: a 503 then, or none."""
    tight = {"db": {"pool_size": 2, "limits_pool_size": 1}}
    async with app_with("intake", settings, **tight) as intake, client_at(intake) as citizen:
        created = (await citizen.post("/api/v1/dossiers", json=submission(desk))).json()
        track = f"/api/v1/track/{created['code']}"
        assert (await citizen.get(track, params={"secret": created["secret"]})).status_code == 200
        # the database drops every connection of this app's two pools (a restart would drop them all)
        pids = [pid async for pid in _backends(intake.state.engine, 2)]
        async with intake.state.counters.connection() as counters:  # its one counters' connection
            pids.append(int(await counters.fetchval("SELECT pg_backend_pid()")))
        drop = text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid")
        await session.execute(drop, {"pids": pids})
        searches = [(await citizen.get("/api/v1/procedures", params={"q": "khai sinh"})) for _ in range(6)]
        tracked = [(await citizen.get(track, params={"secret": created["secret"]})) for _ in range(4)]
    statuses = [answer.status_code for answer in searches]
    assert set(statuses) == {200, 503}, statuses  # the dropped connections were met, and healed
    assert statuses[-3:] == [200, 200, 200], statuses
    tracking = [answer.status_code for answer in tracked]
    assert set(tracking) <= {200, 503}, tracking
    assert tracking[-3:] == [200, 200, 200], tracking
    for failed in (answer for answer in searches + tracked if answer.status_code == 503):
        assert failed.json()["code"] == "database_unavailable"
        assert failed.headers["retry-after"] == "1"


async def _backends(engine: AsyncEngine, size: int) -> AsyncIterator[int]:
    """The server process ids of the ``size`` connections of ``engine``'s fixed pool (all taken at once)."""
    async with AsyncExitStack() as stack:
        for _ in range(size):
            connection = await stack.enter_async_context(engine.connect())
            yield int(await connection.scalar(text("SELECT pg_backend_pid()")))
