"""Limits on guessing a secret (a citizen's tracking secret, a staff password) that never lock the
owner out.

Two counters per attempt, both taken atomically *before* the secret is checked (so concurrent
guesses cannot race past them) and given back when the secret was right (so honest users are not
slowed by their own correct answers):

- **per address**: at most ``address_failures`` failures per ``address_window`` from one client
  address; then 429 for that address only.
- **per subject** (a dossier code, a username), over all addresses: ``subject_free_failures`` per
  ``subject_window`` are free; after that the subject takes one attempt per ``subject_spacing``.
  Nobody can lock the owner out — the owner with the right secret is let in at the next free slot,
  after at most ``subject_spacing`` (a 429 with that ``Retry-After``) — and the number of guesses
  per subject is bounded: free + window / spacing per window, whatever the number of addresses.

Two ways to use them:

- ``begin`` … ``give_back``: count first, check the secret in Python (a password's argon2 hash), give
  the attempt back when it was right. Two or three statements.
- ``count_unless``: when the secret can be checked in SQL (a tracking secret's HMAC, computed in Python
  before the statement), one statement counts the attempt *unless* the proof matches (a failure under
  the same row locks; a match only reads the counters, writing nothing), and answers the totals with
  the match. The right secret costs one round trip instead of three (issue 14: tracking's proof was a
  quarter of its time). The bounds are the same: a matching attempt is answered as if it had been
  counted (``total + 1`` against the limit), a refused one gets its count back, and the match of an
  attempt over a limit is never revealed (the answer is 429).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.core.db import fetch_row
from services.core.errors import TooManyRequests
from services.core.ratelimit import add, add_many, maybe_purge, seconds_left, upsert_sql, window_start


@dataclass(frozen=True)
class GuessLimits:
    address_failures: int
    address_window: timedelta
    subject_free_failures: int
    subject_window: timedelta
    subject_spacing: timedelta

    def per_subject_per_day(self) -> int:
        """The most guesses one subject can take in a day, over all addresses."""
        windows = timedelta(days=1) / self.subject_window
        return int(self.subject_free_failures * windows + timedelta(days=1) / self.subject_spacing)


@dataclass
class Attempt:
    """An attempt that was counted; ``refused`` when a limit stopped it before the secret was checked."""

    refused: TooManyRequests | None = None
    counted: list[tuple[str, timedelta]] = field(default_factory=list)


async def begin(
    connection: asyncpg.Connection, limits: GuessLimits, *, scope: str, address: str | None, subject: str, now: datetime
) -> Attempt:
    """Count the attempt against both limits (one statement; a second only past the free failures)."""
    address_bucket = f"{scope}:ip:{address or 'unknown'}"
    subject_bucket = f"{scope}:subject:{subject[:120]}"
    attempt = Attempt(counted=[(address_bucket, limits.address_window), (subject_bucket, limits.subject_window)])
    totals = await add_many(connection, attempt.counted, now=now)
    if totals[address_bucket] > limits.address_failures:
        await give_back(connection, attempt, now=now)
        return Attempt(refused=_refusal(seconds_left(now, limits.address_window)))
    if totals[subject_bucket] > limits.subject_free_failures:
        slot = f"{scope}:slot:{subject[:120]}"
        if (await add(connection, [slot], now=now, window=limits.subject_spacing))[slot] > 1:
            await give_back(connection, attempt, now=now)
            return Attempt(refused=_refusal(seconds_left(now, limits.subject_spacing)))
    return attempt


async def give_back(connection: asyncpg.Connection, attempt: Attempt, *, now: datetime) -> None:
    """The secret was right (or was never checked): the attempt does not count as a failure."""
    if attempt.counted:
        await add_many(connection, attempt.counted, now=now, amount=-1)
    attempt.counted = []


@dataclass(frozen=True)
class Checked:
    """What ``count_unless`` found: the id the proof matched and the row read with it (``None``: no
    match), or the refusal."""

    found: uuid.UUID | None
    row: asyncpg.Record | None = None
    refused: TooManyRequests | None = None


# the proof is the CTE ``found`` (one column, ``id``). When it found nothing, the attempt is counted: both
# counters bumped by 1, rows locked in the buckets' order (concurrent attempts never deadlock); when it
# matched, nothing is written — the counters are only read (``seen``): the owner's right answers are the
# busiest path of all, and a write would take the same hot row lock (one per client address) at every one
# of them (issue 14). The totals come back with the id and, when asked, what ``reading`` (a lateral
# subquery on ``f.id``) reads for it in the same snapshot
_COUNT_UNLESS = """
WITH found AS ({proof}),
bumped AS ({bump}),
seen AS (
  SELECT b.bucket, coalesce(h.hits, 0) AS hits
    FROM unnest(CAST(${buckets} AS varchar[]), CAST(${starts} AS timestamptz[])) AS b(bucket, window_start)
    LEFT JOIN rate_limit_hit h ON h.bucket = b.bucket AND h.window_start = b.window_start
   WHERE EXISTS (SELECT 1 FROM found)
),
counted AS (
  SELECT array_agg(bucket) AS buckets, array_agg(hits) AS hits
    FROM (SELECT bucket, hits FROM bumped UNION ALL SELECT bucket, hits FROM seen) AS c
)
SELECT f.id AS found, counted.buckets, counted.hits{columns}
  FROM counted LEFT JOIN (SELECT id FROM found LIMIT 1) f ON true{reading}
