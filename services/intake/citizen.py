"""The citizen's proof of ownership: the dossier's code and the secret printed on the receipt.

Guessing is limited in two ways, both counted atomically in PostgreSQL before the secret is
checked (services.core.ratelimit), in a short transaction of its own taken *before* the request's
session uses a connection — so a request never holds two pooled connections, and concurrent
guesses cannot race past a limit:

- **per address** (the real client, services.core.net): ``citizen_address_failures`` failed
  proofs per ``citizen_address_window_seconds``; then 429 until the window ends. A success gives
  its attempt back, so an honest citizen is never slowed by their own correct answers.
- **per code, over all addresses**: the first ``citizen_code_free_failures`` failures of a day are
  free; after that the code takes one attempt per ``citizen_code_spacing_seconds``. Nobody can
  lock an owner out: the owner with the right secret gets in after at most that spacing (a 429
  with ``Retry-After``). Guessing stays infeasible: at most free + 86,400 / spacing attempts per code
  per day (17,290 with the defaults) against 32⁸ ≈ 1.1 × 10¹² secrets.

The answer for a wrong code and a wrong secret is the same 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.db import holds_connection
from services.core.errors import NotFound, TooManyRequests
from services.core.ratelimit import add, seconds_left
from services.core.validation import normalise_vn_phone
from services.intake.dossiers import secret_matches
from services.models import Dossier

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Proof:
    """What the caller showed: the secret (full view) or, for the brief view only, the phone."""

    secret: str | None = None
    phone: str | None = None


def _matches(settings: Settings, dossier: Dossier, proof: Proof) -> bool:
    if proof.secret:
        return secret_matches(settings, dossier, proof.secret)
    if proof.phone and dossier.applicant_phone:
        try:
            return normalise_vn_phone(proof.phone) == dossier.applicant_phone
        except ValueError:
            return False
    return False


def _throttled(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed attempts; try again later.", code="too_many_attempts", retry_after=retry_after
    )


async def prove(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    code: str,
    proof: Proof,
    client_ip: str | None,
    now: datetime,
) -> uuid.UUID:
    """The dossier's id when ``proof`` matches ``code``; 404 when not, 429 when over a limit."""
    code = code[:64]
    address_bucket = f"citizen:ip:{client_ip or 'unknown'}"
    address_window = timedelta(seconds=settings.citizen_address_window_seconds)
    code_bucket = f"citizen:code:{code}"
    spacing = timedelta(seconds=settings.citizen_code_spacing_seconds)
    verdict: uuid.UUID | TooManyRequests | None
    async with sessionmaker() as session, session.begin():
        address = (await add(session, [address_bucket], now=now, window=address_window))[address_bucket]
        if address > settings.citizen_address_failures:
            verdict = _throttled(seconds_left(now, address_window))
            await add(session, [address_bucket], now=now, window=address_window, amount=-1)
        else:
            failures_today = (await add(session, [code_bucket], now=now, window=DAY))[code_bucket]
            slot_taken = False
            if failures_today > settings.citizen_code_free_failures:
                slot_bucket = f"citizen:slot:{code}"
                slot_taken = (await add(session, [slot_bucket], now=now, window=spacing))[slot_bucket] > 1
            if slot_taken:
                verdict = _throttled(seconds_left(now, spacing))
                await add(session, [address_bucket], now=now, window=address_window, amount=-1)
                await add(session, [code_bucket], now=now, window=DAY, amount=-1)
            else:
                dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
                verdict = dossier.id if dossier is not None and _matches(settings, dossier, proof) else None
                if verdict is not None:  # an honest answer gives its attempts back
                    await add(session, [address_bucket], now=now, window=address_window, amount=-1)
                    await add(session, [code_bucket], now=now, window=DAY, amount=-1)
    if isinstance(verdict, TooManyRequests):
        raise verdict
    if verdict is None:
        raise NotFound("No dossier matches this code and secret (or phone number).", code="dossier_not_found")
    return verdict


async def citizen_dossier(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    code: str,
    secret: str | None,
    client_ip: str | None,
    now: datetime,
    lock: bool = False,
) -> Dossier:
    """The dossier for the holder of its secret, loaded in the request's session.

    Must be called before the request's session has used a connection: the proof runs on a
    connection of its own, returned to the pool before the request's is taken.
    """
    if holds_connection(session):
        raise RuntimeError("prove the citizen's ownership before the request's session touches the database")
    dossier_id = await prove(
        sessionmaker, settings, code=code, proof=Proof(secret=secret), client_ip=client_ip, now=now
    )
    query = select(Dossier).where(Dossier.id == dossier_id)
    dossier = await session.scalar(query.with_for_update() if lock else query)
    if dossier is None:  # deleted in between: as if it never matched
        raise NotFound("No dossier matches this code and secret (or phone number).", code="dossier_not_found")
    return dossier
