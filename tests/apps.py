"""API tests: the real apps over httpx.ASGITransport, on the migrated test database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.core.auth import issue_token
from services.core.config import Settings
from services.models import Staff
from workflow_api.main import create_app as create_workflow


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, demo=True, max_request_bytes=64 * 1024, log_level="WARNING")


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture(scope="session")
async def intake(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_intake(settings)):
        yield client


@pytest.fixture(scope="session")
async def workflow(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_workflow(settings)):
        yield client


@pytest.fixture(scope="session")
async def notify(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_notify(settings)):
        yield client


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are real: for data the apps (their own connections) must see."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def bearer(settings: Settings) -> Callable[[Staff, list[str] | None], dict[str, Any]]:
    def make(staff: Staff, roles: list[str] | None = None) -> dict[str, Any]:
        token, _ = issue_token(
            settings,
            subject=str(staff.id),
            username=staff.username,
            roles=roles if roles is not None else [r.role_code for r in staff.roles],
            agency_id=staff.agency_id,
            agency_code=None,
        )
        return {"Authorization": f"Bearer {token}"}

    return make
