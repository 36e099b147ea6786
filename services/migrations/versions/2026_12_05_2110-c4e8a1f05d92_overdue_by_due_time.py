"""overdue by due time: the overdue list's pages read off an index of running dossiers

``ix_dossier_running_due``: the running dossiers (received, processing: the clock not paused) by due
time and code, covering the columns the overdue list filters on (receiving agency, procedure version,
receipt time, status, late by rule). A running dossier's lateness is now − due time, so the list's
first ``offset + limit`` running entries are the first entries of this index that pass the scope;
only the paused dossiers are ranked in full (services/stats/overdue.py).
``ix_dossier_running_late_by_rule``: the running dossiers late by rule (a second supplement request),
few, for the overdue count of those whose due time is still ahead.

Revision ID: c4e8a1f05d92
Revises: 4c81e7a2d5f9
Create Date: 2026-12-05 21:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4e8a1f05d92"
down_revision = "4c81e7a2d5f9"
branch_labels = None
depends_on = None

RUNNING = "status IN ('received', 'processing')"


def upgrade() -> None:
    op.create_index(
        "ix_dossier_running_due",
        "dossier",
        ["due_at", "code"],
        unique=False,
        postgresql_include=[
            "id",
            "receiving_agency_id",
            "procedure_version_id",
            "received_at",
            "status",
            "late_by_rule",
        ],
        postgresql_where=sa.text(RUNNING),
    )
    op.create_index(
        "ix_dossier_running_late_by_rule",
        "dossier",
        ["receiving_agency_id"],
        unique=False,
        postgresql_include=["received_at", "procedure_version_id", "due_at"],
        postgresql_where=sa.text(f"{RUNNING} AND late_by_rule"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_dossier_running_late_by_rule", table_name="dossier", postgresql_where=sa.text(f"{RUNNING} AND late_by_rule")
    )
    op.drop_index("ix_dossier_running_due", table_name="dossier", postgresql_where=sa.text(RUNNING))
