"""replicas agree: a calendar revision and a NOTIFY when an account's tokens change

Two things every process of every replica caches and must learn about at once (issue 15 §1,
docs/operations/replicas.md):

- ``calendar_revision``: one row whose ``revision`` a statement trigger on ``working_calendar`` and
  ``calendar_override`` (insert, update, delete, truncate) sets to the next value of
  ``calendar_revision_seq`` in the writer's transaction. The processes key their built calendars by it
  (services/calendar/store.py): a reader sees the new revision exactly when it sees the new rows, and
  a revision number is never reused — a sequence does not roll back, so a change rolled back (a
  test's transaction) cannot leave a calendar cached under a number a later change takes. It replaces
  the five aggregates the version was read with (max of ``updated_at``, ``changed_at``, ``revoked_at``
  and two counts: one primary-key read now), which could miss a change whose ``now()`` was older than
  the newest row's (two administrators' transactions committing out of order).
- ``staff_token_changed``: a row trigger on ``staff`` sends ``NOTIFY staff_token, <staff id>`` when the
  account's ``token_version`` or ``active`` changes (logout, deactivation, a role, agency or password
  change); delivered at commit, never on rollback. Each API process LISTENs and drops its cached view
  of that account (services/core/revocation.py), so the old token is refused on every replica at once
  rather than within ``MOTCUA_TOKEN_CHECK_SECONDS``.

Revision ID: a5c3e1f7b2d8
Revises: b7e4d2a9c31f
Create Date: 2026-12-06 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a5c3e1f7b2d8"
down_revision = "b7e4d2a9c31f"
branch_labels = None
depends_on = None

CALENDAR_TABLES = ("working_calendar", "calendar_override")

REVISED = """
CREATE FUNCTION calendar_revised() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE calendar_revision SET revision = nextval('calendar_revision_seq') WHERE id = 1;
    RETURN NULL;
END
$$
"""

TOKEN_CHANGED = """
CREATE FUNCTION staff_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('staff_token', NEW.id::text);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "calendar_revision",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_revision")),
    )
    op.execute("CREATE SEQUENCE calendar_revision_seq")
    op.execute("INSERT INTO calendar_revision (id, revision) VALUES (1, nextval('calendar_revision_seq'))")
    op.execute(REVISED)
    for table in CALENDAR_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_revised AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION calendar_revised()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION calendar_revised()"
        )
    op.execute(TOKEN_CHANGED)
    op.execute(
        "CREATE TRIGGER staff_token_changed AFTER UPDATE OF token_version, active ON staff FOR EACH ROW "
        "WHEN (OLD.token_version IS DISTINCT FROM NEW.token_version OR OLD.active IS DISTINCT FROM NEW.active) "
        "EXECUTE FUNCTION staff_token_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER staff_token_changed ON staff")
    op.execute("DROP FUNCTION staff_token_changed()")
    for table in CALENDAR_TABLES:
        op.execute(f"DROP TRIGGER {table}_truncated ON {table}")
        op.execute(f"DROP TRIGGER {table}_revised ON {table}")
    op.execute("DROP FUNCTION calendar_revised()")
    op.drop_table("calendar_revision")
    op.execute("DROP SEQUENCE calendar_revision_seq")
