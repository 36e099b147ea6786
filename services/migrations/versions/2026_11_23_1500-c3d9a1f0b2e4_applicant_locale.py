"""dossier.applicant_locale: the language of the applicant's emails and SMS (vi by default)

Revision ID: c3d9a1f0b2e4
Revises: 7b1e4c2a9d10
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3d9a1f0b2e4"
down_revision = "7b1e4c2a9d10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dossier", sa.Column("applicant_locale", sa.String(8), server_default="vi", nullable=False))


def downgrade() -> None:
    op.drop_column("dossier", "applicant_locale")
