"""Fixed-window counters in PostgreSQL, shared by every process and every replica of every service.

Counting is atomic: one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` adds the hit and reads the
total, so concurrent requests each see their own number and cannot race past a limit. A counter is
taken *before* the work it limits, in a short transaction of its own on the caller's one pooled
connection at a time (the request's session has not touched the database yet, or is done with it):
no request ever holds two pooled connections.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.errors import TooManyRequests
from services.models import RateLimitHit

# one call in this many also deletes the windows that ended: the table stays small without a cron
_PURGE_ONE_IN = 200


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def seconds_left(now: datetime, window: timedelta) -> int:
    """Whole seconds until the current window ends (at least 1): the ``Retry-After`` of a 429."""
    return max(1, math.ceil((window_start(now, window) + window - now).total_seconds()))


async def add(
    session: AsyncSession, buckets: Sequence[str], *, now: datetime, window: timedelta, amount: int = 1
) -> dict[str, int]:
    """Add ``amount`` (may be negative) to each bucket's current window; the totals after it."""
    if not buckets:
        return {}
    start = window_start(now, window)
    rows = await session.execute(
        insert(RateLimitHit)
        .values([{"bucket": bucket, "window_start": start, "hits": max(amount, 0)} for bucket in sorted(set(buckets))])
        .on_conflict_do_update(index_elements=["bucket", "window_start"], set_={"hits": RateLimitHit.hits + amount})
        .returning(RateLimitHit.bucket, RateLimitHit.hits)
    )
    totals = {bucket: int(hits) for bucket, hits in rows.all()}
    if random.randrange(_PURGE_ONE_IN) == 0:
        await session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < start - window))
    return totals


async def consume(
    sessionmaker: async_sessionmaker[AsyncSession],
    bucket: str,
    *,
    limit: int,
    now: datetime,
    window: timedelta,
    code: str = "too_many_requests",
    detail: str = "Too many requests from your address; try again later.",
) -> None:
    """Count one request against ``limit`` per ``window`` (own transaction); 429 once it is over."""
    async with sessionmaker() as session, session.begin():
        total = (await add(session, [bucket], now=now, window=window))[bucket]
    if total > limit:
        raise TooManyRequests(detail, code=code, retry_after=seconds_left(now, window))
