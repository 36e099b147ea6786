"""workflow_template.on_the_spot ("4 tại chỗ": received, decided and returned at the desk in one
visit) and the delegation role ``on_the_spot`` a counter officer needs to resolve such a procedure

Revision ID: 8d2f6b1e4a70
Revises: 9e4b2d7c1a53
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8d2f6b1e4a70"
down_revision = "9e4b2d7c1a53"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "workflow_template", sa.Column("on_the_spot", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # the delegation is a role (it travels in the token and its change ends the holder's tokens);
    # part of the vocabulary like the template rules that name it, so every database has it
    op.execute(
        "INSERT INTO role (code, name_vi, name_en, created_at, updated_at) VALUES ('on_the_spot', "
        "'Ủy quyền ký giải quyết tại chỗ (4 tại chỗ)', 'Delegated to sign and resolve on the spot', "
        "now(), now()) ON CONFLICT (code) DO NOTHING"
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM role WHERE code = 'on_the_spot' AND NOT EXISTS "
        "(SELECT 1 FROM staff_role WHERE role_code = 'on_the_spot') AND NOT EXISTS "
        "(SELECT 1 FROM workflow_step WHERE role_code = 'on_the_spot')"
    )
    op.drop_column("workflow_template", "on_the_spot")
