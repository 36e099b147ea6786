"""Outbound webhooks against real HTTP servers in the test process: Standard Webhooks signatures, retries
of a subscriber answering 500 (none of one answering 200), the delivery log, replay, and the postal
operator asked for a pickup, whose signed webhooks then move the dossier on in intake_api."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from intake_api.main import create_app as create_intake
from services.core.auth import service_token
from services.core.config import Settings
from services.models import Dossier, OutboxEvent, WebhookSubscription
from services.models.webhook import WebhookDelivery
from services.notification.outbound import ensure_postal_subscription
from services.notification.webhook_dispatch import Dispatcher
from services.outbox.relay import EVENTS_PATH, Claimed
from tests.intake.setup import create_desk, submission
from tests.intake.test_webhooks import POSTAL_SECRET, postal_event, sign
from tests.notify.conftest import POSTAL_API_SECRET, SIGNING_SECRET, create_world, deliver
from tests.notify.fakes import HttpRecorder, Seen
from tests.tokens import bearer_for


@pytest.fixture
def servers() -> Iterator[list[HttpRecorder]]:
    started: list[HttpRecorder] = []
    yield started
    for server in started:
        server.stop()


def serve(servers: list[HttpRecorder], respond: Any) -> HttpRecorder:
    server = HttpRecorder(respond).start()
    servers.append(server)
    return server


async def subscribe(client: httpx.AsyncClient, settings: Settings, name: str, url: str, types: list[str]) -> str:
    response = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"name": name, "url": url, "secret_ref": "webhook_signing_secret", "event_types": types},
        headers=bearer_for(settings),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def dispatch_until_settled(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, ids: list[str], timeout: float = 10
) -> None:
    async with Dispatcher(sessionmaker, settings, subscription_ids=[uuid.UUID(i) for i in ids]) as dispatcher:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await dispatcher.run_once()
            async with sessionmaker() as session:
                pending = await session.scalar(
                    select(WebhookDelivery.id)
                    .where(
                        WebhookDelivery.subscription_id.in_([uuid.UUID(i) for i in ids]),
                        WebhookDelivery.status == "pending",
                    )
                    .limit(1)
                )
            if pending is None:
                return
            time.sleep(0.02)
    raise AssertionError("deliveries still pending")


async def deactivate(sessionmaker: async_sessionmaker[AsyncSession], *names: str) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(WebhookSubscription).where(WebhookSubscription.name.in_(names)).values(active=False)
        )


def verified(seen: Seen, secret: str) -> dict[str, Any]:
    """What standardwebhooks makes of the request: raises unless the signature verifies."""
    return dict(Webhook(secret).verify(seen.body, seen.headers))


@pytest.mark.committed  # the dispatcher is a worker: its claims and leases are real transactions
async def test_a_500_is_retried_a_200_is_not_and_signatures_verify(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    servers: list[HttpRecorder],
) -> None:
    calls = {"n": 0}

    def flaky_answer(seen: Seen) -> tuple[int, dict[str, Any]]:
        calls["n"] += 1
        return (500, {}) if calls["n"] <= 2 else (200, {})

    flaky, steady = serve(servers, flaky_answer), serve(servers, lambda seen: (200, {}))
    suffix = uuid.uuid4().hex[:6]
    ids = [
        await subscribe(client, notify_settings, f"flaky-{suffix}", flaky.url + "/hooks", ["dossier.resolved"]),
        await subscribe(client, notify_settings, f"steady-{suffix}", steady.url + "/hooks", ["dossier.resolved"]),
    ]
    try:
        world = await create_world(session)
        await session.commit()
        event_id = uuid.uuid4()
        for _ in range(2):  # delivered to notify twice: still one webhook per subscriber
            await deliver(client, notify_settings, "dossier.resolved", dossier=world.dossier, source="workflow",
                          payload={"outcome": "on_time"}, event_id=event_id)  # fmt: skip
        await dispatch_until_settled(sessionmaker, notify_settings, ids)
    finally:
        await deactivate(sessionmaker, f"flaky-{suffix}", f"steady-{suffix}")

    assert len(steady.requests()) == 1
    assert len(flaky.requests()) == 3
    assert len({seen.headers["webhook-id"] for seen in flaky.requests()}) == 1  # one id across the retries
    for seen in [*flaky.requests(), *steady.requests()]:
        body = verified(seen, SIGNING_SECRET)
        assert body["type"] == "dossier.resolved"
        assert body["data"]["dossier_code"] == world.dossier.code
        assert body["data"]["outcome"] == "on_time"
    with pytest.raises(Exception):  # noqa: B017, PT011 - any verification error
        verified(steady.requests()[0], POSTAL_API_SECRET)

    log = await client.get(f"/api/v1/webhook-subscriptions/{ids[0]}/deliveries", headers=bearer_for(notify_settings))
    assert log.status_code == 200
    assert log.json()["counts"] == {"delivered": 1}
    [entry] = log.json()["items"]
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 3, 200)
    assert entry["id"] == flaky.requests()[0].headers["webhook-id"]


@pytest.mark.committed  # the dispatcher is a worker: its claims and leases are real transactions
async def test_failed_deliveries_are_listed_and_replayed(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    servers: list[HttpRecorder],
) -> None:
    state = {"up": False}
    broken = serve(servers, lambda seen: (200, {}) if state["up"] else (500, {"error": "maintenance"}))
    name = f"broken-{uuid.uuid4().hex[:6]}"
    ids = [await subscribe(client, notify_settings, name, broken.url, ["dossier.stopped"])]
    admin = bearer_for(notify_settings)
    try:
        world = await create_world(session)
        await session.commit()
        await deliver(client, notify_settings, "dossier.stopped", dossier=world.dossier, source="workflow",
                      payload={"reasons": ["Không đủ điều kiện"]})  # fmt: skip
        await dispatch_until_settled(sessionmaker, notify_settings, ids)
        failed = (await client.get(f"/api/v1/webhook-subscriptions/{ids[0]}/deliveries", params={"status": "failed"},
                                   headers=admin)).json()  # fmt: skip
        [entry] = failed["items"]
        assert (entry["attempts"], entry["last_status_code"]) == (notify_settings.webhooks.max_attempts, 500)
        assert entry["last_error"].startswith("HTTP 500")
        assert entry["failed_at"]
        assert len(broken.requests()) == notify_settings.webhooks.max_attempts

        state["up"] = True
        replayed = await client.post(f"/api/v1/webhook-deliveries/{entry['id']}/replay", headers=admin)
        assert replayed.status_code == 200
        assert replayed.json()["status"] == "pending"
        again = await client.post(f"/api/v1/webhook-deliveries/{entry['id']}/replay", headers=admin)
        assert again.status_code == 409
        await dispatch_until_settled(sessionmaker, notify_settings, ids)
    finally:
        await deactivate(sessionmaker, name)
    log = (await client.get(f"/api/v1/webhook-subscriptions/{ids[0]}/deliveries", headers=admin)).json()
    assert log["counts"] == {"delivered": 1}
    assert broken.requests()[-1].headers["webhook-id"] == entry["id"]
    assert verified(broken.requests()[-1], SIGNING_SECRET)["data"]["reasons"] == ["Không đủ điều kiện"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"secret_ref": "jwt_secret"}, 422, "invalid_secret_ref"),
        ({"secret_ref": "payment_webhook_secret"}, 422, "invalid_secret_ref"),
        ({"event_types": ["dossier.teleported"]}, 422, "unknown_event_type"),
        ({"url": "ftp://example.vn/x"}, 422, "validation_error"),
    ],
)
async def test_subscriptions_are_checked(
    client: httpx.AsyncClient, notify_settings: Settings, body: dict[str, Any], status: int, code: str
) -> None:
    data = {"name": "checked", "url": "https://example.vn/hooks", "secret_ref": "webhook_signing_secret",
            "event_types": ["dossier.resolved"], **body}  # fmt: skip
    response = await client.post("/api/v1/webhook-subscriptions", json=data, headers=bearer_for(notify_settings))
    assert (response.status_code, response.json()["code"]) == (status, code)
    counter = bearer_for(notify_settings, roles=["counter"])
    assert (await client.get("/api/v1/webhook-subscriptions", headers=counter)).status_code == 403


# --- the postal operator, end to end ---------------------------------------------------------------------


@pytest.fixture(scope="module")
async def intake_with_postal(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_intake(settings.with_changes(postal={"webhook_secret": SecretStr(POSTAL_SECRET)}))
    async with app.router.lifespan_context(app):
        yield app


async def relay_to_notify(sessionmaker: async_sessionmaker[AsyncSession], notify: httpx.AsyncClient, code: str) -> int:
    """Deliver the dossier's pending events for notify, as intake's relay would."""
    async with sessionmaker() as session, session.begin():
        events = list(
            await session.scalars(
                select(OutboxEvent)
                .join(Dossier, Dossier.id == OutboxEvent.dossier_id)
                .where(Dossier.code == code, OutboxEvent.destination == "notify", OutboxEvent.status == "pending")
                .order_by(OutboxEvent.created_at)
                .with_for_update(of=OutboxEvent)
            )
        )
        for event in events:
            claimed = Claimed(event.id, event.event_type, event.source, event.destination, event.dossier_id,
                              dict(event.payload), event.created_at, 1)  # fmt: skip
            headers = {"Authorization": f"Bearer {service_token(notify_settings_of(notify), event.source)}"}
            response = await notify.post(EVENTS_PATH, json=claimed.envelope(), headers=headers)
            assert response.status_code == 200, response.text
            event.status = "delivered"
    return len(events)


def notify_settings_of(client: httpx.AsyncClient) -> Settings:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    settings: Settings = transport.app.state.settings  # type: ignore[attr-defined]
    return settings


@pytest.mark.committed  # the dispatcher is a worker: its claims and leases are real transactions
async def test_the_postal_operator_is_asked_for_a_pickup_and_its_webhooks_move_the_dossier(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    servers: list[HttpRecorder],
    intake_with_postal: FastAPI,
) -> None:
    operator = serve(servers, lambda seen: (202, {"request_id": "VNP-1"}))
    postal = notify_settings.with_changes(postal={"api_url": operator.url + "/v1/requests"})
    async with sessionmaker() as db, db.begin():
        await ensure_postal_subscription(db, postal)
        subscription = await db.scalar(select(WebhookSubscription).where(WebhookSubscription.name == "postal"))
        assert subscription is not None
        subscription.active = True
    desk = await create_desk(session)
    await session.commit()
    address = "Số 5 ngõ 3 Cầu Đất, phường Ngô Quyền, Hải Phòng"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=intake_with_postal, client=("198.51.100.7", 1)), base_url="http://intake"
        ) as intake:
            created = await intake.post(
                "/api/v1/dossiers",
                json=submission(desk, pickup_by_post=True, return_method="postal", postal_address=address),
            )
            assert created.status_code == 201, created.text
            code = created.json()["code"]
            assert await relay_to_notify(sessionmaker, client, code) >= 1
            await dispatch_until_settled(sessionmaker, postal, [str(subscription.id)])

            [request] = operator.requests()
            assert request.path == "/v1/requests"
            body = verified(request, POSTAL_API_SECRET)  # the operator checks our signature
            assert body["type"] == "postal.pickup_requested"
            data = body["data"]
            assert (data["dossier_code"], data["service"], data["agency_code"]) == (code, "pickup", desk.agency.code)
            assert data["contact"] == {"name": "Nguyễn Thị Thu Hà", "phone": "0912345678", "address": address}
            async with sessionmaker() as db:
                stored = await db.scalar(
                    select(WebhookDelivery).where(WebhookDelivery.id == uuid.UUID(request.headers["webhook-id"]))
                )
            assert stored is not None
            assert "contact" not in stored.payload

            # the operator picks the dossier up and hands it over, reporting each step by signed webhook
            for kind in ("pickup.picked_up", "pickup.handed_over"):
                signed = sign("postal", postal_event(kind, code, datetime.now(UTC), "EB123456789VN"))
                answer = await intake.post(signed.path, content=signed.content, headers=signed.headers)
                assert answer.json()["outcome"] == "applied", answer.text
            tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": created.json()["secret"]})).json()
            assert tracked["status"] == "received"
    finally:
        await deactivate(sessionmaker, "postal")

    # the result is ready and goes back by post: a delivery is requested
    async with sessionmaker() as db:
        dossier = await db.scalar(select(Dossier).where(Dossier.code == code))
    assert dossier is not None
    async with sessionmaker() as db, db.begin():
        await db.execute(update(WebhookSubscription).where(WebhookSubscription.name == "postal").values(active=True))
    try:
        await deliver(client, notify_settings, "dossier.resolved", dossier=dossier, source="workflow",
                      payload={"outcome": "early"})  # fmt: skip
        await dispatch_until_settled(sessionmaker, postal, [str(subscription.id)])
    finally:
        await deactivate(sessionmaker, "postal")
    delivery = verified(operator.requests()[-1], POSTAL_API_SECRET)
    assert (delivery["type"], delivery["data"]["service"]) == ("postal.delivery_requested", "delivery")
    assert delivery["data"]["contact"]["address"] == address
