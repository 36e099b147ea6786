"""Older staff tokens stop working: every service compares a token's ``ver`` with its account's.

The account's ``token_version`` and ``active`` flag are read from the shared database and kept per
process, at the cost of one indexed read per account per ``token_check_seconds`` (2 s by default).
The read runs in a short transaction of its own while the request's session has not yet taken a
connection (dependencies run first).

**Refused on every replica at once.** A trigger on ``staff`` sends ``NOTIFY staff_token, <id>`` when
an account's version or ``active`` flag changes (migration a5c3e1f7b2d8: logout, deactivation, a
role, agency or password change, an operator's SQL); it is delivered when that transaction commits.
Each API process LISTENs (:meth:`TokenStates.start`, a dedicated connection through
services.core.listen, reopened with backoff) and drops its view of the account, so the next request
with the old token re-reads and is refused — on every replica, before the signing-out request has
even answered in practice (docs/operations/replicas.md has the measurement). The 2 s check stays as
the bound when the LISTEN connection is down or switched off (``MOTCUA_TOKEN_LISTEN=0``, e.g. behind
a transaction-mode PgBouncer): a notification missed then costs at most that.

*Why not read the version on every request*: it is exact without a listener, but doubles the
database round trips of every staff request for what changes a few times a day; the notification
costs one idle connection per process and nothing per request.

A read that raced a notification (begun before the change committed, finished after the drop) is
used for its own request only, never cached: the drop counter tells.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.auth import Actor
from services.core.config import Settings
from services.core.db import driver_dsn
from services.core.listen import Wakeup
from services.models import Staff

_MAX_ENTRIES = 50_000
CHANNEL = "staff_token"  # the trigger's NOTIFY (migration a5c3e1f7b2d8); the payload is the staff id
_logger = logging.getLogger("motcua.revocation")


@dataclass(frozen=True)
class _State:
    version: int
    active: bool
    read_at: float


class TokenStates:
    """A short-lived per-process view of each account's token version, dropped on a change's NOTIFY."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._states: dict[uuid.UUID, _State] = {}
        self._drops = 0  # views dropped so far: a read that saw it move is not cached
        self._listener: _Listener | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.listening.is_set()

    async def accepts(self, sessionmaker: async_sessionmaker[AsyncSession], actor: Actor) -> bool:
        staff_id = actor.staff_id
        if staff_id is None:  # a service token: short-lived, no account behind it
            return True
        now = time.monotonic()
        state = self._states.get(staff_id)
        if state is None or now - state.read_at > self.ttl:
            drops = self._drops
            async with sessionmaker() as session:
                row = (
                    await session.execute(select(Staff.token_version, Staff.active).where(Staff.id == staff_id))
                ).first()
            if row is None:
                return False
            state = _State(version=int(row[0]), active=bool(row[1]), read_at=now)
            if drops == self._drops:
                if len(self._states) >= _MAX_ENTRIES:
                    self._states.clear()
                self._states[staff_id] = state
        return state.active and actor.token_version == state.version

    def forget(self, staff_id: uuid.UUID) -> None:
        """The account changed (this process changed it, or another one's commit was notified)."""
        self._drops += 1
        self._states.pop(staff_id, None)

    def forget_all(self) -> None:
        self._drops += 1
        self._states.clear()

    def start(self, settings: Settings, *, application_name: str) -> None:
        """LISTEN for changes in a task of this process's loop (``MOTCUA_TOKEN_LISTEN``); :meth:`close` ends it."""
        if not settings.auth.token_listen or self._task is not None:
            return
        self._listener = _Listener(self, driver_dsn(settings), application_name=application_name[:63])
        self._task = asyncio.create_task(self._listener.run(self._stop))

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, timeout=5.0)
            self._task = None


class _Listener(Wakeup):
    """The LISTEN on :data:`CHANNEL`: each notification drops one account's view."""

    def __init__(self, states: TokenStates, dsn: str, *, application_name: str) -> None:
        super().__init__(dsn, CHANNEL, keys=None, application_name=application_name, logger=_logger)
        self.states = states

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.states.forget(uuid.UUID(payload))
        except ValueError:
            self.states.forget_all()


async def revoke_tokens(session: AsyncSession, staff_id: uuid.UUID) -> None:
    """Raise the account's token version in the caller's transaction: its older tokens stop working."""
    await session.execute(update(Staff).where(Staff.id == staff_id).values(token_version=Staff.token_version + 1))
