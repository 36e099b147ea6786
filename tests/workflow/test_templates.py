"""Workflow templates as data: the rules, the demo templates, versioned administration over HTTP."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.app import create_service_app
from services.core.config import Settings
from services.demo.procedures import load_procedure_records
from services.demo.seed import load_demo_data
from services.models import AuditLog, Procedure, ProcedureVersion, Staff, WorkflowStep, WorkflowTemplate
from services.workflow.template_rules import StepSpec, template_problems
from services.workflow.templates import check_stored_template
from tests.factories import create_agency, create_procedure_version, create_staff, ensure_roles
from workflow_api.routers import auth, templates

Bearer = Callable[..., dict[str, Any]]
ROLES = {"counter", "specialist", "head"}


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_service_app(
        name="workflow", title="t", description="t", routers=[templates.router, auth.router], settings=settings
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI, share: Callable[[FastAPI], FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=share(app)), base_url="http://test") as client:
        yield client


@dataclass
class World:
    procedure_code: str
    version: ProcedureVersion
    partner_code: str
    admin: Staff
    clerk: Staff


async def world(session: AsyncSession, *, limit_value: int = 5, limit_unit: str = "working_days") -> World:
    agency = await create_agency(session, level="commune")
    partner = await create_agency(session, level="department")
    admin = await create_staff(session, agency=agency, roles=("admin",))
    clerk = await create_staff(session, agency=agency, roles=("counter",))
    await ensure_roles(session, *ROLES)
    version = await create_procedure_version(session, limit_value=limit_value, limit_unit=limit_unit)
    procedure = await session.get_one(Procedure, version.procedure_id)
    await session.commit()
    return World(procedure.code, version, partner.code, admin, clerk)


def body(w: World) -> dict[str, Any]:
    """A valid 5-working-day template: desk, specialist, head at a partner agency (liên thông), desk."""
    return {
        "procedure_code": w.procedure_code,
        "name": "Quy trình thử nghiệm",
        "steps": [
            step("receive", "counter", 0, "working_days", ["forward", "request_supplement", "withdraw"]),
            step("appraise", "specialist", 4.5, "working_days", ["forward", "send_back", "transfer", "stop"]),
            step("approve", "head", 4, "working_hours", ["forward", "send_back", "resolve"], agency=w.partner_code),
            step("return", "counter", 0, "working_hours", ["return_result", "apologize"]),
        ],
    }


def step(
    code: str, role: str, value: float, unit: str, actions: list[str], *, agency: str | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Bước {code}",
        "agency_code": agency,
        "role": role,
        "share": {"value": value, "unit": unit},
        "actions": actions,
    }


# --- the rules, pure ---------------------------------------------------------------------------------


def spec(
    code: str, actions: tuple[str, ...], share: str = "0", unit: str = "working_days", agency: str | None = None
) -> StepSpec:
    return StepSpec(
        code=code, role="counter", agency_code=agency, share_value=Decimal(share), share_unit=unit, actions=actions
    )


def problems(steps: list[StepSpec], limit: int = 1, unit: str = "working_days") -> list[str]:
    found = template_problems(
        steps, limit_value=limit, limit_unit=unit, known_roles={"counter"}, known_agencies={"A.1", "A.2"}
    )
    return [problem.code for problem in found]


def test_four_at_the_desk_single_step_with_zero_share_is_valid() -> None:
    assert problems([spec("resolve_at_desk", ("resolve", "return_result", "stop"))], limit=0) == []


def test_zero_day_procedure_refuses_any_positive_share() -> None:
    assert problems([spec("resolve_at_desk", ("resolve", "return_result"), "1", "working_hours")], limit=0) == [
        "shares_mismatch"
    ]


def test_days_and_hours_mix_and_compare_in_working_minutes() -> None:
    steps = [
        spec("a", ("forward",), "0.5", "working_days"),
        spec("b", ("forward", "resolve"), "4", "working_hours"),
        spec("c", ("return_result",), "0.25", "working_hours"),
    ]
    # 240 + 240 + 15 minutes = 8.25 hours
    assert problems(steps, limit=8, unit="working_hours") == ["shares_mismatch"]
    steps[2] = spec("c", ("return_result",), "0", "working_hours")
    assert problems(steps, limit=8, unit="working_hours") == []
    assert problems(steps, limit=1, unit="working_days") == []


def test_every_problem_is_reported_in_rule_order() -> None:
    steps = [spec("a", ("withdraw", "approve"), agency="NO.SUCH"), spec("a", ("apologize",))]
    assert problems(steps) == [
        "unknown_agency",
        "unknown_action",
        "duplicate_step_code",
        "shares_mismatch",
        "no_resolve_step",
        "last_step_cannot_finish",
        "dead_end_step",
    ]


def test_a_liên_thông_step_without_a_way_out_names_the_next_agency() -> None:
    steps = [spec("ward", ("resolve", "stop"), "1"), spec("province", ("return_result",), agency="A.1")]
    found = template_problems(
        steps, limit_value=1, limit_unit="working_days", known_roles={"counter"}, known_agencies={"A.1"}
    )
    assert [p.code for p in found] == ["dead_end_step"]
    assert found[0].step == 0
    assert "another agency" in found[0].detail


# --- the demo templates ----------------------------------------------------------------------------


async def test_every_demo_template_passes_validation(session: AsyncSession) -> None:
    await load_demo_data(session)
    codes = [record["code"] for record in load_procedure_records()]
    template_ids = (
        await session.scalars(
            select(WorkflowTemplate.id)
            .join(ProcedureVersion, ProcedureVersion.id == WorkflowTemplate.procedure_version_id)
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .where(Procedure.code.in_(codes))
        )
    ).all()
    assert len(template_ids) >= 26
    for template_id in template_ids:
        assert await check_stored_template(session, template_id) == [], template_id


async def test_a_broken_stored_template_is_reported(session: AsyncSession) -> None:
    await load_demo_data(session)
    template = await session.scalar(select(WorkflowTemplate).limit(1))
    assert template is not None
    last = await session.scalar(
        select(WorkflowStep).where(WorkflowStep.template_id == template.id).order_by(WorkflowStep.position.desc())
    )
    assert last is not None
    last.allowed_actions = ["apologize"]
    last.share_value = float(last.share_value) + 0.5
    await session.flush()
    codes = [problem.code for problem in await check_stored_template(session, template.id)]
    assert "shares_mismatch" in codes
    assert "last_step_cannot_finish" in codes


# --- over HTTP -------------------------------------------------------------------------------------


def _without_resolve(b: dict[str, Any]) -> None:
    b["steps"][2]["actions"] = ["forward", "send_back"]


def _stranding_step(b: dict[str, Any]) -> None:
    """After approve, a step that can only move on to the desk's return step: a dossier there is stranded."""
    b["steps"].insert(3, step("archive", "specialist", 0, "working_days", ["forward", "request_supplement", "stop"]))


