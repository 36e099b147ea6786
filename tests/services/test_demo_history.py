"""The demo history that fills the leader's dashboard in ``make run``: a believable year, loaded once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.core.db import transaction
from services.demo.history import DEFAULT_COUNT, load_history
from services.demo.seed import load_demo_data
from services.models import Dossier, SlaTimer
from services.stats.aggregates import AGGREGATE_TABLES, verify
from services.stats.bulk import HISTORICAL, asyncpg_dsn
from tests.db import TEST_DATABASE, migrate, recreate_database


@pytest.fixture
def history_url(database_url: str) -> str:
    """A database of its own: the history is loaded once per database."""
    url = recreate_database(database_url, f"{TEST_DATABASE}_history")
    migrate(url)
    return url


async def test_a_year_of_history_is_loaded_once_and_counted_like_live_dossiers(
    history_url: str, settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    url = history_url
    engine = create_async_engine(url)
    async with transaction(async_sessionmaker(engine, expire_on_commit=False)) as session:
        await load_demo_data(session)
    clock_file = tmp_path / "clock"
    clock_file.write_text(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ).isoformat())
    demo = settings.with_changes(demo=True, clock_file=clock_file, db={"url": url})

    assert await load_history(demo) == DEFAULT_COUNT
    assert await load_history(demo) == 0  # already there

    async with AsyncSession(engine) as session:
        rows = (
            await session.execute(
                select(
                    Dossier.status,
                    Dossier.outcome,
                    Dossier.channel,
                    Dossier.received_at,
                    Dossier.submitted_at,
                    Dossier.closed_at,
                ).where(Dossier.applicant_name == HISTORICAL)
            )
        ).all()
        steps = await session.scalar(
            select(func.count()).select_from(SlaTimer).where(SlaTimer.step_position.is_not(None))
        )
    assert len(rows) == DEFAULT_COUNT
    statuses = Counter(row.status for row in rows)
    outcomes = Counter(row.outcome for row in rows if row.status == "returned")
    returned = statuses["returned"]
    assert returned > 0.9 * DEFAULT_COUNT
    assert 0.85 < (outcomes["early"] + outcomes["on_time"]) / returned < 0.99  # a well-run province, not a perfect one
    assert 0 < outcomes["late"] < 0.1 * returned
    assert 0.5 < sum(1 for row in rows if row.channel == 2) / DEFAULT_COUNT < 0.8
    now = datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ)
    assert all((row.received_at or row.submitted_at) >= datetime(2025, 11, 22, tzinfo=VN_TZ) for row in rows)
    assert all(row.closed_at <= now for row in rows)
    assert steps
    assert steps >= 2 * returned
    # the statistics the dashboard reads agree with a recount of the tables
    assert await verify(asyncpg_dsn(url)) == dict.fromkeys(AGGREGATE_TABLES, 0)
    await engine.dispose()
