"""Staff sign-in: verify the password, throttle repeated failures, audit every attempt."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.core.auth import issue_token, verify_password
from services.core.config import Settings
from services.core.errors import TooManyRequests, Unauthorized
from services.models import Agency, AuditLog, Staff

FAILURE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    staff: Staff
    agency: Agency


def throttle_seconds(failures: int, settings: Settings) -> float:
    """How long after the last failure the next attempt must wait: doubling past the threshold."""
    extra = failures - settings.login_failures_before_delay
    if extra < 0:
        return 0.0
    return float(min(settings.login_delay_max_seconds, 2.0**extra))


async def recent_failures(session: AsyncSession, username: str, now: datetime) -> tuple[int, datetime | None]:
    """Failed logins for ``username`` in the window since its last success, and the latest one."""
    last_ok = (
        select(func.max(AuditLog.at))
        .where(AuditLog.username == username, AuditLog.action == "login_ok")
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(func.count(), func.max(AuditLog.at)).where(
                AuditLog.username == username,
                AuditLog.action == "login_failed",
                AuditLog.at > now - FAILURE_WINDOW,
                AuditLog.at > func.coalesce(last_ok, now - FAILURE_WINDOW),
            )
        )
    ).one()
    return int(row[0]), row[1]


async def check_throttle(session: AsyncSession, settings: Settings, username: str, now: datetime) -> None:
    failures, last_failure = await recent_failures(session, username, now)
    wait = throttle_seconds(failures, settings)
    if wait and last_failure is not None:
        remaining = (last_failure + timedelta(seconds=wait) - now).total_seconds()
        if remaining > 0:
            raise TooManyRequests(
                "Too many failed sign-ins; wait before trying again.",
                code="login_throttled",
                retry_after=math.ceil(remaining),
            )


async def authenticate(
    session: AsyncSession, settings: Settings, username: str, password: str, now: datetime | None = None
) -> IssuedToken:
    """Return a token for valid credentials; raise Unauthorized (audited by the caller) otherwise."""
    moment = now or datetime.now(UTC)
    await check_throttle(session, settings, username, moment)
    staff = await session.scalar(
        select(Staff).where(Staff.username == username).options(selectinload(Staff.roles), selectinload(Staff.agency))
    )
    if not verify_password(staff.password_hash if staff else None, password) or staff is None or not staff.active:
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    token, expires_in = issue_token(
        settings,
        subject=str(staff.id),
        username=staff.username,
        roles=[role.role_code for role in staff.roles],
        agency_id=staff.agency_id,
        agency_code=staff.agency.code,
        now=moment,
    )
    return IssuedToken(access_token=token, expires_in=expires_in, staff=staff, agency=staff.agency)
