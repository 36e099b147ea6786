"""Issue 13: the dossier's lifecycle announces each change with the source of the service that made it. A
supplement asked at the desk goes out as intake's; the same request made by a step of the workflow
(through the engine) goes out as workflow's — before, every lifecycle event claimed to come from intake.
Each service's worker relays only its own source, so the source is who sends (and signs) the event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.dossier.record import WORKFLOW_EVENTS
from services.models import Dossier, OutboxEvent
from tests.routing.test_engine import act, receive
from tests.workflow_setup import World
from workflow_api.main import HANDLERS

Headers = Callable[[str], dict[str, str]]
ITEMS = [{"document": "Giấy chứng sinh", "reason": "Sai ngày sinh của trẻ"}]


async def _sources(engine: AsyncEngine, code: str) -> set[tuple[str, str, str]]:
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, OutboxEvent.source, OutboxEvent.destination)
            .join(Dossier, Dossier.id == OutboxEvent.dossier_id)
            .where(Dossier.code == code)
        )
        return {(row.event_type, row.source, row.destination) for row in rows}


async def test_each_change_is_announced_by_the_service_that_made_it(
    clients: dict[str, httpx.AsyncClient],
    world: World,
    as_staff: Headers,
    relay: Any,
    travel: Any,
    routing_engine: AsyncEngine,
) -> None:
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    by_step = await receive(clients, world, "single", as_staff, relay)
    asked = await act(clients, by_step, "specialist", as_staff, "request_supplement", items=ITEMS)
    assert asked.status_code == 200, asked.text
    withdrawn = await act(clients, by_step, "counter", as_staff, "withdraw", comment="Công dân xin rút")
    assert withdrawn.status_code == 200, withdrawn.text

    events = await _sources(routing_engine, by_step)
    assert {("dossier.received", "intake", "workflow"), ("dossier.received", "intake", "notify")} <= events
    assert ("dossier.routed", "workflow", "notify") in events
    for event_type in ("dossier.supplement_requested", "dossier.withdrawn"):
        assert (event_type, "workflow", "notify") in events
        assert not any(row[0] == event_type and row[1] == "intake" for row in events)
    # workflow_api is sent only what it handles: the receipt that starts the routing
    assert {row[0] for row in events if row[2] == "workflow"} == {"dossier.received"}

    at_desk = await receive(clients, world, "single", as_staff, relay)
    asked = await clients["intake"].post(
        f"/api/v1/dossiers/{at_desk}/supplement-requests", json={"items": ITEMS}, headers=as_staff("specialist")
    )
    assert asked.status_code == 200, asked.text
    events = await _sources(routing_engine, at_desk)
    assert ("dossier.supplement_requested", "intake", "notify") in events
    assert {row[0] for row in events if row[2] == "workflow"} == {"dossier.received"}
    assert await relay() > 0  # both kinds reach their receivers


def test_workflow_api_is_sent_exactly_the_events_it_handles() -> None:
    assert set(HANDLERS) == WORKFLOW_EVENTS
