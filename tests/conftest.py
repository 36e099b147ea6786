"""Shared fixtures: a real PostgreSQL, migrated once; each test inside a rolled-back transaction."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from services.core.embedded_pg import EmbeddedPostgres
from tests.db import TEST_DATABASE, migrate, test_database_url

os.environ.setdefault("MOTCUA_DEMO", "1")

pytest_plugins = ["tests.apps"]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    started = False
    server = EmbeddedPostgres.from_env()
    if not (os.environ.get("MOTCUA_TEST_DATABASE_URL") or os.environ.get("MOTCUA_DATABASE_URL")):
        started = server.start()
    url = test_database_url()
    _recreate_database(url)
    migrate(url)
    yield url
    if started:
        server.stop()


def _recreate_database(url: str) -> None:
    import asyncio

    parsed = make_url(url)
    admin_dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    async def run() -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{TEST_DATABASE}"')
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
