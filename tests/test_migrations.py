"""One Alembic history builds the schema from empty, comes down again, and matches the models."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from services.models import Base
from tests.db import alembic_config, recreate_database

SCRATCH = "motcua_migrations"


@pytest.fixture
def scratch_url(database_url: str) -> str:
    return recreate_database(database_url, SCRATCH)


def _tables(url: str) -> set[str]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def read() -> set[str]:
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {row["tablename"] for row in rows}
        finally:
            await connection.close()

    return asyncio.run(read())


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= _tables(scratch_url)
    command.downgrade(config, "base")
    assert _tables(scratch_url) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= _tables(scratch_url)


def test_models_and_migrations_agree(database_url: str) -> None:
    """The autogenerate diff between the migrated database and the models is empty."""

    async def diff() -> list[object]:
        engine = create_async_engine(database_url)
        async with engine.connect() as connection:

            def compare(sync_connection):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(
                    sync_connection, opts={"compare_type": True, "compare_server_default": True}
                )
                return compare_metadata(context, Base.metadata)

            result = await connection.run_sync(compare)
        await engine.dispose()
        return list(result)

    assert asyncio.run(diff()) == []


def test_tables_follow_the_conventions() -> None:
    for table in Base.metadata.tables.values():
        assert table.name == table.name.lower()
        for column in table.columns:
            if column.name.endswith("_at"):
                assert getattr(column.type, "timezone", False), f"{table.name}.{column.name} must be timestamptz"


def test_the_statistics_triggers_functions_plan_once_per_connection(database_url: str) -> None:
    """Every ``stats_apply_*`` SQL function keeps ``plan_cache_mode = force_generic_plan`` (migration c4e6a8b0d2f3):
    without it each new connection plans the 80-counter upsert anew for its first five dossier writes."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def settings() -> dict[str, list[str] | None]:
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch(
                "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                " WHERE p.proname LIKE 'stats\\_apply\\_%' AND l.lanname = 'sql'"
            )
            return {row["proname"]: row["proconfig"] for row in rows}
        finally:
            await connection.close()

    found = asyncio.run(settings())
    assert set(found) >= {"stats_apply_dossier", "stats_apply_step", "stats_apply_open", "stats_apply_open_step"}
    assert {name: config for name, config in found.items() if config != ["plan_cache_mode=force_generic_plan"]} == {}
