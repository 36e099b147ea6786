"""The overdue list: open dossiers past their legal due time (or late by rule), latest first, with the
unit and officer of the running step. Written with the ORM, unlike the counts: it returns rows, not
sums, and pages through them.

**How a page stays cheap with 100,000 overdue dossiers in scope.** Latest first means by lateness:
now − due time for a running dossier, pause start − due time for a paused one (``is_overdue``'s
reference). For the running ones that order is the due time's, so ``ix_dossier_running_due`` (running
dossiers by due time and code, covering the scope's columns) gives them in order and a page reads the
first ``offset + limit`` entries that pass the scope; of the paused ones only those that can reach the
page are ranked (``_page``); then only the page's dossiers are joined to their running step,
procedure, agency and officer. The total comes from the open counters (``services.stats.open``); with an
officer filter it is three counts, each served by an index range: running past their due time
(``ix_dossier_running_due``, index-only), running late by rule with their due time ahead
(``ix_dossier_running_late_by_rule``, few), paused. The running step is joined only when filtering by
officer: a lateral join the planner cannot drop costs an index probe per overdue dossier.

Measured by ``bench/bench_stats.py`` (10 M dossiers, a province-year with 93,000–100,000 overdue and
19,530 paused, first page of 20, 2 busy cores): 750 ms before 2026-12-05, 40–60 ms then (the count
28 ms) when the paused were few; with one open dossier in ten paused, 448 ms at p50 in the bench (the
paused ranked in full: 45–80 ms; generic plans from the sixth call: the page 350 ms, the count 78 ms).
Now ≈ 22 ms called alone: total 4–5 ms, page 3–5 ms, details 2 ms, the rest SQLAlchemy building the
statements. Offsets stay (the API's ``offset``): a page costs ``offset + limit`` index entries,
bounded by ``limit ≤ 1000``, ``offset ≤ 1,000,000``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, false, func, literal, literal_column, or_, select, text, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.domain.rules import overdue_clause
from services.domain.vocabulary import PAUSED, RUNNING, STATUS_CODES, in_order, open_states_sql
from services.models import Agency, Dossier, Procedure, ProcedureVersion, SlaTimer, Staff
from services.stats.open import PENDING_COLUMNS, count_own_changes, counted, pending_source
from services.stats.schemas import OverdueDossier, OverdueList
from services.stats.scope import StatsQuery
from services.stats.sql import _Sql, split_period

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


def _running_step() -> Any:
    """The dossier's running step (the latest, if several), joined laterally."""
    return (
        select(SlaTimer.agency_id, SlaTimer.assignee_id, SlaTimer.step_position, SlaTimer.due_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "step", SlaTimer.ended_at.is_(None))
        .order_by(SlaTimer.step_seq.desc())
        .limit(1)
        .lateral("running_step")
    )


def _running_overdue(now: datetime) -> list[Any]:
    """``is_overdue`` of a running dossier, whose clock is judged now (no pause): plain enough for the
    planner to read ``ix_dossier_running_due``; the paused ones keep the full rule (``_paused_overdue``)."""
    return [RUNNING_CLAUSE, or_(Dossier.late_by_rule, Dossier.due_at < now)]


def _paused_overdue(now: datetime) -> list[Any]:
    return [PAUSED_CLAUSE, _open_overdue(now)]


def _overdue_select(query: StatsQuery, overdue: list[Any], *columns: Any) -> Select[Any]:
    """``columns`` of the dossiers of the scope that meet ``overdue``. The running step is joined only
    to filter by officer: a lateral join the planner cannot drop costs an index probe per dossier."""
    statement = select(*columns).select_from(Dossier).where(*overdue, *_dossier_scope(query))
    if query.officer_id is not None:
        step = _running_step()
        statement = statement.outerjoin(step, true()).where(
            func.coalesce(step.c.assignee_id, Dossier.current_assignee_id) == query.officer_id
        )
    return statement


async def _total(session: AsyncSession, query: StatsQuery) -> int:
    """How many are overdue: from the open counters (``services.stats.open``: the cells with something
    open, one day of due times and the edge days live), or, filtering by officer, in three disjoint counts
    each served by an index range: the running ones past their due time (``ix_dossier_running_due``,
    due_at < now), the running ones late by rule with their due time ahead (few), the paused ones (few)."""
    if counted(query) and (query.start is None) == (query.end is None):
        months, edges = split_period(query.start, query.end) if query.start and query.end else (None, [])
        sql = _Sql(query)
        await count_own_changes(session)
        source = pending_source(sql, months, edges, every_month=query.start is None)
        statement = text(f"SELECT coalesce(sum(x.overdue), 0) FROM ({source}) AS x ({PENDING_COLUMNS})")
        return int(await session.scalar(statement, sql.params) or 0)
    now = query.now
    parts = (
        [RUNNING_CLAUSE, Dossier.due_at < now],
        [RUNNING_CLAUSE, Dossier.late_by_rule, or_(Dossier.due_at >= now, Dossier.due_at.is_(None))],
        _paused_overdue(now),
    )
    total = 0
    for overdue in parts:
        total += int(await session.scalar(_overdue_select(query, overdue, func.count())) or 0)
    return total


