"""Administration of the directory: agencies, roles, staff accounts (administrators write, staff read).

Every change is audited with who did it (services.workflow.directory); passwords never appear in the audit
detail or a response.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from services.core.deps import AdminActor, OriginDep, SessionDep, SettingsDep, StaffActor
from services.core.errors import problem_responses
from services.workflow import directory
from services.workflow.directory import (
    AgencyIn,
    AgencyLevelOut,
    AgencyOut,
    AgencyPatch,
    PasswordIn,
    RoleOut,
    StaffIn,
    StaffOut,
    StaffPatch,
)

router = APIRouter(prefix="/api/v1", tags=["directory"])
AgencyCode = Annotated[str, Path(min_length=1, max_length=64)]
Username = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/agency-levels", responses=problem_responses(401, 403))
async def agency_levels(session: SessionDep, _: StaffActor) -> list[AgencyLevelOut]:
    """The levels agencies sit at (province, department, ward …), top first."""
    return await directory.list_levels(session)


@router.get("/agencies", responses=problem_responses(401, 403))
async def agencies(session: SessionDep, _: StaffActor) -> list[AgencyOut]:
    """Every agency and unit, with its parent and its number of active staff."""
    return await directory.list_agencies(session)


@router.post("/agencies", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 404, 409, 422))
async def add_agency(body: AgencyIn, session: SessionDep, actor: AdminActor, origin: OriginDep) -> AgencyOut:
    """Add an agency or a unit inside one (administrators)."""
    return await directory.add_agency(session, body, actor=actor, origin=origin)


@router.patch("/agencies/{code}", responses=problem_responses(401, 403, 404, 409, 422))
async def change_agency(
    code: AgencyCode, body: AgencyPatch, session: SessionDep, actor: AdminActor, origin: OriginDep
) -> AgencyOut:
    """Rename, move, set the cut-off, the address and hours for the postman, or close an agency (administrators)."""
    return await directory.change_agency(session, code, body, actor=actor, origin=origin)


@router.get("/roles", responses=problem_responses(401, 403))
async def roles(session: SessionDep, _: StaffActor) -> list[RoleOut]:
    """The roles a staff account can hold, with their Vietnamese and English names."""
    return await directory.list_roles(session)


@router.get("/staff", responses=problem_responses(401, 403))
async def staff_accounts(
    session: SessionDep,
    _: AdminActor,
    agency: Annotated[str | None, Query(max_length=64, description="agency code")] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the username or name")] = None,
    active: bool | None = None,
) -> list[StaffOut]:
    """Staff accounts (administrators), at most 500, by username."""
    return await directory.list_staff(session, agency=agency, role=role, q=q, active=active)


@router.post("/staff", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 404, 409, 422))
async def add_staff(
    body: StaffIn, session: SessionDep, actor: AdminActor, origin: OriginDep, settings: SettingsDep
) -> StaffOut:
    """Create a staff account with its roles and first password (administrators)."""
    return await directory.add_staff(session, settings, body, actor=actor, origin=origin)


@router.patch("/staff/{username}", responses=problem_responses(401, 403, 404, 409, 422))
async def change_staff(
    username: Username, body: StaffPatch, session: SessionDep, actor: AdminActor, origin: OriginDep
) -> StaffOut:
    """Change a staff account's name, e-mail, agency, roles, or deactivate it (administrators)."""
    return await directory.change_staff(session, username, body, actor=actor, origin=origin)


@router.post(
    "/staff/{username}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
async def reset_password(
    username: Username,
    body: PasswordIn,
    session: SessionDep,
    actor: AdminActor,
    origin: OriginDep,
    settings: SettingsDep,
) -> None:
    """Set a new password for a staff account (administrators); the password is never logged.

    The account's older tokens stop working."""
    await directory.reset_password(session, settings, username, body, actor=actor, origin=origin)
