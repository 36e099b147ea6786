"""statistics rollups and open counters: a year read in thousands of rows, "now" without a pass over the open

Two kinds of derived tables, kept by triggers in the writer's transaction like the month cells:

- **Rollups** of the month cells: ``stats_dossier_year`` (year, agency, procedure version),
  ``stats_dossier_agency_month`` (month, agency) and ``stats_step_year`` (year, agency, version, unit).
  A row trigger on each cell table adds the difference every insert or update of a cell makes (so the
  bulk loader's and the rebuild's cell writes reach them too): a province-year's breakdowns read
  4,040 + 1,452 rows instead of 48,066 × 79 counters.
- **Open counters**: ``stats_open_cell`` (month, agency, version) and ``stats_open_step_cell`` (…, unit)
  count what is open — dossiers received and not resolved, running step clocks of open dossiers — and,
  of those, the ones whose lateness no longer depends on "now" (``overdue``: late by rule, or paused
  after their due time). The others are late once "now" passes their due time: they are counted by
  the day they fall due (Vietnam time) as a cumulative array (``due_cumulative[k]`` = how many fall due
  on or before ``due_from + k - 1``), so "due before today" is one subscript per row whatever the day,
  and the clock moving needs no write. A reader adds those due earlier today, counted live through
  ``ix_dossier_running_due`` / ``ix_sla_timer_open_due`` (one day's worth, not every open dossier).
  Rows whose ``open`` falls to 0 are deleted, so the tables hold only cells with something open.
- ``ix_sla_timer_paused_dossier_clock``: paused dossier clocks by the start of their pause, for the
  overdue list (only the paused dossiers that can reach its page are ranked; services/stats/overdue.py).

The functions: ``stats_due_merge`` (two cumulative arrays summed, trimmed to the canonical form a
recount gives: first element the first day with a dossier, no repeated tail), ``stats_due_before``,
``stats_open_facts`` / ``stats_open_step_facts`` (the rule of ``services.domain.rules.is_overdue``
split into its fixed and its "now" part) and ``stats_apply_open`` / ``stats_apply_open_step``. Triggers
on ``dossier`` (status, receipt, cell, due time, late by rule) and ``sla_timer`` (a dossier clock's
pause, a step clock's unit, due time, pause and end); skipped in a bulk transaction like the others
(``motcua.stats_bulk``). See services/stats/__init__.py.

Long because it is one revision's DDL: five tables, the SQL and PL/pgSQL of their functions and
triggers written out (frozen here, as a migration's SQL must be) and the statements that fill them
from what is already there.

Revision ID: 7f3b2c9d4e61
Revises: c4e8a1f05d92
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "7f3b2c9d4e61"
down_revision = "c4e8a1f05d92"
branch_labels = None
depends_on = None

TZ = "Asia/Ho_Chi_Minh"
OPEN = "status IN ('received', 'processing', 'awaiting_supplement', 'awaiting_payment')"
PAUSED = "('awaiting_supplement', 'awaiting_payment')"
PAUSED_CLOCK = "kind = 'dossier' AND ended_at IS NULL AND paused_at IS NOT NULL"
BULK_OFF = "current_setting('motcua.stats_bulk', true) IS DISTINCT FROM 'on'"
MONTH = "date_trunc('month', s.day::timestamp)::date"
OPEN_KEYS = ("month", "agency_id", "procedure_version_id")
OPEN_STEP_KEYS = (*OPEN_KEYS, "unit_id")
STEP_COUNTERS = ("steps", "steps_early", "steps_on_time", "steps_late")
BIG = ("resolved_seconds", "used_working_seconds", "limit_working_seconds", "limit_used_ppm")


def _revision(name: str) -> ModuleType:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"_motcua_{path.stem.split('_', 2)[-1]}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dossier_counters() -> tuple[str, ...]:
    first = _revision("2026_11_23_1225-e60e42a7ddac_statistics_aggregates.py")
    working = _revision("2026_12_05_1510-b7d2e94c1f30_working_time_indicators.py")
    return (*first.DOSSIER_COUNTERS, *working.NEW_COUNTERS)


# --- cumulative arrays of due days ---------------------------------------------------------------

DUE_FUNCTIONS = [
    # a + b, both cumulative counts by day from their first day; the sum trimmed to the canonical form
    """
    CREATE FUNCTION stats_due_merge(
        a_from date, a integer[], b_from date, b integer[], OUT due_from date, OUT due_cumulative integer[]
    ) LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        first_day date := least(a_from, b_from);
        last_day date := greatest(a_from + cardinality(a) - 1, b_from + cardinality(b) - 1);
        this_day date;
        merged integer[] := '{}';
        head integer := 1;
        tail integer;
    BEGIN
        IF first_day IS NULL THEN
            RETURN;
        END IF;
        FOR offset_days IN 0 .. last_day - first_day LOOP
            this_day := first_day + offset_days;
            merged := merged || (
                CASE WHEN a_from IS NULL OR this_day < a_from THEN 0
                    ELSE a[least(this_day - a_from + 1, cardinality(a))] END
                + CASE WHEN b_from IS NULL OR this_day < b_from THEN 0
                    ELSE b[least(this_day - b_from + 1, cardinality(b))] END
            );
        END LOOP;
        tail := cardinality(merged);
        WHILE head <= tail AND merged[head] = 0 LOOP
            head := head + 1;
        END LOOP;
        WHILE tail > head AND merged[tail] = merged[tail - 1] LOOP
            tail := tail - 1;
        END LOOP;
        IF head > tail THEN
            RETURN;
        END IF;
        due_from := first_day + (head - 1);
        due_cumulative := merged[head:tail];
    END
    $$""",
    # how many of a cumulative array fall due before ``day``
    """
    CREATE FUNCTION stats_due_before(due_from date, due_cumulative integer[], day date) RETURNS integer
    LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN due_from IS NULL OR due_from >= day THEN 0
            ELSE due_cumulative[least(day - due_from, cardinality(due_cumulative))] END
    $$""",
    # what an open dossier adds: open, overdue whatever "now" is, or the day its lateness starts
    f"""
    CREATE FUNCTION stats_open_facts(d dossier, paused_since timestamptz)
    RETURNS TABLE (day date, agency_id uuid, procedure_version_id uuid, open integer, overdue integer, due_day date)
    LANGUAGE sql STABLE AS $$
        SELECT x.day, d.receiving_agency_id, d.procedure_version_id, 1, x.fixed_late::integer,
            CASE WHEN NOT x.fixed_late AND NOT x.fixed_reference THEN (d.due_at AT TIME ZONE '{TZ}')::date END
        FROM (
            SELECT stats_day(d) AS day,
                coalesce(d.late_by_rule, false)
                    OR (y.paused AND coalesce(d.due_at < paused_since, false)) AS fixed_late,
                y.paused AS fixed_reference
            FROM (SELECT d.status IN {PAUSED} AND paused_since IS NOT NULL AS paused) AS y
        ) AS x
        WHERE d.id IS NOT NULL AND d.{OPEN}
    $$""",
    # what a running step clock of an open dossier adds, for its unit
    f"""
    CREATE FUNCTION stats_open_step_facts(d dossier, t sla_timer)
    RETURNS TABLE (
        day date, agency_id uuid, procedure_version_id uuid, unit_id uuid, open integer, overdue integer,
        due_day date
    ) LANGUAGE sql STABLE AS $$
        SELECT stats_day(d), d.receiving_agency_id, d.procedure_version_id,
            coalesce(t.agency_id, d.receiving_agency_id), 1,
            coalesce(t.paused_at IS NOT NULL AND t.due_at < t.paused_at, false)::integer,
            CASE WHEN t.paused_at IS NULL THEN (t.due_at AT TIME ZONE '{TZ}')::date END
        WHERE d.id IS NOT NULL AND t.id IS NOT NULL AND d.{OPEN} AND t.kind = 'step' AND t.ended_at IS NULL
    $$""",
]


def _open_apply(name: str, table: str, keys: tuple[str, ...], arguments: str, source: str) -> str:
    """One signed difference per key and due day, applied in key order; a row left with nothing open goes."""
    key_list = ", ".join(keys)
    key_values = ", ".join(f"f.{k}" for k in keys)
    return f"""
    CREATE FUNCTION {name}({arguments}) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        f record;
    BEGIN
        FOR f IN
            SELECT {", ".join(f"s.{k}" if k != "month" else f"{MONTH} AS month" for k in keys)},
                s.due_day, sum(s.sign * s.open)::integer AS open, sum(s.sign * s.overdue)::integer AS overdue,
                sum(s.sign) FILTER (WHERE s.due_day IS NOT NULL)::integer AS due
            FROM ({source}) AS s
            GROUP BY {", ".join(str(n) for n in range(1, len(keys) + 2))}
            HAVING sum(s.sign * s.open) <> 0 OR sum(s.sign * s.overdue) <> 0
                OR coalesce(sum(s.sign) FILTER (WHERE s.due_day IS NOT NULL), 0) <> 0
            ORDER BY {", ".join(str(n) for n in range(1, len(keys) + 2))}
        LOOP
            INSERT INTO {table} AS c ({key_list}, open, overdue, due_from, due_cumulative)
            SELECT {key_values}, f.open, f.overdue, m.due_from, m.due_cumulative
            FROM stats_due_merge(NULL, NULL, f.due_day, ARRAY[coalesce(f.due, 0)]) AS m
            ON CONFLICT ({key_list}) DO UPDATE SET open = c.open + excluded.open,
                overdue = c.overdue + excluded.overdue,
                (due_from, due_cumulative) = (
                    SELECT m.due_from, m.due_cumulative
                    FROM stats_due_merge(c.due_from, c.due_cumulative, excluded.due_from, excluded.due_cumulative) AS m
                );
            IF f.open < 0 THEN
                DELETE FROM {table} WHERE ({key_list}) = ({key_values}) AND open = 0;
            END IF;
        END LOOP;
    END
    $$"""


APPLY_OPEN = _open_apply(
    "stats_apply_open",
    "stats_open_cell",
    OPEN_KEYS,
    "old_d dossier, old_paused timestamptz, new_d dossier, new_paused timestamptz",
    "SELECT -1 AS sign, * FROM stats_open_facts(old_d, old_paused)"
    " UNION ALL SELECT 1, * FROM stats_open_facts(new_d, new_paused)",
)
APPLY_OPEN_STEP = _open_apply(
    "stats_apply_open_step",
    "stats_open_step_cell",
    OPEN_STEP_KEYS,
    "old_d dossier, old_t sla_timer, new_d dossier, new_t sla_timer",
    "SELECT -1 AS sign, * FROM stats_open_step_facts(old_d, old_t)"
    " UNION ALL SELECT 1, * FROM stats_open_step_facts(new_d, new_t)",
)

PAUSED_SINCE = (
    "(SELECT clock.paused_at FROM sla_timer AS clock WHERE clock.dossier_id = {dossier}"
    " AND clock.kind = 'dossier' AND clock.ended_at IS NULL{other} LIMIT 1)"
)
# the dossier's open facts, and its running steps' when the dossier opens, closes or changes cell
ON_DOSSIER = f"""
CREATE FUNCTION stats_open_on_dossier() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paused timestamptz;
    t sla_timer;
