"""A small intake world: a ward desk receiving one procedure, its counter officer and a citizen body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.models import Agency, ProcedureAgency, ProcedureDocument, ProcedureVersion, Staff
from tests.factories import create_agency, create_procedure_version, create_staff

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Desk:
    agency: Agency
    version: ProcedureVersion
    procedure_code: str
    officer: Staff
    specialist: Staff


async def create_desk(
    session: AsyncSession, *, days: int = 3, online_mode: str = "partial", restarts: bool = False
) -> Desk:
    agency = await create_agency(session, level="commune")
    version = await create_procedure_version(session, limit_value=days, restarts=restarts)
    version.online_mode = online_mode
    session.add(ProcedureAgency(version_id=version.id, agency_id=agency.id, role="receiving"))
    for position, name in enumerate(("Tờ khai theo mẫu", "Giấy chứng sinh"), start=1):
        session.add(
            ProcedureDocument(
                version_id=version.id, position=position, code=f"D0{position}", name=name, form="original"
            )
        )
    officer = await create_staff(session, agency=agency, roles=("counter",))
    specialist = await create_staff(session, agency=agency, roles=("specialist",))
    await session.flush()
    from services.models import Procedure

    procedure = await session.get(Procedure, version.procedure_id)
    assert procedure is not None
    return Desk(agency=agency, version=version, procedure_code=procedure.code, officer=officer, specialist=specialist)


def submission(desk: Desk, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "procedure_code": desk.procedure_code,
        "applicant": {
            "full_name": "Nguyễn Thị Thu Hà",
            "id_number": "031190004567",
            "phone": "0912 345 678",
            "email": "thuha@example.vn",
            "address": "Số 12 Lạch Tray, phường Lê Chân, Hải Phòng",
        },
        "return_method": "counter",
    }
    body.update(overrides)
    return body


async def filed_at_the_counter(
    intake: httpx.AsyncClient,
    session: AsyncSession,
    bearer: Callable[..., dict[str, str]],
    travel: Callable[[datetime], None],
) -> tuple[Desk, dict[str, str], str, str]:
    """A desk, its officer's headers, and a dossier the officer filed at the counter (received at once) on Monday
    23 November 2026 at 09:00: its code and its secret."""
    desk = await create_desk(session)
    await session.commit()
    officer = bearer(desk.officer)
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    created = (await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)).json()
    return desk, officer, created["code"], created["secret"]
