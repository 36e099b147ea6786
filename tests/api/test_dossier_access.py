"""A dossier is visible only to its agencies; reads of its personal data are audited."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import AuditLog
from tests.factories import create_agency, create_dossier, create_procedure_version, create_staff


async def test_other_agencies_get_404_and_reads_are_audited(
    workflow: httpx.AsyncClient, session: AsyncSession, bearer
) -> None:  # type: ignore[no-untyped-def]
    ward = await create_agency(session, level="commune")
    elsewhere = await create_agency(session, level="commune")
    own = await create_staff(session, agency=ward, roles=("specialist",))
    stranger = await create_staff(session, agency=elsewhere, roles=("specialist",))
    dossier = await create_dossier(session, agency=ward, version=await create_procedure_version(session))
    await session.commit()

    seen = await workflow.get(f"/api/v1/dossiers/{dossier.code}", headers=bearer(own))
    assert seen.status_code == 200
    assert seen.json()["applicant"]["id_number"] == "001203004567"
    hidden = await workflow.get(f"/api/v1/dossiers/{dossier.code}", headers=bearer(stranger))
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "dossier_not_found"
    unknown = await workflow.get("/api/v1/dossiers/NO-SUCH-CODE", headers=bearer(own))
    assert unknown.json()["code"] == hidden.json()["code"]  # the same answer: codes cannot be probed

    readers = (
        await session.scalars(
            select(AuditLog.username).where(AuditLog.dossier_id == dossier.id, AuditLog.action == "read")
        )
    ).all()
    assert readers == [own.username]


async def test_the_apology_needs_the_right_role(workflow: httpx.AsyncClient, session: AsyncSession, bearer) -> None:  # type: ignore[no-untyped-def]
    ward = await create_agency(session, level="commune")
    specialist = await create_staff(session, agency=ward, roles=("specialist",))
    dossier = await create_dossier(session, agency=ward, version=await create_procedure_version(session))
    await session.commit()
    view = (await workflow.get(f"/api/v1/dossiers/{dossier.code}", headers=bearer(specialist))).json()
    assert view["allowed_actions"] == []
    response = await workflow.post(
        f"/api/v1/dossiers/{dossier.code}/transitions",
        json={"action": "apologize", "reason": "Chậm do xác minh", "new_appointment": "2026-12-01T09:00:00+07:00"},
        headers=bearer(specialist),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "action_forbidden"
