"""portal sync: a dossier filed already received is journalled as submitted, then received

A counter filing now writes its dossier once, received as it is filed (services/dossier/filing.py: the
receipt's clock, line and event with the insert), where it used to insert it ``submitted`` and update it
to ``received`` in the same transaction. The journal's triggers (migration c8d1f4a6b2e7) saw the insert
and the status update: two rows, ``submitted`` (state 1) then ``received`` (state 2). With one insert
they would see one, and the national portal would never hear of state 1 for a counter dossier.

The insert trigger's function is now ``portal_sync_filed``: a dossier inserted ``received`` (with its submission
and receipt times, as a filing writes them) gets the row
the insert of a submitted dossier got (state 1 at ``submitted_at``, no appointment yet, no outcome), then
the row of its state (seq 2); any other insert gets its state's row, seq 1, as before. A new dossier has
no journal rows yet, so the number needs no look-up.

Revision ID: b3d5f7a9c1e2
Revises: a2c4e6f8b0d1
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "b3d5f7a9c1e2"
down_revision = "a2c4e6f8b0d1"
branch_labels = None
depends_on = None

NOT_BULK = "current_setting('motcua.stats_bulk', true) IS DISTINCT FROM 'on'"
COLUMNS = (
    "id, dossier_id, seq, state, changed_at, due_at, outcome, reason, status, attempts, next_attempt_at, duplicate,"
    " created_at, updated_at"
)
# filed and received in one write: the state, and both instants (a dossier made otherwise, as tests' factories
# insert one in any state, keeps the one row of its state)
FILED_RECEIVED = "NEW.status = 'received' AND NEW.submitted_at IS NOT NULL AND NEW.received_at IS NOT NULL"
FILED = f"""
CREATE FUNCTION portal_sync_filed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {FILED_RECEIVED} THEN
        INSERT INTO portal_sync ({COLUMNS})
        VALUES (gen_random_uuid(), NEW.id, 1, 'submitted', NEW.submitted_at, NULL, NULL, 'change', 'pending', 0,
                now(), false, now(), now());
    END IF;
    INSERT INTO portal_sync ({COLUMNS})
    VALUES (gen_random_uuid(), NEW.id, CASE WHEN {FILED_RECEIVED} THEN 2 ELSE 1 END, NEW.status,
            portal_state_time(NEW), coalesce(NEW.appointment_at, NEW.due_at), NEW.outcome, 'change', 'pending', 0,
            now(), false, now(), now());
    RETURN NULL;
END
$$
"""


def _insert_trigger(function: str) -> None:
    op.execute("DROP TRIGGER dossier_portal_sync_insert ON dossier")
    op.execute(
        "CREATE TRIGGER dossier_portal_sync_insert AFTER INSERT ON dossier FOR EACH ROW"
        f" WHEN ({NOT_BULK}) EXECUTE FUNCTION {function}()"
    )


def upgrade() -> None:
    op.execute(FILED)
    _insert_trigger("portal_sync_filed")


def downgrade() -> None:
    _insert_trigger("portal_sync_record")
    op.execute("DROP FUNCTION portal_sync_filed()")
