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

from datetime import date, datetime, time, timedelta

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


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


def due(calendar: WorkingCalendar, received: datetime, channel: Channel, value: float, unit: str) -> datetime:
    return legal_due(calendar, clock_start(calendar, received, channel), TimeLimit(value, unit))


# (received, channel, limit value, limit unit, expected legal due time)
DUE_CASES = [
    # --- ordinary weeks and weekends (March 2026 has no holiday) ---------------------------------
    pytest.param(
        # Mon 09:00–11:30 2.5h + 13:00–17:00 4h = 6.5h; 1.5h left → Tue 07:30 + 1.5h
        vn(2026, 3, 9, 9, 0), COUNTER, 1, DAYS, vn(2026, 3, 10, 9, 0),
        id="counter-mon-0900-1d-morning-in-morning-out",
    ),
    pytest.param(
        # Fri 10:00–11:30 1.5h + 4h = 5.5h; Sat, Sun off; Mon 07:30 + 2.5h
        vn(2026, 3, 13, 10, 0), COUNTER, 1, DAYS, vn(2026, 3, 16, 10, 0),
        id="counter-fri-1000-1d-over-weekend",
    ),
    pytest.param(
        # 24h: Thu 14:00–17:00 3h, Fri 8h (11), Mon 8h (19), Tue morning 4h (23), Tue 13:00 + 1h
        vn(2026, 3, 12, 14, 0), COUNTER, 3, DAYS, vn(2026, 3, 17, 14, 0),
        id="counter-thu-1400-3d-over-weekend",
    ),
    pytest.param(
        # before opening: clock from 07:30; 8h = the whole Tuesday → 17:00
        vn(2026, 3, 10, 6, 45), COUNTER, 1, DAYS, vn(2026, 3, 10, 17, 0),
        id="counter-0645-before-opening-1d",
    ),
    # --- the lunch break ----------------------------------------------------------------------------
    pytest.param(
        # received 12:10 → clock from 13:00; Tue 13–17 4h, Wed 07:30–11:30 4h: ends exactly at 11:30
        vn(2026, 3, 10, 12, 10), COUNTER, 1, DAYS, vn(2026, 3, 11, 11, 30),
        id="counter-in-lunch-break-1d-due-at-1130-boundary",
    ),
    pytest.param(
        # 10:00–11:30 1.5h, then 13:00 + 2.5h
        vn(2026, 3, 10, 10, 0), COUNTER, 4, HOURS, vn(2026, 3, 10, 15, 30),
        id="counter-1000-4h-crosses-lunch",
    ),
    pytest.param(
        # 07:30 + 4h = the whole morning: 11:30, not 13:00
        vn(2026, 3, 10, 7, 30), COUNTER, 4, HOURS, vn(2026, 3, 10, 11, 30),
        id="counter-0730-4h-ends-at-1130",
    ),
    # --- the 15:00 counter cut-off ------------------------------------------------------------------
    pytest.param(
        # Wed 14:59–17:00 2h01, Thu morning 4h (6h01), 1h59 from 13:00
        vn(2026, 3, 11, 14, 59), COUNTER, 1, DAYS, vn(2026, 3, 12, 14, 59),
        id="counter-wed-1459-before-cutoff",
    ),
    pytest.param(
        # 15:00 → from Thu 07:30; 8h → Thu 17:00
        vn(2026, 3, 11, 15, 0), COUNTER, 1, DAYS, vn(2026, 3, 12, 17, 0),
        id="counter-wed-1500-at-cutoff",
    ),
    pytest.param(
        # 16:30 → from Thu 07:30; 16h = Thu + Fri
        vn(2026, 3, 11, 16, 30), COUNTER, 2, DAYS, vn(2026, 3, 13, 17, 0),
        id="counter-wed-1630-after-cutoff-2d",
    ),
    pytest.param(
        # Fri after cut-off → next working day Mon 07:30; 8h → Mon 17:00
        vn(2026, 3, 13, 15, 30), COUNTER, 1, DAYS, vn(2026, 3, 16, 17, 0),
        id="counter-fri-1530-after-cutoff-to-monday",
    ),
    pytest.param(
        # Wed 29 Apr after cut-off; Thu 30 Apr, Fri 1 May off, Sat, Sun → Mon 4 May 07:30 + 8h
        vn(2026, 4, 29, 15, 10), COUNTER, 1, DAYS, vn(2026, 5, 4, 17, 0),
        id="counter-1510-day-before-30apr-1may-2026",
    ),
    pytest.param(
        # Fri 24 Apr after cut-off; Sat, Sun 26 Apr (Hùng Kings), Mon 27 (observed) → Tue 28 07:30 + 8h
        vn(2026, 4, 24, 16, 0), COUNTER, 1, DAYS, vn(2026, 4, 28, 17, 0),
        id="counter-fri-1600-before-hung-kings-observed-2026",
    ),
    # --- Tết ----------------------------------------------------------------------------------------
    pytest.param(
        # Mon 1 Feb 6.5h, Tue 2 Feb 8h (14.5), Wed 3 Feb 07:30 + 1.5h — ends before Tết
        vn(2027, 2, 1, 9, 0), COUNTER, 2, DAYS, vn(2027, 2, 3, 9, 0),
        id="tet2027-before-ends-before-tet",
    ),
    pytest.param(
        # 40h: Mon 6.5, Tue 8 (14.5), Wed 8 (22.5), Thu 4 – Wed 10 Feb off, Thu 11 8 (30.5),
        # Fri 12 8 (38.5), weekend, Mon 15 07:30 + 1.5h
        vn(2027, 2, 1, 9, 0), COUNTER, 5, DAYS, vn(2027, 2, 15, 9, 0),
        id="tet2027-5d-across",
    ),
    pytest.param(
        # Wed 3 Feb 14:59–17:00 2h01; Tết; Thu 11 Feb morning 4h (6h01), 13:00 + 1h59
        vn(2027, 2, 3, 14, 59), COUNTER, 1, DAYS, vn(2027, 2, 11, 14, 59),
        id="tet2027-counter-1459-day-before",
    ),
    pytest.param(
        # Wed 3 Feb at the cut-off → next working day is Thu 11 Feb 07:30; + 8h
        vn(2027, 2, 3, 15, 0), COUNTER, 1, DAYS, vn(2027, 2, 11, 17, 0),
        id="tet2027-counter-1500-day-before",
    ),
    pytest.param(
        # received on Mon 8 Feb (Tết) → from Thu 11 Feb 07:30; 16h = Thu + Fri 12 Feb
        vn(2027, 2, 8, 10, 0), COUNTER, 2, DAYS, vn(2027, 2, 12, 17, 0),
        id="tet2027-counter-received-during",
    ),
    pytest.param(
        # online on Sat 6 Feb (Tết, Saturday) → from Thu 11 Feb 07:30; + 4h
        vn(2027, 2, 6, 20, 0), ONLINE, 4, HOURS, vn(2027, 2, 11, 11, 30),
        id="tet2027-online-received-during",
    ),
    pytest.param(
        # Fri 13 Feb 2026 5.5h; weekend, Tết Mon 16 – Fri 20 Feb, weekend; Mon 23 Feb 07:30 + 2.5h
        vn(2026, 2, 13, 10, 0), COUNTER, 1, DAYS, vn(2026, 2, 23, 10, 0),
        id="tet2026-fri-before-1d",
    ),
    # --- National Day 2026: Sat 22 Aug worked, Mon 31 Aug off ---------------------------------------
    pytest.param(
        # Fri 21 Aug 14:00–17:00 3h; Sat 22 Aug (make-up) morning 4h (7h), 13:00 + 1h
        vn(2026, 8, 21, 14, 0), COUNTER, 1, DAYS, vn(2026, 8, 22, 14, 0),
        id="nd2026-fri-1400-1d-uses-sat-22aug",
    ),
    pytest.param(
        # 24h: Thu 20 Aug 6.5, Fri 21 8 (14.5), Sat 22 8 (22.5), Sun off, Mon 24 07:30 + 1.5h
        vn(2026, 8, 20, 9, 0), COUNTER, 3, DAYS, vn(2026, 8, 24, 9, 0),
        id="nd2026-thu-0900-3d-uses-sat-22aug",
    ),
    pytest.param(
        # Fri 21 Aug after cut-off → the next working day is the make-up Sat 22 Aug 07:30; + 8h
        vn(2026, 8, 21, 15, 30), COUNTER, 1, DAYS, vn(2026, 8, 22, 17, 0),
        id="nd2026-fri-1530-cutoff-starts-sat-22aug",
    ),
    pytest.param(
        # Sat 22 Aug 09:00 is working time: online starts at once; 2.5h morning, 13:00 + 1.5h
        vn(2026, 8, 22, 9, 0), ONLINE, 4, HOURS, vn(2026, 8, 22, 14, 30),
        id="nd2026-online-sat-22aug-in-hours",
    ),
    pytest.param(
        # 16h: Fri 28 Aug 5.5h; Sat 29, Sun 30 (ordinary weekend), Mon 31 Aug, Tue 1, Wed 2 Sep off;
        # Thu 3 Sep 8h (13.5); Fri 4 Sep 07:30 + 2.5h
        vn(2026, 8, 28, 10, 0), COUNTER, 2, DAYS, vn(2026, 9, 4, 10, 0),
        id="nd2026-fri-28aug-2d-skips-sat-29aug-and-bridge",
    ),
    pytest.param(
        # working days after Tue 25 Aug: Wed 26, Thu 27, Fri 28, (29 Aug – 2 Sep off), Thu 3, Fri 4 Sep
        vn(2026, 8, 25, 9, 0), COUNTER, 5, DAYS, vn(2026, 9, 4, 9, 0),
        id="nd2026-tue-25aug-5d-across-bridge",
    ),
    pytest.param(
        # received on Mon 31 Aug (closed) → Tue 1, Wed 2 Sep off → Thu 3 Sep 07:30 + 8h
        vn(2026, 8, 31, 9, 0), COUNTER, 1, DAYS, vn(2026, 9, 3, 17, 0),
        id="nd2026-counter-on-31aug-closed",
    ),
    # --- Vietnam Culture Day, 24 Nov ----------------------------------------------------------------
    pytest.param(
        # Mon 23 Nov 2026 6.5h; Tue 24 Nov off; Wed 25 Nov 07:30 + 1.5h
        vn(2026, 11, 23, 9, 0), COUNTER, 1, DAYS, vn(2026, 11, 25, 9, 0),
        id="culture-day-2026-mon-0900-1d",
    ),
    pytest.param(
        # Tue 23 Nov 2027 5.5h; Wed 24 Nov off; Thu 25 Nov 07:30 + 2.5h
        vn(2027, 11, 23, 10, 0), COUNTER, 1, DAYS, vn(2027, 11, 25, 10, 0),
        id="culture-day-2027-tue-1000-1d",
    ),
    pytest.param(
        # Tue 23 Nov 2027 after cut-off; Wed 24 Nov off → Thu 25 Nov 07:30 + 8h
        vn(2027, 11, 23, 16, 0), COUNTER, 1, DAYS, vn(2027, 11, 25, 17, 0),
        id="culture-day-2027-tue-1600-after-cutoff",
    ),
    # --- online receipt outside working time --------------------------------------------------------
    pytest.param(
        # evening → from Wed 07:30; + 8h
        vn(2026, 3, 10, 19, 45), ONLINE, 1, DAYS, vn(2026, 3, 11, 17, 0),
        id="online-tue-1945-evening",
    ),
    pytest.param(
        # night → from Wed 07:30; + 4h
        vn(2026, 3, 11, 2, 10), ONLINE, 4, HOURS, vn(2026, 3, 11, 11, 30),
        id="online-wed-0210-night-4h",
    ),
    pytest.param(
        # Saturday → from Mon 07:30; + 8h
        vn(2026, 3, 14, 10, 0), ONLINE, 1, DAYS, vn(2026, 3, 16, 17, 0),
        id="online-sat-weekend",
    ),
    pytest.param(
        # Thu 30 Apr (holiday), Fri 1 May, weekend → from Mon 4 May 07:30; 16h = Mon + Tue 5 May
        vn(2026, 4, 30, 9, 0), ONLINE, 2, DAYS, vn(2026, 5, 5, 17, 0),
        id="online-30apr-holiday-2d",
    ),
    pytest.param(
        # lunch break → from 13:00; Thu afternoon 4h, Fri morning 4h → Fri 11:30
        vn(2026, 3, 12, 12, 0), ONLINE, 1, DAYS, vn(2026, 3, 13, 11, 30),
        id="online-thu-1200-lunch-break",
    ),
    pytest.param(
        # 11:30 is the morning's closing instant → from 13:00; Tue 4h, Wed morning 4h → Wed 11:30
        vn(2026, 3, 10, 11, 30), ONLINE, 1, DAYS, vn(2026, 3, 11, 11, 30),
        id="online-tue-1130-closing-of-morning",
    ),
    pytest.param(
        # online has no cut-off: 16:00–17:00 1h, Thu morning 4h (5h), 13:00 + 3h
        vn(2026, 3, 11, 16, 0), ONLINE, 1, DAYS, vn(2026, 3, 12, 16, 0),
        id="online-wed-1600-no-cutoff",
    ),
    pytest.param(
        # Fri 17:00 is the closing instant → from Mon 07:30; + 4h
        vn(2026, 3, 13, 17, 0), ONLINE, 4, HOURS, vn(2026, 3, 16, 11, 30),
        id="online-fri-1700-closing-instant",
    ),
    # --- postal: the signed hand-over counts like a counter receipt ---------------------------------
    pytest.param(
        # Thu 10:15–11:30 1.25h + 4h = 5.25h; Fri 07:30 + 2.75h
        vn(2026, 3, 12, 10, 15), POSTAL, 1, DAYS, vn(2026, 3, 13, 10, 15),
        id="postal-thu-1015-handover",
    ),
    pytest.param(
        # hand-over after the cut-off → from Fri 07:30; + 8h
        vn(2026, 3, 12, 15, 20), POSTAL, 1, DAYS, vn(2026, 3, 13, 17, 0),
        id="postal-thu-1520-handover-after-cutoff",
    ),
    # --- limits in working hours --------------------------------------------------------------------
    pytest.param(
        # Mon 14:00–17:00 3h; Tue 07:30 + 1h
        vn(2026, 3, 9, 14, 0), COUNTER, 4, HOURS, vn(2026, 3, 10, 8, 30),
        id="hours-4-counter-mon-1400",
    ),
    pytest.param(
        # Fri 09:30–11:30 2h + 4h = 6h; Mon morning 4h (10h); 13:00 + 2h
        vn(2026, 3, 13, 9, 30), COUNTER, 12, HOURS, vn(2026, 3, 16, 15, 0),
        id="hours-12-counter-fri-0930",
    ),
    pytest.param(
        # Wed 1 Sep 2027 13:00–17:00 4h; Thu 2, Fri 3 Sep off; weekend; Mon 6 Sep 8h → 17:00
        vn(2027, 9, 1, 13, 0), COUNTER, 12, HOURS, vn(2027, 9, 6, 17, 0),
        id="hours-12-across-national-day-2027",
    ),
    # --- 0 days: "trong ngày", due at the close of the day the clock starts on ----------------------
    pytest.param(
        vn(2026, 3, 10, 9, 0), COUNTER, 0, DAYS, vn(2026, 3, 10, 17, 0),
        id="same-day-counter-0900",
    ),
    pytest.param(
        vn(2026, 3, 10, 14, 59), COUNTER, 0, DAYS, vn(2026, 3, 10, 17, 0),
        id="same-day-counter-1459",
    ),
    pytest.param(
        # after the cut-off the clock starts Wed 07:30 → Wed 17:00
        vn(2026, 3, 10, 15, 30), COUNTER, 0, DAYS, vn(2026, 3, 11, 17, 0),
        id="same-day-counter-1530-after-cutoff",
    ),
    pytest.param(
        # Saturday online → clock starts Mon 07:30 → Mon 17:00
        vn(2026, 3, 14, 10, 0), ONLINE, 0, DAYS, vn(2026, 3, 16, 17, 0),
        id="same-day-online-saturday",
    ),
    pytest.param(
        # the make-up Saturday closes at 17:00 like a weekday
        vn(2026, 8, 22, 9, 0), COUNTER, 0, DAYS, vn(2026, 8, 22, 17, 0),
        id="same-day-counter-make-up-sat-22aug-2026",
    ),
    # --- the year boundary --------------------------------------------------------------------------
    pytest.param(
        # Thu 31 Dec 2026 5.5h; Fri 1 Jan 2027 off, Sat 2, Sun 3; Mon 4 Jan 8h (13.5); Tue 5 Jan 07:30 + 2.5h
        vn(2026, 12, 31, 10, 0), COUNTER, 2, DAYS, vn(2027, 1, 5, 10, 0),
        id="year-end-31dec2026-1000-2d",
    ),
    pytest.param(
        # after the cut-off on 31 Dec → the next working day is Mon 4 Jan 2027 07:30; + 8h
        vn(2026, 12, 31, 15, 0), COUNTER, 1, DAYS, vn(2027, 1, 4, 17, 0),
        id="year-end-31dec2026-1500-after-cutoff",
    ),
]


