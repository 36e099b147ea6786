"""The national catalogue: procedure.search_text becomes "<code> <name> | <field>" folded, so search
can rank a name match above a field-only match (services.core.text.procedure_search_text)

Revision ID: 8d2f6a3c1e57
Revises: 9e4b7c2d1a53
Create Date: 2026-12-05 14:10:00
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from services.core.text import fold, procedure_search_text

revision = "8d2f6a3c1e57"
down_revision = "9e4b7c2d1a53"
branch_labels = None
depends_on = None

_PROCEDURE = sa.table(
    "procedure",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("name", sa.Text()),
    sa.column("field", sa.String()),
    sa.column("search_text", sa.Text()),
)


def _rewrite(text_of: Callable[[str, str, str], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_PROCEDURE.c.id, _PROCEDURE.c.code, _PROCEDURE.c.name, _PROCEDURE.c.field)).all()
    if rows:
        bind.execute(
            _PROCEDURE.update().where(_PROCEDURE.c.id == sa.bindparam("pid")).values(search_text=sa.bindparam("text")),
            [{"pid": row.id, "text": text_of(row.code, row.name, row.field)} for row in rows],
        )


def upgrade() -> None:
    _rewrite(procedure_search_text)


def downgrade() -> None:
    _rewrite(lambda code, name, field: fold(f"{code} {name} {field}"))
