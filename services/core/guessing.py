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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import TooManyRequests
from services.core.ratelimit import add, add_many, seconds_left


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
    session: AsyncSession, limits: GuessLimits, *, scope: str, address: str | None, subject: str, now: datetime
) -> Attempt:
    """Count the attempt against both limits (one statement; a second only past the free failures)."""
    address_bucket = f"{scope}:ip:{address or 'unknown'}"
    subject_bucket = f"{scope}:subject:{subject[:120]}"
    attempt = Attempt(counted=[(address_bucket, limits.address_window), (subject_bucket, limits.subject_window)])
    totals = await add_many(session, attempt.counted, now=now)
    if totals[address_bucket] > limits.address_failures:
        await give_back(session, attempt, now=now)
        return Attempt(refused=_refusal(seconds_left(now, limits.address_window)))
    if totals[subject_bucket] > limits.subject_free_failures:
        slot = f"{scope}:slot:{subject[:120]}"
        if (await add(session, [slot], now=now, window=limits.subject_spacing))[slot] > 1:
            await give_back(session, attempt, now=now)
            return Attempt(refused=_refusal(seconds_left(now, limits.subject_spacing)))
    return attempt


async def give_back(session: AsyncSession, attempt: Attempt, *, now: datetime) -> None:
    """The secret was right (or was never checked): the attempt does not count as a failure."""
    if attempt.counted:
        await add_many(session, attempt.counted, now=now, amount=-1)
    attempt.counted = []


def _refusal(retry_after: int) -> TooManyRequests:
    detail = "Too many failed attempts; try again later."
    return TooManyRequests(detail, code="too_many_attempts", retry_after=retry_after)
