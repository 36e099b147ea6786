"""Staff sign-in (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from services.core.deps import (
    ActorDep,
    ClockDep,
    CountersDep,
    OriginDep,
    SessionDep,
    SessionmakerDep,
    SettingsDep,
    token_states,
)
from services.core.errors import problem_responses
from services.workflow import auth
from services.workflow.auth import MeOut, TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", responses=problem_responses(401, 429))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    counters: CountersDep,
    settings: SettingsDep,
    clock: ClockDep,
    origin: OriginDep,
) -> TokenOut:
    """Exchange a username and password for a short-lived bearer token."""
    return await auth.sign_in(
        session, sessionmaker, counters, settings, form.username, form.password, origin=origin, now=clock.now()
    )


@router.post("/logout", status_code=204, responses=problem_responses(401))
async def logout(request: Request, actor: ActorDep, session: SessionDep, origin: OriginDep) -> None:
    """Sign out: this token, and every other token of the account, stop working on all services.

    (Tokens carry the account's version; logging out raises it — "sign out everywhere".)"""
    await auth.sign_out(session, actor, states=token_states(request), origin=origin)


@router.get("/me", responses=problem_responses(401))
async def me(actor: ActorDep) -> MeOut:
    """The caller as the token describes them."""
    return auth.whoami(actor)
