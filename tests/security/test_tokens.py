"""Issue 11.4: tokens do not outlive what they say — logout, deactivation, a role or agency change and a
password reset make older tokens fail on all three services within 5 s; and 11.14's keys per purpose."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import issue_token, purpose_key, service_token
from services.core.config import Settings
from services.models import Dossier
from tests.factories import create_agency, create_staff
from tests.intake.setup import Desk, submission
from tests.security.conftest import client_at

REVOCATION_BOUND_SECONDS = 5.0


async def _sign_in(workflow_app: FastAPI, username: str, password: str) -> dict[str, str]:
    async with client_at(workflow_app) as officer:
        answer = await officer.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _status_on_each_service(apps: dict[str, FastAPI], headers: dict[str, str]) -> dict[str, int]:
    probes = {"workflow": "/api/v1/auth/me", "intake": "/api/v1/desk/dossiers", "notify": "/api/v1/notifications"}
    statuses = {}
    for service, path in probes.items():
        async with client_at(apps[service]) as client:
            statuses[service] = (await client.get(path, headers=headers)).status_code
    return statuses


async def _refused_everywhere_within_bound(apps: dict[str, FastAPI], headers: dict[str, str]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < REVOCATION_BOUND_SECONDS:
        if set((await _status_on_each_service(apps, headers)).values()) == {401}:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"still accepted after {REVOCATION_BOUND_SECONDS} s: {await _status_on_each_service(apps, headers)}"
    )


Change = Callable[[httpx.AsyncClient, httpx.AsyncClient, str, dict[str, str], dict[str, str]], Awaitable[Any]]


async def _logout(workflow: httpx.AsyncClient, _: httpx.AsyncClient, __: str, own: dict[str, str], ___: Any) -> Any:
    assert (await workflow.post("/api/v1/auth/logout", headers=own)).status_code == 204


async def _deactivate(workflow: httpx.AsyncClient, _: Any, username: str, __: Any, admin: dict[str, str]) -> Any:
    answer = await workflow.patch(f"/api/v1/staff/{username}", json={"active": False}, headers=admin)
    assert answer.status_code == 200, answer.text


async def _new_role(workflow: httpx.AsyncClient, _: Any, username: str, __: Any, admin: dict[str, str]) -> Any:
    answer = await workflow.patch(f"/api/v1/staff/{username}", json={"roles": ["specialist"]}, headers=admin)
    assert answer.status_code == 200, answer.text


async def _new_password(workflow: httpx.AsyncClient, _: Any, username: str, __: Any, admin: dict[str, str]) -> Any:
    answer = await workflow.post(
        f"/api/v1/staff/{username}/password", json={"password": "một mật khẩu mới"}, headers=admin
    )
    assert answer.status_code == 204, answer.text


@pytest.mark.parametrize("change", [_logout, _deactivate, _new_role, _new_password, "agency"])
async def test_older_tokens_stop_working_on_every_service(
    change: Change | str,
    session: AsyncSession,
    intake_app: FastAPI,
    workflow_app: FastAPI,
    notify_app: FastAPI,
    bearer: Any,
) -> None:
    apps = {"intake": intake_app, "workflow": workflow_app, "notify": notify_app}
    agency, elsewhere = await create_agency(session), await create_agency(session)
    officer = await create_staff(session, agency=agency, roles=("counter", "specialist"), password="mật khẩu đúng")
    admin = await create_staff(session, agency=agency, roles=("admin",))
    await session.commit()
    own = await _sign_in(workflow_app, officer.username, "mật khẩu đúng")
    assert await _status_on_each_service(apps, own) == {"workflow": 200, "intake": 200, "notify": 200}

    async with client_at(workflow_app) as workflow, client_at(intake_app) as intake:
        if change == "agency":
            moved = await workflow.patch(
                f"/api/v1/staff/{officer.username}", json={"agency_code": elsewhere.code}, headers=bearer(admin)
            )
            assert moved.status_code == 200, moved.text
        else:
            assert callable(change)
            await change(workflow, intake, officer.username, own, bearer(admin))
    took = await _refused_everywhere_within_bound(apps, own)
    assert took < REVOCATION_BOUND_SECONDS
    async with client_at(workflow_app) as workflow:
        refused = await workflow.get("/api/v1/auth/me", headers=own)
    assert refused.json()["code"] == "token_revoked"


async def test_a_new_sign_in_after_logout_works(session: AsyncSession, workflow_app: FastAPI) -> None:
    agency = await create_agency(session)
    officer = await create_staff(session, agency=agency, roles=("counter",), password="mật khẩu đúng")
    await session.commit()
    first = await _sign_in(workflow_app, officer.username, "mật khẩu đúng")
    async with client_at(workflow_app) as workflow:
        assert (await workflow.post("/api/v1/auth/logout", headers=first)).status_code == 204
    second = await _sign_in(workflow_app, officer.username, "mật khẩu đúng")
    async with client_at(workflow_app) as workflow:
        assert (await workflow.get("/api/v1/auth/me", headers=second)).status_code == 200


async def test_a_token_for_one_purpose_is_refused_for_another(
    settings: Settings, workflow_app: FastAPI, intake_app: FastAPI
) -> None:
    # a token signed with the master secret itself (the old single key) is refused
    claims = {"iss": settings.auth.jwt_issuer, "sub": "x", "roles": ["admin"], "iat": int(time.time()),
              "exp": int(time.time()) + 600, "aud": "motcua:staff"}  # fmt: skip
    master_signed = jwt.encode(claims, settings.auth.jwt_secret.get_secret_value(), algorithm="HS256")
    # a service token cannot act as staff, and a staff token cannot claim the service role
    as_service = service_token(settings, "intake")
    forged_role, _ = issue_token(
        settings, subject="service:intake", username="intake", roles=["service"], agency_id=None, agency_code=None
    )
    async with client_at(workflow_app) as workflow, client_at(intake_app) as intake:
        assert (
            await workflow.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {master_signed}"})
        ).status_code == 401
        assert (
            await workflow.get("/api/v1/staff", headers={"Authorization": f"Bearer {as_service}"})
        ).status_code == 403
        forged = await intake.post("/internal/v1/events", json={}, headers={"Authorization": f"Bearer {forged_role}"})
        assert forged.status_code == 401
    assert purpose_key(settings, "staff-token") != purpose_key(settings, "service-token")
    assert purpose_key(settings, "tracking") != settings.auth.jwt_secret.get_secret_value().encode()


async def test_the_tracking_hmac_does_not_use_the_token_key(
    intake_app: FastAPI, desk: Desk, settings: Settings, session: AsyncSession
) -> None:
    import hashlib
    import hmac

    from sqlalchemy import select

    async with client_at(intake_app) as citizen:
        created = (await citizen.post("/api/v1/dossiers", json=submission(desk))).json()
    stored = await session.scalar(select(Dossier.secret_hash).where(Dossier.code == created["code"]))
    for key in (settings.auth.jwt_secret.get_secret_value().encode(), purpose_key(settings, "staff-token")):
        message = f"tracking:{created['code']}:{created['secret'].replace('-', '')}".encode()
        assert stored != hmac.new(key, message, hashlib.sha256).hexdigest()
