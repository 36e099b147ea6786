"""Receipt rules: where a dossier's legal clock starts, and its legal due time.

- At the counter (channel 1): received after the agency's cut-off (default 15:00), or on a day
  that does not work, the clock starts at the start of the next working day; otherwise at the
  receipt instant (or, in the lunch break, when the afternoon window opens).
- Online (channel 2): received outside working time, the clock starts at the start of the next
  working period; inside it, at once.
- By public post (channel 3): the clock starts at the signed hand-over at the agency, which is a
  counter receipt, so the counter rules apply to the hand-over instant.

A procedure may waive the cut-off (``cutoff_rule`` false). A limit of 0 working days is "trong
ngày": due at the close of the working day the clock starts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import IntEnum

from services.calendar.working import HOUR, WORKING_DAY, WorkingCalendar

DEFAULT_CUTOFF = time(15, 0)


class Channel(IntEnum):
    COUNTER = 1
    ONLINE = 2
    POSTAL = 3


@dataclass(frozen=True)
class TimeLimit:
    value: float
    unit: str  # working_days or working_hours

    @property
    def seconds(self) -> float:
        if self.unit == "working_days":
            return self.value * WORKING_DAY
        if self.unit == "working_hours":
            return self.value * HOUR
        raise ValueError(f"unknown time-limit unit {self.unit!r}")


def clock_start(
    calendar: WorkingCalendar,
    received_at: datetime,
    channel: Channel,
    *,
    cutoff: time = DEFAULT_CUTOFF,
    cutoff_applies: bool = True,
) -> datetime:
    """The instant from which the legal time limit runs."""
    local = received_at.astimezone(calendar.rules.tz)
    if channel is Channel.ONLINE:
        return calendar.next_working_instant(received_at)
    day = calendar.day(local.date())
    if not day.working:
        return calendar.start_of_next_working_day(local.date())
    if cutoff_applies and local.time() >= cutoff:
        return calendar.start_of_next_working_day(local.date())
    return calendar.next_working_instant(received_at)


def legal_due(calendar: WorkingCalendar, start: datetime, limit: TimeLimit) -> datetime:
    """The legal due time of a limit counted from ``start`` (already a clock start)."""
    if limit.value == 0:
        return calendar.end_of_working_day(calendar.next_working_instant(start))
    return calendar.add_working_seconds(start, limit.seconds)
