"""The procedure catalogue (danh mục thủ tục hành chính): search, detail and versioned administration.

Rules are dated data: a procedure has numbered versions, each valid from a date, and a dossier stays
bound to the version in force when it was received. Publishing a new version therefore never edits an
existing version's rules; the only change to the previous version is its ``valid_to``, set to the new
version's ``valid_from``.

Choices worth knowing:

- The *current* version is the published one with ``valid_from <= today < valid_to`` (``valid_to``
  null = open-ended), "today" being the date in Vietnam.
- ``fee_vnd`` is the sum of the known amounts of the ``lệ phí`` and ``phí`` rows. Rows of kind
  ``other`` (taxes, insurance contributions decided elsewhere) are not in it. When some ``lệ phí`` or
  ``phí`` amount is unknown (set by the provincial People's Council, HĐND tỉnh), ``fee_complete`` is
  false and ``fee_note`` says so: the number is then a lower bound, the detail lists every fee.
- ``agency_code`` is the resolving agency's code, else the first receiving agency's (by code).
- Search folds the query like ``Procedure.search_text`` (lower case, no diacritics, đ → d) and
  requires every word as a substring (ILIKE, served by the pg_trgm GIN index). Results are ranked:
  exact code, code starting with the query, name starting with the query, the query as one phrase in
  the name, every word in the code or name, and last the procedures matched through their field
  only; then by name. ``search_text`` is "<code> <name> | <field>" folded for that split.
- Procedures imported from the national catalogue (``services.intake.national_import``, their
  version's ``source.origin`` is ``national``) are *information only* while no active workflow
  template is configured locally for their version, or while their time limit is not in working days
  or hours (the clocks could not run; an administrator publishes a version with one): the catalogue
  shows their documents, fees, time limit and where to go, and online submission is refused
  (``procedure_information_only``).
  Procedures created here (the admin API, the demo seed) keep their behaviour with or without a
  template. Their level filter also looks at ``source.levels`` (a national procedure may be handled
  at several levels), their department filter at ``source.departments`` (names of the national
  record: the national catalogue names no local agency).

The administration (create a procedure, publish a version) is ``services.intake.catalogue_admin``; the
request and response models are ``services.intake.catalogue_schemas``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager, selectinload

from services.calendar.working import VN_TZ
from services.core.errors import NotFound
from services.core.text import NAME_FIELD_SEPARATOR, fold
from services.dossier.catalogued import (
    NATIONAL_ORIGIN,
    WORKING_UNITS,
    information_only_clause,
    information_only_ids,
    version_in_force,
)
from services.intake.catalogue_schemas import (
    AgencyOut,
    CatalogueFacets,
    CatalogueQuery,
    FeeOut,
    FieldCount,
    ProcedureDetail,
    ProcedurePage,
    ProcedureSummary,
    PublicAgency,
    RequiredDocumentOut,
    ShareOut,
    StepOut,
    TimeLimitOut,
    VersionOut,
)
from services.models import Agency, Procedure, ProcedureAgency, ProcedureFee, ProcedureVersion, WorkflowTemplate

CHARGED_KINDS = ("lệ phí", "phí")
SEARCHABLE_ROLES = ("receiving", "resolving")
_ROLE_ORDER = {"receiving": 0, "resolving": 1, "coordinating": 2}
PROVINCE_FEE_NOTE = "Một số khoản lệ phí, phí do HĐND cấp tỉnh quy định; xem chi tiết thủ tục."
NO_LOCAL_WORKFLOW = "no_local_workflow"
NO_WORKING_TIME_LIMIT = "no_working_time_limit"


def local_today(now: datetime) -> date:
    """The date in Vietnam at ``now``: validity dates of procedures are Vietnamese calendar dates."""
    return now.astimezone(VN_TZ).date()


# --- queries -------------------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _current(today: date) -> ColumnElement[bool]:
    """The version in force today, one per procedure (the highest number should versions overlap).

    Written as "in force and no later version in force" (an anti-join) rather than DISTINCT ON over
    every version: over the whole national catalogue that keeps a search in a few milliseconds.
    """
    later = aliased(ProcedureVersion)
    return and_(
        version_in_force(today),
        ~exists().where(
            later.procedure_id == ProcedureVersion.procedure_id,
            later.version > ProcedureVersion.version,
            version_in_force(today, later),
        ),
    )


def _filters(query: CatalogueQuery, today: date) -> list[ColumnElement[bool]]:
    conditions = [_current(today)]
    for word in fold(query.q or "").split():
        # search_text and the words are folded to lower case already: LIKE, served by the trigram index
        conditions.append(Procedure.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
    if query.field:
        conditions.append(Procedure.field == query.field)
    if query.agency:
        conditions.append(
            ProcedureVersion.id.in_(
                select(ProcedureAgency.version_id)
                .join(Agency, Agency.id == ProcedureAgency.agency_id)
                .where(Agency.code == query.agency, ProcedureAgency.role.in_(SEARCHABLE_ROLES))
            )
        )
    if query.online_mode:
        conditions.append(ProcedureVersion.online_mode == query.online_mode)
    if query.interagency is not None:
        conditions.append(ProcedureVersion.interagency.is_(query.interagency))
    if query.level:
        conditions.append(
            or_(Procedure.level == query.level, ProcedureVersion.source["levels"].contains([query.level]))
        )
    if query.department:
        conditions.append(ProcedureVersion.source["departments"].contains([query.department]))
    if query.information_only is not None:
        only = information_only_clause()
        conditions.append(only if query.information_only else ~only)
    return conditions


def _relevance(folded: str) -> ColumnElement[int]:
    """0 exact code, 1 code prefix, 2 name starts with the query, 3 phrase in the name, 4 every word in
    the code or name, 5 the rest (some word found in the field only)."""
    code = func.lower(Procedure.code)
    code_and_name = func.split_part(Procedure.search_text, literal_column(f"'{NAME_FIELD_SEPARATOR}'"), 1)
    every_word = and_(*(func.strpos(code_and_name, word) > 0 for word in folded.split()))
    return case(
        (code == folded, 0),
        (func.starts_with(code, folded), 1),
        # codes carry no accents nor spaces, so "<code> " ends exactly where the name starts
        (func.starts_with(Procedure.search_text, code + " " + folded), 2),
        (func.strpos(code_and_name, folded) > 0, 3),
        (every_word, 4),
        else_=5,
    )


def _with_rules(statement: Select[ProcedureVersion], *, documents: bool = True) -> Select[ProcedureVersion]:
    """Load what a summary needs (fees, agencies), and the documents for a detail."""
    statement = statement.options(
        selectinload(ProcedureVersion.fees),
        selectinload(ProcedureVersion.agencies).selectinload(ProcedureAgency.agency),
    )
    return statement.options(selectinload(ProcedureVersion.documents)) if documents else statement


async def search_procedures(session: AsyncSession, query: CatalogueQuery, *, today: date) -> ProcedurePage:
    """The page of procedures in force matching ``query``, with the total count."""
    conditions = _filters(query, today)
    folded = fold(query.q or "")
    order: list[ColumnElement[Any]] = [_relevance(folded)] if folded else []
    # the page's ids and the total in one narrow query (a window count), then the page's rows: sorting
    # whole rows, or finding the matches twice, costs more than the rest of the request
    rows = (
        await session.execute(
            select(ProcedureVersion.id, func.count().over())
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .where(*conditions)
            .order_by(*order, Procedure.name, Procedure.code)
            .limit(query.limit)
            .offset(query.offset)
        )
    ).all()
    page_ids = [version_id for version_id, _ in rows]
    if rows:
        total = int(rows[0][1])
    else:  # past the last page, or nothing matches
        total = (
            await session.scalar(
                select(func.count())
                .select_from(ProcedureVersion)
                .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
                .where(*conditions)
            )
            or 0
        )
    statement = (
        select(ProcedureVersion)
        .join(ProcedureVersion.procedure)
        .options(contains_eager(ProcedureVersion.procedure))
        .where(ProcedureVersion.id.in_(page_ids))
    )
    position = {version_id: index for index, version_id in enumerate(page_ids)}
    loaded = (await session.scalars(_with_rules(statement, documents=False))).all() if page_ids else []
    versions = sorted(loaded, key=lambda version: position[version.id])
    info_only = await information_only_ids(session, versions)
    return ProcedurePage(
        total=total,
        limit=query.limit,
        offset=query.offset,
        items=[_summary(version.procedure, version, version.id in info_only) for version in versions],
    )


async def catalogue_facets(session: AsyncSession, *, today: date) -> CatalogueFacets:
    """Fields, departments and levels of the procedures in force, with their counts (by name).

    One narrow query and counting here: cheaper than three GROUP BYs each finding the versions in force.
    """
    rows = (
        await session.execute(
            select(
                Procedure.field,
                Procedure.level,
                ProcedureVersion.source["departments"],
                ProcedureVersion.source["levels"],
            )
            .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
            .where(_current(today))
        )
    ).all()
    fields: Counter[str] = Counter()
    departments: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for field, level, named_departments, named_levels in rows:
        fields[field] += 1
        departments.update(set(_strings(named_departments)))
        levels.update(set(_strings(named_levels)) or {level})
    return CatalogueFacets(
        total=len(rows),
        fields=_counts(fields),
        departments=_counts(departments),
        levels=_counts(levels),
    )


def _counts(counter: Counter[str]) -> list[FieldCount]:
    return [FieldCount(name=name, count=count) for name, count in sorted(counter.items()) if name]


async def public_agencies(session: AsyncSession, *, today: date) -> list[PublicAgency]:
    """The agencies in existence today, by name: codes, names, levels and the desk's address and postal
    hours (nothing personal)."""
    rows = await session.execute(
        select(
            Agency.code,
            Agency.name,
            Agency.level_code,
            Agency.is_one_stop_desk,
            Agency.street_address,
            Agency.postal_hours,
        )
        .where(
            or_(Agency.valid_from.is_(None), Agency.valid_from <= today),
            or_(Agency.valid_to.is_(None), Agency.valid_to > today),
        )
        .order_by(Agency.name, Agency.code)
    )
    return [
        PublicAgency(code=code, name=name, level=level, one_stop_desk=desk, street_address=address, postal_hours=hours)
        for code, name, level, desk, address, hours in rows.all()
    ]


async def get_procedure(session: AsyncSession, code: str, *, today: date) -> ProcedureDetail:
    """The version of procedure ``code`` in force today, in full."""
    procedure = await procedure_by_code(session, code)
    version_id = await session.scalar(
        select(ProcedureVersion.id).where(ProcedureVersion.procedure_id == procedure.id, _current(today))
    )
    if version_id is None:
        raise NotFound(f"Procedure {code!r} has no version in force today.", code="procedure_not_in_force")
    return await procedure_detail(session, version_id)


async def procedure_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Procedure:
    """The procedure ``code`` (locked for a publication with ``for_update``), else 404 ``procedure_not_found``."""
    statement = select(Procedure).where(Procedure.code == code)
    if for_update:
        statement = statement.with_for_update()
    procedure = await session.scalar(statement)
    if procedure is None:
        raise NotFound(f"No procedure with code {code!r}.", code="procedure_not_found")
    return procedure


async def active_template(session: AsyncSession, version_id: uuid.UUID) -> WorkflowTemplate | None:
    """The version's active workflow template with its steps (the newest, should there be two), or None."""
    return await session.scalar(
        select(WorkflowTemplate)
        .where(WorkflowTemplate.procedure_version_id == version_id, WorkflowTemplate.active.is_(True))
        .order_by(WorkflowTemplate.version.desc())
        .limit(1)
        .options(selectinload(WorkflowTemplate.steps))
    )


