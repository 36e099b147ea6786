"""Shared fixtures: a real PostgreSQL, migrated once; each test inside a rolled-back transaction."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from services.core.embedded_pg import EmbeddedPostgres
from tests.db import (
    TEST_DATABASE,
    commits_for_real,
    create_test_admin,
    migrate,
    recreate_database,
    test_database_url,
)

os.environ.setdefault("MOTCUA_DEMO", "1")
os.environ.setdefault("MOTCUA_WEBHOOK_ALLOW_LOOPBACK", "1")  # the fake webhook receivers listen on 127.0.0.1

pytest_plugins = ["tests.apps"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "committed: the apps use their real pools and commits are real (relay, workers, races, LISTEN/NOTIFY);"
        " the default is the test's rolled-back connection (tests/apps.py)",
    )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    started = False
    server = EmbeddedPostgres.from_env()
    if not (os.environ.get("MOTCUA_TEST_DATABASE_URL") or os.environ.get("MOTCUA_DATABASE_URL")):
        started = server.start()
    url = test_database_url()
    recreate_database(url, TEST_DATABASE)
    migrate(url)
    create_test_admin(url)
    yield url
    if started:
        server.stop()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's one connection, in an outer transaction rolled back after the test: the ``session``
    fixture and the in-process apps (tests/apps.py) all work on it."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
async def session(
    request: pytest.FixtureRequest, engine: AsyncEngine, connection: AsyncConnection
) -> AsyncIterator[AsyncSession]:
    """A session on the test's connection, rolled back after the test (its commits release savepoints: the
    apps see them); in a test marked ``committed``, a session whose commits are real."""
    if commits_for_real(request):
        async with AsyncSession(engine, expire_on_commit=False) as real:
            yield real
        return
    session = AsyncSession(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        await session.close()
