"""staff.token_version (older tokens stop working on logout, deactivation, role, agency or password
change) and staff.demo (demo accounts cannot sign in outside demo mode)

Revision ID: 5a1c0e7d9b21
Revises: c3d9a1f0b2e4
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1c0e7d9b21"
down_revision = "c3d9a1f0b2e4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("staff", sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("staff", "demo")
    op.drop_column("staff", "token_version")
