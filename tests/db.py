"""The test database: one real PostgreSQL (embedded unless MOTCUA_DATABASE_URL), migrated once per run."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from services.core.embedded_pg import REPO_ROOT, EmbeddedPostgres

TEST_DATABASE = os.environ.get("MOTCUA_TEST_DB_NAME", "motcua_test")  # one per concurrent test run


def test_database_url() -> str:
    """The URL of the test database, created empty on a fresh run."""
    configured = os.environ.get("MOTCUA_TEST_DATABASE_URL") or os.environ.get("MOTCUA_DATABASE_URL")
    if configured:
        url = make_url(configured.replace("postgresql://", "postgresql+asyncpg://", 1))
        return url.set(database=TEST_DATABASE).render_as_string(hide_password=False)
    return EmbeddedPostgres.from_env().url(TEST_DATABASE)


def commits_for_real(request: pytest.FixtureRequest) -> bool:
    """The test is marked ``committed``: its ``session`` commits for real and the apps keep their own
    pools. Otherwise all of it is rolled back (tests/apps.py)."""
    return request.node.get_closest_marker("committed") is not None


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logging"] = False
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def recreate_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``url``; return its URL."""
    import asyncio

    import asyncpg

    parsed = make_url(url)
    admin_dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    async def run() -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(run())
    return parsed.set(database=name).render_as_string(hide_password=False)


# the account behind tokens that tests mint for "an administrator" (tokens of unknown accounts are refused)
TEST_ADMIN_ID = "00000000-0000-4000-8000-00000000ad01"
TEST_ADMIN_AGENCY = "999.99.99.T99"


def create_test_admin(url: str) -> None:
    """An active admin account (and its agency) that minted test tokens can name as their subject."""
    import asyncio

    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "INSERT INTO agency_level (code, name_vi, name_en, rank) VALUES ('province', 'Tỉnh', 'Province', 0)"
                " ON CONFLICT DO NOTHING"
            )
            await connection.execute(
                "INSERT INTO role (code, name_vi, name_en) VALUES ('admin', 'Quản trị', 'Administrator')"
                " ON CONFLICT DO NOTHING"
            )
            agency = await connection.fetchval(
                "INSERT INTO agency (id, code, name, level_code, is_one_stop_desk, counter_cutoff)"
                " VALUES (gen_random_uuid(), $1, 'Đơn vị kiểm thử', 'province', false, '15:00')"
                " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id",
                TEST_ADMIN_AGENCY,
            )
            await connection.execute(
                "INSERT INTO staff (id, username, full_name, password_hash, agency_id, active)"
                " VALUES ($1, 'admin.test', 'Quản trị kiểm thử', '!', $2, true) ON CONFLICT (id) DO NOTHING",
                TEST_ADMIN_ID,
                agency,
            )
            await connection.execute(
                "INSERT INTO staff_role (staff_id, role_code) VALUES ($1, 'admin') ON CONFLICT DO NOTHING",
                TEST_ADMIN_ID,
            )
        finally:
            await connection.close()

    asyncio.run(run())
