"""Workflow templates as data (quy trình nội bộ): listing, validation and versioned administration.

A template belongs to one procedure version and lists ordered steps: the unit (a fixed agency, or null for
the agency that received the dossier), the role that acts, the step's share of the time limit and the
actions allowed there. ``POST /api/v1/templates`` never edits a template: it adds version N+1 for the
procedure version and makes it the only active one. Earlier versions stay, inactive and unchanged, because
a dossier already routed keeps the template it started with: the engine binds ``dossier.workflow_template_id``
when it starts routing and looks the steps up by that id, never by "the active template".

Every template written here passes the rules of ``services.workflow.template_rules`` first (roles and
agencies looked up here); a refusal is a 422 problem naming the first rule broken, with all of them in
``errors``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.calendar.working import VN_TZ
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import NotFound
from services.core.validation import StrictModel
from services.dossier.catalogued import version_in_force
from services.models import Agency, Procedure, ProcedureVersion, Role, WorkflowStep, WorkflowTemplate
from services.workflow.template_rules import ACTIONS, StepSpec, TemplateProblem, refusal, template_problems

TimeUnit = Literal["working_days", "working_hours"]
StepCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ShortCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


# --- input ---------------------------------------------------------------------------------------


class _Input(StrictModel):
    pass


class ShareIn(_Input):
    value: Decimal = Field(ge=0, le=10_000, max_digits=8, decimal_places=3)
    unit: TimeUnit


class StepIn(_Input):
    code: StepCode
    name: Name
    name_en: Name | None = Field(default=None, description="the step's name in English, for the SPA's English mode")
    agency_code: ShortCode | None = Field(default=None, description="null: the agency that received the dossier")
    role: ShortCode
    share: ShareIn
    actions: list[ShortCode] = Field(max_length=len(ACTIONS) * 2)


class TemplateIn(_Input):
    procedure_code: ShortCode
    version: int | None = Field(
        default=None, strict=True, ge=1, description="procedure version number; default: the one in force"
    )
    name: Name
    on_the_spot: bool = Field(
        default=False, strict=True, description="4 tại chỗ: received, decided and returned at the desk in one visit"
    )
    # an empty list is the rule-1 problem ``no_steps``, not a schema error
    steps: list[StepIn] = Field(max_length=50)


# --- output --------------------------------------------------------------------------------------


class ShareOut(BaseModel):
    value: float
    unit: str


class StepOut(BaseModel):
    position: int
    code: str
    name: str
    name_en: str | None = Field(default=None, description="the English name, when given")
    agency_code: str | None = Field(description="null: the agency that received the dossier")
    agency_level: str | None
    role: str
    share: ShareOut
    actions: list[str]


class TemplateOut(BaseModel):
    id: uuid.UUID
    procedure_code: str
    procedure_version: int
    procedure_version_id: uuid.UUID
    valid_from: date
    valid_to: date | None
    time_limit: ShareOut
    version: int
    name: str
    active: bool
    on_the_spot: bool
    created_at: datetime
    steps: list[StepOut]


class TemplateCreated(TemplateOut):
    deactivated_template_ids: list[uuid.UUID] = Field(description="the previously active template(s), now inactive")


# --- validation against the database -------------------------------------------------------------


async def _known(session: AsyncSession, roles: set[str], agency_codes: set[str]) -> tuple[set[str], set[str]]:
    known_roles = set((await session.scalars(select(Role.code).where(Role.code.in_(roles)))).all()) if roles else set()
    known_agencies = (
        set((await session.scalars(select(Agency.code).where(Agency.code.in_(agency_codes)))).all())
        if agency_codes
        else set()
    )
    return known_roles, known_agencies


async def check_steps(
    session: AsyncSession, steps: Sequence[StepSpec], version: ProcedureVersion, *, on_the_spot: bool = False
) -> list[TemplateProblem]:
    """The problems of ``steps`` as a template of ``version``, roles and agencies looked up."""
    roles, agencies = await _known(
        session, {step.role for step in steps}, {step.agency_code for step in steps if step.agency_code}
    )
    return template_problems(
        steps,
        limit_value=version.time_limit_value,
        limit_unit=version.time_limit_unit,
        known_roles=roles,
        known_agencies=agencies,
        on_the_spot=on_the_spot,
    )


async def check_stored_template(session: AsyncSession, template_id: uuid.UUID) -> list[TemplateProblem]:
    """The problems of a stored template (the demo's, or one written before these rules existed)."""
    template = await _template(session, template_id)
    version = await session.get_one(ProcedureVersion, template.procedure_version_id)
    codes = await _agency_codes(session, [template])
    steps = [
        StepSpec(
            code=step.code,
            role=step.role_code,
            agency_code=codes[step.agency_id] if step.agency_id is not None else None,
            share_value=Decimal(str(step.share_value)),  # Numeric: a Decimal, or a float if set in Python
            share_unit=step.share_unit,
            actions=tuple(step.allowed_actions),
        )
        for step in template.steps
    ]
    return await check_steps(session, steps, version, on_the_spot=template.on_the_spot)


# --- queries -------------------------------------------------------------------------------------


async def _template(session: AsyncSession, template_id: uuid.UUID) -> WorkflowTemplate:
    template = await session.scalar(
        select(WorkflowTemplate)
        .where(WorkflowTemplate.id == template_id)
        .options(selectinload(WorkflowTemplate.steps))
        .execution_options(populate_existing=True)
    )
    if template is None:
        raise NotFound(f"No workflow template {template_id}.", code="template_not_found")
    return template


async def _agency_codes(session: AsyncSession, templates: Sequence[WorkflowTemplate]) -> dict[uuid.UUID, str]:
    ids = {step.agency_id for template in templates for step in template.steps if step.agency_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(ids)))
    return {agency_id: code for agency_id, code in rows.all()}


