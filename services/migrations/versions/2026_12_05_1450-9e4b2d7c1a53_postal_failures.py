"""postal failures: the shipment's failed attempts, re-delivery and the operator's booking reply;
each agency's street address and hours for the postman

Revision ID: 9e4b2d7c1a53
Revises: 8d2f6a3c1e57
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9e4b2d7c1a53"
down_revision = "8d2f6a3c1e57"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("postal_shipment", sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("postal_shipment", sa.Column("failure_code", sa.String(length=32), nullable=True))
    op.add_column("postal_shipment", sa.Column("redelivery_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("postal_shipment", sa.Column("operator_reference", sa.String(length=64), nullable=True))
    op.add_column("postal_shipment", sa.Column("fee_vnd", sa.BigInteger(), nullable=True))
    op.add_column("postal_shipment", sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("agency", sa.Column("street_address", sa.String(length=300), nullable=True))
    op.add_column("agency", sa.Column("postal_hours", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("agency", "postal_hours")
    op.drop_column("agency", "street_address")
    op.drop_column("postal_shipment", "booked_at")
    op.drop_column("postal_shipment", "fee_vnd")
    op.drop_column("postal_shipment", "operator_reference")
    op.drop_column("postal_shipment", "redelivery_at")
    op.drop_column("postal_shipment", "failure_code")
    op.drop_column("postal_shipment", "failed_attempts")
