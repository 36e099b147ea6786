"""A working calendar: is this instant working time, what is N working hours after it, how much
working time lies between two instants.

Every day of a year is resolved once into its working windows (seconds from local midnight) and
a running total of working seconds at the start of each day, so a due date is a bisection in that
table plus a walk over at most one day's windows, whatever the span — never a day-by-day loop.

Which days work, in order of precedence:
1. an override of the agency (closed, or working with its windows) — the editable table;
2. Vietnam's public holidays and Tết from the ``holidays`` package (closed) and its official
   make-up working days, ``weekend_workdays`` (working, with the ordinary weekday windows);
3. the weekly windows (default Mon–Fri 07:30–11:30 and 13:00–17:00).

One working day is 8 working hours, whatever the windows: limits in days convert to hours, so a
dossier received at 09:00 with one working day is due at 09:00 the next working day ("morning
in, morning out").
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays as holidays_lib

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOUR = 3600
WORKING_DAY = 8 * HOUR

Window = tuple[int, int]  # [start, end] in seconds from local midnight
DayWindows = tuple[Window, ...]

DEFAULT_WEEKDAY_WINDOWS: DayWindows = ((7 * HOUR + 30 * 60, 11 * HOUR + 30 * 60), (13 * HOUR, 17 * HOUR))
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_windows(spec: Sequence[Sequence[str]]) -> DayWindows:
    """``[["07:30", "11:30"], ["13:00", "17:00"]]`` → windows in seconds; ordered, non-overlapping."""
    windows: list[Window] = []
    for pair in spec:
        start, end = (time.fromisoformat(value) for value in pair)
        start_s = start.hour * HOUR + start.minute * 60
        end_s = end.hour * HOUR + end.minute * 60 if end != time(0) else 24 * HOUR
        if end_s <= start_s:
            raise ValueError(f"window {pair[0]}–{pair[1]} ends before it starts")
        if windows and start_s < windows[-1][1]:
            raise ValueError("windows must be in order and must not overlap")
        windows.append((start_s, end_s))
    return tuple(windows)


def weekly_from_spec(spec: Mapping[str, Sequence[Sequence[str]]]) -> tuple[DayWindows, ...]:
    """``{"mon": [["07:30","11:30"], ...], ...}`` → seven days of windows, Monday first."""
    unknown = set(spec) - set(_WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekdays: {sorted(unknown)}")
    return tuple(parse_windows(spec.get(day, ())) for day in _WEEKDAYS)


@dataclass(frozen=True)
class DayOverride:
    """An administrator's decision about one day: ``closed``, or ``working`` (with windows, or the usual ones)."""

    kind: str
    reason: str
    windows: DayWindows | None = None


def vn_public_holidays(year: int) -> tuple[dict[date, str], frozenset[date]]:
    """Vietnam's closed days of ``year`` (name by date) and its official make-up working days."""
    calendar = holidays_lib.country_holidays("VN", years=year)
    closed = {day: str(name) for day, name in calendar.items()}
    workdays = frozenset(day for day in calendar.weekend_workdays if day.year == year)
    return closed, workdays


@dataclass(frozen=True)
class CalendarRules:
    """Everything that decides an agency's working time."""

    weekly: tuple[DayWindows, ...] = (DEFAULT_WEEKDAY_WINDOWS,) * 5 + ((), ())
    overrides: Mapping[date, DayOverride] = field(default_factory=dict)
    holiday_source: Callable[[int], tuple[dict[date, str], frozenset[date]]] = vn_public_holidays
    tz: ZoneInfo = VN_TZ

    @property
    def ordinary_workday(self) -> DayWindows:
        """The windows a make-up working Saturday uses: the first weekday that has any."""
        return next((windows for windows in self.weekly if windows), DEFAULT_WEEKDAY_WINDOWS)


@dataclass(frozen=True)
class DayInfo:
    day: date
    windows: DayWindows
    reason: str | None  # why it differs from the weekly rule: a holiday's name, an override's reason

    @property
    def working(self) -> bool:
        return bool(self.windows)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = 86400


class _Year:
    __slots__ = ("cum", "first", "first_day", "infos", "total", "windows")

    def __init__(self, year: int, rules: CalendarRules) -> None:
        closed, workdays = rules.holiday_source(year)
        self.first = date(year, 1, 1)
        self.first_day = self.first.toordinal() - _EPOCH_ORDINAL  # local days since 1970-01-01
        days = (date(year + 1, 1, 1) - self.first).days
        self.windows: list[DayWindows] = []
        self.infos: dict[date, str] = {}
        self.cum: list[int] = [0]
        for index in range(days):
            day = self.first + timedelta(days=index)
            windows, reason = self._resolve(day, rules, closed, workdays)
            if reason is not None:
                self.infos[day] = reason
            self.windows.append(windows)
            self.cum.append(self.cum[-1] + sum(end - start for start, end in windows))
        self.total = self.cum[-1]

    @staticmethod
    def _resolve(
        day: date, rules: CalendarRules, closed: Mapping[date, str], workdays: frozenset[date]
    ) -> tuple[DayWindows, str | None]:
        override = rules.overrides.get(day)
        if override is not None:
            if override.kind == "closed":
                return (), override.reason
            return override.windows or rules.ordinary_workday, override.reason
        if day in closed:
            return (), closed[day]
        if day in workdays:
            return rules.ordinary_workday, "Ngày làm bù (make-up working day)"
        return rules.weekly[day.weekday()], None


def _worked_before(windows: DayWindows, second: float) -> float:
    """Working seconds of the day before ``second`` of that day."""
    done = 0.0
    for start, end in windows:
        if second <= start:
            return done
        if second < end:
            return done + second - start
        done += end - start
    return done


