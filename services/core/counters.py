"""The rate and guessing counters' own small pool (services.core.ratelimit, services.core.guessing).

Every public write and every tracking request takes one counter statement before its work, and the
right tracking secret is proven in that same statement (``guessing.count_unless``). Those statements
run in autocommit (each its own transaction: its row locks last for itself only), one at a time,
and never need the ORM. So the pool is asyncpg's own, not a SQLAlchemy engine: a checkout through an
``AsyncSession`` in autocommit — the session, its connection with execution options, the greenlet
hops, the close — cost as much as the statement it ran (issue 14: tracking 1.4–2.8× the requests a second of
the previous commit in same-run A/B rounds, ``bench/profiles/2026-12-06-tracking.md``).

- **Fixed size** (``MOTCUA_DB_LIMITS_POOL_SIZE``), opened lazily: a service starts while the
  database is down (``/readyz`` says so) and connects at the first counted request.
- **A checkout that waits** past ``MOTCUA_DB_POOL_TIMEOUT_SECONDS`` answers 503 ``server_busy``
  with ``Retry-After``, like the main pool. A database that cannot be reached answers 503
  ``database_unavailable``; a connection it dropped is replaced by the pool (services.core.db
  ``fetch`` closes one that failed or was interrupted mid-statement).
- **No reset round trip** when a connection is handed back: counter statements change no session
  state (no ``SET``, no ``LISTEN``, no advisory lock), and asyncpg still rolls back a transaction
  left open. Commits do not wait for the WAL flush (``synchronous_commit = off``): a crash may forget
  the last few counts, and a hot counter row is locked for microseconds, not for a disk flush.
- **JSON** is decoded like on SQLAlchemy's connections: a read joined to a proof (tracking's view)
  gets the same Python values whichever pool ran it.

Tests point ``app.state.counters`` at the test's own connection instead (tests/apps.py), which is
why the services take a :class:`Counters` and not the pool itself.

**The notification sender's statements** run on such a pool too (one per sender, opened by its worker task:
``services.notification.sender``): its claim and its hottest outcome writes are single statements in
autocommit, as the counters' are, and each of them taken through an ``AsyncSession`` — the checkout, the
execution options, the close — cost the sender more CPU than the statement (issue 14: 0.73–0.78 → 0.58–0.63 ms
of the sender's CPU an email, 0.77–0.80 → 0.68–0.77 ms an SMS, ``bench/profiles/2026-12-06-sender.md``).
``fetch_alone`` runs one statement on either.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.db import alone, driver_dsn, fetch
from services.core.errors import DatabaseUnavailable, ServerBusy
from services.core.metrics import PoolUse

logger = logging.getLogger("motcua.counters")


class Counters(Protocol):
    """Where counter statements run: ``async with counters.connection() as connection``."""

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...


class CounterPool:
    """The production :class:`Counters`: a small asyncpg pool, opened and closed by the app's lifespan."""

    def __init__(self, settings: Settings, *, application_name: str, size: int | None = None) -> None:
        self._dsn = driver_dsn(settings)
        self._size = size or settings.db.limits_pool_size
        self._timeout = settings.db.pool_timeout_seconds
        self._application_name = application_name[:63]
        self._pool: asyncpg.Pool | None = None
        self._in_use = 0
        self._waiting = 0

    def use(self) -> PoolUse:
        """Connections handed out and checkouts waiting now (services.core.metrics reads it at a scrape)."""
        return PoolUse(in_use=self._in_use, waiting=self._waiting, size=self._size)

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=0,  # lazily: nothing is connected before the first counted request
            max_size=self._size,
            timeout=self._timeout,
            server_settings={"application_name": self._application_name, "synchronous_commit": "off"},
            init=_json_codecs,
            reset=_no_reset,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise RuntimeError("the counters' pool is not open (the app's lifespan opens it)")
        self._waiting += 1
        try:
            connection = await self._pool.acquire(timeout=self._timeout)
        except TimeoutError as exc:
            logger.warning("counters pool exhausted")
            raise ServerBusy() from exc
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseUnavailable() from exc
        finally:
            self._waiting -= 1
        self._in_use += 1
        try:
            yield connection
        finally:
            self._in_use -= 1
            await self._pool.release(connection)


async def fetch_alone(
    pool: Counters | None, sessionmaker: async_sessionmaker[AsyncSession], sql: str, *args: Any
) -> list[asyncpg.Record]:
    """One statement in autocommit (``sql`` with ``$1``… parameters), its rows: on a connection of ``pool``, or
    without one on a session of ``sessionmaker`` (``services.core.db.alone``: in a transaction of its own when
    that is bound to the tests' rolled-back connection)."""
    if pool is not None:
        async with pool.connection() as connection:
            return await fetch(connection, sql, *args)
    async with alone(sessionmaker) as session:
        return await fetch(session, sql, *args)


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """json and jsonb as Python values, in the binary format SQLAlchemy's asyncpg dialect uses (a composite
    value — a row of tracking's history — carries its fields in binary)."""
    await connection.set_type_codec(
        "json", encoder=str.encode, decoder=lambda raw: json.loads(raw.decode()), schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),  # jsonb's binary form: a version byte, then the text
        decoder=lambda raw: json.loads(raw[1:].decode()),
        schema="pg_catalog",
        format="binary",
    )


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """Nothing to undo: see the module's docstring (asyncpg itself rolls back a transaction left open)."""
