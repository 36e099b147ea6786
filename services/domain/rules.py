""" "Overdue" and "version in force", each written once and read both in Python and in SQL.

Each rule is one function over an ``_Ops`` — the handful of operations it needs (and, or, coalesce,
less-than, membership, a case). ``_PY`` evaluates them on Python values with SQL's three-valued logic
(None is NULL: ``None < x`` is unknown, and unknown is not true), ``_SQL`` builds the SQLAlchemy
expression. So the predicate a test or a loader runs in Python and the WHERE clause a query runs cannot
drift apart: they are the same lines (tests/domain/test_vocabulary.py checks them on rows of the database).

The rules take the columns as arguments rather than naming the tables, so this package needs no ORM
(see ``services.domain``) and a raw-SQL caller can pass ``literal_column("d.status")``.

"Overdue" (``is_overdue``) is the legal one the indicators count and the overdue list shows. Two flags
shown to people are deliberately other questions: an officer's task list marks a task whose running
*step* or dossier is past its due time (``task_past_due``, with ``step_due_soon``, also Python and SQL
from one source), and the citizen's tracking page says whether the *appointment* they hold (moved once
by an apology) has passed while the clock runs (``appointment_passed``, read by ``services/intake/tracking.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Boolean, DateTime, String, and_, case, func, literal_column, or_
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.elements import ColumnElement

from services.domain.vocabulary import NOT_CLOSED, OPEN, PAUSED, in_order


class _Ops(Protocol):
    def all(self, *terms: Any) -> Any: ...
    def any(self, *terms: Any) -> Any: ...
    def less(self, left: Any, right: Any) -> Any: ...
    def at_most(self, left: Any, right: Any) -> Any: ...
    def is_null(self, value: Any) -> Any: ...
    def member(self, value: Any, values: Collection[str]) -> Any: ...
    def coalesce(self, *values: Any) -> Any: ...
    def when(self, condition: Any, then: Any, otherwise: Any) -> Any: ...


class _Python:
    """Three-valued logic on plain values: None plays NULL."""

    def all(self, *terms: Any) -> Any:
        if any(term is False for term in terms):
            return False
        return None if any(term is None for term in terms) else True

    def any(self, *terms: Any) -> Any:
        if any(term is True for term in terms):
            return True
        return None if any(term is None for term in terms) else False

    def less(self, left: Any, right: Any) -> Any:
        return None if left is None or right is None else left < right

    def at_most(self, left: Any, right: Any) -> Any:
        return None if left is None or right is None else left <= right

    def is_null(self, value: Any) -> Any:
        return value is None

    def member(self, value: Any, values: Collection[str]) -> Any:
        return None if value is None else value in values

    def coalesce(self, *values: Any) -> Any:
        return next((value for value in values if value is not None), None)

    def when(self, condition: Any, then: Any, otherwise: Any) -> Any:
        return then if condition is True else otherwise


class _Sql:
    """The same operations as SQLAlchemy expressions."""

    def all(self, *terms: Any) -> Any:
        return and_(*terms)

    def any(self, *terms: Any) -> Any:
        return or_(*terms)

    def less(self, left: Any, right: Any) -> Any:
        return left < right

    def at_most(self, left: Any, right: Any) -> Any:
        return left <= right

    def is_null(self, value: Any) -> Any:
        return value.is_(None)

    def member(self, value: Any, values: Collection[str]) -> Any:
        return value.in_([str(item) for item in values])

    def coalesce(self, *values: Any) -> Any:
        return func.coalesce(*values)

    def when(self, condition: Any, then: Any, otherwise: Any) -> Any:
        return case((condition, then), else_=otherwise)


_PY = _Python()
_SQL = _Sql()
# the dialect the services run on: text rendered with it is what the database would have received
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect constructors untyped


# --- overdue -------------------------------------------------------------------------------------


def _overdue(ops: _Ops, status: Any, late_by_rule: Any, due_at: Any, paused_since: Any, now: Any) -> Any:
    # open, and late by rule or past the legal due time; a paused dossier is judged at the moment its
    # pause began (the clock stopped there), the others now
    reference = ops.when(ops.member(status, in_order(PAUSED)), ops.coalesce(paused_since, now), now)
    return ops.all(
        ops.member(status, in_order(OPEN)),
        ops.any(late_by_rule, ops.coalesce(ops.less(due_at, reference), False)),
    )


def is_overdue(
    status: str, *, late_by_rule: bool, due_at: datetime | None, paused_since: datetime | None, now: datetime
) -> bool:
    """Whether a dossier is overdue: open, and late by rule (a second supplement request) or past its legal
    due time — for a paused dossier, past it when the pause began."""
    return _overdue(_PY, status, late_by_rule, due_at, paused_since, now) is True


def overdue_clause(*, status: Any, late_by_rule: Any, due_at: Any, paused_since: Any, now: Any) -> ColumnElement[bool]:
    """``is_overdue`` as SQL, over the given columns (``paused_since``: the open dossier timer's
    ``paused_at``, usually a scalar subquery; ``now``: a value or a bound parameter)."""
    clause: ColumnElement[bool] = _overdue(_SQL, status, late_by_rule, due_at, paused_since, now)
    return clause


def overdue_sql(*, alias: str, paused_since: str, now: str) -> str:
    """``overdue_clause`` as literal SQL text for hand-written queries: columns of table alias ``alias``,
    ``paused_since`` and ``now`` given as SQL text (a subquery, a ``:now`` parameter)."""
    clause = overdue_clause(
        status=literal_column(f"{alias}.status", String()),
        late_by_rule=literal_column(f"{alias}.late_by_rule", Boolean()),
        due_at=literal_column(f"{alias}.due_at", DateTime(timezone=True)),
        paused_since=literal_column(paused_since, DateTime(timezone=True)),
        now=literal_column(now, DateTime(timezone=True)),
    )
    return str(clause.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


# --- version in force ----------------------------------------------------------------------------


def _in_force(ops: _Ops, published: Any, valid_from: Any, valid_to: Any, day: Any) -> Any:
    # published, started on or before the day and not ended by it (valid_to null = open-ended)
    return ops.all(published, ops.at_most(valid_from, day), ops.any(ops.is_null(valid_to), ops.less(day, valid_to)))


def in_force(*, published: bool, valid_from: date, valid_to: date | None, day: date) -> bool:
    """Whether a procedure version is in force on ``day`` (the date in Vietnam)."""
    return _in_force(_PY, published, valid_from, valid_to, day) is True


def in_force_clause(*, published: Any, valid_from: Any, valid_to: Any, day: Any) -> ColumnElement[bool]:
    """``in_force`` as SQL over a version's columns (``ProcedureVersion`` or an alias of it)."""
    clause: ColumnElement[bool] = _in_force(_SQL, published, valid_from, valid_to, day)
    return clause


