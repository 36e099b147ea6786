"""One queue over our own tables: claim with ``FOR UPDATE SKIP LOCKED``, lease, backoff with full
jitter, park, release, and the polling loop that wakes a worker.

Three workers use it, each on its own domain table: the outbox relay (``outbox_event``), the
notification sender (``notification``) and the outbound webhook dispatcher (``webhook_delivery``).
A :class:`Queue` describes such a table (its "waiting" and "parked" statuses, the column that says
"not before", what a claim returns) and writes the SQL every one of them shares:

- **claim** — ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``: attempts + 1,
  ``claimed_by`` = the worker, the "not before" column moved a lease ahead. It is committed at once
  (the caller's short transaction); the work (a network call) happens after, outside any
  transaction. A worker that dies leaves the lease to expire and another claims the row again, so
  delivery is at least once; the receivers deduplicate.
- **complete / retry / park / release** — one statement each, for any number of rows at once
  (values passed as arrays and joined with ``unnest``), each written only while the row still
  waits and, by default, still belongs to the worker (``claimed_by``), so a row requeued or
  reclaimed meanwhile is never overwritten. They return the ids they changed.
- **backoff** — :func:`backoff_seconds`: exponential, full jitter, capped; a failed row waits that
  long. After the caller's maximum number of attempts (or at once on a failure retrying cannot
  fix) the row is **parked** (``parked`` / ``failed``): kept, listed and re-queueable by staff.
- **wake-up** — :func:`poll`: a worker works while there is work; when a round finds none it waits
  for a commit's NOTIFY (services/core/listen.py) or ``every`` seconds, whichever comes first; a
  failing round is logged, the next one comes as usual.

What stays with each user is its own: the outbox's HTTP delivery to a sibling service and the
event sources a relay serves; the sender's per-channel claim, its GCRA rate table, the email
handover and the group commit of outcomes; the dispatcher's egress policy, signatures and replay.

*Why not a queue library* (decided for issue 13, measured on this code base). pgqueuer and
procrastinate are well kept and both claim with ``SKIP LOCKED`` and wake workers with
LISTEN/NOTIFY; pgqueuer even advertises a "transactional enqueue". But both enqueue into their own
job table (``pgqueuer`` / ``procrastinate_jobs``) through their own driver connection (asyncpg or
psycopg), not through our SQLAlchemy ``AsyncSession``; enqueueing atomically with the dossier
write would mean reaching under the session for its raw connection. Worse, our queues are domain
rows the staff see and act on: ``outbox_event`` listed and requeued by admins, ``notification``
carrying the provider's reference, delivery receipts and the email handover, ``webhook_delivery``
a subscriber's delivery log with replay. A library would make each of them two rows (ours and its
job) kept in step by hand, and bring a second schema and migration history beside Alembic, for
what is one claim query and four updates. So: one small module, our tables, our transaction.

Measured (pgqueuer 1.6 in a scratch venv, same database and process, batches of 50, on a shared
2-core machine, so ranges): a dossier write with its job in one transaction, 196–324/s with our
row against 123–326/s with a pgqueuer job added beside it; claim + complete 3,300–9,900 rows/s
here against 3,300–9,200/s for pgqueuer's ``dequeue`` + ``log_jobs``. Both are far beyond what the
centres need; the choice rests on the data model, not on speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import RowMapping, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from services.core.listen import Wakeup


def worker_name() -> str:
    """What a worker writes in ``claimed_by``: host, process and a random tag (two in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempts-1))], at least 50 ms.

    Full jitter (rather than a fixed doubling) spreads the retries of rows that failed together —
    a receiver that was down for a minute is not hit by all of them in the same instant.
    """
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    return max(0.05, random.uniform(0, ceiling))


@dataclass(frozen=True)
class Queue:
    """A table used as a queue. Every name here is ours (a constant), never user input.

    The table must have ``id`` (uuid), ``status``, ``attempts``, ``claimed_by``, ``last_error``,
    the ``due`` column (not before: leases and backoff move it) and the ``parked_at`` column.
    """

    table: str
    waiting: str  # the status of a row that waits its turn
    parked: str  # the status of a row given up on (listed, requeued by staff)
    parked_at: str  # the timestamp written when it is parked
    returning: tuple[str, ...]  # what a claim returns of each row
    due: str = "next_attempt_at"
    order_by: str = ""  # the claim order; the due column when empty
    touch: bool = True  # outcomes also set updated_at = now()
    # ``{column: sql type}`` written with every retry and park from each row's value of that name
    recorded: Mapping[str, str] = field(default_factory=dict)
    # more SET clauses for retry and park (e.g. forget a half-done step)
    on_give_up: str = ""
    # complete and park also when another worker has claimed the row meanwhile (the outbox: its
    # receivers deduplicate, so a late success is still a success)
    settle_any_claim: bool = False
    # statements built once per claim filter and per kind of completion (a handful per queue)
    _claims: dict[str, TextClause] = field(default_factory=dict, init=False, repr=False, compare=False)
    _completions: dict[tuple[str, tuple[tuple[str, str], ...]], TextClause] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _stamp(self) -> str:
        return ", updated_at = now()" if self.touch else ""

    def claim_statement(self, where: str = "") -> TextClause:
        """The claim, with ``where`` (SQL over the table's columns and bound parameters) narrowing it."""
        return text(self.claim_sql(where))

    def claim_sql(self, where: str = "") -> str:
        """The claim's text (``:worker``, ``:lease``, ``:limit`` and ``where``'s parameters), for a statement
        that embeds it (the sender's claim, one round trip with its settle and its rate slots)."""
        condition = f" AND ({where})" if where else ""
        returning = ", ".join(f"q.{column}" for column in self.returning)
        return f"""
            UPDATE {self.table} AS q
               SET attempts = q.attempts + 1, claimed_by = :worker{self._stamp()},
                   {self.due} = now() + make_interval(secs => :lease)
             WHERE q.id IN (
                   SELECT id FROM {self.table}
                    WHERE status = '{self.waiting}' AND {self.due} <= now(){condition}
                    ORDER BY {self.order_by or self.due}
                    LIMIT :limit
                    FOR UPDATE SKIP LOCKED)
            RETURNING {returning}
            """

    async def claim(
        self,
        session: AsyncSession,
        *,
        worker: str,
        lease: float,
        limit: int,
        where: str = "",
        **params: Any,
    ) -> list[RowMapping]:
        """Claim up to ``limit`` due rows for ``lease`` seconds. Commit before working on them."""
        statement = self._claims.get(where)
        if statement is None:
            statement = self._claims[where] = self.claim_statement(where)
        rows = await session.execute(statement, {"worker": worker, "lease": lease, "limit": limit, **params})
        return list(rows.mappings())

    def _outcome(self, sets: str, columns: Mapping[str, str], *, owned: bool, stamp: bool = True) -> TextClause:
        values = {"id": "uuid", **columns}
        arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in values.items())
        owner = " AND q.claimed_by = :worker" if owned else ""
        return text(
            f"""
            UPDATE {self.table} AS q
               SET {sets}, claimed_by = NULL{self._stamp() if stamp else ""}
              FROM unnest({arrays}) AS v({", ".join(values)})
             WHERE q.id = v.id AND q.status = '{self.waiting}'{owner}
            RETURNING q.id
            """
        )

    async def _write(
        self,
        session: AsyncSession,
        statement: TextClause,
        worker: str,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        params: Mapping[str, Any] | None = None,
    ) -> set[uuid.UUID]:
        if not rows:
            return set()
        arrays: dict[str, Any] = {"id": [str(row["id"]) for row in rows]}
        for name in columns:
            arrays[name] = [row[name] for row in rows]
        changed = await session.scalars(statement, {"worker": worker, **arrays, **(params or {})})
        return set(changed)

    def _give_up(self) -> str:
        recorded = "".join(f", {column} = v.{column}" for column in self.recorded)
        extra = f", {self.on_give_up}" if self.on_give_up else ""
        return f"last_error = v.error{recorded}{extra}"

    @cached_property
    def _retry(self) -> TextClause:
        sets = f"{self.due} = now() + make_interval(secs => v.delay), {self._give_up()}"
        return self._outcome(sets, {"delay": "float8", "error": "text", **self.recorded}, owned=True)

    @cached_property
    def _park(self) -> TextClause:
        sets = f"status = '{self.parked}', {self.parked_at} = now(), {self._give_up()}"
        return self._outcome(sets, {"error": "text", **self.recorded}, owned=not self.settle_any_claim)

    @cached_property
    def _release(self) -> TextClause:
        # the claim undone: the attempt does not count and the row is due at once
        return self._outcome(f"{self.due} = now(), attempts = q.attempts - 1", {}, owned=True, stamp=False)

    async def complete(
        self,
        session: AsyncSession,
        worker: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        sets: str,
        columns: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> set[uuid.UUID]:
        """Done: ``sets`` (SQL; a row's values are ``v.<name>`` for each of ``columns``, plus bound ``params``)."""
        columns = dict(columns or {})
        key = (sets, tuple(columns.items()))
        statement = self._completions.get(key)
        if statement is None:
            statement = self._completions[key] = self._outcome(sets, columns, owned=not self.settle_any_claim)
        return await self._write(session, statement, worker, rows, list(columns), params)

    async def retry(self, session: AsyncSession, worker: str, rows: Sequence[Mapping[str, Any]]) -> set[uuid.UUID]:
        """Try again later: each row (``id``, ``delay`` seconds, ``error``, the recorded columns) waits ``delay``."""
        return await self._write(session, self._retry, worker, rows, ["delay", "error", *self.recorded])

    async def park(self, session: AsyncSession, worker: str, rows: Sequence[Mapping[str, Any]]) -> set[uuid.UUID]:
        """Give up: each row (``id``, ``error``, the recorded columns) is parked, kept for staff to see and requeue."""
        return await self._write(session, self._park, worker, rows, ["error", *self.recorded])

    async def release(self, session: AsyncSession, worker: str, ids: Sequence[uuid.UUID | str]) -> set[uuid.UUID]:
        """Hand rows back unworked (stopping, or the lease could lapse mid-send): due now, the attempt not counted."""
        return await self._write(session, self._release, worker, [{"id": row_id} for row_id in ids], [])


async def poll(
    step: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    *,
    every: float,
    logger: logging.Logger,
    what: str,
    extra: Mapping[str, Any] | None = None,
    wake: Wakeup | None = None,
) -> None:
    """Run ``step`` (one claim-and-work round; returns how many rows it claimed) until ``stop``.

    A round that found work is followed by another at once; an empty one by a wait of at most
    ``every`` seconds, cut short by ``stop`` and by ``wake`` (services/core/listen.py: a NOTIFY sent
    by the commit of a new row). The wake-up flag is cleared as a round starts, so a commit during
    the round brings another round at once, and a burst of commits brings one round, not one per
    commit. With ``wake`` a new row is taken within milliseconds of its commit; without it (or while
    its connection is down) within ``every`` seconds. Polling stays in any case: a lease that
    expires or a backoff that ends — the other ways a row falls due — sends no notification.
    """
    listener = asyncio.create_task(wake.run(stop)) if wake is not None else None
    failures = 0
    try:
        while not stop.is_set():
            if wake is not None:
                wake.event.clear()
            try:
                claimed = await step()
                failures = 0
            except Exception:
                failures += 1
                logger.exception("%s iteration failed", what, extra={**(extra or {}), "failures_in_a_row": failures})
                claimed = 0
            if claimed == 0:
                await _idle(stop, wake, _pause(every, failures))
    finally:
        if listener is not None:
            if not stop.is_set():
                listener.cancel()
            # stopping, the listener closes its connection by itself: a few seconds, then it is cancelled
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(listener, timeout=5.0)


# Rounds that fail in a row (the database down for the length of a restart, a failover, an outage) wait
# twice as long each time, up to this: a worker logs a few failures a minute instead of two a second for as
# long as the outage lasts, and is back within seconds of the database.
FAILING_PAUSE_MAX_SECONDS = 5.0


def _pause(every: float, failures: int) -> float:
    if failures <= 1:
        return every
    longer: float = every * 2.0 ** (failures - 1)
    return max(every, min(longer, FAILING_PAUSE_MAX_SECONDS))


async def _idle(stop: asyncio.Event, wake: Wakeup | None, every: float) -> None:
    """Wait ``every`` seconds, or less: until ``stop`` or a wake-up."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.event.wait()))
    try:
        await asyncio.wait(waiters, timeout=every, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
