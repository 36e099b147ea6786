"""A year of finished demo dossiers, so the leader's dashboard has something to show in ``make run``.

``python -m services.demo.history`` (run by ``make run`` after the seed; demo mode only) loads about
1,200 dossiers received over the past twelve months at the demo desks, for the demo procedures,
through the bulk loader (``services.stats.bulk``): the same codes, step clocks and statistics
as live ones, no personal data, unusable tracking secrets. The mix is what a well-run province
reports (Bộ chỉ số 766): most resolved early or on time, a few per cent late, some withdrawn or
refused, about two thirds submitted online, most returns rated. It is generated from a fixed seed,
so every demo looks the same, and on the Vietnamese working calendar of each receiving desk.

Loaded once: a second run finds the history there and loads nothing. Only finished dossiers are
loaded — the inboxes stay for the dossiers the demo user creates.
"""

from __future__ import annotations

import asyncio
import random
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.store import calendar_for
from services.calendar.working import WorkingCalendar
from services.core.config import Settings, get_settings
from services.core.db import create_engine, create_sessionmaker
from services.models import Dossier, ProcedureAgency, ProcedureVersion, Staff, StaffRole
from services.stats.bulk import HISTORICAL, asyncpg_dsn, load
from services.stats.bulk_input import BulkDossier, BulkStep

SEED = 2026
DEFAULT_COUNT = 1200


@dataclass(frozen=True)
class _Procedure:
    version_id: uuid.UUID
    limit_value: int
    limit_unit: str
    desks: tuple[uuid.UUID, ...]
    resolver: uuid.UUID


