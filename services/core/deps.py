"""FastAPI dependencies shared by the three services."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.audit import Origin, audit_entry, record_now
from services.core.auth import Actor, decode_token
from services.core.clock import Clock
from services.core.config import Settings
from services.core.counters import Counters
from services.core.errors import DomainError, Forbidden, Unauthorized
from services.core.revocation import TokenStates
from services.domain.vocabulary import ACTING_ROLES, COUNTER_ROLES, MANAGER_ROLES, STAFF_ROLES, STATS_ROLES, RoleCode


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response leaves (scope="function"); rolled back when
    the route raises (the session closes with it open). A read-only route may end it early to hand its
    connection back while it waits on a render (``services.core.db.hand_back``): what it writes afterwards is
    the next transaction, committed here. (``session.begin()`` as a context manager forbids that early end.)"""
    async with get_sessionmaker(request)() as session:
        yield session
        await session.commit()


def get_counters(request: Request) -> Counters:
    """The small pool of the per-address and per-subject counters (services.core.counters, ratelimit,
    guessing): a flood of wrong guesses queues there, never in front of other requests for the main pool."""
    counters: Counters = request.app.state.counters
    return counters


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


# FastAPI runs a plain ``def`` dependency in a worker thread: these async twins of the look-ups above
# keep four thread hops per request off the hot path (they only read app.state)
async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _clock(request: Request) -> Clock:
    return get_clock(request)


async def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return get_sessionmaker(request)


async def _counters(request: Request) -> Counters:
    return get_counters(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessionmaker)]
CountersDep = Annotated[Counters, Depends(_counters)]

_bearer = HTTPBearer(auto_error=False, description="JWT from POST /api/v1/auth/token on workflow_api")


async def _deny(
    request: Request,
    *,
    action: str,
    reason: str,
    actor: Actor | None = None,
    username: str | None = None,
    dossier_id: uuid.UUID | None = None,
) -> None:
    await record_now(
        get_sessionmaker(request),
        audit_entry(
            service=request.app.state.service_name,
            action=action,
            resource=f"{request.method} {request.url.path}",
            request=request,
            actor=actor,
            username=username,
            dossier_id=dossier_id,
            detail={"reason": reason},
        ),
    )


async def audit_denial(request: Request, exc: DomainError) -> None:
    """Every denial is in the audit log: any 403 (a role, an agency, a step), and a staff caller's look-up of
    a dossier they may not see (a 404 marked ``denial``). Called by the problem handler, after the request's
    transaction ended, so it never holds a second connection."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if exc.status != 403 and actor is None:
        return
    dossier_id = getattr(exc, "dossier_id", None)
    await _deny(request, action="denied", reason=exc.code, actor=actor, dossier_id=dossier_id)


async def current_actor(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send a bearer token (POST /api/v1/auth/token on workflow_api).", code="missing_token")
    try:
        actor = decode_token(settings, credentials.credentials)
    except Unauthorized as exc:
        await _deny(request, action="token_rejected", reason=exc.code)
        raise
    if not await token_states(request).accepts(get_sessionmaker(request), actor):
        await _deny(request, action="token_rejected", reason="token_revoked", username=actor.username)
        raise Unauthorized("This token was signed out or the account changed; sign in again.", code="token_revoked")
    request.state.actor = actor
    return actor


def token_states(request: Request) -> TokenStates:
    """The process's cache of account token versions (made on first use)."""
    states: TokenStates | None = getattr(request.app.state, "token_states", None)
    if states is None:
        states = TokenStates(get_settings(request).auth.token_check_seconds)
        request.app.state.token_states = states
    return states


ActorDep = Annotated[Actor, Depends(current_actor)]


async def optional_actor(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    """The staff caller when a bearer token is sent; None for an anonymous citizen."""
    if credentials is None:
        return None
    return await current_actor(request, settings, credentials)


def require_roles(*roles: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency that lets through an actor holding one of ``roles`` and audits the others."""

    async def dependency(actor: ActorDep) -> Actor:
        if not actor.has_any(*roles):  # audited by the problem handler (audit_denial)
            raise Forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}.", code="role_required")
        return actor

    return dependency


# --- the named role dependencies: the role sets of services.domain.vocabulary, one name each -------

AdminActor = Annotated[Actor, Depends(require_roles(RoleCode.ADMIN))]
# every staff role: reading dossiers and the shared references (calendar, templates, directory)
StaffActor = Annotated[Actor, Depends(require_roles(*STAFF_ROLES))]
# staff who act on dossiers (everyone but the inspector)
ActingActor = Annotated[Actor, Depends(require_roles(*ACTING_ROLES))]
# the counter's work (an administrator may do it too)
CounterActor = Annotated[Actor, Depends(require_roles(*COUNTER_ROLES))]
# the agency's management and the administrator
ManagerActor = Annotated[Actor, Depends(require_roles(*MANAGER_ROLES))]
# the readers of the indicators and the overdue list
StatsActor = Annotated[Actor, Depends(require_roles(*STATS_ROLES))]


async def metrics_reader(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Prometheus, and nobody else: the bearer token ``MOTCUA_METRICS_TOKEN`` (compared in constant time).
    Without a token 401; with another (a staff token included) 403, audited; with the setting unset nobody
    passes. Not a staff role: a scraper holds no account, and an administrator's token is not a scraper's."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send the metrics bearer token.", code="missing_token")
    expected = settings.observe.metrics_token
    if expected is None or not hmac.compare_digest(
        credentials.credentials.encode(), expected.get_secret_value().encode()
    ):
        raise Forbidden("This token may not read the metrics.", code="metrics_token_required")


# the one gate of /metrics on the APIs and the workers' listeners (services.core.metrics)
MetricsReader = Depends(metrics_reader)


async def _origin(request: Request) -> Origin:
    return Origin.of(request)


# where the request came from, for the audit lines and idempotency scopes services write themselves
OriginDep = Annotated[Origin, Depends(_origin)]
