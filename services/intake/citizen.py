"""The citizen's proof of ownership: the dossier's code and the secret printed on the receipt.

Guessing is limited by services.core.guessing, counted in a short transaction of its own taken
*before* the request's session uses a connection (a request never holds two pooled connections):
per address ``citizen_address_failures`` failures per ``citizen_address_window_seconds``; per code,
over all addresses, ``citizen_code_free_failures`` free failures a day, then one attempt per
``citizen_code_spacing_seconds``. With the defaults that is at most 17,290 guesses per code per day
against 32⁸ ≈ 1.1 × 10¹² secrets (half the space takes ≈ 87,000 years), and the owner with the
right secret is let in after at most 5 s. The answer for a wrong code and a wrong secret is the
same 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core import guessing
from services.core.config import Settings
from services.core.db import holds_connection
from services.core.errors import NotFound
from services.core.guessing import GuessLimits
from services.core.ratelimit import counting
from services.core.validation import normalise_vn_phone
from services.dossier.secrets import stored_secret_matches
from services.models import Dossier

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Proof:
    """What the caller showed: the secret (full view) or, for the brief view only, the phone."""

    secret: str | None = None
    phone: str | None = None


def _matches(settings: Settings, code: str, stored_hash: str, phone: str | None, proof: Proof) -> bool:
    if proof.secret:
        return stored_secret_matches(settings, code, stored_hash, proof.secret)
    if proof.phone and phone:
        try:
            return normalise_vn_phone(proof.phone) == phone
        except ValueError:
            return False
    return False


def limits(settings: Settings) -> GuessLimits:
    return GuessLimits(
        address_failures=settings.citizen_proof.address_failures,
        address_window=timedelta(seconds=settings.citizen_proof.address_window_seconds),
        subject_free_failures=settings.citizen_proof.code_free_failures,
        subject_window=DAY,
        subject_spacing=timedelta(seconds=settings.citizen_proof.code_spacing_seconds),
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
    found: uuid.UUID | None = None
    async with counting(sessionmaker) as session:
        attempt = await guessing.begin(
            session, limits(settings), scope="citizen", address=client_ip, subject=code, now=now
        )
        if attempt.refused is None:
            row = (
                await session.execute(
                    select(Dossier.id, Dossier.secret_hash, Dossier.applicant_phone).where(Dossier.code == code)
                )
            ).first()
            if row is not None and _matches(settings, code, row.secret_hash, row.applicant_phone, proof):
                found = row.id
                await guessing.give_back(session, attempt, now=now)
    if attempt.refused is not None:
        raise attempt.refused
    if found is None:
        raise NotFound("No dossier matches this code and secret (or phone number).", code="dossier_not_found")
    return found


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


@dataclass(frozen=True)
class Citizen:
    """A public caller who may prove they hold a dossier: what ``citizen_dossier`` needs besides the code
    and the secret, gathered once per request (``intake_api.deps.CitizenDep``) instead of at every call."""

    session: AsyncSession
    counters: async_sessionmaker[AsyncSession]
    settings: Settings
    client_ip: str | None
    now: datetime

    async def dossier(self, code: str, secret: str | None, *, lock: bool = False) -> Dossier:
        """``citizen_dossier`` for this caller; ``lock`` for a change (the row is locked until commit)."""
        return await citizen_dossier(
            self.session, self.counters, self.settings, code=code, secret=secret, client_ip=self.client_ip,
            now=self.now, lock=lock,
        )  # fmt: skip

    async def proven_by_phone(self, code: str, phone: str) -> Dossier:
        """The dossier for the holder of its applicant's phone number (the brief view only)."""
        dossier_id = await prove(
            self.counters, self.settings, code=code, proof=Proof(phone=phone), client_ip=self.client_ip,
            now=self.now,
        )  # fmt: skip
        return await self.session.get_one(Dossier, dossier_id)
