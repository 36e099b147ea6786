"""What the citizen does after filing and what the public pages show: the rating of a returned
dossier, the public history and the paused clock.

Filing, receipt, the desk's decisions, supplements and withdrawal are the dossier's own lifecycle,
shared with workflow: ``services.dossier`` (filing, lifecycle, record, secrets).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import Conflict
from services.domain.vocabulary import STATUS_LABELS_VI
from services.dossier.lifecycle import require_state
from services.dossier.notes import note_of
from services.dossier.record import announce
from services.models import Dossier, Feedback, Handover, SlaTimer


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


# --- public tracking ---------------------------------------------------------------------------


async def history(session: AsyncSession, dossier: Dossier) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Handover)
        .where(Handover.dossier_id == dossier.id, Handover.public_note.is_not(None))
        .order_by(Handover.at, Handover.seq)
    )
    items: list[dict[str, Any]] = []
    for row in rows:
        code, params = note_of(row.note_code, row.note_params, row.public_note)
        items.append(
            {
                "at": row.at,
                "status": row.status_after,
                "status_label": STATUS_LABELS_VI[row.status_after],
                "note": row.public_note,
                "note_code": code,
                "note_params": params,
            }
        )
    return items


async def paused(session: AsyncSession, dossier: Dossier) -> tuple[datetime | None, str | None]:
    timer = await session.scalar(
        select(SlaTimer).where(
            and_(SlaTimer.dossier_id == dossier.id, SlaTimer.kind == "dossier", SlaTimer.paused_at.is_not(None))
        )
    )
    if timer is None:
        return None, None
    reason = {
        "awaiting_supplement": "Chờ công dân bổ sung hồ sơ",
        "awaiting_payment": "Chờ thực hiện nghĩa vụ tài chính",
    }
    return timer.paused_at, reason.get(dossier.status, "Tạm dừng")
