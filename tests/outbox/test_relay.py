"""The relay against a real HTTP receiver in the test process: retries back off, failures park."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.queue import backoff_seconds
from services.models import OutboxEvent
from services.outbox.relay import Relay
from tests.factories import create_agency, create_staff

# the relay claims committed outbox rows on its own connections: a real commit is the point
pytestmark = pytest.mark.committed


class Receiver(ThreadingHTTPServer):
    status = 503
    hits = 0
    keys: list[str]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            server: Receiver = self.server  # type: ignore[assignment]
            server.hits += 1
            server.keys.append(self.headers["Idempotency-Key"])
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(server.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = Receiver(("127.0.0.1", 0), Handler)
    server.keys = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def relay_settings(database_url: str, receiver: Receiver) -> Settings:
    return Settings(demo=True).with_changes(
        db={"url": database_url},
        urls={"notify": f"http://127.0.0.1:{receiver.server_address[1]}"},
        relay={"max_attempts": 3, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02},
    )


async def _pending_event(engine: AsyncEngine, source: str) -> OutboxEvent:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        event = OutboxEvent(event_type="test.ping", source=source, destination="notify", payload={"n": 1})
        session.add(event)
        await session.commit()
        return event


async def _run_until_settled(relay: Relay, engine: AsyncEngine, event: OutboxEvent) -> OutboxEvent:
    import asyncio

    for _ in range(100):
        await relay.run_once()
        async with AsyncSession(engine) as session:
            current = await session.get(OutboxEvent, event.id)
            assert current is not None
            if current.status != "pending":
                return current
        await asyncio.sleep(0.03)
    raise AssertionError("the event never settled")


async def test_an_event_that_keeps_failing_is_parked_visible_and_requeueable(
    engine: AsyncEngine, receiver: Receiver, relay_settings: Settings, workflow: httpx.AsyncClient, bearer
) -> None:  # type: ignore[no-untyped-def]
    source = "test-park"
    event = await _pending_event(engine, source)
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), relay_settings, client=client, sources=[source])
        parked = await _run_until_settled(relay, engine, event)
    assert parked.status == "parked"
    assert parked.attempts == 3
    assert "HTTP 503" in (parked.last_error or "")
    assert receiver.hits == 3
    assert set(receiver.keys) == {str(event.id)}  # every attempt carries the same idempotency key

    async with AsyncSession(engine, expire_on_commit=False) as session:
        admin = await create_staff(session, agency=await create_agency(session), roles=("admin",))
        await session.commit()
    listed = (await workflow.get("/api/v1/outbox", params={"status": "parked"}, headers=bearer(admin))).json()
    assert str(event.id) in [item["id"] for item in listed["items"]]
    assert listed["counts"]["parked"] >= 1

    requeued = await workflow.post(f"/api/v1/outbox/{event.id}/requeue", headers=bearer(admin))
    assert requeued.status_code == 200
    assert (requeued.json()["status"], requeued.json()["attempts"]) == ("pending", 0)

    receiver.status = 200
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), relay_settings, client=client, sources=[source])
        delivered = await _run_until_settled(relay, engine, event)
    assert delivered.status == "delivered"


async def test_a_permanent_refusal_parks_at_once(
    engine: AsyncEngine, receiver: Receiver, relay_settings: Settings
) -> None:
    receiver.status = 422
    source = "test-refuse"
    event = await _pending_event(engine, source)
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), relay_settings, client=client, sources=[source])
        parked = await _run_until_settled(relay, engine, event)
    assert (parked.status, parked.attempts, receiver.hits) == ("parked", 1, 1)


async def test_a_relay_only_takes_its_own_sources(
    engine: AsyncEngine, receiver: Receiver, relay_settings: Settings
) -> None:
    receiver.status = 200
    mine = await _pending_event(engine, "test-mine")
    theirs = await _pending_event(engine, "test-theirs")
    async with httpx.AsyncClient() as client:
        relay = Relay(async_sessionmaker(engine), relay_settings, client=client, sources=["test-mine"])
        await _run_until_settled(relay, engine, mine)
    async with AsyncSession(engine) as session:
        other = await session.get(OutboxEvent, theirs.id)
        assert other is not None
        assert (other.status, other.attempts) == ("pending", 0)
        await session.execute(update(OutboxEvent).where(OutboxEvent.id == theirs.id).values(status="delivered"))
        await session.commit()


def test_backoff_grows_and_is_capped() -> None:
    ceilings = [max(backoff_seconds(n, base=1.0, cap=30.0) for _ in range(300)) for n in (1, 3, 5, 10)]
    assert ceilings[0] <= 1.0
    assert 2.0 < ceilings[1] <= 4.0
    assert 8.0 < ceilings[2] <= 16.0
    assert ceilings[3] <= 30.0
