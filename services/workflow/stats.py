"""Statistics by the national indicator rules (Quyết định 766/QĐ-TTg), from maintained aggregates.

**Why aggregates, and how they stay right.** A request never scans the history. The finished
part of every count lives in ``stats_dossier_cell`` (dossiers) and ``stats_step_cell`` /
``stats_officer_cell`` (step clocks): one row per month of receipt (Vietnam time), receiving
agency and procedure version (and unit, and officer). They are kept by PostgreSQL triggers on
``dossier``, ``sla_timer``, ``complaint``, ``feedback`` and ``payment`` (migration "statistics
aggregates"): each insert, update or delete adds the difference between what the row contributed
before and after, computed by one SQL function (``stats_dossier_facts``) that holds the counting
rules. Triggers were chosen over a function the engine must call because they cannot be
forgotten: any writer — the routing engine's plain ORM updates, intake, webhooks, a manual fix in
psql — keeps the counters equal to a recount (tested after random changes). Updates that touch no
counted column (lock version, assignee, notes) do not fire them; rows are upserted in key order,
and a child row (complaint, rating, payment) locks its dossier first, so concurrent writers neither
double count nor deadlock on the counters. The bulk loader (``services.workflow.bulk``) switches
them off for its own transaction and adds what it loaded in one statement; ``python -m
services.workflow.bulk verify`` compares them with a recount.

A period [from, to] is read as its whole months from the cells — a province-year is 12 months ×
(agency, procedure) rows, whatever the number of dossiers — and the days at its edges, when it does
not start or end on a month boundary, are counted live with the same SQL function over the
dossiers of those days only (index on agency and receipt time). What depends on "now" is counted
live over what is open only: pending dossiers and running steps through covering partial indexes
(``ix_dossier_open_received``, ``ix_sla_timer_open_step``), index-only scans that never touch the
history. Month cells rather than day cells: day × agency × procedure cells are nearly as many as
the dossiers themselves (measured: 2.6 M cells for 5 M dossiers), month cells are 30 times fewer.

**Counting rules.** The period is the day of receipt in Vietnam time (for a refused online
submission, never received, the day it was made). ``received`` = resolved (early + on time + late) + pending
(on time + overdue) + withdrawn + stopped; ``refused`` (never received) is outside it. A resolved
or returned dossier counts by its ``outcome``; a dossier asked twice for a supplement is late
(``late_by_rule``). An open dossier is overdue when it is late by rule or its legal due time has
passed — for a paused one, passed before the pause began. Rates are percentages over:

- ``on_time_rate``: (early + on time + pending on time) / (resolved + pending); ``overdue_rate`` is
  the rest of that denominator;
- ``online_rate``: channel 2 (online) / received; ``digitised_rate``: digitised / received;
- ``online_payment_rate``: paid online / received dossiers with a fee or tax to pay (a payment
  request that was not cancelled, or an online payment);
- ``complaint_rate``: received dossiers with a complaint or a "dissatisfied" rating / received;
- ``satisfaction_rate`` = 100 − (overdue_rate + complaint_rate), at least 0;
- ``average_resolution_days``: mean receipt-to-result time of the resolved dossiers, in *calendar*
  days (kept for comparison with older reports).

**Working time and the legal limit** (time saved, as the reform reports measure it). When a dossier is
resolved its clock records the working time it ran, pauses excluded (``services.sla.clocks``:
working time from the clock start to the result on the agency's calendar, less the paused working time
added back; since the restart for a procedure whose clock restarts on a supplement), and the dossier
keeps it with the clock's budget, the legal limit (``used_working_seconds``, ``limit_working_seconds``).
The trigger sums, per cell, the resolved dossiers so measured (``timed``), their working seconds used,
their limits, used/limit in millionths (``limit_used_ppm``, floored: exact to 10⁻⁴ of a percentage
point) and those resolved in less than half their limit (``under_half``). With n measured, U_i used
and L_i the limit of dossier i (working seconds, 1 working day = 8 h = 28,800 s):

- ``average_working_days`` = ΣU_i / n / 28,800; ``average_limit_days`` = ΣL_i / n / 28,800;
- ``time_used_percent`` = 100 · Σ(U_i / L_i) / n (mean share of its limit a dossier used);
- ``time_used_median_percent`` = the median of 100 · U_i / L_i. **Exact** when the scope holds at
  most ``EXACT_MEDIAN_MAX`` (20,000) measured dossiers — a leader's agency for a year, typically: a
  ``percentile_cont(0.5)`` over them (an index-only scan of the partial covering index
  ``ix_dossier_timed_received``) in one pass for the total, each level, field, procedure and agency
  (grouping sets). **Interpolated** beyond that, and for the months always: the cells also keep a
  histogram of 100 · U_i / L_i (buckets 2 points wide to 100 %, 10 points to 200 %, then one for
  200 % or more: ``used_pct_000`` … ``used_pct_200``), summed like every counter; the median is
  placed linearly inside the bucket that holds it (``median_from_histogram``): off by less than the
  bucket's width, 2 points where medians fall (measured by ``make bench`` against the exact one).
  Sorting costs in proportion to the dossiers (0.28–0.65 s for 285,000 on the bench's 2 busy
  cores), the histogram in proportion to the cells;
- ``under_half_limit_rate`` = 100 · #{U_i < L_i / 2} / n;
- ``time_saved_percent`` = 100 · (1 − ΣU_i / ΣL_i): how much of the legal time the agency did not
  need, which is the "cut by 38.2% against the legal limit" of the reform reports.

Dossiers resolved before the clocks kept the working time (and loaded ones without it) are not
measured; ``measured`` says how many were. ``by_level`` (the level that resolves the procedure, cấp
tỉnh / cấp xã …) and ``by_field`` (lĩnh vực) merge the procedures like ``by_procedure`` merges versions.

The ``officer`` filter counts the steps the officer handled (``steps``, ``by_unit``,
``by_officer``); the dossier figures stay those of the scope, since a dossier is no one officer's.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Select,
    case,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.calendar.working import VN_TZ, WORKING_DAY
from services.core.auth import Actor
from services.core.errors import Forbidden, NotFound, Unprocessable
from services.domain.rules import overdue_clause, overdue_sql
from services.domain.vocabulary import PAUSED, SEE_ALL_ROLES, STATUS_CODES, DossierStatus, open_states_sql
from services.models import (
    Agency,
    AgencyLevel,
    Dossier,
    Procedure,
    ProcedureVersion,
    SlaTimer,
    Staff,
)
from services.models.stats import (
    DOSSIER_COUNTERS,
    NO_OFFICER,
    SHARE_BUCKET_BOUNDS,
    SHARE_BUCKETS,
    STEP_COUNTERS,
)

TZ_NAME = "Asia/Ho_Chi_Minh"
# up to this many measured dossiers in a request's scope the medians of time used are exact (sorted);
# beyond it, interpolated from the cells' histograms (the cost of sorting grows with the dossiers)
EXACT_MEDIAN_MAX = 20_000
# a literal, not bound parameters: the planner must see it to use the partial index on open dossiers
OPEN_CLAUSE = text(open_states_sql("dossier.status"))


# --- what a request asks for ---------------------------------------------------------------------


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


# --- schemas -------------------------------------------------------------------------------------


class Indicators(BaseModel):
    received: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    pending_on_time: int = 0
    pending_overdue: int = 0
    refused: int = 0
    withdrawn: int = 0
    stopped: int = 0
    on_time_rate: float | None = None
    overdue_rate: float | None = None
    average_resolution_days: float | None = None
    online_rate: float | None = None
    online_payment_rate: float | None = None
    digitised_rate: float | None = None
    complaint_rate: float | None = None
    satisfaction_rate: float | None = None
    measured: int = Field(0, description="resolved dossiers whose clock measured the working time used")
    average_working_days: float | None = Field(
        None, description="mean working time used, in working days of 8 h, pauses excluded"
    )
    average_limit_days: float | None = Field(None, description="mean legal limit of the same dossiers, working days")
    time_used_percent: float | None = Field(None, description="mean of 100 × time used / legal limit")
    time_used_median_percent: float | None = Field(
        None, description="median of 100 × time used / legal limit (exact up to 20,000 dossiers, else interpolated)"
    )
    under_half_limit_rate: float | None = Field(None, description="% resolved in under half their legal limit")
    time_saved_percent: float | None = Field(None, description="100 × (1 − Σ time used / Σ legal limits)")


class MonthIndicators(Indicators):
    month: str


class ProcedureIndicators(Indicators):
    procedure_code: str
    procedure_name: str
    field: str
    level: str


class LevelIndicators(Indicators):
    """The procedures one level of government resolves (Procedure.level): the "time saved" table."""

    level: str
    level_name_vi: str
    level_name_en: str


class FieldIndicators(Indicators):
    field: str


class AgencyIndicators(Indicators):
    agency_code: str
    agency_name: str


class StepCounts(BaseModel):
    steps: int = 0
    steps_early: int = 0
    steps_on_time: int = 0
    steps_late: int = 0
    steps_open_on_time: int = 0
    steps_open_overdue: int = 0
    on_time_rate: float | None = None


class UnitStats(StepCounts):
    agency_id: uuid.UUID
    agency_code: str
    agency_name: str


class OfficerStats(StepCounts):
    staff_id: uuid.UUID | None
    username: str | None
    full_name: str | None


class Stats(Indicators):
    date_from: date
    date_to: date
    as_of: datetime
    agency: str | None
    include_children: bool
    field: str | None
    procedure: str | None
    officer: str | None
    steps: StepCounts
    by_unit: list[UnitStats]
    by_officer: list[OfficerStats]
    by_month: list[MonthIndicators]
    by_procedure: list[ProcedureIndicators]
    by_agency: list[AgencyIndicators]
    by_level: list[LevelIndicators]
    by_field: list[FieldIndicators]


class OverdueDossier(BaseModel):
    code: str
    status: DossierStatus
    status_code: int
    procedure_code: str
    procedure_name: str
    receiving_agency_code: str
    received_at: datetime | None
    due_at: datetime | None
    appointment_at: datetime | None
    late_by_rule: bool
    late_by_seconds: int
    late_by_days: float
    responsible_unit_code: str | None
    responsible_unit_name: str | None
    assignee: str | None
    step_position: int | None
    step_due_at: datetime | None


class OverdueList(BaseModel):
    as_of: datetime
    total: int
    items: list[OverdueDossier]


# --- tallies -------------------------------------------------------------------------------------


def _rate(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def median_from_histogram(counts: Sequence[int]) -> float | None:
    """The median share of the limit used (in %) from the histogram buckets (``SHARE_BUCKET_BOUNDS``),
    interpolated linearly in the bucket that holds it: off by less than that bucket's width (2 points
    below 100 %, 10 up to 200 %), less where the dossiers spread evenly inside it. A median in the
    last, open bucket is given as its lower bound (200 %)."""
    total = sum(counts)
    if not total:
        return None
    half, below = total / 2, 0
    for index, count in enumerate(counts):
        if count and below + count >= half:
            low = SHARE_BUCKET_BOUNDS[index]
            if index + 1 == len(SHARE_BUCKET_BOUNDS):
                return float(low)
            return low + (SHARE_BUCKET_BOUNDS[index + 1] - low) * (half - below) / count
        below += count
    return None


@dataclass
class Tally:
    """The raw counters of one slice; ``indicators()`` applies the formulas."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOSSIER_COUNTERS, 0))
    pending_on_time: int = 0
    pending_overdue: int = 0
    median_percent: float | None = None  # exact, when sorted from the dossiers: never merged

    def add(self, values: dict[str, int]) -> None:
        for name in DOSSIER_COUNTERS:
            self.counts[name] += values.get(name, 0)

    def merge(self, other: Tally) -> None:
        self.add(other.counts)
        self.pending_on_time += other.pending_on_time
        self.pending_overdue += other.pending_overdue

    def indicators(self) -> dict[str, Any]:
        c = self.counts
        resolved = c["resolved_early"] + c["resolved_on_time"] + c["resolved_late"]
        processed = resolved + self.pending_on_time + self.pending_overdue
        on_time = _rate(c["resolved_early"] + c["resolved_on_time"] + self.pending_on_time, processed)
        overdue = _rate(c["resolved_late"] + self.pending_overdue, processed)
        complaints = _rate(c["complained"], c["received"])
        satisfaction = max(0.0, 100.0 - (overdue or 0.0) - complaints) if complaints is not None else None
        average = c["resolved_seconds"] / resolved / 86400 if resolved else None
        timed = c["timed"]
        return {
            "received": c["received"],
            "resolved_early": c["resolved_early"],
            "resolved_on_time": c["resolved_on_time"],
            "resolved_late": c["resolved_late"],
            "pending_on_time": self.pending_on_time,
            "pending_overdue": self.pending_overdue,
            "refused": c["refused"],
            "withdrawn": c["withdrawn"],
            "stopped": c["stopped"],
            "on_time_rate": _round(on_time),
            "overdue_rate": _round(overdue),
            "average_resolution_days": _round(average),
            "online_rate": _round(_rate(c["online"], c["received"])),
            "online_payment_rate": _round(_rate(c["paid_online"], c["charged"])),
            "digitised_rate": _round(_rate(c["digitised"], c["received"])),
            "complaint_rate": _round(complaints),
            "satisfaction_rate": _round(satisfaction),
            "measured": timed,
            "average_working_days": _round(c["used_working_seconds"] / timed / WORKING_DAY if timed else None),
            "average_limit_days": _round(c["limit_working_seconds"] / timed / WORKING_DAY if timed else None),
            "time_used_percent": _round(c["limit_used_ppm"] / timed / 10_000 if timed else None),
            "time_used_median_percent": _round(
                self.median_percent
                if self.median_percent is not None
                else median_from_histogram([c[name] for name in SHARE_BUCKETS])
            ),
            "under_half_limit_rate": _round(_rate(c["under_half"], timed)),
            "time_saved_percent": _round(
                100.0 * (1 - c["used_working_seconds"] / c["limit_working_seconds"])
                if c["limit_working_seconds"]
                else None
            ),
        }


