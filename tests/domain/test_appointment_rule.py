"""The tracking page's "appointment passed" flag: one rule (services.domain.rules), the same in SQL."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.domain import vocabulary as v
from services.domain.rules import appointment_passed, appointment_passed_clause

NOW = datetime.fromisoformat("2026-03-10T09:00:00+07:00")
HOUR = timedelta(hours=1)


def test_the_apology_date_counts_and_a_paused_or_closed_dossier_is_not_late_for_the_citizen() -> None:
    late = NOW - HOUR
    assert appointment_passed(status="processing", appointment_at=None, due_at=late, paused_since=None, now=NOW)
    # an apology moved the appointment past now: the citizen's date has not passed, whatever the legal one
    assert not appointment_passed(
        status="processing", appointment_at=NOW + HOUR, due_at=late, paused_since=None, now=NOW
    )
    assert not appointment_passed(
        status="awaiting_supplement", appointment_at=None, due_at=late, paused_since=late, now=NOW
    )
    assert not appointment_passed(status="returned", appointment_at=None, due_at=late, paused_since=None, now=NOW)
    assert not appointment_passed(status="submitted", appointment_at=None, due_at=None, paused_since=None, now=NOW)


async def test_sql_says_what_python_says(session: AsyncSession) -> None:
    moments = (None, NOW - HOUR, NOW + HOUR)

    def value(moment: datetime | None) -> Any:
        return literal(moment, DateTime(timezone=True))

    for status, appointment, due, paused in itertools.product(v.DossierStatus, moments, moments, moments[:2]):
        clause = appointment_passed_clause(
            status=literal(str(status), String()), appointment_at=value(appointment), due_at=value(due),
            paused_since=value(paused), now=value(NOW),
        )  # fmt: skip
        python = appointment_passed(status=status, appointment_at=appointment, due_at=due, paused_since=paused, now=NOW)
        assert bool(await session.scalar(select(clause))) is python, (status, appointment, due, paused)
