"""Routing through the real processes: intake_api receives, its relay tells workflow_api, which
starts the template; officers move the dossier to its result and back to the citizen."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.e2e.conftest import Stack, eventually
from tests.intake.setup import submission
from tests.workflow_setup import World, create_world

pytestmark = pytest.mark.e2e


async def test_counter_to_return_across_three_processes(stack: Stack, engine: AsyncEngine) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        world: World = await create_world(session)
        await session.commit()
    for service in ("intake", "workflow", "notify"):
        stack.api(service)
    stack.worker("intake")
    stack.worker("workflow")

    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow")) as workflow,
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

        await eventually(routed, what="workflow_api to start the template on the relayed dossier.received")
        assert state["current_step"]["code"] == "appraise"

        async def act(headers: dict[str, str], action: str, **extra: Any) -> dict[str, Any]:
            response = await workflow.post(
                f"/api/v1/dossiers/{code}/transitions", json={"action": action, **extra}, headers=headers
            )
            assert response.status_code == 200, response.text
            return dict(response.json())

        await act(specialist, "forward", version=state["version"])
        assert (await act(head, "resolve", result_note="Giấy khai sinh bản chính"))["status"] == "resolved"
        assert (await act(counter, "return_result"))["status"] == "returned"
        tracked = (await intake.get(f"/api/v1/track/{code}", params={"secret": created.json()["secret"]})).json()
        assert tracked["status"] == "returned"
        inbox = (await workflow.get("/api/v1/tasks", params={"scope": "mine"}, headers=specialist)).json()
        assert code not in [item["code"] for item in inbox["items"]]