class WorkingCalendar:
    """One agency's working time. Instants are timezone-aware; answers are in the agency's zone."""

    def __init__(self, rules: CalendarRules | None = None) -> None:
        self.rules = rules or CalendarRules()
        self._years: dict[int, _Year] = {}
        # Vietnam has kept UTC+7 without daylight saving since 1975: local time is epoch arithmetic,
        # which keeps the hot path free of timezone conversions
        offsets = {self.rules.tz.utcoffset(datetime(year, month, 1)) for year in (2000, 2025) for month in (1, 7)}
        if len(offsets) != 1:
            raise ValueError(f"{self.rules.tz} has daylight saving time; the calendar needs a fixed offset")
        offset = offsets.pop()
        assert offset is not None
        self._offset_delta = offset
        self._offset = offset.total_seconds()
        self._fixed_tz = timezone(offset)
        self._by_day: dict[int, _Year] = {}

    # --- tables ---------------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = _Year(year, self.rules)
        return table

    def day(self, day: date) -> DayInfo:
        table = self._year(day.year)
        index = (day - table.first).days
        return DayInfo(day, table.windows[index], table.infos.get(day))

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        return instant.astimezone(self.rules.tz)

    def _at(self, day: date, second: float) -> datetime:
        local_day = day.toordinal() - _EPOCH_ORDINAL
        return datetime.fromtimestamp(local_day * _DAY + second - self._offset, self._fixed_tz)

    def _locate(self, instant: datetime) -> tuple[_Year, int, float]:
        """The year table, the day's index in it and the second of that day, for ``instant``."""
        offset = instant.utcoffset()
        if offset is None:
            raise ValueError("instants must be timezone-aware")
        if offset == self._offset_delta:  # already local: read the fields, no conversion
            day = instant.toordinal() - _EPOCH_ORDINAL
            second = instant.hour * HOUR + instant.minute * 60 + instant.second + instant.microsecond / 1e6
        else:
            local = instant.timestamp() + self._offset
            day = int(local // _DAY)
            second = local - day * _DAY
        table = self._by_day.get(day)
        if table is None:
            table = self._by_day[day] = self._year(date.fromordinal(day + _EPOCH_ORDINAL).year)
        return table, day - table.first_day, second

    def _position(self, instant: datetime) -> tuple[int, float]:
        """(year, working seconds from that year's start up to ``instant``)."""
        table, index, second = self._locate(instant)
        return table.first.year, table.cum[index] + _worked_before(table.windows[index], second)

    # --- questions ------------------------------------------------------------------------------

    def is_working_time(self, instant: datetime) -> bool:
        """True inside a working window, its two ends included."""
        local = self._local(instant)
        second = local.hour * HOUR + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(start <= second <= end for start, end in self.day(local.date()).windows)

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Working time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        (year_a, pos_a), (year_b, pos_b) = self._position(start), self._position(end)
        if year_a == year_b:
            return pos_b - pos_a
        if year_b < year_a:
            return -self.working_seconds_between(end, start)
        return sum(self._year(year).total for year in range(year_a, year_b)) + pos_b - pos_a

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant by which ``seconds`` of working time have passed since ``start``."""
        if seconds < 0:
            raise ValueError("cannot add negative working time")
        if seconds == 0:
            return start
        table, index, second = self._locate(start)
        target = table.cum[index] + _worked_before(table.windows[index], second) + seconds
        while target > table.total:
            target -= table.total
            table = self._year(table.first.year + 1)
        index = bisect.bisect_left(table.cum, target) - 1
        remaining = target - table.cum[index]
        for window_start, window_end in table.windows[index]:
            length = window_end - window_start
            if remaining <= length:
                local = (table.first_day + index) * _DAY + window_start + remaining
                return datetime.fromtimestamp(local - self._offset, self._fixed_tz)
            remaining -= length
        raise AssertionError("working-time table is inconsistent")  # pragma: no cover

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_working_seconds(start, hours * HOUR)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """N working days = N × 8 working hours: the half day is kept."""
        return self.add_working_seconds(start, days * WORKING_DAY)

    def next_working_instant(self, instant: datetime) -> datetime:
        """``instant`` itself when it is working time (but not a window's closing instant), else the
        start of the next working window."""
        local = self._local(instant)
        second = local.hour * HOUR + local.minute * 60 + local.second + local.microsecond / 1e6
        for start, end in self.day(local.date()).windows:
            if start <= second < end:
                return instant
            if second < start:
                return self._at(local.date(), start)
        return self.start_of_next_working_day(local.date())

    def start_of_next_working_day(self, day: date) -> datetime:
        """Where the clock starts for a dossier that counts "from the next working day"."""
        candidate = day + timedelta(days=1)
        for _ in range(3660):  # a decade of closures would be a data error
            windows = self.day(candidate).windows
            if windows:
                return self._at(candidate, windows[0][0])
            candidate += timedelta(days=1)
        raise ValueError("no working day within ten years")

    def end_of_working_day(self, instant: datetime) -> datetime:
        """The close of the working day ``instant`` falls on (for "trong ngày" procedures)."""
        local = self._local(instant)
        windows = self.day(local.date()).windows
        if not windows:
            raise ValueError(f"{local.date()} is not a working day")
        return self._at(local.date(), windows[-1][1])

    def non_working_days(self, year: int) -> list[DayInfo]:
        """Days of ``year`` that carry a reason: holidays and Tết (weekend ones included), make-up days, overrides."""
        table = self._year(year)
        return [self.day(day) for day in sorted(table.infos)]