@pytest.mark.parametrize(("received", "channel", "value", "unit", "expected"), DUE_CASES)
def test_legal_due(received: datetime, channel: Channel, value: float, unit: str, expected: datetime) -> None:
    result = due(CAL, received, channel, value, unit)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=7)


# (start, working days, expected) — WorkingCalendar.add_working_days / add_working_hours directly
ADD_CASES = [
    pytest.param(
        # 0.5 day = 4h: 09:00–11:30 2.5h, 13:00 + 1.5h (the half day is kept)
        vn(2026, 3, 9, 9, 0), 0.5, vn(2026, 3, 9, 14, 30),
        id="half-day-from-0900",
    ),
    pytest.param(
        # 13:00 + 4h reaches exactly the last working instant of 2026
        vn(2026, 12, 31, 13, 0), 0.5, vn(2026, 12, 31, 17, 0),
        id="half-day-ends-exactly-at-year-end",
    ),
    pytest.param(
        # 16:00–17:00 1h; 1 Jan 2027 off, weekend; Mon 4 Jan 07:30 + 1h
        vn(2026, 12, 31, 16, 0), 0.25, vn(2027, 1, 4, 8, 30),
        id="quarter-day-from-31dec2026-1600-into-2027",
    ),
    pytest.param(
        # from Fri 21 Aug 17:00: the next 8 working hours are the whole make-up Saturday
        vn(2026, 8, 21, 17, 0), 1, vn(2026, 8, 22, 17, 0),
        id="fri-21aug-1700-1d-is-sat-22aug",
    ),
    pytest.param(
        # from Fri 28 Aug 17:00: Sat 29 Aug is NOT worked, 31 Aug – 2 Sep closed → Thu 3 Sep 17:00
        vn(2026, 8, 28, 17, 0), 1, vn(2026, 9, 3, 17, 0),
        id="fri-28aug-1700-1d-skips-sat-29aug-and-bridge",
    ),
    pytest.param(
        # working days after Wed 22 Apr 2026: Thu 23, Fri 24, (25–27 off), Tue 28, Wed 29, (30 Apr –
        # 3 May off), Mon 4, Tue 5, Wed 6, Thu 7, Fri 8, (weekend), Mon 11 May = the 10th
        vn(2026, 4, 22, 9, 0), 10, vn(2026, 5, 11, 9, 0),
        id="10d-across-hung-kings-and-30apr-1may-2026",
    ),
    pytest.param(
        # after Fri 9 Apr 2027: Mon 12, Tue 13, Wed 14, Thu 15, (Fri 16 Hùng Kings), Mon 19 … Fri 23,
        # Mon 26 Apr = the 10th
        vn(2027, 4, 9, 10, 0), 10, vn(2027, 4, 26, 10, 0),
        id="10d-across-hung-kings-2027",
    ),
    pytest.param(
        # after Thu 29 Apr 2027: Fri 30 Apr off, Sat 1 May, Sun, Mon 3 May (observed) off; Tue 4, Wed 5
        vn(2027, 4, 29, 10, 0), 2, vn(2027, 5, 5, 10, 0),
        id="2d-across-30apr-and-1may-observed-2027",
    ),
    pytest.param(
        # adding nothing returns the start unchanged, even outside working time
        vn(2026, 3, 14, 10, 0), 0, vn(2026, 3, 14, 10, 0),
        id="zero-returns-start",
    ),
]


