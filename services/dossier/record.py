"""The record of what happened to a dossier: one hand-over line (the process control sheet, phiếu kiểm
soát quá trình) and one event per state change, written in the caller's transaction.

``announce`` names its ``source`` explicitly: the service whose code changed the dossier (intake_api's
desk and webhooks, or workflow_api's engine). The source picks the relay that delivers the event and
signs it; the receivers (workflow_api, notify_api) read only its type and payload.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Actor
from services.dossier.notes import Note
from services.models import Dossier, Handover
from services.outbox import emit
from services.outbox.events import Destination

# the services whose code changes a dossier: each one's worker relays the events it wrote
Source = Literal["intake", "workflow"]

# who handles what: workflow_api starts the routing when a dossier is received and handles nothing else;
# notify_api tells the citizen, the staff and the subscribers of every change. An event nobody handles is
# not sent: half of all events went to workflow_api only to be ignored (issue 14, bench_pipeline).
# tests/routing/test_event_sources.py holds this set to workflow_api's handlers.
WORKFLOW_EVENTS: frozenset[str] = frozenset({"dossier.received"})


def destinations(event_type: str) -> tuple[Destination, ...]:
    """The services that handle ``event_type``."""
    return ("workflow", "notify") if event_type in WORKFLOW_EVENTS else ("notify",)


def handover(
    session: AsyncSession,
    dossier: Dossier,
    *,
    action: str,
    at: datetime,
    actor: Actor | None = None,
    comment: str | None = None,
    public_note: Note | str | None = None,
    detail: dict[str, Any] | None = None,
) -> Handover:
    """Add one line of the process control sheet and return it (callers fill the step fields).

    A system note is a ``Note`` (code, params and the Vietnamese sentence: services.dossier.notes);
    a plain sentence is still accepted and keeps its code only if it is a parameterless one."""
    note = public_note if isinstance(public_note, Note) else None
    line = Handover(
        dossier_id=dossier.id,
        at=at,
        action=action,
        status_after=dossier.status,
        step_position=dossier.current_step_position,
        from_staff_id=actor.staff_id if actor else None,
        from_agency_id=actor.agency_id if actor else None,
        to_agency_id=dossier.current_agency_id,
        comment=comment,
        public_note=note.text if note else public_note,
        note_code=note.code if note else None,
        note_params=dict(note.params) if note else {},
        detail=detail or {},
    )
    session.add(line)
    return line


def event_payload(
    code: str, status: str, channel: int, receiving_agency_id: uuid.UUID, procedure_version_id: uuid.UUID, **extra: Any
) -> dict[str, Any]:
    """What every event of a dossier says (ids and codes only, no personal data), and ``extra``."""
    return {
        "dossier_code": code,
        "status": status,
        "channel": channel,
        "receiving_agency_id": str(receiving_agency_id),
        "procedure_version_id": str(procedure_version_id),
        **extra,
    }


async def announce(session: AsyncSession, dossier: Dossier, event_type: str, *, source: Source, **extra: Any) -> None:
    """Tell workflow_api and notify_api, through the outbox (ids and codes only, no personal data)."""
    payload = event_payload(
        dossier.code, dossier.status, dossier.channel, dossier.receiving_agency_id, dossier.procedure_version_id,
        **extra,
    )  # fmt: skip
    for destination in destinations(event_type):
        await emit(
            session,
            event_type=event_type,
            source=source,
            destination=destination,
            dossier_id=dossier.id,
            payload=payload,
        )
