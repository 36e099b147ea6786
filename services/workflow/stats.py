"""Statistics by the national indicator rules (Quyết định 766/QĐ-TTg).

This first version counts from the dossier and clock tables in one pass per request; the
workflow issue replaces it with maintained aggregates.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement, FunctionFilter, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Agency, Dossier, SlaTimer

OPEN_STATES = ("received", "processing", "awaiting_supplement", "awaiting_payment")


class UnitStats(BaseModel):
    agency_id: uuid.UUID
    agency_code: str
    agency_name: str
    steps_early: int
    steps_on_time: int
    steps_late: int
    steps_open_overdue: int


class Stats(BaseModel):
    received: int
    resolved_early: int
    resolved_on_time: int
    resolved_late: int
    pending_on_time: int
    pending_overdue: int
    refused: int
    withdrawn: int
    stopped: int
    on_time_rate: float | None
    online_rate: float | None
    satisfaction_rate: float | None
    by_unit: list[UnitStats]


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


async def compute_stats(
    session: AsyncSession, *, start: datetime, end: datetime, now: datetime, agency_id: uuid.UUID | None
) -> Stats:
    in_period = and_(Dossier.received_at >= start, Dossier.received_at < end)
    scope = [in_period] if agency_id is None else [in_period, Dossier.receiving_agency_id == agency_id]
    resolved = Dossier.resolved_at.is_not(None)
    is_open = Dossier.status.in_(OPEN_STATES)
    late_now = Dossier.late_by_rule | (Dossier.due_at < now)

    def count(condition: ColumnElement[bool]) -> FunctionFilter[int]:
        return func.count().filter(condition)

    row = (
        await session.execute(
            select(
                func.count(),
                count(and_(resolved, Dossier.outcome == "early")),
                count(and_(resolved, Dossier.outcome == "on_time")),
                count(and_(resolved, Dossier.outcome == "late")),
                count(and_(is_open, ~late_now)),
                count(and_(is_open, late_now)),
                count(Dossier.status == "refused"),
                count(Dossier.status == "withdrawn"),
                count(Dossier.status == "stopped"),
                count(Dossier.channel == 2),
            ).where(*scope)
        )
    ).one()
    received, early, on_time, late, pending_ok, pending_late, refused, withdrawn, stopped, online = (
        int(v) for v in row
    )
    considered = early + on_time + late + pending_ok + pending_late

    step_rows = await session.execute(
        select(
            Agency.id,
            Agency.code,
            Agency.name,
            func.count().filter(SlaTimer.outcome == "early"),
            func.count().filter(SlaTimer.outcome == "on_time"),
            func.count().filter(SlaTimer.outcome == "late"),
            func.count().filter(and_(SlaTimer.ended_at.is_(None), SlaTimer.due_at < now)),
        )
        .join(SlaTimer, SlaTimer.agency_id == Agency.id)
        .join(Dossier, Dossier.id == SlaTimer.dossier_id)
        .where(SlaTimer.kind == "step", *scope)
        .group_by(Agency.id, Agency.code, Agency.name)
        .order_by(case((func.count().filter(SlaTimer.outcome == "late") > 0, 0), else_=1), Agency.code)
    )
    by_unit = [
        UnitStats(
            agency_id=r[0],
            agency_code=r[1],
            agency_name=r[2],
            steps_early=r[3],
            steps_on_time=r[4],
            steps_late=r[5],
            steps_open_overdue=r[6],
        )
        for r in step_rows.all()
    ]
    return Stats(
        received=received,
        resolved_early=early,
        resolved_on_time=on_time,
        resolved_late=late,
        pending_on_time=pending_ok,
        pending_overdue=pending_late,
        refused=refused,
        withdrawn=withdrawn,
        stopped=stopped,
        on_time_rate=_rate(early + on_time + pending_ok, considered),
        online_rate=_rate(online, received),
        satisfaction_rate=None,
        by_unit=by_unit,
    )
