"""Who may see a dossier: staff of an agency it was received by or is now with (or transferred to)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Actor
from services.core.errors import NotFound
from services.models import Dossier, Handover


async def dossier_for(session: AsyncSession, code: str, actor: Actor, *, lock: bool = False) -> Dossier:
    """The dossier if the caller may see it; 404 otherwise, so codes cannot be probed."""
    query = select(Dossier).where(Dossier.code == code)
    if not actor.has_any("admin", "inspector"):
        touched = select(Handover.dossier_id).where(
            Handover.dossier_id == Dossier.id, Handover.to_agency_id == actor.agency_id
        )
        query = query.where(
            or_(
                Dossier.receiving_agency_id == actor.agency_id,
                Dossier.current_agency_id == actor.agency_id,
                touched.exists(),
            )
        )
    if lock:
        query = query.with_for_update()
    dossier = await session.scalar(query)
    if dossier is None:
        raise NotFound("No dossier with that code is visible to you.", code="dossier_not_found")
    return dossier
