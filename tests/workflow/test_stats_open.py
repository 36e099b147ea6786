"""Statistics of what is open, from the counters the triggers keep: they follow the clock without a write
(a dossier due yesterday is overdue today), equal a recount after random changes (pauses, due times,
steps, cell moves) and after concurrent writers, and the yearly rollups equal the sums of their cells."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.domain.rules import is_overdue
from services.domain.vocabulary import OPEN, PAUSED
from services.models import (
    Agency,
    Dossier,
    ProcedureVersion,
    SlaTimer,
    StatsDossierAgencyMonth,
    StatsDossierCell,
    StatsDossierYear,
    StatsOpenCell,
    StatsOpenStepCell,
    StatsStepCell,
    StatsStepYear,
)
from services.models.stats import DOSSIER_COUNTERS, STEP_COUNTERS
from services.stats.aggregates import AGGREGATE_TABLES, rebuild, verify
from services.stats.bulk import asyncpg_dsn
from services.stats.open import count_own_changes
from services.stats.overdue import overdue_dossiers
from services.stats.queries import compute_stats
from services.stats.scope import StatsQuery
from tests.factories import create_agency, create_dossier, create_procedure_version

OPEN_STATES = {status.value for status in OPEN}
PAUSED_STATES = {status.value for status in PAUSED}
CLOSED_STATES = ("resolved", "returned", "withdrawn", "stopped")


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def _month(moment: datetime) -> date:
    return moment.astimezone(VN_TZ).date().replace(day=1)


def _timer(
    dossier: Dossier, kind: str, seq: int, *, due: datetime, unit: Agency | None = None, **more: Any
) -> SlaTimer:
    return SlaTimer(
        dossier_id=dossier.id,
        kind=kind,
        step_seq=seq,
        agency_id=unit.id if unit else None,
        budget_seconds=8 * 3600,
        started_at=due - timedelta(days=3),
        due_at=due,
        due_soon_at=due - timedelta(days=1),
        paused_seconds=0,
        **more,
    )


def _paused_since(timers: list[SlaTimer]) -> dict[uuid.UUID, datetime | None]:
    return {t.dossier_id: t.paused_at for t in timers if t.kind == "dossier" and t.ended_at is None}


# --- the clock moves ----------------------------------------------------------------------------


def _rank(d: Dossier, paused_since: datetime | None, now: datetime) -> tuple[bool, float, str]:
    """The overdue list's order: lateness (now, or the pause for a paused one) descending, nulls last, code."""
    reference = (paused_since or now) if d.status in PAUSED_STATES else now
    late = (reference - d.due_at).total_seconds() if d.due_at is not None else None
    return late is None, -(late or 0.0), d.code


