"""working time indicators: time used against the legal limit

The clocks now keep what they measured: ``sla_timer.used_seconds`` (working time from the start to
the end, pauses excluded) is set when a clock ends with an outcome, and the dossier keeps its own
clock's figure and budget (``dossier.used_working_seconds``, ``dossier.limit_working_seconds``), as it
keeps the clock's ``due_at``, so the statistics trigger reads one row. ``stats_dossier_cell`` gains the
sums the indicators need (how many were measured, working seconds used, legal limits, used/limit in
millionths, how many finished in under half their limit); ``stats_dossier_facts`` counts them and the
dossier trigger also fires when the two new columns change. A partial covering index over the measured
dossiers serves the exact medians; a histogram of the share of the limit used (2-point buckets to
100 %, 10-point ones to 200 %, ``used_pct_000`` … ``used_pct_200``) the interpolated ones of scopes too large to sort. Dossiers
resolved before this revision have no measurement (the calendar that would give it is not in SQL):
they stay out of these indicators, and ``timed`` says how many are in. See
services/workflow/stats.py.

Revision ID: b7d2e94c1f30
Revises: 8d2f6b1e4a70
Create Date: 2026-12-05 14:10:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "b7d2e94c1f30"
down_revision = "8d2f6b1e4a70"
branch_labels = None
depends_on = None

TZ = "Asia/Ho_Chi_Minh"
# lower bounds in % of the limit: 2 points wide to 100 %, 10 points to 200 %, the last one open
BUCKETS = (*range(0, 100, 2), *range(100, 210, 10))
NEW_COUNTERS = (
    "timed", "used_working_seconds", "limit_working_seconds", "limit_used_ppm", "under_half",
    *(f"used_pct_{low:03d}" for low in BUCKETS),
)  # fmt: skip

SUMS = ("used_working_seconds", "limit_working_seconds", "limit_used_ppm")  # bigint; the counts are integers


def _bucket(position: int) -> str:
    """1 when the measured dossier used [this bound, the next) % of its limit (the last: this or more)."""
    used, limit, low = "100 * d.used_working_seconds::bigint", "d.limit_working_seconds", BUCKETS[position]
    upper = f" AND {used} < {BUCKETS[position + 1]} * {limit}" if position + 1 < len(BUCKETS) else ""
    return f"coalesce(x.t AND {used} >= {low} * {limit}{upper}, false)::integer"


TIMED = "status IN ('resolved', 'returned') AND used_working_seconds IS NOT NULL AND limit_working_seconds > 0"


def _aggregates() -> ModuleType:
    """The "statistics aggregates" revision: its upsert builder, counter list and the functions it made."""
    path = Path(__file__).with_name("2026_11_23_1225-e60e42a7ddac_statistics_aggregates.py")
    spec = importlib.util.spec_from_file_location("_motcua_statistics_aggregates", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the counting rules of 766/QĐ-TTg as in "statistics aggregates", plus the working time of the resolved
# ones that were measured (``t``): their time used, their limit, used/limit in millionths and "under half"
FACTS = f"""
CREATE FUNCTION stats_dossier_facts(d dossier, has_complaint boolean, has_charge boolean)
RETURNS TABLE (
    day date, agency_id uuid, procedure_version_id uuid, received integer, resolved_early integer,
    resolved_on_time integer, resolved_late integer, withdrawn integer, stopped integer, refused integer,
    online integer, digitised integer, charged integer, paid_online integer, complained integer,
    resolved_seconds bigint, timed integer, used_working_seconds bigint, limit_working_seconds bigint,
    limit_used_ppm bigint, under_half integer, {", ".join(f"used_pct_{low:03d} integer" for low in BUCKETS)}
) LANGUAGE sql STABLE AS $$
    SELECT stats_day(d), d.receiving_agency_id, d.procedure_version_id,
        x.r::integer,
        coalesce(x.r AND x.outcome = 'early', false)::integer,
        coalesce(x.r AND x.outcome = 'on_time', false)::integer,
        coalesce(x.r AND x.outcome = 'late', false)::integer,
        coalesce(x.r AND d.status = 'withdrawn', false)::integer,
        coalesce(x.r AND d.status = 'stopped', false)::integer,
        coalesce(d.status = 'refused', false)::integer,
        coalesce(x.r AND d.channel = 2, false)::integer,
        coalesce(x.r AND d.digitised, false)::integer,
        coalesce(x.r AND (coalesce(has_charge, false) OR d.paid_online), false)::integer,
        coalesce(x.r AND d.paid_online, false)::integer,
        coalesce(x.r AND has_complaint, false)::integer,
        CASE WHEN x.r AND x.outcome IS NOT NULL
            THEN greatest(0, coalesce(extract(epoch FROM x.done_at - d.received_at), 0))::bigint
            ELSE 0 END,
        x.t::integer,
        CASE WHEN x.t THEN d.used_working_seconds::bigint ELSE 0 END,
        CASE WHEN x.t THEN d.limit_working_seconds::bigint ELSE 0 END,
        CASE WHEN x.t THEN d.used_working_seconds::bigint * 1000000 / d.limit_working_seconds ELSE 0 END,
        coalesce(x.t AND 2 * d.used_working_seconds::bigint < d.limit_working_seconds, false)::integer,
        {", ".join(_bucket(position) for position in range(len(BUCKETS)))}
    FROM (
        SELECT y.*, coalesce(y.r AND y.outcome IS NOT NULL AND d.used_working_seconds IS NOT NULL
                             AND d.limit_working_seconds > 0, false) AS t
        FROM (
            SELECT coalesce(d.received_at IS NOT NULL AND d.status NOT IN ('submitted', 'refused'), false) AS r,
                coalesce(d.resolved_at, d.returned_at, d.closed_at) AS done_at,
                CASE WHEN d.status IN ('resolved', 'returned') THEN coalesce(
                    d.outcome,
                    CASE WHEN d.late_by_rule OR coalesce(d.resolved_at > d.due_at, false) THEN 'late'
                        WHEN (d.resolved_at AT TIME ZONE '{TZ}')::date < (d.due_at AT TIME ZONE '{TZ}')::date
                        THEN 'early'
                        ELSE 'on_time' END
                ) END AS outcome
        ) AS y
    ) AS x
    WHERE d.id IS NOT NULL
