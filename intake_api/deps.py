"""intake_api's own dependencies (the shared ones are in services.core.deps)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.core.deps import ClockDep, CountersDep, SessionDep, SettingsDep
from services.core.net import client_address
from services.intake.citizen import Citizen, Reader


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
