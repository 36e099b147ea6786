"""statistics aggregates

Counters per month of receipt (Vietnam time), receiving agency and procedure version (and unit,
and officer, for the step clocks), kept by triggers on dossier, sla_timer, complaint, feedback and
payment: each change adds the difference between what the row contributed before and after it.
The triggers are skipped inside a transaction that sets ``motcua.stats_bulk = on`` (the bulk
loader, which adds what it loaded itself). Indexes for what is counted live: open dossiers and
open steps (covering), and dossiers by agency and day for the edges of a period. See
services/workflow/stats.py.

Revision ID: e60e42a7ddac
Revises: 32be3cb3ed63
Create Date: 2026-11-23 12:25:40.691933
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e60e42a7ddac'
down_revision: str | None = '32be3cb3ed63'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOSSIER_COUNTERS = (
    "received", "resolved_early", "resolved_on_time", "resolved_late", "withdrawn", "stopped", "refused",
    "online", "digitised", "charged", "paid_online", "complained", "resolved_seconds",
)
STEP_COUNTERS = ("steps", "steps_early", "steps_on_time", "steps_late")
DOSSIER_KEYS = ("month", "agency_id", "procedure_version_id")
STEP_KEYS = (*DOSSIER_KEYS, "unit_id")
OFFICER_KEYS = (*STEP_KEYS, "assignee_id")
TZ = "Asia/Ho_Chi_Minh"
BULK_OFF = "current_setting('motcua.stats_bulk', true) IS DISTINCT FROM 'on'"
MONTH = "date_trunc('month', f.day::timestamp)::date"
OPEN = "status IN ('received', 'processing', 'awaiting_supplement', 'awaiting_payment')"


def _upsert(table: str, keys: tuple[str, ...], counters: tuple[str, ...], source: str) -> str:
    """INSERT … SELECT the summed signed differences per key, skipping zero rows, in key order (no deadlocks)."""
    sums = ", ".join(f"sum(f.sign * f.{c})" for c in counters)
    nonzero = " OR ".join(f"sum(f.sign * f.{c}) <> 0" for c in counters)
    updates = ", ".join(f"{c} = c.{c} + excluded.{c}" for c in counters)
    exprs = ", ".join(MONTH if k == "month" else f"f.{k}" for k in keys)
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    return (
        f"INSERT INTO {table} AS c ({', '.join(keys)}, {', '.join(counters)}) "
        f"SELECT {exprs}, {sums} FROM ({source}) AS f "
        f"GROUP BY {positions} HAVING {nonzero} ORDER BY {positions} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


STEP_SOURCE = (
    "SELECT -1 AS sign, stats_day(old_d) AS day, old_d.receiving_agency_id AS agency_id,"
    " old_d.procedure_version_id, coalesce(s.unit_id, old_d.receiving_agency_id) AS unit_id, s.assignee_id,"
    " s.steps, s.steps_early, s.steps_on_time, s.steps_late"
    " FROM stats_step_facts(old_t) AS s WHERE old_d.id IS NOT NULL"
    " UNION ALL SELECT 1, stats_day(new_d), new_d.receiving_agency_id, new_d.procedure_version_id,"
    " coalesce(s.unit_id, new_d.receiving_agency_id), s.assignee_id,"
    " s.steps, s.steps_early, s.steps_on_time, s.steps_late"
    " FROM stats_step_facts(new_t) AS s WHERE new_d.id IS NOT NULL"
)

FUNCTIONS = [
    # the day a dossier counts on: its receipt, or (refused, never received) its submission
    f"""
    CREATE FUNCTION stats_day(d dossier) RETURNS date LANGUAGE sql STABLE AS $$
        SELECT (coalesce(d.received_at, d.created_at) AT TIME ZONE '{TZ}')::date
    $$""",
    # what one dossier adds to the counters of its cell: the national indicator rules in one place
    f"""
    CREATE FUNCTION stats_dossier_facts(d dossier, has_complaint boolean, has_charge boolean)
    RETURNS TABLE (
        day date, agency_id uuid, procedure_version_id uuid, received integer, resolved_early integer,
        resolved_on_time integer, resolved_late integer, withdrawn integer, stopped integer, refused integer,
        online integer, digitised integer, charged integer, paid_online integer, complained integer,
        resolved_seconds bigint
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
                ELSE 0 END
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
        ) AS x
        WHERE d.id IS NOT NULL
    $$""",
    """
    CREATE FUNCTION stats_step_facts(t sla_timer)
    RETURNS TABLE (
        dossier_id uuid, unit_id uuid, assignee_id uuid, steps integer, steps_early integer,
        steps_on_time integer, steps_late integer
    ) LANGUAGE sql IMMUTABLE AS $$
        SELECT t.dossier_id, t.agency_id, coalesce(t.assignee_id, '00000000-0000-0000-0000-000000000000'::uuid),
            1, coalesce(t.outcome = 'early', false)::integer, coalesce(t.outcome = 'on_time', false)::integer,
            coalesce(t.outcome = 'late', false)::integer
        WHERE t.id IS NOT NULL AND t.kind = 'step'
    $$""",
    """
    CREATE FUNCTION stats_flags(target uuid, OUT has_complaint boolean, OUT has_charge boolean)
    LANGUAGE sql STABLE AS $$
        SELECT EXISTS (SELECT 1 FROM complaint AS c WHERE c.dossier_id = target)
                OR EXISTS (SELECT 1 FROM feedback AS f WHERE f.dossier_id = target AND f.rating = 'dissatisfied'),
            EXISTS (SELECT 1 FROM payment AS p WHERE p.dossier_id = target AND p.status <> 'cancelled')
    $$""",
    f"""
    CREATE FUNCTION stats_apply_dossier(
        old_d dossier, old_complaint boolean, old_charge boolean,
        new_d dossier, new_complaint boolean, new_charge boolean
    ) RETURNS void LANGUAGE sql AS $$
        {_upsert("stats_dossier_cell", DOSSIER_KEYS, DOSSIER_COUNTERS,
                 "SELECT -1 AS sign, * FROM stats_dossier_facts(old_d, old_complaint, old_charge) "
                 "UNION ALL SELECT 1, * FROM stats_dossier_facts(new_d, new_complaint, new_charge)")}
    $$""",
    f"""
    CREATE FUNCTION stats_apply_step(old_d dossier, old_t sla_timer, new_d dossier, new_t sla_timer)
    RETURNS void LANGUAGE sql AS $$
        {_upsert("stats_step_cell", STEP_KEYS, STEP_COUNTERS, STEP_SOURCE)};
        {_upsert("stats_officer_cell", OFFICER_KEYS, STEP_COUNTERS, STEP_SOURCE)}
    $$""",
    """
    CREATE FUNCTION stats_on_dossier() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        flags record;
        t sla_timer;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            -- nothing can refer to a dossier before it exists: no complaint, rating or payment yet
            PERFORM stats_apply_dossier(NULL, NULL, NULL, NEW, false, false);
            RETURN NULL;
        END IF;
        flags := stats_flags(OLD.id);
        IF TG_OP = 'DELETE' THEN
            -- BEFORE DELETE: the clocks are still there (they go with the dossier, by cascade)
            PERFORM stats_apply_dossier(OLD, flags.has_complaint, flags.has_charge, NULL, NULL, NULL);
            FOR t IN SELECT * FROM sla_timer WHERE dossier_id = OLD.id AND kind = 'step' LOOP
                PERFORM stats_apply_step(OLD, t, NULL, NULL);
            END LOOP;
            RETURN OLD;
        END IF;
        PERFORM stats_apply_dossier(OLD, flags.has_complaint, flags.has_charge, NEW, flags.has_complaint, flags.has_charge);
        IF (stats_day(OLD), OLD.receiving_agency_id, OLD.procedure_version_id)
            IS DISTINCT FROM (stats_day(NEW), NEW.receiving_agency_id, NEW.procedure_version_id) THEN
            -- the dossier moved to another cell: its steps move with it
            FOR t IN SELECT * FROM sla_timer WHERE dossier_id = NEW.id AND kind = 'step' LOOP
                PERFORM stats_apply_step(OLD, t, NEW, t);
            END LOOP;
        END IF;
        RETURN NULL;
    END
    $$""",
    """
    CREATE FUNCTION stats_on_sla_timer() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        old_d dossier;
        new_d dossier;
    BEGIN
        -- FOR SHARE: a concurrent change of the dossier's cell waits for us, or we for it
        IF TG_OP <> 'INSERT' AND OLD.kind = 'step' THEN
            SELECT * INTO old_d FROM dossier WHERE id = OLD.dossier_id FOR SHARE;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.kind = 'step' THEN
            SELECT * INTO new_d FROM dossier WHERE id = NEW.dossier_id FOR SHARE;
        END IF;
        PERFORM stats_apply_step(old_d, CASE WHEN TG_OP <> 'INSERT' THEN OLD END,
                                 new_d, CASE WHEN TG_OP <> 'DELETE' THEN NEW END);
        RETURN NULL;
    END
    $$""",
]


def _child_function(table: str) -> str:
    """A complaint, a rating or a payment changes the flags of its dossier: count the difference once.

    The dossier row is locked, so two children of one dossier changing at once are counted one after
    the other; "before" is the table as it is now with this row swapped back to its old version."""
    me = "coalesce(NEW.id, OLD.id)"
    if table == "complaint":
        other = (
            f"EXISTS (SELECT 1 FROM complaint AS c WHERE c.dossier_id = target AND c.id <> {me})"
            " OR EXISTS (SELECT 1 FROM feedback AS f WHERE f.dossier_id = target AND f.rating = 'dissatisfied')"
        )
        mine_old, mine_new = "OLD.dossier_id = target", "NEW.dossier_id = target"
    elif table == "feedback":
        other = (
            "EXISTS (SELECT 1 FROM complaint AS c WHERE c.dossier_id = target)"
            " OR EXISTS (SELECT 1 FROM feedback AS f WHERE f.dossier_id = target AND f.rating = 'dissatisfied'"
            f" AND f.id <> {me})"
        )
        mine_old = "OLD.dossier_id = target AND OLD.rating = 'dissatisfied'"
        mine_new = "NEW.dossier_id = target AND NEW.rating = 'dissatisfied'"
    else:
        other = (
            "EXISTS (SELECT 1 FROM payment AS p WHERE p.dossier_id = target AND p.status <> 'cancelled'"
            f" AND p.id <> {me})"
        )
        mine_old = "OLD.dossier_id = target AND OLD.status <> 'cancelled'"
        mine_new = "NEW.dossier_id = target AND NEW.status <> 'cancelled'"
    apply = (
        "d, flags.has_complaint, was, d, flags.has_complaint, now_is" if table == "payment"
        else "d, was, flags.has_charge, d, now_is, flags.has_charge"
    )
    return f"""
    CREATE FUNCTION stats_on_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        target uuid;
        d dossier;
        flags record;
        others boolean;
        was boolean;
        now_is boolean;
    BEGIN
        FOR target IN
            SELECT DISTINCT x FROM unnest(ARRAY[
                CASE WHEN TG_OP <> 'INSERT' THEN OLD.dossier_id END,
                CASE WHEN TG_OP <> 'DELETE' THEN NEW.dossier_id END
            ]) AS x WHERE x IS NOT NULL ORDER BY x
        LOOP
            SELECT * INTO d FROM dossier WHERE id = target FOR NO KEY UPDATE;
            CONTINUE WHEN NOT FOUND;
            flags := stats_flags(target);
            others := {other};
            was := others OR (TG_OP <> 'INSERT' AND coalesce({mine_old}, false));
            now_is := others OR (TG_OP <> 'DELETE' AND coalesce({mine_new}, false));
            IF was IS DISTINCT FROM now_is THEN
                PERFORM stats_apply_dossier({apply});
            END IF;
        END LOOP;
        RETURN NULL;
    END
    $$"""


def _trigger(name: str, table: str, timing: str, event: str, function: str, changed: tuple[str, ...] = ()) -> str:
    condition = BULK_OFF
    if changed:
        old = ", ".join(f"OLD.{c}" for c in changed)
        new = ", ".join(f"NEW.{c}" for c in changed)
        condition += f" AND ({old}) IS DISTINCT FROM ({new})"
    return (
        f"CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW WHEN ({condition}) "
        f"EXECUTE FUNCTION {function}()"
    )


DOSSIER_COLUMNS = (
    "status", "channel", "received_at", "created_at", "receiving_agency_id", "procedure_version_id", "outcome",
    "late_by_rule", "resolved_at", "returned_at", "closed_at", "due_at", "digitised", "paid_online",
)
TRIGGERS = [
    ("stats_dossier_insert", "dossier", "AFTER", "INSERT", "stats_on_dossier", ()),
    ("stats_dossier_update", "dossier", "AFTER", "UPDATE", "stats_on_dossier", DOSSIER_COLUMNS),
    ("stats_dossier_delete", "dossier", "BEFORE", "DELETE", "stats_on_dossier", ()),
    ("stats_sla_timer_insert", "sla_timer", "AFTER", "INSERT", "stats_on_sla_timer", ()),
    ("stats_sla_timer_update", "sla_timer", "AFTER", "UPDATE", "stats_on_sla_timer",
     ("kind", "dossier_id", "agency_id", "assignee_id", "outcome")),
    ("stats_sla_timer_delete", "sla_timer", "AFTER", "DELETE", "stats_on_sla_timer", ()),
    ("stats_complaint_insert", "complaint", "AFTER", "INSERT", "stats_on_complaint", ()),
    ("stats_complaint_update", "complaint", "AFTER", "UPDATE", "stats_on_complaint", ("dossier_id",)),
    ("stats_complaint_delete", "complaint", "AFTER", "DELETE", "stats_on_complaint", ()),
    ("stats_feedback_insert", "feedback", "AFTER", "INSERT", "stats_on_feedback", ()),
    ("stats_feedback_update", "feedback", "AFTER", "UPDATE", "stats_on_feedback", ("dossier_id", "rating")),
    ("stats_feedback_delete", "feedback", "AFTER", "DELETE", "stats_on_feedback", ()),
    ("stats_payment_insert", "payment", "AFTER", "INSERT", "stats_on_payment", ()),
    ("stats_payment_update", "payment", "AFTER", "UPDATE", "stats_on_payment", ("dossier_id", "status")),
    ("stats_payment_delete", "payment", "AFTER", "DELETE", "stats_on_payment", ()),
]
FUNCTION_SIGNATURES = (
    "stats_on_payment()", "stats_on_feedback()", "stats_on_complaint()", "stats_on_sla_timer()",
    "stats_on_dossier()", "stats_apply_step(dossier, sla_timer, dossier, sla_timer)",
    "stats_apply_dossier(dossier, boolean, boolean, dossier, boolean, boolean)", "stats_flags(uuid)",
    "stats_step_facts(sla_timer)", "stats_dossier_facts(dossier, boolean, boolean)", "stats_day(dossier)",
)


def _fill() -> None:
    """Count what is already there (the statements of services.workflow.bulk.rebuild, frozen here)."""
    sums = ", ".join(f"sum(f.{c})" for c in DOSSIER_COUNTERS)
    op.execute(
        f"INSERT INTO stats_dossier_cell ({', '.join(DOSSIER_KEYS)}, {', '.join(DOSSIER_COUNTERS)}) "
        f"SELECT {MONTH}, f.agency_id, f.procedure_version_id, {sums} FROM dossier AS d "
        "LEFT JOIN (SELECT dossier_id FROM complaint WHERE dossier_id IS NOT NULL"
        " UNION SELECT dossier_id FROM feedback WHERE rating = 'dissatisfied') AS cf ON cf.dossier_id = d.id "
        "LEFT JOIN (SELECT DISTINCT dossier_id FROM payment WHERE status <> 'cancelled') AS pf ON pf.dossier_id = d.id "
        "CROSS JOIN LATERAL stats_dossier_facts(d, cf.dossier_id IS NOT NULL, pf.dossier_id IS NOT NULL) AS f "
        "GROUP BY 1, 2, 3"
    )
    for table, keys in (("stats_step_cell", STEP_KEYS), ("stats_officer_cell", OFFICER_KEYS)):
        exprs = ", ".join(MONTH if k == "month" else f"f.{k}" for k in keys)
        sums = ", ".join(f"sum(f.{c})" for c in STEP_COUNTERS)
        op.execute(
            f"INSERT INTO {table} ({', '.join(keys)}, {', '.join(STEP_COUNTERS)}) "
            f"SELECT {exprs}, {sums} FROM ("
            "SELECT stats_day(d) AS day, d.receiving_agency_id AS agency_id, d.procedure_version_id,"
            " coalesce(s.unit_id, d.receiving_agency_id) AS unit_id, s.assignee_id, s.steps, s.steps_early,"
            " s.steps_on_time, s.steps_late FROM sla_timer AS t JOIN dossier AS d ON d.id = t.dossier_id"
            " CROSS JOIN LATERAL stats_step_facts(t) AS s) AS f "
            f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
        )


def _counters(names: tuple[str, ...]) -> list[sa.Column]:
    return [
        sa.Column(name, sa.BigInteger() if name == "resolved_seconds" else sa.Integer(), server_default='0',
                  nullable=False)
        for name in names
    ]


def upgrade() -> None:
    op.create_table('stats_dossier_cell',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('procedure_version_id', sa.Uuid(), nullable=False),
    *_counters(DOSSIER_COUNTERS),
    sa.PrimaryKeyConstraint('month', 'agency_id', 'procedure_version_id', name=op.f('pk_stats_dossier_cell'))
    )
    op.create_table('stats_officer_cell',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('procedure_version_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=False),
    *_counters(STEP_COUNTERS),
    sa.PrimaryKeyConstraint('month', 'agency_id', 'procedure_version_id', 'unit_id', 'assignee_id', name=op.f('pk_stats_officer_cell'))
    )
    op.create_index('ix_stats_officer_cell_assignee', 'stats_officer_cell', ['assignee_id', 'month'], unique=False)
    op.create_table('stats_step_cell',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('procedure_version_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    *_counters(STEP_COUNTERS),
    sa.PrimaryKeyConstraint('month', 'agency_id', 'procedure_version_id', 'unit_id', name=op.f('pk_stats_step_cell'))
    )
    op.create_index('ix_dossier_open_received', 'dossier', ['receiving_agency_id', 'received_at'], unique=False, postgresql_include=['id', 'procedure_version_id', 'status', 'due_at', 'late_by_rule'], postgresql_where=sa.text(OPEN))
    op.create_index('ix_dossier_agency_received', 'dossier', ['receiving_agency_id', 'received_at'], unique=False)
    op.create_index('ix_dossier_agency_unreceived', 'dossier', ['receiving_agency_id', 'created_at'], unique=False, postgresql_where=sa.text('received_at IS NULL'))
    op.create_index('ix_sla_timer_open_step', 'sla_timer', ['dossier_id'], unique=False, postgresql_include=['agency_id', 'assignee_id', 'due_at', 'paused_at'], postgresql_where=sa.text("ended_at IS NULL AND kind = 'step'"))
    for statement in FUNCTIONS:
        op.execute(statement)
    for table in ("complaint", "feedback", "payment"):
        op.execute(_child_function(table))
    for name, table, timing, event, function, changed in TRIGGERS:
        op.execute(_trigger(name, table, timing, event, function, changed))
    _fill()


def downgrade() -> None:
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index('ix_sla_timer_open_step', table_name='sla_timer', postgresql_where=sa.text("ended_at IS NULL AND kind = 'step'"))
    op.drop_index('ix_dossier_agency_unreceived', table_name='dossier', postgresql_where=sa.text('received_at IS NULL'))
    op.drop_index('ix_dossier_agency_received', table_name='dossier')
    op.drop_index('ix_dossier_open_received', table_name='dossier', postgresql_where=sa.text(OPEN))
    op.drop_table('stats_step_cell')
    op.drop_index('ix_stats_officer_cell_assignee', table_name='stats_officer_cell')
    op.drop_table('stats_officer_cell')
    op.drop_table('stats_dossier_cell')