REFUSALS: list[tuple[str, Callable[[dict[str, Any]], None], str, int | None]] = [
    ("no_steps", lambda b: b.update(steps=[]), "steps", None),
    ("duplicate_step_code", lambda b: b["steps"][3].update(code="receive"), "steps[3].code", 3),
    ("unknown_role", lambda b: b["steps"][1].update(role="janitor"), "steps[1].role", 1),
    ("unknown_agency", lambda b: b["steps"][2].update(agency_code="NO.SUCH.AGENCY"), "steps[2].agency_code", 2),
    ("unknown_action", lambda b: b["steps"][1]["actions"].append("approve"), "steps[1].actions", 1),
    ("shares_mismatch", lambda b: b["steps"][1]["share"].update(value=4), "steps", None),
    ("no_resolve_step", _without_resolve, "steps", None),
    ("last_step_cannot_finish", lambda b: b["steps"][3].update(actions=["apologize"]), "steps[3].actions", 3),
    ("dead_end_step", lambda b: b["steps"][1].update(actions=["send_back", "stop"]), "steps[1].actions", 1),
    ("unresolvable_step", _stranding_step, "steps[3].actions", 3),
]


@pytest.mark.parametrize(("code", "change", "field", "index"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_refusals_are_422_problems_naming_the_step(
    client: httpx.AsyncClient,
    session: AsyncSession,
    bearer: Bearer,
    code: str,
    change: Callable[[dict[str, Any]], None],
    field: str,
    index: int | None,
) -> None:
    w = await world(session)
    payload = copy.deepcopy(body(w))
    change(payload)
    response = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["field"] == field
    assert problem.get("step") == index
    assert problem["errors"][0]["type"] == code
    assert problem["errors"][0]["loc"] == ["body", *field.replace("[", ".").replace("]", "").split(".")]
    # nothing was written
    listed = await client.get("/api/v1/templates", params={"procedure": w.procedure_code}, headers=bearer(w.clerk))
    assert listed.json() == []


async def test_shares_mismatch_gives_expected_and_given_totals(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session)
    payload = body(w)
    payload["steps"][1]["share"]["value"] = 4  # 4 days + 4 hours = 4.5 of 5 days
    problem = (await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))).json()
    assert problem["expected_working_minutes"] == 2400
    assert problem["given_working_minutes"] == 2160
    assert problem["expected"] == {"value": 5, "unit": "working_days"}
    assert problem["given"] == {"value": 4.5, "unit": "working_days"}


