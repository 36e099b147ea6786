"""A workflow step may carry an English name beside its Vietnamese one (the SPA's English mode shows it);
without one the step is shown by its Vietnamese name in both languages, never an invented translation."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.demo.procedures import STEP_NAMES_EN
from tests.workflow.test_templates import Bearer, app, body, client, world  # noqa: F401 (fixtures)


async def test_a_template_keeps_the_english_step_names_it_is_given(
    client: httpx.AsyncClient,  # noqa: F811
    session: AsyncSession,
    bearer: Bearer,
) -> None:
    w = await world(session)
    payload = body(w)
    payload["steps"][1]["name_en"] = "Appraise the application"
    payload["steps"][2]["name_en"] = "   "  # blank: refused like a blank Vietnamese name
    refused = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert refused.status_code == 422
    del payload["steps"][2]["name_en"]
    created = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert created.status_code == 201, created.text
    names = [(s["name"], s["name_en"]) for s in created.json()["steps"]]
    assert names[1] == (payload["steps"][1]["name"], "Appraise the application")
    assert names[2] == (payload["steps"][2]["name"], None)
    read = await client.get(f"/api/v1/templates/{created.json()['id']}", headers=bearer(w.clerk))
    assert [(s["name"], s["name_en"]) for s in read.json()["steps"]] == names


def test_the_demo_s_standard_steps_have_english_names() -> None:
    assert STEP_NAMES_EN["Thẩm định, xử lý hồ sơ"] == "Appraise and handle the dossier"
    assert all(name and name.isascii() for name in STEP_NAMES_EN.values())
