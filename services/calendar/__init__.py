"""The working calendar and SLA arithmetic: pure functions over instants, heavily tested."""

from services.calendar.working import (
    HOUR,
    VN_TZ,
    WORKING_DAY,
    CalendarRules,
    DayOverride,
    WorkingCalendar,
    parse_windows,
)

__all__ = [
    "HOUR",
    "VN_TZ",
    "WORKING_DAY",
    "CalendarRules",
    "DayOverride",
    "WorkingCalendar",
    "parse_windows",
]