async def procedure_detail(session: AsyncSession, version_id: uuid.UUID) -> ProcedureDetail:
    """The catalogue's full view of one procedure version (any version, in force or not)."""
    # the procedure and its versions first: populate_existing on them would reset the version's collections
    procedure = (
        await session.scalars(
            select(Procedure)
            .join(ProcedureVersion)
            .where(ProcedureVersion.id == version_id)
            .options(selectinload(Procedure.versions))
            .execution_options(populate_existing=True)
        )
    ).one()
    statement = select(ProcedureVersion).where(ProcedureVersion.id == version_id)
    version = (await session.scalars(_with_rules(statement).execution_options(populate_existing=True))).one()
    template = await active_template(session, version.id)
    steps = template.steps if template else []
    source = version.source or {}
    national = source.get("origin") == NATIONAL_ORIGIN
    reason: str | None = None
    if national and template is None:
        reason = NO_LOCAL_WORKFLOW
    elif national and version.time_limit_unit not in WORKING_UNITS:
        reason = NO_WORKING_TIME_LIMIT
    info_only = reason is not None
    step_agency_ids = {step.agency_id for step in steps if step.agency_id is not None}
    agency_codes: dict[uuid.UUID, str] = {}
    if step_agency_ids:
        rows = await session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(step_agency_ids)))
        agency_codes = {agency_id: code for agency_id, code in rows.all()}
    summary = _summary(procedure, version, info_only)
    return ProcedureDetail(
        **summary.model_dump(),
        versions=[
            VersionOut(version=v.version, valid_from=v.valid_from, valid_to=v.valid_to, published=v.published)
            for v in procedure.versions
        ],
        required_documents=[
            RequiredDocumentOut(
                code=document.code,
                name=document.name,
                mandatory=document.mandatory,
                form=document.form,
                template_url=document.template_path or None,
            )
            for document in version.documents
        ],
        fees=[FeeOut(kind=fee.kind, name=fee.name, amount_vnd=fee.amount_vnd, note=fee.note) for fee in version.fees],
        agencies=[
            AgencyOut(code=link.agency.code, name=link.agency.name, role=link.role)
            for link in _ordered_links(version.agencies)
        ],
        steps=[
            StepOut(
                position=step.position,
                code=step.code,
                name=step.name,
                role=step.role_code,
                agency_code=agency_codes[step.agency_id] if step.agency_id is not None else None,
                share=ShareOut(value=float(step.share_value), unit=step.share_unit),
            )
            for step in steps
        ],
        on_the_spot=template.on_the_spot if template else False,
        legal_basis=list(version.legal_basis),
        result_description=version.result_description,
        cutoff_rule=version.cutoff_rule,
        clock_restarts_on_supplement=version.clock_restarts_on_supplement,
        information_only_reason=reason,
        origin=NATIONAL_ORIGIN if national else "local",
        departments=_strings(source.get("departments")) if national else [],
        published_by=_text(source.get("published_by")) if national else None,
        target=_strings(source.get("target")) if national else [],
        time_limit_note=_text(source.get("time_limit_text")) if national else None,
        details_published=bool(source.get("details", True)),
    )


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _ordered_links(links: Sequence[ProcedureAgency]) -> list[ProcedureAgency]:
    return sorted(links, key=lambda link: (_ROLE_ORDER.get(link.role, 9), link.agency.code))