$$"""


def _apply_dossier(aggregates: ModuleType, counters: tuple[str, ...]) -> str:
    upsert = aggregates._upsert(
        "stats_dossier_cell",
        aggregates.DOSSIER_KEYS,
        counters,
        "SELECT -1 AS sign, * FROM stats_dossier_facts(old_d, old_complaint, old_charge) "
        "UNION ALL SELECT 1, * FROM stats_dossier_facts(new_d, new_complaint, new_charge)",
    )
    return f"""
    CREATE FUNCTION stats_apply_dossier(
        old_d dossier, old_complaint boolean, old_charge boolean,
        new_d dossier, new_complaint boolean, new_charge boolean
    ) RETURNS void LANGUAGE sql AS $$
        {upsert}
    $$"""


def _update_trigger(aggregates: ModuleType, columns: tuple[str, ...]) -> str:
    return aggregates._trigger("stats_dossier_update", "dossier", "AFTER", "UPDATE", "stats_on_dossier", columns)


def _swap(aggregates: ModuleType, facts: str, counters: tuple[str, ...], columns: tuple[str, ...]) -> None:
    op.execute("DROP TRIGGER stats_dossier_update ON dossier")
    op.execute("DROP FUNCTION stats_apply_dossier(dossier, boolean, boolean, dossier, boolean, boolean)")
    op.execute("DROP FUNCTION stats_dossier_facts(dossier, boolean, boolean)")
    op.execute(facts)
    op.execute(_apply_dossier(aggregates, counters))
    op.execute(_update_trigger(aggregates, columns))


def upgrade() -> None:
    aggregates = _aggregates()
    op.add_column("sla_timer", sa.Column("used_seconds", sa.Integer(), nullable=True))
    op.add_column("dossier", sa.Column("used_working_seconds", sa.Integer(), nullable=True))
    op.add_column("dossier", sa.Column("limit_working_seconds", sa.Integer(), nullable=True))
    for name in NEW_COUNTERS:
        kind = sa.BigInteger() if name in SUMS else sa.Integer()
        op.add_column("stats_dossier_cell", sa.Column(name, kind, server_default="0", nullable=False))
    op.create_index(
        "ix_dossier_timed_received",
        "dossier",
        ["receiving_agency_id", "received_at"],
        unique=False,
        postgresql_include=["procedure_version_id", "used_working_seconds", "limit_working_seconds"],
        postgresql_where=sa.text(TIMED),
    )
    # nothing is measured yet: the new counters start at zero, which is what a recount gives
    _swap(
        aggregates,
        FACTS,
        (*aggregates.DOSSIER_COUNTERS, *NEW_COUNTERS),
        (*aggregates.DOSSIER_COLUMNS, "used_working_seconds", "limit_working_seconds"),
    )


def downgrade() -> None:
    aggregates = _aggregates()
    _swap(aggregates, aggregates.FUNCTIONS[1], aggregates.DOSSIER_COUNTERS, aggregates.DOSSIER_COLUMNS)
    op.drop_index("ix_dossier_timed_received", table_name="dossier", postgresql_where=sa.text(TIMED))
    for name in reversed(NEW_COUNTERS):
        op.drop_column("stats_dossier_cell", name)
    op.drop_column("dossier", "limit_working_seconds")
    op.drop_column("dossier", "used_working_seconds")
    op.drop_column("sla_timer", "used_seconds")
