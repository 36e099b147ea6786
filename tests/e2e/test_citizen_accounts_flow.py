"""Citizen accounts through real processes: the local OIDC provider as its own process (as `make run` starts it),
two intake_api replicas: the sign-in starts on one and ends on the other, "Hồ sơ của tôi", a filing that reuses
an earlier dossier's file with consent, and a sign-out on one replica that the other honours at once."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.dev.oidc_provider import demo_environment, demo_process
from services.models import AuditLog, Dossier
from tests.e2e.conftest import ARTIFACTS, Stack
from tests.factories import create_staff
from tests.intake.setup import PDF, Desk, create_desk, submission
from tests.notify.fakes import free_port
from tests.oidc import AN, consent_at_provider

pytestmark = pytest.mark.e2e


@pytest.fixture
async def desk(engine: AsyncEngine) -> Desk:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        created = await create_desk(session)
        created.officer = await create_staff(session, agency=created.agency, roles=("counter",))
        await session.commit()
        return created


@pytest.fixture
def accounts_stack(e2e_database_url: str) -> Stack:
    log_dir = ARTIFACTS / "e2e-logs" / "citizen-accounts"
    log_dir.mkdir(parents=True, exist_ok=True)
    return Stack(e2e_database_url, Path(log_dir), replicas=2)


async def test_sign_in_my_dossiers_reuse_and_sign_out_across_replicas(
    accounts_stack: Stack, desk: Desk, engine: AsyncEngine
) -> None:
    stack = accounts_stack
    second = stack.url("intake", 1)
    demo_environment(stack.env, port=free_port(), redirect_uri=f"{second}/api/v1/citizen/callback")
    provider = demo_process(stack.env, log_dir=stack.log_dir)
    stack.processes.append(provider.start())
    try:
        provider.wait_healthy(timeout=60)
        stack.api("intake")
        await _journey(stack, desk, engine)
    finally:
        stack.stop()


async def _journey(stack: Stack, desk: Desk, engine: AsyncEngine) -> None:
    first, second = stack.url("intake", 0), stack.url("intake", 1)
    async with httpx.AsyncClient(timeout=30) as anonymous, httpx.AsyncClient(timeout=30) as citizen:
        # an earlier dossier, filed without an account (the secret-based flow) in the citizen's CCCD, with a file
        body = submission(desk)
        body["applicant"]["id_number"] = AN
        earlier = await anonymous.post(
            f"{first}/api/v1/dossiers", data={"data": json.dumps(body)}, files={"D01": ("to-khai.pdf", PDF)}
        )
        assert earlier.status_code == 201, earlier.text

        started = await citizen.get(f"{first}/api/v1/citizen/sign-in")
        assert started.status_code == 302, started.text
        back = await consent_at_provider(started.headers["location"], AN)
        assert back.startswith(second)  # the flow cookie set by one replica is read by the other
        done = await citizen.get(back)
        assert done.status_code == 302, done.text
        assert "loi=" not in done.headers["location"], done.headers["location"]

        mine = (await citizen.get(f"{second}/api/v1/citizen/dossiers")).json()
        assert [item["code"] for item in mine["items"]] == [earlier.json()["code"]]
        stored = (await citizen.get(f"{first}/api/v1/citizen/documents")).json()
        assert [document["filename"] for document in stored] == ["to-khai.pdf"]

        filing = {
            "procedure_code": desk.procedure_code,
            "contact": {"phone": "0912345678"},
            "reuse": [{"document_id": stored[0]["id"], "code": "D01"}],
            "reuse_consent": True,
        }
        filed = await citizen.post(f"{second}/api/v1/citizen/submissions", json=filing)
        assert filed.status_code == 201, filed.text
        assert [document["sha256"] for document in filed.json()["documents"]] == [
            document["sha256"] for document in earlier.json()["documents"]
        ]

        assert (await citizen.post(f"{first}/api/v1/citizen/sign-out")).status_code == 204
        citizen.cookies.clear()
        # the cookie of before the sign-out (a copy on another device) is refused by the other replica at once
        cookie = done.cookies.get("motcua_citizen")
        assert cookie
        gone = await citizen.get(f"{second}/api/v1/citizen/me", headers={"Cookie": f"motcua_citizen={cookie}"})
        assert gone.status_code == 401

    async with AsyncSession(engine) as session:
        dossier = await session.scalar(select(Dossier).where(Dossier.code == filed.json()["code"]))
        assert dossier is not None
        assert (dossier.applicant_name, dossier.applicant_id_number) == ("Nguyễn Văn An", AN)
        actions = (await session.scalars(select(AuditLog.action).where(AuditLog.dossier_id == dossier.id))).all()
        assert sorted(actions) == ["citizen_consent", "document_reused"]
    logs = stack.logs()
    assert AN not in logs
    assert "Nguyễn Văn An" not in logs
