"""The sender: claims due notifications, sends them through their channel, records the outcome.

The queue mechanics (claim, lease, backoff with full jitter, failing a row, release, the polling
loop) are ``services.core.queue``'s, over the ``notification`` table (``failed`` is its parked
status); the channels, the rate and the handover below are the sender's own, the group commit of outcomes is
``services.notification.outcomes``.

- **Claim** — ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` per channel: attempts + 1,
  ``claimed_by`` and a lease (``next_attempt_at`` moved ``notify_lease_seconds`` ahead), committed
  before anything is sent; no network call happens inside a transaction. Any number of senders
  may run; each row goes to one of them.
- **Send** — only while the lease certainly holds: a row whose send could outlast it (the send
  timeout is counted) is released unsent. Every outcome is written with ``WHERE status = 'queued'
  AND claimed_by = me``, so a row re-queued or re-claimed meanwhile is never overwritten.
- **Retry** — a failure waits ``backoff_seconds`` (exponential, full jitter); a permanent one (a
  4xx from the gateway, a 5xx SMTP refusal) or the ``notify_max_attempts``-th makes the row
  ``failed``: listed and re-sendable, never dropped.
- **Rate** — per channel, ``notify_<channel>_per_second`` shared by every sender: slots are taken
  from ``notification_rate`` (GCRA: one row per channel holding the next free instant), so two
  senders together still keep to the limit. A batch's sends start one slot apart in real time: a
  loop that wakes late (a busy machine) goes on one slot after its late send, never in a burst, and
  what would start beyond the batch's own slots is released unsent for new slots in the next round.

- **Handover** (email) — the channel writes the whole message but its final ``.`` line, then asks
  ``handover(finish)``: ``handed_over_at`` is committed (group commit, only while this sender's lease
  holds) and the writer calls ``finish`` — the final line — for every message of that commit the
  moment it returns, before any other coroutine runs. A message's fate after a crash is then known:
  without ``handed_over_at`` the server never got the final line and kept nothing — it is sent
  again; with it, the server has it (or got it a few microseconds later) — it is not sent again
  but marked ``sent`` with ``last_error`` "unconfirmed…", visible to the staff. Only a crash in
  the microseconds between that commit and the write of the final line loses a message; no crash
  makes one arrive twice.
- **SMS** — the gateway contract (docs/NOTIFICATIONS.md) is that a ``reference`` is delivered once:
  a request repeated after a crash is answered 409 (already accepted) and recorded as sent.

The writer of the outcomes (group commit, the handover's write) is ``services.notification.outcomes``.

**Speed** (issue 14; ``python -m bench.bench_notify``: this loop against the same messages sent
straight with aiosmtplib / httpx, same sinks in their own process, same connections; figures and
profiles in bench/profiles/2026-12-05-notify.md and 2026-12-06-notify.md, 2 shared cores at load 4.5–8):

- **Lanes**: per channel, as many coroutines as the channel sends at once (``channel.concurrency``), each
  taking the next claimed message from one queue, as a straight loop over a connection pool does. A
  task and a ``wait_for`` per message (two tasks on Python 3.11) and 50 sends queued on 8 slots cost
  more than the request; the lane hands the outcome to the writer and goes on without waiting for its
  commit. CPU per SMS 1.13–1.45 → 0.72–1.04 ms in interleaved pairs against main.
- Outcomes are written by group commit (``services.notification.outcomes``: why its statements are
  shaped as they are).
- A claim is one statement, auto-committed straight through asyncpg (``_CLAIM``: the settle, the claim and the
  batch's rate slots): seven round trips through SQLAlchemy before. With the worker's pool (``sender_task``) it
  and the one-statement outcomes take no session at all (``fetch_alone``): 0.73–0.78 → 0.58–0.63 ms of the
  sender's CPU an email (bench/profiles/2026-12-06-sender.md). At a centre's pace (a message a claim) that
  took the sender's CPU per dossier (an email and an SMS) from 8.4–9.0 to 6.6–6.9 ms (bench_pipeline at 30/s).
- The loop keeps two batches in flight: the next one is claimed while one is sent, and its sends
  start once the previous batch's have started, not once their outcomes are committed.
- Pacing: a pause shorter than the 5 ms grace is not taken. Under a rate far above the traffic (the
  benchmark's) yielding for microseconds woke the loop past the batch's whole window, and the rest of
  the batch was released unsent: 720 of 3,000 SMS in one run.
- Measured (bench_notify, 3,000 per channel, load 5.5–6): email 0.57× straight with PIPELINING, 0.37×
  without (the handover's commit inside every SMTP exchange; pipelining saves two of its four round
  trips — the next lever is pipelining across messages, in the profile); SMS 0.52× in that run, 0.95×
  (1,085/s of 1,138/s) in a quieter one, where what the sender adds to httpx is 8 % of its CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core import tracing
from services.core.config import Settings
from services.core.counters import CounterPool, Counters, fetch_alone
from services.core.db import numbered
from services.core.listen import wakeup
from services.core.metrics import NOTIFICATION_SENDS
from services.core.queue import backoff_seconds, poll, worker_name
from services.core.worker import Task
from services.notification.channels import Channel, Handover, InAppChannel, Outgoing, ProviderResult, SmsChannel
from services.notification.outcomes import NOTIFICATIONS, UNCONFIRMED, OutcomeWriter
from services.notification.smtp import EmailChannel

logger = logging.getLogger("motcua.sender")

_FOR_CHANNEL = (
    "channel = :channel AND (CAST(:dossiers AS uuid[]) IS NULL OR dossier_id = ANY(CAST(:dossiers AS uuid[])))"
)
# a message given to a channel's lane: the message, its lease's deadline, done once its outcome is recorded
_Work = tuple[Outgoing, float, "asyncio.Future[None]"]
# a fast rate's slots are shorter than a loop step: starting a send a few milliseconds late (or early) is no burst
_PACING_GRACE = 0.005
# One round trip a claim, auto-committed, straight through asyncpg: settle what a sender that died had handed
# over, claim the next batch (as NOTIFICATIONS.claim) and take its rate slots. It was a transaction of the first
# two (BEGIN, UPDATE, UPDATE, COMMIT) and one of the slots (BEGIN, INSERT, COMMIT) through SQLAlchemy: at a
# centre's pace, a message a claim, those seven round trips were a third of the sender's CPU (2026-12-06).
# - One snapshot for all three parts: the claim leaves the handed-over rows to the settle (it would see them
#   still queued; a row written twice in one statement is undefined).
# - Every lock but the rate row's is taken with SKIP LOCKED, so two senders' claims wait on each other only for
#   the rate row, held to the statement's end with nothing else awaited: no deadlock.
# - The slots (GCRA): ``n`` consecutive slots of ``interval`` seconds from the channel's next free instant;
#   ``ahead`` is how far that instant now is, the wait for the first slot being ``ahead - n × interval``.
_CLAIM_SQL = f"""
    WITH settled AS (
        UPDATE notification
           SET status = 'sent', sent_at = handed_over_at, last_error = :note, claimed_by = NULL, updated_at = now()
         WHERE id IN (
               SELECT id FROM notification
                WHERE status = 'queued' AND channel = :channel AND handed_over_at IS NOT NULL
                  AND next_attempt_at <= now()
                  FOR UPDATE SKIP LOCKED)
    ), claimed AS ({NOTIFICATIONS.claim_sql(_FOR_CHANNEL + " AND handed_over_at IS NULL")}
    ), reserved AS (
        INSERT INTO notification_rate AS r (channel, tat)
        SELECT CAST(:channel AS text), now() + make_interval(secs => c.n * CAST(:interval AS float8))
          FROM (SELECT count(*) AS n FROM claimed) AS c
         WHERE c.n > 0 AND CAST(:interval AS float8) > 0
        ON CONFLICT (channel) DO UPDATE SET tat = greatest(r.tat, now()) + (EXCLUDED.tat - now())
        RETURNING extract(epoch FROM r.tat - now())::float8 AS ahead
    )
    SELECT claimed.*, reserved.ahead FROM claimed LEFT JOIN reserved ON true
    """
_CLAIM, _CLAIM_PARAMETERS = numbered(_CLAIM_SQL)


@dataclass(frozen=True)
class _Claimed:
    started: float  # before the claim (monotonic): the lease, in database time, ends no earlier than this + lease
    batch: list[Outgoing]
    wait: float  # seconds until the first of the batch's rate slots
    interval: float  # seconds between two slots; 0 without a rate


def _outcome(item: Outgoing, result: ProviderResult, max_attempts: int) -> str:
    """The metrics' name of a send's outcome (``motcua_notification_sends``)."""
    if result.ok:
        return "sent"
    if result.in_doubt:
        return "unconfirmed"
    return "failed" if result.permanent or item.attempts >= max_attempts else "retry"


def _resolve(done: asyncio.Future[None], _: object) -> None:
    if not done.done():
        done.set_result(None)


def default_channels(settings: Settings) -> dict[str, Channel]:
    """Email and in-app always; SMS when a gateway is configured (until then SMS rows wait, queued)."""
    channels: dict[str, Channel] = {"email": EmailChannel(settings), "in_app": InAppChannel()}
    if settings.sms.gateway_url:
        channels["sms"] = SmsChannel(settings)
    return channels


class Sender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        channels: Mapping[str, Channel],
        name: str | None = None,
        dossier_ids: Sequence[uuid.UUID] | None = None,
        pool: Counters | None = None,
    ) -> None:
        if settings.notify.lease_seconds < 2 * settings.notify.send_timeout_seconds:
            raise ValueError("MOTCUA_NOTIFY_LEASE_SECONDS must be at least twice MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS")
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.channels = dict(channels)
        self.name = name or worker_name()
        self.dossier_ids = [str(d) for d in dossier_ids] if dossier_ids is not None else None  # tests, tools
        self.rates = {"email": settings.notify.email_per_second, "sms": settings.notify.sms_per_second}
        self.stop = asyncio.Event()
        self.pool = pool  # the claims' and the one-statement outcomes' connections (None: sessions of sessionmaker)
        self.outcomes = OutcomeWriter(sessionmaker, self.name, pool)
        self._paced: dict[str, float] = {}  # per channel, this sender's next send at the earliest (monotonic)

    def _limit(self, channel: str) -> int:
        rate = self.rates.get(channel)
        if rate is None:
            return self.settings.notify.batch_size
        # no more than a quarter of a lease's worth of slots per claim, so the wait for them stays short
        return max(1, min(self.settings.notify.batch_size, int(rate * self.settings.notify.lease_seconds / 4)))

    async def _claim(self, channel: str) -> _Claimed:
        """Settle, claim and take the batch's rate slots: one statement (``_CLAIM``), committed before anything
        is sent."""
        started = time.monotonic()
        rate = self.rates.get(channel)
        interval = 1.0 / rate if rate else 0.0
        values = {
            "note": UNCONFIRMED,
            "channel": channel,
            "worker": self.name,
            "lease": float(self.settings.notify.lease_seconds),
            "limit": self._limit(channel),
            "dossiers": self.dossier_ids,
            "interval": interval,
        }
        records = await fetch_alone(self.pool, self.sessionmaker, _CLAIM, *(values[name] for name in _CLAIM_PARAMETERS))
        batch = [Outgoing(*record[: len(NOTIFICATIONS.returning)]) for record in records]
        ahead = records[0]["ahead"] if records and interval else None
        wait = max(0.0, ahead - len(batch) * interval) if ahead is not None else 0.0
        return _Claimed(started, batch, wait, interval)

    async def _settle(self, kind: str, **row: Any) -> bool:
        """Record one outcome; returns once it is committed: whether the row was still this sender's."""
        return await self.outcomes.later(kind, **row)

    async def _record(self, item: Outgoing, result: ProviderResult) -> None:
        await self._recorded(item, result)

    def _recorded(self, item: Outgoing, result: ProviderResult) -> asyncio.Future[bool]:
        """The outcome of a send, buffered for the writer; done once committed."""
        NOTIFICATION_SENDS.labels(item.channel, _outcome(item, result, self.settings.notify.max_attempts)).inc()
        if result.ok:
            return self.outcomes.later("sent", id=item.id, delivered=result.delivered, reference=result.reference)
        if result.in_doubt:
            logger.warning(
                "notification handed over without a clear answer; not sent again",
                extra={"notification_id": str(item.id), "channel": item.channel},
            )
            return self.outcomes.later("unconfirmed", id=item.id)
        error = result.error or "unknown error"
        if result.permanent or item.attempts >= self.settings.notify.max_attempts:
            logger.error(
                "notification failed",
                extra={"notification_id": str(item.id), "channel": item.channel, "attempts": item.attempts},
            )
            return self.outcomes.later("failed", id=item.id, error=error)
        delay = backoff_seconds(
            item.attempts, base=self.settings.notify.backoff_base_seconds, cap=self.settings.notify.backoff_max_seconds
        )
        logger.warning(
            "notification send failed, will retry",
            extra={"notification_id": str(item.id), "channel": item.channel, "attempts": item.attempts},
        )
        return self.outcomes.later("retry", id=item.id, delay=delay, error=error)

    async def _send_one(self, channel: Channel, item: Outgoing, deadline: float) -> None:
        """Send one message; returns once its outcome is committed."""
        await (await self._send(channel, item, deadline))

    async def _send(self, channel: Channel, item: Outgoing, deadline: float) -> asyncio.Future[bool]:
        """Send one message; returns as soon as it is sent, with its outcome's commit (buffered, not awaited:
        the lane takes its next message meanwhile)."""
        timeout = self.settings.notify.send_timeout_seconds
        if self.stop.is_set() or time.monotonic() + timeout >= deadline:
            return self.outcomes.later("release", id=item.id)  # stopping, or the lease could lapse mid-send

        handed_over = False

        async def handover(finish: Callable[[], None]) -> bool:
            def finish_and_note() -> None:
                # noted as the final line goes out, not when the wait returns: a timeout landing in between
                # must count the message as with the server (in doubt), never send it again — and only if it went
                # out (``finish`` raises when the connection closed meanwhile: the message is not with the server)
                nonlocal handed_over
                finish()
                handed_over = True

            return await self._settle("handover", id=item.id, on_commit=finish_and_note)

        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the send in a task of its own
            async with asyncio.timeout(timeout):
                if tracing.enabled():
                    result = await self._traced_send(channel, item, handover)
                else:
                    result = await channel.send(item, handover)
        except TimeoutError:
            result = ProviderResult(ok=False, error="send timed out", in_doubt=handed_over)
        except Exception as exc:
            logger.exception("channel error", extra={"notification_id": str(item.id), "channel": item.channel})
            result = ProviderResult(ok=False, error=f"{type(exc).__name__}", in_doubt=handed_over)
        return self._recorded(item, result)

    @staticmethod
    async def _traced_send(channel: Channel, item: Outgoing, handover: Handover) -> ProviderResult:
        """The send as a client span, a child of the event's handling stored with the row: the last span of a
        submission's trace (services.core.tracing). Channel and outcome only: never the recipient."""
        attributes = {"motcua.notification.channel": item.channel, "motcua.notification.attempt": item.attempts}
        with tracing.span(
            f"send {item.channel}", parent=item.trace_context, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            result = await channel.send(item, handover)
            if span is not None:
                span.set_attribute("motcua.notification.ok", result.ok)
            return result

    async def _lane_worker(self, channel: Channel, lane: asyncio.Queue[_Work]) -> None:
        """One of a lane's coroutines: sends the next message, hands its outcome to the writer, goes on."""
        while True:
            item, deadline, done = await lane.get()
            try:
                outcome = await self._send(channel, item, deadline)
            except BaseException:
                if not done.done():
                    done.set_result(None)
                raise
            outcome.add_done_callback(functools.partial(_resolve, done))

    @contextlib.asynccontextmanager
    async def _lane(self, channel: Channel) -> AsyncIterator[asyncio.Queue[_Work]]:
        """A channel's lane: as many coroutines as it sends at once (``channel.concurrency``), each taking the
        next claimed message from one queue — as a straight loop over a connection pool would. A task and a
        wait_for per message (two tasks on Python 3.11) and the messages waiting on the channel's semaphore
        cost more CPU per SMS than the request itself saves (bench/profiles/2026-12-06-notify.md)."""
        lane: asyncio.Queue[_Work] = asyncio.Queue()
        workers = [asyncio.create_task(self._lane_worker(channel, lane)) for _ in range(max(1, channel.concurrency))]
        try:
            yield lane
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            while not lane.empty():  # never sent (cancelled): nobody waits for them any more
                _, _, done = lane.get_nowait()
                if not done.done():
                    done.set_result(None)

    async def _run_channel(self, name: str, channel: Channel) -> int:
        async with self._lane(channel) as lane:
            claimed = await self._claim(name)
            await (await self._start_batch(name, lane, claimed))
        return len(claimed.batch)

    async def _start_batch(
        self, name: str, lane: asyncio.Queue[_Work], claimed: _Claimed
    ) -> asyncio.Future[list[None]]:
        """Start the batch's sends (one slot apart under a rate); returns once all have started, with what
        ends when all have ended and their outcomes are recorded."""
        batch = claimed.batch
        if not batch:
            return asyncio.gather()
        deadline = claimed.started + self.settings.notify.lease_seconds
        if not claimed.interval:
            return asyncio.gather(*(self._queue(lane, item, deadline) for item in batch))
        return await self._paced_sends(
            name,
            lane,
            batch,
            first=time.monotonic() + claimed.wait,
            interval=claimed.interval,
            deadline=deadline,
        )

    @staticmethod
    def _queue(lane: asyncio.Queue[_Work], item: Outgoing, deadline: float) -> asyncio.Future[None]:
        """Give the lane a message; done once its outcome is recorded."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.put_nowait((item, deadline, done))
        return done

    async def _paced_sends(
        self,
        name: str,
        lane: asyncio.Queue[_Work],
        batch: list[Outgoing],
        *,
        first: float,
        interval: float,
        deadline: float,
    ) -> asyncio.Future[list[None]]:
        """Start the batch's sends one slot apart, in real time: a loop that wakes late (a busy machine)
        goes on one slot after the send it made late, never in a burst. This batch's slots end at ``end``
        (the next ones are another sender's); what would start beyond them (and a slot's grace) is
        released unsent and takes new slots in the next round. The first send always goes: a round
        always makes progress."""
        end = first + len(batch) * interval + max(interval, _PACING_GRACE)
        next_at = max(first, self._paced.get(name, 0.0))
        sends: list[asyncio.Future[None]] = []
        for position, item in enumerate(batch):
            pause = next_at - time.monotonic()
            # a pause within the grace is not taken: yielding to a busy loop for a few microseconds woke it
            # later than the grace after it, and the rest of the batch was released unsent (a quarter of the
            # messages, at a rate no slot of which is longer than the loop's own step)
            if pause > _PACING_GRACE:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=pause)
            now = time.monotonic()
            if sends and (now > end or self.stop.is_set()):
                await asyncio.gather(*(self._settle("release", id=rest.id) for rest in batch[position:]))
                break
            sends.append(self._queue(lane, item, deadline))
            next_at = max(next_at, now) + interval
        self._paced[name] = next_at
        return asyncio.gather(*sends)

    async def run_once(self) -> int:
        """One claim-and-send round on every channel; how many notifications were claimed."""
        counts = await asyncio.gather(*(self._run_channel(name, ch) for name, ch in self.channels.items()))
        return sum(counts)

    async def _loop(self, name: str, channel: Channel, stop: asyncio.Event) -> None:
        """One loop per channel: a slow, rate-limited SMS round never holds the email back.

        The next batch is claimed while this one is sent, and its sends start once this one's have all
        started (one slot apart under a rate, as ever), while this one's last answers and outcomes are
        still coming: two batches in flight at most. Stopping, the claimed batch is released unsent."""
        ahead: asyncio.Future[_Claimed] | None = None
        ending: asyncio.Future[list[None]] = asyncio.gather()  # the previous batch's sends and outcomes
        lanes = contextlib.AsyncExitStack()
        lane = await lanes.enter_async_context(self._lane(channel))

        async def step() -> int:
            nonlocal ahead, ending
            claim, ahead = ahead or asyncio.ensure_future(self._claim(name)), None
            claimed = await claim
            if claimed.batch and not stop.is_set():
                ahead = asyncio.ensure_future(self._claim(name))
            sending = await self._start_batch(name, lane, claimed)
            previous, ending = ending, sending
            await previous  # two batches in flight at most
            return len(claimed.batch)

        try:
            await poll(
                step,
                stop,
                every=self.settings.notify.poll_seconds,
                logger=logger,
                what="sender",
                extra={"channel": name},
                wake=wakeup(
                    self.settings,
                    NOTIFICATIONS.table,
                    keys=[name],
                    enabled=self.settings.notify.listen,
                    what=f"sender-{name}",
                    logger=logger,
                ),
            )
        finally:
            with contextlib.suppress(Exception):
                await ending
            await lanes.aclose()
            if ahead is not None:  # claimed, never sent: back to the queue at once, not after the lease
                with contextlib.suppress(Exception):
                    unsent = (await ahead).batch
                    await asyncio.gather(*(self._settle("release", id=item.id) for item in unsent))

    async def run(self, stop: asyncio.Event) -> None:
        self.stop = stop
        logger.info("sender started", extra={"sender": self.name, "channels": sorted(self.channels)})
        try:
            await asyncio.gather(*(self._loop(name, channel, stop) for name, channel in self.channels.items()))
        finally:
            for channel in self.channels.values():
                await channel.aclose()
        logger.info("sender stopped", extra={"sender": self.name})


def sender_task() -> Task:
    """The worker task: one sender with the configured channels, its claims and one-statement outcomes on an
    asyncpg pool of its own (``services.core.counters``): a claim ahead and one in flight per channel, and the
    outcomes' writer."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:
        channels = default_channels(settings)
        pool = CounterPool(settings, application_name="motcua-notify-sender", size=2 * len(channels) + 1)
        await pool.open()
        try:
            await Sender(sessionmaker, settings, channels=channels, pool=pool).run(stop)
        finally:
            await pool.close()

    return task
