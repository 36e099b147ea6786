"""Benchmark: the table-driven working calendar against a naive day-by-day walk.

Run with ``python -m bench.bench_calendar`` (or ``make bench``). Both implementations answer the
same questions on the same random inputs — 60-working-day spans from random instants of
2025–2027, Vietnam's real holidays, default windows — and must give identical answers. The
table-driven calendar must be at least 50 times faster; the script exits non-zero otherwise.

The naive baseline is what a straightforward system does: walk day by day from the start, asking
the ``holidays`` package whether each day is a public holiday or an official make-up working day,
and walk that day's windows.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays

from bench.common import QUICK
from services.calendar.working import DEFAULT_WEEKDAY_WINDOWS, HOUR, VN_TZ, WORKING_DAY, WorkingCalendar

TARGET_RATIO = 50.0
SPAN_WORKING_DAYS = 60
INPUTS = 200 if QUICK else 2000
REPEATS = 2 if QUICK else 7
SEED = 766  # Quyết định 766/QĐ-TTg
FIRST = datetime(2025, 1, 1, tzinfo=VN_TZ)
LAST = datetime(2027, 12, 31, 23, 59, tzinfo=VN_TZ)
DAY_SECONDS = 24 * HOUR


def _second_of_day(local: datetime) -> float:
    return local.hour * HOUR + local.minute * 60 + local.second + local.microsecond / 1e6


class NaiveCalendar:
    """A day-by-day, window-by-window walk that asks the ``holidays`` package about every day."""

    def __init__(self) -> None:
        self.vn = holidays.country_holidays("VN")
        self.windows = DEFAULT_WEEKDAY_WINDOWS

    def is_working_day(self, day: date) -> bool:
        if day in self.vn:  # populates that year, its make-up working days included
            return False
        if day in self.vn.weekend_workdays:
            return True
        return day.weekday() < 5

    def _at(self, day: date, second: float) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=VN_TZ) + timedelta(seconds=second)

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        if seconds == 0:
            return start
        local = start.astimezone(VN_TZ)
        day, second, remaining = local.date(), _second_of_day(local), seconds
        while True:
            if self.is_working_day(day):
                for window_start, window_end in self.windows:
                    if second >= window_end:
                        continue
                    begin = max(second, window_start)
                    available = window_end - begin
                    if remaining <= available:
                        return self._at(day, begin + remaining)
                    remaining -= available
            day += timedelta(days=1)
            second = 0.0

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        if end < start:
            return -self.working_seconds_between(end, start)
        local_start, local_end = start.astimezone(VN_TZ), end.astimezone(VN_TZ)
        day, last = local_start.date(), local_end.date()
        total = 0.0
        while day <= last:
            if self.is_working_day(day):
                low = _second_of_day(local_start) if day == local_start.date() else 0.0
                high = _second_of_day(local_end) if day == last else DAY_SECONDS
                for window_start, window_end in self.windows:
                    total += max(0.0, min(high, window_end) - max(low, window_start))
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class Timing:
    best: float
    median: float

    def ops_per_second(self, count: int) -> float:
        return count / self.median


def measure(run: Callable[[], object]) -> Timing:
    samples = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return Timing(min(samples), statistics.median(samples))


def random_starts(count: int) -> list[datetime]:
    rng = random.Random(SEED)
    minutes = int((LAST - FIRST).total_seconds()) // 60
    return [FIRST + timedelta(minutes=rng.randrange(minutes + 1)) for _ in range(count)]


def report(title: str, ours: Timing, naive: Timing, count: int) -> bool:
    ratio = ours.ops_per_second(count) / naive.ops_per_second(count)
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"\n{title}")
    print(f"  {'implementation':<22}{'best ms':>10}{'median ms':>11}{'ops/s':>12}")
    for name, timing in (("ours (year tables)", ours), ("naive (day walk)", naive)):
        best_ms, median_ms = timing.best * 1e3, timing.median * 1e3
        print(f"  {name:<22}{best_ms:>10.1f}{median_ms:>11.1f}{timing.ops_per_second(count):>12,.0f}")
    print(f"  ratio ours/naive {ratio:,.1f}×   target ≥ {TARGET_RATIO:.0f}×   {verdict}")
    return ratio >= TARGET_RATIO


def check_same(name: str, ours: Sequence[object], naive: Sequence[object], inputs: Sequence[object]) -> None:
    for given, mine, theirs in zip(inputs, ours, naive, strict=True):
        if mine != theirs:
            raise SystemExit(f"{name}: ours and naive disagree for {given}: {mine} != {theirs}")


def main() -> int:
    calendar = WorkingCalendar()
    naive = NaiveCalendar()
    starts = random_starts(INPUTS)
    span = SPAN_WORKING_DAYS * WORKING_DAY

    # warm up both: year tables built, holiday years populated
    dues = [calendar.add_working_days(start, SPAN_WORKING_DAYS) for start in starts]
    naive_dues = [naive.add_working_seconds(start, span) for start in starts]
    check_same("add_working_days", dues, naive_dues, starts)
    spans = list(zip(starts, dues, strict=True))
    between = [calendar.working_seconds_between(start, end) for start, end in spans]
    naive_between = [naive.working_seconds_between(start, end) for start, end in spans]
    check_same("working_seconds_between", between, naive_between, spans)
    if any(seconds != span for seconds in between):
        raise SystemExit("working_seconds_between over a 60-working-day span is not 60 working days")

    print(
        f"Working calendar: {INPUTS} random starts in 2025–2027, spans of {SPAN_WORKING_DAYS} working days, "
        f"VN holidays; median of {REPEATS} runs; answers identical for every input"
    )
    add_ours = measure(lambda: [calendar.add_working_days(start, SPAN_WORKING_DAYS) for start in starts])
    add_naive = measure(lambda: [naive.add_working_seconds(start, span) for start in starts])
    between_ours = measure(lambda: [calendar.working_seconds_between(start, end) for start, end in spans])
    between_naive = measure(lambda: [naive.working_seconds_between(start, end) for start, end in spans])

    passed = report(f"add_working_days(start, {SPAN_WORKING_DAYS})", add_ours, add_naive, INPUTS)
    passed &= report("working_seconds_between(start, due)", between_ours, between_naive, INPUTS)
    print(f"\n{'PASS' if passed else 'FAIL'}")
    return 0 if passed or QUICK else 1


if __name__ == "__main__":
    sys.exit(main())
