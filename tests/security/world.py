"""A small routed world for access tests, on one connection the three apps share inside the test's
transaction (rolled back at the end): a receiving desk, the department that resolves, an unrelated
agency and the province; a member of every demo role in each; one dossier in each state that matters.

The template is the demo's land procedure in miniature: received at the desk (counter), appraised by
the department's specialist, approved by its head, returned at the desk (counter).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.core.config import Settings
from services.models import (
    Agency,
    Document,
    Dossier,
    Handover,
    Procedure,
    ProcedureAgency,
    ProcedureVersion,
    SlaTimer,
    Staff,
    WorkflowTemplate,
)
from tests.apps import new_client
from tests.factories import create_agency, create_procedure_version, create_staff, new_dossier
from tests.intake.setup import PDF
from tests.tokens import bearer_for
from tests.workflow_setup import add_template

ROLES = ("counter", "specialist", "head", "leader", "inspector")
PLACES = ("desk", "unit", "elsewhere")
STATES = ("submitted", "received", "processing", "approval", "resolved")
STEP_ACTIONS = ["forward", "send_back", "request_supplement", "request_payment", "transfer", "stop"]


def actor_key(role: str, place: str) -> str:
    return f"{role}@{place}"


ACTORS = (*(actor_key(role, place) for role in ROLES for place in PLACES), "admin")


@dataclass
class World:
    connection: AsyncConnection
    session: AsyncSession
    clients: dict[str, httpx.AsyncClient]
    agencies: dict[str, Agency]
    staff: dict[str, Staff]
    headers: dict[str, dict[str, str]]
    codes: dict[str, str] = field(default_factory=dict)
    document_id: str = ""
    version: ProcedureVersion | None = None
    procedure_code: str = ""

    async def call(
        self, service: str, method: str, path: str, *, actor: str | None, keep: bool = False, **kw: Any
    ) -> httpx.Response:
        """One request as ``actor``; its effects are rolled back unless ``keep``."""
        headers = self.headers[actor] if actor else {}
        if keep:
            return await self.clients[service].request(method, path, headers=headers, **kw)
        nested = await self.connection.begin_nested()
        try:
            return await self.clients[service].request(method, path, headers=headers, **kw)
        finally:
            await nested.rollback()


async def _template(session: AsyncSession, version: ProcedureVersion, unit: Agency) -> WorkflowTemplate:
    steps = [
        ("receive", None, "counter", 0, ["forward"]),
        ("appraise", unit, "specialist", 2, STEP_ACTIONS),
        ("approve", unit, "head", 1, ["forward", "send_back", "resolve", "stop"]),
        ("return", None, "counter", 0, ["return_result"]),
    ]
    return await add_template(session, version, steps)


def _timer(dossier: Dossier, *, kind: str, at: datetime, position: int | None = None, agency: Agency | None = None,
           assignee: Staff | None = None) -> SlaTimer:  # fmt: skip
    return SlaTimer(
        dossier_id=dossier.id, kind=kind, step_seq=0 if kind == "dossier" else 1, step_position=position,
        agency_id=agency.id if agency else dossier.receiving_agency_id, assignee_id=assignee.id if assignee else None,
        budget_seconds=3 * 8 * 3600, started_at=at, due_at=at + timedelta(days=5), due_soon_at=at + timedelta(days=4),
    )  # fmt: skip


async def _dossiers(world: World, template: WorkflowTemplate, settings: Settings) -> None:
    session, desk, unit = world.session, world.agencies["desk"], world.agencies["unit"]
    assert world.version is not None
    now = datetime.now(UTC) - timedelta(hours=1)
    placed = {
        # state: (status, step, current agency, assignee)
        "submitted": ("submitted", None, desk, None),
        "received": ("received", None, desk, None),
        "processing": ("processing", 2, unit, world.staff["specialist@unit"]),
        "approval": ("processing", 3, unit, world.staff["head@unit"]),
        "resolved": ("resolved", 3, desk, world.staff["counter@desk"]),
    }
    for state, (status, step, holder, assignee) in placed.items():
        dossier = new_dossier(
            desk, world.version, current_agency_id=holder.id, current_assignee_id=assignee.id if assignee else None,
            status=status, channel=2 if state == "submitted" else 1, submitted_at=now,
            received_at=None if state == "submitted" else now,
            due_at=None if state == "submitted" else now + timedelta(days=5),
            workflow_template_id=template.id if step else None, current_step_position=step,
        )  # fmt: skip
        session.add(dossier)
        await session.flush()
        world.codes[state] = dossier.code
        if state in {"received", "processing", "approval"}:
            session.add(_timer(dossier, kind="dossier", at=now))
        if step and state != "resolved":
            session.add(_timer(dossier, kind="step", at=now, position=step, agency=unit, assignee=assignee))
        if step:  # the department had it: the hand-over line that routed it there
            session.add(
                Handover(dossier_id=dossier.id, at=now, action="route", status_after="processing", step_position=2,
                         to_agency_id=unit.id)
            )  # fmt: skip
    stored = Path(settings.files_dir) / "access-matrix" / "to-khai.pdf"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(PDF)
    processing = await session.scalar(select(Dossier).where(Dossier.code == world.codes["processing"]))
    assert processing is not None
    document = Document(
        dossier_id=processing.id, kind="input", filename="to-khai.pdf", content_type="application/pdf",
        size_bytes=len(PDF), sha256="0" * 64, storage_path="access-matrix/to-khai.pdf",
    )  # fmt: skip
    session.add(document)
    await session.flush()
    world.document_id = str(document.id)


@asynccontextmanager
async def build_world(
    session: AsyncSession, connection: AsyncConnection, settings: Settings, apps: dict[str, FastAPI]
) -> AsyncIterator[World]:
    """The world in the test's ``session``; ``apps`` already work on ``connection`` (tests/apps.py ``share``)."""
    agencies = {
        "desk": await create_agency(session, level="commune"),
        "unit": await create_agency(session),
        "elsewhere": await create_agency(session, level="commune"),
        "province": await create_agency(session),
    }
    staff: dict[str, Staff] = {}
    for role in ROLES:
        for place in PLACES:
            staff[actor_key(role, place)] = await create_staff(session, agency=agencies[place], roles=(role,))
    staff["admin"] = await create_staff(session, agency=agencies["province"], roles=("admin",))
    version = await create_procedure_version(session)
    for receiving in ("desk", "elsewhere"):
        session.add(ProcedureAgency(version_id=version.id, agency_id=agencies[receiving].id, role="receiving"))
    procedure = await session.get(Procedure, version.procedure_id)
    assert procedure is not None
    headers = {key: bearer_for(settings, member) for key, member in staff.items()}
    clients = {name: new_client(app) for name, app in apps.items()}
    world = World(
        connection=connection, session=session, clients=clients, agencies=agencies, staff=staff, headers=headers,
        version=version, procedure_code=procedure.code,
    )  # fmt: skip
    template = await _template(session, version, agencies["unit"])
    await _dossiers(world, template, settings)
    await session.commit()  # a savepoint of the test's transaction: the apps see it
    try:
        yield world
    finally:
        for client in clients.values():
            await client.aclose()