BEGIN
    paused := {PAUSED_SINCE.format(dossier="coalesce(NEW.id, OLD.id)", other="")};
    IF TG_OP = 'INSERT' THEN
        PERFORM stats_apply_open(NULL, NULL, NEW, paused);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        -- BEFORE DELETE: the clocks are still there (they go with the dossier, by cascade)
        PERFORM stats_apply_open(OLD, paused, NULL, NULL);
        FOR t IN SELECT * FROM sla_timer WHERE dossier_id = OLD.id AND kind = 'step' AND ended_at IS NULL LOOP
            PERFORM stats_apply_open_step(OLD, t, NULL, NULL);
        END LOOP;
        RETURN OLD;
    END IF;
    PERFORM stats_apply_open(OLD, paused, NEW, paused);
    IF (stats_day(OLD), OLD.receiving_agency_id, OLD.procedure_version_id, OLD.{OPEN})
        IS DISTINCT FROM (stats_day(NEW), NEW.receiving_agency_id, NEW.procedure_version_id, NEW.{OPEN}) THEN
        FOR t IN SELECT * FROM sla_timer WHERE dossier_id = NEW.id AND kind = 'step' AND ended_at IS NULL LOOP
            PERFORM stats_apply_open_step(OLD, t, NEW, t);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$"""
# a clock changed: a dossier clock's pause moves its dossier's facts, a step clock its own. The dossier
# row is locked first, so a concurrent change of the dossier is counted before or after, never across:
# FOR SHARE for a step clock, as the step cells' trigger does (its facts are its own row's and the
# dossier's); FOR NO KEY UPDATE for a dossier clock, whose "before" reads the dossier's other clocks, so
# two clocks of one dossier changing at once are counted one after the other
ON_TIMER = f"""
CREATE FUNCTION stats_open_on_sla_timer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
    d dossier;
    others timestamptz;
    was timestamptz;
    now_is timestamptz;
