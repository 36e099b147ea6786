"""The pieces of hand-written SQL every statistics query shares.

The period [from, to] cut into whole months (read from the cells) and the days at its edges (counted
live), the request's scope as bound parameters and WHERE fragments (``_Sql``), and the look-ups that
turn the ids of a result into codes and names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.core.db import numbered
from services.core.errors import Unprocessable
from services.models import AgencyLevel, Procedure, ProcedureVersion
from services.stats.scope import StatsQuery


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_period(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """[start, end] as whole months (first days of the first and last: read from the cells) and the
    runs of days at its edges (counted live)."""
    first = start if start.day == 1 else _next_month(start)
    after = _month_start(end + timedelta(days=1))  # the first day after the last whole month
    if first >= after:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if after <= end:
        edges.append((after, end))
    return (first, _month_start(after - timedelta(days=1))), edges


def split_years(months: tuple[date, date]) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """Whole months [first, last] as whole calendar years (1 January of the first and of the last: read
    from the yearly rollups) and the runs of months around them (read from the month cells)."""
    first_month, last_month = months
    first = first_month if first_month.month == 1 else date(first_month.year + 1, 1, 1)
    last = last_month if last_month.month == 12 else date(last_month.year - 1, 12, 1)
    if first > last:
        return None, [months]
    rest = []
    if first_month < first:
        rest.append((first_month, date(first.year - 1, 12, 1)))
    if last < last_month:
        rest.append((date(last.year + 1, 1, 1), last_month))
    return (first, date(last.year, 1, 1)), rest


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VN_TZ)


class _Sql:
    """Bound parameters and the WHERE fragments of one request's scope, for the hand-written statements."""

    def __init__(self, query: StatsQuery) -> None:
        self.query = query
        self.params: dict[str, Any] = {"now": query.now}

    def positional(self, statement: str) -> tuple[str, list[Any]]:
        """``statement`` with its ``:name`` parameters as asyncpg's ``$1``… and their values in that order,
        for ``services.core.db.fetch`` (``::`` casts are left alone)."""
        positional, names = numbered(statement)
        return positional, [self.params[name] for name in names]

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f":{name}"

    def scope(self, agency: str, version: str) -> str:
        conditions = ["true"]
        if self.query.agency_ids is not None:
            conditions.append(f"{agency} = ANY(CAST({self.bind('agencies', list(self.query.agency_ids))} AS uuid[]))")
        if self.query.version_ids is not None:
            conditions.append(f"{version} = ANY(CAST({self.bind('versions', list(self.query.version_ids))} AS uuid[]))")
        return " AND ".join(conditions)

    def months(self, months: tuple[date, date]) -> str:
        return f"c.month BETWEEN {self.bind('m0', months[0])} AND {self.bind('m1', months[1])}"

    def between(self, column: str, bounds: tuple[date, date], name: str) -> str:
        return f"{column} BETWEEN {self.bind(f'{name}_0', bounds[0])} AND {self.bind(f'{name}_1', bounds[1])}"

    def received_in_months(self, months: tuple[date, date]) -> str:
        """The dossiers received in the whole months [first, last] (first days)."""
        first = self.bind("received_from", _local_midnight(months[0]))
        after = self.bind("received_before", _local_midnight(_next_month(months[1])))
        return f"d.received_at >= {first} AND d.received_at < {after}"

    def edges(self, edges: list[tuple[date, date]]) -> str:
        """The dossiers counted on those days: received then, or (never received) created then."""
        parts = []
        for n, (first, last) in enumerate(edges):
            a = self.bind(f"a{n}", _local_midnight(first))
            b = self.bind(f"b{n}", _local_midnight(last + timedelta(days=1)))
            parts.append(
                f"(d.received_at >= {a} AND d.received_at < {b})"
                f" OR (d.received_at IS NULL AND d.created_at >= {a} AND d.created_at < {b})"
            )
        return "(" + " OR ".join(parts) + ")"

    def received_in_period(self) -> str:
        a = self.bind("start", self.query.start_at) if self.query.start_at else None
        b = self.bind("end", self.query.end_at) if self.query.end_at else None
        return (
            " AND ".join([*([f"d.received_at >= {a}"] if a else []), *([f"d.received_at < {b}"] if b else [])])
            or "true"
        )

    def officer(self, column: str) -> str:
        if self.query.officer_id is None:
            return "true"
        return f"{column} = {self.bind('officer', self.query.officer_id)}"


def _period(query: StatsQuery) -> tuple[date, date]:
    if query.start is None or query.end is None:
        raise Unprocessable("Give the period: from and to.", code="invalid_period")
    return query.start, query.end


async def _level_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, tuple[str, str, int]]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(
        select(AgencyLevel.code, AgencyLevel.name_vi, AgencyLevel.name_en, AgencyLevel.rank).where(
            AgencyLevel.code.in_(wanted)
        )
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows.all()}


async def _names(session: AsyncSession, model: Any, ids: Iterable[uuid.UUID], *columns: Any) -> dict[uuid.UUID, Any]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(model.id, *columns).where(model.id.in_(wanted)))
    return {row[0]: row[1:] for row in rows.all()}


async def _procedures_of(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str, str, str]]:
    """Code, name, field and level of each procedure version."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(ProcedureVersion.id, Procedure.code, Procedure.name, Procedure.field, Procedure.level)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(ProcedureVersion.id.in_(wanted))
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows.all()}
