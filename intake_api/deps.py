"""intake_api's own dependencies (the shared ones are in services.core.deps)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.core.citizen_session import SESSION_COOKIE, decode_session
from services.core.deps import ClockDep, CountersDep, SessionDep, SettingsDep
from services.core.net import client_address
from services.intake.accounts import signed_in
from services.intake.citizen import Citizen, Reader
from services.models import CitizenAccount


async def _citizen(
    request: Request, session: SessionDep, counters: CountersDep, settings: SettingsDep, clock: ClockDep
) -> Citizen:
    return Citizen(session, counters, settings, client_address(request), clock.now())


CitizenDep = Annotated[Citizen, Depends(_citizen)]


async def _reader(request: Request) -> Reader:
    """One flat dependency for the hottest public read (tracking): FastAPI's resolution of a tree of
    sub-dependencies cost more than the route's own work (issue 14, bench/profiles/)."""
    state = request.app.state
    return Reader(state.counters, state.settings, client_address(request), state.clock.now())


ReaderDep = Annotated[Reader, Depends(_reader)]


async def _signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> CitizenAccount:
    """The signed-in citizen's account (their session cookie, at the account's current version); else 401."""
    return await signed_in(session, decode_session(settings, request.cookies.get(SESSION_COOKIE)))


SignedInDep = Annotated[CitizenAccount, Depends(_signed_in)]
