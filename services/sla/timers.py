"""The timer worker: one 'due soon' and one 'overdue' event per clock, however many workers run.

Each scan claims the clocks that crossed a threshold with ``FOR UPDATE SKIP LOCKED``, marks them
and writes their events to the outbox in the same transaction. A second worker either skips the
locked rows or, once the first commits, no longer matches them (the mark is in the WHERE clause,
re-checked by PostgreSQL after the lock), so each warning is emitted exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.clock import Clock
from services.core.worker import Task, periodic
from services.models import Dossier, SlaTimer
from services.outbox import emit

BATCH = 500


@dataclass(frozen=True)
class ScanResult:
    due_soon: int
    overdue: int


def _payload(timer: SlaTimer, code: str) -> dict[str, object]:
    return {
        "dossier_code": code,
        "timer": timer.kind,
        "step_position": timer.step_position,
        "agency_id": str(timer.agency_id) if timer.agency_id else None,
        "assignee_id": str(timer.assignee_id) if timer.assignee_id else None,
        "due_at": timer.due_at.isoformat(),
    }


async def _claim(session: AsyncSession, *conditions: object) -> list[tuple[SlaTimer, str]]:
    rows = await session.execute(
        select(SlaTimer, Dossier.code)
        .join(Dossier, Dossier.id == SlaTimer.dossier_id)
        .where(SlaTimer.ended_at.is_(None), SlaTimer.paused_at.is_(None), *conditions)  # type: ignore[arg-type]
        .order_by(SlaTimer.due_at)
        .limit(BATCH)
        .with_for_update(of=SlaTimer, skip_locked=True)
    )
    return [(timer, code) for timer, code in rows.all()]


async def scan_once(session: AsyncSession, now: datetime) -> ScanResult:
    """Emit what is due at ``now``; call in one transaction per scan."""
    due_soon = await _claim(session, SlaTimer.due_soon_emitted_at.is_(None), SlaTimer.due_soon_at <= now)
    for timer, code in due_soon:
        timer.due_soon_emitted_at = now
        await emit(
            session,
            event_type="sla.due_soon",
            source="workflow",
            destination="notify",
            dossier_id=timer.dossier_id,
            payload=_payload(timer, code),
        )
    overdue = await _claim(session, SlaTimer.overdue_emitted_at.is_(None), SlaTimer.due_at < now)
    for timer, code in overdue:
        timer.overdue_emitted_at = now
        if timer.kind == "dossier":
            await session.execute(update(Dossier).where(Dossier.id == timer.dossier_id).values(overdue=True))
        await emit(
            session,
            event_type="sla.overdue",
            source="workflow",
            destination="notify",
            dossier_id=timer.dossier_id,
            payload=_payload(timer, code),
        )
    await session.flush()
    return ScanResult(due_soon=len(due_soon), overdue=len(overdue))


async def _scan_timers(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, stop: asyncio.Event, logger: logging.Logger
) -> None:
    async with sessionmaker() as session, session.begin():
        result = await scan_once(session, clock.now())
    if result.due_soon or result.overdue:
        logger.info("timers fired", extra={"due_soon": result.due_soon, "overdue": result.overdue})


def timer_task() -> Task:
    """The worker task: scan the SLA clocks every ``timer_poll_seconds`` (time from the settings' clock)."""
    return periodic("timers", lambda settings: settings.sla.timer_poll_seconds, _scan_timers)
