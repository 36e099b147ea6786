"""statistics: the triggers' SQL functions use their generic plan from the first call on a connection

``stats_apply_dossier`` (the 80-counter upsert every dossier write goes through, migration b7d2e94c1f30) and
the other ``stats_apply_*`` functions are SQL functions, whose statements PostgreSQL 18 caches per connection
like prepared statements: the first five calls are planned with the call's values (custom plans), then the
generic plan is kept when it costs no more, as it does for these upserts of one row's facts. Measured on a
fresh connection (bench/profiles/2026-12-06-counter.md): ``stats_apply_dossier`` took 36, 19, 16, 16, 15, 17
ms for its first six calls, then ≈ 0.9 ms; ``plan_cache_mode = force_generic_plan`` on the function takes
its first call (the generic plan's planning, 28–40 ms) to ≈ 0.85 ms from the second on. Every new
connection of every process saved ≈ 70 ms of PostgreSQL's CPU, and the requests that used it as much wait.

A migration that recreates one of these functions must set it again (``tests/test_migrations.py`` checks
that every one of them has it at the head).

Revision ID: c4e6a8b0d2f3
Revises: b3d5f7a9c1e2
Create Date: 2026-12-06 19:15:00
"""

from __future__ import annotations

from alembic import op

revision = "c4e6a8b0d2f3"
down_revision = "b3d5f7a9c1e2"
branch_labels = None
depends_on = None

# the statistics triggers' SQL functions, by signature (services/stats, migrations e60e42a7ddac onwards)
FUNCTIONS = (
    "stats_apply_dossier(dossier, boolean, boolean, dossier, boolean, boolean)",
    "stats_apply_step(dossier, sla_timer, dossier, sla_timer)",
    "stats_apply_open(dossier, timestamptz, dossier, timestamptz)",
    "stats_apply_open_step(dossier, sla_timer, dossier, sla_timer)",
)


def upgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET plan_cache_mode = force_generic_plan")


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} RESET plan_cache_mode")
