"""notification indexes without NULLs: a citizen's email or SMS writes no index entry it has no value for

Every claim and every outcome of a notification writes a new row version that is not a HOT update (the
queue's own columns, ``status`` and ``next_attempt_at``, are indexed), so each index of the table takes a
new entry, NULLs included. A citizen's email or SMS has no staff, no agency and, until the provider
answers, no provider reference: three (four without a dossier) of the table's seven indexes took an entry
for a NULL at each of the two writes. The four are now partial, ``… IS NOT NULL``: the look-ups (a staff
member's or an agency's inbox, a dossier's notifications, a delivery report by reference) ask for a value,
which implies the predicate. The reference stays unique among the rows that have one, as NULLs were never
compared.

Built CONCURRENTLY before the old ones go: notifications keep being queued and sent meanwhile.

Revision ID: a2c4e6f8b0d1
Revises: f1c3e5a7b9d2
Create Date: 2026-12-06 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a2c4e6f8b0d1"
down_revision = "f1c3e5a7b9d2"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_notification_dossier": ("dossier_id", "ix_notification_dossier_id"),
    "ix_notification_staff": ("recipient_staff_id", "ix_notification_recipient_staff_id"),
    "ix_notification_agency": ("recipient_agency_id", "ix_notification_recipient_agency_id"),
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, (column, _) in PARTIAL.items():
            op.create_index(
                name,
                "notification",
                [column],
                postgresql_where=sa.text(f"{column} IS NOT NULL"),
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        op.create_index(
            "uq_notification_provider_message",
            "notification",
            ["provider_message_id"],
            unique=True,
            postgresql_where=sa.text("provider_message_id IS NOT NULL"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        for _, old in PARTIAL.values():
            op.drop_index(old, table_name="notification", postgresql_concurrently=True, if_exists=True)
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("uq_notification_provider_message_id", "notification", type_="unique")


def downgrade() -> None:
    op.create_unique_constraint("uq_notification_provider_message_id", "notification", ["provider_message_id"])
    with op.get_context().autocommit_block():
        for name, (column, old) in PARTIAL.items():
            op.create_index(old, "notification", [column], postgresql_concurrently=True, if_not_exists=True)
            op.drop_index(name, table_name="notification", postgresql_concurrently=True, if_exists=True)
        op.drop_index(
            "uq_notification_provider_message",
            table_name="notification",
            postgresql_concurrently=True,
            if_exists=True,
        )