@pytest.mark.parametrize(("start", "days", "expected"), ADD_CASES)
def test_add_working_days(start: datetime, days: float, expected: datetime) -> None:
    assert CAL.add_working_days(start, days) == expected
    assert CAL.add_working_hours(start, days * 8) == expected


# (start, end, working seconds)
BETWEEN_CASES = [
    pytest.param(
        # Fri 14:00–17:00 3h + Sat 22 Aug 8h + Mon 07:30–09:00 1.5h = 12.5h
        vn(2026, 8, 21, 14, 0), vn(2026, 8, 24, 9, 0), 12.5 * HOUR,
        id="across-make-up-sat-22aug",
    ),
    pytest.param(vn(2026, 8, 24, 9, 0), vn(2026, 8, 21, 14, 0), -12.5 * HOUR, id="across-make-up-sat-22aug-reversed"),
    pytest.param(
        # Fri 28 Aug 5.5h + (29 Aug – 2 Sep nothing) + Thu 3 Sep 07:30–10:00 2.5h = 8h
        vn(2026, 8, 28, 10, 0), vn(2026, 9, 3, 10, 0), 8 * HOUR,
        id="across-sat-29aug-and-bridge",
    ),
    pytest.param(
        # 31 Dec 16:00–17:00 1h + Mon 4 Jan 07:30–08:30 1h
        vn(2026, 12, 31, 16, 0), vn(2027, 1, 4, 8, 30), 2 * HOUR,
        id="across-year-boundary",
    ),
    pytest.param(vn(2027, 1, 4, 8, 30), vn(2026, 12, 31, 16, 0), -2 * HOUR, id="across-year-boundary-reversed"),
    pytest.param(
        # 11:00–11:30 0.5h + 13:00–13:30 0.5h
        vn(2026, 3, 10, 11, 0), vn(2026, 3, 10, 13, 30), 1 * HOUR,
        id="across-lunch",
    ),
    pytest.param(vn(2026, 3, 10, 11, 30), vn(2026, 3, 10, 13, 0), 0, id="lunch-break-only"),
    pytest.param(vn(2026, 3, 14, 10, 0), vn(2026, 3, 15, 10, 0), 0, id="weekend-only"),
    pytest.param(vn(2026, 3, 10, 10, 0), vn(2026, 3, 10, 10, 0), 0, id="same-instant"),
    pytest.param(
        # Wed 3 Feb 2027 8h + Thu 11 Feb 8h; Tết in between counts nothing
        vn(2027, 2, 3, 7, 30), vn(2027, 2, 11, 17, 0), 16 * HOUR,
        id="across-tet-2027",
    ),
    pytest.param(
        # 2026: 261 weekdays (starts Thu, 365 days) − 13 weekday closures (1 Jan, 16–20 Feb, 27 Apr,
        # 30 Apr, 1 May, 31 Aug, 1–2 Sep, 24 Nov) + 1 make-up Saturday (22 Aug) = 249 days × 8h
        vn(2026, 1, 1), vn(2027, 1, 1), 249 * 8 * HOUR,
        id="whole-year-2026",
    ),
    pytest.param(
        # 2027: 261 weekdays (starts Fri) − 12 weekday closures (1 Jan, 4–5 and 8–10 Feb, 16 Apr, 30 Apr,
        # 3 May, 2–3 Sep, 24 Nov) = 249 days × 8h
        vn(2027, 1, 1), vn(2028, 1, 1), 249 * 8 * HOUR,
        id="whole-year-2027",
    ),
]