BEGIN
    FOR target IN
        SELECT DISTINCT x FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.dossier_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.dossier_id END
        ]) AS x WHERE x IS NOT NULL ORDER BY x
    LOOP
        IF (TG_OP <> 'INSERT' AND OLD.kind = 'dossier') OR (TG_OP <> 'DELETE' AND NEW.kind = 'dossier') THEN
            SELECT * INTO d FROM dossier WHERE id = target FOR NO KEY UPDATE;
        ELSE
            SELECT * INTO d FROM dossier WHERE id = target FOR SHARE;
        END IF;
        CONTINUE WHEN NOT FOUND;
        IF (TG_OP <> 'INSERT' AND OLD.kind = 'dossier') OR (TG_OP <> 'DELETE' AND NEW.kind = 'dossier') THEN
            others := {PAUSED_SINCE.format(dossier="target", other=" AND clock.id <> coalesce(NEW.id, OLD.id)")};
            was := others;
            IF TG_OP <> 'INSERT' AND OLD.dossier_id = target AND OLD.kind = 'dossier' AND OLD.ended_at IS NULL THEN
                was := coalesce(OLD.paused_at, others);
            END IF;
            now_is := others;
            IF TG_OP <> 'DELETE' AND NEW.dossier_id = target AND NEW.kind = 'dossier' AND NEW.ended_at IS NULL THEN
                now_is := coalesce(NEW.paused_at, others);
            END IF;
            IF was IS DISTINCT FROM now_is THEN
                PERFORM stats_apply_open(d, was, d, now_is);
            END IF;
        END IF;
        PERFORM stats_apply_open_step(
            d, CASE WHEN TG_OP <> 'INSERT' AND OLD.dossier_id = target THEN OLD END,
            d, CASE WHEN TG_OP <> 'DELETE' AND NEW.dossier_id = target THEN NEW END
        );
    END LOOP;
    RETURN NULL;
