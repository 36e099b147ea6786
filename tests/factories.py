"""Typed factories: each makes one row with sensible defaults, flushed, in the caller's session."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import hash_password
from services.models import Agency, AgencyLevel, Dossier, Procedure, ProcedureVersion, Role, Staff, StaffRole

_PASSWORD_HASHES: dict[str, str] = {}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def ensure_level(session: AsyncSession, code: str = "province") -> AgencyLevel:
    level = await session.get(AgencyLevel, code)
    if level is None:
        level = AgencyLevel(code=code, name_vi=code, name_en=code, rank=0)
        session.add(level)
        await session.flush()
    return level


async def create_agency(session: AsyncSession, *, code: str | None = None, level: str = "province") -> Agency:
    await ensure_level(session, level)
    agency = Agency(code=code or unique("T.00."), name=f"Cơ quan thử {uuid.uuid4().hex[:4]}", level_code=level)
    session.add(agency)
    await session.flush()
    return agency


async def ensure_roles(session: AsyncSession, *codes: str) -> None:
    existing = set((await session.scalars(select(Role.code).where(Role.code.in_(codes)))).all())
    for code in set(codes) - existing:
        session.add(Role(code=code, name_vi=code, name_en=code))
    await session.flush()


async def create_staff(
    session: AsyncSession,
    *,
    agency: Agency,
    roles: tuple[str, ...] = ("specialist",),
    username: str | None = None,
    password: str = "correct horse",
    email: str | None = None,
) -> Staff:
    await ensure_roles(session, *roles)
    if password not in _PASSWORD_HASHES:
        _PASSWORD_HASHES[password] = hash_password(password)
    staff = Staff(
        username=username or unique("user."),
        full_name="Nguyễn Văn Thử",
        email=email,
        password_hash=_PASSWORD_HASHES[password],
        agency_id=agency.id,
        roles=[StaffRole(role_code=code) for code in roles],
    )
    session.add(staff)
    await session.flush()
    return staff


def now() -> datetime:
    return datetime.now(UTC)


async def create_procedure_version(
    session: AsyncSession,
    *,
    limit_value: int = 3,
    limit_unit: str = "working_days",
    restarts: bool = False,
    field: str = "Hộ tịch",
) -> ProcedureVersion:
    procedure = Procedure(code=unique("T."), name="Thủ tục thử nghiệm", field=field, level="commune")
    session.add(procedure)
    await session.flush()
    version = ProcedureVersion(
        procedure_id=procedure.id,
        version=1,
        valid_from=date(2025, 7, 1),
        published=True,
        time_limit_value=limit_value,
        time_limit_unit=limit_unit,
        clock_restarts_on_supplement=restarts,
        online_mode="partial",
    )
    session.add(version)
    await session.flush()
    return version


def new_dossier(agency: Agency, version: ProcedureVersion, **fields: Any) -> Dossier:
    """A dossier received at ``agency``'s desk (not added to a session): a made-up applicant, and any column
    given in ``fields`` (status, channel, dates, the step it stands at…) instead of the defaults."""
    values: dict[str, Any] = {
        "code": unique(f"{agency.code}-"),
        "procedure_version_id": version.id,
        "receiving_agency_id": agency.id,
        "current_agency_id": agency.id,
        "status": "received",
        "channel": 1,
        "applicant_name": "Nguyễn Văn An",
        "applicant_id_number": "001203004567",
        "applicant_phone": "0912345678",
        "return_method": "counter",
        "secret_hash": "x",
    }
    values.update(fields)
    return Dossier(**values)


async def create_dossier(
    session: AsyncSession,
    *,
    agency: Agency,
    version: ProcedureVersion,
    status: str = "received",
    channel: int = 1,
    phone: str = "0912345678",
    **fields: Any,
) -> Dossier:
    """``new_dossier`` added to ``session`` and flushed."""
    dossier = new_dossier(agency, version, status=status, channel=channel, applicant_phone=phone, **fields)
    session.add(dossier)
    await session.flush()
    return dossier
