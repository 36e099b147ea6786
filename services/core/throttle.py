"""Per-address limits on public writes (anti-automation): submissions, complaints, citizen writes, lookups.

Each limit is a fixed window (``MOTCUA_PUBLIC_WRITE_WINDOW_SECONDS``, an hour by default) counted
atomically in PostgreSQL (services.core.ratelimit) under the real client address
(services.core.net). The count is taken by a route dependency, which FastAPI solves before the
endpoint runs — so before the request's session takes its connection: a request never holds two
pooled connections. The counters have a small fixed pool of their own (``MOTCUA_DB_LIMITS_POOL_SIZE``,
4 per process, ``app.state.counters``, services.core.counters): the count is one statement, and a burst of requests
gets its 429s at once instead of queueing twice behind the requests holding the main pool. Every request
counts, whatever its outcome; over the limit it is a 429 problem with ``Retry-After`` (the seconds
until the window ends).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.security.utils import get_authorization_scheme_param

from services.core.clock import Clock
from services.core.config import Settings
from services.core.deps import get_counters
from services.core.net import client_address
from services.core.ratelimit import consume


class PublicWrite(StrEnum):
    """What is limited; the value names the bucket, the setting is ``public_writes.<value>_per_window``."""

    SUBMISSIONS = "submissions"
    COMPLAINTS = "complaints"
    CITIZEN_WRITES = "citizen_writes"
    TRACKING = "tracking"
    VERIFICATIONS = "verifications"


def limit_of(settings: Settings, kind: PublicWrite) -> int:
    limit: int = getattr(settings.public_writes, f"{kind.value}_per_window")
    return limit


def _sends_bearer_token(request: Request) -> bool:
    """Whether the route's bearer scheme will check a token (any other Authorization is anonymous)."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    return scheme.lower() == "bearer" and bool(credentials)


def _dependency(kind: PublicWrite, *, anonymous_only: bool) -> Callable[[Request], Awaitable[None]]:
    async def count(request: Request) -> None:
        if anonymous_only and _sends_bearer_token(request):
            return  # staff: the token is checked next (a bad one is a 401), staff are not limited here
        settings: Settings = request.app.state.settings
        clock: Clock = request.app.state.clock
        await consume(
            get_counters(request),
            f"public:{kind.value}:{client_address(request) or 'unknown'}",
            limit=limit_of(settings, kind),
            now=clock.now(),
            window=timedelta(seconds=settings.public_writes.window_seconds),
        )

    return count


_DEPENDENCIES: dict[tuple[PublicWrite, bool], DependsParam] = {
    (kind, anonymous_only): Depends(_dependency(kind, anonymous_only=anonymous_only))
    for kind in PublicWrite
    for anonymous_only in (False, True)
}


def per_address(kind: PublicWrite, *, anonymous_only: bool = False) -> DependsParam:
    """``dependencies=[per_address(PublicWrite.X)]`` on a route: counted before its session is used.

    ``anonymous_only``: a route that staff call too counts only the requests without a bearer token.
    """
    return _DEPENDENCIES[(kind, anonymous_only)]
