"""What is open as of "now" — pending dossiers on time or overdue, running steps per unit — from the open
counters (``stats_open_cell``, ``stats_open_step_cell``; ``services.models.stats_rollups``) and what falls
due today, counted live.

An open dossier's lateness either no longer depends on "now" (late by rule; paused, judged at its
pause) — the counters' ``overdue`` — or starts at its due time: the counters keep those by due day, so
"due before a day" is one subscript per cell (``stats_due_before``), and today's due times are counted
live on the shorter side of "now" (``_due_now``): in the morning those between midnight and now, added to
"due before today"; in the afternoon those between now and midnight, taken off "due before tomorrow".
Running dossiers off ``ix_dossier_running_due`` (index-only, a range of due times), paused ones whose
clock records no pause off ``ix_dossier_status_due``; the same for running step clocks
(``ix_sla_timer_open_due``, their dossiers off ``ix_dossier_open_id``). So the clock moving needs no
write, and a reader pays for the cells with something open plus at most half a day of due times, not for
every open dossier.

Measured (``bench/bench_stats.py``, a province-year at 10 M dossiers, 191,670 open, statements timed
alone on 2 busy CPUs; ``bench/profiles/2026-12-06-stats.md``): the pending counts 61–88 ms → 5.6 ms
(3,904 cells with something open + 5,640 running dossiers and 450 paused ones due today), the running
steps 109–126 ms → 8–9 ms (3,904 cells + 6,090 step clocks due today, a dossier look-up each), the overdue
list's total 28 ms → 4–5 ms. What is live grows with half a day of due times at most, not with what is open
(at the bench's 16:00, the shorter side: pending 7.4 → 5.4 ms, running steps 6.9 → 5.7 ms;
``bench/profiles/2026-12-06-session12.md``).
The days at the edges of a period that is not whole months are counted live over those days only,
with the rule itself (``services.domain.rules.overdue_sql``). An officer filter or breakdown (a single
agency's) keeps the live pass: the counters are not kept per officer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.domain.rules import overdue_sql
from services.domain.vocabulary import PAUSED, RUNNING, in_order, open_states_sql
from services.stats.scope import StatsQuery
from services.stats.sql import _local_midnight, _Sql

_OPEN = open_states_sql("d.status")
_RUNNING = f"d.status IN ({', '.join(repr(status.value) for status in in_order(RUNNING))})"
_PAUSED = f"d.status IN ({', '.join(repr(status.value) for status in in_order(PAUSED))})"
_PAUSED_SINCE = (
    "(SELECT clock.paused_at FROM sla_timer AS clock WHERE clock.dossier_id = d.id AND clock.kind = 'dossier'"
    " AND clock.ended_at IS NULL LIMIT 1)"
)
# services.domain.rules.is_overdue over the open dossier clock's pause
_OVERDUE = overdue_sql(alias="d", paused_since=_PAUSED_SINCE, now=":now")
MONTH_OF_RECEIPT = "date_trunc('month', d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
_OWN = text("SELECT stats_open_own()")
PENDING_COLUMNS = "month, procedure_version_id, agency_id, open, overdue"
RUNNING_COLUMNS = "key, open, overdue"


async def count_own_changes(session: AsyncSession) -> None:
    """Apply this transaction's own differences to the open counters before reading them.

    The triggers note them and the commit applies them, in one key order for every writer (migration
    "open counters at commit": two writers no longer deadlock on the cells). A transaction that wrote
    and then reads — a test's, which rolls back — would otherwise not see its own changes; one that wrote
    nothing finds nothing to apply (one round trip)."""
    await session.execute(_OWN)


def _today(sql: _Sql, now: datetime) -> tuple[str, str]:
    """Today (Vietnam time) and its midnight, bound."""
    day: date = now.astimezone(VN_TZ).date()
    return sql.bind("today", day), sql.bind("today_at", _local_midnight(day))


def _due_now(sql: _Sql, now: datetime) -> tuple[str, Callable[[str], str], int]:
    """How the counters and a live count make "due before now" together: the counters answer "due before a
    day" (``stats_due_before``), and today's due times are counted live on one side of "now" — the part of
    the day already past, added to "due before today", or the part still ahead, taken off "due before
    tomorrow". Both are exact; the shorter part of the day is read: at the bench's 16:00 a third of the
    day's due times instead of two thirds (at 10 M dossiers the dashboard's pending statement 7.4 → 5.4 ms,
    its running steps 6.9 → 5.7 ms, 2026-12-06). Returns the day bound, the live span of a due-time column
    and the sign of a live row."""
    day: date = now.astimezone(VN_TZ).date()
    midnight, next_midnight = _local_midnight(day), _local_midnight(day + timedelta(days=1))
    if now - midnight <= next_midnight - now:
        today, since = _today(sql, now)
        return today, lambda due: f"{due} >= {since} AND {due} < :now", 1
    until = sql.bind("tomorrow_at", next_midnight)
    return sql.bind("tomorrow", day + timedelta(days=1)), lambda due: f"{due} >= :now AND {due} < {until}", -1


def pending_source(
    sql: _Sql, months: tuple[date, date] | None, edges: list[tuple[date, date]], *, every_month: bool = False
) -> str:
    """Rows (``PENDING_COLUMNS``) whose sums are the open dossiers of the scope and, of them, the overdue
    ones: received in the whole ``months`` (or in any month: ``every_month``) from the counters and
    today's due times, on the ``edges`` days live."""
    parts = []
    dossier_scope = sql.scope("d.receiving_agency_id", "d.procedure_version_id")
    if months is not None or every_month:
        day, due_span, sign = _due_now(sql, sql.query.now)
        cells = sql.between("c.month", months, "open_month") if months is not None else "true"
        received = sql.received_in_months(months) if months is not None else "true"
        parts.append(
            f"SELECT c.month, c.procedure_version_id, c.agency_id, c.open,"
            f" c.overdue + stats_due_before(c.due_from, c.due_cumulative, {day}) FROM stats_open_cell AS c"
            f" WHERE {cells} AND {sql.scope('c.agency_id', 'c.procedure_version_id')}"
        )
        due_today = f"{due_span('d.due_at')} AND d.late_by_rule IS NOT TRUE AND {received} AND {dossier_scope}"
        today_row = (
            f"SELECT {MONTH_OF_RECEIPT}, d.procedure_version_id, d.receiving_agency_id, 0, {sign} FROM dossier AS d"
        )
        parts.append(f"{today_row} WHERE {_RUNNING} AND {due_today}")
        # paused, but no clock records when: judged now, like a running one (the rule's own look-up, probed
        # per dossier due today: as NOT EXISTS the planner chose an anti-join against every paused clock,
        # 434 ms at 10 M dossiers)
        parts.append(f"{today_row} WHERE {_PAUSED} AND {due_today} AND {_PAUSED_SINCE} IS NULL")
    if edges:
        parts.append(
            f"SELECT {MONTH_OF_RECEIPT}, d.procedure_version_id, d.receiving_agency_id, 1, ({_OVERDUE})::integer"
            f" FROM dossier AS d WHERE {_OPEN} AND {sql.edges(edges)} AND {dossier_scope}"
        )
    return " UNION ALL ".join(parts)


