"""The raw counters of one slice (a month, a procedure, an agency …) and the formulas that turn them
into the indicators of ``services.stats.schemas``. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.calendar.working import WORKING_DAY
from services.models.stats import DOSSIER_COUNTERS, SHARE_BUCKETS, STEP_COUNTERS
from services.stats.medians import median_from_histogram


def _rate(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


@dataclass
class Tally:
    """The raw counters of one slice; ``indicators()`` applies the formulas."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOSSIER_COUNTERS, 0))
    pending_on_time: int = 0
    pending_overdue: int = 0
    median_percent: float | None = None  # exact, when sorted from the dossiers: never merged

    def add(self, values: dict[str, int]) -> None:
        counts = self.counts
        for name, value in values.items():
            counts[name] += value

    def merge(self, other: Tally) -> None:
        self.add(other.counts)
        self.pending_on_time += other.pending_on_time
        self.pending_overdue += other.pending_overdue

    def indicators(self) -> dict[str, Any]:
        c = self.counts
        resolved = c["resolved_early"] + c["resolved_on_time"] + c["resolved_late"]
        processed = resolved + self.pending_on_time + self.pending_overdue
        on_time = _rate(c["resolved_early"] + c["resolved_on_time"] + self.pending_on_time, processed)
        overdue = _rate(c["resolved_late"] + self.pending_overdue, processed)
        complaints = _rate(c["complained"], c["received"])
        satisfaction = max(0.0, 100.0 - (overdue or 0.0) - complaints) if complaints is not None else None
        average = c["resolved_seconds"] / resolved / 86400 if resolved else None
        timed = c["timed"]
        return {
            "received": c["received"],
            "resolved_early": c["resolved_early"],
            "resolved_on_time": c["resolved_on_time"],
            "resolved_late": c["resolved_late"],
            "pending_on_time": self.pending_on_time,
            "pending_overdue": self.pending_overdue,
            "refused": c["refused"],
            "withdrawn": c["withdrawn"],
            "stopped": c["stopped"],
            "on_time_rate": _round(on_time),
            "overdue_rate": _round(overdue),
            "average_resolution_days": _round(average),
            "online_rate": _round(_rate(c["online"], c["received"])),
            "online_payment_rate": _round(_rate(c["paid_online"], c["charged"])),
            "digitised_rate": _round(_rate(c["digitised"], c["received"])),
            "complaint_rate": _round(complaints),
            "satisfaction_rate": _round(satisfaction),
            "measured": timed,
            "average_working_days": _round(c["used_working_seconds"] / timed / WORKING_DAY if timed else None),
            "average_limit_days": _round(c["limit_working_seconds"] / timed / WORKING_DAY if timed else None),
            "time_used_percent": _round(c["limit_used_ppm"] / timed / 10_000 if timed else None),
            "time_used_median_percent": _round(
                self.median_percent
                if self.median_percent is not None
                else median_from_histogram([c[name] for name in SHARE_BUCKETS])
            ),
            "under_half_limit_rate": _round(_rate(c["under_half"], timed)),
            "time_saved_percent": _round(
                100.0 * (1 - c["used_working_seconds"] / c["limit_working_seconds"])
                if c["limit_working_seconds"]
                else None
            ),
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
