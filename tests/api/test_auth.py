"""Staff sign-in on workflow_api; tokens accepted by all three services; failures audited and throttled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import issue_token
from services.core.config import Settings
from services.models import AuditLog
from tests.factories import create_agency, create_staff


async def login(workflow: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await workflow.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_login_issues_a_token_all_three_services_accept(
    workflow: httpx.AsyncClient, intake: httpx.AsyncClient, notify: httpx.AsyncClient, session: AsyncSession
) -> None:
    agency = await create_agency(session)
    staff = await create_staff(session, agency=agency, roles=("counter", "specialist"), password="mật khẩu đúng")
    await session.commit()

    response = await login(workflow, staff.username, "mật khẩu đúng")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["roles"] == ["counter", "specialist"]
    assert body["agency_code"] == agency.code
    assert 0 < body["expires_in"] <= 3600
    headers = {"Authorization": f"Bearer {body['access_token']}"}

    me = (await workflow.get("/api/v1/auth/me", headers=headers)).json()
    assert me["username"] == staff.username
    assert me["agency_id"] == str(agency.id)
    assert (await notify.get("/api/v1/notifications", headers=headers)).status_code == 200
    # intake verifies the same token: its service-only endpoint refuses a staff token with 403, not 401
    denied = await intake.post("/internal/v1/events", headers=headers, json={})
    assert denied.status_code == 403

    logins = await session.scalars(
        select(AuditLog).where(AuditLog.username == staff.username, AuditLog.action == "login_ok")
    )
    entry = logins.one()
    assert entry.client_ip is not None
    assert entry.client_ip.startswith("198.18.")


async def test_expired_token_is_refused(workflow: httpx.AsyncClient, settings: Settings) -> None:
    token, _ = issue_token(
        settings,
        subject="00000000-0000-0000-0000-000000000001",
        username="old",
        roles=["admin"],
        agency_id=None,
        agency_code=None,
        now=datetime.now(UTC) - timedelta(hours=2),
        ttl=timedelta(minutes=30),
    )
    response = await workflow.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


async def test_token_signed_with_another_secret_is_refused(workflow: httpx.AsyncClient, settings: Settings) -> None:
    other = Settings(demo=True).with_changes(
        db={"url": settings.db.url}, auth={"jwt_secret": "someone-else-entirely-with-a-long-secret-value"}
    )
    token, _ = issue_token(other, subject="x", username="x", roles=["admin"], agency_id=None, agency_code=None)
    response = await workflow.get("/api/v1/outbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


# the audit rows are ordered by their time, a server-side now(): it stands still inside one transaction
@pytest.mark.committed
async def test_failed_logins_are_audited_then_slowed_but_the_owner_gets_in(
    workflow: httpx.AsyncClient, session: AsyncSession, settings: Settings, travel: Any
) -> None:
    agency = await create_agency(session)
    staff = await create_staff(session, agency=agency, password="right")
    await session.commit()
    start = datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC)
    travel(start)

    for _ in range(settings.login.account_free_failures + 1):  # the free failures, then one spaced attempt
        response = await login(workflow, staff.username, "wrong")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    # within the same spacing slot even the right password must wait, briefly
    throttled = await login(workflow, staff.username, "right")
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["code"] == "too_many_attempts"
    assert 1 <= int(throttled.headers["retry-after"]) <= settings.login.account_spacing_seconds
    travel(start + timedelta(seconds=settings.login.account_spacing_seconds))
    assert (await login(workflow, staff.username, "right")).status_code == 200

    actions = (
        await session.scalars(select(AuditLog.action).where(AuditLog.username == staff.username).order_by(AuditLog.at))
    ).all()
    assert actions.count("login_failed") == settings.login.account_free_failures + 1
    assert "login_throttled" in actions
    assert actions[-1] == "login_ok"


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(workflow: httpx.AsyncClient) -> None:
    response = await login(workflow, "no.such.user", "whatever")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_denied_authorisation_is_audited(workflow: httpx.AsyncClient, session: AsyncSession, bearer) -> None:  # type: ignore[no-untyped-def]
    agency = await create_agency(session)
    staff = await create_staff(session, agency=agency, roles=("counter",))
    await session.commit()
    assert (await workflow.get("/api/v1/outbox", headers=bearer(staff))).status_code == 403
    denied = await session.scalars(
        select(AuditLog).where(AuditLog.actor_staff_id == staff.id, AuditLog.action == "denied")
    )
    entry = denied.one()
    assert entry.resource == "GET /api/v1/outbox"
    assert entry.service == "workflow"