# --- an officer's task: past due, due soon ---------------------------------------------------------


def _task_past_due(ops: _Ops, step_due_at: Any, due_at: Any, now: Any) -> Any:
    # the running step's due time or the dossier's has passed (not the legal "overdue": no pause rule)
    return ops.any(ops.less(step_due_at, now), ops.less(due_at, now))


def task_past_due(*, step_due_at: datetime | None, due_at: datetime | None, now: datetime) -> bool:
    """The task list's red flag: the running step's due time, or the dossier's, has passed."""
    return _task_past_due(_PY, step_due_at, due_at, now) is True


def task_past_due_clause(*, step_due_at: Any, due_at: Any, now: Any) -> ColumnElement[bool]:
    """``task_past_due`` as SQL over the running step timer's and the dossier's ``due_at``."""
    clause: ColumnElement[bool] = _task_past_due(_SQL, step_due_at, due_at, now)
    return clause


def _step_due_soon(ops: _Ops, due_soon_at: Any, due_at: Any, now: Any) -> Any:
    # inside the running step's warning window: from its warning time up to its due time
    return ops.all(ops.at_most(due_soon_at, now), ops.at_most(now, due_at))


def step_due_soon(*, due_soon_at: datetime | None, due_at: datetime | None, now: datetime) -> bool:
    """The task list's amber flag: the running step is between its warning time and its due time."""
    return _step_due_soon(_PY, due_soon_at, due_at, now) is True


def step_due_soon_clause(*, due_soon_at: Any, due_at: Any, now: Any) -> ColumnElement[bool]:
    """``step_due_soon`` as SQL over the running step timer's columns."""
    clause: ColumnElement[bool] = _step_due_soon(_SQL, due_soon_at, due_at, now)
    return clause


# --- the citizen's appointment: passed ---------------------------------------------------------------


def _appointment_passed(ops: _Ops, status: Any, appointment_at: Any, due_at: Any, paused_since: Any, now: Any) -> Any:
    # the appointment held (an apology's new one, else the legal due time) is behind us, the dossier is not
    # closed and its clock runs: a paused dossier waits for the citizen, so its appointment is not "passed"
    return ops.all(
        ops.member(status, in_order(NOT_CLOSED)),
        ops.is_null(paused_since),
        ops.coalesce(ops.less(ops.coalesce(appointment_at, due_at), now), False),
    )


def appointment_passed(
    *, status: str, appointment_at: datetime | None, due_at: datetime | None, paused_since: datetime | None,
    now: datetime,
) -> bool:  # fmt: skip
    """The tracking page's flag: the appointment the citizen holds has passed while the dossier is not
    closed and its clock runs (not the legal "overdue": no rule lateness, the apology's date counts)."""
    return _appointment_passed(_PY, status, appointment_at, due_at, paused_since, now) is True


def appointment_passed_clause(
    *, status: Any, appointment_at: Any, due_at: Any, paused_since: Any, now: Any
) -> ColumnElement[bool]:
    """``appointment_passed`` as SQL over a dossier's columns and its dossier timer's ``paused_at``."""
    clause: ColumnElement[bool] = _appointment_passed(_SQL, status, appointment_at, due_at, paused_since, now)
    return clause
