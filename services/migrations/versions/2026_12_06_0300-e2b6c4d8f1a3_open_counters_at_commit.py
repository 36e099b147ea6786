"""open counters at commit: the open cells are written once per transaction, in key order

The drill's 30-minute soak (issue 15 §2) found deadlocks between staff transitions and payment
webhooks: a resolve wrote its dossier and then its clocks, a pause or resume for payment its clocks and
then its dossier, and each write's trigger upserted the ``stats_open_cell`` / ``stats_open_step_cell``
rows of its cell at once — two transactions took the same cells' row locks in opposite orders (353
transitions and 224 webhooks answered 500 "deadlock detected", waves of 8 s lock waits).

Now ``stats_apply_open`` / ``stats_apply_open_step`` only note the signed differences in
``stats_open_pending`` (UNLOGGED: its rows never outlive their transaction), and a deferred constraint
trigger applies a transaction's differences at its commit: summed per cell and due day, in one order
for every transaction (the plain cells, then the step cells, each by key), so cell locks are taken in a
single global order and held only for the commit's last statements. Two writers can wait for each
other there, never in a circle. The trigger fires once per noted row: the first firing applies them
all and clears the transaction's ``motcua.open_noted`` flag, the others stop at the flag (a transaction
noting thousands of rows does not scan the table thousands of times). A difference left behind by a
transaction that committed without its flush (none is known) is applied by the next flush, which takes
whatever it can see.

A transaction that reads the open counters after writing (tests, which roll back) applies its own
differences first: ``SELECT stats_open_own()`` sets the flush IMMEDIATE, which runs what is outstanding
at once, and DEFERRED again (services/stats/open.py ``count_own_changes``); in a transaction that wrote
nothing it finds nothing to do.

Revision ID: e2b6c4d8f1a3
Revises: a5c3e1f7b2d8
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "e2b6c4d8f1a3"
down_revision = "a5c3e1f7b2d8"
branch_labels = None
depends_on = None

MONTH = "date_trunc('month', s.day::timestamp)::date"
COLUMNS = "step, month, agency_id, procedure_version_id, unit_id, due_day, open, overdue, due"
HAVING = "HAVING sum({p}open) <> 0 OR sum({p}overdue) <> 0 OR coalesce(sum({p}due), 0) <> 0"


def _note(name: str, arguments: str, step: bool, source: str) -> str:
    unit = "s.unit_id" if step else "NULL::uuid"
    return f"""
    CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS void LANGUAGE sql AS $$
        SELECT set_config('motcua.open_noted', 'on', true);
        INSERT INTO stats_open_pending ({COLUMNS})
        SELECT {str(step).lower()}, {MONTH}, s.agency_id, s.procedure_version_id, {unit}, s.due_day,
            sum(s.sign * s.open)::integer, sum(s.sign * s.overdue)::integer,
            (sum(s.sign) FILTER (WHERE s.due_day IS NOT NULL))::integer
        FROM ({source}) AS s
        GROUP BY 2, 3, 4, 5, 6
        HAVING sum(s.sign * s.open) <> 0 OR sum(s.sign * s.overdue) <> 0
            OR coalesce(sum(s.sign) FILTER (WHERE s.due_day IS NOT NULL), 0) <> 0
    $$"""


NOTE_OPEN = _note(
    "stats_apply_open",
    "old_d dossier, old_paused timestamptz, new_d dossier, new_paused timestamptz",
    False,
    "SELECT -1 AS sign, * FROM stats_open_facts(old_d, old_paused)"
    " UNION ALL SELECT 1, * FROM stats_open_facts(new_d, new_paused)",
)
NOTE_OPEN_STEP = _note(
    "stats_apply_open_step",
    "old_d dossier, old_t sla_timer, new_d dossier, new_t sla_timer",
    True,
    "SELECT -1 AS sign, * FROM stats_open_step_facts(old_d, old_t)"
    " UNION ALL SELECT 1, * FROM stats_open_step_facts(new_d, new_t)",
)


def _upsert(table: str, keys: str) -> str:
    values = ", ".join(f"f.{k.strip()}" for k in keys.split(","))
    return f"""
            INSERT INTO {table} AS c ({keys}, open, overdue, due_from, due_cumulative)
            SELECT {values}, f.open, f.overdue, m.due_from, m.due_cumulative
            FROM stats_due_merge(NULL, NULL, f.due_day, ARRAY[coalesce(f.due, 0)]) AS m
            ON CONFLICT ({keys}) DO UPDATE SET open = c.open + excluded.open,
                overdue = c.overdue + excluded.overdue,
                (due_from, due_cumulative) = (
                    SELECT m.due_from, m.due_cumulative
                    FROM stats_due_merge(c.due_from, c.due_cumulative, excluded.due_from, excluded.due_cumulative) AS m
                );
            IF f.open < 0 THEN
                DELETE FROM {table} WHERE ({keys}) = ({values}) AND open = 0;
            END IF;"""


FLUSH = f"""
CREATE FUNCTION stats_open_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f record;
BEGIN
    -- fired once per noted row: the first firing applies them all, the others stop here
    IF current_setting('motcua.open_noted', true) IS DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('motcua.open_noted', 'off', true);
    FOR f IN
        WITH gone AS (DELETE FROM stats_open_pending RETURNING *)
        SELECT step, month, agency_id, procedure_version_id, unit_id, due_day,
            sum(open)::integer AS open, sum(overdue)::integer AS overdue, sum(due)::integer AS due
        FROM gone
        GROUP BY 1, 2, 3, 4, 5, 6
        {HAVING.format(p="")}
        ORDER BY 1, 2, 3, 4, 5, 6
    LOOP
        IF f.step THEN{_upsert("stats_open_step_cell", "month, agency_id, procedure_version_id, unit_id")}
        ELSE{_upsert("stats_open_cell", "month, agency_id, procedure_version_id")}
        END IF;
    END LOOP;
    RETURN NULL;
END
$$"""


OWN = """
CREATE FUNCTION stats_open_own() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET CONSTRAINTS stats_open_flush IMMEDIATE;
    SET CONSTRAINTS stats_open_flush DEFERRED;
END
$$"""


def _revision(name: str) -> ModuleType:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"_motcua_{path.stem.split('_', 2)[-1]}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.create_table(
        "stats_open_pending",
        sa.Column("step", sa.Boolean(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_version_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("due_day", sa.Date(), nullable=True),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("due", sa.Integer(), nullable=True),
        prefixes=["UNLOGGED"],
    )
    op.execute(FLUSH)
    op.execute(
        "CREATE CONSTRAINT TRIGGER stats_open_flush AFTER INSERT ON stats_open_pending"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stats_open_flush()"
    )
    op.execute(OWN)
    op.execute(NOTE_OPEN)
    op.execute(NOTE_OPEN_STEP)


def downgrade() -> None:
    previous = _revision("2026_12_06_0010-7f3b2c9d4e61_statistics_rollups_and_open_counters.py")
    for statement in (previous.APPLY_OPEN, previous.APPLY_OPEN_STEP):
        op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("DROP FUNCTION stats_open_own()")
    op.execute("DROP TRIGGER stats_open_flush ON stats_open_pending")
    op.execute("DROP FUNCTION stats_open_flush()")
    op.drop_table("stats_open_pending")