@dataclass
class StepTally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEP_COUNTERS, 0))
    open_total: int = 0
    open_overdue: int = 0

    def counts_out(self) -> dict[str, Any]:
        c = self.counts
        ended_ok = c["steps_early"] + c["steps_on_time"]
        open_ok = self.open_total - self.open_overdue
        return {
            **c,
            "steps_open_on_time": open_ok,
            "steps_open_overdue": self.open_overdue,
            "on_time_rate": _round(_rate(ended_ok + open_ok, ended_ok + c["steps_late"] + self.open_total)),
        }


# --- SQL -----------------------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_period(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """[start, end] as whole months (first days of the first and last: read from the cells) and the
    runs of days at its edges (counted live)."""
    first = start if start.day == 1 else _next_month(start)
    after = _month_start(end + timedelta(days=1))  # the first day after the last whole month
    if first >= after:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if after <= end:
        edges.append((after, end))
    return (first, _month_start(after - timedelta(days=1))), edges


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VN_TZ)


class _Sql:
    """Bound parameters and the WHERE fragments of one request's scope, for the hand-written statements."""

    def __init__(self, query: StatsQuery) -> None:
        self.query = query
        self.params: dict[str, Any] = {"now": query.now}

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f":{name}"

    def scope(self, agency: str, version: str) -> str:
        conditions = ["true"]
        if self.query.agency_ids is not None:
            conditions.append(f"{agency} = ANY(CAST({self.bind('agencies', list(self.query.agency_ids))} AS uuid[]))")
        if self.query.version_ids is not None:
            conditions.append(f"{version} = ANY(CAST({self.bind('versions', list(self.query.version_ids))} AS uuid[]))")
        return " AND ".join(conditions)

    def months(self, months: tuple[date, date]) -> str:
        return f"c.month BETWEEN {self.bind('m0', months[0])} AND {self.bind('m1', months[1])}"

    def edges(self, edges: list[tuple[date, date]]) -> str:
        """The dossiers counted on those days: received then, or (never received) created then."""
        parts = []
        for n, (first, last) in enumerate(edges):
            a = self.bind(f"a{n}", _local_midnight(first))
            b = self.bind(f"b{n}", _local_midnight(last + timedelta(days=1)))
            parts.append(
                f"(d.received_at >= {a} AND d.received_at < {b})"
                f" OR (d.received_at IS NULL AND d.created_at >= {a} AND d.created_at < {b})"
            )
        return "(" + " OR ".join(parts) + ")"

    def received_in_period(self) -> str:
        a = self.bind("start", self.query.start_at) if self.query.start_at else None
        b = self.bind("end", self.query.end_at) if self.query.end_at else None
        return (
            " AND ".join([*([f"d.received_at >= {a}"] if a else []), *([f"d.received_at < {b}"] if b else [])])
            or "true"
        )

    def officer(self, column: str) -> str:
        if self.query.officer_id is None:
            return "true"
        return f"{column} = {self.bind('officer', self.query.officer_id)}"


