"""``compute_stats``: every indicator of a request, with its breakdowns by month, procedure, level,
field, agency, unit and officer — whole years from the rollups, other whole months from the cells, edge
days live, what is open from the open counters (see the package's docstring for why and how).

**Cost** (``bench/bench_stats.py``: a province-year, 121 agencies, 4,040 (agency, procedure) pairs;
``bench/profiles/2026-12-06-stats.md``, ``…/2026-12-06-session12.md``): the finished part is one statement
over 4,040 yearly rollup rows (by version) and 1,440 (month, agency) rows (by month and by agency), each
version's row with its procedure and level; what is open is one statement over the cells with something
open and the part of today's due times on the shorter side of "now", the same for the running steps; then
the names. Four statements and two small ones, ≈ 20 ms of the database's time at 10 M dossiers; the
Python (the versions' rows added by procedure, field and level as tuples, ≈ 240 slices' indicators and
their response rows) ≈ 7 ms. Before: 48,066 month cells × 79 counters in three grouping sets and two passes
over every open dossier (191,670 at 10 M dossiers): 330–460 ms, 1,150 ms before that. The sums come as
bigint (PostgreSQL's sum of a bigint is a numeric, read as a Decimal).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import fetch
from services.domain.vocabulary import open_states_sql
from services.models import Agency, Staff
from services.models.stats import DOSSIER_COUNTERS, NO_OFFICER, STEP_COUNTERS
from services.stats.medians import time_used_medians
from services.stats.open import (
    PENDING_COLUMNS,
    RUNNING_COLUMNS,
    counted,
    pending_source,
    running_steps_source,
)
from services.stats.schemas import (
    AgencyIndicators,
    FieldIndicators,
    LevelIndicators,
    MonthIndicators,
    OfficerStats,
    ProcedureIndicators,
    Stats,
    StepCounts,
    UnitStats,
)
from services.stats.scope import StatsQuery
from services.stats.sql import (
    _names,
    _period,
    _Sql,
    split_period,
    split_years,
)
from services.stats.tallies import StepTally, Tally

# bigint, not numeric: sum(bigint) is numeric in PostgreSQL, read as Decimal
_SUMS = ", ".join(f"coalesce(sum(x.{name}), 0)::bigint AS {name}" for name in DOSSIER_COUNTERS)
_DOSSIER_COLUMNS = ", ".join(DOSSIER_COUNTERS)
_STEP_SUMS = ", ".join(f"sum(x.{name}) AS {name}" for name in STEP_COUNTERS)
_STEP_COLUMNS = ", ".join(STEP_COUNTERS)
_OPEN_SQL = open_states_sql("d.status")


# What a row of the dossier statements is a slice of: a month's, an agency's or a procedure version's
_MONTH, _AGENCY, _VERSION = 1, 2, 3
# the procedure of a version's row (code, name, field, level) and its level's names, looked up with it
_PROCEDURE_OF = (
    "SELECT p.code, p.name, p.field, p.level, al.name_vi, al.name_en, al.rank, g.* FROM g"
    " LEFT JOIN procedure_version AS pv ON pv.id = g.procedure_version_id"
    " LEFT JOIN procedure AS p ON p.id = pv.procedure_id LEFT JOIN agency_level AS al ON al.code = p.level"
)
_LEAD = 11  # the columns of a row before its counters: the procedure's seven, g's kind, month, version, agency


@dataclass
class _Slices:
    """The tallies of a request by month, agency, procedure (code, name, field, level), field and level,
    and the names of the levels.

    PostgreSQL sums the cells by month, agency and procedure version; the versions' rows (80 for a
    province-year) are summed here by procedure, field and level, and the months' into the total. As a
    second level of grouping sets in the statement that cost 2.8 ms of the database's time (0.8 of them
    planning its 79 × 4 sums) against ≈ 0.5 ms here, adding tuples (2026-12-06, 10 M dossiers)."""

    total: Tally = field(default_factory=Tally)
    months: dict[date, Tally] = field(default_factory=dict)
    agencies: dict[uuid.UUID, Tally] = field(default_factory=dict)
    procedures: dict[tuple[str, str, str, str], Tally] = field(default_factory=dict)
    fields: dict[str, Tally] = field(default_factory=dict)
    levels: dict[str, Tally] = field(default_factory=dict)
    level_names: dict[str, tuple[str, str, int]] = field(default_factory=dict)

    def slices_of(self, row: Any) -> list[Tally]:
        """The tallies a row (``_PROCEDURE_OF``'s) counts in: its month's and the total, its agency's, or
        its version's procedure, field and level."""
        code, name, fld, level, name_vi, name_en, rank, kind, month, _, agency = row[:_LEAD]
        if kind == _MONTH:
            # a month row without a month: an open dossier never received, counted on an edge day by its
            # creation (services.stats.open.pending_source): in the total only
            return [self.total] if month is None else [_slice(self.months, month), self.total]
        if kind == _AGENCY:
            return [_slice(self.agencies, agency)]
        assert kind == _VERSION, kind
        if name_vi is not None:
            self.level_names[level] = (name_vi, name_en, rank)
        return [
            _slice(self.procedures, (code, name, fld, level)),
            _slice(self.fields, fld),
            _slice(self.levels, level),
        ]


def _slice(slices: dict[Any, Tally], key: Any) -> Tally:
    """The tally of ``key``, made when first asked (``setdefault`` would build one on every call)."""
    tally = slices.get(key)
    if tally is None:
        tally = slices[key] = Tally()
    return tally


async def _fetch(session: AsyncSession, sql: _Sql, statement: str) -> list[asyncpg.Record]:
    """A statement of the dashboard, in the session's transaction, straight through asyncpg: its rows skip
    SQLAlchemy's result machinery (a dashboard's four large statements, ≈ 700 rows: 2026-12-06)."""
    positional, args = sql.positional(statement)
    return await fetch(session, positional, *args)


def _edge_rows(sql: _Sql, edges: list[tuple[date, date]]) -> str:
    """The dossiers of the edge days, counted live with the triggers' own function."""
    return (
        "SELECT date_trunc('month', f.day::timestamp)::date AS month, d.procedure_version_id,"
        f" d.receiving_agency_id AS agency_id, {', '.join(f'f.{name}' for name in DOSSIER_COUNTERS)} FROM dossier AS d"
        " CROSS JOIN LATERAL stats_flags(d.id) AS fl"
        " CROSS JOIN LATERAL stats_dossier_facts(d, fl.has_complaint, fl.has_charge) AS f"
        f" WHERE {sql.edges(edges)} AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')}"
    )


async def _dossier_slices(session: AsyncSession, query: StatsQuery) -> _Slices:
    """By month, agency, procedure, field and level: one statement sums by month and by agency (the
    (month, agency) rollup) and by procedure version (the yearly rollup for whole years, the month cells for
    the other months), the edge days live, each version's row with its procedure; the versions' rows are
    added here by procedure, field and level (``_Slices``). Then what is open (``services.stats.open``) in
    the same slices. The caller has applied its own changes to the open counters (``stats_open_own``)."""
    start, end = _period(query)
    months, edges = split_period(start, end)
    sql = _Sql(query)
    cell_scope = sql.scope("c.agency_id", "c.procedure_version_id")
    by_month, by_key = [], []
    if months:
        # the (month, agency) rollup has no procedure to filter on
        monthly = "stats_dossier_agency_month" if query.version_ids is None else "stats_dossier_cell"
        by_month.append(
            f"SELECT c.month, c.agency_id, {_DOSSIER_COLUMNS} FROM {monthly} AS c"
            f" WHERE {sql.between('c.month', months, 'months')} AND {cell_scope}"
        )
        years, rest = split_years(months)
        if years:
            by_key.append(
                f"SELECT c.procedure_version_id, {_DOSSIER_COLUMNS} FROM stats_dossier_year AS c"
                f" WHERE {sql.between('c.year', years, 'years')} AND {cell_scope}"
            )
        for n, run in enumerate(rest):
            by_key.append(
                f"SELECT c.procedure_version_id, {_DOSSIER_COLUMNS} FROM stats_dossier_cell AS c"
                f" WHERE {sql.between('c.month', run, f'run{n}')} AND {cell_scope}"
            )
    with_edges = ""
    if edges:
        with_edges = f"edge AS MATERIALIZED ({_edge_rows(sql, edges)}), "
        counters = ", ".join(f"e.{name}" for name in DOSSIER_COUNTERS)
        by_month.append(f"SELECT e.month, e.agency_id, {counters} FROM edge AS e")
        by_key.append(f"SELECT e.procedure_version_id, {counters} FROM edge AS e")
    rows = await _fetch(
        session,
        sql,
        (
            f"WITH {with_edges}g AS (SELECT CASE GROUPING(x.month) WHEN 0 THEN {_MONTH} ELSE {_AGENCY} END AS kind,"
            f" x.month, NULL::uuid AS procedure_version_id, x.agency_id, {_SUMS}"
            f" FROM ({' UNION ALL '.join(by_month)}) AS x (month, agency_id, {_DOSSIER_COLUMNS})"
            " GROUP BY GROUPING SETS ((x.month), (x.agency_id))"
            f" UNION ALL SELECT {_VERSION}, NULL::date, x.procedure_version_id, NULL::uuid, {_SUMS}"
            f" FROM ({' UNION ALL '.join(by_key)}) AS x (procedure_version_id, {_DOSSIER_COLUMNS})"
            f" GROUP BY x.procedure_version_id) {_PROCEDURE_OF}"
        ),
    )
    slices = _Slices()
    for row in rows:
        values = row[_LEAD:]
        for tally in slices.slices_of(row):
            tally.add(values)

    sql = _Sql(query)
    pending = await _fetch(
        session,
        sql,
        (
            "WITH g AS (SELECT CASE GROUPING(x.month, x.procedure_version_id)"
            f" WHEN 1 THEN {_MONTH} WHEN 2 THEN {_VERSION} ELSE {_AGENCY} END AS kind,"
            " x.month, x.procedure_version_id, x.agency_id, sum(x.open) AS open, sum(x.overdue) AS overdue"
            f" FROM ({pending_source(sql, months, edges)}) AS x ({PENDING_COLUMNS})"
            f" GROUP BY GROUPING SETS ((x.month), (x.procedure_version_id), (x.agency_id))) {_PROCEDURE_OF}"
        ),
    )
    for row in pending:
        open_, overdue = int(row[_LEAD]), int(row[_LEAD + 1])
        for tally in slices.slices_of(row):
            tally.pending_overdue += overdue
            tally.pending_on_time += open_ - overdue
    return slices


async def _step_tallies(session: AsyncSession, query: StatsQuery, *, by: str) -> dict[uuid.UUID, StepTally]:
    """Steps per unit (``by="unit"``) or per officer (``by="officer"``): ended ones from the cells (the
    yearly rollup for whole years, per unit) and the edge days, running ones from the open counters per
    unit, live per officer."""
    start, end = _period(query)
    months, edges = split_period(start, end)
    per_officer = by == "officer" or query.officer_id is not None
    table = "stats_officer_cell" if per_officer else "stats_step_cell"
    sql = _Sql(query)
    parts = []
    if months:
        key = "c.assignee_id" if by == "officer" else "c.unit_id"
        years, rest = split_years(months) if not per_officer else (None, [months])
        if years:
            parts.append(
                f"SELECT c.unit_id, {_STEP_COLUMNS} FROM stats_step_year AS c WHERE"
                f" {sql.between('c.year', years, 'years')} AND {sql.scope('c.agency_id', 'c.procedure_version_id')}"
            )
        for n, run in enumerate(rest):
            parts.append(
                f"SELECT {key}, {_STEP_COLUMNS} FROM {table} AS c WHERE {sql.between('c.month', run, f'run{n}')}"
                f" AND {sql.scope('c.agency_id', 'c.procedure_version_id')} AND {sql.officer('c.assignee_id')}"
            )
    if edges:
        key = "s.assignee_id" if by == "officer" else "coalesce(s.unit_id, d.receiving_agency_id)"
        parts.append(
            f"SELECT {key}, {', '.join(f's.{name}' for name in STEP_COUNTERS)} FROM dossier AS d"
            " JOIN sla_timer AS t ON t.dossier_id = d.id CROSS JOIN LATERAL stats_step_facts(t) AS s"
            f" WHERE {sql.edges(edges)} AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')}"
            f" AND {sql.officer('s.assignee_id')}"
        )
    rows = await _fetch(
        session,
        sql,
        f"SELECT x.key, {_STEP_SUMS} FROM ({' UNION ALL '.join(parts)}) AS x (key, {_STEP_COLUMNS}) GROUP BY 1",
    )
    tallies: dict[uuid.UUID, StepTally] = {}
    for row in rows:
        tallies.setdefault(row["key"], StepTally()).counts = {name: int(row[name] or 0) for name in STEP_COUNTERS}

    sql = _Sql(query)
    if per_officer or not counted(query):
        key = (
            f"coalesce(t.assignee_id, '{NO_OFFICER}'::uuid)"
            if by == "officer"
            else "coalesce(t.agency_id, d.receiving_agency_id)"
        )
        # one officer's or one agency's: a pass over its open dossiers (both sides covering partial indexes)
        source = (
            f"SELECT {key}, 1, coalesce(t.due_at < coalesce(t.paused_at, :now), false)::integer"
            " FROM dossier AS d JOIN sla_timer AS t ON t.dossier_id = d.id"
            f" WHERE {_OPEN_SQL} AND t.ended_at IS NULL AND t.kind = 'step' AND {sql.received_in_period()}"
            f" AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')} AND {sql.officer('t.assignee_id')}"
        )
    else:
        source = running_steps_source(sql, months, edges)
    running = await _fetch(
        session,
        sql,
        (
            "SELECT x.key, sum(x.open) AS open, sum(x.overdue) AS late"
            f" FROM ({source}) AS x ({RUNNING_COLUMNS}) GROUP BY 1"
        ),
    )
    for row in running:
        tally = tallies.setdefault(row["key"], StepTally())
        tally.open_total, tally.open_overdue = int(row["open"]), int(row["late"])
    return tallies


async def compute_stats(session: AsyncSession, query: StatsQuery) -> Stats:
    """Every indicator of the request, with its breakdowns by month, procedure, agency, unit and officer."""
    start, end = _period(query)
    # for this transaction only, in one round trip with this transaction's own changes applied to the open
    # counters (services.stats.open.count_own_changes): no parallel workers (on a busy server each would build
    # the same hash again); every statement planned with its values (the scope's agencies as a constant
    # array are looked up by hash, as a generic plan's parameter one by one: at 1 M dossiers, a dashboard
    # at p50 91 ms with generic plans after the fifth call, 59 ms with custom ones, same load)
    await session.execute(
        text(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
            " set_config('plan_cache_mode', 'force_custom_plan', true), stats_open_own()"
        )
    )
    slices = await _dossier_slices(session, query)
    units = await _step_tallies(session, query, by="unit")
    officers: dict[uuid.UUID, StepTally] = {}
    if query.single_agency or query.officer_id is not None:
        officers = await _step_tallies(session, query, by="officer")

    agency_names = await _names(session, Agency, [*units, *slices.agencies], Agency.code, Agency.name)
    staff_names = await _names(session, Staff, officers, Staff.username, Staff.full_name)
    measured = slices.total.counts["timed"]
    if 0 < measured <= query.exact_median_max:
        medians = await time_used_medians(session, query)
        slices.total.median_percent = medians.total
        for agency_id, tally in slices.agencies.items():
            tally.median_percent = medians.agencies.get(agency_id)
        for (code, *_), tally in slices.procedures.items():
            tally.median_percent = medians.procedures.get(code)
        for name, tally in slices.fields.items():
            tally.median_percent = medians.fields.get(name)
        for code, tally in slices.levels.items():
            tally.median_percent = medians.levels.get(code)

    total_steps = StepTally()
    for part in (officers if query.officer_id is not None else units).values():
        for name in STEP_COUNTERS:
            total_steps.counts[name] += part.counts[name]
        total_steps.open_total += part.open_total
        total_steps.open_overdue += part.open_overdue

    by_unit = [
        UnitStats(
            agency_id=unit, agency_code=agency_names[unit][0], agency_name=agency_names[unit][1], **t.counts_out()
        )
        for unit, t in units.items()
        if unit in agency_names
    ]
    by_unit.sort(key=lambda u: (-(u.steps_late + u.steps_open_overdue), -u.steps_late, u.agency_code))
    by_officer = [
        OfficerStats(
            staff_id=None if staff == NO_OFFICER else staff,
            username=staff_names.get(staff, (None, None))[0],
            full_name=staff_names.get(staff, (None, None))[1],
            **t.counts_out(),
        )
        for staff, t in officers.items()
    ]
    by_officer.sort(key=lambda o: (-(o.steps_late + o.steps_open_overdue), o.username or "~"))
    labels = query.labels
    return Stats(
        **slices.total.indicators(),
        date_from=start,
        date_to=end,
        as_of=query.now,
        agency=labels.get("agency"),
        include_children=bool(query.agency_ids) and not query.single_agency,
        field=labels.get("field"),
        procedure=labels.get("procedure"),
        officer=labels.get("officer"),
        steps=StepCounts(**total_steps.counts_out()),
        by_unit=by_unit,
        by_officer=by_officer,
        by_month=[MonthIndicators(month=f"{m:%Y-%m}", **t.indicators()) for m, t in sorted(slices.months.items())],
        by_procedure=sorted(
            (
                ProcedureIndicators(procedure_code=code, procedure_name=name, field=fld, level=level, **t.indicators())
                for (code, name, fld, level), t in slices.procedures.items()
            ),
            key=lambda p: p.procedure_code,
        ),
        by_level=sorted(
            (
                LevelIndicators(
                    level=code,
                    level_name_vi=slices.level_names.get(code, (code, code, 0))[0],
                    level_name_en=slices.level_names.get(code, (code, code, 0))[1],
                    **t.indicators(),
                )
                for code, t in slices.levels.items()
            ),
            key=lambda row: (slices.level_names.get(row.level, ("", "", 1 << 30))[2], row.level),
        ),
        by_field=sorted(
            (FieldIndicators(field=name, **t.indicators()) for name, t in slices.fields.items()), key=lambda f: f.field
        ),
        by_agency=sorted(
            (
                AgencyIndicators(agency_code=agency_names[a][0], agency_name=agency_names[a][1], **t.indicators())
                for a, t in slices.agencies.items()
                if a in agency_names
            ),
            key=lambda a: a.agency_code,
        ),
    )