@pytest.mark.parametrize(("start", "end", "expected"), BETWEEN_CASES)
def test_working_seconds_between(start: datetime, end: datetime, expected: float) -> None:
    assert CAL.working_seconds_between(start, end) == expected


IS_WORKING_CASES = [
    pytest.param(vn(2026, 3, 10, 7, 29), False, id="tue-0729"),
    pytest.param(vn(2026, 3, 10, 7, 30), True, id="tue-0730-opening"),
    pytest.param(vn(2026, 3, 10, 11, 30), True, id="tue-1130-closing-instant-included"),
    pytest.param(vn(2026, 3, 10, 11, 31), False, id="tue-1131"),
    pytest.param(vn(2026, 3, 10, 12, 59), False, id="tue-1259"),
    pytest.param(vn(2026, 3, 10, 13, 0), True, id="tue-1300"),
    pytest.param(vn(2026, 3, 10, 17, 0), True, id="tue-1700-closing-instant-included"),
    pytest.param(vn(2026, 3, 10, 17, 1), False, id="tue-1701"),
    pytest.param(vn(2026, 3, 14, 10, 0), False, id="ordinary-saturday"),
    pytest.param(vn(2026, 8, 22, 10, 0), True, id="sat-22aug-2026-make-up"),
    pytest.param(vn(2026, 8, 29, 10, 0), False, id="sat-29aug-2026-ordinary"),
    pytest.param(vn(2026, 8, 31, 10, 0), False, id="mon-31aug-2026-bridge"),
    pytest.param(vn(2026, 2, 16, 10, 0), False, id="tet-2026"),
    pytest.param(vn(2026, 11, 24, 10, 0), False, id="culture-day-2026"),
    pytest.param(vn(2027, 11, 24, 10, 0), False, id="culture-day-2027"),
    pytest.param(vn(2027, 11, 25, 10, 0), True, id="day-after-culture-day-2027"),
    pytest.param(vn(2027, 5, 3, 10, 0), False, id="1may-2027-observed-monday"),
]


