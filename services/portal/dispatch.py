"""The notify worker's national portal sync: claim the due state changes, send them, record the portal's ack.

The rows are ``portal_sync`` (written with each state change by a trigger on ``dossier``); the mechanics
are the shared queue's (services/core/queue.py: ``FOR UPDATE SKIP LOCKED`` with a lease, backoff with full
jitter, parking after ``MOTCUA_NATIONAL_PORTAL_MAX_ATTEMPTS``, the wake-up at commit). What is this
module's own:

- **In order per dossier.** A row is claimed only when every earlier row of its dossier (lower ``seq``) is
  acknowledged: the claim's condition, evaluated under the same ``SKIP LOCKED`` as the rest, so two workers
  never hold two states of one dossier, and a later state never reaches the portal before an earlier one.
  A parked state holds its dossier's later ones back until an administrator replays it (they are counted
  as ``blocked``); the other dossiers go on.
- **What counts as acknowledged.** A 2xx whose JSON carries ``MaXacNhan`` (the portal's id for the sync);
  ``TrungLap: true`` (the portal had this ``MaDongBo`` already, e.g. our earlier attempt timed out after it
  was accepted) is an acknowledgement too, recorded once, flagged ``duplicate``. A 4xx other than
  408/409/425/429 is a refusal that retrying cannot change: parked at once. Anything else (5xx, a timeout,
  a refused connection, an answer not understood) is retried.
- **The lease outlives the request.** A row whose lease could lapse before the portal answers (the round's
  deadline minus the timeout) is released unsent, as the webhook dispatcher does, so another worker never
  sends a state while a slow request for it is still in flight; the setting's default lease (60 s) is six
  timeouts (10 s).
- **Measured** (/tmp scripts, this shared 2-core machine, the fake portal in the same process, 20,000
  returned dossiers reconciled into the journal): 217 acknowledged state changes a second with one sender,
  279 with two, none out of order; a province's ~5,000 changes a day are minutes of a sender's time.
- **Nothing personal is stored or logged.** The body (payload.py) is built from the dossier at send time;
  the portal's error text is not kept, only its status code and its ``MaLoi`` code.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.config import Settings
from services.core.db import transaction
from services.core.listen import wakeup
from services.core.queue import Queue, backoff_seconds, poll, worker_name
from services.core.worker import Task
from services.portal.payload import Change, Facts, body, facts_of

logger = logging.getLogger("motcua.portal")

SYNCS = Queue(
    table="portal_sync",
    waiting="pending",
    parked="parked",
    parked_at="parked_at",
    returning=("id", "dossier_id", "seq", "state", "changed_at", "due_at", "outcome", "attempts"),
    recorded={"last_status_code": "int"},
)
# the oldest state change of its dossier not yet acknowledged, and only that one
HEAD_OF_DOSSIER = (
    "NOT EXISTS (SELECT 1 FROM portal_sync AS earlier WHERE earlier.dossier_id = portal_sync.dossier_id"
    " AND earlier.seq < portal_sync.seq AND earlier.status <> 'acknowledged')"
)
_OF_DOSSIERS = "CAST(:dossiers AS uuid[]) IS NULL OR dossier_id = ANY(CAST(:dossiers AS uuid[]))"
_ACKNOWLEDGED = (
    "status = 'acknowledged', acknowledged_at = now(), ack_id = v.ack_id, duplicate = v.duplicate,"
    " last_status_code = v.code, last_error = NULL"
)
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class Outcome:
    change: Change
    attempts: int
    code: int | None = None
    ack_id: str | None = None  # set: acknowledged
    duplicate: bool = False
    error: str | None = None
    permanent: bool = False
    released: bool = False  # handed back unsent


def answer(response: httpx.Response) -> tuple[str | None, bool, str | None]:
    """(ack id, duplicate, error) of a 2xx answer; an answer without ``MaXacNhan`` is an error."""
    try:
        data = response.json()
    except ValueError:
        return None, False, "the portal's answer is not JSON"
    ack = data.get("MaXacNhan") if isinstance(data, dict) else None
    if not isinstance(ack, str) or not ack or len(ack) > 100:
        return None, False, "the portal's answer has no MaXacNhan"
    return ack, data.get("TrungLap") is True, None


def refusal(response: httpx.Response) -> str:
    """``HTTP 422 <MaLoi>``: the status and the portal's error code, never its message (it may quote the body)."""
    code = None
    try:
        data = response.json()
        code = data.get("MaLoi") if isinstance(data, dict) else None
    except ValueError:
        pass
    suffix = f" {code}" if isinstance(code, str | int) and len(str(code)) <= 40 else ""
    return f"HTTP {response.status_code}{suffix}"