def running_steps_source(sql: _Sql, months: tuple[date, date] | None, edges: list[tuple[date, date]]) -> str:
    """Rows (``RUNNING_COLUMNS``, the key being the unit of the step) whose sums are the running steps of
    the open dossiers of the scope and, of them, those past their due time."""
    parts = []
    dossier_scope = sql.scope("d.receiving_agency_id", "d.procedure_version_id")
    if months is not None:
        day, due_span, sign = _due_now(sql, sql.query.now)
        parts.append(
            f"SELECT c.unit_id, c.open, c.overdue + stats_due_before(c.due_from, c.due_cumulative, {day})"
            f" FROM stats_open_step_cell AS c WHERE {sql.between('c.month', months, 'open_month')}"
            f" AND {sql.scope('c.agency_id', 'c.procedure_version_id')}"
        )
        parts.append(
            f"SELECT coalesce(t.agency_id, d.receiving_agency_id), 0, {sign} FROM sla_timer AS t"
            f" JOIN dossier AS d ON d.id = t.dossier_id WHERE t.ended_at IS NULL AND {due_span('t.due_at')}"
            f" AND t.kind = 'step' AND t.paused_at IS NULL AND {_OPEN}"
            f" AND {sql.received_in_months(months)} AND {dossier_scope}"
        )
    if edges:
        parts.append(
            "SELECT coalesce(t.agency_id, d.receiving_agency_id), 1,"
            " coalesce(t.due_at < coalesce(t.paused_at, :now), false)::integer FROM dossier AS d"
            f" JOIN sla_timer AS t ON t.dossier_id = d.id WHERE {_OPEN} AND t.ended_at IS NULL AND t.kind = 'step'"
            f" AND {sql.edges(edges)} AND {dossier_scope}"
        )
    return " UNION ALL ".join(parts)


def counted(query: StatsQuery) -> bool:
    """Whether the open counters answer this request: not when it filters by officer."""
    return query.officer_id is None
