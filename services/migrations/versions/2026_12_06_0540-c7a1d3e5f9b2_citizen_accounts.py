"""citizen accounts: who signed in through the identity provider, and their dossiers by CCCD

``citizen_account`` holds one row per identity at the provider (issuer + sub), its CCCD and name from the
ID token, the other claims for prefill, and the version its session cookies carry (signing out raises it).
``ix_dossier_applicant_id_number_submitted_at`` serves "Hồ sơ của tôi": a citizen's dossiers newest first,
an index range instead of a scan of every dossier. It is built CONCURRENTLY, outside the migration's
transaction: on a province's millions of dossiers a plain CREATE INDEX would hold back every filing and
transition for as long as the build takes.

Revision ID: c7a1d3e5f9b2
Revises: e2b6c4d8f1a3
Create Date: 2026-12-06 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c7a1d3e5f9b2"
down_revision = "e2b6c4d8f1a3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "citizen_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("id_number", sa.String(length=20), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("profile", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_account")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_citizen_account_issuer_subject")),
    )
    op.create_index(op.f("ix_citizen_account_id_number"), "citizen_account", ["id_number"])
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_dossier_applicant_id_number_submitted_at",
            "dossier",
            ["applicant_id_number", "submitted_at"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_dossier_applicant_id_number_submitted_at",
            table_name="dossier",
            postgresql_concurrently=True,
            if_exists=True,
        )
    op.drop_index(op.f("ix_citizen_account_id_number"), table_name="citizen_account")
    op.drop_table("citizen_account")
