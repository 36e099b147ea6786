"""What the citizen does after filing: the rating of a returned dossier. (What the public pages show
is ``services.intake.tracking``.)

Filing, receipt, the desk's decisions, supplements and withdrawal are the dossier's own lifecycle,
shared with workflow: ``services.dossier`` (filing, lifecycle, record, secrets).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import Conflict
from services.dossier.lifecycle import require_state
from services.dossier.record import announce
from services.models import Dossier, Feedback


async def give_feedback(
    session: AsyncSession, dossier: Dossier, *, rating: str, comment: str | None, now: datetime
) -> Feedback:
    require_state(dossier, "returned")
    existing = await session.scalar(select(Feedback.id).where(Feedback.dossier_id == dossier.id))
    if existing is not None:
        raise Conflict("This dossier was already rated.", code="feedback_exists")
    feedback = Feedback(dossier_id=dossier.id, rating=rating, comment=comment)
    session.add(feedback)
    await session.flush()
    await announce(session, dossier, "feedback.received", source="intake", rating=rating)
    return feedback
