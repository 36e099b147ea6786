"""Properties of the working calendar, checked on random instants of 2025–2027 (real VN holidays).

Instants are drawn at minute resolution in Asia/Ho_Chi_Minh; amounts of working time are whole
working minutes or whole half-days (half-days make due times land on window ends, 11:30 and
17:00, where off-by-one mistakes live).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.calendar.working import HOUR, VN_TZ, WorkingCalendar

CAL = WorkingCalendar()

FIRST = datetime(2025, 1, 1, tzinfo=VN_TZ)
LAST = datetime(2027, 12, 31, 23, 59, tzinfo=VN_TZ)
MINUTE = 60
HALF_DAY = 4 * HOUR

# database=None: no example database written into the checkout
PROPERTY = settings(max_examples=200, deadline=None, database=None)

instants = st.integers(0, int((LAST - FIRST).total_seconds()) // MINUTE).map(
    lambda minutes: FIRST + timedelta(minutes=minutes)
)
# up to ~60 working days, in whole minutes or half-days (seconds)
amounts = st.one_of(
    st.integers(1, 60 * 8 * 60).map(lambda minutes: minutes * MINUTE),
    st.integers(1, 120).map(lambda halves: halves * HALF_DAY),
)
amounts_or_zero = st.one_of(st.just(0), amounts)


@PROPERTY
@given(instant=instants, first=amounts_or_zero, second=amounts_or_zero)
def test_adding_in_two_steps_equals_adding_the_sum(instant: datetime, first: int, second: int) -> None:
    start = CAL.next_working_instant(instant)
    assert CAL.add_working_seconds(CAL.add_working_seconds(start, first), second) == CAL.add_working_seconds(
        start, first + second
    )


@PROPERTY
@given(instant=instants, amount=amounts)
def test_a_due_instant_is_working_time(instant: datetime, amount: int) -> None:
    assert CAL.is_working_time(CAL.add_working_seconds(instant, amount))


@PROPERTY
@given(instant=instants, amount=amounts)
def test_working_time_up_to_the_due_instant_is_the_amount(instant: datetime, amount: int) -> None:
    start = CAL.next_working_instant(instant)
    due = CAL.add_working_seconds(start, amount)
    assert due > start
    assert CAL.working_seconds_between(start, due) == amount


@PROPERTY
@given(
    instant=instants,
    budget=amounts,
    pause_after=st.integers(0, 90 * 24 * 60),
    pause_length=st.integers(1, 45 * 24 * 60),
)
def test_a_pause_moves_the_due_time_by_exactly_its_working_time(
    instant: datetime, budget: int, pause_after: int, pause_length: int
) -> None:
    start = CAL.next_working_instant(instant)
    pause_start = start + timedelta(minutes=pause_after)
    pause_end = pause_start + timedelta(minutes=pause_length)
    paused = CAL.working_seconds_between(pause_start, pause_end)
    if paused < MINUTE:  # a pause over a weekend or a night excludes nothing
        assert CAL.add_working_seconds(start, budget + paused) == CAL.add_working_seconds(start, budget)
        return
    due = CAL.add_working_seconds(start, budget)
    moved = CAL.add_working_seconds(start, budget + paused)
    assert moved == CAL.add_working_seconds(due, paused)
    assert CAL.working_seconds_between(due, moved) == paused


@PROPERTY
@given(first=instants, second=instants, amount=amounts)
def test_adding_is_monotonic(first: datetime, second: datetime, amount: int) -> None:
    early, late = sorted((first, second))
    assert CAL.add_working_seconds(early, amount) <= CAL.add_working_seconds(late, amount)


@PROPERTY
@given(a=instants, b=instants, c=instants)
def test_working_time_between_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    assert CAL.working_seconds_between(a, b) + CAL.working_seconds_between(b, c) == CAL.working_seconds_between(a, c)
    assert CAL.working_seconds_between(a, b) == -CAL.working_seconds_between(b, a)


@PROPERTY
@given(instant=instants, amount=amounts)
def test_the_due_instant_is_the_earliest(instant: datetime, amount: int) -> None:
    # a minute earlier the working time has not yet passed (so never the next window's opening)
    due = CAL.add_working_seconds(instant, amount)
    assert CAL.working_seconds_between(instant, due - timedelta(minutes=1)) < amount