async def test_what_is_overdue_follows_the_clock_without_a_write(session: AsyncSession) -> None:
    rng = random.Random(614)
    desk = await create_agency(session)
    unit = await create_agency(session, level="department")
    versions = [await create_procedure_version(session) for _ in range(2)]
    dossiers: list[Dossier] = []
    timers: list[SlaTimer] = []
    for n in range(60):
        received = vn(2024, 5, 20, 8) + timedelta(hours=rng.randrange(0, 24 * 40))  # edge days of May, then June
        status = rng.choice([*sorted(OPEN_STATES), *sorted(OPEN_STATES), "resolved", "withdrawn"])
        due = vn(2024, 6, 10) + timedelta(minutes=rng.randrange(0, 60 * 24 * 12))
        d = await create_dossier(session, agency=desk, version=rng.choice(versions), status=status)
        d.received_at, d.created_at = received, received
        d.due_at = due if rng.random() < 0.9 else None
        d.late_by_rule = rng.random() < 0.1
        dossiers.append(d)
        await session.flush()
        if status in PAUSED_STATES and rng.random() < 0.7:  # the others' clock records no pause
            paused = vn(2024, 6, 8) + timedelta(hours=rng.randrange(0, 24 * 10))
            timers.append(_timer(d, "dossier", 0, due=due, paused_at=paused))
        if rng.random() < 0.8:
            step_due = vn(2024, 6, 12) + timedelta(minutes=rng.randrange(0, 60 * 24 * 6))
            ended = vn(2024, 6, 13) if rng.random() < 0.2 else None
            paused = vn(2024, 6, 14) if rng.random() < 0.2 else None
            timers.append(
                _timer(d, "step", 1, due=step_due, unit=rng.choice((unit, None)), ended_at=ended, paused_at=paused)
            )
        if n % 7 == 0:  # a dossier clock that ended: not its pause
            timers.append(_timer(d, "dossier", 9, due=due, paused_at=vn(2024, 6, 1), ended_at=vn(2024, 6, 2)))
    session.add_all(timers)
    await session.flush()
    paused_since = _paused_since(timers)

    for period in ((date(2024, 5, 25), date(2024, 6, 30)), (date(2024, 6, 1), date(2024, 6, 30)), (None, None)):
        start, end = period
        for now in (
            vn(2024, 6, 9, 23, 59),
            vn(2024, 6, 14, 0, 0),
            vn(2024, 6, 14, 9, 30),
            vn(2024, 6, 17, 23, 59, 59),
            vn(2024, 6, 18, 0, 0),
            vn(2024, 8, 1, 12),
        ):
            query = StatsQuery(now=now, start=start, end=end, agency_ids=(desk.id,))
            inside = [
                d
                for d in dossiers
                if d.status in OPEN_STATES
                and (start is None or d.received_at >= vn(start.year, start.month, start.day))
                and (end is None or d.received_at < vn(end.year, end.month, end.day) + timedelta(days=1))
            ]
            overdue = [
                d
                for d in inside
                if is_overdue(
                    d.status, late_by_rule=d.late_by_rule, due_at=d.due_at, paused_since=paused_since.get(d.id), now=now
                )
            ]
            listed = await overdue_dossiers(session, query, limit=1000)
            assert listed.total == len(overdue) == len(listed.items), (period, now)
            # pages of 4, latest first (a paused dossier judged at its pause, even one after "now")
            ranked = sorted(overdue, key=lambda d: _rank(d, paused_since.get(d.id), now))
            for offset in (0, 4, 12):
                page = await overdue_dossiers(session, query, limit=4, offset=offset)
                assert [item.code for item in page.items] == [d.code for d in ranked[offset : offset + 4]], (
                    now,
                    offset,
                )
            if start is None:
                continue
            stats = await compute_stats(session, query)
            assert (stats.pending_overdue, stats.pending_on_time) == (len(overdue), len(inside) - len(overdue))
            by_month = Counter(_month(d.received_at) for d in overdue)
            assert {m.month: m.pending_overdue for m in stats.by_month if m.pending_overdue} == {
                f"{m:%Y-%m}": n for m, n in by_month.items()
            }
            assert sum(p.pending_overdue for p in stats.by_procedure) == len(overdue)
            ids = {d.id for d in inside}
            running = [t for t in timers if t.kind == "step" and t.ended_at is None and t.dossier_id in ids]
            late = [t for t in running if t.due_at < (t.paused_at or now)]
            assert (stats.steps.steps_open_overdue, stats.steps.steps_open_on_time) == (
                len(late),
                len(running) - len(late),
            ), (period, now)


