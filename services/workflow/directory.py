"""The directory the administrators keep: agencies (cơ quan, đơn vị), staff accounts and their roles.

Decisions:
- Nothing is deleted. An agency that closes gets ``valid_to``; a staff member who leaves is made inactive
  (``active = false``): dossiers, audit entries and statistics keep pointing at them. An inactive account
  cannot sign in; a token already issued lives out its short lifetime (MOTCUA_JWT_TTL_MINUTES).
- An administrator cannot take the ``admin`` role away from their own account nor deactivate it, so a
  province is never left without anyone who can administer it by one mistaken click.
- Passwords set here follow the sign-in rules: 8 to 128 characters, stored as argon2 hashes, never echoed.
  A password is hashed before the request's session takes a connection (the hash takes a worker thread
  for a while; no pooled connection waits on it).
- Every change is audited with who did it (the entry points at the end of this module); passwords never
  appear in the audit detail or a response.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, time

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor, hash_password_off_loop
from services.core.config import Settings
from services.core.errors import Conflict, NotFound, Unprocessable
from services.core.revocation import revoke_tokens
from services.core.validation import IsoDate, StrictModel, WallTime
from services.domain.vocabulary import RoleCode
from services.models import Agency, AgencyLevel, Role, Staff, StaffRole

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AgencyLevelOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    rank: int


class AgencyOut(BaseModel):
    code: str
    name: str
    level_code: str
    parent_code: str | None
    is_one_stop_desk: bool
    counter_cutoff: WallTime
    valid_from: date | None
    valid_to: date | None
    street_address: str | None = Field(description="where the postman hands over dossiers and collects results")
    postal_hours: str | None = Field(description="when the desk receives the postman")
    staff_count: int


class AgencyIn(StrictModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=64, description="e.g. 000.17.22.H56; letters, digits, . _ -")
    name: str = Field(min_length=2, max_length=300)
    level_code: str = Field(min_length=1, max_length=32)
    parent_code: str | None = Field(default=None, max_length=64)
    is_one_stop_desk: bool = Field(default=False, strict=True)
    counter_cutoff: WallTime = time(15, 0)
    valid_from: IsoDate | None = None
    street_address: str | None = Field(default=None, min_length=5, max_length=300)
    postal_hours: str | None = Field(
        default=None, min_length=3, max_length=200, description="e.g. Thứ Hai–Thứ Sáu 7:30–11:30"
    )

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("letters, digits, '.', '_' and '-' only")
        return value


class AgencyPatch(StrictModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=300)
    parent_code: str | None = Field(default=None, max_length=64)
    is_one_stop_desk: bool | None = Field(default=None, strict=True)
    counter_cutoff: WallTime | None = None
    valid_to: IsoDate | None = None
    street_address: str | None = Field(default=None, min_length=5, max_length=300, description="null clears it")
    postal_hours: str | None = Field(default=None, min_length=3, max_length=200, description="null clears it")


class RoleOut(BaseModel):
    code: str
    name_vi: str
    name_en: str


class StaffOut(BaseModel):
    username: str
    full_name: str
    email: str | None
    agency_code: str
    agency_name: str
    unit_code: str | None
    roles: list[RoleCode]
    active: bool


class StaffIn(StrictModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    username: str = Field(min_length=2, max_length=64, description="lower-case letters, digits, . _ -")
    full_name: str = Field(min_length=2, max_length=200)
    email: EmailStr | None = None
    agency_code: str = Field(min_length=1, max_length=64)
    unit_code: str | None = Field(default=None, max_length=64)
    roles: list[str] = Field(min_length=1, max_length=10)
    password: str = Field(min_length=8, max_length=128)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not _USERNAME.match(value):
            raise ValueError("lower-case letters, digits, '.', '_' and '-' only")
        return value


class StaffPatch(StrictModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    full_name: str | None = Field(default=None, min_length=2, max_length=200)
    email: EmailStr | None = None
    agency_code: str | None = Field(default=None, max_length=64)
    unit_code: str | None = Field(default=None, max_length=64)
    roles: list[str] | None = Field(default=None, min_length=1, max_length=10)
    active: bool | None = Field(default=None, strict=True)


class PasswordIn(StrictModel):
    password: str = Field(min_length=8, max_length=128)


# --- agencies -------------------------------------------------------------------------------------------


async def list_levels(session: AsyncSession) -> list[AgencyLevelOut]:
    rows = await session.scalars(select(AgencyLevel).order_by(AgencyLevel.rank, AgencyLevel.code))
    return [AgencyLevelOut(code=r.code, name_vi=r.name_vi, name_en=r.name_en, rank=r.rank) for r in rows]


async def _agency(session: AsyncSession, code: str) -> Agency:
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"No agency {code!r}.")
    return agency


async def _agency_out(session: AsyncSession, agencies: list[Agency]) -> list[AgencyOut]:
    ids = [agency.id for agency in agencies]
    counts = dict(
        (
            await session.execute(
                select(Staff.agency_id, func.count())
                .where(Staff.agency_id.in_(ids), Staff.active)
                .group_by(Staff.agency_id)
            )
        ).all()
    )
    parent_ids = {agency.parent_id for agency in agencies if agency.parent_id}
    parents = dict((await session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(parent_ids)))).all())
    return [
        AgencyOut(
            code=agency.code,
            name=agency.name,
            level_code=agency.level_code,
            parent_code=parents.get(agency.parent_id) if agency.parent_id else None,
            is_one_stop_desk=agency.is_one_stop_desk,
            counter_cutoff=agency.counter_cutoff,
            valid_from=agency.valid_from,
            valid_to=agency.valid_to,
            street_address=agency.street_address,
            postal_hours=agency.postal_hours,
            staff_count=counts.get(agency.id, 0),
        )
        for agency in agencies
    ]


async def list_agencies(session: AsyncSession) -> list[AgencyOut]:
    agencies = list(await session.scalars(select(Agency).order_by(Agency.level_code, Agency.name)))
    return await _agency_out(session, agencies)


async def create_agency(session: AsyncSession, body: AgencyIn) -> AgencyOut:
    if await session.scalar(select(Agency.id).where(Agency.code == body.code)):
        raise Conflict(f"An agency with code {body.code!r} exists already.")
    if await session.get(AgencyLevel, body.level_code) is None:
        raise Unprocessable(f"No agency level {body.level_code!r}.")
    parent = await _agency(session, body.parent_code) if body.parent_code else None
    agency = Agency(
        code=body.code,
        name=body.name,
        level_code=body.level_code,
        parent_id=parent.id if parent else None,
        is_one_stop_desk=body.is_one_stop_desk,
        counter_cutoff=body.counter_cutoff,
        valid_from=body.valid_from,
        street_address=body.street_address,
        postal_hours=body.postal_hours,
    )
    session.add(agency)
    await session.flush()
    return (await _agency_out(session, [agency]))[0]


async def update_agency(session: AsyncSession, code: str, body: AgencyPatch) -> AgencyOut:
    agency = await _agency(session, code)
    changes = body.model_dump(exclude_unset=True)
    if "parent_code" in changes:
        parent = await _agency(session, changes["parent_code"]) if changes["parent_code"] else None
        if parent is not None and await _is_descendant(session, parent.id, agency.id):
            raise Conflict("An agency cannot be placed under itself or one of its own units.")
        agency.parent_id = parent.id if parent else None
    clearable = {"valid_to", "street_address", "postal_hours"}
    for name in ("name", "is_one_stop_desk", "counter_cutoff", *sorted(clearable)):
        if name in changes and (changes[name] is not None or name in clearable):
            setattr(agency, name, changes[name])
    await session.flush()
    return (await _agency_out(session, [agency]))[0]


async def _is_descendant(session: AsyncSession, candidate: uuid.UUID, ancestor: uuid.UUID) -> bool:
    current: uuid.UUID | None = candidate
    seen: set[uuid.UUID] = set()
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        current = await session.scalar(select(Agency.parent_id).where(Agency.id == current))
    return False


# --- roles and staff ------------------------------------------------------------------------------------


async def list_roles(session: AsyncSession) -> list[RoleOut]:
    return [RoleOut(code=r.code, name_vi=r.name_vi, name_en=r.name_en) for r in await session.scalars(select(Role))]


async def _check_roles(session: AsyncSession, roles: list[str]) -> list[str]:
    wanted = sorted(set(roles))
    known = set(await session.scalars(select(Role.code).where(Role.code.in_(wanted))))
    unknown = [role for role in wanted if role not in known]
    if unknown:
        raise Unprocessable(f"Unknown roles: {', '.join(unknown)}.")
    return wanted


async def _staff(session: AsyncSession, username: str) -> Staff:
    staff = await session.scalar(
        select(Staff).where(Staff.username == username).options(selectinload(Staff.roles), selectinload(Staff.agency))
    )
    if staff is None:
        raise NotFound(f"No staff account {username!r}.")
    return staff


async def _unit_codes(session: AsyncSession, staff: Sequence[Staff]) -> dict[uuid.UUID, str]:
    ids = {member.unit_id for member in staff if member.unit_id}
    return dict((await session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(ids)))).all()) if ids else {}


def _staff_row(staff: Staff, units: Mapping[uuid.UUID, str]) -> StaffOut:
    return StaffOut(
        username=staff.username,
        full_name=staff.full_name,
        email=staff.email,
        agency_code=staff.agency.code,
        agency_name=staff.agency.name,
        unit_code=units.get(staff.unit_id) if staff.unit_id else None,
        roles=sorted(role.role_code for role in staff.roles),
        active=staff.active,
    )


async def _staff_out(session: AsyncSession, staff: Staff) -> StaffOut:
    return _staff_row(staff, await _unit_codes(session, [staff]))


async def list_staff(
    session: AsyncSession, *, agency: str | None, role: str | None, q: str | None, active: bool | None
) -> list[StaffOut]:
    query = select(Staff).options(selectinload(Staff.roles), selectinload(Staff.agency)).order_by(Staff.username)
    if agency:
        query = query.join(Agency, Agency.id == Staff.agency_id).where(Agency.code == agency)
    if role:
        query = query.where(Staff.roles.any(StaffRole.role_code == role))
    if q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(Staff.username.ilike(pattern) | Staff.full_name.ilike(pattern))
    if active is not None:
        query = query.where(Staff.active.is_(active))
    found = list(await session.scalars(query.limit(500)))
    units = await _unit_codes(session, found)  # one query for the page, not one per account
    return [_staff_row(staff, units) for staff in found]


async def _unit_id(session: AsyncSession, unit_code: str | None) -> uuid.UUID | None:
    return (await _agency(session, unit_code)).id if unit_code else None


async def create_staff(session: AsyncSession, body: StaffIn, *, password_hash: str) -> StaffOut:
    """``password_hash``: hashed by the caller before the session takes a connection (argon2 is slow)."""
    if await session.scalar(select(Staff.id).where(Staff.username == body.username)):
        raise Conflict(f"The username {body.username!r} is taken.")
    roles = await _check_roles(session, body.roles)
    agency = await _agency(session, body.agency_code)
    staff = Staff(
        username=body.username,
        full_name=body.full_name,
        email=str(body.email) if body.email else None,
        password_hash=password_hash,
        agency_id=agency.id,
        unit_id=await _unit_id(session, body.unit_code),
        active=True,
        roles=[StaffRole(role_code=role) for role in roles],
    )
    session.add(staff)
    await session.flush()
    return await _staff_out(session, await _staff(session, body.username))


async def update_staff(session: AsyncSession, username: str, body: StaffPatch, *, actor: Actor) -> StaffOut:
    staff = await _staff(session, username)
    changes = body.model_dump(exclude_unset=True)
    own = staff.id == actor.staff_id
    if own and changes.get("active") is False:
        raise Conflict("You cannot deactivate your own account.")
    if own and changes.get("roles") is not None and "admin" not in changes["roles"]:
        raise Conflict("You cannot take the admin role away from your own account.")
    if changes.get("full_name"):
        staff.full_name = changes["full_name"]
    if "email" in changes:
        staff.email = str(changes["email"]) if changes["email"] else None
    if changes.get("agency_code"):
        staff.agency_id = (await _agency(session, changes["agency_code"])).id
    if "unit_code" in changes:
        staff.unit_id = await _unit_id(session, changes["unit_code"])
    if changes.get("roles") is not None:
        roles = await _check_roles(session, changes["roles"])
        staff.roles = [StaffRole(role_code=role) for role in roles]
    if changes.get("active") is not None:
        staff.active = changes["active"]
    if _access_changed(changes):
        await revoke_tokens(session, staff.id)  # the account's older tokens stop working
    await session.flush()
    session.expire(staff)
    return await _staff_out(session, await _staff(session, username))


def _access_changed(changes: dict[str, object]) -> bool:
    """A deactivation, a role, agency or unit change: what the account's tokens say is out of date."""
    return changes.get("active") is False or any(
        changes.get(key) is not None for key in ("roles", "agency_code", "unit_code")
    )


