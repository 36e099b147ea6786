"""Outbound webhooks are no way in (issue 11, point 7): https only outside demo mode; inner addresses
(metadata service, loopback, private networks, the database) refused when a subscription is saved and
again when each webhook is sent, on the address actually connected to (DNS rebinding reaches nothing);
the target's answer is never stored or shown; personal data goes to the postal operator only; every
subscription change, replay, requeue and template publication is in the audit log."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notify_api.main import create_app
from services.core.config import Settings
from services.models import AuditLog, OutboxEvent, WebhookSubscription
from services.models.webhook import WebhookDelivery
from services.notification.webhook_dispatch import Dispatcher
from tests.db import TEST_ADMIN_ID
from tests.notify import conftest as notify_fixtures
from tests.notify.conftest import create_world, deliver
from tests.tokens import bearer_for

# the dispatcher is a worker: its claims and leases are real transactions
pytestmark = pytest.mark.committed

# notify_api in the test process, as tests/notify has it (fixtures are found by their module-level names)
smtp, gateway, notify_settings = notify_fixtures.smtp, notify_fixtures.gateway, notify_fixtures.notify_settings
app, client, sessionmaker = notify_fixtures.app, notify_fixtures.client, notify_fixtures.sessionmaker


class Receiver:
    """A real HTTP server on ``host``:``port`` that records what reaches it and answers ``status`` + ``body``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, status: int = 200, body: bytes = b"{}") -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                content = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, content))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def receiver(receivers: list[Receiver], **kwargs: Any) -> Receiver:
    started = Receiver(**kwargs)
    receivers.append(started)
    return started


@pytest.fixture(scope="module")
def strict_settings(notify_settings: Settings) -> Settings:
    """Production rules: demo off (https only), no loopback allowance, one partner network allowed."""
    return notify_settings.with_changes(
        demo=False,
        clock_file=None,
        auth={"jwt_secret": SecretStr("a-production-secret-of-more-than-32-bytes")},
        webhooks={"allow_loopback": False, "allowed_networks": "10.20.0.0/16"},
    )