_SUMS = ", ".join(f"sum(x.{name}) AS {name}" for name in DOSSIER_COUNTERS)
_DOSSIER_COLUMNS = ", ".join(DOSSIER_COUNTERS)
_STEP_SUMS = ", ".join(f"sum(x.{name}) AS {name}" for name in STEP_COUNTERS)
_STEP_COLUMNS = ", ".join(STEP_COUNTERS)
_OPEN_SQL = open_states_sql("d.status")
# services.domain.rules.is_overdue, over the open dossier timer's pause
_OVERDUE_SQL = overdue_sql(
    alias="d",
    paused_since="(SELECT t.paused_at FROM sla_timer AS t WHERE t.dossier_id = d.id AND t.kind = 'dossier'"
    " AND t.ended_at IS NULL LIMIT 1)",
    now=":now",
)


def _period(query: StatsQuery) -> tuple[date, date]:
    if query.start is None or query.end is None:
        raise Unprocessable("Give the period: from and to.", code="invalid_period")
    return query.start, query.end


@dataclass
class _Slices:
    total: Tally = field(default_factory=Tally)
    months: dict[date, Tally] = field(default_factory=dict)
    versions: dict[uuid.UUID, Tally] = field(default_factory=dict)
    agencies: dict[uuid.UUID, Tally] = field(default_factory=dict)

    def slice_of(self, month: date | None, version: uuid.UUID | None, agency: uuid.UUID | None) -> Tally:
        if month is not None:
            return self.months.setdefault(month, Tally())
        if version is not None:
            return self.versions.setdefault(version, Tally())
        assert agency is not None
        return self.agencies.setdefault(agency, Tally())


