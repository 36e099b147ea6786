"""Electronic results (kết quả điện tử): a dossier filed with ``return_method: "online"`` gets its result
files by download, and is returned (state 10, ``returned``) when the result first leaves, or after a set
time.

**Three steps, each its own function**, so that another way of proving who the citizen is (a signed-in
citizen account) reuses the last two unchanged:

1. *Who holds the dossier* is the caller's business: today the code and the secret in a POST body
   (``services.intake.citizen``, the guessing limits of tracking), never in a URL.
2. *What the holder may take now* (``downloadable``, the authorization decision): the result files
   (``document.kind = 'result'``) of a dossier whose return method is ``online`` and which is
   ``resolved`` or ``returned``. Before the resolution a result file attached during processing is a
   draft: nobody outside gets it. A counter or postal dossier's result is handed over on paper: 409.
3. *Serving it* (``deliver``): the read is written to the audit log (no person's name: the citizen has
   no account, the client address and the request id are the trace); the first delivery of a
   ``resolved`` dossier returns it, with a hand-over line by the citizen and the ``dossier.returned``
   event. Later downloads (the file stays available) change nothing. The caller holds the dossier's row
   lock, so two concurrent first downloads serialise on it and the second finds it ``returned``.

**Returned after a set time** (``auto_return``): a citizen who never downloads would leave the dossier
``resolved`` for ever — open work to the desk's lists and never finished for the national portal. After
``MOTCUA_ONLINE_RESULT_AUTO_RETURN_DAYS`` (default 10) *calendar* days from the resolution it is returned
by the system. Calendar days, not working days: the result is at the citizen's disposal at any hour (the
message reaches them at once, downloading needs no open office), so the office calendar has nothing to say
about it; and the rule is a plain SQL predicate on ``resolved_at``, so no deadline is stored and a changed
setting applies to the dossiers already waiting. 10 days cover the longest Tết closure (9 days in 2026)
and keep a dossier resolved late in a month from staying open far into the next report. Only a dossier
that has a result file is returned this way (there is nothing to deliver otherwise; the desk's
``return_result`` stays offered for it, and for a citizen who comes to the desk for it on paper). The scan
claims its dossiers ``FOR UPDATE SKIP LOCKED`` with the state in the WHERE clause, which PostgreSQL checks
again after the lock: any number of workers return each dossier once, and a download racing the scan
either waits on the row (and finds it returned) or is skipped by it.

The statistics need nothing new: a ``returned`` dossier counts by its outcome exactly as a ``resolved`` one
(``services.stats``), which the return does not change; ``returned_at`` is what the national portal's
state 10 reports.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
from fastapi.responses import FileResponse
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.audit import Origin, audit_entry, record
from services.core.clock import Clock
from services.core.config import Settings
from services.core.errors import Conflict, NotFound
from services.core.worker import Task, periodic
from services.domain.vocabulary import DossierStatus
from services.dossier.notes import fixed
from services.dossier.record import Source, announce, handover
from services.models import Document, Dossier

ONLINE = "online"
# the states in which the holder may take the result: once resolved, and for good after the return
AVAILABLE = frozenset({DossierStatus.RESOLVED, DossierStatus.RETURNED})
RESULT_KIND = "result"
BATCH = 200  # dossiers returned per transaction by one scan
ReturnedBy = Literal["citizen", "system"]


@dataclass(frozen=True)
class ResultFile:
    """One result file on disk, with the neutral name it is sent under (``ket-qua-<code>-<n>.<ext>``: the
    stored file name, typed by an officer, may carry a person's name)."""

    path: Path
    content_type: str
    filename: str

    def response(self) -> FileResponse:
        """The download as both routes send it (the secret's and the account's): never cached on the way."""
        return FileResponse(
            self.path, media_type=self.content_type, filename=self.filename, headers={"Cache-Control": "no-store"}
        )


def public_name(dossier_code: str, number: int, content_type: str) -> str:
    """``ket-qua-<code>-<n>.pdf``: the name a result file is offered under (never the uploaded one)."""
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"ket-qua-{dossier_code}-{number}{extension}"


async def result_documents(session: AsyncSession, dossier: Dossier) -> list[Document]:
    """The dossier's result files, oldest first (their numbers in ``public_name``)."""
    rows = await session.scalars(
        select(Document)
        .where(Document.dossier_id == dossier.id, Document.kind == RESULT_KIND)
        .order_by(Document.created_at, Document.id)
    )
    return list(rows.all())


async def downloadable(session: AsyncSession, dossier: Dossier) -> list[Document]:
    """The authorization decision for the proven holder of ``dossier``: the result files they may take now.

    409 ``not_online_return`` for a result handed over on paper, 409 ``result_not_ready`` before the
    resolution or while no result file is attached."""
    if dossier.return_method != ONLINE:
        raise Conflict("This dossier's result is not returned electronically.", code="not_online_return")
    if dossier.status not in AVAILABLE:
        raise Conflict("The result is not ready yet.", code="result_not_ready", status_now=dossier.status)
    found = await result_documents(session, dossier)
    if not found:
        raise Conflict("The result is not ready yet.", code="result_not_ready", status_now=dossier.status)
    return found


def choose(documents: Sequence[Document], document_id: str | None) -> tuple[int, Document]:
    """The file asked for (its number from 1 and the row); the first when none is named."""
    for number, document in enumerate(documents, start=1):
        if document_id is None or str(document.id) == document_id:
            return number, document
    raise NotFound("No such result file in this dossier.", code="document_not_found")


async def return_online(
    session: AsyncSession, dossier: Dossier, *, at: datetime, source: Source, by: ReturnedBy
) -> None:
    """The dossier is returned electronically: state, hand-over line and ``dossier.returned``, in the caller's
    transaction, on a ``resolved`` dossier whose row the caller locked."""
    dossier.status = DossierStatus.RETURNED
    dossier.returned_at = dossier.closed_at = at
    dossier.current_assignee_id = None
    handover(
        session, dossier, action="return", at=at,
        public_note=fixed("returned_online" if by == "citizen" else "returned_online_auto"),
        detail={"return_method": ONLINE, "returned_by": by},
    )  # fmt: skip
    await announce(
        session, dossier, "dossier.returned", source=source, returned_at=at.isoformat(), return_method=ONLINE,
        returned_by=by,
    )  # fmt: skip


async def deliver(
    session: AsyncSession,
    settings: Settings,
    dossier: Dossier,
    document_id: str | None,
    *,
    now: datetime,
    origin: Origin,
    source: Source,
    username: str | None = None,
) -> ResultFile:
    """Serve one result file to the proven holder of ``dossier`` (its row locked by the caller): decided by
    ``downloadable``, audited, and the first one returns the dossier (module docstring). ``username`` names
    the downloader in the audit line when known (a signed-in citizen's ``citizen:<account>``); the holder of
    a secret is anonymous."""
    number, document = choose(await downloadable(session, dossier), document_id)
    record(
        session,
        audit_entry(
            service=origin.service, action="download_result", resource=origin.route, origin=origin,
            username=username, dossier_id=dossier.id,
            detail={"document_id": str(document.id), "first": dossier.status != "returned"},
        ),
    )  # fmt: skip
    if dossier.status == DossierStatus.RESOLVED:
        await return_online(session, dossier, at=now, source=source, by="citizen")
    await session.flush()
    return ResultFile(
        path=Path(settings.files_dir) / document.storage_path,
        content_type=document.content_type,
        filename=public_name(dossier.code, number, document.content_type),
    )


def auto_return_due(now: datetime, days: int) -> datetime:
    """Dossiers resolved at or before this instant are returned by the system (calendar days)."""
    return now - timedelta(days=days)


async def auto_return(session: AsyncSession, *, now: datetime, days: int, limit: int = BATCH) -> int:
    """Return the online dossiers resolved ``days`` ago or earlier that have a result file; how many.

    One transaction per call; any number of workers may call it at once (module docstring)."""
    has_result = exists().where(Document.dossier_id == Dossier.id, Document.kind == RESULT_KIND)
    due = await session.scalars(
        select(Dossier)
        .where(
            Dossier.status == DossierStatus.RESOLVED,
            Dossier.return_method == ONLINE,
            Dossier.resolved_at <= auto_return_due(now, days),
            has_result,
        )
        .order_by(Dossier.resolved_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    returned = 0
    for dossier in due.all():
        await return_online(session, dossier, at=now, source="workflow", by="system")
        returned += 1
    await session.flush()
    return returned


def auto_return_task() -> Task:
    """The worker task (workflow_api's worker, beside the SLA timers): every ``MOTCUA_TIMER_POLL_SECONDS``,
    return what waited ``MOTCUA_ONLINE_RESULT_AUTO_RETURN_DAYS``, a batch per transaction."""

    async def task(
        sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, client: httpx.AsyncClient,
        stop: asyncio.Event,
    ) -> None:  # fmt: skip
        days = settings.sla.online_result_auto_return_days

        async def scan(
            sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, stop: asyncio.Event, logger: logging.Logger
        ) -> None:
            total = 0
            while not stop.is_set():
                async with sessionmaker() as session, session.begin():
                    returned = await auto_return(session, now=clock.now(), days=days)
                total += returned
                if returned < BATCH:
                    break
            if total:
                logger.info("online results returned", extra={"returned": total})

        run = periodic("online_results", lambda current: current.sla.timer_poll_seconds, scan)
        await run(sessionmaker, settings, client, stop)

    return task
