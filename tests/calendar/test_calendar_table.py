"""Due times worked out by hand from the published calendars (see DESIGN.md, "Time limits").

Every expected value below was computed on paper, never by calling the code under test. The
default windows are Mon–Fri 07:30–11:30 (4 h) and 13:00–17:00 (4 h), Asia/Ho_Chi_Minh; one
working day is 8 working hours; a due time is the earliest instant by which the working time has
passed, so a span that ends exactly at a window's end is due at 11:30 or 17:00.

Closed days used (``holidays`` 0.108, VN):
- 2026: Tết Mon 16 – Fri 20 Feb; Hùng Kings Sun 26 Apr, observed Mon 27 Apr; Thu 30 Apr, Fri
  1 May; Mon 31 Aug (swapped with the make-up working Saturday 22 Aug); Tue 1 – Wed 2 Sep; Tue
  24 Nov (Vietnam Culture Day).
- 2027: Fri 1 Jan; Tết Thu 4 – Wed 10 Feb; Fri 16 Apr; Fri 30 Apr; Sat 1 May observed Mon 3 May;
  Thu 2 – Fri 3 Sep; Wed 24 Nov.

The 2026/2027 rows use the real default holiday source on purpose: they check the integration
with the ``holidays`` package. Only the override tests use a fixed source.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from services.calendar.receipt import Channel, TimeLimit, clock_start, legal_due
from services.calendar.working import (
    DEFAULT_WEEKDAY_WINDOWS,
    HOUR,
    VN_TZ,
    CalendarRules,
    DayOverride,
    WorkingCalendar,
    parse_windows,
    weekly_from_spec,
)

CAL = WorkingCalendar()

COUNTER = Channel.COUNTER
ONLINE = Channel.ONLINE
POSTAL = Channel.POSTAL
DAYS = "working_days"
HOURS = "working_hours"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_INSTANT = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d")


def at(text: str) -> datetime:
    """``"Tue 2026-03-10 09:00"`` in Hà Nội time. The weekday is checked, so a slip in the
    hand-worked calendar fails loudly instead of silently testing another day."""
    weekday, local = text.split(" ", 1)
    instant = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=VN_TZ)
    if _WEEKDAYS[instant.weekday()] != weekday:
        raise ValueError(f"{local} is a {_WEEKDAYS[instant.weekday()]}, not a {weekday}")
    return instant


def row(case_id: str, *values: object) -> Any:
    """One table row; ``"Tue 2026-03-10 09:00"`` strings become instants."""
    converted = [at(v) if isinstance(v, str) and _INSTANT.fullmatch(v) else v for v in values]
    return pytest.param(*converted, id=case_id)


def due(calendar: WorkingCalendar, received: datetime, channel: Channel, value: float, unit: str) -> datetime:
    return legal_due(calendar, clock_start(calendar, received, channel), TimeLimit(value, unit))


# (received, channel, limit value, limit unit, expected legal due time)
DUE_CASES = [
    # --- ordinary weeks and weekends (March 2026 has no holiday) ---------------------------------
    # Mon 09:00–11:30 2.5h + 13:00–17:00 4h = 6.5h; 1.5h left → Tue 07:30 + 1.5h
    row("counter-mon-0900-1d-morning-in-morning-out", "Mon 2026-03-09 09:00", COUNTER, 1, DAYS, "Tue 2026-03-10 09:00"),
    # Fri 10:00–11:30 1.5h + 4h = 5.5h; Sat, Sun off; Mon 07:30 + 2.5h
    row("counter-fri-1000-1d-over-weekend", "Fri 2026-03-13 10:00", COUNTER, 1, DAYS, "Mon 2026-03-16 10:00"),
    # 24h: Thu 14:00–17:00 3h, Fri 8h (11), Mon 8h (19), Tue morning 4h (23), Tue 13:00 + 1h
    row("counter-thu-1400-3d-over-weekend", "Thu 2026-03-12 14:00", COUNTER, 3, DAYS, "Tue 2026-03-17 14:00"),
    # before opening: clock from 07:30; 8h = the whole Tuesday → 17:00
    row("counter-0645-before-opening-1d", "Tue 2026-03-10 06:45", COUNTER, 1, DAYS, "Tue 2026-03-10 17:00"),
    # --- the lunch break ----------------------------------------------------------------------------
    # received 12:10 → clock from 13:00; Tue 13–17 4h, Wed 07:30–11:30 4h: ends exactly at 11:30
    row("counter-lunch-break-1d-due-1130", "Tue 2026-03-10 12:10", COUNTER, 1, DAYS, "Wed 2026-03-11 11:30"),
    # 10:00–11:30 1.5h, then 13:00 + 2.5h
    row("counter-1000-4h-crosses-lunch", "Tue 2026-03-10 10:00", COUNTER, 4, HOURS, "Tue 2026-03-10 15:30"),
    # 07:30 + 4h = the whole morning: 11:30, not 13:00
    row("counter-0730-4h-ends-at-1130", "Tue 2026-03-10 07:30", COUNTER, 4, HOURS, "Tue 2026-03-10 11:30"),
    # --- the 15:00 counter cut-off ------------------------------------------------------------------
    # Wed 14:59–17:00 2h01, Thu morning 4h (6h01), 1h59 from 13:00
    row("counter-wed-1459-before-cutoff", "Wed 2026-03-11 14:59", COUNTER, 1, DAYS, "Thu 2026-03-12 14:59"),
    # 15:00 → from Thu 07:30; 8h → Thu 17:00
    row("counter-wed-1500-at-cutoff", "Wed 2026-03-11 15:00", COUNTER, 1, DAYS, "Thu 2026-03-12 17:00"),
    # 16:30 → from Thu 07:30; 16h = Thu + Fri
    row("counter-wed-1630-after-cutoff-2d", "Wed 2026-03-11 16:30", COUNTER, 2, DAYS, "Fri 2026-03-13 17:00"),
    # Fri after cut-off → next working day Mon 07:30; 8h → Mon 17:00
    row("counter-fri-1530-after-cutoff-to-monday", "Fri 2026-03-13 15:30", COUNTER, 1, DAYS, "Mon 2026-03-16 17:00"),
    # Wed 29 Apr after cut-off; Thu 30 Apr, Fri 1 May off, Sat, Sun → Mon 4 May 07:30 + 8h
    row("counter-1510-day-before-30apr-1may-2026", "Wed 2026-04-29 15:10", COUNTER, 1, DAYS, "Mon 2026-05-04 17:00"),
    # Fri 24 Apr after cut-off; Sat, Sun 26 Apr (Hùng Kings), Mon 27 (observed) → Tue 28 07:30 + 8h
    row("counter-fri-1600-before-hung-kings-2026", "Fri 2026-04-24 16:00", COUNTER, 1, DAYS, "Tue 2026-04-28 17:00"),
    # --- Tết ----------------------------------------------------------------------------------------
    # Mon 1 Feb 6.5h, Tue 2 Feb 8h (14.5), Wed 3 Feb 07:30 + 1.5h — ends before Tết
    row("tet2027-before-ends-before-tet", "Mon 2027-02-01 09:00", COUNTER, 2, DAYS, "Wed 2027-02-03 09:00"),
    # 40h: Mon 6.5, Tue 8 (14.5), Wed 8 (22.5), Thu 4 – Wed 10 Feb off, Thu 11 8 (30.5),
    # Fri 12 8 (38.5), weekend, Mon 15 07:30 + 1.5h
    row("tet2027-5d-across", "Mon 2027-02-01 09:00", COUNTER, 5, DAYS, "Mon 2027-02-15 09:00"),
    # Wed 3 Feb 14:59–17:00 2h01; Tết; Thu 11 Feb morning 4h (6h01), 13:00 + 1h59
    row("tet2027-counter-1459-day-before", "Wed 2027-02-03 14:59", COUNTER, 1, DAYS, "Thu 2027-02-11 14:59"),
    # Wed 3 Feb at the cut-off → next working day is Thu 11 Feb 07:30; + 8h
    row("tet2027-counter-1500-day-before", "Wed 2027-02-03 15:00", COUNTER, 1, DAYS, "Thu 2027-02-11 17:00"),
    # received on Mon 8 Feb (Tết) → from Thu 11 Feb 07:30; 16h = Thu + Fri 12 Feb
    row("tet2027-counter-received-during", "Mon 2027-02-08 10:00", COUNTER, 2, DAYS, "Fri 2027-02-12 17:00"),
    # online on Sat 6 Feb (Tết, Saturday) → from Thu 11 Feb 07:30; + 4h
    row("tet2027-online-received-during", "Sat 2027-02-06 20:00", ONLINE, 4, HOURS, "Thu 2027-02-11 11:30"),
    # Fri 13 Feb 2026 5.5h; weekend, Tết Mon 16 – Fri 20 Feb, weekend; Mon 23 Feb 07:30 + 2.5h
    row("tet2026-fri-before-1d", "Fri 2026-02-13 10:00", COUNTER, 1, DAYS, "Mon 2026-02-23 10:00"),
    # --- National Day 2026: Sat 22 Aug worked, Mon 31 Aug off ---------------------------------------
    # Fri 21 Aug 14:00–17:00 3h; Sat 22 Aug (make-up) morning 4h (7h), 13:00 + 1h
    row("nd2026-fri-1400-1d-uses-sat-22aug", "Fri 2026-08-21 14:00", COUNTER, 1, DAYS, "Sat 2026-08-22 14:00"),
    # 24h: Thu 20 Aug 6.5, Fri 21 8 (14.5), Sat 22 8 (22.5), Sun off, Mon 24 07:30 + 1.5h
    row("nd2026-thu-0900-3d-uses-sat-22aug", "Thu 2026-08-20 09:00", COUNTER, 3, DAYS, "Mon 2026-08-24 09:00"),
    # Fri 21 Aug after cut-off → the next working day is the make-up Sat 22 Aug 07:30; + 8h
    row("nd2026-fri-1530-cutoff-starts-sat-22aug", "Fri 2026-08-21 15:30", COUNTER, 1, DAYS, "Sat 2026-08-22 17:00"),
    # Sat 22 Aug 09:00 is working time: online starts at once; 2.5h morning, 13:00 + 1.5h
    row("nd2026-online-sat-22aug-in-hours", "Sat 2026-08-22 09:00", ONLINE, 4, HOURS, "Sat 2026-08-22 14:30"),
    # 16h: Fri 28 Aug 5.5h; Sat 29, Sun 30 (ordinary weekend), Mon 31 Aug, Tue 1, Wed 2 Sep off;
    # Thu 3 Sep 8h (13.5); Fri 4 Sep 07:30 + 2.5h
    row("nd2026-fri-28aug-2d-skips-sat-29aug", "Fri 2026-08-28 10:00", COUNTER, 2, DAYS, "Fri 2026-09-04 10:00"),
    # working days after Tue 25 Aug: Wed 26, Thu 27, Fri 28, (29 Aug – 2 Sep off), Thu 3, Fri 4 Sep
    row("nd2026-tue-25aug-5d-across-bridge", "Tue 2026-08-25 09:00", COUNTER, 5, DAYS, "Fri 2026-09-04 09:00"),
    # received on Mon 31 Aug (closed) → Tue 1, Wed 2 Sep off → Thu 3 Sep 07:30 + 8h
    row("nd2026-counter-on-31aug-closed", "Mon 2026-08-31 09:00", COUNTER, 1, DAYS, "Thu 2026-09-03 17:00"),
    # --- Vietnam Culture Day, 24 Nov ----------------------------------------------------------------
    # Mon 23 Nov 2026 6.5h; Tue 24 Nov off; Wed 25 Nov 07:30 + 1.5h
    row("culture-day-2026-mon-0900-1d", "Mon 2026-11-23 09:00", COUNTER, 1, DAYS, "Wed 2026-11-25 09:00"),
    # Tue 23 Nov 2027 5.5h; Wed 24 Nov off; Thu 25 Nov 07:30 + 2.5h
    row("culture-day-2027-tue-1000-1d", "Tue 2027-11-23 10:00", COUNTER, 1, DAYS, "Thu 2027-11-25 10:00"),
    # Tue 23 Nov 2027 after cut-off; Wed 24 Nov off → Thu 25 Nov 07:30 + 8h
    row("culture-day-2027-tue-1600-after-cutoff", "Tue 2027-11-23 16:00", COUNTER, 1, DAYS, "Thu 2027-11-25 17:00"),
    # --- online receipt outside working time --------------------------------------------------------
    # evening → from Wed 07:30; + 8h
    row("online-tue-1945-evening", "Tue 2026-03-10 19:45", ONLINE, 1, DAYS, "Wed 2026-03-11 17:00"),
    # night → from Wed 07:30; + 4h
    row("online-wed-0210-night-4h", "Wed 2026-03-11 02:10", ONLINE, 4, HOURS, "Wed 2026-03-11 11:30"),
    # Saturday → from Mon 07:30; + 8h
    row("online-sat-weekend", "Sat 2026-03-14 10:00", ONLINE, 1, DAYS, "Mon 2026-03-16 17:00"),
    # Thu 30 Apr (holiday), Fri 1 May, weekend → from Mon 4 May 07:30; 16h = Mon + Tue 5 May
    row("online-30apr-holiday-2d", "Thu 2026-04-30 09:00", ONLINE, 2, DAYS, "Tue 2026-05-05 17:00"),
    # lunch break → from 13:00; Thu afternoon 4h, Fri morning 4h → Fri 11:30
    row("online-thu-1200-lunch-break", "Thu 2026-03-12 12:00", ONLINE, 1, DAYS, "Fri 2026-03-13 11:30"),
    # 11:30 is the morning's closing instant → from 13:00; Tue 4h, Wed morning 4h → Wed 11:30
    row("online-tue-1130-closing-of-morning", "Tue 2026-03-10 11:30", ONLINE, 1, DAYS, "Wed 2026-03-11 11:30"),
    # online has no cut-off: 16:00–17:00 1h, Thu morning 4h (5h), 13:00 + 3h
    row("online-wed-1600-no-cutoff", "Wed 2026-03-11 16:00", ONLINE, 1, DAYS, "Thu 2026-03-12 16:00"),
    # Fri 17:00 is the closing instant → from Mon 07:30; + 4h
    row("online-fri-1700-closing-instant", "Fri 2026-03-13 17:00", ONLINE, 4, HOURS, "Mon 2026-03-16 11:30"),
    # --- postal: the signed hand-over counts like a counter receipt ---------------------------------
    # Thu 10:15–11:30 1.25h + 4h = 5.25h; Fri 07:30 + 2.75h
    row("postal-thu-1015-handover", "Thu 2026-03-12 10:15", POSTAL, 1, DAYS, "Fri 2026-03-13 10:15"),
    # hand-over after the cut-off → from Fri 07:30; + 8h
    row("postal-thu-1520-handover-after-cutoff", "Thu 2026-03-12 15:20", POSTAL, 1, DAYS, "Fri 2026-03-13 17:00"),
    # --- limits in working hours --------------------------------------------------------------------
    # Mon 14:00–17:00 3h; Tue 07:30 + 1h
    row("hours-4-counter-mon-1400", "Mon 2026-03-09 14:00", COUNTER, 4, HOURS, "Tue 2026-03-10 08:30"),
    # Fri 09:30–11:30 2h + 4h = 6h; Mon morning 4h (10h); 13:00 + 2h
    row("hours-12-counter-fri-0930", "Fri 2026-03-13 09:30", COUNTER, 12, HOURS, "Mon 2026-03-16 15:00"),
    # Wed 1 Sep 2027 13:00–17:00 4h; Thu 2, Fri 3 Sep off; weekend; Mon 6 Sep 8h → 17:00
    row("hours-12-across-national-day-2027", "Wed 2027-09-01 13:00", COUNTER, 12, HOURS, "Mon 2027-09-06 17:00"),
    # --- 0 days: "trong ngày", due at the close of the day the clock starts on ----------------------
    row("same-day-counter-0900", "Tue 2026-03-10 09:00", COUNTER, 0, DAYS, "Tue 2026-03-10 17:00"),
    row("same-day-counter-1459", "Tue 2026-03-10 14:59", COUNTER, 0, DAYS, "Tue 2026-03-10 17:00"),
    # after the cut-off the clock starts Wed 07:30 → Wed 17:00
    row("same-day-counter-1530-after-cutoff", "Tue 2026-03-10 15:30", COUNTER, 0, DAYS, "Wed 2026-03-11 17:00"),
    # Saturday online → clock starts Mon 07:30 → Mon 17:00
    row("same-day-online-saturday", "Sat 2026-03-14 10:00", ONLINE, 0, DAYS, "Mon 2026-03-16 17:00"),
    # the make-up Saturday closes at 17:00 like a weekday
    row("same-day-counter-make-up-sat-22aug-2026", "Sat 2026-08-22 09:00", COUNTER, 0, DAYS, "Sat 2026-08-22 17:00"),
    # --- the year boundary --------------------------------------------------------------------------
    # Thu 31 Dec 2026 5.5h; Fri 1 Jan 2027 off, Sat 2, Sun 3; Mon 4 Jan 8h (13.5); Tue 5 Jan 07:30 + 2.5h
    row("year-end-31dec2026-1000-2d", "Thu 2026-12-31 10:00", COUNTER, 2, DAYS, "Tue 2027-01-05 10:00"),
    # after the cut-off on 31 Dec → the next working day is Mon 4 Jan 2027 07:30; + 8h
    row("year-end-31dec2026-1500-after-cutoff", "Thu 2026-12-31 15:00", COUNTER, 1, DAYS, "Mon 2027-01-04 17:00"),
]


@pytest.mark.parametrize(("received", "channel", "value", "unit", "expected"), DUE_CASES)
def test_legal_due(received: datetime, channel: Channel, value: float, unit: str, expected: datetime) -> None:
    result = due(CAL, received, channel, value, unit)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=7)


# (start, working days, expected) — WorkingCalendar.add_working_days / add_working_hours directly
ADD_CASES = [
    # 0.5 day = 4h: 09:00–11:30 2.5h, 13:00 + 1.5h (the half day is kept)
    row("half-day-from-0900", "Mon 2026-03-09 09:00", 0.5, "Mon 2026-03-09 14:30"),
    # 13:00 + 4h reaches exactly the last working instant of 2026
    row("half-day-ends-exactly-at-year-end", "Thu 2026-12-31 13:00", 0.5, "Thu 2026-12-31 17:00"),
    # 16:00–17:00 1h; 1 Jan 2027 off, weekend; Mon 4 Jan 07:30 + 1h
    row("quarter-day-from-31dec2026-1600-into-2027", "Thu 2026-12-31 16:00", 0.25, "Mon 2027-01-04 08:30"),
    # from Fri 21 Aug 17:00: the next 8 working hours are the whole make-up Saturday
    row("fri-21aug-1700-1d-is-sat-22aug", "Fri 2026-08-21 17:00", 1, "Sat 2026-08-22 17:00"),
    # from Fri 28 Aug 17:00: Sat 29 Aug is NOT worked, 31 Aug – 2 Sep closed → Thu 3 Sep 17:00
    row("fri-28aug-1700-1d-skips-sat-29aug-and-bridge", "Fri 2026-08-28 17:00", 1, "Thu 2026-09-03 17:00"),
    # working days after Wed 22 Apr 2026: Thu 23, Fri 24, (25–27 off), Tue 28, Wed 29, (30 Apr –
    # 3 May off), Mon 4, Tue 5, Wed 6, Thu 7, Fri 8, (weekend), Mon 11 May = the 10th
    row("10d-across-hung-kings-and-30apr-1may-2026", "Wed 2026-04-22 09:00", 10, "Mon 2026-05-11 09:00"),
    # after Fri 9 Apr 2027: Mon 12, Tue 13, Wed 14, Thu 15, (Fri 16 Hùng Kings), Mon 19 … Fri 23,
    # Mon 26 Apr = the 10th
    row("10d-across-hung-kings-2027", "Fri 2027-04-09 10:00", 10, "Mon 2027-04-26 10:00"),
    # after Thu 29 Apr 2027: Fri 30 Apr off, Sat 1 May, Sun, Mon 3 May (observed) off; Tue 4, Wed 5
    row("2d-across-30apr-and-1may-observed-2027", "Thu 2027-04-29 10:00", 2, "Wed 2027-05-05 10:00"),
    # adding nothing returns the start unchanged, even outside working time
    row("zero-returns-start", "Sat 2026-03-14 10:00", 0, "Sat 2026-03-14 10:00"),
]


@pytest.mark.parametrize(("start", "days", "expected"), ADD_CASES)
def test_add_working_days(start: datetime, days: float, expected: datetime) -> None:
    assert CAL.add_working_days(start, days) == expected
    assert CAL.add_working_hours(start, days * 8) == expected


# (start, end, working seconds)
BETWEEN_CASES = [
    # Fri 14:00–17:00 3h + Sat 22 Aug 8h + Mon 07:30–09:00 1.5h = 12.5h
    row("across-make-up-sat-22aug", "Fri 2026-08-21 14:00", "Mon 2026-08-24 09:00", 12.5 * HOUR),
    row("across-make-up-sat-22aug-reversed", "Mon 2026-08-24 09:00", "Fri 2026-08-21 14:00", -12.5 * HOUR),
    # Fri 28 Aug 5.5h + (29 Aug – 2 Sep nothing) + Thu 3 Sep 07:30–10:00 2.5h = 8h
    row("across-sat-29aug-and-bridge", "Fri 2026-08-28 10:00", "Thu 2026-09-03 10:00", 8 * HOUR),
    # 31 Dec 16:00–17:00 1h + Mon 4 Jan 07:30–08:30 1h
    row("across-year-boundary", "Thu 2026-12-31 16:00", "Mon 2027-01-04 08:30", 2 * HOUR),
    row("across-year-boundary-reversed", "Mon 2027-01-04 08:30", "Thu 2026-12-31 16:00", -2 * HOUR),
    # 11:00–11:30 0.5h + 13:00–13:30 0.5h
    row("across-lunch", "Tue 2026-03-10 11:00", "Tue 2026-03-10 13:30", 1 * HOUR),
    row("lunch-break-only", "Tue 2026-03-10 11:30", "Tue 2026-03-10 13:00", 0),
    row("weekend-only", "Sat 2026-03-14 10:00", "Sun 2026-03-15 10:00", 0),
    row("same-instant", "Tue 2026-03-10 10:00", "Tue 2026-03-10 10:00", 0),
    # Wed 3 Feb 2027 8h + Thu 11 Feb 8h; Tết in between counts nothing
    row("across-tet-2027", "Wed 2027-02-03 07:30", "Thu 2027-02-11 17:00", 16 * HOUR),
    # 2026: 261 weekdays (starts Thu, 365 days) − 13 weekday closures (1 Jan, 16–20 Feb, 27 Apr,
    # 30 Apr, 1 May, 31 Aug, 1–2 Sep, 24 Nov) + 1 make-up Saturday (22 Aug) = 249 days × 8h
    row("whole-year-2026", "Thu 2026-01-01 00:00", "Fri 2027-01-01 00:00", 249 * 8 * HOUR),
    # 2027: 261 weekdays (starts Fri) − 12 weekday closures (1 Jan, 4–5 and 8–10 Feb, 16 Apr, 30 Apr,
    # 3 May, 2–3 Sep, 24 Nov) = 249 days × 8h
    row("whole-year-2027", "Fri 2027-01-01 00:00", "Sat 2028-01-01 00:00", 249 * 8 * HOUR),
]


@pytest.mark.parametrize(("start", "end", "expected"), BETWEEN_CASES)
def test_working_seconds_between(start: datetime, end: datetime, expected: float) -> None:
    assert CAL.working_seconds_between(start, end) == expected


IS_WORKING_CASES = [
    row("tue-0729", "Tue 2026-03-10 07:29", False),
    row("tue-0730-opening", "Tue 2026-03-10 07:30", True),
    row("tue-1130-closing-instant-included", "Tue 2026-03-10 11:30", True),
    row("tue-1131", "Tue 2026-03-10 11:31", False),
    row("tue-1259", "Tue 2026-03-10 12:59", False),
    row("tue-1300", "Tue 2026-03-10 13:00", True),
    row("tue-1700-closing-instant-included", "Tue 2026-03-10 17:00", True),
    row("tue-1701", "Tue 2026-03-10 17:01", False),
    row("ordinary-saturday", "Sat 2026-03-14 10:00", False),
    row("sat-22aug-2026-make-up", "Sat 2026-08-22 10:00", True),
    row("sat-29aug-2026-ordinary", "Sat 2026-08-29 10:00", False),
    row("mon-31aug-2026-bridge", "Mon 2026-08-31 10:00", False),
    row("tet-2026", "Mon 2026-02-16 10:00", False),
    row("culture-day-2026", "Tue 2026-11-24 10:00", False),
    row("culture-day-2027", "Wed 2027-11-24 10:00", False),
    row("day-after-culture-day-2027", "Thu 2027-11-25 10:00", True),
    row("1may-2027-observed-monday", "Mon 2027-05-03 10:00", False),
]


@pytest.mark.parametrize(("instant", "expected"), IS_WORKING_CASES)
def test_is_working_time(instant: datetime, expected: bool) -> None:
    assert CAL.is_working_time(instant) is expected


def test_is_working_time_converts_other_zones() -> None:
    # 01:00 UTC = 08:00 in Hà Nội (a working Tuesday); 11:00 UTC = 18:00 (closed)
    assert CAL.is_working_time(datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
    assert not CAL.is_working_time(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_working_time(datetime(2026, 3, 10, 9, 0))


def test_non_working_days_2026() -> None:
    days = {info.day: info for info in CAL.non_working_days(2026)}
    assert not days[date(2026, 8, 31)].working
    assert days[date(2026, 8, 31)].reason
    assert days[date(2026, 8, 22)].working
    assert days[date(2026, 8, 22)].windows == DEFAULT_WEEKDAY_WINDOWS
    assert "làm bù" in (days[date(2026, 8, 22)].reason or "")
    assert date(2026, 8, 29) not in days  # an ordinary Saturday is no exception
    # every weekday closure of 2026, and nothing else on a weekday
    weekday_closures = {day for day, info in days.items() if day.weekday() < 5 and not info.working}
    assert weekday_closures == {
        date(2026, 1, 1),
        *(date(2026, 2, d) for d in range(16, 21)),
        date(2026, 4, 27),
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 8, 31),
        date(2026, 9, 1),
        date(2026, 9, 2),
        date(2026, 11, 24),
    }
    assert {day for day, info in days.items() if info.working} == {date(2026, 8, 22)}


# (received, channel, expected clock start)
CLOCK_START_CASES = [
    row("counter-1459-at-once", "Wed 2026-03-11 14:59", COUNTER, "Wed 2026-03-11 14:59"),
    row("counter-1500-next-day", "Wed 2026-03-11 15:00", COUNTER, "Thu 2026-03-12 07:30"),
    row("counter-1630-next-day", "Wed 2026-03-11 16:30", COUNTER, "Thu 2026-03-12 07:30"),
    row("counter-lunch-afternoon", "Wed 2026-03-11 12:15", COUNTER, "Wed 2026-03-11 13:00"),
    row("counter-saturday", "Sat 2026-03-14 09:00", COUNTER, "Mon 2026-03-16 07:30"),
    row("online-1630-at-once", "Wed 2026-03-11 16:30", ONLINE, "Wed 2026-03-11 16:30"),
    row("online-evening", "Wed 2026-03-11 17:30", ONLINE, "Thu 2026-03-12 07:30"),
    row("online-lunch", "Wed 2026-03-11 12:15", ONLINE, "Wed 2026-03-11 13:00"),
    row("online-fri-21aug-evening-to-sat", "Fri 2026-08-21 18:00", ONLINE, "Sat 2026-08-22 07:30"),
    row("online-fri-28aug-evening-to-3sep", "Fri 2026-08-28 18:00", ONLINE, "Thu 2026-09-03 07:30"),
    row("postal-after-cutoff", "Thu 2026-03-12 15:20", POSTAL, "Fri 2026-03-13 07:30"),
    row("postal-at-once", "Thu 2026-03-12 10:15", POSTAL, "Thu 2026-03-12 10:15"),
]


@pytest.mark.parametrize(("received", "channel", "expected"), CLOCK_START_CASES)
def test_clock_start(received: datetime, channel: Channel, expected: datetime) -> None:
    assert clock_start(CAL, received, channel) == expected


def test_cutoff_can_be_waived_or_moved() -> None:
    received = at("Wed 2026-03-11 16:00")
    assert clock_start(CAL, received, COUNTER, cutoff_applies=False) == received
    assert clock_start(CAL, received, COUNTER, cutoff=time(16, 30)) == received
    assert clock_start(CAL, received, COUNTER, cutoff=time(16, 0)) == at("Thu 2026-03-12 07:30")


def test_time_limit_rejects_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unit"):
        _ = TimeLimit(1, "calendar_days").seconds


# --- overrides and agency windows ---------------------------------------------------------------------


def fixed_source(year: int) -> tuple[dict[date, str], frozenset[date]]:
    """A holiday source that ignores the package: Wed 11 March closed, Sat 14 March worked."""
    return {date(year, 3, 11): "Ngày nghỉ thử"}, frozenset({date(year, 3, 14)})


def test_closed_override_on_a_wednesday_pushes_due_by_one_day() -> None:
    rules = CalendarRules(overrides={date(2026, 3, 11): DayOverride("closed", "Mất điện")})
    calendar = WorkingCalendar(rules)
    # Tue 10 Mar 09:00 + 1d: Tue 6.5h, Wed closed, Thu 07:30 + 1.5h (without the closure: Wed 09:00)
    assert CAL.add_working_days(at("Tue 2026-03-10 09:00"), 1) == at("Wed 2026-03-11 09:00")
    assert calendar.add_working_days(at("Tue 2026-03-10 09:00"), 1) == at("Thu 2026-03-12 09:00")
    info = calendar.day(date(2026, 3, 11))
    assert not info.working
    assert info.reason == "Mất điện"


def test_working_override_on_a_sunday_adds_its_hours() -> None:
    windows = parse_windows([("08:00", "12:00")])
    rules = CalendarRules(overrides={date(2026, 3, 15): DayOverride("working", "Cao điểm cấp CCCD", windows)})
    calendar = WorkingCalendar(rules)
    # Fri 17:00 → Mon 07:30: nothing normally, the Sunday's 08:00–12:00 = 4h with the override
    assert CAL.working_seconds_between(at("Fri 2026-03-13 17:00"), at("Mon 2026-03-16 07:30")) == 0
    assert calendar.working_seconds_between(at("Fri 2026-03-13 17:00"), at("Mon 2026-03-16 07:30")) == 4 * HOUR
    # Fri 10:00 + 1d: Fri 5.5h; Sat off; Sun 08:00 + 2.5h
    assert due(calendar, at("Fri 2026-03-13 10:00"), COUNTER, 1, DAYS) == at("Sun 2026-03-15 10:30")
    # online on Saturday evening starts on the Sunday's opening
    assert clock_start(calendar, at("Sat 2026-03-14 20:00"), ONLINE) == at("Sun 2026-03-15 08:00")
    assert calendar.is_working_time(at("Sun 2026-03-15 12:00"))
    assert not calendar.is_working_time(at("Sun 2026-03-15 13:00"))


def test_working_override_without_windows_uses_the_weekday_windows() -> None:
    rules = CalendarRules(overrides={date(2026, 3, 14): DayOverride("working", "Làm bù")})
    calendar = WorkingCalendar(rules)
    assert calendar.day(date(2026, 3, 14)).windows == DEFAULT_WEEKDAY_WINDOWS
    assert calendar.working_seconds_between(at("Sat 2026-03-14 00:00"), at("Sun 2026-03-15 00:00")) == 8 * HOUR


def test_overrides_beat_the_package() -> None:
    rules = CalendarRules(
        overrides={
            date(2026, 8, 22): DayOverride("closed", "Không làm bù"),
            date(2026, 11, 24): DayOverride("working", "Trực"),
        }
    )
    calendar = WorkingCalendar(rules)
    # Fri 21 Aug 14:00 + 1d: Fri 3h; Sat 22 closed, Sun; Mon 24 Aug morning 4h (7h), 13:00 + 1h
    assert calendar.add_working_days(at("Fri 2026-08-21 14:00"), 1) == at("Mon 2026-08-24 14:00")
    assert calendar.is_working_time(at("Tue 2026-11-24 10:00"))


def test_fixed_holiday_source_is_independent_of_the_package() -> None:
    calendar = WorkingCalendar(CalendarRules(holiday_source=fixed_source))
    # 1 Jan 2026 is a public holiday in the package, not in this source
    assert calendar.is_working_time(at("Thu 2026-01-01 09:00"))
    # Tue 10 Mar 09:00 + 3d = 24h: Tue 6.5h, Wed 11 closed, Thu 8h (14.5), Fri 8h (22.5),
    # Sat 14 (make-up in this source) 07:30 + 1.5h
    assert calendar.add_working_days(at("Tue 2026-03-10 09:00"), 3) == at("Sat 2026-03-14 09:00")
    assert calendar.day(date(2026, 3, 14)).reason


WARD_SPEC = {
    **{day: [["07:30", "11:30"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["07:30", "11:30"]],
}


def test_ward_open_saturday_morning() -> None:
    weekly = weekly_from_spec(WARD_SPEC)
    assert weekly[5] == ((7 * HOUR + 30 * 60, 11 * HOUR + 30 * 60),)
    assert weekly[6] == ()
    # Fri 13 Mar 10:00 + 1d: Fri 5.5h; Sat 07:30 + 2.5h
    ward = WorkingCalendar(CalendarRules(weekly=weekly))
    assert due(ward, at("Fri 2026-03-13 10:00"), COUNTER, 1, DAYS) == at("Sat 2026-03-14 10:00")
    # Sat 10:00 + 1d: Sat 10:00–11:30 1.5h; Sun off; Mon morning 4h (5.5h); 13:00 + 2.5h
    assert due(ward, at("Sat 2026-03-14 10:00"), COUNTER, 1, DAYS) == at("Mon 2026-03-16 15:30")
    # "trong ngày" on the Saturday closes at 11:30
    assert due(ward, at("Sat 2026-03-14 09:00"), COUNTER, 0, DAYS) == at("Sat 2026-03-14 11:30")
    # the ward's make-up Saturday (22 Aug 2026) uses the ordinary weekday windows
    assert ward.day(date(2026, 8, 22)).windows == DEFAULT_WEEKDAY_WINDOWS


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param([("07:30", "11:30"), ("11:00", "17:00")], id="overlapping"),
        pytest.param([("11:30", "07:30")], id="reversed"),
        pytest.param([("13:00", "17:00"), ("07:30", "11:30")], id="out-of-order"),
        pytest.param([("09:00", "09:00")], id="empty"),
    ],
)
def test_parse_windows_rejects(spec: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="window"):
        parse_windows(spec)


def test_parse_windows_accepts() -> None:
    assert parse_windows([("07:30", "11:30"), ("13:00", "17:00")]) == DEFAULT_WEEKDAY_WINDOWS
    assert parse_windows([("11:30", "13:00"), ("13:00", "14:00")]) == ((41400, 46800), (46800, 50400))
    assert parse_windows([("22:00", "00:00")]) == ((22 * HOUR, 24 * HOUR),)  # "00:00" closes at midnight
    assert parse_windows([]) == ()


def test_weekly_from_spec_rejects_unknown_days() -> None:
    with pytest.raises(ValueError, match="unknown weekdays"):
        weekly_from_spec({"monday": [["07:30", "11:30"]]})
