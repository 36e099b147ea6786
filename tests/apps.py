"""API tests: the real apps over httpx.ASGITransport, on the migrated test database."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.core.auth import issue_token
from services.core.config import Settings
from services.core.embedded_pg import REPO_ROOT
from services.models import Staff
from workflow_api.main import create_app as create_workflow

CLOCK_FILE = REPO_ROOT / "test-artifacts" / "api-clock.txt"


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    CLOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    CLOCK_FILE.write_text("")
    return Settings(
        demo=True, log_level="WARNING", clock_file=CLOCK_FILE, files_dir=tmp_path_factory.mktemp("files")
    ).with_changes(db={"url": database_url}, edge={"max_request_bytes": 2 * 1024 * 1024})


@pytest.fixture
def travel() -> Iterator[Callable[[datetime], None]]:
    """Set the apps' "now" (an empty clock file means the real time again after the test)."""

    def to(instant: datetime) -> None:
        CLOCK_FILE.write_text(instant.isoformat())

    yield to
    CLOCK_FILE.write_text("")


async def _running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


def new_client(app: FastAPI) -> httpx.AsyncClient:
    """A client with an address of its own, so per-address limits of one test never reach another."""
    n = next(_ADDRESSES)
    address = f"198.18.{n // 250}.{n % 250 + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


_ADDRESSES = itertools.count(1)


@pytest.fixture(scope="session")
async def intake_app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for app in _running(create_intake(settings)):
        yield app


@pytest.fixture(scope="session")
async def workflow_app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for app in _running(create_workflow(settings)):
        yield app


@pytest.fixture(scope="session")
async def notify_app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for app in _running(create_notify(settings)):
        yield app


@pytest.fixture
async def intake(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(intake_app) as client:
        yield client


@pytest.fixture
async def workflow(workflow_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(workflow_app) as client:
        yield client


@pytest.fixture
async def notify(notify_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(notify_app) as client:
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
