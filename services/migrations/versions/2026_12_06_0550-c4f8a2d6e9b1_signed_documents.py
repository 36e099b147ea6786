"""signed documents: the register of signed receipts and results, and the demo signing keys (issue 16 §2)

Revision ID: c4f8a2d6e9b1
Revises: c7a1d3e5f9b2
Create Date: 2026-12-06 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4f8a2d6e9b1"
down_revision = "c7a1d3e5f9b2"  # after the citizen accounts (issue 16 §4), merged first
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_document",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signer", sa.String(length=500), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("original_path", sa.String(length=500), nullable=True),
        sa.Column("original_sha256", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_signed_document_agency_id_agency")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_signed_document_document_id_document"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_signed_document_dossier_id_dossier"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_document")),
    )
    op.create_index(op.f("ix_signed_document_document_id"), "signed_document", ["document_id"])
    op.create_index(op.f("ix_signed_document_dossier_id"), "signed_document", ["dossier_id"])
    op.create_index(op.f("ix_signed_document_sha256"), "signed_document", ["sha256"])
    op.create_table(
        "signing_key",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_key")),
        sa.UniqueConstraint("name", name=op.f("uq_signing_key_name")),
    )


def downgrade() -> None:
    op.drop_table("signing_key")
    op.drop_index(op.f("ix_signed_document_sha256"), table_name="signed_document")
    op.drop_index(op.f("ix_signed_document_dossier_id"), table_name="signed_document")
    op.drop_index(op.f("ix_signed_document_document_id"), table_name="signed_document")
    op.drop_table("signed_document")