def _agency_code(links: Sequence[ProcedureAgency]) -> str | None:
    for role in ("resolving", "receiving"):
        codes = sorted(link.agency.code for link in links if link.role == role)
        if codes:
            return codes[0]
    return None


def fee_total(fees: Sequence[ProcedureFee]) -> tuple[int, bool]:
    """The sum of the known lệ phí and phí amounts, and whether every one of them is known."""
    charged = [fee for fee in fees if fee.kind in CHARGED_KINDS]
    return sum(fee.amount_vnd or 0 for fee in charged), all(fee.amount_vnd is not None for fee in charged)


def _summary(procedure: Procedure, version: ProcedureVersion, information_only: bool) -> ProcedureSummary:
    fee_vnd, complete = fee_total(version.fees)
    levels = _strings((version.source or {}).get("levels")) or [procedure.level]
    return ProcedureSummary(
        code=procedure.code,
        name=procedure.name,
        field=procedure.field,
        level=procedure.level,
        agency_code=_agency_code(version.agencies),
        time_limit=TimeLimitOut(value=version.time_limit_value, unit=version.time_limit_unit),
        fee_vnd=fee_vnd,
        fee_complete=complete,
        fee_note=None if complete else PROVINCE_FEE_NOTE,
        online_mode=version.online_mode,
        interagency=version.interagency,
        postal_submission=version.postal_submission,
        postal_return=version.postal_return,
        version=version.version,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        information_only=information_only,
        levels=levels,
    )
