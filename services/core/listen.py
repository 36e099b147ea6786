"""Waking a queue's worker on commit: one dedicated LISTEN connection per polling loop.

Each queue table has a trigger (migration ``4c81e7a2d5f9``) that sends ``NOTIFY <table>, <key>``
in the inserting transaction, so the notification arrives when that transaction commits and never
when it rolls back. A :class:`Wakeup` holds an asyncpg connection of its own (not one of the pool:
a pooled connection is handed back and reset, and LISTEN belongs to a session) that LISTENs on the
table's channel and sets :attr:`Wakeup.event` for every notification whose payload is one of its
keys (the relay of intake wakes for ``source = 'intake'`` only). :func:`services.core.queue.poll`
waits on that event as well as on its fallback interval.

What the event is, and is not:

- **A hint, not a message.** The worker still claims with ``FOR UPDATE SKIP LOCKED``; a notification
  carries no id and may be spurious (another relay took the row first). At-least-once delivery,
  deduplication, leases and parking are the queue's, unchanged.
- **Coalesced.** The event is a flag: a burst of a thousand commits while a round runs sets it once,
  and the next round claims a whole batch. One round per burst, never one per notification.
- **Backed by polling.** Rows that fall due without an insert (a backoff that ends, an expired
  lease, a requeue by staff) and anything missed while the connection was down are found by the
  poller's ``every`` interval, as before.

The connection is watched: asyncpg reports a closed socket at once (termination listener), and a
``SELECT 1`` every :data:`KEEPALIVE_SECONDS` finds a connection that died silently. A lost connection
is reopened with exponential backoff and full jitter (0.5 s doubling to 30 s); on every (re)connect
the event is set once, so whatever was committed while nobody listened is claimed at once rather
than at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

import asyncpg

from services.core.config import Settings
from services.core.db import driver_dsn
from services.core.queue import backoff_seconds

KEEPALIVE_SECONDS = 10.0  # a silently dead connection is noticed within this (and polling covers the gap)
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_BASE_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 30.0


class Wakeup:
    """A LISTEN on ``channel``; :attr:`event` is set for each notification with a payload in ``keys`` (any if None)."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        *,
        keys: Collection[str] | None = None,
        application_name: str,
        logger: logging.Logger,
    ) -> None:
        self.dsn = dsn
        self.channel = channel
        self.keys = frozenset(keys) if keys is not None else None
        self.application_name = application_name
        self.logger = logger
        self.event = asyncio.Event()
        self.listening = asyncio.Event()  # set while the LISTEN is in place (tests and logs)

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        if self.keys is None or payload in self.keys:
            self.event.set()

    async def run(self, stop: asyncio.Event) -> None:
        """LISTEN until ``stop``, reconnecting with backoff whenever the connection is lost."""
        failures = 0
        while not stop.is_set():
            try:
                await self._listen(stop)
                failures = 0  # the connection had been up: the next reconnect starts from the base delay
            except Exception as exc:  # refused, timed out, authentication, a dead socket: all mean "poll meanwhile"
                failures += 1
                self.logger.warning(
                    "LISTEN connection failed, polling meanwhile",
                    extra={"channel": self.channel, "error": type(exc).__name__, "failures": failures},
                )
            if stop.is_set():
                break
            delay = backoff_seconds(max(failures, 1), base=RECONNECT_BASE_SECONDS, cap=RECONNECT_MAX_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def _listen(self, stop: asyncio.Event) -> None:
        connection: asyncpg.Connection = await asyncpg.connect(
            self.dsn,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": self.application_name},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self.channel, self._notified)
            self.listening.set()
            self.event.set()  # what was committed while nobody listened
            self.logger.info("listening", extra={"channel": self.channel})
            while not stop.is_set() and not lost.is_set():
                done, pending = await asyncio.wait(
                    [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())],
                    timeout=KEEPALIVE_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for waiter in pending:
                    waiter.cancel()
                if not done:
                    await connection.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
            if lost.is_set() and not stop.is_set():
                self.logger.warning("LISTEN connection lost, reconnecting", extra={"channel": self.channel})
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2.0)
            if not connection.is_closed():
                connection.terminate()


def wakeup(
    settings: Settings, channel: str, *, keys: Collection[str] | None, enabled: bool, what: str, logger: logging.Logger
) -> Wakeup | None:
    """The wake-up of a poller of ``channel`` (a queue table), or None when waking on commit is switched off."""
    if not enabled:
        return None
    return Wakeup(
        driver_dsn(settings), channel, keys=keys, application_name=f"motcua-listen-{what}"[:63], logger=logger
    )