async def set_password(session: AsyncSession, username: str, *, password_hash: str) -> None:
    staff = await _staff(session, username)
    staff.password_hash = password_hash
    await revoke_tokens(session, staff.id)
    await session.flush()


# --- the administrators' audited changes ---------------------------------------------------------------


def _audited(
    session: AsyncSession, origin: Origin, actor: Actor, action: str, resource: str, detail: dict[str, object]
) -> None:
    entry = audit_entry(service="workflow", action=action, resource=resource, origin=origin, actor=actor, detail=detail)
    record(session, entry)


async def add_agency(session: AsyncSession, body: AgencyIn, *, actor: Actor, origin: Origin) -> AgencyOut:
    """``create_agency``, audited."""
    created = await create_agency(session, body)
    _audited(session, origin, actor, "create", "POST /api/v1/agencies", {"agency_code": created.code})
    return created


async def change_agency(
    session: AsyncSession, code: str, body: AgencyPatch, *, actor: Actor, origin: Origin
) -> AgencyOut:
    """``update_agency``, audited with the fields changed."""
    changed = await update_agency(session, code, body)
    _audited(
        session, origin, actor, "update", f"PATCH /api/v1/agencies/{code}",
        {"agency_code": code, "fields": sorted(body.model_dump(exclude_unset=True))},
    )  # fmt: skip
    return changed