async def _dossier_slices(session: AsyncSession, query: StatsQuery) -> _Slices:
    """Whole months from the cells, edge days live with the same rules, open dossiers live; by month,
    procedure version and agency in one pass each."""
    start, end = _period(query)
    months, edges = split_period(start, end)
    sql = _Sql(query)
    parts = []
    if months:
        parts.append(
            f"SELECT c.month, c.procedure_version_id, c.agency_id, {_DOSSIER_COLUMNS} FROM stats_dossier_cell AS c"
            f" WHERE {sql.months(months)} AND {sql.scope('c.agency_id', 'c.procedure_version_id')}"
        )
    if edges:
        parts.append(
            "SELECT date_trunc('month', f.day::timestamp)::date, d.procedure_version_id, d.receiving_agency_id,"
            f" {', '.join(f'f.{name}' for name in DOSSIER_COUNTERS)} FROM dossier AS d"
            " CROSS JOIN LATERAL stats_flags(d.id) AS fl"
            " CROSS JOIN LATERAL stats_dossier_facts(d, fl.has_complaint, fl.has_charge) AS f"
            f" WHERE {sql.edges(edges)} AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')}"
        )
    rows = await session.execute(
        text(
            f"SELECT x.month, x.procedure_version_id, x.agency_id, {_SUMS}"
            f" FROM ({' UNION ALL '.join(parts)}) AS x (month, procedure_version_id, agency_id, {_DOSSIER_COLUMNS})"
            " GROUP BY GROUPING SETS ((x.month), (x.procedure_version_id), (x.agency_id))"
        ),
        sql.params,
    )
    slices = _Slices()
    for row in rows.mappings():
        values = {name: int(row[name] or 0) for name in DOSSIER_COUNTERS}
        slices.slice_of(row["month"], row["procedure_version_id"], row["agency_id"]).add(values)
        if row["month"] is not None:
            slices.total.add(values)

    # the month of receipt by bisection over the months' first instants: cheaper than a time zone per row
    firsts, month = [], _month_start(start)
    while month <= end:
        firsts.append(month)
        month = _next_month(month)
    sql = _Sql(query)
    edges_sql = sql.bind("firsts", [_local_midnight(first) for first in firsts])
    pending = await session.execute(
        text(
            f"SELECT width_bucket(d.received_at, CAST({edges_sql} AS timestamptz[])) AS month,"
            " d.procedure_version_id, d.receiving_agency_id AS agency_id,"
            f" count(*) AS open, count(*) FILTER (WHERE {_OVERDUE_SQL}) AS overdue"
            f" FROM dossier AS d WHERE {_OPEN_SQL} AND {sql.received_in_period()}"
            f" AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')}"
            " GROUP BY GROUPING SETS ((1), (2), (3))"
        ),
        sql.params,
    )
    for row in pending.mappings():
        month_of = firsts[row["month"] - 1] if row["month"] is not None else None
        overdue, on_time = int(row["overdue"]), int(row["open"]) - int(row["overdue"])
        tally = slices.slice_of(month_of, row["procedure_version_id"], row["agency_id"])
        tally.pending_overdue += overdue
        tally.pending_on_time += on_time
        if month_of is not None:
            slices.total.pending_overdue += overdue
            slices.total.pending_on_time += on_time
    return slices