"""
_UNLESS_FOUND = "NOT EXISTS (SELECT 1 FROM found)"


async def count_unless(
    connection: asyncpg.Connection,
    limits: GuessLimits,
    *,
    scope: str,
    address: str | None,
    subject: str,
    now: datetime,
    proof: str,
    args: Sequence[Any],
    reading: str | None = None,
) -> Checked:
    """Count the attempt against both limits unless ``proof`` (a ``SELECT id …`` taking ``args`` as
    ``$1``…) finds a row, in one statement; the id found (with what ``reading`` read for it), or the
    refusal when a limit stopped it.

    ``connection`` is the counters' (``services.core.ratelimit.counting``), in autocommit: the counter rows
    are locked for this one statement only."""
    address_bucket = f"{scope}:ip:{address or 'unknown'}"
    subject_bucket = f"{scope}:subject:{subject[:120]}"
    windows = {address_bucket: limits.address_window, subject_bucket: limits.subject_window}
    buckets, starts_at = len(args) + 1, len(args) + 2
    bump = upsert_sql(buckets=buckets, starts=starts_at, initial="1", increment="1", when=_UNLESS_FOUND)
    sql = _COUNT_UNLESS.format(
        proof=proof,
        bump=bump,
        buckets=buckets,
        starts=starts_at,
        columns=", r.*" if reading else "",
        reading=f"\n  LEFT JOIN LATERAL ({reading}) r ON true" if reading else "",
    )
    starts = [window_start(now, window) for window in windows.values()]
    row = await fetch_row(connection, sql, *args, list(windows), starts)
    assert row is not None  # the aggregate always answers one row
    await maybe_purge(connection, now=now)
    found: uuid.UUID | None = row["found"]
    # a match was not counted: it is judged as the attempt it is, one more than the failures before it
    matched = 1 if found is not None else 0
    totals = {bucket: hits + matched for bucket, hits in zip(row["buckets"], row["hits"], strict=True)}
    counted = [] if found is not None else list(windows.items())
    refusal: TooManyRequests | None = None
    if totals[address_bucket] > limits.address_failures:
        refusal = _refusal(seconds_left(now, limits.address_window))
    elif totals[subject_bucket] > limits.subject_free_failures:
        slot = f"{scope}:slot:{subject[:120]}"
        if (await add(connection, [slot], now=now, window=limits.subject_spacing))[slot] > 1:
            refusal = _refusal(seconds_left(now, limits.subject_spacing))
    if refusal is None:
        return Checked(found, row if found is not None else None)
    await give_back(connection, Attempt(counted=counted), now=now)  # a refused attempt is not a failure
    return Checked(None, None, refusal)


def _refusal(retry_after: int) -> TooManyRequests:
    detail = "Too many failed attempts; try again later."
    return TooManyRequests(detail, code="too_many_attempts", retry_after=retry_after)
