"""The administrators' view of the national portal sync: how many state changes wait, were acknowledged,
were parked (and how many wait behind a parked one), the journal itself, and the replay of a parked one
(audited, as the outbox's requeue and the webhooks' replay are)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.core.config import Settings
from services.core.errors import Conflict, NotFound
from services.domain.vocabulary import STATUS_CODES, DossierStatus
from services.models import Dossier, PortalSync

SyncStatus = Literal["pending", "acknowledged", "parked"]


class SyncOut(BaseModel):
    """One state change owed to (or acknowledged by) the portal; no personal data."""

    id: uuid.UUID = Field(description="also the sync's idempotency key at the portal (MaDongBo)")
    dossier_code: str
    seq: int = Field(description="1, 2, … per dossier, in the order of its changes (SoThuTu)")
    state: DossierStatus
    state_code: int = Field(description="TrangThaiHoSo, 1–10")
    reason: str = Field(
        description="change (a new state), appointment (an apology's new date, same state),"
        " or reconcile (sent again by the reconciliation)"
    )
    status: SyncStatus
    attempts: int
    changed_at: datetime
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    ack_id: str | None = Field(description="the portal's id for the accepted sync (MaXacNhan)")
    acknowledged_at: datetime | None
    parked_at: datetime | None
    duplicate: bool = Field(description="the portal answered that it had this sync already")


class SyncPage(BaseModel):
    enabled: bool = Field(description="MOTCUA_NATIONAL_PORTAL_URL is set (the notify worker sends)")
    counts: dict[str, int] = Field(description="state changes per status")
    blocked: int = Field(description="pending state changes held back by a parked earlier one of their dossier")
    items: list[SyncOut]


def _out(row: PortalSync, code: str) -> SyncOut:
    return SyncOut(
        id=row.id, dossier_code=code, seq=row.seq, state=DossierStatus(row.state), state_code=STATUS_CODES[row.state],
        reason=row.reason, status=row.status, attempts=row.attempts, changed_at=row.changed_at,
        next_attempt_at=row.next_attempt_at, last_status_code=row.last_status_code, last_error=row.last_error,
        ack_id=row.ack_id, acknowledged_at=row.acknowledged_at, parked_at=row.parked_at, duplicate=row.duplicate,
    )  # fmt: skip


async def counts(session: AsyncSession) -> tuple[dict[str, int], int]:
    """State changes per status, and the pending ones held back by a parked earlier one."""
    grouped = await session.execute(select(PortalSync.status, func.count()).group_by(PortalSync.status))
    per_status = {status: number for status, number in grouped.all()}
    earlier = aliased(PortalSync)
    blocked = await session.scalar(
        select(func.count())
        .select_from(PortalSync)
        .where(
            PortalSync.status == "pending",
            select(earlier.id)
            .where(
                earlier.dossier_id == PortalSync.dossier_id,
                earlier.seq < PortalSync.seq,
                earlier.status == "parked",
            )
            .exists(),
        )
    )
    return per_status, int(blocked or 0)


async def page(
    session: AsyncSession, settings: Settings, *, status: SyncStatus | None, dossier: str | None, limit: int
) -> SyncPage:
    """The journal, newest first (a dossier's in its order), with the counts."""
    per_status, blocked = await counts(session)
    query = select(PortalSync, Dossier.code).join(Dossier, Dossier.id == PortalSync.dossier_id)
    if status is not None:
        query = query.where(PortalSync.status == status)
    if dossier is not None:
        query = query.where(Dossier.code == dossier).order_by(PortalSync.seq)
    else:
        query = query.order_by(PortalSync.created_at.desc(), PortalSync.seq.desc())
    rows = (await session.execute(query.limit(limit))).all()
    return SyncPage(
        enabled=bool(settings.national_portal.url),
        counts=per_status,
        blocked=blocked,
        items=[_out(row, code) for row, code in rows],
    )


async def replay(session: AsyncSession, sync_id: uuid.UUID, *, actor: Actor, origin: Origin) -> SyncOut:
    """Queue a parked state change again, attempts reset (its dossier's later ones follow it); audited."""
    row = await session.get(PortalSync, sync_id, with_for_update=True)
    if row is None:
        raise NotFound("No such portal sync.", code="portal_sync_not_found")
    if row.status != "parked":
        raise Conflict(f"Only parked state changes can be replayed; this one is {row.status}.", code="not_parked")
    row.status, row.attempts, row.parked_at, row.claimed_by = "pending", 0, None, None
    row.next_attempt_at = func.now()
    record(
        session,
        audit_entry(
            service="notify", action="portal_sync_replay", resource=f"portal_sync:{row.id}", origin=origin,
            actor=actor, dossier_id=row.dossier_id, detail={"seq": row.seq, "state": row.state},
        ),
    )  # fmt: skip
    await session.flush()
    await session.refresh(row)
    code = await session.scalar(select(Dossier.code).where(Dossier.id == row.dossier_id))
    return _out(row, code or "")
