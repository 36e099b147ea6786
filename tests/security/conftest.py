"""Security tests: the real apps in-process (tests/apps.py), each attacker and citizen with an address."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from intake_api.main import create_app as create_intake
from services.core.config import Settings
from tests.security.world import World, build_world
from workflow_api.main import create_app as create_workflow

_HOSTS = itertools.count(1)


def address() -> str:
    """A fresh client address of the documentation range (one per simulated person)."""
    n = next(_HOSTS)
    return f"203.0.{n // 250}.{n % 250 + 1}"


def client_at(app: FastAPI, host: str | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host or address(), 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def app_with() -> Callable[..., Any]:
    """``async with app_with("intake", settings, db={"pool_size": 1}, …) as app``: an app with changed settings."""

    def make(service: str, base: Settings, **changes: Any) -> Any:
        settings = base.with_changes(**changes)
        factory = {"intake": create_intake, "workflow": create_workflow}[service]
        return running(factory(settings))

    return make


@pytest.fixture(autouse=True)
def shared_apps(
    share: Callable[[FastAPI], FastAPI], intake_app: FastAPI, workflow_app: FastAPI, notify_app: FastAPI
) -> dict[str, FastAPI]:
    """The three in-process apps on the test's rolled-back connection (tests/apps.py), however the test reaches
    them (``client_at``, ``new_client``): the security tests build their clients themselves, one per address."""
    return {"intake": share(intake_app), "workflow": share(workflow_app), "notify": share(notify_app)}


@pytest.fixture
async def world(
    session: AsyncSession, connection: AsyncConnection, settings: Settings, shared_apps: dict[str, FastAPI]
) -> AsyncIterator[World]:
    """The routed world the three apps share on the test's connection, rolled back after the test
    (tests/security/world.py)."""
    async with build_world(session, connection, settings, shared_apps) as built:
        yield built
