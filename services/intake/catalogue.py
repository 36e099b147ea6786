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
- A new version copies the previous version's active workflow template and its steps unchanged;
  editing templates (and their time shares) is the workflow administration's job. A procedure
  created through the API has no workflow template (``steps`` is empty) until one is added there.
- ``POST /api/v1/procedures`` nests the first version's rules under ``version``; unknown fields are
  refused. Document codes are ``D01``, ``D02``… in the given order; ``template_url`` is the stored
  ``template_path`` (null when there is none).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager, selectinload

from services.calendar.working import VN_TZ
from services.core.errors import Conflict, NotFound, Unprocessable
from services.core.text import NAME_FIELD_SEPARATOR, fold, procedure_search_text
from services.core.validation import IsoDate, StrictModel
from services.domain.rules import in_force_clause
from services.dossier.catalogued import (
    NATIONAL_ORIGIN,
    WORKING_UNITS,
    information_only_clause,
    information_only_ids,
)
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

TimeUnit = Literal["working_days", "working_hours"]
OnlineMode = Literal["full", "partial", "none"]
DocumentForm = Literal["original", "copy", "original_or_copy", "present_original", "electronic"]
FeeKind = Literal["lệ phí", "phí", "other", "none"]
AgencyRole = Literal["receiving", "resolving", "coordinating"]

CHARGED_KINDS = ("lệ phí", "phí")
SEARCHABLE_ROLES = ("receiving", "resolving")
_ROLE_ORDER = {"receiving": 0, "resolving": 1, "coordinating": 2}
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
PROVINCE_FEE_NOTE = "Một số khoản lệ phí, phí do HĐND cấp tỉnh quy định; xem chi tiết thủ tục."
NO_LOCAL_WORKFLOW = "no_local_workflow"
NO_WORKING_TIME_LIMIT = "no_working_time_limit"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
ProcedureCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


def local_today(now: datetime) -> date:
    """The date in Vietnam at ``now``: validity dates of procedures are Vietnamese calendar dates."""
    return now.astimezone(VN_TZ).date()


# --- input ---------------------------------------------------------------------------------------


class _Input(StrictModel):
    pass


class TimeLimitIn(_Input):
    value: int = Field(strict=True, ge=0, le=10_000, description="number of working days or working hours")
    unit: TimeUnit


class DocumentIn(_Input):
    name: Name
    form: DocumentForm = "original"
    mandatory: bool = Field(default=True, strict=True)


class FeeIn(_Input):
    kind: FeeKind
    name: Name
    amount_vnd: int | None = Field(
        default=None, strict=True, ge=0, le=10**12, description="null when the province sets it"
    )
    note: LongText | None = None


class AgencyLinkIn(_Input):
    agency_code: ShortText
    role: AgencyRole


class VersionIn(_Input):
    """The rules of one version of a procedure, in force from ``valid_from``."""

    valid_from: IsoDate
    time_limit: TimeLimitIn
    online_mode: OnlineMode
    interagency: bool = Field(default=False, strict=True)
    postal_submission: bool = Field(default=True, strict=True)
    postal_return: bool = Field(default=True, strict=True)
    cutoff_rule: bool = Field(
        default=True, strict=True, description="counter receipt after the cut-off counts from next day"
    )
    clock_restarts_on_supplement: bool = Field(default=False, strict=True)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    fees: list[FeeIn] = Field(default_factory=list, max_length=50)
    agencies: list[AgencyLinkIn] = Field(min_length=1, max_length=50)
    result_description: LongText | None = None
    legal_basis: list[Name] = Field(default_factory=list, max_length=50)

    @field_validator("documents")
    @classmethod
    def _distinct_documents(cls, documents: list[DocumentIn]) -> list[DocumentIn]:
        seen: set[str] = set()
        for document in documents:
            key = fold(document.name)
            if key in seen:
                raise ValueError(f"document {document.name!r} is listed twice")
            seen.add(key)
        return documents

    @field_validator("agencies")
    @classmethod
    def _receiving_agency(cls, agencies: list[AgencyLinkIn]) -> list[AgencyLinkIn]:
        pairs = [(link.agency_code, link.role) for link in agencies]
        if len(set(pairs)) != len(pairs):
            raise ValueError("an agency is listed twice with the same role")
        if not any(link.role == "receiving" for link in agencies):
            raise ValueError("at least one receiving agency (nơi tiếp nhận) is needed")
        return agencies