def _pick_outcome(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return "withdrawn"
    if roll < 0.05:
        return "refused"
    if roll < 0.60:
        return "early"
    if roll < 0.955:
        return "on_time"
    return "late"


def _rating(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.25:
        return None  # not every citizen rates
    return "satisfied" if roll < 0.89 else "acceptable" if roll < 0.97 else "dissatisfied"


class _Plan:
    def __init__(
        self,
        procedures: Sequence[_Procedure],
        calendars: dict[uuid.UUID, WorkingCalendar],
        holders: dict[tuple[uuid.UUID, str], list[uuid.UUID]],
        now: datetime,
    ) -> None:
        self.procedures = procedures
        self.calendars = calendars
        self.holders = holders
        self.now = now

    def _limit_seconds(self, procedure: _Procedure) -> float:
        hours = procedure.limit_value if procedure.limit_unit == "working_hours" else procedure.limit_value * 8
        return max(hours, 1) * 3600.0

    def _assignee(self, rng: random.Random, unit: uuid.UUID, role: str) -> uuid.UUID | None:
        candidates = self.holders.get((unit, role))
        return rng.choice(candidates) if candidates else None

    def dossier(self, rng: random.Random) -> BulkDossier | None:
        procedure = rng.choice(self.procedures)
        desk = rng.choice(procedure.desks)
        calendar = self.calendars[desk]
        received = calendar.next_working_instant(self.now - timedelta(days=rng.uniform(2, 365)))
        limit = self._limit_seconds(procedure)
        due = calendar.add_working_seconds(received, limit)
        outcome = _pick_outcome(rng)
        channel = 2 if rng.random() < 0.66 else (1 if rng.random() < 0.9 else 3)
        if outcome in ("withdrawn", "refused"):
            closed = calendar.add_working_seconds(received, limit * rng.uniform(0.05, 0.3))
            if closed > self.now:
                return None
            return BulkDossier(
                agency_id=desk, procedure_version_id=procedure.version_id, received_at=received, channel=channel,
                status=outcome, due_at=due, closed_at=closed,
            )  # fmt: skip
        spent = {"early": rng.uniform(0.35, 0.9), "on_time": rng.uniform(0.9, 1.0), "late": rng.uniform(1.05, 1.6)}
        resolved = calendar.add_working_seconds(received, limit * spent[outcome])
        returned = calendar.add_working_seconds(resolved, rng.uniform(0.5, 8) * 3600)
        if returned > self.now:
            return None
        # two steps at the resolving unit: appraisal (three quarters of the time), approval
        split = calendar.add_working_seconds(received, limit * 0.75)
        appraised = min(resolved, calendar.add_working_seconds(received, limit * spent[outcome] * 0.75))
        steps = (
            BulkStep(
                unit_id=procedure.resolver, started_at=received, due_at=split, ended_at=appraised,
                outcome=_step_outcome(appraised, split, received), position=1,
                assignee_id=self._assignee(rng, procedure.resolver, "specialist"), budget_seconds=int(limit * 0.75),
            ),
            BulkStep(
                unit_id=procedure.resolver, started_at=appraised, due_at=due, ended_at=resolved,
                outcome=_step_outcome(resolved, due, appraised), position=2,
                assignee_id=self._assignee(rng, procedure.resolver, "head"), budget_seconds=int(limit * 0.25),
            ),
        )  # fmt: skip
        return BulkDossier(
            agency_id=desk, procedure_version_id=procedure.version_id, received_at=received, channel=channel,
            status="returned", due_at=due, resolved_at=resolved, returned_at=returned, closed_at=returned,
            outcome=outcome, late_by_rule=outcome == "late", digitised=channel == 2 or rng.random() < 0.5,
            paid_online=channel == 2 and rng.random() < 0.6, rating=_rating(rng), steps=steps,
            # what the dossier clock would have measured: working time from receipt to result, no pause
            working_seconds=int(calendar.working_seconds_between(received, resolved)), limit_seconds=int(limit),
        )  # fmt: skip


def _step_outcome(ended: datetime, due: datetime, started: datetime) -> str:
    if ended > due:
        return "late"
    return "early" if (due - ended) > (due - started) * 0.1 else "on_time"


async def _plan(session: AsyncSession, now: datetime) -> _Plan:
    rows = (
        await session.execute(
            select(ProcedureVersion.id, ProcedureVersion.time_limit_value, ProcedureVersion.time_limit_unit)
            .where(ProcedureVersion.published.is_(True), ProcedureVersion.valid_to.is_(None))
        )
    ).all()  # fmt: skip
    roles = (
        await session.execute(select(ProcedureAgency.version_id, ProcedureAgency.agency_id, ProcedureAgency.role))
    ).all()
    procedures: list[_Procedure] = []
    for version_id, value, unit in rows:
        desks = tuple(sorted(agency for vid, agency, role in roles if vid == version_id and role == "receiving"))
        resolvers = sorted(agency for vid, agency, role in roles if vid == version_id and role == "resolving")
        if desks and resolvers:
            procedures.append(_Procedure(version_id, value, unit, desks, resolvers[0]))
    procedures.sort(key=lambda p: p.version_id)
    calendars = {desk: await calendar_for(session, desk) for desk in sorted({d for p in procedures for d in p.desks})}
    holders: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for staff_id, agency_id, role in (
        await session.execute(
            select(Staff.id, Staff.agency_id, StaffRole.role_code)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .where(Staff.active.is_(True))
            .order_by(Staff.username)
        )
    ).all():
        holders.setdefault((agency_id, role), []).append(staff_id)
    return _Plan(procedures, calendars, holders, now)


async def history(session: AsyncSession, now: datetime, count: int = DEFAULT_COUNT) -> list[BulkDossier]:
    """The demo history as of ``now``: deterministic for a given database and instant's day."""
    plan = await _plan(session, now)
    if not plan.procedures:
        return []
    rng = random.Random(SEED)
    made: list[BulkDossier] = []
    while len(made) < count:
        dossier = plan.dossier(rng)
        if dossier is not None:
            made.append(dossier)
    return made


async def has_history(session: AsyncSession) -> bool:
    return bool(
        await session.scalar(select(func.count()).select_from(Dossier).where(Dossier.applicant_name == HISTORICAL))
    )


async def load_history(settings: Settings, count: int = DEFAULT_COUNT) -> int:
    """Load the demo history unless it is there; how many dossiers were loaded."""
    engine = create_engine(settings, application_name="motcua-demo-history", pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            if await has_history(session):
                return 0
            dossiers = await history(session, settings.clock().now(), count)
    finally:
        await engine.dispose()
    report = await load(asyncpg_dsn(settings.db.resolved_url()), dossiers, batch_size=2000, connections=1)
    return report.dossiers


def main() -> int:
    settings = get_settings()
    if not settings.demo:
        print("Refusing to load demo history: set MOTCUA_DEMO=1 (never in production).", file=sys.stderr)
        return 2
    loaded = asyncio.run(load_history(settings))
    print(f"demo history: {loaded} dossiers loaded" if loaded else "demo history: already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
