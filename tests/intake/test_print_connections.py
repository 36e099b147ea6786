"""A printed form renders in the PDF process pool without holding one of the pool's database connections: the
request's read-only transaction ends before the render (``ProcessOffload.run_released``), and what the print
leaves behind (its audit line, the signed document's register line) is written after it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import hand_back
from services.models import AuditLog, Dossier, SignedDocument, Staff
from tests.intake.setup import create_desk, filed_at_the_counter
from tests.pdf import pdf_text


async def _connections_while_rendering(app: FastAPI, request: asyncio.Task[httpx.Response]) -> list[int]:
    """The app's pool connections in use, sampled while a render is in the process pool."""
    offload, pool = app.state.offload, app.state.engine.pool
    seen: list[int] = []
    while not request.done():
        if offload.pending:
            seen.append(pool.checkedout())
        await asyncio.sleep(0.001)
    return seen


@pytest.mark.committed
async def test_a_receipt_renders_without_holding_a_database_connection(
    intake: httpx.AsyncClient, intake_app: FastAPI, session: AsyncSession, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    _, officer, code, secret = await filed_at_the_counter(intake, session, bearer, travel)

    printing = asyncio.create_task(
        intake.post(f"/api/v1/dossiers/{code}/forms/receipt.pdf", json={"secret": secret}, headers=officer)
    )
    seen = await _connections_while_rendering(intake_app, printing)
    receipt = printing.result()
    assert receipt.status_code == 200
    assert code in pdf_text(receipt.content)
    # while the slip rendered, the request held none of the pool's connections (before: one, all along)
    assert seen
    assert min(seen) == 0, seen

    # and what the print leaves behind was written after the render: the audited read and the signed slip
    dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
    assert dossier is not None
    reads = (
        await session.scalars(select(AuditLog).where(AuditLog.dossier_id == dossier.id, AuditLog.action == "read"))
    ).all()
    assert [entry.detail for entry in reads] == [{"form": "01"}]
    signed = (await session.scalars(select(SignedDocument).where(SignedDocument.dossier_id == dossier.id))).all()
    assert [row.kind for row in signed] == ["receipt"]


@pytest.mark.committed
async def test_a_pending_change_is_never_committed_early_by_a_hand_back(
    session: AsyncSession, intake_app: FastAPI
) -> None:
    """``hand_back`` ends only a transaction with nothing pending: a change made before it stays in the one
    transaction it belongs to, rolled back with it."""
    desk = await create_desk(session)
    await session.commit()
    sessionmaker = intake_app.state.sessionmaker
    async with sessionmaker() as request_session:
        staff = await request_session.get(Staff, desk.officer.id)
        assert staff is not None
        staff.full_name = "Đổi tên rồi bỏ"
        await hand_back(request_session)
        assert request_session.in_transaction()  # not ended: a change is pending
        await request_session.rollback()
    async with sessionmaker() as fresh:
        kept = await fresh.get(Staff, desk.officer.id)
        assert kept is not None
        assert kept.full_name == desk.officer.full_name
