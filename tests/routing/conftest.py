"""Routing tests run on a database of their own (no other test's outbox backlog), with the three
apps in-process and the real relay delivering between them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.core.config import Settings
from tests.db import TEST_DATABASE, migrate, recreate_database
from tests.tokens import bearer_for
from tests.workflow_setup import World, create_world, deliver
from workflow_api.main import create_app as create_workflow


@pytest.fixture(scope="module")
def routing_url(database_url: str) -> str:
    url = recreate_database(database_url, f"{TEST_DATABASE}_routing")
    migrate(url)
    return url


@pytest.fixture(scope="module")
def routing_settings(routing_url: str, settings: Settings) -> Settings:
    return settings.with_changes(db={"url": routing_url})


@pytest.fixture(scope="module")
async def routing_engine(routing_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(routing_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def apps(routing_settings: Settings) -> AsyncIterator[dict[str, FastAPI]]:
    built = {
        "intake": create_intake(routing_settings),
        "workflow": create_workflow(routing_settings),
        "notify": create_notify(routing_settings),
    }
    async with (
        built["intake"].router.lifespan_context(built["intake"]),
        built["workflow"].router.lifespan_context(built["workflow"]),
        built["notify"].router.lifespan_context(built["notify"]),
    ):
        yield built


@pytest.fixture
async def clients(apps: dict[str, FastAPI]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    made = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.19.0.1", 1)), base_url="http://t")
        for name, app in apps.items()
    }
    yield made
    for client in made.values():
        await client.aclose()


@pytest.fixture
async def world(routing_engine: AsyncEngine) -> World:
    async with AsyncSession(routing_engine, expire_on_commit=False) as session:
        created = await create_world(session)
        await session.commit()
        return created


@pytest.fixture
def relay(routing_engine: AsyncEngine, routing_settings: Settings, apps: dict[str, FastAPI]) -> Callable[[], Any]:
    async def run() -> int:
        return await deliver(routing_engine, routing_settings, apps)

    return run


@pytest.fixture
def as_staff(routing_settings: Settings, world: World) -> Callable[[str], dict[str, str]]:
    """``as_staff("counter")``: the bearer header of one of the world's staff (tests/workflow_setup.py)."""

    def headers(name: str) -> dict[str, str]:
        return bearer_for(routing_settings, world.staff[name])

    return headers
