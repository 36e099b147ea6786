"""Load the demo data (DESIGN "Demo data") into one session: agencies, roles, staff, procedures, workflows.

What is loaded lives beside this loader: who is who (levels, agencies, roles, accounts) in
``services.demo.directory``, the curated procedures and the workflow planned for each in
``services.demo.procedures``. This module only turns them into rows.

Choices worth knowing:

- ``postal_return`` null in the source (unknown) is stored as False, flagged in ``source``.
- Every row is valid from ``TWO_TIER_SINCE`` (1 July 2025, when the two-tier local government began).

The loader is idempotent: it looks rows up by their natural keys, inserts only what is missing and
only flushes; ``python -m services.demo.seed`` runs it in one transaction against the configured
database.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import hash_password
from services.core.config import Settings, get_settings
from services.core.db import create_engine, create_sessionmaker, transaction
from services.core.text import procedure_search_text
from services.demo.directory import (
    DEMO_ACCOUNTS,
    DEMO_AGENCIES,
    DEMO_LEVELS,
    DEMO_PASSWORD,
    DEMO_ROLES,
    WARD_KEYS,
    match_partner,
)
from services.demo.procedures import (
    ON_THE_SPOT_PROCEDURES,
    STEP_NAMES_EN,
    WORKING_DAYS,
    ProcedureRecord,
    load_procedure_records,
    parse_online_mode,
    plan_steps,
    resolving_agency_key,
    short_name,
    skip_reason,
)
from services.models import (
    Agency,
    AgencyLevel,
    Procedure,
    ProcedureAgency,
    ProcedureDocument,
    ProcedureFee,
    ProcedureVersion,
    Role,
    Staff,
    StaffRole,
    WorkflowStep,
    WorkflowTemplate,
    WorkingCalendar,
)
from services.models.calendar import DEFAULT_WEEKLY_WINDOWS

TWO_TIER_SINCE = date(2025, 7, 1)
COUNTER_CUTOFF = time(15, 0)

# --- the loader -----------------------------------------------------------------------------------


_SINGULAR = {
    "agency_levels": "agency level",
    "agencies": "agency",
    "roles": "role",
    "staff": "staff",
    "procedures": "procedure",
    "procedure_versions": "procedure version",
    "documents": "document",
    "fees": "fee",
    "procedure_agencies": "procedure agency",
    "workflow_templates": "workflow template",
    "workflow_steps": "workflow step",
    "calendars": "calendar",
}


@dataclass(frozen=True)
class SeedReport:
    """Rows inserted per kind, and the source records left out with the reason."""

    agency_levels: int = 0
    agencies: int = 0
    roles: int = 0
    staff: int = 0
    procedures: int = 0
    procedure_versions: int = 0
    documents: int = 0
    fees: int = 0
    procedure_agencies: int = 0
    workflow_templates: int = 0
    workflow_steps: int = 0
    calendars: int = 0
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def inserted(self) -> int:
        return sum(self.counts().values())

    def counts(self) -> dict[str, int]:
        return {
            "agency_levels": self.agency_levels,
            "agencies": self.agencies,
            "roles": self.roles,
            "staff": self.staff,
            "procedures": self.procedures,
            "procedure_versions": self.procedure_versions,
            "documents": self.documents,
            "fees": self.fees,
            "procedure_agencies": self.procedure_agencies,
            "workflow_templates": self.workflow_templates,
            "workflow_steps": self.workflow_steps,
            "calendars": self.calendars,
        }

    def summary(self) -> str:
        inserted = ", ".join(
            f"{count} {kind.replace('_', ' ') if count > 1 else _SINGULAR[kind]}"
            for kind, count in self.counts().items()
            if count
        )
        skipped = ", ".join(code for code, _ in self.skipped)
        return f"Demo data: inserted {inserted or 'nothing (already loaded)'}; skipped {len(self.skipped)} " + (
            f"procedures ({skipped})." if skipped else "procedures."
        )


async def load_demo_data(session: AsyncSession) -> SeedReport:
    """Insert whatever demo rows are missing; flushes, never commits."""
    counts: Counter[str] = Counter()
    await _load_levels(session, counts)
    agency_ids = await _load_agencies(session, counts)
    await _load_roles(session, counts)
    await _load_staff(session, agency_ids, counts)
    skipped = await _load_procedures(session, agency_ids, counts)
    await _load_calendar(session, counts)
    await session.flush()
    return SeedReport(
        agency_levels=counts["agency_levels"],
        agencies=counts["agencies"],
        roles=counts["roles"],
        staff=counts["staff"],
        procedures=counts["procedures"],
        procedure_versions=counts["procedure_versions"],
        documents=counts["documents"],
        fees=counts["fees"],
        procedure_agencies=counts["procedure_agencies"],
        workflow_templates=counts["workflow_templates"],
        workflow_steps=counts["workflow_steps"],
        calendars=counts["calendars"],
        skipped=skipped,
    )


async def _load_levels(session: AsyncSession, counts: Counter[str]) -> None:
    codes = [level.code for level in DEMO_LEVELS]
    existing = set((await session.scalars(select(AgencyLevel.code).where(AgencyLevel.code.in_(codes)))).all())
    for level in DEMO_LEVELS:
        if level.code not in existing:
            session.add(
                AgencyLevel(
                    code=level.code,
                    name_vi=level.name_vi,
                    name_en=level.name_en,
                    rank=level.rank,
                    valid_from=TWO_TIER_SINCE,
                )
            )
            counts["agency_levels"] += 1
    # agencies refer to the levels and the unit of work does not order rows without a relationship
    await session.flush()


async def _load_agencies(session: AsyncSession, counts: Counter[str]) -> dict[str, uuid.UUID]:
    """Insert the missing demo agencies. An agency already there is left as it is — its address and
    postal hours included: the desk's own details are the administrator's to change, and a re-run must
    not undo that (a database loaded before the desks had addresses keeps them empty until set)."""
    codes = [agency.code for agency in DEMO_AGENCIES]
    rows = (await session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(codes)))).all()
    id_by_code: dict[str, uuid.UUID] = {code: agency_id for code, agency_id in rows}
    ids: dict[str, uuid.UUID] = {}
    for agency in DEMO_AGENCIES:  # parents come first in DEMO_AGENCIES
        if agency.code in id_by_code:
            ids[agency.key] = id_by_code[agency.code]
            continue
        row = Agency(
            id=uuid.uuid4(),
            code=agency.code,
            name=agency.name,
            level_code=agency.level,
            parent_id=ids[agency.parent] if agency.parent else None,
            is_one_stop_desk=agency.one_stop_desk,
            street_address=agency.street_address,
            postal_hours=agency.postal_hours,
            counter_cutoff=COUNTER_CUTOFF,
            valid_from=TWO_TIER_SINCE,
        )
        session.add(row)
        ids[agency.key] = row.id
        counts["agencies"] += 1
        # a self-referencing table: insert parent by parent
        await session.flush()
    return ids


async def _load_roles(session: AsyncSession, counts: Counter[str]) -> None:
    codes = [role.code for role in DEMO_ROLES]
    existing = set((await session.scalars(select(Role.code).where(Role.code.in_(codes)))).all())
    for role in DEMO_ROLES:
        if role.code not in existing:
            session.add(Role(code=role.code, name_vi=role.name_vi, name_en=role.name_en))
            counts["roles"] += 1
    await session.flush()


async def _load_staff(session: AsyncSession, agency_ids: Mapping[str, uuid.UUID], counts: Counter[str]) -> None:
    usernames = [account.username for account in DEMO_ACCOUNTS]
    existing = set((await session.scalars(select(Staff.username).where(Staff.username.in_(usernames)))).all())
    missing = [account for account in DEMO_ACCOUNTS if account.username not in existing]
    if not missing:
        return
    id_by_code = {agency.code: agency_ids[agency.key] for agency in DEMO_AGENCIES}
    password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow on purpose: once for all accounts
    for account in missing:
        session.add(
            Staff(
                username=account.username,
                full_name=account.full_name,
                email=account.email,
                password_hash=password_hash,
                demo=True,
                agency_id=id_by_code[account.agency_code],
                roles=[StaffRole(role_code=role) for role in account.roles],
            )
        )
        counts["staff"] += 1


async def _load_procedures(
    session: AsyncSession, agency_ids: Mapping[str, uuid.UUID], counts: Counter[str]
) -> tuple[tuple[str, str], ...]:
    records: list[ProcedureRecord] = []
    skipped: list[tuple[str, str]] = []
    for record in load_procedure_records():
        reason = skip_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append((record["code"], reason))

    codes = [record["code"] for record in records]
    procedure_ids: dict[str, uuid.UUID] = {
        code: procedure_id
        for code, procedure_id in (
            await session.execute(select(Procedure.code, Procedure.id).where(Procedure.code.in_(codes)))
        ).all()
    }
    for record in records:
        if record["code"] not in procedure_ids:
            procedure = _procedure(record)
            session.add(procedure)
            procedure_ids[record["code"]] = procedure.id
            counts["procedures"] += 1
    await session.flush()

    version_ids: dict[uuid.UUID, uuid.UUID] = {
        procedure_id: version_id
        for procedure_id, version_id in (
            await session.execute(
                select(ProcedureVersion.procedure_id, ProcedureVersion.id).where(
                    ProcedureVersion.procedure_id.in_(procedure_ids.values()), ProcedureVersion.version == 1
                )
            )
        ).all()
    }
    for record in records:
        procedure_id = procedure_ids[record["code"]]
        if procedure_id not in version_ids:
            version = _version(record, procedure_id, agency_ids)
            session.add(version)
            version_ids[procedure_id] = version.id
            counts["procedure_versions"] += 1
            counts["documents"] += len(version.documents)
            counts["fees"] += len(version.fees)
            counts["procedure_agencies"] += len(version.agencies)
    await session.flush()

    with_template = set(
        (
            await session.scalars(
                select(WorkflowTemplate.procedure_version_id).where(
                    WorkflowTemplate.procedure_version_id.in_(version_ids.values())
                )
            )
        ).all()
    )
    for record in records:
        version_id = version_ids[procedure_ids[record["code"]]]
        if version_id not in with_template:
            template = _template(record, version_id, agency_ids)
            session.add(template)
            counts["workflow_templates"] += 1
            counts["workflow_steps"] += len(template.steps)
    return tuple(skipped)


def _procedure(record: ProcedureRecord) -> Procedure:
    return Procedure(
        id=uuid.uuid4(),
        code=record["code"],
        name=record["name_vi"],
        field=record["field"],
        level=record["level"],
        search_text=procedure_search_text(record["code"], record["name_vi"], record["field"]),
    )


def _version(record: ProcedureRecord, procedure_id: uuid.UUID, agency_ids: Mapping[str, uuid.UUID]) -> ProcedureVersion:
    limit = record["time_limit"]
    value = limit["value"]
    if value is None:
        raise ValueError(f"{record['code']}: no time limit")
    channels = record["submission_channels"]
    documents = [
        ProcedureDocument(
            position=position,
            code=_document_code(position),
            name=document["name"].strip(),
            form=document["form"],
            mandatory=document["mandatory"],
        )
        for position, document in enumerate(record["documents"], start=1)
    ]
    fees = [
        ProcedureFee(
            position=position, kind=fee["type"], name=fee["name"], amount_vnd=fee["amount_vnd"], note=fee["note"]
        )
        for position, fee in enumerate(record["fees"], start=1)
    ]
    return ProcedureVersion(
        id=uuid.uuid4(),
        procedure_id=procedure_id,
        version=1,
        valid_from=TWO_TIER_SINCE,
        published=True,
        time_limit_value=value,
        time_limit_unit=WORKING_DAYS,
        cutoff_rule=limit["cutoff_15h_rule"] is not False,
        online_mode=parse_online_mode(record["online_mode"]),
        interagency=record["is_lien_thong"],
        # an empty channel list says nothing; only a list without "postal" rules postal submission out
        postal_submission=not channels or "postal" in channels,
        postal_return=record["postal_return"] is True,
        result_description=record["result"],
        legal_basis=list(record["legal_basis"]),
        source=_provenance(record),
        documents=documents,
        fees=fees,
        agencies=[
            ProcedureAgency(agency_id=agency_id, role=role) for agency_id, role in _agency_roles(record, agency_ids)
        ],
    )


def _document_code(position: int) -> str:
    return f"D{position:02d}"


def _provenance(record: ProcedureRecord) -> dict[str, object]:
    limit = record["time_limit"]
    source: dict[str, object] = {
        "id": record["id"],
        "uncertain": record["uncertain"],
        "uncertainty_note": record["uncertainty_note"],
        "time_limit_note": limit["note"],
        "same_day": limit["same_day"],
        "sources": record["sources"],
        "code_note": record["code_note"],
        "resolving_agency": record["resolving_agency"],
        "coordinating_agencies": record["coordinating_agencies"],
        "postal_return_unknown": record["postal_return"] is None,
        "fee_exemptions": {str(position): fee["exemptions"] for position, fee in enumerate(record["fees"], start=1)},
    }
    document_notes = {
        _document_code(position): document["note"]
        for position, document in enumerate(record["documents"], start=1)
        if "note" in document
    }
    if document_notes:
        source["document_notes"] = document_notes
    if record["lien_thong"] is not None:
        source["lien_thong"] = dict(record["lien_thong"])
    return source


def _agency_roles(record: ProcedureRecord, agency_ids: Mapping[str, uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    if record["level"] == "commune":
        receiving = [agency_ids[key] for key in WARD_KEYS]
        resolving = list(receiving)
    else:
        receiving = [agency_ids["centre"]]
        resolver = resolving_agency_key(record)
        if resolver is None:
            raise ValueError(f"{record['code']}: a province-level procedure needs a resolving department")
        resolving = [agency_ids[resolver]]
    rows = [(agency_id, "receiving") for agency_id in receiving] + [(agency_id, "resolving") for agency_id in resolving]
    involved = set(receiving) | set(resolving)
    partners = list(record["coordinating_agencies"])
    if record["lien_thong"] is not None:
        partners += [entry["agency"] for entry in record["lien_thong"]["agencies"]]
    for text in partners:
        key = match_partner(text)
        # wording that names no agency of ours ("các cơ quan được hỏi ý kiến") or the ward itself
        if key is None or key in ("ward", "chair"):
            continue
        agency_id = agency_ids[key]
        if agency_id not in involved:
            involved.add(agency_id)
            rows.append((agency_id, "coordinating"))
    return rows


def _template(record: ProcedureRecord, version_id: uuid.UUID, agency_ids: Mapping[str, uuid.UUID]) -> WorkflowTemplate:
    steps = [
        WorkflowStep(
            position=position,
            code=plan.code,
            name=plan.name,
            name_en=STEP_NAMES_EN.get(plan.name),
            agency_id=None if plan.agency is None else agency_ids[plan.agency],
            role_code=plan.role,
            # half days are exact in binary floating point
            share_value=float(plan.share),
            share_unit=WORKING_DAYS,
            allowed_actions=list(plan.actions),
        )
        for position, plan in enumerate(plan_steps(record), start=1)
    ]
    return WorkflowTemplate(
        procedure_version_id=version_id,
        version=1,
        name=short_name(f"Quy trình {record['name_vi']}"),
        on_the_spot=record["code"] in ON_THE_SPOT_PROCEDURES,
        steps=steps,
    )


async def _load_calendar(session: AsyncSession, counts: Counter[str]) -> None:
    existing = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.agency_id.is_(None)).limit(1))
    if existing is None:
        session.add(WorkingCalendar(agency_id=None, weekly_windows=copy.deepcopy(DEFAULT_WEEKLY_WINDOWS)))
        counts["calendars"] += 1


# --- command line ---------------------------------------------------------------------------------


async def _seed(settings: Settings) -> SeedReport:
    engine = create_engine(settings, application_name="motcua-seed", pool_size=1)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await load_demo_data(session)
    finally:
        await engine.dispose()


def main() -> int:
    """Load the demo data into the configured database in one transaction."""
    settings = get_settings()
    if not settings.demo:
        # the demo accounts all have the password "demo": never in a real deployment
        print("Refusing to load demo data: set MOTCUA_DEMO=1 (never in production).", file=sys.stderr)
        return 2
    report = asyncio.run(_seed(settings))
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
