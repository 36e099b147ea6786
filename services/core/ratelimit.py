"""Fixed-window counters in PostgreSQL, shared by every process of every service."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.models import RateLimitHit


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def hits(session: AsyncSession, bucket: str, *, now: datetime, window: timedelta) -> int:
    value = await session.scalar(
        select(RateLimitHit.hits).where(
            RateLimitHit.bucket == bucket, RateLimitHit.window_start == window_start(now, window)
        )
    )
    return int(value or 0)


async def count_hit(
    sessionmaker: async_sessionmaker[AsyncSession], bucket: str, *, now: datetime, window: timedelta
) -> int:
    """Add one hit in a transaction of its own (a failure is counted even when the request fails)."""
    start = window_start(now, window)
    async with sessionmaker() as session, session.begin():
        total = await session.scalar(
            insert(RateLimitHit)
            .values(bucket=bucket, window_start=start, hits=1)
            .on_conflict_do_update(index_elements=["bucket", "window_start"], set_={"hits": RateLimitHit.hits + 1})
            .returning(RateLimitHit.hits)
        )
        # old windows are of no use; removing them here keeps the table small without a cron
        await session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < start - window))
    return int(total or 0)