async def _page(session: AsyncSession, query: StatsQuery, *, limit: int, offset: int) -> list[uuid.UUID]:
    """The ids of one page, latest first, without ranking every overdue dossier: a running dossier's
    lateness is now − due time, so the running ones come in the order of ``ix_dossier_running_due``
    (due time, code) and the first ``offset + limit`` of them are read off the index; the paused ones
    (judged at their pause) are ranked among those that can reach the page only — due no later than the
    last of those running ones, or paused after "now" — and the page is cut from the two. At 10 M
    dossiers (19,530 paused, each ranked after a look-up of its clock's pause) the page took 45–80 ms,
    bounded 3–5 ms."""
    wanted = offset + limit
    now_minus_due = func.extract("epoch", literal(query.now) - Dossier.due_at)
    running = _overdue_select(
        query, _running_overdue(query.now), Dossier.id, now_minus_due.label("lateness"), Dossier.code
    )
    running = running.order_by(Dossier.due_at.asc().nulls_last(), Dossier.code).limit(wanted)
    paused_since = (
        select(SlaTimer.paused_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "dossier", SlaTimer.ended_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    lateness = func.extract("epoch", func.coalesce(paused_since, query.now) - Dossier.due_at)
    # a paused dossier paused by now is at most now − due time late: past the due time of the
    # ``wanted``-th running one, it cannot reach the page (none is, unless the running ones run short)
    kth_due = (
        _overdue_select(query, _running_overdue(query.now), Dossier.due_at)
        .order_by(Dossier.due_at.asc().nulls_last(), Dossier.code)
        .offset(wanted - 1)
        .limit(1)
        .scalar_subquery()
    )
    # an index range (status, due time) on ``ix_dossier_status_due``; with no bound, those due at no time too
    bound = func.coalesce(kth_due, literal_column("'infinity'::timestamptz"))
    reachable = Dossier.due_at <= bound
    paused_after_now = (
        select(SlaTimer.dossier_id)
        .where(SlaTimer.kind == "dossier", SlaTimer.ended_at.is_(None), SlaTimer.paused_at > query.now)
        .scalar_subquery()
    )  # judged at a pause after "now" (asked about the past): whatever its due time (ix_sla_timer_paused_dossier_clock)
    pages = []
    for where in (
        reachable,
        and_(Dossier.due_at > bound, Dossier.id.in_(paused_after_now)),
        and_(Dossier.due_at.is_(None), kth_due.is_(None)),
    ):
        paused = _overdue_select(
            query, [*_paused_overdue(query.now), where], Dossier.id, lateness.label("lateness"), Dossier.code
        )
        pages.append(paused.order_by(lateness.desc().nulls_last(), Dossier.code).limit(wanted))
    both = union_all(running, *pages).subquery("candidates")
    rows = await session.execute(
        select(both.c.id).order_by(both.c.lateness.desc().nulls_last(), both.c.code).limit(limit).offset(offset)
    )
    return list(rows.scalars())


async def overdue_dossiers(session: AsyncSession, query: StatsQuery, *, limit: int, offset: int = 0) -> OverdueList:
    """Open dossiers past their legal due time (or late by rule), latest first, with the running step's unit."""
    # every statement planned with its values (this transaction only): from the sixth call on, generic
    # plans took the page from 45 to 350 ms and the total from 4 to 78 ms at 10 M dossiers
    await session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"))
    total = await _total(session, query)
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
    step = _running_step()
    statement = select(
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
        step.c.step_position,
        step.c.due_at.label("step_due_at"),
    )
    statement = (
        statement.select_from(Dossier)
        .outerjoin(step, true())
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .join(receiving, receiving.id == Dossier.receiving_agency_id)
        .outerjoin(
            unit, unit.id == func.coalesce(step.c.agency_id, Dossier.current_agency_id, Dossier.receiving_agency_id)
        )
        .outerjoin(staff, staff.id == func.coalesce(step.c.assignee_id, Dossier.current_assignee_id))
        .where(Dossier.id.in_(page))  # chosen by _page: nothing to filter again
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
