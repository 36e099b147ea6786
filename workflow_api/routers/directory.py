"""Administration of the directory: agencies, roles, staff accounts (administrators write, staff read).

Every change is audited with who did it; passwords never appear in the audit detail or a response.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from services.core.audit import audit_entry, record
from services.core.auth import hash_password_off_loop
from services.core.deps import AdminActor, SessionDep, SettingsDep, StaffActor
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
async def add_agency(body: AgencyIn, session: SessionDep, actor: AdminActor, request: Request) -> AgencyOut:
    """Add an agency or a unit inside one (administrators)."""
    created = await directory.create_agency(session, body)
    record(session, audit_entry(
        service="workflow", action="create", resource="POST /api/v1/agencies", request=request, actor=actor,
        detail={"agency_code": created.code},
    ))  # fmt: skip
    return created


@router.patch("/agencies/{code}", responses=problem_responses(401, 403, 404, 409, 422))
async def change_agency(
    code: AgencyCode, body: AgencyPatch, session: SessionDep, actor: AdminActor, request: Request
) -> AgencyOut:
    """Rename, move, set the cut-off, the address and hours for the postman, or close an agency (administrators)."""
    changed = await directory.update_agency(session, code, body)
    record(session, audit_entry(
        service="workflow", action="update", resource=f"PATCH /api/v1/agencies/{code}", request=request, actor=actor,
        detail={"agency_code": code, "fields": sorted(body.model_dump(exclude_unset=True))},
    ))  # fmt: skip
    return changed


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
    body: StaffIn, session: SessionDep, actor: AdminActor, request: Request, settings: SettingsDep
) -> StaffOut:
    """Create a staff account with its roles and first password (administrators)."""
    password_hash = await hash_password_off_loop(settings, body.password)  # before the session's connection
    created = await directory.create_staff(session, body, password_hash=password_hash)
    record(session, audit_entry(
        service="workflow", action="create", resource="POST /api/v1/staff", request=request, actor=actor,
        detail={"staff": body.username, "roles": created.roles, "agency_code": created.agency_code},
    ))  # fmt: skip
    return created


@router.patch("/staff/{username}", responses=problem_responses(401, 403, 404, 409, 422))
async def change_staff(
    username: Username, body: StaffPatch, session: SessionDep, actor: AdminActor, request: Request
) -> StaffOut:
    """Change a staff account's name, e-mail, agency, roles, or deactivate it (administrators)."""
    changed = await directory.update_staff(session, username, body, actor=actor)
    record(session, audit_entry(
        service="workflow", action="update", resource="PATCH /api/v1/staff/{username}", request=request,
        actor=actor,
        detail={
            "staff": username, "fields": sorted(body.model_dump(exclude_unset=True)), "roles": changed.roles,
            "active": changed.active,
        },
    ))  # fmt: skip
    return changed


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
    request: Request,
    settings: SettingsDep,
) -> None:
    """Set a new password for a staff account (administrators); the password is never logged.

    The account's older tokens stop working."""
    password_hash = await hash_password_off_loop(settings, body.password)  # before the session's connection
    await directory.set_password(session, username, password_hash=password_hash)
    record(session, audit_entry(
        service="workflow", action="update", resource="POST /api/v1/staff/{username}/password", request=request,
        actor=actor, detail={"staff": username},
    ))  # fmt: skip
