"""Staff sign-in: verify the password, limit guessing without locking the real user out, audit.

The steps never hold two pooled connections at once: (1) autocommit statements count the attempt
(services.core.guessing: per address and per account, atomically) and read the account's hash;
(2) argon2 checks the password in a worker thread, no connection held; (3) on success the attempt
is given back, and the request's own session loads what the token needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from services.core import guessing
from services.core.auth import hash_password_off_loop, issue_token, needs_rehash, verify_password_off_loop
from services.core.config import Settings
from services.core.errors import Unauthorized
from services.core.guessing import GuessLimits
from services.core.ratelimit import counting
from services.models import Agency, Staff


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    staff: Staff
    agency: Agency


def limits(settings: Settings) -> GuessLimits:
    return GuessLimits(
        address_failures=settings.login.address_failures,
        address_window=timedelta(seconds=settings.login.address_window_seconds),
        subject_free_failures=settings.login.account_free_failures,
        subject_window=timedelta(seconds=settings.login.account_window_seconds),
        subject_spacing=timedelta(seconds=settings.login.account_spacing_seconds),
    )


async def authenticate(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    username: str,
    password: str,
    *,
    client_ip: str | None,
    now: datetime | None = None,
) -> IssuedToken:
    """A token for valid credentials; Unauthorized or TooManyRequests (audited by the caller) otherwise.

    ``session`` (the request's) must not have touched the database yet. ``now`` (the app's clock, which
    demo and tests may move) counts the attempts; the token's own times are real ones."""
    moment = now or datetime.now(UTC)
    async with counting(sessionmaker) as counters:
        attempt = await guessing.begin(
            counters, limits(settings), scope="login", address=client_ip, subject=username.lower(), now=moment
        )
        row = None
        if attempt.refused is None:
            row = (
                await counters.execute(
                    select(Staff.id, Staff.password_hash, Staff.active, Staff.demo).where(Staff.username == username)
                )
            ).first()
    if attempt.refused is not None:
        raise attempt.refused
    # the hash is always checked (against a dummy when there is no such user): timing tells nothing
    correct = await verify_password_off_loop(settings, row.password_hash if row else None, password)
    if row is None or not correct or not row.active or (row.demo and not settings.demo):
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    async with counting(sessionmaker) as counters:
        await guessing.give_back(counters, attempt, now=moment)
    # made with older, costlier parameters: bring it in line (hashed before a connection is taken)
    rehashed = await hash_password_off_loop(settings, password) if needs_rehash(row.password_hash) else None
    staff = await session.scalar(
        select(Staff).where(Staff.id == row.id).options(selectinload(Staff.roles), selectinload(Staff.agency))
    )
    if staff is None or not staff.active:
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    if rehashed is not None:
        staff.password_hash = rehashed
    token, expires_in = issue_token(
        settings,
        subject=str(staff.id),
        username=staff.username,
        roles=[role.role_code for role in staff.roles],
        agency_id=staff.agency_id,
        agency_code=staff.agency.code,
        token_version=staff.token_version,  # issued at the real time: every service checks ``exp`` against it
    )
    return IssuedToken(access_token=token, expires_in=expires_in, staff=staff, agency=staff.agency)
