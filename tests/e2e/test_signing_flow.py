"""Signed documents through the real processes (issue 16 §2): two intake replicas sign receipts at the same
moment on an empty database and make ONE demo CA and ONE key for the agency between them; either replica
verifies what the other signed; a PDF result filed "4 tại chỗ" is stored signed and checks as valid."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.models import SigningKey, Staff
from tests.e2e.conftest import ARTIFACTS, Stack
from tests.factories import create_staff
from tests.intake.setup import Desk, create_desk, submission
from tests.signing.keys import a_pdf
from tests.tokens import bearer_for
from tests.workflow_setup import add_template

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(engine: AsyncEngine) -> tuple[Desk, Staff]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        desk = await create_desk(session, days=0)
        template = await add_template(
            session, desk.version, [("resolve_at_desk", None, "on_the_spot", 0, ["resolve", "return_result"])]
        )
        template.on_the_spot = True
        delegated = await create_staff(session, agency=desk.agency, roles=("counter", "on_the_spot"))
        await session.commit()
        return desk, delegated


async def test_replicas_share_the_demo_keys_and_check_each_others_signatures(
    e2e_database_url: str, engine: AsyncEngine, world: tuple[Desk, Staff]
) -> None:
    desk, delegated = world
    log_dir = ARTIFACTS / "e2e-logs" / "test_signing_flow"
    log_dir.mkdir(parents=True, exist_ok=True)
    clock = ARTIFACTS / "signing-clock.txt"
    clock.write_text(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ).isoformat())
    stack = Stack(e2e_database_url, log_dir, replicas=2)
    stack.env["MOTCUA_CLOCK_FILE"] = str(clock)
    try:
        stack.api("intake")
        officer = bearer_for(Settings(demo=True), desk.officer)
        first, second = (httpx.AsyncClient(base_url=url, timeout=60) for url in stack.urls("intake"))
        async with first, second:
            created = [
                (await first.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)).json()
                for _ in range(2)
            ]

            async def receipt(client: httpx.AsyncClient, dossier: dict[str, str]) -> bytes:
                answer = await client.post(
                    f"/api/v1/dossiers/{dossier['code']}/forms/receipt.pdf",
                    json={"secret": dossier["secret"]},
                    headers=officer,
                )
                assert answer.status_code == 200, answer.text
                return answer.content

            # both replicas sign at once, before any key exists
            pdfs = await asyncio.gather(receipt(first, created[0]), receipt(second, created[1]))
            async with AsyncSession(engine) as session:
                names = (await session.scalars(select(SigningKey.name).order_by(SigningKey.name))).all()
                assert names == ["demo-agency:" + desk.agency.code, "demo-ca"]
                assert await session.scalar(select(func.count()).select_from(SigningKey)) == 2

            # each replica checks what the other signed
            for client, pdf, dossier in ((second, pdfs[0], created[0]), (first, pdfs[1], created[1])):
                checked = await client.post(
                    "/api/v1/signatures/verify", files={"file": ("r.pdf", pdf, "application/pdf")}
                )
                body = checked.json()
                assert body["valid"], body
                assert body["signatures"][0]["issued"]["dossier_code"] == dossier["code"]
                assert body["signatures"][0]["issued"]["agency_name"] == desk.agency.name

            # a PDF result handed over on the spot is stored signed; the officer's download checks as valid
            staff = bearer_for(Settings(demo=True), delegated)
            form = {"data": json.dumps({**submission(desk), "decision": "approve", "result_note": "Bản sao"})}
            result = a_pdf("Bản sao chứng thực")
            answer = await first.post(
                "/api/v1/counter/dossiers/on-the-spot",
                data=form,
                files=[("result", ("ban-sao.pdf", result, "application/pdf"))],
                headers={**staff, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert answer.status_code == 201, answer.text
            code = answer.json()["code"]
            document = next(d for d in answer.json()["documents"] if d["kind"] == "result")
            fetched = await second.get(f"/api/v1/dossiers/{code}/documents/{document['id']}", headers=staff)
            assert fetched.content.startswith(result)
            assert fetched.content != result
            checked = (
                await second.post(
                    "/api/v1/signatures/verify", files={"file": ("kq.pdf", fetched.content, "application/pdf")}
                )
            ).json()
            assert checked["valid"]
            assert checked["matches_issued"]
            assert checked["signatures"][0]["issued"]["kind"] == "result"
    finally:
        stack.stop()
        clock.write_text("")
