"""intake search and rate limits

Revision ID: 9f5fe60ff14c
Revises: ea974ad0fe10
Create Date: 2026-11-23 11:52:51.039902
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.core.text import fold


revision: str = '9f5fe60ff14c'
down_revision: str | None = 'ea974ad0fe10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_hit',
    sa.Column('bucket', sa.String(length=200), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'window_start', name=op.f('pk_rate_limit_hit'))
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column('procedure', sa.Column('search_text', sa.Text(), nullable=False, server_default=""))
    op.alter_column('procedure', 'search_text', server_default=None)
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, code, name, field FROM procedure")).all()
    for row in rows:
        connection.execute(
            sa.text("UPDATE procedure SET search_text = :text WHERE id = :id"),
            {"id": row.id, "text": fold(f"{row.code} {row.name} {row.field}")},
        )
    op.create_index('ix_procedure_search_text', 'procedure', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_procedure_search_text', table_name='procedure', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_column('procedure', 'search_text')
    op.drop_table('rate_limit_hit')
    # pg_trgm stays: other objects of the database may use it
