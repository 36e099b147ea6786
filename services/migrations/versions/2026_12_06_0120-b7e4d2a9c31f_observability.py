"""observability: the trace context carried with an event and a notification; the failed rows indexed

- ``outbox_event.trace_context`` and ``notification.trace_context``: the W3C ``traceparent`` of the span
  that wrote the row (NULL when tracing is off), restored by the relay when it posts the event and by the
  sender when it sends the message, so a submission is one trace from the POST to the email. A column,
  not a key in the payload: receivers read the payload as the domain's, and a trace is not part of it.
- ``ix_notification_failed`` and ``ix_webhook_delivery_failed``: partial indexes of the failed rows (few,
  kept until re-sent or replayed) for the metrics' counts, which otherwise read every notification sent.

Revision ID: b7e4d2a9c31f
Revises: 7f3b2c9d4e61
Create Date: 2026-12-06 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7e4d2a9c31f"
down_revision = "7f3b2c9d4e61"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("outbox_event", sa.Column("trace_context", sa.String(length=64), nullable=True))
    op.add_column("notification", sa.Column("trace_context", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_notification_failed", "notification", ["channel"], unique=False, postgresql_where="status = 'failed'"
    )
    op.create_index(
        "ix_webhook_delivery_failed", "webhook_delivery", ["created_at"], unique=False,
        postgresql_where="status = 'failed'",
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_failed", table_name="webhook_delivery")
    op.drop_index("ix_notification_failed", table_name="notification")
    op.drop_column("notification", "trace_context")
    op.drop_column("outbox_event", "trace_context")