async def _procedure(session: AsyncSession, code: str) -> Procedure:
    procedure = await session.scalar(select(Procedure).where(Procedure.code == code))
    if procedure is None:
        raise NotFound(f"No procedure with code {code!r}.", code="procedure_not_found")
    return procedure


def _out(
    template: WorkflowTemplate, version: ProcedureVersion, procedure_code: str, agency_codes: dict[uuid.UUID, str]
) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        procedure_code=procedure_code,
        procedure_version=version.version,
        procedure_version_id=version.id,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        time_limit=ShareOut(value=version.time_limit_value, unit=version.time_limit_unit),
        version=template.version,
        name=template.name,
        active=template.active,
        on_the_spot=template.on_the_spot,
        created_at=template.created_at,
        steps=[
            StepOut(
                position=step.position,
                code=step.code,
                name=step.name,
                name_en=step.name_en,
                agency_code=agency_codes[step.agency_id] if step.agency_id is not None else None,
                agency_level=step.agency_level_code,
                role=step.role_code,
                share=ShareOut(value=float(step.share_value), unit=step.share_unit),
                actions=list(step.allowed_actions),
            )
            for step in template.steps
        ],
    )


async def list_templates(session: AsyncSession, procedure_code: str) -> list[TemplateOut]:
    """Every template of every version of the procedure, by procedure version then template version."""
    procedure = await _procedure(session, procedure_code)
    rows = (
        await session.execute(
            select(WorkflowTemplate, ProcedureVersion)
            .join(ProcedureVersion, ProcedureVersion.id == WorkflowTemplate.procedure_version_id)
            .where(ProcedureVersion.procedure_id == procedure.id)
            .order_by(ProcedureVersion.version, WorkflowTemplate.version)
            .options(selectinload(WorkflowTemplate.steps))
        )
    ).all()
    codes = await _agency_codes(session, [template for template, _ in rows])
    return [_out(template, version, procedure.code, codes) for template, version in rows]


async def get_template(session: AsyncSession, template_id: uuid.UUID) -> TemplateOut:
    template = await _template(session, template_id)
    version = await session.get_one(ProcedureVersion, template.procedure_version_id)
    procedure = await session.get_one(Procedure, version.procedure_id)
    return _out(template, version, procedure.code, await _agency_codes(session, [template]))


