"""Administering the procedure catalogue: create a procedure, publish version N+1 (admin API).

Rules are dated data (``services.intake.catalogue``): publishing never edits an existing version's rules;
the previous version only gets its ``valid_to`` set to the new version's ``valid_from``.

- A new version copies the previous version's active workflow template and its steps unchanged;
  editing templates (and their time shares) is the workflow administration's job. A procedure
  created through the API has no workflow template (``steps`` is empty) until one is added there.
- ``POST /api/v1/procedures`` nests the first version's rules under ``version``; unknown fields are
  refused. Document codes are ``D01``, ``D02``… in the given order; ``template_url`` is the stored
  ``template_path`` (null when there is none).

Why the template copy is here and not in ``services.workflow``: it is part of publishing a version (the same
transaction, the same row lock on the procedure) and copies the rows (code, name, unit, role, share, actions;
not ``name_en`` today) — no workflow rule is applied, so nothing of workflow's code is needed, and intake and
workflow never import each other. The workflow
administration (``services.workflow.templates``) owns every template that is *written* as a new design.

Both changes are audited (who, the procedure, the version and when it starts), in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.errors import Conflict, NotFound, Unprocessable
from services.core.text import procedure_search_text
from services.intake.catalogue import active_template, procedure_by_code, procedure_detail
from services.intake.catalogue_schemas import ProcedureCreate, ProcedureDetail, VersionIn
from services.models import (
    Agency,
    AgencyLevel,
    Procedure,
    ProcedureAgency,
    ProcedureDocument,
    ProcedureFee,
    ProcedureVersion,
    WorkflowStep,
    WorkflowTemplate,
)


def _unprocessable(detail: str, *, code: str, loc: list[str]) -> Unprocessable:
    return Unprocessable(detail, code=code, errors=[{"loc": loc, "msg": detail, "type": code}])


async def _agency_ids(session: AsyncSession, body: VersionIn) -> dict[str, uuid.UUID]:
    codes = {link.agency_code for link in body.agencies}
    rows = await session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(codes)))
    found = {code: agency_id for code, agency_id in rows.all()}
    missing = sorted(codes - found.keys())
    if missing:
        raise NotFound(f"No agency with code {', '.join(missing)}.", code="agency_not_found", agency_codes=missing)
    return found


def _new_version(
    procedure_id: uuid.UUID, number: int, body: VersionIn, agency_ids: dict[str, uuid.UUID]
) -> ProcedureVersion:
    return ProcedureVersion(
        id=uuid.uuid4(),
        procedure_id=procedure_id,
        version=number,
        valid_from=body.valid_from,
        valid_to=None,
        published=True,
        time_limit_value=body.time_limit.value,
        time_limit_unit=body.time_limit.unit,
        cutoff_rule=body.cutoff_rule,
        clock_restarts_on_supplement=body.clock_restarts_on_supplement,
        online_mode=body.online_mode,
        interagency=body.interagency,
        postal_submission=body.postal_submission,
        postal_return=body.postal_return,
        result_description=body.result_description,
        legal_basis=list(body.legal_basis),
        source={"origin": "admin_api"},
        documents=[
            ProcedureDocument(
                position=position,
                code=f"D{position:02d}",
                name=document.name,
                form=document.form,
                mandatory=document.mandatory,
            )
            for position, document in enumerate(body.documents, start=1)
        ],
        fees=[
            ProcedureFee(position=position, kind=fee.kind, name=fee.name, amount_vnd=fee.amount_vnd, note=fee.note)
            for position, fee in enumerate(body.fees, start=1)
        ],
        agencies=[ProcedureAgency(agency_id=agency_ids[link.agency_code], role=link.role) for link in body.agencies],
    )


def _audited(session: AsyncSession, origin: Origin, actor: Actor, detail: ProcedureDetail) -> ProcedureDetail:
    entry = audit_entry(
        service=origin.service, action="update", resource=origin.route, origin=origin, actor=actor,
        detail={"procedure_code": detail.code, "version": detail.version, "valid_from": str(detail.valid_from)},
    )  # fmt: skip
    record(session, entry)
    return detail


async def create_procedure(
    session: AsyncSession, body: ProcedureCreate, *, actor: Actor, origin: Origin
) -> ProcedureDetail:
    """Create a procedure with its first (published) version, audited; flushes, never commits."""
    if await session.scalar(select(Procedure.id).where(Procedure.code == body.code)) is not None:
        raise Conflict(
            f"Procedure {body.code!r} already exists; publish a new version instead.", code="procedure_exists"
        )
    if await session.get(AgencyLevel, body.level) is None:
        raise _unprocessable(f"Unknown agency level {body.level!r}.", code="unknown_level", loc=["body", "level"])
    agency_ids = await _agency_ids(session, body.version)
    procedure = Procedure(
        id=uuid.uuid4(),
        code=body.code,
        name=body.name,
        field=body.field,
        level=body.level,
        search_text=procedure_search_text(body.code, body.name, body.field),
    )
    session.add(procedure)
    try:
        await session.flush()
    except IntegrityError:  # created by a concurrent request since the check above
        raise Conflict(f"Procedure {body.code!r} already exists.", code="procedure_exists") from None
    version = _new_version(procedure.id, 1, body.version, agency_ids)
    session.add(version)
    await session.flush()
    return _audited(session, origin, actor, await procedure_detail(session, version.id))


async def publish_version(
    session: AsyncSession, code: str, body: VersionIn, *, actor: Actor, origin: Origin
) -> ProcedureDetail:
    """Publish version N+1 of ``code``, audited; the previous version ends where it starts. Flushes, never commits.

    The previous version's rules are left as they are (dossiers received under it stay bound to
    them); only its ``valid_to`` is set. The active workflow template is copied to the new version.
    """
    procedure = await procedure_by_code(session, code, for_update=True)  # serialises concurrent publications
    previous = await session.scalar(
        select(ProcedureVersion)
        .where(ProcedureVersion.procedure_id == procedure.id)
        .order_by(ProcedureVersion.version.desc())
        .limit(1)
    )
    if previous is not None and body.valid_from <= previous.valid_from:
        raise _unprocessable(
            f"valid_from must be after {previous.valid_from.isoformat()}, when version {previous.version} started.",
            code="valid_from_not_after_previous",
            loc=["body", "valid_from"],
        )
    agency_ids = await _agency_ids(session, body)
    number = previous.version + 1 if previous is not None else 1
    version = _new_version(procedure.id, number, body, agency_ids)
    session.add(version)
    if previous is not None:
        if previous.valid_to is None or previous.valid_to > body.valid_from:
            previous.valid_to = body.valid_from
        template = await active_template(session, previous.id)
        if template is not None:
            session.add(_copy_template(template, version.id))
    await session.flush()
    return _audited(session, origin, actor, await procedure_detail(session, version.id))


def _copy_template(template: WorkflowTemplate, version_id: uuid.UUID) -> WorkflowTemplate:
    return WorkflowTemplate(
        procedure_version_id=version_id,
        version=1,
        name=template.name,
        active=True,
        on_the_spot=template.on_the_spot,
        steps=[
            WorkflowStep(
                position=step.position,
                code=step.code,
                name=step.name,
                agency_id=step.agency_id,
                agency_level_code=step.agency_level_code,
                role_code=step.role_code,
                share_value=step.share_value,
                share_unit=step.share_unit,
                allowed_actions=list(step.allowed_actions),
            )
            for step in template.steps
        ],
    )
