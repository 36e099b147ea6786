"""What the catalogue says of a dossier: the procedure version in force when it is filed, the desk that
receives it, whether the version is only listed for information, and what a filed dossier is bound to.

``information_only_clause`` / ``information_only_ids`` are one rule written as SQL (the catalogue's
filter) and in Python (the check before filing): a national record with no active workflow template
here, or no time limit in working units, is listed but not received.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Date, String, and_, exists, literal_column, or_, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import Forbidden, NotFound, Unprocessable
from services.domain.rules import in_force_clause
from services.models import Agency, Dossier, Procedure, ProcedureAgency, ProcedureVersion, WorkflowTemplate

NATIONAL_ORIGIN = "national"
WORKING_UNITS = ("working_days", "working_hours")


def version_in_force(
    day: date | ColumnElement[date], version: type[ProcedureVersion] = ProcedureVersion
) -> ColumnElement[bool]:
    """SQL: ``version`` (the table or an alias of it) is published and in force on ``day`` (a date, or SQL
    text such as a ``$2`` parameter)."""
    return in_force_clause(
        published=version.published, valid_from=version.valid_from, valid_to=version.valid_to, day=day
    )


async def current_version(session: AsyncSession, procedure_code: str, on: date) -> tuple[Procedure, ProcedureVersion]:
    """The version in force on ``on``: a dossier stays bound to it for good."""
    procedure, version, _ = await in_force_with_desks(session, procedure_code, on)
    return procedure, version


async def in_force_with_desks(
    session: AsyncSession, procedure_code: str, on: date
) -> tuple[Procedure, ProcedureVersion, list[Agency]]:
    """The version in force on ``on`` (the highest number should versions overlap) with the desks that
    receive it, by code, in one statement (a filing's first read: it was two round trips)."""
    latest = (
        select(ProcedureVersion.id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(Procedure.code == procedure_code, version_in_force(on))
        .order_by(ProcedureVersion.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Procedure, ProcedureVersion, Agency)
            .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
            .outerjoin(
                ProcedureAgency,
                and_(ProcedureAgency.version_id == ProcedureVersion.id, ProcedureAgency.role == "receiving"),
            )
            .outerjoin(Agency, Agency.id == ProcedureAgency.agency_id)
            .where(ProcedureVersion.id == latest)
            .order_by(Agency.code)
        )
    ).all()
    if not rows:
        raise NotFound(f"No procedure {procedure_code!r} is in force.", code="procedure_not_found")
    return rows[0][0], rows[0][1], [row[2] for row in rows if row[2] is not None]


class Desk(Protocol):
    """What choosing a desk needs of an agency: an ``Agency`` row, or a ``FilingDesk`` read without the ORM."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def code(self) -> str: ...


D = TypeVar("D", bound=Desk)


@dataclass(frozen=True)
class FilingDesk:
    """A receiving desk as a filing reads it (services.dossier.filing): its id and its code."""

    id: uuid.UUID
    code: str


def receiving_desk(agencies: Sequence[D], agency_code: str | None, *, fallback: uuid.UUID | None = None) -> D:
    """The one-stop desk receiving the dossier among the version's receiving ``agencies``: the one named,
    the only one, or the caller's."""
    if agency_code is not None:
        chosen = next((agency for agency in agencies if agency.code == agency_code), None)
        if chosen is None:
            raise Unprocessable(
                f"Agency {agency_code!r} does not receive this procedure.",
                code="agency_not_receiving",
                field="agency_code",
            )
        return chosen
    if fallback is not None:
        chosen = next((agency for agency in agencies if agency.id == fallback), None)
        if chosen is not None:
            return chosen
        raise Forbidden("Your agency does not receive this procedure.", code="agency_not_receiving")
    if len(agencies) == 1:
        return agencies[0]
    raise Unprocessable(
        "Several desks receive this procedure; choose one with agency_code.",
        code="agency_required",
        options=[agency.code for agency in agencies],
    )


def in_force_filing_sql() -> str:
    """SQL text: the version in force of procedure ``$1`` on day ``$2`` (the highest number should versions
    overlap) with what a filing checks — ``version_id``, ``procedure_code``, ``online_mode``,
    ``postal_submission``, ``postal_return``, ``information_only``, and the receipt rules' ``time_limit_value``,
    ``time_limit_unit`` and ``cutoff_rule`` (a counter filing starts the clock) — for statements sent straight through
    asyncpg (services.dossier.filing). Rendered from the same expressions as ``in_force_with_desks`` and
    ``information_only_clause``, so the rules are written once."""
    query = (
        select(
            ProcedureVersion.id.label("version_id"),
            Procedure.code.label("procedure_code"),
            ProcedureVersion.online_mode,
            ProcedureVersion.postal_submission,
            ProcedureVersion.postal_return,
            ProcedureVersion.time_limit_value,
            ProcedureVersion.time_limit_unit,
            ProcedureVersion.cutoff_rule,
            information_only_clause().label("information_only"),
        )
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(
            Procedure.code == literal_column("$1::varchar", String()),
            version_in_force(literal_column("$2::date", Date())),
        )
        .order_by(ProcedureVersion.version.desc())
        .limit(1)
    )
    return str(query.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


# the dialect the services run on: text rendered with it is what the database would have received
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect constructors untyped


@dataclass(frozen=True)
class Catalogued:
    """What the catalogue says of a dossier: its procedure version, the procedure, the receiving desk."""

    version: ProcedureVersion
    procedure: Procedure
    agency: Agency


async def catalogued(session: AsyncSession, dossier: Dossier) -> Catalogued:
    version = await session.get(ProcedureVersion, dossier.procedure_version_id)
    assert version is not None
    procedure = await session.get(Procedure, version.procedure_id)
    agency = await session.get(Agency, dossier.receiving_agency_id)
    assert procedure is not None
    assert agency is not None
    return Catalogued(version, procedure, agency)


def information_only_clause() -> ColumnElement[bool]:
    """SQL: the version (of the statement's ``ProcedureVersion``) is national and has no active workflow
    or no time limit in working units."""
    has_workflow = exists().where(
        WorkflowTemplate.procedure_version_id == ProcedureVersion.id, WorkflowTemplate.active.is_(True)
    )
    return and_(
        ProcedureVersion.source["origin"].astext == NATIONAL_ORIGIN,
        or_(~has_workflow, ProcedureVersion.time_limit_unit.not_in(WORKING_UNITS)),
    )


async def information_only_ids(session: AsyncSession, versions: Sequence[ProcedureVersion]) -> set[uuid.UUID]:
    """Which of ``versions`` are information only: national ones without an active workflow template or
    without a time limit in working units."""
    national = [version.id for version in versions if (version.source or {}).get("origin") == NATIONAL_ORIGIN]
    if not national:
        return set()
    with_workflow = set(
        (
            await session.scalars(
                select(WorkflowTemplate.procedure_version_id).where(
                    WorkflowTemplate.procedure_version_id.in_(national), WorkflowTemplate.active.is_(True)
                )
            )
        ).all()
    )
    return {
        version.id
        for version in versions
        if version.id in national and (version.id not in with_workflow or version.time_limit_unit not in WORKING_UNITS)
    }
