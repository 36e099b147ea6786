"""The async engine and the session: one transaction per request or per job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.core.config import Settings


def create_engine(settings: Settings, *, application_name: str, pool_size: int = 5) -> AsyncEngine:
    """An engine whose connections name the process in ``pg_stat_activity``."""
    return create_async_engine(
        settings.resolved_database_url(),
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": application_name}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session, commit when the block succeeds, roll back when it raises."""
    async with sessionmaker() as session, session.begin():
        yield session
