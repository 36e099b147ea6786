"""The async engine and the session: one transaction per request or per job."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.core.config import Settings
from services.core.errors import DatabaseUnavailable

# asyncpg keeps a connection's prepared statements for reuse only up to 15 KiB of text by default. The
# dashboard's statement of the finished part (services/stats/queries.py) is 22 KiB, 79 counters in each
# branch: past that bound it was prepared again at every call, a round trip and a parse of its own (its
# 8.8 ms took 12.0 at 10 M dossiers, 2026-12-06). Every engine, and the benchmarks', connect with these.
DRIVER_ARGS: dict[str, Any] = {"max_cacheable_statement_size": 64 * 1024}


def create_engine(
    settings: Settings,
    *,
    application_name: str,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> AsyncEngine:
    """An engine whose connections name the process in ``pg_stat_activity``.

    Pool size, overflow and the acquire timeout are settings (``MOTCUA_DB_POOL_SIZE``,
    ``MOTCUA_DB_MAX_OVERFLOW``, ``MOTCUA_DB_POOL_TIMEOUT_SECONDS``); a request that cannot get a
    connection in time is answered 503 with ``Retry-After`` (services.core.errors), not left hanging.

    The pool is fixed by default (no overflow): SQLAlchemy closes an overflow connection when it is given
    back, so under steady load past the pool size every request opened a connection of its own (TLS
    negotiation attempt included) — under wrk, a fifth of intake's time (bench/profiles/).

    No pre-ping by default (``MOTCUA_DB_PRE_PING``): SQLAlchemy's ping of the asyncpg dialect is three round
    trips (BEGIN, ``;``, ROLLBACK) at every checkout, 40 % of a tracking request. Without it, a connection
    the database dropped (a restart, a failover) fails the one request that uses it, answered 503
    ``database_unavailable`` (services.core.errors), and SQLAlchemy replaces the pool's older connections.
    """
    server_settings = {"application_name": application_name}
    return create_async_engine(
        settings.db.resolved_url(),
        pool_size=pool_size if pool_size is not None else settings.db.pool_size,
        max_overflow=max_overflow if max_overflow is not None else _overflow(settings, pool_size),
        pool_timeout=settings.db.pool_timeout_seconds,
        pool_pre_ping=settings.db.pre_ping,
        connect_args={"server_settings": server_settings, **DRIVER_ARGS},
    )


def _overflow(settings: Settings, pool_size: int | None) -> int:
    """The settings' overflow for a request pool; as many again for a tool's or worker's own small pool."""
    return settings.db.max_overflow if pool_size is None else pool_size


def driver_dsn(settings: Settings) -> str:
    """The configured database as a plain ``postgresql://`` DSN for asyncpg's own connections (the LISTEN
    connections, the counters' pool): the SQLAlchemy URL minus its driver. Both hold session state (a LISTEN;
    ``synchronous_commit`` as a startup parameter, which PgBouncer refuses), so they take
    ``MOTCUA_DB_DIRECT_URL`` when a transaction-mode pooler stands in front of the database (deploy/k8s).

    A multi-host URL (a primary and its standbys, ``?host=a:5432&host=b:5432&target_session_attrs=read-write``,
    SQLAlchemy's asyncpg form) keeps all its hosts: asyncpg's own DSN parser keeps only the last of repeated
    query parameters, so the hosts are joined with commas, the form it reads as a host list. Without this the
    counters and the workers' LISTEN connections went to the last host only, a standby, while the engine
    found the primary."""
    url = make_url(settings.db.resolved_direct_url()).set(drivername="postgresql")
    hosts = url.query.get("host")
    if isinstance(hosts, tuple):
        url = url.update_query_dict({"host": ",".join(hosts)})
    return url.render_as_string(hide_password=False)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session, commit when the block succeeds, roll back when it raises."""
    async with sessionmaker() as session, session.begin():
        yield session


@asynccontextmanager
async def autocommit(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in autocommit: each statement is its own transaction, committed at once (one round trip,
    no BEGIN and COMMIT), and holds its row locks only for itself."""
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