async def add_staff(
    session: AsyncSession, settings: Settings, body: StaffIn, *, actor: Actor, origin: Origin
) -> StaffOut:
    """``create_staff`` with the first password hashed, audited (without the password)."""
    password_hash = await hash_password_off_loop(settings, body.password)  # before the session's connection
    created = await create_staff(session, body, password_hash=password_hash)
    _audited(
        session, origin, actor, "create", "POST /api/v1/staff",
        {"staff": body.username, "roles": created.roles, "agency_code": created.agency_code},
    )  # fmt: skip
    return created


async def change_staff(
    session: AsyncSession, username: str, body: StaffPatch, *, actor: Actor, origin: Origin
) -> StaffOut:
    """``update_staff``, audited with the fields changed and the roles and state after."""
    changed = await update_staff(session, username, body, actor=actor)
    _audited(
        session, origin, actor, "update", "PATCH /api/v1/staff/{username}",
        {
            "staff": username, "fields": sorted(body.model_dump(exclude_unset=True)), "roles": changed.roles,
            "active": changed.active,
        },
    )  # fmt: skip
    return changed


async def reset_password(
    session: AsyncSession, settings: Settings, username: str, body: PasswordIn, *, actor: Actor, origin: Origin
) -> None:
    """``set_password`` with the new password hashed; audited (the password is never logged)."""
    password_hash = await hash_password_off_loop(settings, body.password)  # before the session's connection
    await set_password(session, username, password_hash=password_hash)
    _audited(session, origin, actor, "update", "POST /api/v1/staff/{username}/password", {"staff": username})