async def _target_version(session: AsyncSession, procedure: Procedure, number: int | None, today: date) -> uuid.UUID:
    statement = select(ProcedureVersion.id).where(ProcedureVersion.procedure_id == procedure.id)
    if number is not None:
        version_id = await session.scalar(statement.where(ProcedureVersion.version == number))
        if version_id is None:
            raise NotFound(f"Procedure {procedure.code!r} has no version {number}.", code="procedure_version_not_found")
        return version_id
    version_id = await session.scalar(
        statement.where(
            version_in_force(today),
        )
        .order_by(ProcedureVersion.version.desc())
        .limit(1)
    )
    if version_id is None:
        raise NotFound(
            f"Procedure {procedure.code!r} has no version in force today; give the version.",
            code="procedure_not_in_force",
        )
    return version_id


async def create_template(
    session: AsyncSession, body: TemplateIn, *, actor: Actor, origin: Origin, now: datetime
) -> TemplateCreated:
    """Add template version N+1 for the procedure version and make it the only active one, audited; flushes,
    never commits.

    The previous templates are left as they are apart from ``active``: dossiers routed with them keep them.
    """
    procedure = await _procedure(session, body.procedure_code)
    version_id = await _target_version(session, procedure, body.version, now.astimezone(VN_TZ).date())
    # the row lock serialises concurrent publications for one procedure version (the next number is max + 1)
    version = (
        await session.scalars(select(ProcedureVersion).where(ProcedureVersion.id == version_id).with_for_update())
    ).one()
    specs = [
        StepSpec(
            code=step.code,
            role=step.role,
            agency_code=step.agency_code,
            share_value=step.share.value,
            share_unit=step.share.unit,
            actions=tuple(step.actions),
        )
        for step in body.steps
    ]
    problems = await check_steps(session, specs, version, on_the_spot=body.on_the_spot)
    if problems:
        raise refusal(problems)

    agency_ids: dict[str, uuid.UUID] = {}
    wanted = {step.agency_code for step in body.steps if step.agency_code}
    if wanted:
        rows = await session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(wanted)))
        agency_ids = {code: agency_id for code, agency_id in rows.all()}
    previous = list(
        (
            await session.scalars(
                select(WorkflowTemplate).where(
                    WorkflowTemplate.procedure_version_id == version.id, WorkflowTemplate.active.is_(True)
                )
            )
        ).all()
    )
    for old in previous:
        old.active = False
    highest = await session.scalar(
        select(func.max(WorkflowTemplate.version)).where(WorkflowTemplate.procedure_version_id == version.id)
    )
    template = WorkflowTemplate(
        id=uuid.uuid4(),
        procedure_version_id=version.id,
        version=(highest or 0) + 1,
        name=body.name,
        active=True,
        on_the_spot=body.on_the_spot,
        steps=[
            WorkflowStep(
                position=position,
                code=step.code,
                name=step.name,
                name_en=step.name_en,
                agency_id=agency_ids[step.agency_code] if step.agency_code else None,
                agency_level_code=None,
                role_code=step.role,
                share_value=float(step.share.value),  # at most 3 decimals: exact in Numeric(8, 3)
                share_unit=step.share.unit,
                allowed_actions=list(step.actions),
            )
            for position, step in enumerate(body.steps, start=1)
        ],
    )
    session.add(template)
    await session.flush()
    created = await get_template(session, template.id)
    deactivated = [old.id for old in previous]
    entry = audit_entry(
        service=origin.service, action="update", resource="POST /api/v1/templates", origin=origin, actor=actor,
        detail={
            "template_id": str(created.id), "procedure_code": created.procedure_code,
            "procedure_version": created.procedure_version, "template_version": created.version,
            "deactivated_template_ids": [str(old) for old in deactivated],
        },
    )  # fmt: skip
    record(session, entry)
    return TemplateCreated(**created.model_dump(), deactivated_template_ids=deactivated)
