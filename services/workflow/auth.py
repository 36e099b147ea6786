"""Staff sign-in: verify the password, limit guessing without locking the real user out, audit.

The steps never hold two pooled connections at once: (1) a short transaction counts the attempt
(services.core.guessing: per address and per account, atomically) and reads the account's hash;
(2) argon2 checks the password in a worker thread, no connection held; (3) the request's own
session, on success, gives the attempt back and loads what the token needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from services.core import guessing
from services.core.auth import issue_token, verify_password_off_loop
from services.core.config import Settings
from services.core.errors import Unauthorized
from services.core.guessing import GuessLimits
from services.models import Agency, Staff


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    staff: Staff
    agency: Agency


def limits(settings: Settings) -> GuessLimits:
    return GuessLimits(
        address_failures=settings.login_address_failures,
        address_window=timedelta(seconds=settings.login_address_window_seconds),
        subject_free_failures=settings.login_account_free_failures,
        subject_window=timedelta(seconds=settings.login_account_window_seconds),
        subject_spacing=timedelta(seconds=settings.login_account_spacing_seconds),
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

    ``session`` (the request's) must not have touched the database yet."""
    moment = now or datetime.now(UTC)
    async with sessionmaker() as counting, counting.begin():
        attempt = await guessing.begin(
            counting, limits(settings), scope="login", address=client_ip, subject=username.lower(), now=moment
        )
        row = None
        if attempt.refused is None:
            row = (
                await counting.execute(
                    select(Staff.id, Staff.password_hash, Staff.active, Staff.demo).where(Staff.username == username)
                )
            ).first()
    if attempt.refused is not None:
        raise attempt.refused
    # the hash is always checked (against a dummy when there is no such user): timing tells nothing
    correct = await verify_password_off_loop(settings, row.password_hash if row else None, password)
    if row is None or not correct or not row.active or (row.demo and not settings.demo):
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    await guessing.give_back(session, attempt, now=moment)
    staff = await session.scalar(
        select(Staff).where(Staff.id == row.id).options(selectinload(Staff.roles), selectinload(Staff.agency))
    )
    if staff is None or not staff.active:
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    token, expires_in = issue_token(
        settings,
        subject=str(staff.id),
        username=staff.username,
        roles=[role.role_code for role in staff.roles],
        agency_id=staff.agency_id,
        agency_code=staff.agency.code,
        now=moment,
        token_version=staff.token_version,
    )
    return IssuedToken(access_token=token, expires_in=expires_in, staff=staff, agency=staff.agency)
