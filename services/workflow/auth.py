"""Staff sign-in and sign-out: verify the password, limit guessing without locking the real user out, audit.

The steps never hold two pooled connections at once: (1) autocommit statements count the attempt
(services.core.guessing: per address and per account, atomically) and read the account's hash;
(2) argon2 checks the password in a worker thread, no connection held; (3) on success the attempt
is given back, and the request's own session loads what the token needs.

Every sign-in is audited: a success in the request's transaction, a failure or a refusal in a short
transaction of its own (``record_now``), since the request's rolls back with the 401/429. Signing out
raises the account's token version ("sign out everywhere"): every token of the account stops working on
all services, and this process forgets the version it had cached at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from services.core import guessing
from services.core.audit import Origin, audit_entry, record, record_now
from services.core.auth import Actor, hash_password_off_loop, issue_token, needs_rehash, verify_password_off_loop
from services.core.config import Settings
from services.core.counters import Counters
from services.core.db import fetch_row
from services.core.errors import TooManyRequests, Unauthorized
from services.core.guessing import GuessLimits
from services.core.ratelimit import counting
from services.core.revocation import TokenStates, revoke_tokens
from services.domain.vocabulary import RoleCode
from services.models import Agency, Staff


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    username: str
    full_name: str
    roles: list[RoleCode]
    agency_code: str
    agency_name: str


class MeOut(BaseModel):
    staff_id: uuid.UUID | None
    username: str
    roles: list[RoleCode]
    agency_id: uuid.UUID | None
    agency_code: str | None


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


# the account signing in, read on the counters' connection right after its attempt is counted (the
# request's session has not taken a connection yet: a request never holds two)
_ACCOUNT = "SELECT id, password_hash, active, demo FROM staff WHERE username = $1"


async def authenticate(
    session: AsyncSession,
    counters: Counters,
    settings: Settings,
    username: str,
    password: str,
    *,
    client_ip: str | None,
    now: datetime | None = None,
) -> IssuedToken:
    """A token for valid credentials; Unauthorized or TooManyRequests (audited by ``sign_in``) otherwise.

    ``session`` (the request's) must not have touched the database yet. ``now`` (the app's clock, which
    demo and tests may move) counts the attempts; the token's own times are real ones."""
    moment = now or datetime.now(UTC)
    async with counting(counters) as connection:
        attempt = await guessing.begin(
            connection, limits(settings), scope="login", address=client_ip, subject=username.lower(), now=moment
        )
        row = None
        if attempt.refused is None:
            row = await fetch_row(connection, _ACCOUNT, username)
    if attempt.refused is not None:
        raise attempt.refused
    # the hash is always checked (against a dummy when there is no such user): timing tells nothing
    correct = await verify_password_off_loop(settings, row["password_hash"] if row else None, password)
    if row is None or not correct or not row["active"] or (row["demo"] and not settings.demo):
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    async with counting(counters) as connection:
        await guessing.give_back(connection, attempt, now=moment)
    # made with older, costlier parameters: bring it in line (hashed before a connection is taken)
    rehashed = await hash_password_off_loop(settings, password) if needs_rehash(row["password_hash"]) else None
    staff = await session.scalar(
        select(Staff).where(Staff.id == row["id"]).options(selectinload(Staff.roles), selectinload(Staff.agency))
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


async def sign_in(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], counters: Counters,
    settings: Settings, username: str, password: str, *, origin: Origin, now: datetime,
) -> TokenOut:  # fmt: skip
    """``authenticate``, audited: login_ok, or login_failed / login_throttled with the reason."""
    resource = "POST /api/v1/auth/token"
    try:
        issued = await authenticate(
            session, counters, settings, username, password, client_ip=origin.client_ip, now=now
        )
    except (Unauthorized, TooManyRequests) as exc:
        action = "login_failed" if isinstance(exc, Unauthorized) else "login_throttled"
        entry = audit_entry(
            service="workflow", action=action, resource=resource, origin=origin, username=username[:64],
            detail={"reason": exc.code},
        )  # fmt: skip
        await record_now(sessionmaker, entry)  # the request's session holds no connection here
        raise
    entry = audit_entry(
        service="workflow", action="login_ok", resource=resource, origin=origin, username=issued.staff.username
    )
    record(session, entry)
    return TokenOut(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        username=issued.staff.username,
        full_name=issued.staff.full_name,
        roles=sorted(role.role_code for role in issued.staff.roles),
        agency_code=issued.agency.code,
        agency_name=issued.agency.name,
    )


async def sign_out(session: AsyncSession, actor: Actor, *, states: TokenStates, origin: Origin) -> None:
    """Every token of the account stops working, on all services; audited."""
    if actor.staff_id is None:
        raise Unauthorized("Only a staff token can be signed out.", code="staff_token_required")
    await revoke_tokens(session, actor.staff_id)
    states.forget(actor.staff_id)
    record(
        session,
        audit_entry(
            service="workflow", action="logout", resource="POST /api/v1/auth/logout", origin=origin, actor=actor
        ),
    )


def whoami(actor: Actor) -> MeOut:
    """The caller as the token describes them."""
    return MeOut(
        staff_id=actor.staff_id,
        username=actor.username,
        roles=sorted(actor.roles),
        agency_id=actor.agency_id,
        agency_code=actor.agency_code,
    )
