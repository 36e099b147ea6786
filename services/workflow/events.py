"""What workflow_api does with the events other services send it."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import get_settings
from services.models import Dossier
from services.outbox.events import EventEnvelope
from services.sla.clocks import WarningPolicy
from services.workflow.engine import start_routing

logger = logging.getLogger("motcua.workflow")
# built once (issue 14: the routing's statements built at every event cost as much as they took to run,
# bench/profiles/2026-12-06-sender.md)
# FOR NO KEY UPDATE, the lock PostgreSQL's own UPDATE of a dossier takes: transitions still queue on it, while
# rows that merely reference the dossier (notifications, events, clocks) are written meanwhile — FOR UPDATE made
# every foreign-key check on the dossier wait for the routing's commit (engine's docstring)
_LOCKED = select(Dossier).where(Dossier.id == bindparam("id")).with_for_update(key_share=True)


async def on_dossier_received(session: AsyncSession, event: EventEnvelope) -> None:
    """A dossier was received at a desk: start its workflow template (once)."""
    if event.dossier_id is None:
        return
    dossier = await session.scalar(_LOCKED, {"id": uuid.UUID(str(event.dossier_id))})
    if dossier is None or dossier.workflow_template_id is not None:
        return  # already routed where it was received: resolved on the spot (services.workflow.on_the_spot)
    received_at = datetime.fromisoformat(str(event.payload.get("received_at") or event.occurred_at.isoformat()))
    policy = WarningPolicy(get_settings().sla.warning_seconds)
    if not await start_routing(session, dossier, at=received_at, policy=policy):
        logger.warning("dossier not routed", extra={"dossier_code": dossier.code, "status": dossier.status})
