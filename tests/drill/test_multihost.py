"""The multi-host URL of a primary and its standbys reaches every connection the services open: the
engine's (SQLAlchemy) and asyncpg's own (the counters' pool, the workers' LISTEN connections), whichever
order the hosts are listed in."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.core.config import Settings
from services.core.counters import CounterPool
from services.core.db import create_engine, driver_dsn
from tests.notify.fakes import free_port


def _multi_host(database_url: str, *, live_first: bool) -> str:
    url = make_url(database_url)
    hosts = [f"host={url.host}:{url.port}", f"host=127.0.0.1:{free_port()}"]  # the second: nobody listens
    if not live_first:
        hosts.reverse()
    return f"postgresql+asyncpg://{url.username}@/{url.database}?{'&'.join(hosts)}&target_session_attrs=read-write"


@pytest.mark.parametrize("live_first", [True, False], ids=["live host first", "live host last"])
async def test_every_kind_of_connection_finds_the_writable_host(database_url: str, live_first: bool) -> None:
    settings = Settings().with_changes(db={"url": _multi_host(database_url, live_first=live_first)})
    listen = await asyncpg.connect(driver_dsn(settings))  # as services.core.listen opens its connection
    try:
        assert await listen.fetchval("SELECT NOT pg_is_in_recovery()") is True
    finally:
        await listen.close()
    counters = CounterPool(settings, application_name="motcua-test")
    await counters.open()
    try:
        async with counters.connection() as connection:
            assert await connection.fetchval("SELECT 1") == 1
    finally:
        await counters.close()
    engine = create_engine(settings, application_name="motcua-test")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
