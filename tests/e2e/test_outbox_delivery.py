"""An event committed by intake reaches notify over HTTP exactly once in effect.

Real processes: intake_api, notify_api and intake's relay workers under uvicorn, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.auth import service_token
from services.core.config import Settings
from services.models import Agency, Complaint, Notification, OutboxEvent, ProcessedEvent
from services.outbox.relay import EVENTS_PATH, Relay
from tests.e2e.conftest import Stack, eventually
from tests.factories import create_agency
from tests.tokens import bearer_for

pytestmark = pytest.mark.e2e

PERSONAL = {"phone": "0912345678", "email": "nguyen.thi.lan@example.vn", "cccd": "001203004567"}


@pytest.fixture
async def agency(engine: AsyncEngine) -> Agency:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        created = await create_agency(session)
        await session.commit()
        return created


def complaint_body(agency: Agency, n: int) -> dict[str, object]:
    return {
        "kind": "complaint",
        "agency_code": agency.code,
        "subject": f"Hồ sơ trễ hẹn số {n}",
        "content": f"Tôi (CCCD {PERSONAL['cccd']}) nộp hồ sơ đã quá hẹn mà chưa có kết quả.",
        "contact": {"name": "Nguyễn Thị Lan", "phone": PERSONAL["phone"], "email": PERSONAL["email"]},
    }


async def event_for(session: AsyncSession, complaint_code: str) -> OutboxEvent:
    event = await session.scalar(
        select(OutboxEvent)
        .join(Complaint, OutboxEvent.payload["complaint_id"].astext == cast(Complaint.id, String))
        .where(Complaint.code == complaint_code)
        .execution_options(populate_existing=True)
    )
    assert event is not None
    return event


async def effects(session: AsyncSession, event_id: uuid.UUID) -> tuple[int, int]:
    notifications = await session.scalar(select(func.count()).where(Notification.event_id == event_id))
    processed = await session.scalar(
        select(func.count()).where(ProcessedEvent.event_id == event_id, ProcessedEvent.consumer == "notify")
    )
    return int(notifications or 0), int(processed or 0)


@pytest.fixture
def e2e_settings(database_url: str) -> Settings:
    return Settings(demo=True).with_changes(db={"url": database_url})


async def test_event_written_while_the_receiver_is_down_arrives_once_it_is_up(
    stack: Stack, agency: Agency, engine: AsyncEngine, e2e_settings: Settings
) -> None:
    stack.api("intake")
    stack.worker("intake")
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    async with httpx.AsyncClient(base_url=stack.url("intake")) as intake:
        created = await intake.post("/api/v1/complaints", json=complaint_body(agency, 1))
        assert created.status_code == 201, created.text
        code = created.json()["code"]
        # the path of a request may carry personal data too; the logs must not
        lookup = await intake.post("/api/v1/track", json={"code": PERSONAL["cccd"], "phone": PERSONAL["phone"]})
        assert lookup.status_code == 404

    async def failing_while_down() -> bool:
        async with sessionmaker() as session:
            event = await event_for(session, code)
            return event.attempts >= 2 and event.status == "pending" and "Connect" in (event.last_error or "")

    await eventually(failing_while_down, what="the relay to try and fail while notify_api is down")

    stack.api("notify")

    async def delivered() -> bool:
        async with sessionmaker() as session:
            return (await event_for(session, code)).status == "delivered"

    await eventually(delivered, what="delivery once notify_api is up")
    async with sessionmaker() as session:
        event = await event_for(session, code)
        assert await effects(session, event.id) == (1, 1)

    async with httpx.AsyncClient(base_url=stack.url("notify")) as notify:
        listed = await notify.get(
            "/api/v1/notifications", params={"event_id": str(event.id)}, headers=bearer_for(e2e_settings)
        )
    assert listed.status_code == 200
    [notification] = listed.json()
    assert notification["channel"] == "in_app"
    assert notification["subject"].startswith("Phản ánh mới PAKN-")

    stack.stop()
    logs = stack.logs()
    assert "event delivered" in logs
    for value in PERSONAL.values():
        assert value not in logs, f"personal data {value!r} reached the logs"


async def test_two_relays_and_a_repeated_delivery_still_give_one_effect_per_event(
    stack: Stack, agency: Agency, engine: AsyncEngine, e2e_settings: Settings
) -> None:
    stack.api("intake")
    stack.api("notify")
    stack.worker("intake")
    stack.worker("intake")
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    async with httpx.AsyncClient(base_url=stack.url("intake")) as intake:
        responses = await asyncio.gather(
            *(intake.post("/api/v1/complaints", json=complaint_body(agency, n)) for n in range(30))
        )
    assert all(r.status_code == 201 for r in responses)
    codes = [r.json()["code"] for r in responses]
    assert len(set(codes)) == 30

    async def all_delivered() -> bool:
        async with sessionmaker() as session:
            events = [await event_for(session, code) for code in codes]
            return all(e.status == "delivered" for e in events)

    await eventually(all_delivered, timeout=60, what="all 30 events delivered by two relays")
    async with sessionmaker() as session:
        events = [await event_for(session, code) for code in codes]
        for event in events:
            assert await effects(session, event.id) == (1, 1)

    # the relay's at-least-once promise, exercised by hand: the same event delivered again
    again = events[0]
    envelope = {
        "id": str(again.id),
        "type": again.event_type,
        "source": again.source,
        "dossier_id": None,
        "occurred_at": again.created_at.isoformat(),
        "payload": again.payload,
    }
    headers = {"Authorization": f"Bearer {service_token(e2e_settings, 'intake')}", "Idempotency-Key": str(again.id)}
    async with httpx.AsyncClient(base_url=stack.url("notify")) as notify:
        replies = await asyncio.gather(*(notify.post(EVENTS_PATH, json=envelope, headers=headers) for _ in range(3)))
    assert [r.json()["outcome"] for r in replies] == ["duplicate"] * 3
    async with sessionmaker() as session:
        assert await effects(session, again.id) == (1, 1)


async def test_a_relay_that_dies_after_claiming_loses_nothing(
    stack: Stack, agency: Agency, engine: AsyncEngine, e2e_settings: Settings
) -> None:
    """A relay claims a batch and dies before sending: the lease runs out and another relay delivers."""
    stack.api("intake")
    stack.api("notify")
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with httpx.AsyncClient(base_url=stack.url("intake")) as intake:
        responses = [await intake.post("/api/v1/complaints", json=complaint_body(agency, n)) for n in range(3)]
    codes = [r.json()["code"] for r in responses]

    short_lease = e2e_settings.with_changes(relay={"lease_seconds": 2, "batch_size": 100})
    async with httpx.AsyncClient() as client:
        doomed = Relay(sessionmaker, short_lease, client=client, sources=["intake"], name="doomed")
        claimed = await doomed._claim()  # claims, then "crashes": never sends, never settles
    assert {str(c.payload["complaint_code"]) for c in claimed} >= set(codes)

    stack.worker("intake")

    async def delivered() -> bool:
        async with sessionmaker() as session:
            return all([(await event_for(session, code)).status == "delivered" for code in codes])

    await eventually(delivered, what="delivery after the dead relay's lease expired")
    async with sessionmaker() as session:
        for code in codes:
            event = await event_for(session, code)
            assert event.attempts == 2
            assert await effects(session, event.id) == (1, 1)
