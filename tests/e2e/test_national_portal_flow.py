"""A dossier's journey reaches the national portal in order, through the real processes: intake_api
receives it at the counter, workflow_api routes, resolves and returns it, and two notify workers sync
every state change to a fake portal (a real HTTP server in the test process) that fails at first; the
administrator sees the journal acknowledged in notify_api."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.core.config import Settings
from services.dev.fake_portal import FakePortal
from tests.e2e.conftest import Stack, eventually
from tests.intake.setup import submission
from tests.tokens import bearer_for
from tests.workflow_setup import World, create_world

pytestmark = pytest.mark.e2e


async def test_a_dossiers_journey_appears_at_the_portal_in_order(stack: Stack, engine: AsyncEngine) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world: World = await create_world(session)
        await session.commit()
    portal = FakePortal(credentials=("tinh-e2e", "e2e-portal-secret")).start()
    portal.steer(fail_next=2)  # the portal is down for the first two requests
    stack.env.update(
        {
            "MOTCUA_NATIONAL_PORTAL_URL": portal.url,
            "MOTCUA_NATIONAL_PORTAL_CLIENT_ID": "tinh-e2e",
            "MOTCUA_NATIONAL_PORTAL_SECRET": "e2e-portal-secret",
            "MOTCUA_NATIONAL_PORTAL_BACKOFF_BASE_SECONDS": "0.2",
            "MOTCUA_NATIONAL_PORTAL_BACKOFF_MAX_SECONDS": "1",
            "MOTCUA_NATIONAL_PORTAL_POLL_SECONDS": "0.2",
        }
    )
    try:
        for service in ("intake", "workflow", "notify"):
            stack.api(service)
        stack.worker("intake")
        stack.worker("workflow")
        stack.worker("notify")
        stack.worker("notify")  # two senders: a later state must still never overtake an earlier one

        async with (
            httpx.AsyncClient(base_url=stack.url("intake")) as intake,
            httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
            httpx.AsyncClient(base_url=stack.url("notify")) as notify,
        ):

            async def login(name: str) -> dict[str, str]:
                staff = world.staff[name]
                token = await workflow.post("/api/v1/auth/token", data={"username": staff.username, "password": "demo"})
                assert token.status_code == 200, token.text
                return {"Authorization": f"Bearer {token.json()['access_token']}"}

            counter, specialist, head = await login("counter"), await login("specialist"), await login("head")

            class Desk:
                procedure_code = world.codes["single"]

            created = await intake.post("/api/v1/counter/dossiers", json=submission(Desk()), headers=counter)
            assert created.status_code == 201, created.text
            code = created.json()["code"]
            state: dict[str, Any] = {}

            async def routed() -> bool:
                response = await workflow.get(f"/api/v1/dossiers/{code}", headers=specialist)
                state.update(response.json())
                return response.status_code == 200 and state.get("status") == "processing"

            await eventually(routed, what="workflow_api to route the dossier")

            async def act(headers: dict[str, str], action: str, **extra: Any) -> None:
                response = await workflow.post(
                    f"/api/v1/dossiers/{code}/transitions", json={"action": action, **extra}, headers=headers
                )
                assert response.status_code == 200, response.text

            await act(specialist, "forward", version=state["version"])
            await act(head, "resolve", result_note="Giấy khai sinh bản chính")
            await act(counter, "return_result")

            async def arrived() -> bool:
                return portal.states(code) == [1, 2, 4, 9, 10]  # filed and received in one visit

            await eventually(arrived, timeout=60, what="the journey at the portal")
            assert portal.state.out_of_order == []
            admin = bearer_for(Settings(demo=True))  # the stack's demo secret
            page = await notify.get("/api/v1/portal-sync", params={"dossier": code}, headers=admin)
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            assert [(i["seq"], i["state_code"], i["status"]) for i in items] == [
                (1, 1, "acknowledged"),
                (2, 2, "acknowledged"),
                (3, 4, "acknowledged"),
                (4, 9, "acknowledged"),
                (5, 10, "acknowledged"),
            ]
            assert [i["ack_id"] for i in items] == [portal.state.accepted[i["id"]].ack_id for i in items]
            (returned,) = [body for body in portal.bodies(code) if body["TrangThaiHoSo"] == 10]
            assert returned["TinhTrangXuLy"] == 1  # resolved the day it was received: early
            assert returned["HinhThuc"] == 1  # at the counter
            assert "NgayTraKetQua" in returned
    finally:
        portal.stop()
    logs = stack.logs()
    assert "031190004567" not in logs  # the applicant's CCCD went to the portal, never to a log line
