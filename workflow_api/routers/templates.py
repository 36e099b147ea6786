"""Workflow templates: read by staff, versioned administration by administrators (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.core.deps import AdminActor, ClockDep, OriginDep, SessionDep, StaffActor
from services.core.errors import problem_responses
from services.workflow.templates import (
    TemplateCreated,
    TemplateIn,
    TemplateOut,
    create_template,
    get_template,
    list_templates,
)

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


@router.get("", responses=problem_responses(401, 403, 404))
async def list_for_procedure(
    session: SessionDep,
    _: StaffActor,
    procedure: Annotated[str, Query(min_length=1, max_length=64, description="national procedure code")],
) -> list[TemplateOut]:
    """Every workflow template of the procedure's versions, with steps, inactive ones included."""
    return await list_templates(session, procedure)


@router.get("/{template_id}", responses=problem_responses(401, 403, 404))
async def read_template(template_id: uuid.UUID, session: SessionDep, _: StaffActor) -> TemplateOut:
    """One workflow template with its steps: unit, role, share of the time limit and allowed actions."""
    return await get_template(session, template_id)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 403, 404, 422))
async def publish_template(
    body: TemplateIn, session: SessionDep, actor: AdminActor, clock: ClockDep, origin: OriginDep
) -> TemplateCreated:
    """Add a new template version for a procedure version and make it the active one (administrators)."""
    return await create_template(session, body, actor=actor, origin=origin, now=clock.now())
