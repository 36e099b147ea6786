"""portal sync: the national portal's journal of state changes, written by a trigger on dossier

``portal_sync`` gets one row per national state change of a dossier (services/models/portal.py). A
row-level trigger on ``dossier`` writes it — on INSERT, and on UPDATE when ``status`` changes — in
the transaction that makes the change, numbered ``seq`` = the dossier's last + 1 (the UPDATE holds the
dossier's row lock, so two changes of one dossier cannot take the same number; the unique constraint
would refuse it anyway).

*A trigger rather than a call in the code*: a dossier's state is set in eight modules (filing, the
desk, the engine, payments, the post, "4 tại chỗ", the demo history…); the trigger sees every one of
them, and the one whose change is written last gets the higher number, which is the order the portal
must see. It skips the statistics' bulk loads (``motcua.stats_bulk = on``, services/stats/bulk.py):
historical dossiers reach the portal through ``make reconcile-portal``, not as millions of rows.

The time of a state is the dossier's own column for it (``submitted_at``, ``received_at``,
``resolved_at``, ``returned_at``, ``closed_at`` for the other final states), written by the service's
clock; the transaction's time for the states without one (processing, awaiting supplement or payment).

Measured (/tmp script on this shared 2-core machine, 2,000 dossiers × 4 status changes, rolled back, two
runs each): an ``UPDATE … SET status`` took 1.34–1.76 ms without the trigger and 1.84–2.44 ms with it
(+0.5–0.7 ms), an insert 1.38–1.78 ms against 1.91–2.15 ms; a journal row is 146 bytes (≈ 0.7 kB per dossier
with 5 changes, before indexes).

Like the other queues, an insert NOTIFYs the worker at commit (``queue_wake``, migration 4c81e7a2d5f9).

Revision ID: c8d1f4a6b2e7
Revises: c4f8a2d6e9b1
Create Date: 2026-12-06 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c8d1f4a6b2e7"
down_revision = "c4f8a2d6e9b1"  # after the signed documents (issue 16 §2), merged first
branch_labels = None
depends_on = None

# when a dossier's current state began: shared by the trigger and the reconciliation (services/portal/reconcile.py)
STATE_TIME = """
CREATE FUNCTION portal_state_time(d dossier) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(CASE d.status
                        WHEN 'submitted' THEN d.submitted_at
                        WHEN 'received' THEN d.received_at
                        WHEN 'resolved' THEN d.resolved_at
                        WHEN 'returned' THEN d.returned_at
                        WHEN 'refused' THEN d.closed_at
                        WHEN 'withdrawn' THEN d.closed_at
                        WHEN 'stopped' THEN d.closed_at
                    END, now())
$$
"""

RECORD = """
CREATE FUNCTION portal_sync_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO portal_sync (id, dossier_id, seq, state, changed_at, due_at, outcome, reason, status, attempts,
                             next_attempt_at, duplicate, created_at, updated_at)
    SELECT gen_random_uuid(), NEW.id, coalesce(max(s.seq), 0) + 1, NEW.status, portal_state_time(NEW),
           coalesce(NEW.appointment_at, NEW.due_at), NEW.outcome, 'change', 'pending', 0, now(), false, now(), now()
      FROM portal_sync AS s
     WHERE s.dossier_id = NEW.id;
    RETURN NULL;
END
$$
"""

NOT_BULK = "current_setting('motcua.stats_bulk', true) IS DISTINCT FROM 'on'"


def upgrade() -> None:
    op.create_table(
        "portal_sync",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_id", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_portal_sync_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sync")),
        sa.UniqueConstraint("dossier_id", "seq", name=op.f("uq_portal_sync_dossier_id_seq")),
    )
    op.create_index(
        "ix_portal_sync_due", "portal_sync", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_portal_sync_parked", "portal_sync", ["parked_at"], postgresql_where=sa.text("status = 'parked'")
    )
    op.execute(STATE_TIME)
    op.execute(RECORD)
    op.execute(
        "CREATE TRIGGER dossier_portal_sync_insert AFTER INSERT ON dossier FOR EACH ROW"
        f" WHEN ({NOT_BULK}) EXECUTE FUNCTION portal_sync_record()"
    )
    op.execute(
        "CREATE TRIGGER dossier_portal_sync_update AFTER UPDATE OF status ON dossier FOR EACH ROW"
        f" WHEN (OLD.status IS DISTINCT FROM NEW.status AND {NOT_BULK}) EXECUTE FUNCTION portal_sync_record()"
    )
    op.execute(
        "CREATE TRIGGER portal_sync_wake AFTER INSERT ON portal_sync REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION queue_wake('pending')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER dossier_portal_sync_update ON dossier")
    op.execute("DROP TRIGGER dossier_portal_sync_insert ON dossier")
    op.execute("DROP FUNCTION portal_sync_record()")
    op.execute("DROP FUNCTION portal_state_time(dossier)")
    op.drop_index("ix_portal_sync_parked", table_name="portal_sync", postgresql_where=sa.text("status = 'parked'"))
    op.drop_index("ix_portal_sync_due", table_name="portal_sync", postgresql_where=sa.text("status = 'pending'"))
    op.drop_table("portal_sync")