@asynccontextmanager
async def alone(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for one statement that commits by itself (e.g. through ``fetch``): in ``autocommit`` when the
    sessionmaker takes its connections from an engine's pool; in a transaction of its own when it is bound to
    one connection (the tests' rolled-back one, whose outer transaction autocommit would end)."""
    if isinstance(sessionmaker.kw.get("bind"), AsyncEngine):
        async with autocommit(sessionmaker) as session:
            yield session
    else:
        async with transaction(sessionmaker) as session:
            yield session


def holds_connection(session: AsyncSession) -> bool:
    """Whether ``session`` has taken a pooled connection (its transaction has run a statement)."""
    transaction = session.sync_session.get_transaction()
    return transaction is not None and bool(transaction._connections)


async def hand_back(session: AsyncSession) -> None:
    """End a read-only request's transaction now, so that its pooled connection goes back to the pool while the
    request waits for something slow that needs no database: a printed form rendering in the PDF process pool
    (``ProcessOffload.run_released``). Twenty desks printing their slips at 8 a.m. held twenty of the pool's
    connections for the whole of each render, idle; now each holds one for its reads, then for the short
    transaction that writes what the print leaves behind (its audit line, the signed document's register line).
    A later statement opens that transaction, committed with the request as usual (``get_session``).

    For read-only paths only: ORM changes pending (``session.new``, ``dirty``, ``deleted``) make it a no-op, so
    they stay in the one transaction they belong to; a statement written straight through ``fetch`` is not
    seen, so a path that writes that way must not call it."""
    if holds_connection(session) and not (session.new or session.dirty or session.deleted):
        await session.commit()


async def begin(session: AsyncSession) -> None:
    """Open ``session``'s transaction now (BEGIN), so that the statements ``fetch`` runs next are inside it.

    ``fetch`` on a session that has not run a statement through SQLAlchemy runs alone, in autocommit; a
    change made of several raw statements (a filing: its number, then its rows) needs them in one
    transaction, committed or rolled back by the session as usual. This starts the transaction the way
    SQLAlchemy's asyncpg adapter starts it at its first statement (``_start_transaction``: one BEGIN), so
    the session's commit and rollback end it. A no-op when the transaction is already open (a statement ran,
    or the tests' outer transaction and savepoint)."""
    connection = await session.connection()
    pooled = await connection.get_raw_connection()
    adapter: Any = pooled.dbapi_connection
    if adapter._transaction is not None or adapter.autocommit:
        return
    try:
        await adapter._start_transaction()
    except Exception as exc:  # the adapter's translated error; a lost connection is replaced, as fetch does
        driver: asyncpg.Connection = pooled.driver_connection
        if driver.is_closed():
            await connection.invalidate(exc)
            raise DatabaseUnavailable() from exc
        raise
    except BaseException as exc:  # cancelled mid-BEGIN: the server may be in a transaction the adapter never saw
        pooled.invalidate(exc, soft=True)  # replaced at its next checkout
        raise


_CONNECTION_LOST = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)


# what the hottest statements run on: a request's session, or a connection of the counters' own pool
# (services.core.counters)
Executor: TypeAlias = AsyncSession | asyncpg.Connection


# a bound parameter of a hand-written statement: ":name", not a "::type" cast
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=256)
def numbered(statement: str) -> tuple[str, tuple[str, ...]]:
    """A hand-written statement's ``:name`` parameters as asyncpg's ``$1``…, numbered in order of first use, and
    their names in that order (for ``fetch``). Kept per text: the callers have a few shapes each (the dashboard's
    largest is 22 KiB, 0.4 ms to scan)."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${numbers.setdefault(match[1], len(numbers) + 1)}"

    return _NAMED.sub(number, statement), tuple(numbers)


async def fetch(on: Executor, sql: str, *args: Any) -> list[asyncpg.Record]:
    """One statement straight through asyncpg, on a session's connection or on a counters' connection; its rows.

    For the hottest paths only (tracking, the rate counters every public write takes). SQLAlchemy's asyncpg
    adapter opens its transaction (BEGIN) at the first statement *it* runs, so on a session that has not run
    one — or one in autocommit — this statement runs alone, its own consistent snapshot and its own
    transaction, with no BEGIN and no COMMIT round trip; and asyncpg's records skip SQLAlchemy's result
    machinery (issue 14: each of those cost about as much as the query). On a session already in a
    transaction it simply runs inside it. ``sql`` takes ``$1``… parameters."""
    if isinstance(on, asyncpg.Connection):
        # a connection of asyncpg's own pool, which replaces a closed connection by itself: close it
        async def close(_: BaseException) -> None:
            _close(on)

        return await _run(on, sql, args, lost=close, interrupted=lambda _: _close(on))
    connection = await on.connection()
    pooled = await connection.get_raw_connection()
    driver: asyncpg.Connection = pooled.driver_connection
    # SQLAlchemy sees none of this statement's failures: what it would do, this does — a lost connection is
    # invalidated; an interrupted one is replaced at its next checkout
    return await _run(
        driver, sql, args, lost=connection.invalidate, interrupted=lambda exc: pooled.invalidate(exc, soft=True)
    )


async def _run(
    driver: asyncpg.Connection,
    sql: str,
    args: tuple[Any, ...],
    *,
    lost: Callable[[BaseException], Awaitable[None]],
    interrupted: Callable[[BaseException], None],
) -> list[asyncpg.Record]:
    """The statement on ``driver``, its failures sorted once for both kinds of connection: the statement's own
    error is raised as it is; a connection the database dropped (a restart, a failover, an administrator) is
    ``lost`` and the request answered 503; a statement interrupted mid-way (a cancelled request) leaves a
    connection that is ``interrupted``, never handed to the next request as it is."""
    try:
        rows: list[asyncpg.Record] = await driver.fetch(sql, *args)
    except asyncpg.PostgresError as exc:
        if not (isinstance(exc, _CONNECTION_LOST) or _closed(driver)):
            raise  # the statement's own error: the connection is fine
        await lost(exc)
        raise DatabaseUnavailable() from exc
    except (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError) as exc:
        await lost(exc)
        raise DatabaseUnavailable() from exc
    except BaseException as exc:
        interrupted(exc)
        raise
    return rows


def _closed(driver: asyncpg.Connection) -> bool:
    try:
        closed: bool = driver.is_closed()
    except asyncpg.InterfaceError:  # the pool took a closed connection back already
        return True
    return closed


def _close(driver: asyncpg.Connection) -> None:
    with contextlib.suppress(asyncpg.InterfaceError):  # the pool took it back already: it is closed
        driver.terminate()


async def fetch_row(on: Executor, sql: str, *args: Any) -> asyncpg.Record | None:
    """``fetch``'s first row (``None`` when there is none)."""
    rows = await fetch(on, sql, *args)
    return rows[0] if rows else None
