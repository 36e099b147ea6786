"""A routed world for workflow tests: a ward desk, two province units, templates, staff; and a relay
that delivers the outbox to the in-process apps (the real Relay over ASGI transports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.models import Agency, ProcedureAgency, ProcedureVersion, Staff, WorkflowStep, WorkflowTemplate
from services.outbox.relay import Relay
from tests.factories import create_agency, create_procedure_version, create_staff

STEP_ACTIONS = ["forward", "send_back", "request_supplement", "request_payment", "transfer", "stop"]


@dataclass
class World:
    ward: Agency
    land: Agency
    tax: Agency
    staff: dict[str, Staff] = field(default_factory=dict)
    single: ProcedureVersion | None = None
    interagency: ProcedureVersion | None = None
    codes: dict[str, str] = field(default_factory=dict)


async def add_template(session: AsyncSession, version: ProcedureVersion, steps: list[tuple]) -> WorkflowTemplate:  # type: ignore[type-arg]
    """An active template for ``version``: one ``(code, agency, role, days, actions)`` per step, in order."""
    template = WorkflowTemplate(procedure_version_id=version.id, name="Quy trình thử", version=1, active=True)
    session.add(template)
    await session.flush()
    for position, (code, agency, role, days, actions) in enumerate(steps, start=1):
        session.add(
            WorkflowStep(
                template_id=template.id, position=position, code=code, name=code,
                agency_id=agency.id if agency else None, role_code=role, share_value=Decimal(str(days)),
                share_unit="working_days", allowed_actions=actions,
            )
        )  # fmt: skip
    await session.flush()
    return template


async def create_world(session: AsyncSession) -> World:
    ward = await create_agency(session, level="commune")
    land = await create_agency(session)
    tax = await create_agency(session)
    world = World(ward=ward, land=land, tax=tax)
    for name, agency, roles in (
        ("counter", ward, ("counter",)),
        ("specialist", ward, ("specialist",)),
        ("head", ward, ("head", "leader")),
        ("land", land, ("specialist",)),
        ("tax", tax, ("specialist",)),
        ("stranger", land, ("head",)),
    ):
        world.staff[name] = await create_staff(session, agency=agency, roles=roles, password="demo")
    from services.models import Procedure

    for key, days, steps in (
        (
            "single",
            3,
            [
                ("receive", None, "counter", 0, ["forward"]),
                ("appraise", None, "specialist", 2, STEP_ACTIONS),
                ("approve", None, "head", 1, ["forward", "send_back", "resolve", "stop"]),
                ("return", None, "counter", 0, ["return_result"]),
            ],
        ),
        (
            "interagency",
            3,
            [
                ("receive", None, "counter", 0, ["forward"]),
                ("appraise", None, "specialist", 1, STEP_ACTIONS),
                ("land_office", land, "specialist", 1, STEP_ACTIONS),
                ("tax", tax, "specialist", 0.5, STEP_ACTIONS),
                ("approve", None, "head", 0.5, ["forward", "send_back", "resolve", "stop"]),
                ("return", None, "counter", 0, ["return_result"]),
            ],
        ),
    ):
        version = await create_procedure_version(session, limit_value=days)
        session.add(ProcedureAgency(version_id=version.id, agency_id=ward.id, role="receiving"))
        await add_template(session, version, steps)
        procedure = await session.get(Procedure, version.procedure_id)
        assert procedure is not None
        world.codes[key] = procedure.code
        setattr(world, key, version)
    await session.flush()
    return world


async def deliver(engine: AsyncEngine, settings: Settings, apps: dict[str, FastAPI]) -> int:
    """Relay every pending event to the in-process apps, as the workers would; return how many."""
    mounts = {
        getattr(settings.urls, name): httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
        for name, app in apps.items()
    }
    total = 0
    async with httpx.AsyncClient(mounts={url + "/": transport for url, transport in mounts.items()}) as client:
        relay = Relay(async_sessionmaker(engine, expire_on_commit=False), settings, client=client)
        while claimed := await relay.run_once():
            total += claimed
    return total