class ProcedureCreate(_Input):
    """A new procedure and its first version."""

    code: ProcedureCode = Field(description="national procedure code (mã TTHC), e.g. 1.001193")
    name: Name
    field: ShortText = Field(description="lĩnh vực")
    level: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] = Field(
        description="agency level code that resolves it (agency_level), e.g. province or commune"
    )
    version: VersionIn


class CatalogueQuery(BaseModel):
    """Search parameters of the public catalogue."""

    q: str | None = Field(default=None, max_length=200, description="words of the code, name or field; any accents")
    field: str | None = Field(default=None, max_length=200, description="exact field name (lĩnh vực)")
    agency: str | None = Field(default=None, max_length=64, description="code of an agency receiving or resolving it")
    online_mode: OnlineMode | None = None
    interagency: bool | None = None
    level: str | None = Field(default=None, max_length=32, description="agency level handling it: province, commune…")
    department: str | None = Field(
        default=None, max_length=300, description="name of a department of the national record (cơ quan thực hiện)"
    )
    information_only: bool | None = Field(
        default=None, description="true: only procedures without a local workflow; false: only those one can file"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=1_000_000)


# --- output --------------------------------------------------------------------------------------


class TimeLimitOut(BaseModel):
    value: int = Field(description="0 with unit ``unknown``: the national record states no usable time limit")
    unit: str = Field(description="working_days, working_hours, days, hours, months or unknown")


class ProcedureSummary(BaseModel):
    code: str
    name: str
    field: str
    level: str
    agency_code: str | None = Field(description="the resolving agency, else the first receiving one")
    time_limit: TimeLimitOut
    fee_vnd: int = Field(description="sum of the known lệ phí and phí amounts")
    fee_complete: bool = Field(description="false when some lệ phí or phí amount is set by the province")
    fee_note: str | None
    online_mode: str
    interagency: bool
    postal_submission: bool
    postal_return: bool
    version: int
    valid_from: date
    valid_to: date | None
    information_only: bool = Field(description="no local workflow: shown for information, not filed online")
    levels: list[str] = Field(description="every agency level handling it (the national record may list several)")


class ProcedurePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ProcedureSummary]


class VersionOut(BaseModel):
    version: int
    valid_from: date
    valid_to: date | None
    published: bool


class RequiredDocumentOut(BaseModel):
    code: str
    name: str
    mandatory: bool
    form: str
    template_url: str | None


class FeeOut(BaseModel):
    kind: str
    name: str
    amount_vnd: int | None
    note: str | None


class AgencyOut(BaseModel):
    code: str
    name: str
    role: str


class ShareOut(BaseModel):
    value: float
    unit: str


class StepOut(BaseModel):
    position: int
    code: str
    name: str
    role: str
    agency_code: str | None = Field(description="null: the agency that received the dossier")
    share: ShareOut


class ProcedureDetail(ProcedureSummary):
    versions: list[VersionOut]
    required_documents: list[RequiredDocumentOut]
    fees: list[FeeOut]
    agencies: list[AgencyOut]
    steps: list[StepOut]
    on_the_spot: bool = Field(
        default=False, description="4 tại chỗ: a delegated counter officer resolves and returns it in one visit"
    )
    legal_basis: list[str]
    result_description: str | None
    cutoff_rule: bool
    clock_restarts_on_supplement: bool
    information_only_reason: str | None = Field(
        description="why online submission is not offered: no_local_workflow or no_working_time_limit"
    )
    origin: str = Field(description="national: imported from the national catalogue; local: created here")
    departments: list[str] = Field(description="where to go according to the national record (cơ quan thực hiện)")
    published_by: str | None = Field(description="the authority that published the national record")
    target: list[str] = Field(description="who may ask for it (đối tượng thực hiện)")
    time_limit_note: str | None = Field(description="the time limit as the national record words it")
    details_published: bool = Field(description="false: the national record lists no documents, fees nor time limit")


