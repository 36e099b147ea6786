"""What a statistics request asks for, and who may ask: the caller's scope turned into ids.

A head or leader sees their own agency (with ``include_children``, the agencies under it), an admin or
inspector any (``services.domain.vocabulary.SEE_ALL_ROLES``); the statistics' roles may read them at all
(``StatsActor``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.core.auth import Actor
from services.core.errors import Forbidden, NotFound, Unprocessable
from services.domain.vocabulary import SEE_ALL_ROLES
from services.models import Agency, Procedure, ProcedureVersion, Staff

# up to this many measured dossiers in a request's scope the medians of time used are exact (sorted);
# beyond it, interpolated from the cells' histograms (the cost of sorting grows with the dossiers)
EXACT_MEDIAN_MAX = 20_000


@dataclass(frozen=True)
class StatsQuery:
    """A resolved request: dates of receipt (inclusive, Vietnam time), ids, and "now"."""

    now: datetime
    start: date | None = None
    end: date | None = None
    agency_ids: tuple[uuid.UUID, ...] | None = None  # None: every agency
    version_ids: tuple[uuid.UUID, ...] | None = None  # None: every procedure
    officer_id: uuid.UUID | None = None
    single_agency: bool = False
    exact_median_max: int = EXACT_MEDIAN_MAX
    labels: dict[str, str | None] = field(default_factory=dict)

    @property
    def start_at(self) -> datetime | None:
        return datetime.combine(self.start, time(0), tzinfo=VN_TZ) if self.start else None

    @property
    def end_at(self) -> datetime | None:
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=VN_TZ) if self.end else None


async def agency_subtree(session: AsyncSession, root: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The agency and every agency or unit below it (Agency.parent_id)."""
    tree = select(Agency.id).where(Agency.id == root).cte("tree", recursive=True)
    tree = tree.union_all(select(Agency.id).join(tree, Agency.parent_id == tree.c.id))
    return tuple((await session.scalars(select(tree.c.id))).all())


async def resolve_query(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    start: date | None,
    end: date | None,
    agency: str | None = None,
    include_children: bool = False,
    field: str | None = None,
    procedure: str | None = None,
    officer: str | None = None,
) -> StatsQuery:
    """Check the caller's scope and turn codes into ids: a head or leader sees their own agency
    (and, with ``include_children``, the agencies under it); an admin or inspector any."""
    if start is not None and end is not None and end < start:
        raise Unprocessable("'to' must not be before 'from'.", code="invalid_period")
    root: uuid.UUID | None = None
    if agency is not None:
        root = await session.scalar(select(Agency.id).where(Agency.code == agency))
        if root is None:
            raise NotFound(f"No agency with code {agency!r}.", code="agency_not_found")
    if not actor.has_any(*SEE_ALL_ROLES):
        if actor.agency_id is None:
            raise Forbidden("Your account belongs to no agency.", code="other_agency")
        if root not in (None, actor.agency_id):
            raise Forbidden("You see the statistics of your own agency.", code="other_agency")
        root = actor.agency_id
    agency_ids: tuple[uuid.UUID, ...] | None = None
    if root is not None:
        agency_ids = await agency_subtree(session, root) if include_children else (root,)
        agency = await session.scalar(select(Agency.code).where(Agency.id == root))

    version_ids: tuple[uuid.UUID, ...] | None = None
    if field is not None or procedure is not None:
        if (
            procedure is not None
            and await session.scalar(select(Procedure.id).where(Procedure.code == procedure)) is None
        ):
            raise NotFound(f"No procedure with code {procedure!r}.", code="procedure_not_found")
        versions = select(ProcedureVersion.id).join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        if field is not None:
            versions = versions.where(Procedure.field == field)
        if procedure is not None:
            versions = versions.where(Procedure.code == procedure)
        version_ids = tuple((await session.scalars(versions)).all())

    officer_id: uuid.UUID | None = None
    if officer is not None:
        officer_id = await session.scalar(select(Staff.id).where(Staff.username == officer))
        if officer_id is None:
            raise NotFound(f"No officer with username {officer!r}.", code="officer_not_found")
    return StatsQuery(
        now=now,
        start=start,
        end=end,
        agency_ids=agency_ids,
        version_ids=version_ids,
        officer_id=officer_id,
        single_agency=root is not None and not include_children,
        labels={
            "agency": agency,
            "field": field,
            "procedure": procedure,
            "officer": officer,
        },
    )
