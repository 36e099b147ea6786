"""portal sync: an apology's new appointment is a journal row of its own

Until now the journal (``portal_sync``, migration c8d1f4a6b2e7) took a row only when ``status`` changed.
An apology (Mẫu 04, services/sla/clocks.py ``apologize``) moves the appointment the citizen was given
(``appointment_at``) without a change of state, so the portal kept showing the old date until the
dossier's next state. A third trigger now writes a row when ``appointment_at`` changes and ``status``
does not (when both change in one UPDATE, the status trigger's row already carries the new date): the
same state, sent again with ``NgayHenTra`` the new appointment, ``reason = 'appointment'``.

The record function takes the reason as its trigger argument (``change`` by default), so the two
existing triggers are unchanged.

Revision ID: d3a5c7e9f1b4
Revises: c8d1f4a6b2e7
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = "d3a5c7e9f1b4"
down_revision = "c8d1f4a6b2e7"
branch_labels = None
depends_on = None

NOT_BULK = "current_setting('motcua.stats_bulk', true) IS DISTINCT FROM 'on'"


def _record(reason: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION portal_sync_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO portal_sync (id, dossier_id, seq, state, changed_at, due_at, outcome, reason, status, attempts,
                             next_attempt_at, duplicate, created_at, updated_at)
    SELECT gen_random_uuid(), NEW.id, coalesce(max(s.seq), 0) + 1, NEW.status, portal_state_time(NEW),
           coalesce(NEW.appointment_at, NEW.due_at), NEW.outcome, {reason}, 'pending', 0, now(), false, now(), now()
      FROM portal_sync AS s
     WHERE s.dossier_id = NEW.id;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(_record("coalesce(TG_ARGV[0], 'change')"))
    op.execute(
        "CREATE TRIGGER dossier_portal_sync_appointment AFTER UPDATE OF appointment_at ON dossier FOR EACH ROW"
        " WHEN (OLD.appointment_at IS DISTINCT FROM NEW.appointment_at AND OLD.status IS NOT DISTINCT FROM NEW.status"
        f" AND {NOT_BULK}) EXECUTE FUNCTION portal_sync_record('appointment')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER dossier_portal_sync_appointment ON dossier")
    op.execute(_record("'change'"))
