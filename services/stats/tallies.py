"""The raw counters of one slice (a month, a procedure, an agency …) and the formulas that turn them
into the indicators of ``services.stats.schemas``. Pure: no database."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.calendar.working import WORKING_DAY
from services.models.stats import DOSSIER_COUNTERS, SHARE_BUCKETS, STEP_COUNTERS
from services.stats.medians import median_from_histogram

# the counters the formulas read, and the histogram of the share of the limit used, taken from a slice's
# values (``DOSSIER_COUNTERS`` order) by position in one call each: a dict of the 79 counters per slice was
# the largest single item of the dashboard's Python (2026-12-06)
_READ = (
    "received",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "refused",
    "withdrawn",
    "stopped",
    "complained",
    "resolved_seconds",
    "online",
    "paid_online",
    "charged",
    "digitised",
    "timed",
    "used_working_seconds",
    "limit_working_seconds",
    "limit_used_ppm",
    "under_half",
)
_read = operator.itemgetter(*(DOSSIER_COUNTERS.index(name) for name in _READ))
_histogram = operator.itemgetter(*(DOSSIER_COUNTERS.index(name) for name in SHARE_BUCKETS))


def _rate(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


_ZEROS = (0,) * len(DOSSIER_COUNTERS)


@dataclass
class Tally:
    """The raw counters of one slice, in ``DOSSIER_COUNTERS`` order; ``indicators()`` applies the formulas."""

    values: tuple[int, ...] = _ZEROS
    pending_on_time: int = 0
    pending_overdue: int = 0
    median_percent: float | None = None  # exact, when sorted from the dossiers: never merged

    @property
    def counts(self) -> dict[str, int]:
        return dict(zip(DOSSIER_COUNTERS, self.values, strict=True))

    def add(self, values: Sequence[int]) -> None:
        """Another part of the slice's counters (a row of sums, ``DOSSIER_COUNTERS`` in order)."""
        self.values = tuple(map(operator.add, self.values, values))

    def indicators(self) -> dict[str, Any]:
        """The indicators of the slice (``services.stats.schemas.Indicators``). A dashboard makes some 240 of
        them: the counters read by position, local names, plain expressions (≈ 10 → 5 µs a slice, 2026-12-06)."""
        (
            received,
            early,
            on_time,
            late,
            refused,
            withdrawn,
            stopped,
            complained,
            resolved_seconds,
            online,
            paid_online,
            charged,
            digitised,
            timed,
            used,
            limit,
            limit_used_ppm,
            under_half,
        ) = _read(self.values)
        pending_on_time, pending_overdue = self.pending_on_time, self.pending_overdue
        resolved = early + on_time + late
        processed = resolved + pending_on_time + pending_overdue
        overdue = 100.0 * (late + pending_overdue) / processed if processed else None
        complaints = 100.0 * complained / received if received else None
        satisfaction = max(0.0, 100.0 - (overdue or 0.0) - complaints) if complaints is not None else None
        median = self.median_percent
        if median is None:
            median = median_from_histogram(_histogram(self.values))
        return {
            "received": received,
            "resolved_early": early,
            "resolved_on_time": on_time,
            "resolved_late": late,
            "pending_on_time": pending_on_time,
            "pending_overdue": pending_overdue,
            "refused": refused,
            "withdrawn": withdrawn,
            "stopped": stopped,
            "on_time_rate": round(100.0 * (early + on_time + pending_on_time) / processed, 2) if processed else None,
            "overdue_rate": round(overdue, 2) if overdue is not None else None,
            "average_resolution_days": round(resolved_seconds / resolved / 86400, 2) if resolved else None,
            "online_rate": round(100.0 * online / received, 2) if received else None,
            "online_payment_rate": round(100.0 * paid_online / charged, 2) if charged else None,
            "digitised_rate": round(100.0 * digitised / received, 2) if received else None,
            "complaint_rate": round(complaints, 2) if complaints is not None else None,
            "satisfaction_rate": round(satisfaction, 2) if satisfaction is not None else None,
            "measured": timed,
            "average_working_days": round(used / timed / WORKING_DAY, 2) if timed else None,
            "average_limit_days": round(limit / timed / WORKING_DAY, 2) if timed else None,
            "time_used_percent": round(limit_used_ppm / timed / 10_000, 2) if timed else None,
            "time_used_median_percent": round(median, 2) if median is not None else None,
            "under_half_limit_rate": round(100.0 * under_half / timed, 2) if timed else None,
            "time_saved_percent": round(100.0 * (1 - used / limit), 2) if limit else None,
        }


@dataclass
class StepTally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEP_COUNTERS, 0))
    open_total: int = 0
    open_overdue: int = 0

    def counts_out(self) -> dict[str, Any]:
        c = self.counts
        ended_ok = c["steps_early"] + c["steps_on_time"]
        open_ok = self.open_total - self.open_overdue
        return {
            **c,
            "steps_open_on_time": open_ok,
            "steps_open_overdue": self.open_overdue,
            "on_time_rate": _round(_rate(ended_ok + open_ok, ended_ok + c["steps_late"] + self.open_total)),
        }
