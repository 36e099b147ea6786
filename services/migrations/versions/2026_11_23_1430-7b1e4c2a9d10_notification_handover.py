"""notification.handed_over_at: an email whose sender stopped after handing it to the SMTP server

Revision ID: 7b1e4c2a9d10
Revises: 636410f2d7f5
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7b1e4c2a9d10"
down_revision = "636410f2d7f5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notification", sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("notification", "handed_over_at")
