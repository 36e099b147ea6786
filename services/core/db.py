"""The async engine and the session: one transaction per request or per job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.core.config import Settings


def create_engine(
    settings: Settings, *, application_name: str, pool_size: int | None = None, durable_commits: bool = True
) -> AsyncEngine:
    """An engine whose connections name the process in ``pg_stat_activity``.

    Pool size, overflow and the acquire timeout are settings (``MOTCUA_DB_POOL_SIZE``,
    ``MOTCUA_DB_MAX_OVERFLOW``, ``MOTCUA_DB_POOL_TIMEOUT_SECONDS``); a request that cannot get a
    connection in time is answered 503 with ``Retry-After`` (services.core.errors), not left hanging.
    """
    server_settings = {"application_name": application_name}
    if not durable_commits:
        # rate counters: a commit need not wait for the WAL flush (a crash may forget the last few
        # counts), so a hot counter row is locked for microseconds, not for a disk flush
        server_settings["synchronous_commit"] = "off"
    return create_async_engine(
        settings.db.resolved_url(),
        pool_size=pool_size if pool_size is not None else settings.db.pool_size,
        max_overflow=settings.db.max_overflow if pool_size is None else min(settings.db.max_overflow, pool_size),
        pool_timeout=settings.db.pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session, commit when the block succeeds, roll back when it raises."""
    async with sessionmaker() as session, session.begin():
        yield session


def holds_connection(session: AsyncSession) -> bool:
    """Whether ``session`` has taken a pooled connection (its transaction has run a statement)."""
    transaction = session.sync_session.get_transaction()
    return transaction is not None and bool(transaction._connections)