@pytest.fixture(scope="module")
async def strict_app(strict_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(strict_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def strict(strict_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict_app), base_url="http://notify") as client:
        yield client


def subscription(url: str, **overrides: Any) -> dict[str, Any]:
    return {"name": f"hook-{uuid.uuid4().hex[:8]}", "url": url, "secret_ref": "webhook_signing_secret",
            "event_types": ["dossier.resolved"], **overrides}  # fmt: skip


@pytest.mark.parametrize(
    ("url", "code", "reason"),
    [
        ("http://hooks.example.vn/motcua", "webhook_url_insecure", None),
        ("https://169.254.169.254/latest/meta-data/iam/", "webhook_target_forbidden", "link_local"),
        ("https://127.0.0.1:8002/internal/v1/events", "webhook_target_forbidden", "loopback"),
        ("https://localhost:8443/", "webhook_target_forbidden", "loopback"),
        ("https://10.0.0.5/", "webhook_target_forbidden", "private"),
        ("https://192.168.1.1/", "webhook_target_forbidden", "private"),
        ("https://100.64.0.1/", "webhook_target_forbidden", "not_global"),
        ("https://0.0.0.0/", "webhook_target_forbidden", "unspecified"),
        ("https://224.0.0.1/", "webhook_target_forbidden", "multicast"),
        ("https://[::ffff:169.254.169.254]/", "webhook_target_forbidden", "link_local"),
        ("https://[64:ff9b::a9fe:a9fe]/", "webhook_target_forbidden", "link_local"),
        ("https://[fd00::1]/", "webhook_target_forbidden", "private"),
        ("https://no-such-host.invalid/", "webhook_target_unresolvable", None),
    ],
)
async def test_inner_addresses_are_refused_when_subscribing(
    strict: httpx.AsyncClient, strict_settings: Settings, url: str, code: str, reason: str | None
) -> None:
    response = await strict.post("/api/v1/webhook-subscriptions", json=subscription(url),
                                 headers=bearer_for(strict_settings))  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    if reason is not None:
        assert response.json()["reason"] == reason


async def test_an_allowed_partner_network_is_accepted(strict: httpx.AsyncClient, strict_settings: Settings) -> None:
    name = f"partner-{uuid.uuid4().hex[:6]}"
    body = subscription("https://10.20.3.4/hooks", name=name, active=False)
    response = await strict.post("/api/v1/webhook-subscriptions", json=body, headers=bearer_for(strict_settings))
    assert response.status_code == 200, response.text


async def test_the_database_is_refused_even_where_the_demo_receivers_share_its_address(
    client: httpx.AsyncClient, notify_settings: Settings
) -> None:
    database = make_url(notify_settings.db.resolved_url())
    url = f"http://{database.host}:{database.port or 5432}/"
    response = await client.post("/api/v1/webhook-subscriptions", json=subscription(url),
                                 headers=bearer_for(notify_settings))  # fmt: skip
    assert (response.status_code, response.json()["code"], response.json().get("reason")) == (
        422, "webhook_target_forbidden", "database")  # fmt: skip


async def settle(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, ids: list[uuid.UUID]) -> None:
    """Run a dispatcher for these subscriptions until none of their deliveries is due."""
    quick = settings.with_changes(webhooks={"max_attempts": 1})
    async with Dispatcher(sessionmaker, quick, subscription_ids=ids) as dispatcher:
        for _ in range(200):
            await dispatcher.run_once()
            async with sessionmaker() as session:
                pending = await session.scalar(
                    select(WebhookDelivery.id)
                    .where(WebhookDelivery.subscription_id.in_(ids), WebhookDelivery.status == "pending")
                    .limit(1)
                )
            if pending is None:
                return
            await asyncio.sleep(0.02)
    raise AssertionError("deliveries still pending")


async def stored_subscription(sessionmaker: async_sessionmaker[AsyncSession], **values: Any) -> uuid.UUID:
    """A subscription written straight to the table (saved before these rules, or pointed elsewhere since)."""
    async with sessionmaker() as session, session.begin():
        row = WebhookSubscription(name=f"legacy-{uuid.uuid4().hex[:8]}", secret_ref="webhook_signing_secret",
                                  active=True, **values)  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def deactivate(sessionmaker: async_sessionmaker[AsyncSession], *ids: uuid.UUID) -> None:
    async with sessionmaker() as session, session.begin():
        for subscription_id in ids:
            row = await session.get(WebhookSubscription, subscription_id)
            assert row is not None
            row.active = False


async def test_the_address_is_checked_again_when_sending_and_the_answer_is_never_kept(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    receivers: list[Receiver],
) -> None:
    metadata = receiver(receivers, body=b'{"AccessKeyId": "ASIA-LEAKED", "SecretAccessKey": "wJalr-LEAKED"}')
    chatty = receiver(receivers, status=500, body=b'{"error": "db password is hunter2-LEAKED"}')
    inside = await stored_subscription(sessionmaker, url=f"http://127.0.0.1:{metadata.port}/latest/meta-data",
                                       event_types=["dossier.resolved"])  # fmt: skip
    answering = await stored_subscription(sessionmaker, url=f"http://127.0.0.1:{chatty.port}/hooks",
                                          event_types=["dossier.resolved"])  # fmt: skip
    production = notify_settings.with_changes(webhooks={"allow_loopback": False})
    try:
        world = await create_world(session)
        await session.commit()
        await deliver(client, notify_settings, "dossier.resolved", dossier=world.dossier, source="workflow")
        await settle(sessionmaker, production, [inside])  # loopback not allowed: nothing may reach it
        await settle(sessionmaker, notify_settings, [answering])  # a reachable subscriber answering 500
    finally:
        await deactivate(sessionmaker, inside, answering)

    assert metadata.seen == []
    admin = bearer_for(notify_settings)
    [refused] = (await client.get(f"/api/v1/webhook-subscriptions/{inside}/deliveries", headers=admin)).json()["items"]
    assert (refused["status"], refused["last_status_code"], refused["last_error"]) == (
        "failed", None, "refused: loopback")  # fmt: skip
    assert len(chatty.seen) == 1
    log = await client.get(f"/api/v1/webhook-subscriptions/{answering}/deliveries", headers=admin)
    [failed] = log.json()["items"]
    assert (failed["status"], failed["last_status_code"], failed["last_error"]) == ("failed", 500, "HTTP 500")
    assert "LEAKED" not in log.text
    async with sessionmaker() as db:
        errors = list(await db.scalars(select(WebhookDelivery.last_error).where(
            WebhookDelivery.subscription_id.in_([inside, answering]))))  # fmt: skip
    assert not any("LEAKED" in (error or "") for error in errors)


async def test_outside_demo_mode_nothing_is_sent_over_plain_http(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    receivers: list[Receiver],
) -> None:
    plain = receiver(receivers)
    hook = await stored_subscription(sessionmaker, url=f"http://127.0.0.1:{plain.port}/hooks",
                                     event_types=["dossier.resolved"])  # fmt: skip
    production = notify_settings.with_changes(demo=False, webhooks={"allowed_networks": "127.0.0.1/32"})
    try:
        world = await create_world(session)
        await session.commit()
        await deliver(client, notify_settings, "dossier.resolved", dossier=world.dossier, source="workflow")
        await settle(sessionmaker, production, [hook])
    finally:
        await deactivate(sessionmaker, hook)
    assert plain.seen == []
    [entry] = (await client.get(f"/api/v1/webhook-subscriptions/{hook}/deliveries",
                                headers=bearer_for(notify_settings))).json()["items"]  # fmt: skip
    assert (entry["status"], entry["last_error"]) == ("failed", "refused: insecure_scheme")
    with pytest.raises(RuntimeError, match="POSTAL_API_URL"):
        production.with_changes(
            clock_file=None,
            postal={"api_url": "http://post.example.vn/api"},
            webhooks={"allow_loopback": False},
            auth={"jwt_secret": SecretStr("a-production-secret-of-more-than-32-bytes")},
        ).refuse_unsafe_start()


async def test_dns_rebinding_reaches_only_the_address_that_was_checked(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    receivers: list[Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partner = receiver(receivers)
    internal = receiver(receivers, host="127.0.0.2", port=partner.port)  # the same port, another address
    # the DNS answers the partner's address once, then an inside one: a rebinding attacker's name server
    answers: deque[str] = deque(["127.0.0.1", "127.0.0.2"])
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "partner.rebind.test":
            host = answers.popleft() if len(answers) > 1 else answers[0]
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    # production rules, the partner's address allowed by the operator, the rest of loopback not
    production = notify_settings.with_changes(webhooks={"allow_loopback": False, "allowed_networks": "127.0.0.1/32"})
    hook = await stored_subscription(sessionmaker, url=f"http://partner.rebind.test:{partner.port}/hooks",
                                     event_types=["dossier.resolved"])  # fmt: skip
    try:
        world = await create_world(session)
        await session.commit()
        await deliver(client, notify_settings, "dossier.resolved", dossier=world.dossier, source="workflow")
        await settle(sessionmaker, production, [hook])
    finally:
        await deactivate(sessionmaker, hook)
    assert internal.seen == []
    [(_, headers, _)] = partner.seen
    assert headers["host"] == f"partner.rebind.test:{partner.port}"  # the name kept, the checked address used


async def test_personal_data_goes_to_the_postal_operator_only(
    client: httpx.AsyncClient,
    notify_settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    receivers: list[Receiver],
) -> None:
    admin = bearer_for(notify_settings)
    taker = receiver(receivers)
    url = f"http://127.0.0.1:{taker.port}/hooks"
    for body, code in [
        (subscription(url, event_types=["postal.pickup_requested"]), "event_type_reserved"),
        (subscription(url, name="postal", event_types=["dossier.resolved"]), "subscription_reserved"),
    ]:
        response = await client.post("/api/v1/webhook-subscriptions", json=body, headers=admin)
        assert (response.status_code, response.json()["code"]) == (422, code)

    # a subscription that took the postal types before these rules: never given a pickup address
    legacy = await stored_subscription(sessionmaker, url=url,
                                       event_types=["postal.pickup_requested", "dossier.submitted"])  # fmt: skip
    try:
        world = await create_world(session, channel=3)
        world.dossier.postal_address = "Số 5 ngõ 3 Cầu Đất, phường Ngô Quyền, Hải Phòng"
        await session.commit()
        await deliver(client, notify_settings, "dossier.submitted", dossier=world.dossier)
        await settle(sessionmaker, notify_settings, [legacy])
    finally:
        await deactivate(sessionmaker, legacy)
    sent = [json.loads(body) for _, _, body in taker.seen]
    assert [message["type"] for message in sent] == ["dossier.submitted"]
    assert "Cầu Đất" not in json.dumps(sent, ensure_ascii=False)
    assert world.dossier.applicant_phone not in json.dumps(sent)


async def audit_of(session: AsyncSession, action: str, resource: str) -> AuditLog | None:
    return await session.scalar(select(AuditLog).where(AuditLog.action == action, AuditLog.resource == resource))


async def test_subscription_changes_replays_requeues_and_template_publications_are_audited(
    client: httpx.AsyncClient,
    workflow: httpx.AsyncClient,
    notify_settings: Settings,
    settings: Settings,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    receivers: list[Receiver],
    bearer: Any,
) -> None:
    admin = bearer_for(notify_settings)
    for role in ("counter", "head", "leader", "specialist"):
        other = bearer_for(notify_settings, roles=[role])
        assert (await client.post("/api/v1/webhook-subscriptions", json=subscription("https://example.vn/h"),
                                  headers=other)).status_code == 403  # fmt: skip
    target = receiver(receivers, status=500)
    body = subscription(f"http://127.0.0.1:{target.port}/hooks?token=abc", event_types=["dossier.stopped"])
    created = (await client.post("/api/v1/webhook-subscriptions", json=body, headers=admin)).json()
    changed = await client.post("/api/v1/webhook-subscriptions", json={**body, "active": False}, headers=admin)
    assert changed.status_code == 200
    resource = f"webhook_subscription:{created['id']}"
    create_entry = await audit_of(session, "webhook_subscription_create", resource)
    update_entry = await audit_of(session, "webhook_subscription_update", resource)
    assert create_entry is not None
    assert update_entry is not None
    assert create_entry.actor_staff_id == uuid.UUID(TEST_ADMIN_ID)
    assert (update_entry.detail["before"]["active"], update_entry.detail["after"]["active"]) == (True, False)
    assert "token=abc" not in json.dumps(update_entry.detail)

    # a failed delivery, replayed
    await client.post("/api/v1/webhook-subscriptions", json=body, headers=admin)
    hook = uuid.UUID(created["id"])
    try:
        world = await create_world(session)
        await session.commit()
        await deliver(client, notify_settings, "dossier.stopped", dossier=world.dossier, source="workflow",
                      payload={"reasons": ["Không đủ điều kiện"]})  # fmt: skip
        await settle(sessionmaker, notify_settings, [hook])
    finally:
        await deactivate(sessionmaker, hook)
    [entry] = (await client.get(f"/api/v1/webhook-subscriptions/{hook}/deliveries", headers=admin)).json()["items"]
    assert (await client.post(f"/api/v1/webhook-deliveries/{entry['id']}/replay", headers=admin)).status_code == 200
    replayed = await audit_of(session, "webhook_delivery_replay", f"webhook_delivery:{entry['id']}")
    assert replayed is not None
    assert replayed.dossier_id == world.dossier.id

    # a template published (then the text in use published again: the database is shared with other tests)
    which = {"event_type": "dossier.withdrawn", "channel": "email", "locale": "en"}
    [current] = (await client.get("/api/v1/notification-templates", params=which, headers=admin)).json()
    published = await client.post(
        "/api/v1/notification-templates",
        headers=admin,
        json={**which, "subject": "Withdrawn", "body": "{{ dossier_code }} withdrawn."},
    )
    restored = await client.post(
        "/api/v1/notification-templates",
        headers=admin,
        json={**which, "subject": current["subject"], "body": current["body"]},
    )
    assert (published.status_code, restored.status_code) == (201, 201), published.text
    assert await audit_of(session, "notification_template_publish", f"notification_template:{published.json()['id']}")

    # a parked outbox event, requeued on workflow_api
    async with sessionmaker() as db, db.begin():
        parked = OutboxEvent(event_type="dossier.received", source="test-audit", destination="notify",
                             payload={}, status="parked", attempts=8)  # fmt: skip
        db.add(parked)
    requeued = await workflow.post(f"/api/v1/outbox/{parked.id}/requeue", headers=bearer(world.leader, ["admin"]))
    assert requeued.status_code == 200, requeued.text
    async with sessionmaker() as db, db.begin():
        row = await db.get(OutboxEvent, parked.id)
        assert row is not None
        row.status = "parked"  # out of the way of the real relays
    entry_requeue = await audit_of(session, "outbox_requeue", f"outbox_event:{parked.id}")
    assert entry_requeue is not None
    assert entry_requeue.actor_staff_id == world.leader.id