async def test_a_new_version_becomes_the_active_one_and_the_old_stays_unchanged(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session)
    first = await client.post("/api/v1/templates", json=body(w), headers=bearer(w.admin))
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["version"], v1["active"], v1["procedure_version"], v1["deactivated_template_ids"]) == (1, True, 1, [])
    assert [s["code"] for s in v1["steps"]] == ["receive", "appraise", "approve", "return"]
    assert v1["steps"][2]["agency_code"] == w.partner_code
    assert v1["steps"][2]["share"] == {"value": 4.0, "unit": "working_hours"}
    assert v1["steps"][0]["agency_code"] is None

    payload = body(w)
    payload["version"] = 1
    payload["name"] = "Quy trình rút gọn"
    payload["steps"] = [
        step("appraise", "specialist", 4, "working_days", ["forward", "request_supplement", "stop"]),
        step("approve", "head", 1, "working_days", ["resolve", "return_result", "send_back"]),
    ]
    second = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert second.status_code == 201, second.text
    v2 = second.json()
    assert (v2["version"], v2["active"], v2["deactivated_template_ids"]) == (2, True, [v1["id"]])

    listed = await client.get("/api/v1/templates", params={"procedure": w.procedure_code}, headers=bearer(w.clerk))
    assert listed.status_code == 200
    assert [(t["version"], t["active"]) for t in listed.json()] == [(1, False), (2, True)]
    old = (await client.get(f"/api/v1/templates/{v1['id']}", headers=bearer(w.clerk))).json()
    assert old["active"] is False
    assert old["steps"] == v1["steps"]

    entries = (
        await session.scalars(
            select(AuditLog).where(AuditLog.actor_staff_id == w.admin.id, AuditLog.resource == "POST /api/v1/templates")
        )
    ).all()
    assert {entry.action for entry in entries} == {"update"}
    assert {entry.detail["template_id"] for entry in entries} == {v1["id"], v2["id"]}
    assert [e.detail["deactivated_template_ids"] for e in entries if e.detail["template_id"] == v2["id"]] == [
        [v1["id"]]
    ]


async def test_zero_day_procedure_resolved_at_the_desk(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session, limit_value=0)
    payload = body(w)
    payload["steps"] = [step("resolve_at_desk", "counter", 0, "working_days", ["resolve", "return_result", "stop"])]
    created = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert created.status_code == 201, created.text
    payload["steps"][0]["share"] = {"value": 1, "unit": "working_hours"}
    refused = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert refused.json()["code"] == "shares_mismatch"


async def test_an_hour_limit_accepts_day_shares(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session, limit_value=4, limit_unit="working_hours")
    payload = body(w)
    payload["steps"][1]["share"] = {"value": 0, "unit": "working_days"}
    payload["steps"][2]["share"] = {"value": 0.5, "unit": "working_days"}
    response = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert response.status_code == 201, response.text
    assert response.json()["time_limit"] == {"value": 4.0, "unit": "working_hours"}


async def test_only_administrators_publish_and_only_staff_read(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session)
    denied = await client.post("/api/v1/templates", json=body(w), headers=bearer(w.clerk))
    assert denied.status_code == 403
    assert denied.json()["code"] == "role_required"
    anonymous = await client.get("/api/v1/templates", params={"procedure": w.procedure_code})
    assert anonymous.status_code == 401
    listed = await client.get("/api/v1/templates", params={"procedure": w.procedure_code}, headers=bearer(w.clerk))
    assert listed.json() == []


async def test_unknown_procedure_version_and_template_are_404(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session)
    payload = body(w) | {"version": 7}
    missing_version = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert (missing_version.status_code, missing_version.json()["code"]) == (404, "procedure_version_not_found")
    payload = body(w) | {"procedure_code": "NO.SUCH.PROCEDURE"}
    missing_procedure = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert (missing_procedure.status_code, missing_procedure.json()["code"]) == (404, "procedure_not_found")
    listed = await client.get("/api/v1/templates", params={"procedure": "NO.SUCH"}, headers=bearer(w.clerk))
    assert listed.status_code == 404
    one = await client.get(f"/api/v1/templates/{uuid.uuid4()}", headers=bearer(w.clerk))
    assert (one.status_code, one.json()["code"]) == (404, "template_not_found")


async def test_unknown_fields_and_bad_shares_are_schema_errors(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session)
    payload = body(w)
    payload["steps"][1]["share"]["value"] = -1
    payload["steps"][0]["surprise"] = True
    response = await client.post("/api/v1/templates", json=payload, headers=bearer(w.admin))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    locs = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert ("body", "steps", "1", "share", "value") in locs
    assert ("body", "steps", "0", "surprise") in locs


@pytest.mark.committed  # six publications at once, each on a connection of its own
async def test_concurrent_publications_get_distinct_versions_and_one_active(
    client: httpx.AsyncClient, session: AsyncSession, bearer: Bearer
) -> None:
    w = await world(session)
    headers = bearer(w.admin)
    responses = await asyncio.gather(
        *(client.post("/api/v1/templates", json=body(w), headers=headers) for _ in range(6))
    )
    assert [r.status_code for r in responses] == [201] * 6
    listed = (await client.get("/api/v1/templates", params={"procedure": w.procedure_code}, headers=headers)).json()
    assert [t["version"] for t in listed] == [1, 2, 3, 4, 5, 6]
    assert [t["version"] for t in listed if t["active"]] == [6]