@pytest.mark.parametrize(("instant", "expected"), IS_WORKING_CASES)
def test_is_working_time(instant: datetime, expected: bool) -> None:
    assert CAL.is_working_time(instant) is expected


def test_is_working_time_converts_other_zones() -> None:
    # 01:00 UTC = 08:00 in Hà Nội (a working Tuesday); 11:00 UTC = 18:00 (closed)
    from datetime import UTC

    assert CAL.is_working_time(datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
    assert not CAL.is_working_time(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_working_time(datetime(2026, 3, 10, 9, 0))  # noqa: DTZ001


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
    pytest.param(vn(2026, 3, 11, 14, 59), COUNTER, vn(2026, 3, 11, 14, 59), id="counter-1459-at-once"),
    pytest.param(vn(2026, 3, 11, 15, 0), COUNTER, vn(2026, 3, 12, 7, 30), id="counter-1500-next-day"),
    pytest.param(vn(2026, 3, 11, 16, 30), COUNTER, vn(2026, 3, 12, 7, 30), id="counter-1630-next-day"),
    pytest.param(vn(2026, 3, 11, 12, 15), COUNTER, vn(2026, 3, 11, 13, 0), id="counter-lunch-afternoon"),
    pytest.param(vn(2026, 3, 14, 9, 0), COUNTER, vn(2026, 3, 16, 7, 30), id="counter-saturday"),
    pytest.param(vn(2026, 3, 11, 16, 30), ONLINE, vn(2026, 3, 11, 16, 30), id="online-1630-at-once"),
    pytest.param(vn(2026, 3, 11, 17, 30), ONLINE, vn(2026, 3, 12, 7, 30), id="online-evening"),
    pytest.param(vn(2026, 3, 11, 12, 15), ONLINE, vn(2026, 3, 11, 13, 0), id="online-lunch"),
    pytest.param(vn(2026, 8, 21, 18, 0), ONLINE, vn(2026, 8, 22, 7, 30), id="online-fri-21aug-evening-to-sat"),
    pytest.param(vn(2026, 8, 28, 18, 0), ONLINE, vn(2026, 9, 3, 7, 30), id="online-fri-28aug-evening-to-3sep"),
    pytest.param(vn(2026, 3, 12, 15, 20), POSTAL, vn(2026, 3, 13, 7, 30), id="postal-after-cutoff"),
    pytest.param(vn(2026, 3, 12, 10, 15), POSTAL, vn(2026, 3, 12, 10, 15), id="postal-at-once"),
]


@pytest.mark.parametrize(("received", "channel", "expected"), CLOCK_START_CASES)
def test_clock_start(received: datetime, channel: Channel, expected: datetime) -> None:
    assert clock_start(CAL, received, channel) == expected


def test_cutoff_can_be_waived_or_moved() -> None:
    received = vn(2026, 3, 11, 16, 0)
    assert clock_start(CAL, received, COUNTER, cutoff_applies=False) == received
    assert clock_start(CAL, received, COUNTER, cutoff=time(16, 30)) == received
    assert clock_start(CAL, received, COUNTER, cutoff=time(16, 0)) == vn(2026, 3, 12, 7, 30)


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
    assert CAL.add_working_days(vn(2026, 3, 10, 9, 0), 1) == vn(2026, 3, 11, 9, 0)
    assert calendar.add_working_days(vn(2026, 3, 10, 9, 0), 1) == vn(2026, 3, 12, 9, 0)
    info = calendar.day(date(2026, 3, 11))
    assert not info.working
    assert info.reason == "Mất điện"


def test_working_override_on_a_sunday_adds_its_hours() -> None:
    windows = parse_windows([("08:00", "12:00")])
    rules = CalendarRules(overrides={date(2026, 3, 15): DayOverride("working", "Cao điểm cấp CCCD", windows)})
    calendar = WorkingCalendar(rules)
    # Fri 17:00 → Mon 07:30: nothing normally, the Sunday's 08:00–12:00 = 4h with the override
    assert CAL.working_seconds_between(vn(2026, 3, 13, 17, 0), vn(2026, 3, 16, 7, 30)) == 0
    assert calendar.working_seconds_between(vn(2026, 3, 13, 17, 0), vn(2026, 3, 16, 7, 30)) == 4 * HOUR
    # Fri 10:00 + 1d: Fri 5.5h; Sat off; Sun 08:00 + 2.5h
    assert due(calendar, vn(2026, 3, 13, 10, 0), COUNTER, 1, DAYS) == vn(2026, 3, 15, 10, 30)
    # online on Saturday evening starts on the Sunday's opening
    assert clock_start(calendar, vn(2026, 3, 14, 20, 0), ONLINE) == vn(2026, 3, 15, 8, 0)
    assert calendar.is_working_time(vn(2026, 3, 15, 12, 0))
    assert not calendar.is_working_time(vn(2026, 3, 15, 13, 0))


def test_working_override_without_windows_uses_the_weekday_windows() -> None:
    rules = CalendarRules(overrides={date(2026, 3, 14): DayOverride("working", "Làm bù")})
    calendar = WorkingCalendar(rules)
    assert calendar.day(date(2026, 3, 14)).windows == DEFAULT_WEEKDAY_WINDOWS
    assert calendar.working_seconds_between(vn(2026, 3, 14), vn(2026, 3, 15)) == 8 * HOUR


def test_overrides_beat_the_package() -> None:
    rules = CalendarRules(
        overrides={
            date(2026, 8, 22): DayOverride("closed", "Không làm bù"),
            date(2026, 11, 24): DayOverride("working", "Trực"),
        }
    )
    calendar = WorkingCalendar(rules)
    # Fri 21 Aug 14:00 + 1d: Fri 3h; Sat 22 closed, Sun; Mon 24 Aug morning 4h (7h), 13:00 + 1h
    assert calendar.add_working_days(vn(2026, 8, 21, 14, 0), 1) == vn(2026, 8, 24, 14, 0)
    assert calendar.is_working_time(vn(2026, 11, 24, 10, 0))


def test_fixed_holiday_source_is_independent_of_the_package() -> None:
    calendar = WorkingCalendar(CalendarRules(holiday_source=fixed_source))
    # 1 Jan 2026 is a public holiday in the package, not in this source
    assert calendar.is_working_time(vn(2026, 1, 1, 9, 0))
    # Tue 10 Mar 09:00 + 3d = 24h: Tue 6.5h, Wed 11 closed, Thu 8h (14.5), Fri 8h (22.5),
    # Sat 14 (make-up in this source) 07:30 + 1.5h
    assert calendar.add_working_days(vn(2026, 3, 10, 9, 0), 3) == vn(2026, 3, 14, 9, 0)
    assert calendar.day(date(2026, 3, 14)).reason


WARD_SPEC = {
    **{day: [["07:30", "11:30"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["07:30", "11:30"]],
}


def test_ward_open_saturday_morning() -> None:
    calendar = WorkingCalendar(CalendarRules(weekly=weekly_from_spec(WARD_SPEC), holiday_source=fixed_source))
    weekly = weekly_from_spec(WARD_SPEC)
    assert weekly[5] == ((7 * HOUR + 30 * 60, 11 * HOUR + 30 * 60),)
    assert weekly[6] == ()
    # Fri 13 Mar 10:00 + 1d: Fri 5.5h; Sat 07:30 + 2.5h
    ward = WorkingCalendar(CalendarRules(weekly=weekly))
    assert due(ward, vn(2026, 3, 13, 10, 0), COUNTER, 1, DAYS) == vn(2026, 3, 14, 10, 0)
    # Sat 10:00 + 1d: Sat 10:00–11:30 1.5h; Sun off; Mon morning 4h (5.5h); 13:00 + 2.5h
    assert due(ward, vn(2026, 3, 14, 10, 0), COUNTER, 1, DAYS) == vn(2026, 3, 16, 15, 30)
    # "trong ngày" on the Saturday closes at 11:30
    assert due(ward, vn(2026, 3, 14, 9, 0), COUNTER, 0, DAYS) == vn(2026, 3, 14, 11, 30)
    # the ward's make-up Saturday (22 Aug 2026) uses the ordinary weekday windows
    assert ward.day(date(2026, 8, 22)).windows == DEFAULT_WEEKDAY_WINDOWS
    # with the fixed source Wed 11 Mar is closed for the ward too
    assert not calendar.day(date(2026, 3, 11)).working


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
