"""Statistics kept beside the month cells: their rollups and the open counters.

**Rollups** (``stats_dossier_year``, ``stats_dossier_agency_month``, ``stats_step_year``) hold the same
counters as the month cells, summed by year or by (month, agency); a trigger on each cell table adds
every change of a cell to them (migration "statistics rollups and open counters"). A province-year is
then 4,040 + 1,452 rows to read instead of 48,066 (``bench/bench_stats.py``).

**Open counters** (``stats_open_cell``, ``stats_open_step_cell``) count, per month cell, what is open:
dossiers received and not resolved, running step clocks of open dossiers (per unit). ``overdue`` are
those overdue whatever "now" is (late by rule, or paused after their due time); the others become
overdue when "now" passes their due time, and are counted by the day they fall due (Vietnam time) as a
cumulative array: ``due_cumulative[k]`` open ones fall due on or before ``due_from + k - 1``. "Overdue
now" = ``overdue`` + those due before today (one subscript: ``stats_due_before``) + those due earlier
today, counted live over one day's due times. A row whose ``open`` falls to 0 is deleted. Derived data:
no foreign keys, rebuilt by ``services.stats.aggregates``.

The triggers do not write the open cells at once: they note their differences in ``stats_open_pending``
(UNLOGGED, empty outside a transaction), applied at commit in one key order for every transaction, so two
writers never take the same cells' locks in opposite orders (migration "open counters at commit").
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, Table, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base
from services.models.stats import DOSSIER_COUNTERS, STEP_COUNTERS

_BIG = ("resolved_seconds", "used_working_seconds", "limit_working_seconds", "limit_used_ppm")


def _add_counters(model: type[Base], names: tuple[str, ...]) -> None:
    for name in names:
        kind = BigInteger if name in _BIG else Integer
        setattr(model, name, mapped_column(kind, default=0, server_default="0", nullable=False))


class StatsDossierYear(Base):
    """The dossier cells of one year at one agency under one procedure version, summed."""

    __tablename__ = "stats_dossier_year"

    year: Mapped[date] = mapped_column(primary_key=True, doc="1 January of the year of receipt (Vietnam time)")
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class StatsDossierAgencyMonth(Base):
    """The dossier cells of one month at one agency, every procedure summed."""

    __tablename__ = "stats_dossier_agency_month"

    month: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class StatsStepYear(Base):
    """The step cells of one year, summed."""

    __tablename__ = "stats_step_year"

    year: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


for _model in (StatsDossierYear, StatsDossierAgencyMonth):
    _add_counters(_model, DOSSIER_COUNTERS)
_add_counters(StatsStepYear, STEP_COUNTERS)


class _OpenCounters:
    open: Mapped[int] = mapped_column(default=0, server_default="0", doc="open dossiers (running steps)")
    overdue: Mapped[int] = mapped_column(default=0, server_default="0", doc="of them, overdue whatever now is")
    due_from: Mapped[date | None] = mapped_column(doc="the first due day of due_cumulative")
    due_cumulative: Mapped[list[int] | None] = mapped_column(
        ARRAY(Integer), doc="the others, by due day: how many fall due on or before due_from + k - 1"
    )


class StatsOpenCell(_OpenCounters, Base):
    """The open dossiers of one month's cell (month of receipt, receiving agency, procedure version)."""

    __tablename__ = "stats_open_cell"

    month: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class StatsOpenStepCell(_OpenCounters, Base):
    """The running step clocks of the open dossiers of one month's cell, per unit of the step."""

    __tablename__ = "stats_open_step_cell"

    month: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


# a transaction's differences to the open cells until its commit applies them (no key: summed there)
stats_open_pending = Table(
    "stats_open_pending",
    Base.metadata,
    Column("step", Boolean, nullable=False),
    Column("month", Date, nullable=False),
    Column("agency_id", Uuid, nullable=False),
    Column("procedure_version_id", Uuid, nullable=False),
    Column("unit_id", Uuid, nullable=True),
    Column("due_day", Date, nullable=True),
    Column("open", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
    Column("due", Integer, nullable=True),
    prefixes=["UNLOGGED"],
)
