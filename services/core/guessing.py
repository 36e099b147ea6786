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
from services.core.ratelimit import add, seconds_left


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
    """Count the attempt against both limits, in the caller's (short) transaction."""
    address_bucket = (f"{scope}:ip:{address or 'unknown'}", limits.address_window)
    subject_bucket = (f"{scope}:subject:{subject[:120]}", limits.subject_window)
    attempt = Attempt(counted=[address_bucket])
    if (await _add(session, address_bucket, now))[0] > limits.address_failures:
        await give_back(session, attempt, now=now)
        return Attempt(refused=_refusal(seconds_left(now, limits.address_window)))
    attempt.counted.append(subject_bucket)
    if (await _add(session, subject_bucket, now))[0] > limits.subject_free_failures:
        slot = (f"{scope}:slot:{subject[:120]}", limits.subject_spacing)
        if (await _add(session, slot, now))[0] > 1:
            await give_back(session, attempt, now=now)
            return Attempt(refused=_refusal(seconds_left(now, limits.subject_spacing)))
    return attempt


async def give_back(session: AsyncSession, attempt: Attempt, *, now: datetime) -> None:
    """The secret was right (or was never checked): the attempt does not count as a failure."""
    for bucket, window in attempt.counted:
        await add(session, [bucket], now=now, window=window, amount=-1)
    attempt.counted = []


async def _add(session: AsyncSession, bucket: tuple[str, timedelta], now: datetime) -> tuple[int]:
    name, window = bucket
    return ((await add(session, [name], now=now, window=window))[name],)


def _refusal(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed attempts; try again later.", code="too_many_attempts", retry_after=retry_after
    )
