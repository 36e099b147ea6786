"""The one vocabulary (services.domain) is complete, and its SQL says what its Python says."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.demo.directory import DEMO_ROLES
from services.domain import vocabulary as v
from services.domain.rules import (
    in_force,
    in_force_clause,
    is_overdue,
    overdue_clause,
    overdue_sql,
    step_due_soon,
    step_due_soon_clause,
    task_past_due,
    task_past_due_clause,
)
from services.models import Dossier, ProcedureVersion, SlaTimer
from tests.factories import create_agency, create_dossier, create_procedure_version

SPA_VOCABULARY = Path(__file__).parents[2] / "frontend" / "src" / "api" / "vocabulary.ts"
NOW = datetime.fromisoformat("2026-03-10T09:00:00+07:00")


def test_every_state_has_its_national_code_and_both_labels() -> None:
    codes = [status.code for status in v.DossierStatus]
    assert codes == list(range(1, len(codes) + 1))  # DVCQG TrangThaiHoSo, declared in order
    for status in v.DossierStatus:
        assert status.label_vi
        assert status.label_en
        assert status.label_vi != status.label_en
        assert v.STATUS_CODES[status] == status.code
        assert v.STATUS_LABELS_VI[status] == status.label_vi == status.label("vi")
        assert v.STATUS_LABELS_EN[status] == status.label_en == status.label("en")
    assert len(set(v.STATUS_LABELS_VI.values())) == len(v.DossierStatus)


def test_the_phases_partition_the_states_and_the_sets_are_made_of_them() -> None:
    phases = [v.BEFORE_RECEIPT, v.RUNNING, v.PAUSED, frozenset({v.DossierStatus.RESOLVED}), v.FINAL]
    assert sum(len(phase) for phase in phases) == len(v.DossierStatus)
    assert frozenset().union(*phases) == frozenset(v.DossierStatus)
    assert v.OPEN == v.RUNNING | v.PAUSED
    assert not v.OPEN & v.FINAL
    assert frozenset(v.DossierStatus) - v.FINAL - {v.DossierStatus.RESOLVED} == v.NOT_CLOSED
    assert v.AWAITING_RECEIPT <= v.NOT_CLOSED
    assert v.open_states_sql() == "status IN ('received', 'processing', 'awaiting_supplement', 'awaiting_payment')"


def test_the_role_sets_use_only_known_roles_and_the_demo_seeds_every_staff_role() -> None:
    sets = [
        v.STAFF_ROLES,
        v.ACTING_ROLES,
        v.COUNTER_ROLES,
        v.LEADER_ROLES,
        v.MANAGER_ROLES,
        v.SEE_ALL_ROLES,
        v.STATS_ROLES,
        v.PAYMENT_ROLES,
        v.COMPLAINT_ROLES,
        v.RESEND_ROLES,
    ]
    for roles in sets:
        assert roles <= v.STAFF_ROLES
    assert {role.code for role in DEMO_ROLES} == v.STAFF_ROLES
    assert v.RoleCode.INSPECTOR not in v.ACTING_ROLES


def test_the_spa_places_every_state_in_the_same_phase() -> None:
    source = SPA_VOCABULARY.read_text(encoding="utf-8")
    table = source[source.index("export const PHASE") :]
    table = table[: table.index("};")]
    spa = dict(re.findall(r"^\s+(\w+): \"(\w+)\",$", table, re.M))
    assert spa == {status.value: status.phase.value for status in v.DossierStatus}


async def test_sql_overdue_agrees_with_the_python_predicate(session: AsyncSession) -> None:
    agency = await create_agency(session)
    version = await create_procedure_version(session)
    hour = timedelta(hours=1)
    cases = itertools.product(
        v.DossierStatus,
        (False, True),  # late by rule
        (None, NOW - 5 * hour, NOW + 5 * hour),  # due
        (None, NOW - 10 * hour, NOW - hour),  # paused since (before the due time passed, after)
    )
    expected: dict[str, bool] = {}
    for status, late, due, paused_since in cases:
        dossier = await create_dossier(session, agency=agency, version=version, status=status)
        dossier.late_by_rule, dossier.due_at = late, due
        if paused_since is not None:
            session.add(
                SlaTimer(
                    dossier_id=dossier.id,
                    kind="dossier",
                    budget_seconds=3600,
                    started_at=NOW - 100 * hour,
                    due_at=due or NOW,
                    due_soon_at=due or NOW,
                    paused_at=paused_since,
                )
            )
        expected[dossier.code] = is_overdue(status, late_by_rule=late, due_at=due, paused_since=paused_since, now=NOW)
    await session.flush()
    assert any(expected.values())
    assert not all(expected.values())

    paused_since = (
        select(SlaTimer.paused_at)
        .where(SlaTimer.dossier_id == Dossier.id, SlaTimer.kind == "dossier", SlaTimer.ended_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    clause = overdue_clause(
        status=Dossier.status,
        late_by_rule=Dossier.late_by_rule,
        due_at=Dossier.due_at,
        paused_since=paused_since,
        now=NOW,
    )
    rows = await session.execute(select(Dossier.code, clause).where(Dossier.code.in_(expected)))
    assert {code: answer for code, answer in rows.all()} == expected

    # the same rule rendered as text, as the hand-written indicator queries use it
    written = overdue_sql(
        alias="d",
        paused_since="(SELECT t.paused_at FROM sla_timer AS t WHERE t.dossier_id = d.id AND t.kind = 'dossier'"
        " AND t.ended_at IS NULL LIMIT 1)",
        now=":now",
    )
    rows = await session.execute(
        text(f"SELECT d.code, {written} FROM dossier AS d WHERE d.code = ANY(:codes)"),
        {"now": NOW, "codes": list(expected)},
    )
    assert {code: answer for code, answer in rows.all()} == expected


async def test_sql_in_force_agrees_with_the_python_predicate(session: AsyncSession) -> None:
    version = await create_procedure_version(session)
    days = [date(2025, 6, 30), date(2025, 7, 1), date(2025, 12, 31), date(2026, 1, 1), date(2026, 6, 1)]
    for published, valid_to in itertools.product((True, False), (None, date(2026, 1, 1))):
        version.published, version.valid_to = published, valid_to
        await session.flush()
        for day in days:
            clause = in_force_clause(
                published=ProcedureVersion.published,
                valid_from=ProcedureVersion.valid_from,
                valid_to=ProcedureVersion.valid_to,
                day=literal(day),
            )
            answer = await session.scalar(select(clause).where(ProcedureVersion.id == version.id))
            python = in_force(published=published, valid_from=version.valid_from, valid_to=valid_to, day=day)
            assert answer is python, (published, valid_to, day)


async def test_the_task_flags_say_the_same_in_sql_and_in_python(session: AsyncSession) -> None:
    hour = timedelta(hours=1)
    moments = (None, NOW - hour, NOW, NOW + hour)

    def value(moment: datetime | None) -> Any:
        return literal(moment, DateTime(timezone=True))

    for first, second in itertools.product(moments, moments):
        past_due = task_past_due_clause(step_due_at=value(first), due_at=value(second), now=value(NOW))
        soon = step_due_soon_clause(due_soon_at=value(first), due_at=value(second), now=value(NOW))
        sql_past_due, sql_soon = (await session.execute(select(past_due, soon))).one()
        assert bool(sql_past_due) is task_past_due(step_due_at=first, due_at=second, now=NOW), (first, second)
        assert bool(sql_soon) is step_due_soon(due_soon_at=first, due_at=second, now=NOW), (first, second)
