"""API tests: the real apps over httpx.ASGITransport, on the migrated test database.

By default a test's requests run on the test's own connection, inside the outer transaction that
``connection`` (tests/conftest.py) rolls back at teardown: the client fixtures (``intake``,
``workflow``, ``notify``; ``share(app)`` for an app a test builds itself) point the app at that
connection for the test's duration, and the test seeds its world with the ``session`` fixture on the
same connection. Nothing a test writes reaches the next one, and nothing is cleaned up by hand. Two
requests of one test must not run at once (one connection): a test that races requests is ``committed``.

Why ``app.state`` and not ``app.dependency_overrides``: the request's session dependency is not the
only way in. The audit of a denial (written after the request's transaction ended) and the token
revocation check open sessions from ``app.state.sessionmaker``, and the rate and guessing counters
take connections from ``app.state.counters`` (services.core.counters); overriding the dependency alone
would leave them on the real pools, where the test's uncommitted staff and dossiers do not exist (every token would
be refused as unknown). Replacing both sessionmakers reaches every path and needs no change in
production code.

A test marked ``@pytest.mark.committed`` keeps the apps on
their real pools and its ``session`` commits for real: for tests where a real commit is the point (the
outbox relay, workers, LISTEN/NOTIFY, requests racing each other, an app with a pool of its own, a
loader writing over connections of its own). What such a test writes stays in the test database.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.core.config import Settings
from services.core.embedded_pg import REPO_ROOT
from services.models import Staff
from tests.db import commits_for_real
from tests.intake.setup import Desk, create_desk
from tests.tokens import bearer_for
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


class SharedCounters:
    """The rate and guessing counters on the test's connection (``services.core.counters.Counters``).

    In production a counter statement runs in autocommit on a pool of its own, so every count stays even
    when the request fails afterwards. The test's connection is inside a transaction: the statements run
    in it, which keeps the same outcome within the test (a wrong guess is counted although the request
    that made it answers 404) and rolls back with it."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pooled = await self._connection.get_raw_connection()
        driver: asyncpg.Connection = pooled.driver_connection
        yield driver


@contextmanager
def sharing_connection(app: FastAPI, connection: AsyncConnection) -> Iterator[None]:
    """Every session ``app`` opens meanwhile is a savepoint on ``connection`` (its commit releases it)."""
    saved = app.state.sessionmaker, app.state.counters
    options: dict[str, Any] = {
        "expire_on_commit": False,
        "autoflush": False,
        "join_transaction_mode": "create_savepoint",
    }
    app.state.sessionmaker = async_sessionmaker(bind=connection, **options)
    app.state.counters = SharedCounters(connection)
    try:
        yield
    finally:
        app.state.sessionmaker, app.state.counters = saved


@pytest.fixture
def share(request: pytest.FixtureRequest, connection: AsyncConnection) -> Iterator[Callable[[FastAPI], FastAPI]]:
    """``share(app)``: for the rest of the test, ``app`` works on the test's rolled-back connection (nothing
    changes for a test that commits for real). For tests that build an app of their own."""
    with ExitStack() as stack:

        def install(app: FastAPI) -> FastAPI:
            if not commits_for_real(request):
                stack.enter_context(sharing_connection(app, connection))
            return app

        yield install


@pytest.fixture
async def intake(intake_app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(share(intake_app)) as client:
        yield client


@pytest.fixture
async def workflow(workflow_app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(share(workflow_app)) as client:
        yield client


@pytest.fixture
async def notify(notify_app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(share(notify_app)) as client:
        yield client


@pytest.fixture
async def desk(session: AsyncSession) -> Desk:
    """A ward's one-stop desk receiving one procedure, with its counter officer and a specialist
    (tests/intake/setup.py ``create_desk``), in the test's ``session``."""
    created = await create_desk(session)
    await session.commit()
    return created


@pytest.fixture
def bearer(settings: Settings) -> Callable[..., dict[str, str]]:
    """``bearer(staff, roles=None)``: tests/tokens.py ``bearer_for`` with the session's settings."""

    def make(staff: Staff | None = None, roles: list[str] | None = None) -> dict[str, str]:
        return bearer_for(settings, staff, roles)

    return make