async def _step_tallies(session: AsyncSession, query: StatsQuery, *, by: str) -> dict[uuid.UUID, StepTally]:
    """Steps per unit (``by="unit"``) or per officer (``by="officer"``): ended ones from the cells and the
    edge days, running ones live."""
    start, end = _period(query)
    months, edges = split_period(start, end)
    per_officer = by == "officer" or query.officer_id is not None
    table = "stats_officer_cell" if per_officer else "stats_step_cell"
    sql = _Sql(query)
    parts = []
    if months:
        key = "c.assignee_id" if by == "officer" else "c.unit_id"
        parts.append(
            f"SELECT {key}, {_STEP_COLUMNS} FROM {table} AS c WHERE {sql.months(months)}"
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
    rows = await session.execute(
        text(f"SELECT x.key, {_STEP_SUMS} FROM ({' UNION ALL '.join(parts)}) AS x (key, {_STEP_COLUMNS}) GROUP BY 1"),
        sql.params,
    )
    tallies: dict[uuid.UUID, StepTally] = {}
    for row in rows.mappings():
        tallies.setdefault(row["key"], StepTally()).counts = {name: int(row[name] or 0) for name in STEP_COUNTERS}

    sql = _Sql(query)
    key = (
        f"coalesce(t.assignee_id, '{NO_OFFICER}'::uuid)"
        if by == "officer"
        else "coalesce(t.agency_id, d.receiving_agency_id)"
    )
    # both sides are covering partial indexes: what is open, never the history
    running = await session.execute(
        text(
            f"SELECT {key} AS key, count(*) AS open, count(*) FILTER (WHERE t.due_at < coalesce(t.paused_at, :now))"
            " AS late FROM dossier AS d JOIN sla_timer AS t ON t.dossier_id = d.id"
            f" WHERE {_OPEN_SQL} AND t.ended_at IS NULL AND t.kind = 'step' AND {sql.received_in_period()}"
            f" AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')} AND {sql.officer('t.assignee_id')}"
            " GROUP BY 1"
        ),
        sql.params,
    )
    for row in running.mappings():
        tally = tallies.setdefault(row["key"], StepTally())
        tally.open_total, tally.open_overdue = int(row["open"]), int(row["late"])
    return tallies


# the predicate of ix_dossier_timed_received, as a literal so the planner uses the index
_TIMED_SQL = (
    "d.status IN ('resolved', 'returned') AND d.used_working_seconds IS NOT NULL AND d.limit_working_seconds > 0"
)


@dataclass
class Medians:
    """Median percentage of the legal limit used, per breakdown (None where nothing was measured)."""

    total: float | None = None
    procedures: dict[str, float] = field(default_factory=dict)
    fields: dict[str, float] = field(default_factory=dict)
    levels: dict[str, float] = field(default_factory=dict)
    agencies: dict[uuid.UUID, float] = field(default_factory=dict)


async def time_used_medians(
    session: AsyncSession, query: StatsQuery, versions: dict[uuid.UUID, tuple[str, str, str, str]] | None = None
) -> Medians:
    """Exact medians of 100 · used / limit over the measured dossiers received in the period, for the
    total, each level, field, procedure and receiving agency in one pass (grouping sets), through the
    partial covering index. Not by month (the months take the histogram's): each grouping set is one
    more sort of every measured dossier of the scope.

    ``versions`` (code, name, field, level of each procedure version; every version when None) become
    small integers in the query: the rows sorted for each grouping set stay narrow (a float and four
    keys), which is what the cost is made of, with the scan."""
    if versions is None:
        versions = await _procedures_of(session, (await session.scalars(select(ProcedureVersion.id))).all())
    if not versions:
        return Medians()
    codes = sorted({v[0] for v in versions.values()})
    fields = sorted({v[2] for v in versions.values()})
    levels = sorted({v[3] for v in versions.values()})
    number = {part: {name: n for n, name in enumerate(names)} for part, names in ((0, codes), (2, fields), (3, levels))}
    version_ids = list(versions)
    sql = _Sql(query)
    keyed = (
        f"unnest(CAST({sql.bind('kv', version_ids)} AS uuid[]),"
        f" CAST({sql.bind('kc', [number[0][versions[v][0]] for v in version_ids])} AS integer[]),"
        f" CAST({sql.bind('kf', [number[2][versions[v][2]] for v in version_ids])} AS integer[]),"
        f" CAST({sql.bind('kl', [number[3][versions[v][3]] for v in version_ids])} AS integer[]))"
        " AS k (version, code, field, level)"
    )
    keys = ("code", "field", "level", "agency")
    rows = await session.execute(
        text(
            f"SELECT {', '.join(keys)}, GROUPING({', '.join(keys)}) AS unused,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY x.percent) AS median"
            " FROM (SELECT k.code, k.field, k.level, d.receiving_agency_id AS agency,"
            " CAST(100 AS float8) * d.used_working_seconds / d.limit_working_seconds AS percent"
            f" FROM dossier AS d JOIN {keyed} ON k.version = d.procedure_version_id"
            f" WHERE {_TIMED_SQL} AND {sql.received_in_period()}"
            f" AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')}) AS x"
            f" GROUP BY GROUPING SETS ((), {', '.join(f'({key})' for key in keys)})"
        ),
        sql.params,
    )
    medians = Medians()
    everything = (1 << len(keys)) - 1
    for row in rows.all():
        code, field_index, level, agency_id, unused, median = row
        if median is None:
            continue  # the empty total of a scope with nothing measured
        value = float(median)
        # GROUPING(...) has a bit set, most significant first, for each key left out of the row's set
        if unused == everything:
            medians.total = value
        elif unused == everything ^ 1 << 3:
            medians.procedures[codes[code]] = value
        elif unused == everything ^ 1 << 2:
            medians.fields[fields[field_index]] = value
        elif unused == everything ^ 1 << 1:
            medians.levels[levels[level]] = value
        else:
            medians.agencies[agency_id] = value
    return medians


async def _level_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, tuple[str, str, int]]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(
        select(AgencyLevel.code, AgencyLevel.name_vi, AgencyLevel.name_en, AgencyLevel.rank).where(
            AgencyLevel.code.in_(wanted)
        )
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows.all()}


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


