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

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import guessing
from services.core.config import Settings
from services.core.counters import Counters
from services.core.db import holds_connection
from services.core.errors import NotFound
from services.core.guessing import Checked, GuessLimits
from services.core.ratelimit import counting
from services.core.validation import normalise_vn_phone
from services.dossier.secrets import secret_hashes
from services.models import Dossier

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Proof:
    """What the caller showed: the secret (full view) or, for the brief view only, the phone."""

    secret: str | None = None
    phone: str | None = None


# the proof as SQL (``guessing.count_unless``): the code's dossier, when the secret's HMAC is one of the
# hashes given (the current key's and the legacy one's) or its applicant's phone is the one given; the HMAC
# is compared in SQL, which leaks nothing usable: without the server key nobody can aim at a hash
_PROOF = """SELECT id FROM dossier
    WHERE code = $1 AND (secret_hash = ANY(CAST($2 AS varchar[])) OR applicant_phone = $3)"""


def _proof_args(settings: Settings, code: str, proof: Proof) -> tuple[str, list[str], str | None]:
    hashes: list[str] = []
    phone: str | None = None
    if proof.secret:
        hashes = secret_hashes(settings, code, proof.secret)
    elif proof.phone:
        try:
            phone = normalise_vn_phone(proof.phone)
        except ValueError:
            phone = None
    return code, hashes, phone


def limits(settings: Settings) -> GuessLimits:
    return GuessLimits(
        address_failures=settings.citizen_proof.address_failures,
        address_window=timedelta(seconds=settings.citizen_proof.address_window_seconds),
        subject_free_failures=settings.citizen_proof.code_free_failures,
        subject_window=DAY,
        subject_spacing=timedelta(seconds=settings.citizen_proof.code_spacing_seconds),
    )


async def prove(
    counters: Counters,
    settings: Settings,
    *,
    code: str,
    proof: Proof,
    client_ip: str | None,
    now: datetime,
    reading: str | None = None,
) -> Checked:
    """The dossier's id (and what ``reading`` read for it) when ``proof`` matches ``code``; 404 when not,
    429 when over a limit.

    One statement on the counters' pool (``guessing.count_unless``): the attempt is counted unless the
    proof matches; ``reading``, a subquery on ``f.id``, is read in the same statement."""
    code = code[:64]
    async with counting(counters) as connection:
        checked = await guessing.count_unless(
            connection, limits(settings), scope="citizen", address=client_ip, subject=code, now=now,
            proof=_PROOF, args=_proof_args(settings, code, proof), reading=reading,
        )  # fmt: skip
    if checked.refused is not None:
        raise checked.refused
    if checked.found is None:
        raise NotFound("No dossier matches this code and secret (or phone number).", code="dossier_not_found")
    return checked


async def citizen_dossier(
    session: AsyncSession,
    counters: Counters,
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
    proven = await prove(counters, settings, code=code, proof=Proof(secret=secret), client_ip=client_ip, now=now)
    query = select(Dossier).where(Dossier.id == proven.found)
    dossier = await session.scalar(query.with_for_update(key_share=True) if lock else query)  # FOR NO KEY UPDATE
    if dossier is None:  # deleted in between: as if it never matched
        raise NotFound("No dossier matches this code and secret (or phone number).", code="dossier_not_found")
    return dossier


@dataclass(frozen=True)
class Reader:
    """A public caller who proves they hold a dossier and reads it in the same statement (tracking): no
    session of the request, so its dependency (``intake_api.deps.ReaderDep``) is one flat function."""

    counters: Counters
    settings: Settings
    client_ip: str | None
    now: datetime

    async def read(self, code: str, proof: Proof, reading: str) -> asyncpg.Record:
        """What ``reading`` (a subquery on ``f.id``, the proven dossier's id) reads, for the holder of ``proof``:
        the proof and the read are one statement, on the counters' connection."""
        proven = await prove(
            self.counters, self.settings, code=code, proof=proof, client_ip=self.client_ip, now=self.now,
            reading=reading,
        )  # fmt: skip
        assert proven.row is not None  # proven: read in the same statement and snapshot as the proof
        return proven.row


@dataclass(frozen=True)
class Citizen:
    """A public caller who may prove they hold a dossier: what ``citizen_dossier`` needs besides the code
    and the secret, gathered once per request (``intake_api.deps.CitizenDep``) instead of at every call."""

    session: AsyncSession
    counters: Counters
    settings: Settings
    client_ip: str | None
    now: datetime

    async def dossier(self, code: str, secret: str | None, *, lock: bool = False) -> Dossier:
        """``citizen_dossier`` for this caller; ``lock`` for a change (the row is locked until commit)."""
        return await citizen_dossier(
            self.session, self.counters, self.settings, code=code, secret=secret, client_ip=self.client_ip,
            now=self.now, lock=lock,
        )  # fmt: skip
