"""The citizen's proof of ownership (the secret, or the phone number for tracking), rate-limited
so codes and secrets cannot be guessed: ten failures from one address, or against one dossier,
within fifteen minutes lock further attempts until the window ends."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.errors import NotFound, TooManyRequests
from services.core.ratelimit import count_hit, hits, window_start
from services.core.validation import normalise_vn_phone
from services.intake.dossiers import secret_matches
from services.models import Dossier

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 10


def _buckets(code: str, client_ip: str | None) -> list[str]:
    return [f"citizen-fail:ip:{client_ip or 'unknown'}", f"citizen-fail:code:{code[:64]}"]


async def _check(session: AsyncSession, buckets: list[str], now: datetime) -> None:
    for bucket in buckets:
        if await hits(session, bucket, now=now, window=WINDOW) >= MAX_FAILURES:
            retry = window_start(now, WINDOW) + WINDOW - now
            raise TooManyRequests(
                "Too many failed attempts; try again later.",
                code="too_many_attempts",
                retry_after=max(1, math.ceil(retry.total_seconds())),
            )


async def citizen_dossier(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    code: str,
    secret: str | None,
    phone: str | None = None,
    client_ip: str | None,
    now: datetime,
    lock: bool = False,
) -> Dossier:
    """The dossier when the secret (or, for reading, the phone number) matches; the same 404 otherwise."""
    buckets = _buckets(code, client_ip)
    await _check(session, buckets, now)
    query = select(Dossier).where(Dossier.code == code)
    dossier = await session.scalar(query.with_for_update() if lock else query)
    matched = False
    if dossier is not None:
        if secret:
            matched = secret_matches(settings, dossier, secret)
        elif phone and dossier.applicant_phone:
            try:
                matched = normalise_vn_phone(phone) == dossier.applicant_phone
            except ValueError:
                matched = False
    if dossier is None or not matched:
        for bucket in buckets:
            await count_hit(sessionmaker, bucket, now=now, window=WINDOW)
        raise NotFound("No dossier matches this code and secret (or phone number).", code="dossier_not_found")
    return dossier