async def _names(session: AsyncSession, model: Any, ids: Iterable[uuid.UUID], *columns: Any) -> dict[uuid.UUID, Any]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(model.id, *columns).where(model.id.in_(wanted)))
    return {row[0]: row[1:] for row in rows.all()}


async def _procedures_of(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str, str, str]]:
    """Code, name, field and level of each procedure version."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(ProcedureVersion.id, Procedure.code, Procedure.name, Procedure.field, Procedure.level)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(ProcedureVersion.id.in_(wanted))
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows.all()}


async def compute_stats(session: AsyncSession, query: StatsQuery) -> Stats:
    """Every indicator of the request, with its breakdowns by month, procedure, agency, unit and officer."""
    start, end = _period(query)
    # the open dossiers of a province are sorted and hashed in memory, not on disk (this transaction only)
    await session.execute(text("SET LOCAL work_mem = '32MB'"))
    slices = await _dossier_slices(session, query)
    units = await _step_tallies(session, query, by="unit")
    officers: dict[uuid.UUID, StepTally] = {}
    if query.single_agency or query.officer_id is not None:
        officers = await _step_tallies(session, query, by="officer")

    agency_names = await _names(session, Agency, [*units, *slices.agencies], Agency.code, Agency.name)
    staff_names = await _names(session, Staff, officers, Staff.username, Staff.full_name)
    versions = await _procedures_of(session, slices.versions)
    measured = slices.total.counts["timed"]
    exact = 0 < measured <= query.exact_median_max
    medians = await time_used_medians(session, query, versions) if exact else Medians()
    # versions of one procedure are one line; procedures of one field, or one level, too
    procedures: dict[tuple[str, str, str, str], Tally] = {}
    fields: dict[str, Tally] = {}
    levels: dict[str, Tally] = {}
    for version_id, tally in slices.versions.items():
        procedure = versions[version_id]
        procedures.setdefault(procedure, Tally()).merge(tally)
        fields.setdefault(procedure[2], Tally()).merge(tally)
        levels.setdefault(procedure[3], Tally()).merge(tally)
    level_names = await _level_names(session, levels)
    slices.total.median_percent = medians.total
    for agency_id, tally in slices.agencies.items():
        tally.median_percent = medians.agencies.get(agency_id)
    for (code, *_), tally in procedures.items():
        tally.median_percent = medians.procedures.get(code)
    for name, tally in fields.items():
        tally.median_percent = medians.fields.get(name)
    for code, tally in levels.items():
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
                for (code, name, fld, level), t in procedures.items()
            ),
            key=lambda p: p.procedure_code,
        ),
        by_level=sorted(
            (
                LevelIndicators(
                    level=code,
                    level_name_vi=level_names.get(code, (code, code, 0))[0],
                    level_name_en=level_names.get(code, (code, code, 0))[1],
                    **t.indicators(),
                )
                for code, t in levels.items()
            ),
            key=lambda row: (level_names.get(row.level, ("", "", 1 << 30))[2], row.level),
        ),
        by_field=sorted(
            (FieldIndicators(field=name, **t.indicators()) for name, t in fields.items()), key=lambda f: f.field
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


# --- the overdue list ----------------------------------------------------------------------------


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


async def overdue_dossiers(session: AsyncSession, query: StatsQuery, *, limit: int, offset: int = 0) -> OverdueList:
    """Open dossiers past their legal due time (or late by rule), latest first, with the running step's unit."""
    counting, _ = _overdue_select(query, func.count())
    total = int(await session.scalar(counting) or 0)

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
        .order_by(lateness.desc().nulls_last(), Dossier.code)
        .limit(limit)
        .offset(offset)
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