END
$$"""

OPEN_TRIGGERS = [
    ("stats_open_dossier_insert", "dossier", "AFTER", "INSERT", "stats_open_on_dossier", ()),
    (
        "stats_open_dossier_update", "dossier", "AFTER", "UPDATE", "stats_open_on_dossier",
        ("status", "received_at", "created_at", "receiving_agency_id", "procedure_version_id", "late_by_rule",
         "due_at"),
    ),
    ("stats_open_dossier_delete", "dossier", "BEFORE", "DELETE", "stats_open_on_dossier", ()),
    ("stats_open_sla_timer_insert", "sla_timer", "AFTER", "INSERT", "stats_open_on_sla_timer", ()),
    (
        "stats_open_sla_timer_update", "sla_timer", "AFTER", "UPDATE", "stats_open_on_sla_timer",
        ("kind", "dossier_id", "agency_id", "due_at", "paused_at", "ended_at"),
    ),
    ("stats_open_sla_timer_delete", "sla_timer", "AFTER", "DELETE", "stats_open_on_sla_timer", ()),
]  # fmt: skip


def _trigger(name: str, table: str, timing: str, event: str, function: str, changed: tuple[str, ...]) -> str:
    condition = BULK_OFF
    if changed:
        old = ", ".join(f"OLD.{c}" for c in changed)
        new = ", ".join(f"NEW.{c}" for c in changed)
        condition += f" AND ({old}) IS DISTINCT FROM ({new})"
    return (
        f"CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW WHEN ({condition}) "
        f"EXECUTE FUNCTION {function}()"
    )


# --- rollups of the month cells ------------------------------------------------------------------


# (rollup table, its keys as expressions over a cell row, the cell table, its counters)
def _rollups(dossier_counters: tuple[str, ...]) -> list[tuple[str, dict[str, str], str, tuple[str, ...]]]:
    year = "date_trunc('year', x.month)::date"
    return [
        (
            "stats_dossier_year",
            {"year": year, "agency_id": "x.agency_id", "procedure_version_id": "x.procedure_version_id"},
            "stats_dossier_cell",
            dossier_counters,
        ),
        ("stats_dossier_agency_month", {"month": "x.month", "agency_id": "x.agency_id"}, "stats_dossier_cell",
         dossier_counters),
        (
            "stats_step_year",
            {"year": year, "agency_id": "x.agency_id", "procedure_version_id": "x.procedure_version_id",
             "unit_id": "x.unit_id"},
            "stats_step_cell",
            STEP_COUNTERS,
        ),
    ]  # fmt: skip


def _roll_statement(rollup: str, keys: dict[str, str], counters: tuple[str, ...]) -> str:
    """The cell row's change (NEW − OLD; OLD is null on an insert) added to its rollup row."""
    values = ", ".join(f"NEW.{c} - coalesce(OLD.{c}, 0)" for c in counters)
    return (
        f"INSERT INTO {rollup} AS c ({', '.join(keys)}, {', '.join(counters)}) "
        f"VALUES ({', '.join(k.replace('x.', 'NEW.') for k in keys.values())}, {values}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(f'{c} = c.{c} + excluded.{c}' for c in counters)}"
    )


