"""The audit trail: personal-data reads and changes, failed logins, denied authorisations."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from services.core.auth import Actor
from services.core.logging import request_id_var
from services.core.net import client_address
from services.models import AuditLog
from services.models.audit import RESOURCE_CHARS, USERNAME_CHARS

logger = logging.getLogger("motcua.audit")


def _client(request: Request | None) -> tuple[str | None, str | None]:
    if request is None:
        return None, None
    host = client_address(request)
    return host, (request.headers.get("user-agent") or "")[:300] or None


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as an audit line and an idempotency scope need it.

    The router takes it from the request (``Origin.of``) so that a service writes its own audit line
    without being handed the HTTP request."""

    service: str  # the service answering: intake, workflow or notify
    route: str  # "POST /api/v1/dossiers": the method and the path as called
    client_ip: str | None
    user_agent: str | None

    @classmethod
    def of(cls, request: Request) -> Origin:
        ip, user_agent = _client(request)
        return cls(
            service=request.app.state.service_name,
            route=f"{request.method} {request.url.path}",
            client_ip=ip,
            user_agent=user_agent,
        )


def audit_entry(
    *,
    service: str,
    action: str,
    resource: str,
    request: Request | None = None,
    origin: Origin | None = None,
    actor: Actor | None = None,
    username: str | None = None,
    dossier_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """One audit line; the client is read from ``origin`` when given, else from ``request``."""
    ip, user_agent = (origin.client_ip, origin.user_agent) if origin is not None else _client(request)
    return AuditLog(
        service=service,
        action=action,
        # cut to the column's width, never refused: a long path must not lose a denial
        resource=resource[:RESOURCE_CHARS],
        actor_staff_id=actor.staff_id if actor else None,
        username=(actor.username if actor else username or "")[:USERNAME_CHARS] or None,
        dossier_id=dossier_id,
        client_ip=ip,
        user_agent=user_agent,
        request_id=request_id_var.get(),
        detail=detail or {},
    )


def record(session: AsyncSession, entry: AuditLog) -> None:
    """Within the request's transaction: kept exactly when the change or read is."""
    session.add(entry)


_LINES = cast(Table, AuditLog.__table__)
# every column but the two the table fills (the id, the instant): a column added to the table is written too
_GIVEN = tuple(column.key for column in _LINES.columns if column.key not in {"id", "at"})
_INSERT = insert(_LINES)  # Core: compiled once for these columns


async def write(session: AsyncSession, entry: AuditLog) -> None:
    """Within the request's transaction, as ``record``, but written now by one Core insert rather than flushed at
    commit as an ORM object: the unit of work around one line cost a counter filing more CPU than its insert
    (issue 14: ≈ 0.3 ms a filing, bench/profiles/2026-12-06-sender.md)."""
    await session.execute(_INSERT, {name: getattr(entry, name) for name in _GIVEN})


def record_printed(session: AsyncSession, origin: Origin, actor: Actor, dossier_id: uuid.UUID, form: str) -> None:
    """A printed form holds the applicant's personal data: the print is a read of the dossier."""
    entry = audit_entry(
        service=origin.service, action="read", resource=origin.route, origin=origin, actor=actor,
        dossier_id=dossier_id, detail={"form": form},
    )  # fmt: skip
    record(session, entry)


async def record_now(sessionmaker: async_sessionmaker[AsyncSession], entry: AuditLog) -> None:
    """In a transaction of its own: for failures, whose request transaction rolls back."""
    try:
        async with sessionmaker() as session, session.begin():
            session.add(entry)
    except Exception:  # an audit write must not turn a 401 into a 500
        logger.exception("could not write audit entry", extra={"audit_action": entry.action})