# --- exports -------------------------------------------------------------------------------------

INDICATOR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("received", "Số hồ sơ tiếp nhận"),
    ("resolved_early", "Giải quyết trước hạn"),
    ("resolved_on_time", "Giải quyết đúng hạn"),
    ("resolved_late", "Giải quyết quá hạn"),
    ("pending_on_time", "Đang giải quyết trong hạn"),
    ("pending_overdue", "Đang giải quyết quá hạn"),
    ("refused", "Từ chối tiếp nhận"),
    ("withdrawn", "Công dân rút hồ sơ"),
    ("stopped", "Dừng xử lý"),
    ("on_time_rate", "Tỷ lệ đúng hạn (%)"),
    ("overdue_rate", "Tỷ lệ quá hạn (%)"),
    ("average_resolution_days", "Thời gian giải quyết trung bình (ngày)"),
    ("online_rate", "Tỷ lệ hồ sơ trực tuyến (%)"),
    ("online_payment_rate", "Tỷ lệ thanh toán trực tuyến (%)"),
    ("digitised_rate", "Tỷ lệ số hóa (%)"),
    ("complaint_rate", "Tỷ lệ phản ánh, không hài lòng (%)"),
    ("satisfaction_rate", "Mức độ hài lòng (%)"),
    ("measured", "Số hồ sơ đo thời gian làm việc"),
    ("average_working_days", "Thời gian giải quyết trung bình (ngày làm việc)"),
    ("average_limit_days", "Thời hạn theo quy định trung bình (ngày làm việc)"),
    ("time_used_percent", "Thời gian sử dụng so với thời hạn, trung bình (%)"),
    ("time_used_median_percent", "Thời gian sử dụng so với thời hạn, trung vị (%)"),
    ("under_half_limit_rate", "Giải quyết dưới một nửa thời hạn (%)"),
    ("time_saved_percent", "Thời gian cắt giảm so với quy định (%)"),
)
INDICATOR_HEADER = ("Nhóm", "Mã", "Tên", *(title for _, title in INDICATOR_COLUMNS))
UNIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("steps", "Số bước xử lý"),
    ("steps_early", "Trước hạn"),
    ("steps_on_time", "Đúng hạn"),
    ("steps_late", "Quá hạn"),
    ("steps_open_on_time", "Đang xử lý trong hạn"),
    ("steps_open_overdue", "Đang xử lý quá hạn"),
    ("on_time_rate", "Tỷ lệ đúng hạn (%)"),
)
OVERDUE_HEADER = (
    "Mã hồ sơ",
    "Thủ tục",
    "Cơ quan tiếp nhận",
    "Đơn vị đang xử lý",
    "Cán bộ xử lý",
    "Ngày tiếp nhận",
    "Hạn giải quyết",
    "Số ngày quá hạn",
    "Quá hạn do bổ sung lần hai",
)


