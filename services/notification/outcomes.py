"""The sender's outcomes, recorded by group commit (``OutcomeWriter``), and the statements that write them.

Each send's outcome ("sent", "unconfirmed", "retry", "failed", "release") and each email's handover is
buffered; one writer task writes everything buffered, the handovers first in a write of their own (an SMTP
connection waits for it), then wakes every waiter of that write together. Every outcome is written only while
the row still waits and still belongs to this sender (``claimed_by``), so a row re-queued or re-claimed
meanwhile is never overwritten; a write that fails three times leaves the rows to their leases.

Split from services/notification/sender.py (the claim loop, the lanes, the pacing), which it serves; the
handover's guarantee is described there. Why these statements are shaped as they are (issue 14,
bench/profiles/2026-12-06-notify.md):

- The handover is one statement committed on its own (one round trip instead of BEGIN, SET LOCAL, UPDATE,
  COMMIT), written before the outcomes buffered with it. A batch of "sent" outcomes alone (the common case)
  is written the same way; both go straight through asyncpg (0.26–0.28 ms of CPU per write of 10 instead of
  0.35–0.41 through SQLAlchemy), on the sender's own asyncpg pool when it has one (``fetch_alone``: no session
  at all). Tried and measured worse: a second writer lane for the handovers (0.47–0.61× against 0.64–0.67×),
  the handovers and the "sent" outcomes in one statement (the connections wait for the heavier write).
- Their commits do not wait for the disk (``synchronous_commit`` off, said by the statements themselves): an
  outcome lost with the database server means a repeat under the same reference or Message-ID, never a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.counters import Counters, fetch_alone
from services.core.queue import Queue

logger = logging.getLogger("motcua.sender")

NOTIFICATIONS = Queue(
    table="notification",
    waiting="queued",
    parked="failed",
    parked_at="failed_at",
    returning=("id", "channel", "recipient", "subject", "body", "attempts", "trace_context"),
    on_give_up="handed_over_at = NULL",  # a retry or a failure starts the handover afresh
)
_SENT = (
    "status = CASE WHEN v.delivered THEN 'delivered' ELSE 'sent' END, sent_at = now(),"
    " delivered_at = CASE WHEN v.delivered THEN now() ELSE q.delivered_at END,"
    " provider_message_id = v.reference,"
    # NULL — and, as it is evaluated, this statement's own commit need not wait for the disk (see _write)
    " last_error = NULLIF(set_config('synchronous_commit', 'off', true), 'off')"
)
# While handovers keep coming (an SMTP connection waits for each), the other outcomes gather up to this many rows
# or this long, then go in one write: three rows a statement became about sixty, the handovers' wait shorter
# (bench/profiles/2026-12-07-email.md)
_GATHER_ROWS = 64
_GATHER_SECONDS = 0.02
_LINGER_SECONDS = 0.005  # outcomes alone: see OutcomeWriter._linger
# the outcomes whose statement says its durability itself: alone in a batch, written auto-committed
_ONE_STATEMENT = frozenset({"handover", "sent"})
# the message is with the server but for its final line; only while this sender's lease holds
# (it also says that its transaction's commit need not wait for the disk — see _write — saving the
# round trip of a SET while the SMTP connections wait for this commit)
_HANDOVER_SQL = """
    WITH durability AS (SELECT set_config('synchronous_commit', 'off', true))
    UPDATE notification SET handed_over_at = now(), updated_at = now()
      FROM durability
     WHERE id = ANY({ids}) AND status = 'queued' AND claimed_by = {me} AND next_attempt_at > now()
    RETURNING id
    """
_HANDOVER = text(_HANDOVER_SQL.format(ids="CAST(:ids AS uuid[])", me=":me"))
# written alone (auto-committed), the two hot statements go straight through asyncpg (services.core.db.fetch):
# SQLAlchemy's execution around them cost more CPU than asyncpg's own (bench/profiles/2026-12-06-notify.md).
# "sent" as NOTIFICATIONS.complete(sets=_SENT) writes it: only a row still waiting and still this sender's
_STRAIGHT = {
    "handover": _HANDOVER_SQL.format(ids="$1::uuid[]", me="$2"),
    "sent": f"""
    UPDATE notification AS q SET {_SENT}, claimed_by = NULL, updated_at = now()
      FROM unnest($1::uuid[], $3::boolean[], $4::text[]) AS v(id, delivered, reference)
     WHERE q.id = v.id AND q.status = 'queued' AND q.claimed_by = $2
    RETURNING q.id
    """,
}
# a sender died after a handover: the server has the message; never send it again
UNCONFIRMED = "unconfirmed: the sender stopped after handing the message to the server"
# handed over, then no clear answer (timeout, connection lost): the server may have it; not sent again
_UNCONFIRMED = "status = 'sent', sent_at = now(), last_error = :note"


class OutcomeWriter:
    """One sender's outcomes, written by group commit (module notes)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], worker: str, pool: Counters | None = None
    ) -> None:
        self.sessionmaker = sessionmaker
        self.pool = pool  # where the one-statement writes run (the sender's; services.core.counters)
        self.worker = worker  # the sender's name: what its claims wrote in ``claimed_by``
        self._buffer: list[tuple[str, dict[str, Any], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._since: float | None = None  # when the oldest outcome buffered (not a handover) was (monotonic)
        self._nudge: asyncio.Future[None] | None = None  # ends a linger: a handover came, or enough outcomes

    def later(self, kind: str, **row: Any) -> asyncio.Future[bool]:
        """Buffer one outcome for the writer; the future is done once it is committed.

        Group commit: outcomes wait in a buffer and one writer task writes all that is buffered in
        one transaction, then wakes every waiter of that batch together — so the email channel
        writes each handed-over message's final line right after the commit, with no queueing
        between. Under load an outcome is recorded within one short transaction's time.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._buffer.append((kind, row, future))
        if kind != "handover" and self._since is None:
            self._since = time.monotonic()
        nudge = self._nudge
        if nudge is not None and not nudge.done() and (kind == "handover" or len(self._buffer) >= _GATHER_ROWS):
            nudge.set_result(None)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        while self._buffer:
            await self._linger()
            batch = self._take()
            try:
                # the handovers first, in a write of their own (SMTP connections wait for it), then the outcomes
                handovers = [entry for entry in batch if entry[0] == "handover"]
                await self._commit(handovers)
                await self._commit([entry for entry in batch if entry[0] != "handover"])
            finally:
                for _, _, future in batch:  # cancelled mid-way: nobody may take the rows for theirs
                    if not future.done():
                        future.set_result(False)

    async def _linger(self) -> None:
        """Outcomes with no handover among them wait a few milliseconds for more to join them in one write
        (nothing waits for their commit but the claim loop, a batch later): the SMS' "sent" went three to six
        a statement at 1,400/s (bench/profiles/2026-12-07-email.md). A handover, or enough outcomes, ends the
        wait at once."""
        if any(entry[0] == "handover" for entry in self._buffer) or len(self._buffer) >= _GATHER_ROWS:
            return
        pause = _LINGER_SECONDS - (time.monotonic() - (self._since or 0.0))
        if pause <= 0:
            return
        self._nudge = asyncio.get_running_loop().create_future()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._nudge
        finally:
            self._nudge = None

    def _take(self) -> list[tuple[str, dict[str, Any], asyncio.Future[bool]]]:
        """What the next write takes: the handovers alone while the other outcomes may wait (few, and not for
        long: nothing waits for their commit but the claim loop, a batch later), else everything."""
        handovers = [entry for entry in self._buffer if entry[0] == "handover"]
        waiting = len(self._buffer) - len(handovers)
        if handovers and waiting < _GATHER_ROWS and time.monotonic() - (self._since or 0.0) < _GATHER_SECONDS:
            self._buffer = [entry for entry in self._buffer if entry[0] != "handover"]
            return handovers
        batch, self._buffer, self._since = self._buffer, [], None
        return batch

    async def _commit(self, batch: list[tuple[str, dict[str, Any], asyncio.Future[bool]]]) -> None:
        if not batch:
            return
        mine: set[str] = set()  # stays empty if the write is cancelled: nobody may take the row for theirs
        try:
            mine = await self._write([(kind, row) for kind, row, _ in batch])
            # the handed-over emails' final lines, right after their commit and before any other
            # coroutine runs: the window in which a crash loses a message is these few writes
            # — but not for a send that gave up meanwhile (its timeout cancelled the wait): it counts the
            # message as not handed over and sends it again, so the server must not get the final line
            for _, row, future in batch:
                finish = row.get("on_commit")
                if finish is not None and str(row["id"]) in mine and not future.cancelled():
                    with contextlib.suppress(Exception):  # a broken connection shows in the SMTP answer
                        finish()
        finally:
            for _, row, future in batch:
                if not future.done():
                    future.set_result(str(row["id"]) in mine)

    async def _write(self, batch: list[tuple[str, dict[str, Any]]]) -> set[str]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for kind, row in batch:
            grouped.setdefault(kind, []).append(row)
        for attempt in range(3):
            try:
                if len(grouped) == 1 and set(grouped) <= _ONE_STATEMENT:
                    # one statement committed on its own: one round trip where a transaction takes four
                    [(kind, rows)] = grouped.items()
                    arguments: list[Any] = [[row["id"] for row in rows], self.worker]
                    if kind == "sent":
                        arguments += [[row["delivered"] for row in rows], [row["reference"] for row in rows]]
                    records = await fetch_alone(self.pool, self.sessionmaker, _STRAIGHT[kind], *arguments)
                    return {str(record[0]) for record in records}
                mine: set[str] = set()
                async with self.sessionmaker() as session, session.begin():
                    # an outcome lost with the database server itself (not with this process) means a
                    # repeat under the same reference/Message-ID, never a loss: no need to wait for the disk
                    if "handover" not in grouped:  # the handover statement says so itself (written first)
                        await session.execute(text("SET LOCAL synchronous_commit = off"))
                    for kind, rows in sorted(grouped.items(), key=lambda item: item[0] != "handover"):
                        mine.update(str(row_id) for row_id in await self._apply(session, kind, rows))
                return mine
            except Exception:
                if attempt == 2:
                    # the leases will expire and another sender takes the rows again (see the module doc)
                    logger.exception("could not record notification outcomes", extra={"count": len(batch)})
                    return set()
                await asyncio.sleep(0.2 * (attempt + 1))
        return set()

    async def _apply(self, session: AsyncSession, kind: str, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """One kind of outcome for all its rows; the ids still this sender's (only those were written)."""
        queue, me = NOTIFICATIONS, self.worker
        if kind == "sent":
            return await queue.complete(
                session, me, rows, sets=_SENT, columns={"delivered": "boolean", "reference": "text"}
            )
        if kind == "unconfirmed":
            return await queue.complete(session, me, rows, sets=_UNCONFIRMED, params={"note": UNCONFIRMED})
        if kind == "retry":
            return await queue.retry(session, me, rows)
        if kind == "failed":
            return await queue.park(session, me, rows)
        if kind == "release":
            return await queue.release(session, me, [row["id"] for row in rows])
        if kind == "handover":
            return set(await session.scalars(_HANDOVER, {"me": me, "ids": [str(row["id"]) for row in rows]}))
        raise ValueError(f"unknown outcome {kind!r}")
