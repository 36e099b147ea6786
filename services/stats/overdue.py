"""The overdue list: open dossiers past their legal due time (or late by rule), latest first, with the
unit and officer of the running step. Written with the ORM, unlike the counts: it returns rows, not
sums, and pages through them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, false, func, literal, select, text, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.domain.rules import overdue_clause
from services.domain.vocabulary import PAUSED, RUNNING, STATUS_CODES, in_order, open_states_sql
from services.models import Agency, Dossier, Procedure, ProcedureVersion, SlaTimer, Staff
from services.stats.schemas import OverdueDossier, OverdueList
from services.stats.scope import StatsQuery

# a literal, not bound parameters: the planner must see it to use the partial index on open dossiers
OPEN_CLAUSE = text(open_states_sql("dossier.status"))
# the running ones (clock not paused), literal for the same reason: ``ix_dossier_running_due``
RUNNING_CLAUSE = text(f"dossier.status IN ({', '.join(repr(status.value) for status in in_order(RUNNING))})")
PAUSED_CLAUSE = text(f"dossier.status IN ({', '.join(repr(status.value) for status in in_order(PAUSED))})")


def _open_overdue(now: datetime) -> ColumnElement[bool]:
    """``services.domain.rules.is_overdue`` over the dossier and its clock's pause."""
    paused_since = (
        select(SlaTimer.paused_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "dossier", SlaTimer.ended_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    return overdue_clause(
        status=Dossier.status,
        late_by_rule=Dossier.late_by_rule,
        due_at=Dossier.due_at,
        paused_since=paused_since,
        now=now,
    )


def _in(column: Any, values: Sequence[uuid.UUID] | None) -> ColumnElement[bool]:
    if values is None:
        return true()
    return column.in_(values) if values else false()


def _dossier_scope(query: StatsQuery) -> list[ColumnElement[bool]]:
    conditions = [
        _in(Dossier.receiving_agency_id, query.agency_ids),
        _in(Dossier.procedure_version_id, query.version_ids),
    ]
    if query.start_at is not None:
        conditions.append(Dossier.received_at >= query.start_at)
    if query.end_at is not None:
        conditions.append(Dossier.received_at < query.end_at)
    return conditions


def _overdue_select(query: StatsQuery, *columns: Any) -> tuple[Select[Any], Any]:
    step = (
        select(SlaTimer.agency_id, SlaTimer.assignee_id, SlaTimer.step_position, SlaTimer.due_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "step", SlaTimer.ended_at.is_(None))
        .order_by(SlaTimer.step_seq.desc())
        .limit(1)
        .lateral("running_step")
    )
    statement = (
        select(*columns)
        .select_from(Dossier)
        .outerjoin(step, true())
        .where(OPEN_CLAUSE, _open_overdue(query.now), *_dossier_scope(query))
    )
    if query.officer_id is not None:
        statement = statement.where(func.coalesce(step.c.assignee_id, Dossier.current_assignee_id) == query.officer_id)
    return statement, step


async def _page(session: AsyncSession, query: StatsQuery, *, limit: int, offset: int) -> list[uuid.UUID]:
    """The ids of one page, latest first, without ranking every overdue dossier: a running dossier's
    lateness is now − due time, so the running ones come in the order of ``ix_dossier_running_due``
    (due time, code) and the first ``offset + limit`` of them are read off the index; the paused ones
    (judged at their pause, a minority) are ranked in full; the page is cut from the two."""
    wanted = offset + limit
    running, _ = _overdue_select(
        query, Dossier.id, func.extract("epoch", literal(query.now) - Dossier.due_at).label("lateness"), Dossier.code
    )
    running = running.where(RUNNING_CLAUSE).order_by(Dossier.due_at.asc().nulls_last(), Dossier.code).limit(wanted)
    paused_since = (
        select(SlaTimer.paused_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "dossier", SlaTimer.ended_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    lateness = func.extract("epoch", func.coalesce(paused_since, query.now) - Dossier.due_at)
    paused, _ = _overdue_select(query, Dossier.id, lateness.label("lateness"), Dossier.code)
    paused = paused.where(PAUSED_CLAUSE).order_by(lateness.desc().nulls_last(), Dossier.code).limit(wanted)
    both = union_all(running, paused).subquery("candidates")
    rows = await session.execute(
        select(both.c.id).order_by(both.c.lateness.desc().nulls_last(), both.c.code).limit(limit).offset(offset)
    )
    return list(rows.scalars())


async def overdue_dossiers(session: AsyncSession, query: StatsQuery, *, limit: int, offset: int = 0) -> OverdueList:
    """Open dossiers past their legal due time (or late by rule), latest first, with the running step's unit."""
    counting, _ = _overdue_select(query, func.count())
    total = int(await session.scalar(counting) or 0)
    page = await _page(session, query, limit=limit, offset=offset)
    if not page:
        return OverdueList(as_of=query.now, total=total, items=[])

    unit, receiving, staff = aliased(Agency), aliased(Agency), aliased(Staff)
    paused_since = (
        select(SlaTimer.paused_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "dossier", SlaTimer.ended_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    reference = case((Dossier.status.in_(PAUSED), func.coalesce(paused_since, query.now)), else_=query.now)
    lateness = func.extract("epoch", reference - Dossier.due_at)
    statement, step = _overdue_select(
        query,
        Dossier.code,
        Dossier.status,
        Procedure.code.label("procedure_code"),
        Procedure.name.label("procedure_name"),
        receiving.code.label("receiving_agency_code"),
        Dossier.received_at,
        Dossier.due_at,
        Dossier.appointment_at,
        Dossier.late_by_rule,
        lateness.label("lateness"),
        unit.code.label("unit_code"),
        unit.name.label("unit_name"),
        staff.username.label("assignee"),
    )
    statement = (
        statement.add_columns(step.c.step_position, step.c.due_at.label("step_due_at"))
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .join(receiving, receiving.id == Dossier.receiving_agency_id)
        .outerjoin(
            unit, unit.id == func.coalesce(step.c.agency_id, Dossier.current_agency_id, Dossier.receiving_agency_id)
        )
        .outerjoin(staff, staff.id == func.coalesce(step.c.assignee_id, Dossier.current_assignee_id))
        .where(Dossier.id.in_(page))
        .order_by(lateness.desc().nulls_last(), Dossier.code)
    )
    items = []
    for row in (await session.execute(statement)).mappings():
        seconds = int(row["lateness"] or 0)
        items.append(
            OverdueDossier(
                code=row["code"],
                status=row["status"],
                status_code=STATUS_CODES[row["status"]],
                procedure_code=row["procedure_code"],
                procedure_name=row["procedure_name"],
                receiving_agency_code=row["receiving_agency_code"],
                received_at=row["received_at"],
                due_at=row["due_at"],
                appointment_at=row["appointment_at"],
                late_by_rule=row["late_by_rule"],
                late_by_seconds=seconds,
                late_by_days=round(seconds / 86400, 2),
                responsible_unit_code=row["unit_code"],
                responsible_unit_name=row["unit_name"],
                assignee=row["assignee"],
                step_position=row["step_position"],
                step_due_at=row["step_due_at"],
            )
        )
    return OverdueList(as_of=query.now, total=total, items=items)