def indicator_rows(stats: Stats) -> list[list[Any]]:
    """The indicators table: the total, then each month, procedure, receiving agency, level and field."""

    def line(group: str, code: str, name: str, values: Indicators) -> list[Any]:
        return [group, code, name, *(getattr(values, key) for key, _ in INDICATOR_COLUMNS)]

    rows = [line("Tổng cộng", "", f"Từ {stats.date_from:%d/%m/%Y} đến {stats.date_to:%d/%m/%Y}", stats)]
    rows += [line("Tháng", m.month, f"Tháng {m.month[5:]}/{m.month[:4]}", m) for m in stats.by_month]
    rows += [line("Thủ tục", p.procedure_code, p.procedure_name, p) for p in stats.by_procedure]
    rows += [line("Cơ quan tiếp nhận", a.agency_code, a.agency_name, a) for a in stats.by_agency]
    rows += [line("Cấp giải quyết", v.level, v.level_name_vi, v) for v in stats.by_level]
    rows += [line("Lĩnh vực", "", f.field, f) for f in stats.by_field]
    return rows


def to_csv(stats: Stats) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows the Vietnamese headers right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(INDICATOR_HEADER)
    for row in indicator_rows(stats):
        writer.writerow(["" if value is None else value for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(stats: Stats, overdue: OverdueList) -> bytes:
    """A workbook: indicators, steps per unit, steps per officer, the overdue list, and the request."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, first: bool = False) -> None:
        ws = workbook.active if first else workbook.create_sheet()
        assert ws is not None
        ws.title = title
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(list(row))
        ws.freeze_panes = "A2"

    sheet("Chỉ tiêu", INDICATOR_HEADER, indicator_rows(stats), first=True)
    sheet(
        "Đơn vị xử lý",
        ("Mã đơn vị", "Tên đơn vị", *(title for _, title in UNIT_COLUMNS)),
        ([u.agency_code, u.agency_name, *(getattr(u, key) for key, _ in UNIT_COLUMNS)] for u in stats.by_unit),
    )
    sheet(
        "Cán bộ",
        ("Tài khoản", "Họ và tên", *(title for _, title in UNIT_COLUMNS)),
        ([o.username, o.full_name, *(getattr(o, key) for key, _ in UNIT_COLUMNS)] for o in stats.by_officer),
    )

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(VN_TZ).replace(tzinfo=None) if moment else None  # Excel has no time zones

    sheet(
        "Hồ sơ quá hạn",
        OVERDUE_HEADER,
        (
            [
                d.code,
                f"{d.procedure_code} — {d.procedure_name}",
                d.receiving_agency_code,
                d.responsible_unit_code,
                d.assignee,
                local(d.received_at),
                local(d.due_at),
                d.late_by_days,
                "Có" if d.late_by_rule else "",
            ]
            for d in overdue.items
        ),
    )
    sheet(
        "Thông tin",
        ("Tham số", "Giá trị"),
        [
            ("Từ ngày", stats.date_from.isoformat()),
            ("Đến ngày", stats.date_to.isoformat()),
            ("Cơ quan", stats.agency or "Tất cả"),
            ("Gồm đơn vị trực thuộc", "Có" if stats.include_children else "Không"),
            ("Lĩnh vực", stats.field or "Tất cả"),
            ("Thủ tục", stats.procedure or "Tất cả"),
            ("Cán bộ", stats.officer or "Tất cả"),
            ("Số liệu tại thời điểm", local(stats.as_of)),
            ("Hồ sơ quá hạn (tổng số)", overdue.total),
        ],
    )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