async def test_due_times_of_today_on_either_side_of_now_are_counted_by_the_rule(session: AsyncSession) -> None:
    """Today's due times are counted live on the shorter side of "now" (services.stats.open._due_now): the
    part of the day past, added to what fell due before today, in the morning; the part still ahead, taken
    off what falls due before tomorrow, in the afternoon. Either way a leader sees the rule's count."""
    desk = await create_agency(session)
    unit = await create_agency(session, level="department")
    version = await create_procedure_version(session)
    dossiers: list[Dossier] = []
    timers: list[SlaTimer] = []
    received = vn(2024, 6, 3, 9)
    # (status, due hour on 14 June, late by rule, a clock's pause), due the day before, and the day after
    plan = [
        *(("processing", hour, False, None) for hour in (0.5, 8, 11, 15, 17.5, 21, 23.99)),
        ("received", 13, False, None),
        ("processing", 20, True, None),  # late by rule: overdue whatever the hour
        ("awaiting_supplement", 10, False, None),  # paused, no pause recorded: judged now
        ("awaiting_supplement", 19, False, None),
        ("awaiting_supplement", 18, False, vn(2024, 6, 14, 9)),  # paused before its due time: on time
        ("processing", -10, False, None),
        ("processing", 30, False, None),
    ]
    for status, hour, late_by_rule, paused in plan:
        d = await create_dossier(session, agency=desk, version=version, status=status)
        d.received_at, d.created_at = received, received
        d.due_at, d.late_by_rule = vn(2024, 6, 14) + timedelta(hours=hour), late_by_rule
        dossiers.append(d)
        await session.flush()
        if paused is not None:
            timers.append(_timer(d, "dossier", 0, due=d.due_at, paused_at=paused))
        step_paused = vn(2024, 6, 14, 12) if hour == 21 else None  # one step clock paused at noon: judged then
        timers.append(_timer(d, "step", 1, due=d.due_at - timedelta(hours=1), unit=unit, paused_at=step_paused))
    session.add_all(timers)
    await session.flush()
    paused_since = _paused_since(timers)
    steps = [t for t in timers if t.kind == "step"]

    for now in (
        vn(2024, 6, 14, 7),
        vn(2024, 6, 14, 11),  # a due time exactly now: not yet overdue
        vn(2024, 6, 14, 12),
        vn(2024, 6, 14, 12, 0, 1),
        vn(2024, 6, 14, 16, 30),
        vn(2024, 6, 14, 17, 30),
        vn(2024, 6, 14, 23, 59),
    ):
        overdue = [
            d
            for d in dossiers
            if is_overdue(
                d.status, late_by_rule=d.late_by_rule, due_at=d.due_at, paused_since=paused_since.get(d.id), now=now
            )
        ]
        late_steps = [t for t in steps if t.due_at < (t.paused_at or now)]
        # due times on both sides of now, for dossiers and for steps
        assert 0 < len(overdue) < len(dossiers), now
        assert 0 < len(late_steps) < len(steps), now
        for start, end in ((date(2024, 6, 1), date(2024, 6, 30)), (date(2024, 6, 2), date(2024, 6, 20))):
            query = StatsQuery(now=now, start=start, end=end, agency_ids=(desk.id,))
            stats = await compute_stats(session, query)
            assert (stats.pending_overdue, stats.pending_on_time) == (len(overdue), len(dossiers) - len(overdue)), (
                now,
                start,
            )
            assert (stats.steps.steps_open_overdue, stats.steps.steps_open_on_time) == (
                len(late_steps),
                len(steps) - len(late_steps),
            ), (now, start)
        listed = await overdue_dossiers(session, StatsQuery(now=now, agency_ids=(desk.id,)), limit=100)
        assert sorted(item.code for item in listed.items) == sorted(d.code for d in overdue), now
        assert listed.total == len(overdue), now


# --- a recount --------------------------------------------------------------------------------------


def _cumulative(days: Counter[date]) -> tuple[date | None, list[int] | None]:
    if not days:
        return None, None
    first, last = min(days), max(days)
    values, total = [], 0
    for offset in range((last - first).days + 1):
        total += days[first + timedelta(days=offset)]
        values.append(total)
    return first, values


