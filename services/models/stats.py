"""Statistics aggregates: counters per month, kept equal to the dossier and clock tables.

Each row is the month a dossier was received (Vietnam time) at one receiving agency under one
procedure version; the step tables add the unit that ran the step (and the officer). PostgreSQL
triggers (migration "statistics aggregates") add the difference every insert, update or delete of
``dossier``, ``sla_timer``, ``feedback``, ``complaint`` and ``payment`` makes, so any writer keeps
them right; ``services.stats.aggregates`` rebuilds them. They are derived data: no foreign keys,
rebuilt at will. What they do not hold is counted live through the indexes below: the days at the
edges of a period that is not whole months, and what is open (overdue or not depends on "now").
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Index, Integer, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.domain.vocabulary import OPEN, RUNNING, in_order, open_states_sql
from services.models.base import Base
from services.models.dossier import Dossier
from services.models.sla import SlaTimer

OPEN_STATES = tuple(status.value for status in in_order(OPEN))
# the histogram of the share of its legal limit a measured dossier used, for the medians: buckets named
# by their lower bound in %, 2 points wide up to 100 % (where medians fall), 10 points up to 200 %, the
# last one open (200 % or more)
SHARE_BUCKET_BOUNDS: tuple[int, ...] = (*range(0, 100, 2), *range(100, 210, 10))
SHARE_BUCKETS = tuple(f"used_pct_{low:03d}" for low in SHARE_BUCKET_BOUNDS)
NO_OFFICER = uuid.UUID(int=0)  # a step nobody was assigned to

_dossier = Dossier.__table__.c
_timer = SlaTimer.__table__.c
OPEN_STATES_SQL = open_states_sql()
# open dossiers, covering what the pending counts read: an index-only scan of what is open, never the history
OPEN_DOSSIER_INDEX = Index(
    "ix_dossier_open_received",
    _dossier.receiving_agency_id,
    _dossier.received_at,
    postgresql_include=["id", "procedure_version_id", "status", "due_at", "late_by_rule"],
    postgresql_where=text(OPEN_STATES_SQL),
)
# open dossiers by id, covering what a running step clock's count asks of its dossier (receipt, scope): the
# steps due earlier today are counted live, an index-only probe each (services/stats/open.py)
OPEN_BY_ID_INDEX = Index(
    "ix_dossier_open_id",
    _dossier.id,
    postgresql_include=["received_at", "receiving_agency_id", "procedure_version_id"],
    postgresql_where=text(OPEN_STATES_SQL),
)
# running dossiers (clock not paused) by due time, covering what the overdue list filters on: its pages
# are read off the front of this index (a running dossier's lateness is now − due time), never ranked in full
RUNNING_STATES_SQL = f"status IN ({', '.join(repr(status.value) for status in in_order(RUNNING))})"
RUNNING_DUE_INDEX = Index(
    "ix_dossier_running_due",
    _dossier.due_at,
    _dossier.code,
    postgresql_include=["id", "receiving_agency_id", "procedure_version_id", "received_at", "status", "late_by_rule"],
    postgresql_where=text(RUNNING_STATES_SQL),
)
# the running dossiers late by rule (a second supplement request: few), for the overdue count of those
# whose due time is still ahead
RUNNING_LATE_BY_RULE_INDEX = Index(
    "ix_dossier_running_late_by_rule",
    _dossier.receiving_agency_id,
    postgresql_include=["received_at", "procedure_version_id", "due_at"],
    postgresql_where=text(f"{RUNNING_STATES_SQL} AND late_by_rule"),
)
# the days at the edges of a period: received dossiers by receipt, the others (refused) by creation
RECEIVED_INDEX = Index("ix_dossier_agency_received", _dossier.receiving_agency_id, _dossier.received_at)
UNRECEIVED_INDEX = Index(
    "ix_dossier_agency_unreceived",
    _dossier.receiving_agency_id,
    _dossier.created_at,
    postgresql_where=text("received_at IS NULL"),
)
# resolved dossiers with a measured working time: the medians of "time used vs the legal limit" are
# an index-only scan of the dossiers in scope, never a read of the dossier rows
TIMED_INDEX = Index(
    "ix_dossier_timed_received",
    _dossier.receiving_agency_id,
    _dossier.received_at,
    postgresql_include=["procedure_version_id", "used_working_seconds", "limit_working_seconds"],
    postgresql_where=text(
        "status IN ('resolved', 'returned') AND used_working_seconds IS NOT NULL AND limit_working_seconds > 0"
    ),
)
# running step clocks, covering the open-step counts
OPEN_STEP_INDEX = Index(
    "ix_sla_timer_open_step",
    _timer.dossier_id,
    postgresql_include=["agency_id", "assignee_id", "due_at", "paused_at"],
    postgresql_where=text("ended_at IS NULL AND kind = 'step'"),
)
# paused dossier clocks by the start of their pause: the overdue list ranks only the paused dossiers
# that can reach its page, and those paused after the "now" it is asked for are found here (few)
PAUSED_CLOCK_INDEX = Index(
    "ix_sla_timer_paused_dossier_clock",
    _timer.paused_at,
    postgresql_include=["dossier_id"],
    postgresql_where=text("kind = 'dossier' AND ended_at IS NULL AND paused_at IS NOT NULL"),
)


def _counter() -> Mapped[int]:
    return mapped_column(default=0, server_default="0")


class StatsDossierCell(Base):
    """Dossiers received in one month at one agency under one procedure version, by how they ended."""

    __tablename__ = "stats_dossier_cell"

    month: Mapped[date] = mapped_column(primary_key=True, doc="first day of the month of receipt (Vietnam time)")
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="receiving agency")
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

    received: Mapped[int] = _counter()
    resolved_early: Mapped[int] = _counter()
    resolved_on_time: Mapped[int] = _counter()
    resolved_late: Mapped[int] = _counter()
    withdrawn: Mapped[int] = _counter()
    stopped: Mapped[int] = _counter()
    refused: Mapped[int] = _counter()
    online: Mapped[int] = _counter()
    digitised: Mapped[int] = _counter()
    charged: Mapped[int] = _counter()
    paid_online: Mapped[int] = _counter()
    complained: Mapped[int] = _counter()
    resolved_seconds: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", doc="sum of receipt-to-result times of the resolved ones"
    )
    timed: Mapped[int] = _counter()  # resolved ones whose clock measured the working time used
    used_working_seconds: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", doc="sum of their working time used, pauses excluded"
    )
    limit_working_seconds: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", doc="sum of their legal limits in working seconds"
    )
    limit_used_ppm: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", doc="sum of used / limit of each, in millionths (floored)"
    )
    under_half: Mapped[int] = _counter()  # resolved in less than half their limit


# how many measured dossiers used [bound, next bound) % of their limit: one counter per bucket
for _bucket in SHARE_BUCKETS:
    setattr(StatsDossierCell, _bucket, mapped_column(Integer, default=0, server_default="0", nullable=False))


class StatsStepCell(Base):
    """Step clocks of the dossiers of one month's cell, per unit that ran them, by how they ended."""

    __tablename__ = "stats_step_cell"

    month: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="the dossier's receiving agency")
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="the agency or unit of the step")

    steps: Mapped[int] = _counter()
    steps_early: Mapped[int] = _counter()
    steps_on_time: Mapped[int] = _counter()
    steps_late: Mapped[int] = _counter()


class StatsOfficerCell(Base):
    """The step cells split by the officer assigned (``NO_OFFICER`` when nobody was)."""

    __tablename__ = "stats_officer_cell"
    __table_args__ = (Index("ix_stats_officer_cell_assignee", "assignee_id", "month"),)

    month: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    assignee_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

    steps: Mapped[int] = _counter()
    steps_early: Mapped[int] = _counter()
    steps_on_time: Mapped[int] = _counter()
    steps_late: Mapped[int] = _counter()


DOSSIER_COUNTERS = (
    "received",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "withdrawn",
    "stopped",
    "refused",
    "online",
    "digitised",
    "charged",
    "paid_online",
    "complained",
    "resolved_seconds",
    "timed",
    "used_working_seconds",
    "limit_working_seconds",
    "limit_used_ppm",
    "under_half",
    *SHARE_BUCKETS,
)
STEP_COUNTERS = ("steps", "steps_early", "steps_on_time", "steps_late")
