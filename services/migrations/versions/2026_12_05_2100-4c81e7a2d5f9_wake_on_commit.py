"""wake on commit: a NOTIFY for every row a queue's worker should take

The three queues (``outbox_event``, ``notification``, ``webhook_delivery``; services/core/queue.py)
get a statement-level ``AFTER INSERT`` trigger that calls ``pg_notify(<table>, <key>)`` once per
distinct key among the inserted rows that wait (``outbox_event``: the ``source``, so the relay of
intake is not woken by workflow's events; ``notification``: the ``channel``, one sender loop per
channel; ``webhook_delivery``: no key). A NOTIFY is delivered at commit only, and not at all on
rollback, so a worker woken by it always finds the row committed.

*A trigger rather than a ``NOTIFY`` in ``emit``*: every writer is covered (``emit``, the notification
rows stored by notify_api's receiver, the webhook deliveries, anything written in SQL) at no extra
round trip from the application; once per statement and per key, with identical notifications of a
transaction folded into one by PostgreSQL, so a transaction writing many events sends one NOTIFY.
Rows that fall due later (a retry's backoff, an expired lease, a requeue by staff) are updates, not
inserts: the pollers' fallback interval finds those.

Revision ID: 4c81e7a2d5f9
Revises: b7d2e94c1f30
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "4c81e7a2d5f9"
down_revision = "b7d2e94c1f30"
branch_labels = None
depends_on = None

# table, its waiting status, the column whose values the listeners filter on (None: no key)
QUEUES = (
    ("outbox_event", "pending", "source"),
    ("notification", "queued", "channel"),
    ("webhook_delivery", "pending", None),
)

WAKE = """
CREATE FUNCTION queue_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0]: the waiting status; TG_ARGV[1] (optional): the column sent as the payload
    EXECUTE format(
        'SELECT pg_notify(%L, k) FROM (SELECT DISTINCT %s AS k FROM new_rows WHERE status = %L) AS d',
        TG_TABLE_NAME,
        CASE WHEN TG_NARGS > 1 THEN format('%I::text', TG_ARGV[1]) ELSE quote_literal('') END,
        TG_ARGV[0]
    );
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(WAKE)
    for table, waiting, key in QUEUES:
        arguments = f"'{waiting}'" + (f", '{key}'" if key else "")
        op.execute(
            f"CREATE TRIGGER {table}_wake AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION queue_wake({arguments})"
        )


def downgrade() -> None:
    for table, _waiting, _key in QUEUES:
        op.execute(f"DROP TRIGGER {table}_wake ON {table}")
    op.execute("DROP FUNCTION queue_wake()")
