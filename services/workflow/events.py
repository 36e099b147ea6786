"""What workflow_api does with the events other services send it."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import get_settings
from services.models import Dossier
from services.outbox.events import EventEnvelope
from services.sla.clocks import WarningPolicy
from services.workflow.engine import start_routing

logger = logging.getLogger("motcua.workflow")


async def on_dossier_received(session: AsyncSession, event: EventEnvelope) -> None:
    """A dossier was received at a desk: start its workflow template (once)."""
    if event.dossier_id is None:
        return
    dossier = await session.scalar(
        select(Dossier).where(Dossier.id == uuid.UUID(str(event.dossier_id))).with_for_update()
    )
    if dossier is None or dossier.workflow_template_id is not None:
        return  # already routed where it was received: resolved on the spot (services.workflow.on_the_spot)
    received_at = datetime.fromisoformat(str(event.payload.get("received_at") or event.occurred_at.isoformat()))
    policy = WarningPolicy(get_settings().sla.warning_seconds)
    if not await start_routing(session, dossier, at=received_at, policy=policy):
        logger.warning("dossier not routed", extra={"dossier_code": dossier.code, "status": dossier.status})