class FieldCount(BaseModel):
    name: str
    count: int


class CatalogueFacets(BaseModel):
    """The choices of the public search's filters, with how many procedures in force each has."""

    total: int
    fields: list[FieldCount]
    departments: list[FieldCount]
    levels: list[FieldCount]


class PublicAgency(BaseModel):
    """An agency as the public sees it: the complaint form, the search filter, and where the desk is.

    ``street_address`` and ``postal_hours`` are the desk's own (where the postman collects and
    delivers, and when it receives him: services.intake.postal), public by nature; null when unset."""

    code: str
    name: str
    level: str
    one_stop_desk: bool
    street_address: str | None = Field(description="the desk's street address; null when not set")
    postal_hours: str | None = Field(description="when the desk receives the postman, as written; null when not set")


# --- queries -------------------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_force(version: type[ProcedureVersion], today: date) -> ColumnElement[bool]:
    return in_force_clause(
        published=version.published, valid_from=version.valid_from, valid_to=version.valid_to, day=today
    )


def _current(today: date) -> ColumnElement[bool]:
    """The version in force today, one per procedure (the highest number should versions overlap).

    Written as "in force and no later version in force" (an anti-join) rather than DISTINCT ON over
    every version: over the whole national catalogue that keeps a search in a few milliseconds.
    """
    later = aliased(ProcedureVersion)
    return and_(
        _in_force(ProcedureVersion, today),
        ~exists().where(
            later.procedure_id == ProcedureVersion.procedure_id,
            later.version > ProcedureVersion.version,
            _in_force(later, today),
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
    procedure = await _procedure(session, code)
    version_id = await session.scalar(
        select(ProcedureVersion.id).where(ProcedureVersion.procedure_id == procedure.id, _current(today))
    )
    if version_id is None:
        raise NotFound(f"Procedure {code!r} has no version in force today.", code="procedure_not_in_force")
    return await _detail(session, version_id)


async def _procedure(session: AsyncSession, code: str, *, for_update: bool = False) -> Procedure:
    statement = select(Procedure).where(Procedure.code == code)
    if for_update:
        statement = statement.with_for_update()
    procedure = await session.scalar(statement)
    if procedure is None:
        raise NotFound(f"No procedure with code {code!r}.", code="procedure_not_found")
    return procedure


async def _active_template(session: AsyncSession, version_id: uuid.UUID) -> WorkflowTemplate | None:
    return await session.scalar(
        select(WorkflowTemplate)
        .where(WorkflowTemplate.procedure_version_id == version_id, WorkflowTemplate.active.is_(True))
        .order_by(WorkflowTemplate.version.desc())
        .limit(1)
        .options(selectinload(WorkflowTemplate.steps))
    )


async def _detail(session: AsyncSession, version_id: uuid.UUID) -> ProcedureDetail:
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
    template = await _active_template(session, version.id)
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


# --- administration ------------------------------------------------------------------------------


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


async def create_procedure(session: AsyncSession, body: ProcedureCreate) -> ProcedureDetail:
    """Create a procedure with its first (published) version; flushes, never commits."""
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
    return await _detail(session, version.id)


async def publish_version(session: AsyncSession, code: str, body: VersionIn) -> ProcedureDetail:
    """Publish version N+1 of ``code``; the previous version ends where it starts. Flushes, never commits.

    The previous version's rules are left as they are (dossiers received under it stay bound to
    them); only its ``valid_to`` is set. The active workflow template is copied to the new version.
    """
    procedure = await _procedure(session, code, for_update=True)  # serialises concurrent publications
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
        template = await _active_template(session, previous.id)
        if template is not None:
            session.add(_copy_template(template, version.id))
    await session.flush()
    return await _detail(session, version.id)


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