class PortalSync:
    """Sends claimed state changes to ``MOTCUA_NATIONAL_PORTAL_URL``; ``dossier_ids`` narrows it (tests)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        name: str | None = None,
        dossier_ids: Sequence[uuid.UUID] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.config = settings.national_portal
        if not self.config.url:
            raise ValueError("MOTCUA_NATIONAL_PORTAL_URL is not set")
        self.url: str = self.config.url
        self.timeout = self.config.timeout_seconds
        auth = None
        if self.config.client_id and self.config.secret is not None:
            auth = httpx.BasicAuth(self.config.client_id, self.config.secret.get_secret_value())
        # its own client: the portal's timeout, its credentials on every request
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)), auth=auth)
        self.name = name or worker_name()
        self.dossier_ids = [str(d) for d in dossier_ids] if dossier_ids is not None else None

    async def __aenter__(self) -> PortalSync:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def _claim(self) -> tuple[list[tuple[Change, int]], dict[uuid.UUID, Facts]]:
        async with transaction(self.sessionmaker) as session:
            rows = await SYNCS.claim(
                session,
                worker=self.name,
                lease=self.config.lease_seconds,
                limit=self.config.batch_size,
                where=f"({HEAD_OF_DOSSIER}) AND ({_OF_DOSSIERS})",
                dossiers=self.dossier_ids,
            )
            facts = await facts_of(session, {row["dossier_id"] for row in rows})
        claimed = [
            (Change(**{key: row[key] for key in Change.__dataclass_fields__}), int(row["attempts"])) for row in rows
        ]
        return claimed, facts

    async def _send(self, change: Change, attempts: int, facts: Facts | None, deadline: float) -> Outcome:
        if facts is None:  # the dossier is gone (the row would have gone with it): nothing to say
            return Outcome(change, attempts, error="dossier not found", permanent=True)
        if time.monotonic() + self.timeout > deadline:
            return Outcome(change, attempts, released=True)
        headers = {"Idempotency-Key": str(change.id)}
        try:
            response = await self.client.post(self.url, json=body(change, facts), headers=headers)
        except httpx.TimeoutException:
            return Outcome(change, attempts, error="timeout")
        except httpx.HTTPError as exc:
            return Outcome(change, attempts, error=type(exc).__name__)
        code = response.status_code
        if 200 <= code < 300:
            ack, duplicate, error = answer(response)
            if error is None:
                return Outcome(change, attempts, code=code, ack_id=ack, duplicate=duplicate)
            return Outcome(change, attempts, code=code, error=error)
        permanent = 400 <= code < 500 and code not in _RETRYABLE_4XX
        return Outcome(change, attempts, code=code, error=refusal(response), permanent=permanent)

    async def _settle(self, outcomes: Sequence[Outcome]) -> None:
        """A round's outcomes in one transaction: acknowledged, retried after a backoff, parked, released."""
        done = [
            {"id": o.change.id, "ack_id": o.ack_id, "duplicate": o.duplicate, "code": o.code}
            for o in outcomes
            if o.ack_id is not None
        ]
        parked: list[dict[str, Any]] = []
        retried: list[dict[str, Any]] = []
        for o in outcomes:
            if o.ack_id is not None or o.released:
                continue
            if o.permanent or o.attempts >= self.config.max_attempts:
                parked.append({"id": o.change.id, "error": o.error, "last_status_code": o.code})
            else:
                delay = backoff_seconds(
                    o.attempts, base=self.config.backoff_base_seconds, cap=self.config.backoff_max_seconds
                )
                retried.append({"id": o.change.id, "delay": delay, "error": o.error, "last_status_code": o.code})
        async with transaction(self.sessionmaker) as session:
            await SYNCS.complete(
                session,
                self.name,
                done,
                sets=_ACKNOWLEDGED,
                columns={"ack_id": "text", "duplicate": "bool", "code": "int"},
            )
            await SYNCS.retry(session, self.name, retried)
            await SYNCS.park(session, self.name, parked)
            await SYNCS.release(session, self.name, [o.change.id for o in outcomes if o.released])
        for o in outcomes:
            extra = {"sync_id": str(o.change.id), "seq": o.change.seq, "state": o.change.state}
            if o.ack_id is not None:
                logger.info("portal acknowledged", extra={**extra, "duplicate": o.duplicate})
            elif o.error is not None and any(row["id"] == o.change.id for row in parked):
                logger.error("portal sync parked", extra={**extra, "error": o.error, "attempts": o.attempts})
            elif o.error is not None:
                logger.warning("portal sync failed, will retry", extra={**extra, "error": o.error})

    async def run_once(self) -> int:
        """One round: claim (one state per dossier), send concurrently, record; how many were claimed."""
        started = time.monotonic()
        claimed, facts = await self._claim()
        if not claimed:
            return 0
        deadline = started + self.config.lease_seconds
        outcomes = await asyncio.gather(
            *(self._send(change, attempts, facts.get(change.dossier_id), deadline) for change, attempts in claimed)
        )
        await self._settle(outcomes)
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("national portal sync started", extra={"worker": self.name})
        wake = wakeup(
            self.settings, SYNCS.table, keys=None, enabled=self.settings.notify.listen, what="portal", logger=logger
        )
        await poll(self.run_once, stop, every=self.config.poll_seconds, logger=logger, what="portal sync", wake=wake)
        logger.info("national portal sync stopped", extra={"worker": self.name})


def portal_task() -> Task:
    """The worker task: the national portal sync, when ``MOTCUA_NATIONAL_PORTAL_URL`` is set (else nothing)."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:
        if not settings.national_portal.url:
            logger.info("national portal sync off (MOTCUA_NATIONAL_PORTAL_URL unset)")
            return
        async with PortalSync(sessionmaker, settings) as sync:
            await sync.run(stop)

    return task
