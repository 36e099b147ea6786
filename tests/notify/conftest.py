"""notify_api in the test process, with a real SMTP server and a real SMS gateway beside it."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from notify_api.main import create_app
from services.core.auth import service_token
from services.core.config import Settings
from services.models import Agency, Dossier, Notification, ProcedureVersion, Staff
from services.notification.sender import Sender, default_channels
from services.outbox.relay import EVENTS_PATH
from tests.apps import SharedCounters
from tests.db import commits_for_real
from tests.factories import create_agency, create_dossier, create_procedure_version, create_staff
from tests.notify.fakes import FakeGateway, SmtpSink

SMS_SECRET = "whsec_" + base64.b64encode(b"sms-gateway-receipts-test-secret").decode()
POSTAL_API_SECRET = "whsec_" + base64.b64encode(b"postal-operator-api-test-secret!").decode()
SIGNING_SECRET = "whsec_" + base64.b64encode(b"other-subscribers-test-secret-01").decode()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def notify_settings(settings: Settings, smtp: SmtpSink, gateway: FakeGateway) -> Settings:
    return settings.with_changes(
        smtp={"port": smtp.port},
        sms={"gateway_url": gateway.url + "/sms", "webhook_secret": SecretStr(SMS_SECRET)},
        postal={"api_secret": SecretStr(POSTAL_API_SECRET)},
        webhooks={"signing_secret": SecretStr(SIGNING_SECRET), "max_attempts": 4},
        notify={
            "backoff_base_seconds": 0.05,
            "backoff_max_seconds": 0.2,
            "max_attempts": 5,
            "lease_seconds": 5,
            "send_timeout_seconds": 2.0,
            "email_per_second": 1000.0,
            "sms_per_second": 1000.0,
        },
    )


@pytest.fixture(scope="session")
async def app(notify_settings: Settings) -> AsyncIterator[FastAPI]:
    built = create_app(notify_settings)
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def client(app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=share(app)), base_url="http://notify") as http:
        yield http


@pytest.fixture
def sessionmaker(
    request: pytest.FixtureRequest, engine: AsyncEngine, connection: AsyncConnection
) -> async_sessionmaker[AsyncSession]:
    """For the sender and the test's reads: on the test's rolled-back connection, or the real pool in a
    test marked ``committed`` (two senders at once, wake-ups by LISTEN/NOTIFY)."""
    if commits_for_real(request):
        return async_sessionmaker(engine, expire_on_commit=False)
    return async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@dataclass
class World:
    agency: Agency
    version: ProcedureVersion
    counter: Staff
    specialist: Staff
    leader: Staff
    dossier: Dossier


_PHONES = iter(range(10_000_000, 99_999_999))


def new_phone() -> str:
    return f"09{next(_PHONES):08d}"


async def create_world(
    session: AsyncSession, *, email: str | None = "default", phone: str | None = "default", channel: int = 1
) -> World:
    """An agency with a counter officer, a specialist and a leader (with an email), and a dossier of it."""
    agency = await create_agency(session, level="commune")
    version = await create_procedure_version(session)
    counter = await create_staff(session, agency=agency, roles=("counter",))
    specialist = await create_staff(session, agency=agency, roles=("specialist",))
    leader = await create_staff(
        session, agency=agency, roles=("head",), email=f"lanhdao.{uuid.uuid4().hex[:6]}@motcua.test"
    )
    dossier = await create_dossier(session, agency=agency, version=version, channel=channel)
    dossier.applicant_email = f"cd.{uuid.uuid4().hex[:8]}@example.vn" if email == "default" else email
    dossier.applicant_phone = new_phone() if phone == "default" else phone
    dossier.received_at = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    dossier.due_at = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 17:00 in Vietnam
    await session.flush()
    return World(agency, version, counter, specialist, leader, dossier)


async def deliver(
    client: httpx.AsyncClient,
    settings: Settings,
    event_type: str,
    *,
    dossier: Dossier | None = None,
    payload: dict[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
    source: str = "intake",
) -> httpx.Response:
    """POST one event to notify_api as the relay does."""
    event_id = event_id or uuid.uuid4()
    body = {
        "id": str(event_id),
        "type": event_type,
        "source": source,
        "dossier_id": str(dossier.id) if dossier else None,
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {
            **(
                {
                    "dossier_code": dossier.code,
                    "status": dossier.status,
                    "channel": dossier.channel,
                    "receiving_agency_id": str(dossier.receiving_agency_id),
                }
                if dossier
                else {}
            ),
            **(payload or {}),
        },
    }
    response = await client.post(
        EVENTS_PATH,
        json=body,
        headers={"Authorization": f"Bearer {service_token(settings, source)}", "Idempotency-Key": str(event_id)},
    )
    assert response.status_code == 200, response.text
    return response


async def notifications_of(sessionmaker: async_sessionmaker[AsyncSession], dossier: Dossier) -> list[Notification]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.dossier_id == dossier.id).order_by(Notification.created_at)
        )
        return list(rows)


def sender_for(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *dossiers: Dossier, name: str | None = None
) -> Sender:
    """A sender that only takes the notifications of these dossiers (other tests' rows stay untouched).

    Its claims and one-statement outcomes run straight on the test's rolled-back connection, as the worker's run
    on its asyncpg pool (``sender_task``); in a test marked ``committed``, on sessions of the real engine's pool,
    the other way ``fetch_alone`` has."""
    bind = sessionmaker.kw.get("bind")
    return Sender(
        sessionmaker,
        settings,
        channels=default_channels(settings),
        dossier_ids=[d.id for d in dossiers],
        name=name,
        pool=SharedCounters(bind) if isinstance(bind, AsyncConnection) else None,
    )


async def drain(
    sender: Sender, sessionmaker: async_sessionmaker[AsyncSession], *dossiers: Dossier, timeout: float = 15.0
) -> None:
    """Run the sender until none of these dossiers' notifications is queued."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    ids = [d.id for d in dossiers]
    while time.monotonic() < deadline:
        await sender.run_once()
        async with sessionmaker() as session:
            queued = await session.scalar(
                select(Notification.id)
                .where(Notification.dossier_id.in_(ids), Notification.status == "queued")
                .limit(1)
            )
        if queued is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("notifications still queued after the timeout")
