"""notification templates: built-in versions are marked, so a release's new built-in texts reach deployments

``ensure_default_templates`` seeded the built-in texts as version 1 where missing and never again, so a
deployment seeded before a release kept that release's old texts: after issue 16 an online-result
citizen was still told to come to the desk (``dossier.resolved``) until an administrator published a
version. A version is now marked ``builtin`` when the system wrote it; at start, where the newest
version of a template is built in and differs from the release's text, the new text is published as
the next version. An administrator's version (``builtin = false``) is never replaced.

Every version 1 here was written by the seed (notify_api seeds at its start, before any administrator can
publish); version 1 of a template the release has no text for is marked too, which changes nothing: only
templates with a built-in text are refreshed.

Revision ID: e5b7d9f1a3c6
Revises: d3a5c7e9f1b4
Create Date: 2026-12-06 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5b7d9f1a3c6"
down_revision = "d3a5c7e9f1b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "notification_template",
        sa.Column("builtin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute("UPDATE notification_template SET builtin = true WHERE version = 1")


def downgrade() -> None:
    op.drop_column("notification_template", "builtin")
