"""Older staff tokens stop working: every service compares a token's ``ver`` with its account's.

The account's ``token_version`` and ``active`` flag are read from the shared database and kept per
process for ``token_check_seconds`` (2 s by default), so a logout, a deactivation, a role, agency or
password change refuses older tokens on every replica of every service within that time, at the
cost of one indexed read per account every two seconds. The read runs in a short transaction of
its own while the request's session has not yet taken a connection (dependencies run first).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.auth import Actor
from services.models import Staff

_MAX_ENTRIES = 50_000


@dataclass(frozen=True)
class _State:
    version: int
    active: bool
    read_at: float


class TokenStates:
    """A short-lived per-process view of each account's token version."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._states: dict[uuid.UUID, _State] = {}

    async def accepts(self, sessionmaker: async_sessionmaker[AsyncSession], actor: Actor) -> bool:
        staff_id = actor.staff_id
        if staff_id is None:  # a service token: short-lived, no account behind it
            return True
        now = time.monotonic()
        state = self._states.get(staff_id)
        if state is None or now - state.read_at > self.ttl:
            async with sessionmaker() as session:
                row = (
                    await session.execute(select(Staff.token_version, Staff.active).where(Staff.id == staff_id))
                ).first()
            if row is None:
                return False
            if len(self._states) >= _MAX_ENTRIES:
                self._states.clear()
            state = _State(version=int(row[0]), active=bool(row[1]), read_at=now)
            self._states[staff_id] = state
        return state.active and actor.token_version == state.version

    def forget(self, staff_id: uuid.UUID) -> None:
        """This process changed the account: do not wait for the cache to learn it."""
        self._states.pop(staff_id, None)


async def revoke_tokens(session: AsyncSession, staff_id: uuid.UUID) -> None:
    """Raise the account's token version in the caller's transaction: its older tokens stop working."""
    await session.execute(update(Staff).where(Staff.id == staff_id).values(token_version=Staff.token_version + 1))