def _roll_function(cell: str, statements: list[str]) -> str:
    return f"""
    CREATE FUNCTION stats_roll_{cell}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {";".join(statements)};
        RETURN NULL;
    END
    $$"""


def _counter_columns(names: tuple[str, ...]) -> list[sa.Column]:
    return [
        sa.Column(name, sa.BigInteger() if name in BIG else sa.Integer(), server_default="0", nullable=False)
        for name in names
    ]


def _open_columns() -> list[sa.Column]:
    return [
        sa.Column("open", sa.Integer(), server_default="0", nullable=False),
        sa.Column("overdue", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_from", sa.Date(), nullable=True),
        sa.Column("due_cumulative", postgresql.ARRAY(sa.Integer()), nullable=True),
    ]


def _open_fill(table: str, keys: tuple[str, ...], source: str) -> str:
    """Every open counter from the tables (the statement of services.stats.aggregates, frozen here)."""
    key_list = ", ".join(keys)
    keyed = ", ".join(f"s.{k}" if k != "month" else f"{MONTH} AS month" for k in keys)
    joined = " AND ".join(f"x.{k} = g.{k}" for k in keys)
    return (
        f"WITH f AS (SELECT {keyed}, s.open, s.overdue, s.due_day FROM ({source}) AS s),"
        f" days AS (SELECT {key_list}, due_day, count(*)::integer AS n FROM f WHERE due_day IS NOT NULL"
        f" GROUP BY {key_list}, due_day),"
        f" spans AS (SELECT {key_list}, min(due_day) AS lo, max(due_day) AS hi FROM days GROUP BY {key_list}),"
        f" grid AS (SELECT {', '.join(f's.{k}' for k in keys)}, s.lo, g.day::date AS day FROM spans AS s"
        " CROSS JOIN LATERAL generate_series(s.lo, s.hi, interval '1 day') AS g(day)),"
        f" running AS (SELECT {', '.join(f'g.{k}' for k in keys)}, g.lo, g.day,"
        f" sum(coalesce(x.n, 0)) OVER (PARTITION BY {', '.join(f'g.{k}' for k in keys)} ORDER BY g.day) AS total"
        f" FROM grid AS g LEFT JOIN days AS x ON {joined} AND x.due_day = g.day),"
        f" cumulative AS (SELECT {key_list}, lo, array_agg(total::integer ORDER BY day) AS cum FROM running"
        f" GROUP BY {key_list}, lo),"
        f" totals AS (SELECT {key_list}, sum(open)::integer AS open, sum(overdue)::integer AS overdue FROM f"
        f" GROUP BY {key_list})"
        f" INSERT INTO {table} ({key_list}, open, overdue, due_from, due_cumulative)"
        f" SELECT {', '.join(f't.{k}' for k in keys)}, t.open, t.overdue, u.lo, u.cum FROM totals AS t"
        f" LEFT JOIN cumulative AS u USING ({key_list}) WHERE t.open <> 0 ORDER BY {key_list}"
    )


OPEN_SOURCE = (
    "SELECT f.* FROM dossier AS d CROSS JOIN LATERAL stats_open_facts(d, "
    + PAUSED_SINCE.format(dossier="d.id", other="")
    + f") AS f WHERE d.{OPEN}"
)
OPEN_STEP_SOURCE = (
    "SELECT f.* FROM sla_timer AS t JOIN dossier AS d ON d.id = t.dossier_id"
    " CROSS JOIN LATERAL stats_open_step_facts(d, t) AS f WHERE t.kind = 'step' AND t.ended_at IS NULL"
)


def upgrade() -> None:
    counters = _dossier_counters()
    op.create_table(
        "stats_dossier_year",
        sa.Column("year", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_version_id", sa.Uuid(), nullable=False),
        *_counter_columns(counters),
        sa.PrimaryKeyConstraint("year", "agency_id", "procedure_version_id", name=op.f("pk_stats_dossier_year")),
    )
    op.create_table(
        "stats_dossier_agency_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        *_counter_columns(counters),
        sa.PrimaryKeyConstraint("month", "agency_id", name=op.f("pk_stats_dossier_agency_month")),
    )
    op.create_table(
        "stats_step_year",
        sa.Column("year", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_version_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        *_counter_columns(STEP_COUNTERS),
        sa.PrimaryKeyConstraint(
            "year", "agency_id", "procedure_version_id", "unit_id", name=op.f("pk_stats_step_year")
        ),
    )
    op.create_table(
        "stats_open_cell",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_version_id", sa.Uuid(), nullable=False),
        *_open_columns(),
        sa.PrimaryKeyConstraint("month", "agency_id", "procedure_version_id", name=op.f("pk_stats_open_cell")),
    )
    op.create_table(
        "stats_open_step_cell",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_version_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        *_open_columns(),
        sa.PrimaryKeyConstraint(
            "month", "agency_id", "procedure_version_id", "unit_id", name=op.f("pk_stats_open_step_cell")
        ),
    )
    for statement in DUE_FUNCTIONS:
        op.execute(statement)
    op.execute(APPLY_OPEN)
    op.execute(APPLY_OPEN_STEP)
    op.execute(ON_DOSSIER)
    op.execute(ON_TIMER)
    # what is already there: the rollups from the cells, the open counters from the tables
    for rollup, keys, cell, names in _rollups(counters):
        positions = ", ".join(str(n) for n in range(1, len(keys) + 1))
        op.execute(
            f"INSERT INTO {rollup} ({', '.join(keys)}, {', '.join(names)}) SELECT {', '.join(keys.values())},"
            f" {', '.join(f'sum(x.{c})' for c in names)} FROM {cell} AS x GROUP BY {positions}"
        )
    op.execute(_open_fill("stats_open_cell", OPEN_KEYS, OPEN_SOURCE))
    op.execute(_open_fill("stats_open_step_cell", OPEN_STEP_KEYS, OPEN_STEP_SOURCE))
    for cell in ("stats_dossier_cell", "stats_step_cell"):
        statements = [
            _roll_statement(rollup, keys, names) for rollup, keys, table, names in _rollups(counters) if table == cell
        ]
        op.execute(_roll_function(cell, statements))
        op.execute(f"CREATE TRIGGER stats_roll_{cell} AFTER INSERT OR UPDATE ON {cell} FOR EACH ROW "
                   f"EXECUTE FUNCTION stats_roll_{cell}()")  # fmt: skip
    for name, table, timing, event, function, changed in OPEN_TRIGGERS:
        op.execute(_trigger(name, table, timing, event, function, changed))
    op.create_index(
        "ix_sla_timer_paused_dossier_clock",
        "sla_timer",
        ["paused_at"],
        unique=False,
        postgresql_include=["dossier_id"],
        postgresql_where=sa.text(PAUSED_CLOCK),
    )


def downgrade() -> None:
    op.drop_index("ix_sla_timer_paused_dossier_clock", table_name="sla_timer", postgresql_where=sa.text(PAUSED_CLOCK))
    for name, table, *_ in OPEN_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for cell in ("stats_dossier_cell", "stats_step_cell"):
        op.execute(f"DROP TRIGGER stats_roll_{cell} ON {cell}")
        op.execute(f"DROP FUNCTION stats_roll_{cell}()")
    for signature in (
        "stats_open_on_sla_timer()",
        "stats_open_on_dossier()",
        "stats_apply_open_step(dossier, sla_timer, dossier, sla_timer)",
        "stats_apply_open(dossier, timestamptz, dossier, timestamptz)",
        "stats_open_step_facts(dossier, sla_timer)",
        "stats_open_facts(dossier, timestamptz)",
        "stats_due_before(date, integer[], date)",
        "stats_due_merge(date, integer[], date, integer[])",
    ):
        op.execute(f"DROP FUNCTION {signature}")
    for table in (
        "stats_open_step_cell", "stats_open_cell", "stats_step_year", "stats_dossier_agency_month",
        "stats_dossier_year",
    ):  # fmt: skip
        op.drop_table(table)
