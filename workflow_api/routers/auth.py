"""Staff sign-in (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from services.core.audit import audit_entry, record, record_now
from services.core.deps import ActorDep, ClockDep, CountersDep, SessionDep, SessionmakerDep, SettingsDep, token_states
from services.core.errors import TooManyRequests, Unauthorized, problem_responses
from services.core.net import client_address
from services.core.revocation import revoke_tokens
from services.domain.vocabulary import RoleCode
from services.workflow.auth import authenticate

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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


@router.post("/token", responses=problem_responses(401, 429))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    counters: CountersDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenOut:
    """Exchange a username and password for a short-lived bearer token."""
    try:
        issued = await authenticate(
            session, counters, settings, form.username, form.password, client_ip=client_address(request),
            now=clock.now(),
        )  # fmt: skip
    except (Unauthorized, TooManyRequests) as exc:
        action = "login_failed" if isinstance(exc, Unauthorized) else "login_throttled"
        entry = audit_entry(
            service="workflow", action=action, resource="POST /api/v1/auth/token", request=request,
            username=form.username[:64], detail={"reason": exc.code},
        )  # fmt: skip
        await record_now(sessionmaker, entry)  # the request's session holds no connection here
        raise
    record(
        session,
        audit_entry(
            service="workflow",
            action="login_ok",
            resource="POST /api/v1/auth/token",
            request=request,
            username=issued.staff.username,
        ),
    )
    return TokenOut(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        username=issued.staff.username,
        full_name=issued.staff.full_name,
        roles=sorted(role.role_code for role in issued.staff.roles),
        agency_code=issued.agency.code,
        agency_name=issued.agency.name,
    )


@router.post("/logout", status_code=204, responses=problem_responses(401))
async def logout(request: Request, actor: ActorDep, session: SessionDep) -> None:
    """Sign out: this token, and every other token of the account, stop working on all services.

    (Tokens carry the account's version; logging out raises it — "sign out everywhere".)"""
    if actor.staff_id is None:
        raise Unauthorized("Only a staff token can be signed out.", code="staff_token_required")
    await revoke_tokens(session, actor.staff_id)
    token_states(request).forget(actor.staff_id)
    record(
        session,
        audit_entry(
            service="workflow", action="logout", resource="POST /api/v1/auth/logout", request=request, actor=actor
        ),
    )


@router.get("/me", responses=problem_responses(401))
async def me(actor: ActorDep) -> MeOut:
    """The caller as the token describes them."""
    return MeOut(
        staff_id=actor.staff_id,
        username=actor.username,
        roles=sorted(actor.roles),
        agency_id=actor.agency_id,
        agency_code=actor.agency_code,
    )
