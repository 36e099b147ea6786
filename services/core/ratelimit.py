"""Fixed-window counters in PostgreSQL, shared by every process and every replica of every service.

Counting is atomic: one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` adds the hit and reads the
total, so concurrent requests each see their own number and cannot race past a limit. A counter is
taken *before* the work it limits, on a connection of the counters' own pool in autocommit
(``counting``, services.core.counters), while the request's session has not touched the database yet (or
is done with it): no request ever holds two pooled connections, and no counter row stays locked beyond
its one statement.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import asyncpg

from services.core.counters import Counters
from services.core.db import fetch
from services.core.errors import TooManyRequests

# one call in this many also deletes the windows that ended: the table stays small without a cron
_PURGE_ONE_IN = 200
MAX_WINDOW = timedelta(days=1)


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def seconds_left(now: datetime, window: timedelta) -> int:
    """Whole seconds until the current window ends (at least 1): the ``Retry-After`` of a 429."""
    return max(1, math.ceil((window_start(now, window) + window - now).total_seconds()))


async def add(
    connection: asyncpg.Connection, buckets: Sequence[str], *, now: datetime, window: timedelta, amount: int = 1
) -> dict[str, int]:
    """Add ``amount`` (may be negative) to each bucket's current window; the totals after it."""
    return await add_many(connection, [(bucket, window) for bucket in buckets], now=now, amount=amount)


def upsert_sql(*, buckets: int, starts: int, initial: str, increment: str, when: str = "true") -> str:
    """The one statement that bumps counters: the buckets (parameter ``$<buckets>``, ``varchar[]``) in their
    windows (``$<starts>``, ``timestamptz[]``); a new window starts at ``initial``, an existing one adds
    ``increment`` (SQL expressions); only ``when`` that condition holds; ``RETURNING bucket, hits``. Rows are
    taken in a fixed order, so counters bumped together in any order never deadlock. Also the core of
    ``guessing.count_unless``."""
    return f"""
INSERT INTO rate_limit_hit (bucket, window_start, hits)
SELECT b.bucket, b.window_start, {initial}
  FROM unnest(CAST(${buckets} AS varchar[]), CAST(${starts} AS timestamptz[])) AS b(bucket, window_start)
 WHERE {when}
 ORDER BY b.bucket, b.window_start
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hit.hits + {increment}
RETURNING bucket, hits
"""


# several buckets at once: a new window starts at the amount (never below zero), an existing one adds it
_ADD = upsert_sql(buckets=1, starts=2, initial="GREATEST($3::int, 0)", increment="$3::int")


async def add_many(
    connection: asyncpg.Connection, buckets: Sequence[tuple[str, timedelta]], *, now: datetime, amount: int = 1
) -> dict[str, int]:
    """One statement for several buckets, each with its own window (rows locked in a fixed order), straight
    through asyncpg (``services.core.db.fetch``: every public write takes one)."""
    if not buckets:
        return {}
    if any(window > MAX_WINDOW for _, window in buckets):
        raise ValueError(f"rate-limit windows are at most {MAX_WINDOW}")
    rows = sorted({(bucket, window_start(now, window)) for bucket, window in buckets})
    result = await fetch(connection, _ADD, [bucket for bucket, _ in rows], [start for _, start in rows], amount)
    totals = {row["bucket"]: int(row["hits"]) for row in result}
    await maybe_purge(connection, now=now)
    return totals


async def maybe_purge(connection: asyncpg.Connection, *, now: datetime) -> None:
    """Once in ``_PURGE_ONE_IN`` calls, delete the windows that ended more than the longest window ago."""
    if random.randrange(_PURGE_ONE_IN) == 0:
        await fetch(connection, "DELETE FROM rate_limit_hit WHERE window_start < $1", now - 2 * MAX_WINDOW)


@asynccontextmanager
async def counting(counters: Counters) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the counters' pool, in autocommit: each counter statement commits at once and holds
    its row lock only for itself, so counters taken together in any order never deadlock and never wait
    for a request."""
    async with counters.connection() as connection:
        yield connection


async def consume(
    counters: Counters,
    bucket: str,
    *,
    limit: int,
    now: datetime,
    window: timedelta,
    code: str = "too_many_requests",
    detail: str = "Too many requests from your address; try again later.",
) -> None:
    """Count one request against ``limit`` per ``window`` (own transaction); 429 once it is over."""
    async with counting(counters) as connection:
        total = (await add(connection, [bucket], now=now, window=window))[bucket]
    if total > limit:
        raise TooManyRequests(detail, code=code, retry_after=seconds_left(now, window))
