"""Issue 11, point 6: every staff action on a dossier passes the one access rule (services.dossier.access),
in intake_api as in workflow_api; counter intake files into the officer's own desk only."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from services.models import Document, Dossier
from tests.intake.setup import PDF
from tests.security.world import World


async def _dossier(world: World, state: str) -> Dossier:
    dossier = await world.session.scalar(
        select(Dossier).where(Dossier.code == world.codes[state]).execution_options(populate_existing=True)
    )
    assert dossier is not None
    return dossier


async def test_a_counter_officer_cannot_make_a_department_dossier_wait_for_a_payment(world: World) -> None:
    code = world.codes["processing"]
    body = {"amount_vnd": 90_000_000, "description": "Phí tùy ý"}
    answer = await world.call("intake", "POST", f"/api/v1/dossiers/{code}/payments", actor="counter@desk", json=body,
                              keep=True)  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (403, "action_forbidden")
    assert (await _dossier(world, "processing")).status == "processing"
    # the department's specialist at the step may
    allowed = await world.call("intake", "POST", f"/api/v1/dossiers/{code}/payments", actor="specialist@unit",
                               json={"amount_vnd": 50_000, "description": "Lệ phí thẩm định"})  # fmt: skip
    assert allowed.status_code == 201, allowed.text


async def test_a_counter_officer_cannot_attach_a_result_to_a_department_dossier(world: World) -> None:
    code = world.codes["approval"]
    dossier = await _dossier(world, "approval")
    upload: dict[str, Any] = {
        "data": {"data": json.dumps({"kind": "result"})},
        "files": [("files", ("ket-qua.pdf", PDF, "application/pdf"))],
    }
    answer = await world.call("intake", "POST", f"/api/v1/dossiers/{code}/documents", actor="counter@desk", keep=True,
                              **upload)  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (403, "action_forbidden")
    results = await world.session.scalar(
        select(func.count()).select_from(Document).where(Document.dossier_id == dossier.id, Document.kind == "result")
    )
    assert results == 0
    head = await world.call("intake", "POST", f"/api/v1/dossiers/{code}/documents", actor="head@unit", **upload)
    assert head.status_code == 201, head.text


async def test_an_inspector_reads_the_desk_view_and_its_files(world: World) -> None:
    code = world.codes["processing"]
    view = await world.call("intake", "GET", f"/api/v1/desk/dossiers/{code}", actor="inspector@elsewhere")
    assert view.status_code == 200
    document = view.json()["documents"][0]["id"]
    file = await world.call("intake", "GET", f"/api/v1/dossiers/{code}/documents/{document}",
                            actor="inspector@elsewhere")  # fmt: skip
    assert (file.status_code, file.content) == (200, PDF)


def _counter_submission(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "procedure_code": world.procedure_code,
        "applicant": {
            "full_name": "Nguyễn Thị Thu Hà",
            "id_number": "031190004567",
            "phone": "0912 345 678",
            "address": "Số 12 Lạch Tray, Hải Phòng",
        },
        "return_method": "counter",
        **extra,
    }


async def test_counter_intake_files_only_into_the_officers_own_desk(world: World) -> None:
    foreign = world.agencies["elsewhere"].code
    smuggled = await world.call("intake", "POST", "/api/v1/counter/dossiers", actor="counter@desk",
                                json=_counter_submission(world, agency_code=foreign), keep=True)  # fmt: skip
    assert (smuggled.status_code, smuggled.json()["code"]) == (403, "not_your_desk")
    filed = await world.session.scalar(
        select(func.count()).select_from(Dossier).where(Dossier.receiving_agency_id == world.agencies["elsewhere"].id)
    )
    assert filed == 0
    own = await world.call("intake", "POST", "/api/v1/counter/dossiers", actor="counter@desk",
                           json=_counter_submission(world, agency_code=world.agencies["desk"].code))  # fmt: skip
    assert (own.status_code, own.json()["agency_code"]) == (201, world.agencies["desk"].code)
    implicit = await world.call("intake", "POST", "/api/v1/counter/dossiers", actor="counter@desk",
                                json=_counter_submission(world))  # fmt: skip
    assert (implicit.status_code, implicit.json()["agency_code"]) == (201, world.agencies["desk"].code)
    # the administrator may file at any desk
    admin = await world.call("intake", "POST", "/api/v1/counter/dossiers", actor="admin",
                             json=_counter_submission(world, agency_code=foreign))  # fmt: skip
    assert (admin.status_code, admin.json()["agency_code"]) == (201, foreign)


async def test_the_desk_and_the_engine_agree_on_who_may_ask_for_a_supplement(world: World) -> None:
    """One rule: intake's supplement request and workflow's transition answer alike, as allowed_actions says."""
    code = world.codes["processing"]
    items = [{"document": "Tờ khai", "reason": "Thiếu chữ ký người yêu cầu"}]
    for actor in ("specialist@unit", "head@unit", "counter@desk", "specialist@desk"):
        view = (await world.call("workflow", "GET", f"/api/v1/dossiers/{code}", actor=actor)).json()
        offered = "request_supplement" in view["allowed_actions"]
        desk = await world.call("intake", "POST", f"/api/v1/dossiers/{code}/supplement-requests", actor=actor,
                                json={"items": items})  # fmt: skip
        engine = await world.call("workflow", "POST", f"/api/v1/dossiers/{code}/transitions", actor=actor,
                                  json={"action": "request_supplement", "items": items})  # fmt: skip
        assert (desk.status_code, engine.status_code) == ((200, 200) if offered else (403, 403)), actor
