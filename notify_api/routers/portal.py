"""The national portal sync (DVCQG) for administrators: the journal with its counts, and replay of a parked
state change (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.core.deps import AdminActor, OriginDep, SessionDep, SettingsDep
from services.core.errors import problem_responses
from services.portal import journal
from services.portal.journal import SyncOut, SyncPage, SyncStatus

router = APIRouter(prefix="/api/v1/portal-sync", tags=["national portal"])


@router.get("", responses=problem_responses(401, 403))
async def sync_journal(
    session: SessionDep,
    settings: SettingsDep,
    _: AdminActor,
    status: SyncStatus | None = None,
    dossier: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SyncPage:
    """State changes sent to the national portal: counts per status, those blocked behind a parked one, the
    journal (newest first; one dossier's in order)."""
    return await journal.page(session, settings, status=status, dossier=dossier, limit=limit)


@router.post("/{sync_id}/replay", responses=problem_responses(401, 403, 404, 409))
async def replay(sync_id: uuid.UUID, origin: OriginDep, session: SessionDep, actor: AdminActor) -> SyncOut:
    """Send a parked state change again, attempts reset; its dossier's later state changes follow it."""
    return await journal.replay(session, sync_id, actor=actor, origin=origin)