def _open_expected(dossiers: list[Dossier], timers: list[SlaTimer]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The open counters, counted in Python from the rows with ``is_overdue``'s vocabulary."""
    paused_since = _paused_since(timers)
    cells: dict[Any, list[Any]] = defaultdict(lambda: [0, 0, Counter()])
    steps: dict[Any, list[Any]] = defaultdict(lambda: [0, 0, Counter()])
    keys = {}
    for d in dossiers:
        if d.status not in OPEN_STATES:
            continue
        keys[d.id] = key = (_month(d.received_at or d.created_at), d.receiving_agency_id, d.procedure_version_id)
        cell = cells[key]
        cell[0] += 1
        pause = paused_since.get(d.id) if d.status in PAUSED_STATES else None
        if d.late_by_rule or (pause is not None and d.due_at is not None and d.due_at < pause):
            cell[1] += 1
        elif pause is None and d.due_at is not None:
            cell[2][d.due_at.astimezone(VN_TZ).date()] += 1
    for t in timers:
        if t.kind != "step" or t.ended_at is not None or t.dossier_id not in keys:
            continue
        month, agency, version = keys[t.dossier_id]
        cell = steps[month, agency, version, t.agency_id or agency]
        cell[0] += 1
        if t.paused_at is not None and t.due_at < t.paused_at:
            cell[1] += 1
        elif t.paused_at is None:
            cell[2][t.due_at.astimezone(VN_TZ).date()] += 1
    return (
        {key: (c[0], c[1], *_cumulative(c[2])) for key, c in cells.items()},
        {key: (c[0], c[1], *_cumulative(c[2])) for key, c in steps.items()},
    )


async def _rows(
    session: AsyncSession, model: Any, keys: tuple[str, ...], names: tuple[str, ...], agencies: Any
) -> dict[Any, Any]:
    query = select(model).where(model.agency_id.in_(agencies)).execution_options(populate_existing=True)
    rows = (await session.scalars(query)).all()
    table = {tuple(getattr(r, k) for k in keys): tuple(getattr(r, n) for n in names) for r in rows}
    return {k: v for k, v in table.items() if any(v)}


async def _open_stored(session: AsyncSession, agencies: list[uuid.UUID]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    names = ("open", "overdue", "due_from", "due_cumulative")
    keys = ("month", "agency_id", "procedure_version_id")
    await count_own_changes(session)  # the commit would apply them; this transaction is rolled back
    return (
        await _rows(session, StatsOpenCell, keys, names, agencies),
        await _rows(session, StatsOpenStepCell, (*keys, "unit_id"), names, agencies),
    )


async def _rollups_equal_their_cells(session: AsyncSession, agencies: list[uuid.UUID]) -> None:
    cells = await _rows(
        session, StatsDossierCell, ("month", "agency_id", "procedure_version_id"), DOSSIER_COUNTERS, agencies
    )
    steps = await _rows(
        session, StatsStepCell, ("month", "agency_id", "procedure_version_id", "unit_id"), STEP_COUNTERS, agencies
    )

    def summed(table: dict[Any, Any], key: Any) -> dict[Any, Any]:
        out: dict[Any, list[int]] = {}
        for k, values in table.items():
            row = out.setdefault(key(k), [0] * len(values))
            for n, value in enumerate(values):
                row[n] += value
        return {k: tuple(v) for k, v in out.items() if any(v)}

    year = lambda month: month.replace(month=1)  # noqa: E731
    assert await _rows(
        session, StatsDossierYear, ("year", "agency_id", "procedure_version_id"), DOSSIER_COUNTERS, agencies
    ) == summed(cells, lambda k: (year(k[0]), k[1], k[2]))
    assert await _rows(session, StatsDossierAgencyMonth, ("month", "agency_id"), DOSSIER_COUNTERS, agencies) == summed(
        cells, lambda k: (k[0], k[1])
    )
    assert await _rows(
        session, StatsStepYear, ("year", "agency_id", "procedure_version_id", "unit_id"), STEP_COUNTERS, agencies
    ) == summed(steps, lambda k: (year(k[0]), k[1], k[2], k[3]))


async def test_the_open_counters_and_rollups_equal_a_recount_after_random_changes(session: AsyncSession) -> None:
    rng = random.Random(20261206)
    agencies = [await create_agency(session) for _ in range(2)]
    units = [await create_agency(session, level="department") for _ in range(2)]
    versions = [await create_procedure_version(session) for _ in range(2)]
    agency_ids = [a.id for a in agencies]

    def moment() -> datetime:  # across a year's end, so the yearly rollups see two years
        return vn(2024, 12, 1) + timedelta(hours=rng.randrange(0, 24 * 62), minutes=rng.randrange(60))

    dossiers: list[Dossier] = []
    timers: list[SlaTimer] = []
    for _ in range(25):
        d = await create_dossier(
            session, agency=rng.choice(agencies), version=rng.choice(versions), status=rng.choice(sorted(OPEN_STATES))
        )
        d.received_at, d.due_at = moment(), moment()
        dossiers.append(d)
    await session.flush()

    def open_clock(d: Dossier) -> SlaTimer | None:
        return next(
            (t for t in timers if t in session and t.dossier_id == d.id and t.kind == "dossier" and t.ended_at is None),
            None,
        )

    for step in range(1, 301):
        live = [d for d in dossiers if d in session]
        d = rng.choice(live)
        op = rng.choice(("state", "state", "due", "late", "move", "agency", "pause", "resume", "step", "step",
                         "step_change", "end", "drop_timer", "drop_dossier"))  # fmt: skip
        mine = [t for t in timers if t in session and t.dossier_id == d.id]
        if op == "state":
            d.status = rng.choice([*sorted(OPEN_STATES), *CLOSED_STATES])
            if d.status in ("resolved", "returned"):
                d.outcome, d.resolved_at = "on_time", d.received_at
        elif op == "due":
            d.due_at = moment() if rng.random() < 0.9 else None
        elif op == "late":
            d.late_by_rule = not d.late_by_rule
        elif op == "move":
            d.received_at = moment()
        elif op == "agency":
            d.receiving_agency_id, d.procedure_version_id = rng.choice(agency_ids), rng.choice(versions).id
        elif op == "pause":
            clock = open_clock(d)
            if clock is None:
                timers.append(_timer(d, "dossier", 0, due=moment(), paused_at=moment()))
                session.add(timers[-1])
            else:
                clock.paused_at = moment()
        elif op == "resume" and (clock := open_clock(d)) is not None:
            if rng.random() < 0.5:
                clock.paused_at = None
            else:
                clock.ended_at = moment()
        elif op == "step":
            timers.append(_timer(d, "step", 1 + len(timers), due=moment(), unit=rng.choice([*units, None])))
            session.add(timers[-1])
        elif op in ("step_change", "end", "drop_timer") and mine:
            t = rng.choice(mine)
            if op == "step_change":
                t.due_at, t.agency_id = moment(), rng.choice(units).id
                t.paused_at = moment() if rng.random() < 0.4 else None
            elif op == "end":
                t.ended_at = moment()
            else:
                await session.delete(t)
        elif op == "drop_dossier" and rng.random() < 0.3:
            await session.delete(d)
            await session.flush()
            for gone in timers:
                if gone in session and gone.dossier_id == d.id:
                    session.expunge(gone)
        await session.flush()
        if step % 50 == 0:
            current = [d for d in dossiers if d in session]
            for d in current:
                await session.refresh(d)
            kept = [t for t in timers if t in session]
            assert await _open_stored(session, agency_ids) == _open_expected(current, kept), f"after {step} changes"
            await _rollups_equal_their_cells(session, agency_ids)
    stored, _ = await _open_stored(session, agency_ids)
    assert stored  # the test did count something


# --- concurrent writers ---------------------------------------------------------------------------


@pytest.mark.committed
async def test_concurrent_writers_to_one_cell_lose_no_count(engine: AsyncEngine) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as setup:
        agency = await create_agency(setup)
        version: ProcedureVersion = await create_procedure_version(setup)
        await setup.commit()

    async def writer(n: int) -> None:
        rng = random.Random(n)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for _ in range(6):
                d = await create_dossier(session, agency=agency, version=version, status="processing")
                d.received_at, d.due_at = vn(2025, 3, 3 + n, 9), vn(2025, 3, 10) + timedelta(hours=rng.randrange(200))
                await session.flush()
                session.add(_timer(d, "step", 1, due=vn(2025, 3, 9) + timedelta(hours=rng.randrange(200))))
                await session.flush()
                if rng.random() < 0.5:
                    d.status = rng.choice(("awaiting_supplement", "resolved", "received"))
                    if d.status == "resolved":
                        d.outcome, d.resolved_at = "early", vn(2025, 3, 12)
                    await session.flush()
                await asyncio.sleep(0)  # let the others interleave inside their transactions
            await session.commit()

    await asyncio.gather(*(writer(n) for n in range(4)))
    async with AsyncSession(engine) as check:
        dossiers = list((await check.scalars(select(Dossier).where(Dossier.receiving_agency_id == agency.id))).all())
        ids = [d.id for d in dossiers]
        timers = list((await check.scalars(select(SlaTimer).where(SlaTimer.dossier_id.in_(ids)))).all())
        assert len(dossiers) == 24
        assert await _open_stored(check, [agency.id]) == _open_expected(dossiers, timers)
        await _rollups_equal_their_cells(check, [agency.id])


@pytest.mark.committed
async def test_a_rebuild_gives_what_the_triggers_kept(engine: AsyncEngine, database_url: str) -> None:
    """Whatever earlier tests wrote, the triggers' counters equal a recount; a rebuild (the rollups then
    filled by the cells' trigger) equals it too."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        agency = await create_agency(session)
        version = await create_procedure_version(session)
        d = await create_dossier(session, agency=agency, version=version, status="processing")
        d.received_at, d.due_at = vn(2025, 6, 2, 9), vn(2025, 6, 9, 17)
        await session.flush()
        session.add(_timer(d, "step", 1, due=vn(2025, 6, 5, 17)))
        await session.commit()
    dsn = asyncpg_dsn(database_url)
    assert await verify(dsn) == dict.fromkeys(AGGREGATE_TABLES, 0)
    await rebuild(dsn)
    assert await verify(dsn) == dict.fromkeys(AGGREGATE_TABLES, 0)
    async with AsyncSession(engine) as check:
        stored, steps = await _open_stored(check, [agency.id])
    assert stored == {(date(2025, 6, 1), agency.id, version.id): (1, 0, date(2025, 6, 9), [1])}
    assert list(steps.values()) == [(1, 0, date(2025, 6, 5), [1])]


@pytest.mark.committed
async def test_a_pause_and_a_status_change_at_once_are_counted_one_after_the_other(engine: AsyncEngine) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as setup:
        agency = await create_agency(setup)
        version = await create_procedure_version(setup)
        d = await create_dossier(setup, agency=agency, version=version, status="awaiting_supplement")
        d.received_at, d.due_at = vn(2025, 4, 1, 9), vn(2025, 4, 10, 17)
        await setup.flush()
        clock = _timer(d, "dossier", 0, due=d.due_at)
        setup.add(clock)
        await setup.commit()

    first, second = AsyncSession(engine), AsyncSession(engine)
    try:
        paused = await first.get(SlaTimer, clock.id)
        assert paused is not None
        paused.paused_at = vn(2025, 4, 12)  # after the due time: overdue whatever "now" is
        await first.flush()  # holds the dossier's row lock until it commits
        moved = await second.get(Dossier, d.id)
        assert moved is not None
        moved.status = "awaiting_payment"
        waiting = asyncio.create_task(second.flush())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.commit()
        await waiting
        await second.commit()
    finally:
        await first.close()
        await second.close()
    async with AsyncSession(engine) as check:
        dossiers = list((await check.scalars(select(Dossier).where(Dossier.receiving_agency_id == agency.id))).all())
        timers = list((await check.scalars(select(SlaTimer).where(SlaTimer.dossier_id == d.id))).all())
        stored, _ = await _open_stored(check, [agency.id])
        assert (
            stored
            == _open_expected(dossiers, timers)[0]
            == {(date(2025, 4, 1), agency.id, version.id): (1, 1, None, None)}
        )


@pytest.mark.committed
async def test_two_writers_crossing_two_cells_in_opposite_orders_both_commit(engine: AsyncEngine) -> None:
    """Found by the drill's soak (issue 15): a resolve wrote its dossier then its clocks, a payment pause its
    clocks then its dossier, and each write's trigger locked its open cell at once — two transactions took
    two cells in opposite orders and one was killed, "deadlock detected" (a 500). The cells are now written
    at commit, in one key order for everyone."""
    async with AsyncSession(engine, expire_on_commit=False) as setup:
        agency = await create_agency(setup)
        version = await create_procedure_version(setup)
        made: list[Dossier] = []
        for month in (5, 5, 6, 6):  # two dossiers in the May cell, two in the June cell
            d = await create_dossier(setup, agency=agency, version=version, status="processing")
            d.received_at, d.due_at = vn(2025, month, 2, 9), vn(2025, month, 20, 17)
            made.append(d)
        await setup.commit()
    may_1, may_2, june_1, june_2 = made
    first, second = AsyncSession(engine), AsyncSession(engine)
    try:

        async def move(session: AsyncSession, d: Dossier, days: int) -> None:
            row = await session.get(Dossier, d.id)
            assert row is not None
            row.due_at = d.due_at + timedelta(days=days)
            await session.flush()

        await move(first, may_1, 1)  # the May cell
        await move(second, june_2, 2)  # the June cell
        # each now writes the other's cell: with the cells locked at each write, this was a deadlock
        await asyncio.wait_for(asyncio.gather(move(first, june_1, 3), move(second, may_2, 4)), timeout=30)
        await asyncio.wait_for(asyncio.gather(first.commit(), second.commit()), timeout=30)
    finally:
        await first.close()
        await second.close()
    async with AsyncSession(engine) as check:
        dossiers = list((await check.scalars(select(Dossier).where(Dossier.receiving_agency_id == agency.id))).all())
        stored, _ = await _open_stored(check, [agency.id])
        assert stored == _open_expected(dossiers, [])[0]
        assert {key[0]: value[0] for key, value in stored.items()} == {date(2025, 5, 1): 2, date(2025, 6, 1): 2}
