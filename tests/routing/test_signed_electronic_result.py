"""§2 meets §3: the result a citizen downloads electronically is the copy Một Cửa signed (the unsigned upload
is never what leaves), and it checks as valid on the public verification endpoint."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.models import Dossier, SignedDocument
from tests.routing.test_electronic_results import Headers, download, resolved_online, vn
from tests.signing.keys import a_pdf
from tests.workflow_setup import World


async def test_the_downloaded_electronic_result_is_the_signed_copy(
    clients: dict[str, httpx.AsyncClient], world: World, as_staff: Headers, relay: Any, travel: Any,
    routing_engine: AsyncEngine,
) -> None:  # fmt: skip
    original = a_pdf("Giấy khai sinh")
    dossier = await resolved_online(
        clients, world, as_staff, relay, travel, at=vn(2026, 11, 25, 10, 0), result=original
    )
    travel(vn(2026, 11, 26, 8, 15))
    downloaded = await download(clients, dossier["code"], dossier["secret"])
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content != original
    assert downloaded.content.startswith(original)  # the signature appended as an incremental update

    checked = await clients["intake"].post(
        "/api/v1/signatures/verify", files={"file": ("kq.pdf", downloaded.content, "application/pdf")}
    )
    body = checked.json()
    assert body["valid"], body
    assert body["matches_issued"]
    assert body["signatures"][0]["issued"]["dossier_code"] == dossier["code"]
    assert body["signatures"][0]["issued"]["kind"] == "result"
    async with AsyncSession(routing_engine) as session:
        row = await session.scalar(
            select(SignedDocument)
            .join(Dossier, Dossier.id == SignedDocument.dossier_id)
            .where(Dossier.code == dossier["code"])
        )
    assert row is not None
    assert row.original_path is not None
