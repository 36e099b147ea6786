"""``/metrics`` of the APIs, in process: what an operator's Prometheus would read, and who may read it.

The workers' listeners and the real processes are in tests/e2e/test_observability.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app as create_intake
from services.core.config import Settings
from services.core.metrics import exposition
from services.models import Notification, OutboxEvent
from tests.apps import new_client
from tests.operations.conftest import SCRAPER, TOKEN, value


@pytest.fixture
async def intake(intake_scraped: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(share(intake_scraped)) as client:
        yield client


async def scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics", headers=SCRAPER)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def test_a_request_is_counted_by_its_route_template_and_status_never_its_path(
    intake: httpx.AsyncClient,
) -> None:
    route = dict(service="intake", method="GET", route="/api/v1/procedures/{code}", status="404")
    before = value(await scrape(intake), "motcua_http_request_duration_seconds_count", **route) or 0
    for _ in range(3):
        assert (await intake.get("/api/v1/procedures/9.999999.SECRET")).status_code == 404
    await intake.get("/no/such/path/H26-261206-0001")
    text = await scrape(intake)
    assert value(text, "motcua_http_request_duration_seconds_count", **route) == before + 3
    unmatched = dict(service="intake", method="GET", route="unmatched", status="404")
    assert (value(text, "motcua_http_request_duration_seconds_count", **unmatched) or 0) >= 1
    assert "9.999999.SECRET" not in text
    assert "H26-261206-0001" not in text
    # the pools: the request pool and the counters' pool of this process, with their sizes
    assert value(text, "motcua_db_pool_size", service="intake", pool="main") == 10
    assert value(text, "motcua_db_pool_size", service="intake", pool="counters") == 4
    assert value(text, "motcua_db_pool_waiting", service="intake", pool="main") == 0


async def test_metrics_are_refused_to_anyone_but_the_scraper(
    intake: httpx.AsyncClient, bearer: Callable[..., dict[str, str]], intake_app: FastAPI
) -> None:
    assert (await intake.get("/metrics")).status_code == 401
    assert (await intake.get("/metrics", headers={"Authorization": "Bearer not-the-token"})).status_code == 403
    assert (await intake.get("/metrics", headers=bearer())).status_code == 403  # the administrator's token
    assert (await intake.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})).status_code == 401
    # an API whose MOTCUA_METRICS_TOKEN is unset lets nobody read
    async with new_client(intake_app) as unset:
        assert (await unset.get("/metrics", headers=SCRAPER)).status_code == 403


async def test_the_database_gauges_move_when_an_event_is_parked_and_a_notification_fails(
    intake: httpx.AsyncClient, notify_scraped: FastAPI, share: Callable[[FastAPI], FastAPI], session: AsyncSession
) -> None:
    parked = dict(source="intake", destination="notify")
    failed = dict(channel="sms", state="failed")
    text = await scrape(intake)
    parked_before = value(text, "motcua_outbox_parked", **parked) or 0
    failed_before = value(text, "motcua_notifications", **failed) or 0
    pending_before = value(text, "motcua_outbox_pending", source="intake", destination="workflow") or 0

    event = OutboxEvent(
        id=uuid.uuid4(), event_type="dossier.received", source="intake", destination="notify", payload={}
    )
    event.status = "parked"
    waiting = OutboxEvent(
        id=uuid.uuid4(), event_type="dossier.received", source="intake", destination="workflow", payload={}
    )
    message = Notification(
        id=uuid.uuid4(), event_id=uuid.uuid4(), event_type="dossier.received", channel="sms",
        recipient="0900000000", body="x", status="failed",
    )  # fmt: skip
    session.add_all([event, waiting, message])
    await session.commit()

    text = await scrape(intake)
    assert value(text, "motcua_outbox_parked", **parked) == parked_before + 1
    assert value(text, "motcua_notifications", **failed) == failed_before + 1
    assert value(text, "motcua_outbox_pending", source="intake", destination="workflow") == pending_before + 1
    assert (value(text, "motcua_outbox_oldest_pending_seconds", source="intake", destination="workflow") or -1) >= 0
    assert value(text, "motcua_dossiers_open") is not None
    assert value(text, "motcua_dossiers_due_within_days", days="3") is not None
    assert "0900000000" not in text
    # every API reports the same figures: notify's too
    async with new_client(share(notify_scraped)) as notify:
        assert value(await scrape(notify), "motcua_notifications", **failed) == failed_before + 1


@pytest.mark.committed
async def test_a_request_waiting_for_a_connection_is_counted(settings: Settings) -> None:
    app = create_intake(settings.with_changes(db={"pool_size": 1, "limits_pool_size": 1, "pool_timeout_seconds": 5}))
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        async with engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            waiter = asyncio.create_task(engine.connect().__aenter__())
            await asyncio.sleep(0.2)
            text = exposition().decode()
            assert value(text, "motcua_db_pool_in_use", service="intake", pool="main") == 1
            assert value(text, "motcua_db_pool_waiting", service="intake", pool="main") == 1
        connection = await waiter
        await connection.close()
        assert value(exposition().decode(), "motcua_db_pool_waiting", service="intake", pool="main") == 0
        # the counters' own asyncpg pool (services.core.counters) counts its own
        counters = app.state.counters
        later = counters.connection()
        async with counters.connection():
            second = asyncio.create_task(later.__aenter__())
            await asyncio.sleep(0.2)
            text = exposition().decode()
            assert value(text, "motcua_db_pool_in_use", service="intake", pool="counters") == 1
            assert value(text, "motcua_db_pool_waiting", service="intake", pool="counters") == 1
        await second  # it gets the connection given back, and gives it back in turn
        await later.__aexit__(None, None, None)
        assert value(exposition().decode(), "motcua_db_pool_in_use", service="intake", pool="counters") == 0
